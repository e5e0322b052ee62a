//! RRsets pre-encoded for the answer path: each record as it goes on the wire after its
//! owner name (TYPE, CLASS, TTL, RDLENGTH, RDATA), so an answer copies bytes instead of
//! encoding records per query.
//!
//! Names inside RDATA are written in full (never compressed): the bytes must stay valid
//! wherever in a message they are copied to.

use hickory_proto::{
    rr::{DNSClass, Name, RData, Record, RecordType},
    serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder},
};

/// TYPE, CLASS, TTL and RDLENGTH.
pub const FIXED_LEN: usize = 10;

/// Appends the owner-less wire form of one record; `None` if the RDATA is longer than 65535.
pub(crate) fn encode_tail(
    rtype: RecordType,
    ttl: u32,
    rdata: &[u8],
    out: &mut Vec<u8>,
) -> Option<()> {
    let rdlen = u16::try_from(rdata.len()).ok()?;
    out.extend_from_slice(&u16::from(rtype).to_be_bytes());
    out.extend_from_slice(&u16::from(DNSClass::IN).to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&rdlen.to_be_bytes());
    out.extend_from_slice(rdata);
    Some(())
}

/// The RDATA of `rdata`: names uncompressed, and lower case for the standard types (RFC 4034
/// §6.2), so the bytes stay valid wherever they are copied and serve as index keys.
pub(crate) fn rdata_bytes(rdata: &RData) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_canonical_form(true);
    rdata.emit(&mut encoder).ok()?;
    Some(bytes)
}

/// A name's uncompressed wire form, lower case, so it can serve as a compression target.
pub(crate) fn encode_name(name: &Name, out: &mut Vec<u8>) {
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

impl<'a> Tails<'a> {
    /// The RDATA of each record.
    pub fn rdatas(self) -> impl Iterator<Item = &'a [u8]> {
        self.filter_map(|tail| tail.get(FIXED_LEN..))
    }
}

impl<'a> Iterator for Tails<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let len_bytes = self.rest.get(FIXED_LEN - 2..FIXED_LEN)?.try_into().ok()?;
        let len = FIXED_LEN + usize::from(u16::from_be_bytes(len_bytes));
        let (tail, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some(tail)
    }
}

/// Decodes tails back into records owned by `owner`. Tails the index wrote always decode.
pub(crate) fn decode<'a>(owner: &Name, tails: impl Iterator<Item = &'a [u8]>) -> Vec<Record> {
    let mut buf = Vec::new();
    encode_name(owner, &mut buf);
    let name_len = buf.len();
    tails
        .filter_map(|tail| {
            buf.truncate(name_len);
            buf.extend_from_slice(tail);
            let mut record = Record::read(&mut BinDecoder::new(&buf)).ok()?;
            // Keep the owner's case as given.
            record.name = owner.clone();
            Some(record)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::rr::rdata::{A, AAAA, CAA, CNAME, MX, NS, SOA, SRV, TXT};

    use super::*;

    #[test]
    fn every_type_the_index_builds_decodes_back_to_itself() {
        let owner = Name::from_str("www.example.com.").expect("name");
        let target = Name::from_str("lb-1.elb.amazonaws.com.").expect("name");
        let datas = [
            RData::A(A::new(10, 0, 0, 1)),
            RData::AAAA(AAAA::from_str("2001:db8::1").expect("v6")),
            RData::CNAME(CNAME(target.clone())),
            RData::NS(NS(target.clone())),
            RData::TXT(TXT::new(vec!["a".repeat(255), "b".into()])),
            RData::MX(MX::new(10, target.clone())),
            RData::SRV(SRV::new(10, 5, 5060, target.clone())),
            RData::CAA(CAA::new_issue(false, Some(target.clone()), Vec::new())),
            RData::SOA(SOA::new(
                target.clone(),
                owner.clone(),
                7,
                7200,
                1800,
                86400,
                60,
            )),
        ];
        for data in datas {
            let record = Record::from_rdata(owner.clone(), 300, data);
            let mut wire = Vec::new();
            let rdata = rdata_bytes(&record.data).expect("encodes");
            encode_tail(record.record_type(), 300, &rdata, &mut wire).expect("encodes");
            let tails: Vec<&[u8]> = Tails::new(&wire).collect();
            assert_eq!(tails.len(), 1);
            assert_eq!(decode(&owner, tails.into_iter()), vec![record]);
        }
    }

    #[test]
    fn tails_stop_at_a_cut() {
        let mut wire = Vec::new();
        for last in 1..=3 {
            encode_tail(RecordType::A, 60, &[10, 0, 0, last], &mut wire).expect("encodes");
        }
        assert_eq!(Tails::new(&wire).count(), 3);
        assert_eq!(Tails::new(&wire[..wire.len() - 1]).count(), 2);
    }
}
