//! What a query was, for the counters and the query log.

use std::{net::SocketAddr, time::Instant};

use hickory_proto::{op::ResponseCode, rr::RecordType};
use kubezone_guard::ResponseKey;
use tracing::info;

use super::{Answerer, Transport};
use crate::query::Query;

impl Answerer {
    pub(super) fn account(
        &self,
        seen: Seen,
        start: Instant,
        transport: Transport,
        src: SocketAddr,
        query: Option<&Query<'_>>,
    ) {
        if self.counters.is_none() && !self.query_log {
            return;
        }
        let elapsed = start.elapsed();
        if let Some(counters) = &self.counters {
            counters.answered(seen.zone, seen.qtype, seen.rcode, elapsed);
        }
        if self.query_log {
            let name = query
                .and_then(|q| q.key.to_name())
                .map(|n| n.to_string())
                .unwrap_or_default();
            info!(
                target: "kubezone::query",
                %src,
                protocol = transport.name(),
                %name,
                qtype = %seen.qtype,
                rcode = %seen.rcode,
                micros = elapsed.as_micros() as u64,
                "query"
            );
        }
    }
}

/// What one query was, for counters and the query log, and what the UDP rate limit counts its
/// reply under.
pub(super) struct Seen {
    pub(super) zone: Option<usize>,
    pub(super) qtype: RecordType,
    pub(super) rcode: ResponseCode,
    pub(super) rated: ResponseKey,
    /// Signed with TSIG, and answered here rather than by zone transfer: the reply is signed
    /// (or the signature refused) before it goes.
    pub(super) signed: bool,
}
