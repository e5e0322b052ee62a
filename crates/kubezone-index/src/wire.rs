//! RRsets pre-encoded for the answer path: each record as it goes on the wire after its
//! owner name (TYPE, CLASS, TTL, RDLENGTH, RDATA), so an answer copies bytes instead of
//! encoding records per query.
//!
//! Names inside RDATA are written in full (never compressed): the bytes must stay valid
//! wherever in a message they are copied to.

use hickory_proto::rr::{DNSClass, Name, RData, Record};

/// TYPE, CLASS, TTL and RDLENGTH.
pub const FIXED_LEN: usize = 10;

/// Appends the owner-less wire form of `record`; `None` for RDATA kubezone never builds.
pub(crate) fn encode_tail(record: &Record, out: &mut Vec<u8>) -> Option<()> {
    let start = out.len();
    out.extend_from_slice(&u16::from(record.record_type()).to_be_bytes());
    out.extend_from_slice(&u16::from(DNSClass::IN).to_be_bytes());
    out.extend_from_slice(&record.ttl.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    let rdata_start = out.len();
    match &record.data {
        RData::A(a) => out.extend_from_slice(&a.0.octets()),
        RData::AAAA(a) => out.extend_from_slice(&a.0.octets()),
        RData::CNAME(c) => encode_name(&c.0, out),
        RData::NS(n) => encode_name(&n.0, out),
        RData::TXT(t) => {
            for s in t.txt_data.iter() {
                out.push(u8::try_from(s.len()).ok()?);
                out.extend_from_slice(s);
            }
        }
        RData::SOA(s) => {
            encode_name(&s.mname, out);
            encode_name(&s.rname, out);
            for v in [
                s.serial,
                s.refresh as u32,
                s.retry as u32,
                s.expire as u32,
                s.minimum,
            ] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        _ => {
            out.truncate(start);
            return None;
        }
    }
    let rdlen = u16::try_from(out.len() - rdata_start).ok()?;
    out[rdata_start - 2..rdata_start].copy_from_slice(&rdlen.to_be_bytes());
    Some(())
}

/// A name's uncompressed wire form, lower case, so it can serve as a compression target.
fn encode_name(name: &Name, out: &mut Vec<u8>) {
    for label in name.iter() {
        // Labels are at most 63 bytes; hickory's Name guarantees it.
        out.push(label.len() as u8);
        out.extend(label.iter().map(u8::to_ascii_lowercase));
    }
    out.push(0);
}

/// The records of an encoded RRset, one tail at a time.
pub struct Tails<'a> {
    rest: &'a [u8],
}

impl<'a> Tails<'a> {
    pub(crate) fn new(wire: &'a [u8]) -> Tails<'a> {
        Tails { rest: wire }
    }
}

impl<'a> Iterator for Tails<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let len_bytes = self.rest.get(FIXED_LEN - 2..FIXED_LEN)?;
        let len = FIXED_LEN + usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let (tail, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some(tail)
    }
}
