//! What AXFR and IXFR responses carry, as (owner, tail) records in order; `message.rs` packs
//! them into messages.

use std::sync::Arc;

use hickory_proto::rr::RecordType;
use kubezone_index::{NameNode, RRset};

use crate::{journal::Change, versions::Version};

/// The whole zone (RFC 5936 §2.2): the SOA, every other record, the SOA again.
pub(crate) fn axfr<'v>(
    version: &'v Version,
    soa: &'v [u8],
) -> impl Iterator<Item = (&'v [u8], &'v [u8])> {
    let origin = version.snapshot.origin_key();
    let body = version.snapshot.nodes().flat_map(|node: &'v NameNode| {
        node.rrsets()
            .iter()
            .filter(|r| r.record_type() != RecordType::SOA)
            .flat_map(RRset::tails)
            .map(move |tail| (node.key(), tail))
    });
    std::iter::once((origin, soa))
        .chain(body)
        .chain(std::iter::once((origin, soa)))
}

/// The changes from a client's serial to the current one (RFC 1995 §4): the current SOA, then
/// per change the old SOA, what it removed, the new SOA and what it added, then the current SOA.
pub(crate) fn ixfr<'v>(
    origin: &'v [u8],
    soa: &'v [u8],
    changes: &'v [Arc<Change>],
) -> impl Iterator<Item = (&'v [u8], &'v [u8])> {
    let steps = changes.iter().flat_map(move |change| {
        std::iter::once((origin, &*change.from_soa))
            .chain(change.removed.iter())
            .chain(std::iter::once((origin, &*change.to_soa)))
            .chain(change.added.iter())
    });
    std::iter::once((origin, soa))
        .chain(steps)
        .chain(std::iter::once((origin, soa)))
}
