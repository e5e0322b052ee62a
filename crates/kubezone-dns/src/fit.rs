//! Making an answer fit a UDP payload with whole RRsets only (RFC 2181 §9).
//!
//! hickory's encoder stops at the first record that does not fit, which can split an RRset,
//! so the answer is cut here first: an RRset that does not fit is dropped with everything
//! after it, and TC is set so the client retries over TCP.

use std::borrow::Cow;

use hickory_proto::{
    ProtoError,
    op::{Edns, EmitAndCount, Metadata, emit_message_parts},
    rr::{RData, Record},
    serialize::binary::BinEncoder,
};

use crate::{Answer, resolve::Section};

/// Header, OPT record and slack for its options.
const HEADER_LEN: usize = 12;
const OPT_LEN: usize = 11;

/// Cuts `answer` to fit `limit` bytes. Returns whether anything was cut (TC=1).
pub fn fit(
    answer: &mut Answer<'_>,
    metadata: &Metadata,
    question: &[u8],
    edns: Option<&Edns>,
    limit: usize,
) -> bool {
    let bound = HEADER_LEN
        + question.len()
        + edns.map_or(0, |_| OPT_LEN)
        + section_bound(&answer.answers)
        + section_bound(&answer.authorities)
        + section_bound(&answer.additionals);
    if bound <= limit {
        return false;
    }
    // Rare: measure for real, dropping whole RRsets from the end until it fits.
    let mut truncated = false;
    loop {
        let len = encoded_len(answer, metadata, question, edns).unwrap_or(usize::MAX);
        if len <= limit {
            return truncated;
        }
        truncated = true;
        if answer.additionals.pop().is_none()
            && answer.authorities.pop().is_none()
            && answer.answers.pop().is_none()
        {
            return truncated;
        }
    }
}

fn section_bound(section: &Section<'_>) -> usize {
    section
        .iter()
        .flat_map(|rrset| rrset.iter())
        .map(record_bound)
        .sum()
}

/// An upper bound on a record's wire size, without compression.
fn record_bound(record: &Record) -> usize {
    let name = |n: &hickory_proto::rr::Name| n.len() + 2;
    let rdata = match &record.data {
        RData::A(_) => 4,
        RData::AAAA(_) => 16,
        RData::CNAME(c) => name(&c.0),
        RData::NS(n) => name(&n.0),
        RData::TXT(t) => t.txt_data.iter().map(|s| s.len() + 1).sum(),
        RData::SOA(s) => name(&s.mname) + name(&s.rname) + 20,
        // Anything else is only ever forwarded; take a size far above any real record.
        _ => usize::from(u16::MAX),
    };
    name(&record.name) + 10 + rdata
}

/// The question exactly as the client sent it, as hickory's response encoder writes it, so
/// the measured length matches what will be sent.
struct RawQuestion<'q>(&'q [u8]);

impl EmitAndCount for RawQuestion<'_> {
    fn emit(&mut self, encoder: &mut BinEncoder<'_>) -> Result<usize, ProtoError> {
        let start = encoder.offset();
        encoder.emit_vec(self.0)?;
        if !self.0.is_empty() {
            encoder.store_label_pointer(start, start + self.0.len());
        }
        Ok(usize::from(!self.0.is_empty()))
    }
}

fn encoded_len(
    answer: &Answer<'_>,
    metadata: &Metadata,
    question: &[u8],
    edns: Option<&Edns>,
) -> Result<usize, ProtoError> {
    let flat = |s: &Section<'_>| -> Vec<Record> {
        s.iter()
            .flat_map(|rrset: &Cow<'_, [Record]>| rrset.iter().cloned())
            .collect()
    };
    let (answers, authorities, additionals) = (
        flat(&answer.answers),
        flat(&answer.authorities),
        flat(&answer.additionals),
    );
    let mut buf = Vec::with_capacity(4096);
    let mut encoder = BinEncoder::new(&mut buf);
    emit_message_parts(
        metadata,
        &mut RawQuestion(question),
        &mut answers.iter(),
        &mut authorities.iter(),
        &mut additionals.iter(),
        edns,
        None,
        &mut encoder,
    )?;
    Ok(buf.len())
}
