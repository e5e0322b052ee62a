//! Reading a query straight from the packet: the header, the one question, and the OPT record
//! (RFC 1035 §4.1, RFC 6891). Nothing is allocated; the question stays a slice of the packet so
//! it can be echoed byte for byte.

use hickory_proto::rr::{DNSClass, RecordType};
use kubezone_index::NameKey;

pub(crate) const HEADER_LEN: usize = 12;
const OPT: u16 = 41;
const TSIG: u16 = 250;

/// The parts of the header a reply needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub id: u16,
    pub opcode: u8,
    pub recursion_desired: bool,
    pub checking_disabled: bool,
}

/// EDNS(0) as the client asked for it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientEdns<'p> {
    pub payload: u16,
    pub version: u8,
    /// DO: the client wants DNSSEC records (RFC 3225); a reply echoes it.
    pub dnssec_ok: bool,
    /// The options as sent (RDATA), read only when something needs one.
    pub options: &'p [u8],
}

impl ClientEdns<'_> {
    /// Whether the client sent option `code`. Options that run past the record end the search.
    pub fn has_option(&self, code: u16) -> bool {
        options(self.options).any(|(c, _)| c == code)
    }
}

/// The options of an OPT's RDATA as (code, data). An option that runs past the record comes
/// with `None` for its data and ends them.
pub(crate) fn options(mut rest: &[u8]) -> impl Iterator<Item = (u16, Option<&[u8]>)> {
    std::iter::from_fn(move || {
        let (&[c0, c1, l0, l1], data) = rest.split_first_chunk::<4>()?;
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let option = match data.split_at_checked(len) {
            Some((option, next)) => {
                rest = next;
                Some(option)
            }
            None => {
                rest = &[];
                None
            }
        };
        Some((u16::from_be_bytes([c0, c1]), option))
    })
}

/// A query that parsed.
pub(crate) struct Query<'p> {
    pub header: Header,
    /// Number of questions; only 1 is answered.
    pub question_count: u16,
    /// The question as sent, for the echo (empty when `question_count` is 0).
    pub question: &'p [u8],
    pub key: NameKey,
    pub qtype: RecordType,
    pub qclass: DNSClass,
    pub edns: Option<ClientEdns<'p>>,
    /// A TSIG record came with it (RFC 8945): the reply must be signed, or the signature
    /// refused.
    pub signed: bool,
}

/// Why a packet is not answered normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// No header, or a response: say nothing (RFC 1035 §4.1.1; never answer answers).
    Drop,
    /// The header reads but the rest does not: FORMERR.
    FormErr { header: HeaderBits },
}

/// The header of a packet whose body is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeaderBits {
    pub id: u16,
    pub opcode: u8,
    pub recursion_desired: bool,
}

/// Parses `packet`. Questions beyond the first are not read: QDCOUNT ≠ 1 is refused anyway.
pub(crate) fn parse(packet: &[u8]) -> Result<Query<'_>, Unreadable> {
    let Some(head) = packet.first_chunk::<HEADER_LEN>() else {
        return Err(Unreadable::Drop);
    };
    let flags = u16::from_be_bytes([head[2], head[3]]);
    if flags & 0x8000 != 0 {
        return Err(Unreadable::Drop);
    }
    let header = Header {
        id: u16::from_be_bytes([head[0], head[1]]),
        opcode: ((flags >> 11) & 0xF) as u8,
        recursion_desired: flags & 0x0100 != 0,
        checking_disabled: flags & 0x0010 != 0,
    };
    let formerr = Unreadable::FormErr {
        header: HeaderBits {
            id: header.id,
            opcode: header.opcode,
            recursion_desired: header.recursion_desired,
        },
    };
    let (qdcount, ancount, nscount, arcount) = (
        u16::from_be_bytes([head[4], head[5]]),
        u16::from_be_bytes([head[6], head[7]]),
        u16::from_be_bytes([head[8], head[9]]),
        u16::from_be_bytes([head[10], head[11]]),
    );
    if qdcount == 0 {
        let empty = NameKey::from_wire(&[0]).ok_or(Unreadable::Drop)?.0;
        return Ok(Query {
            header,
            question_count: 0,
            question: &[],
            key: empty,
            qtype: RecordType::NULL,
            qclass: DNSClass::IN,
            edns: None,
            signed: false,
        });
    }
    let body = packet.get(HEADER_LEN..).unwrap_or_default();
    let (key, name_len) = NameKey::from_wire(body).ok_or(formerr)?;
    let Some(&[t0, t1, c0, c1]) = body.get(name_len..name_len + 4) else {
        return Err(formerr);
    };
    let question_len = name_len + 4;
    let question = body.get(..question_len).ok_or(formerr)?;
    let mut rest = body.get(question_len..).unwrap_or_default();
    let mut edns = None;
    let mut signed = false;
    if qdcount == 1 {
        for _ in 0..u32::from(ancount) + u32::from(nscount) {
            rest = skip_record(rest).ok_or(formerr)?.1;
        }
        for _ in 0..arcount {
            let (record, after) = skip_record(rest).ok_or(formerr)?;
            rest = after;
            signed |= record.rtype == TSIG;
            if record.rtype != OPT {
                continue;
            }
            // One OPT, owned by the root (RFC 6891 §6.1.1).
            if edns.is_some() || !record.owner_is_root {
                return Err(formerr);
            }
            let [_, version, flags, _] = record.ttl.to_be_bytes();
            edns = Some(ClientEdns {
                payload: record.class,
                version,
                dnssec_ok: flags & 0x80 != 0,
                options: record.rdata,
            });
        }
    }
    Ok(Query {
        header,
        question_count: qdcount,
        question,
        key,
        qtype: RecordType::from(u16::from_be_bytes([t0, t1])),
        qclass: DNSClass::from(u16::from_be_bytes([c0, c1])),
        edns,
        signed,
    })
}

struct RecordHead<'p> {
    owner_is_root: bool,
    rtype: u16,
    class: u16,
    ttl: u32,
    rdata: &'p [u8],
}

/// Skips one resource record, reading what an OPT needs.
fn skip_record(wire: &[u8]) -> Option<(RecordHead<'_>, &[u8])> {
    let name_len = skip_name(wire)?;
    let fixed = wire.get(name_len..)?.first_chunk::<10>()?;
    let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    let start = name_len + 10;
    let head = RecordHead {
        owner_is_root: name_len == 1,
        rtype: u16::from_be_bytes([fixed[0], fixed[1]]),
        class: u16::from_be_bytes([fixed[2], fixed[3]]),
        ttl: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
        rdata: wire.get(start..start + rdlen)?,
    };
    let rest = wire.get(start + rdlen..)?;
    Some((head, rest))
}

/// The length of a (possibly compressed) name at the start of `wire`.
fn skip_name(wire: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let len = *wire.get(at)?;
        match len {
            0 => return Some(at + 1),
            1..=63 => at += 1 + usize::from(len),
            // A pointer ends the name; where it points does not matter for skipping.
            0xC0..=0xFF => return wire.get(at + 1).map(|_| at + 2),
            _ => return None,
        }
        if at > 255 {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::{
        op::{Edns, Message, Query as HQuery},
        rr::{
            Name,
            rdata::opt::{EdnsOption, NSIDPayload},
        },
    };

    fn packet(name: &str, qtype: RecordType, edns: Option<u8>) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.id = 4242;
        m.metadata.recursion_desired = true;
        m.add_query(HQuery::query(Name::from_ascii(name).expect("name"), qtype));
        if let Some(version) = edns {
            let mut e = Edns::new();
            e.set_max_payload(4096);
            e.set_version(version);
            m.set_edns(e);
        }
        m.to_vec().expect("encodes")
    }

    #[test]
    fn a_query_with_edns_reads_in_full() {
        let p = packet("WWW.example.com.", RecordType::AAAA, Some(0));
        let q = parse(&p).expect("parses");
        assert_eq!(q.header.id, 4242);
        assert!(q.header.recursion_desired);
        assert_eq!(q.qtype, RecordType::AAAA);
        assert_eq!(q.qclass, DNSClass::IN);
        assert_eq!(q.question_count, 1);
        assert_eq!(&q.question[1..4], b"WWW");
        assert_eq!(q.question.len(), 17 + 4);
        let edns = q.edns.expect("edns");
        assert_eq!((edns.payload, edns.version), (4096, 0));
    }

    #[test]
    fn edns_version_and_absence_are_seen() {
        let p = packet("a.b.", RecordType::A, Some(1));
        let q = parse(&p).expect("parses");
        assert_eq!(q.edns.map(|e| e.version), Some(1));
        let p = packet("a.b.", RecordType::A, None);
        let q = parse(&p).expect("parses");
        assert!(q.edns.is_none());
    }

    #[test]
    fn options_are_found_by_code_and_the_do_bit_is_read() {
        let mut m = Message::query();
        m.add_query(HQuery::query(
            Name::from_ascii("a.b.").expect("name"),
            RecordType::A,
        ));
        let mut e = Edns::new();
        e.set_dnssec_ok(true);
        e.options_mut().insert(EdnsOption::Unknown(10, vec![1; 8]));
        e.options_mut()
            .insert(EdnsOption::NSID(NSIDPayload::new(vec![]).expect("empty")));
        m.set_edns(e);
        let p = m.to_vec().expect("encodes");
        let edns = parse(&p).expect("parses").edns.expect("edns");
        assert!(edns.dnssec_ok);
        assert!(edns.has_option(3) && edns.has_option(10));
        assert!(!edns.has_option(15));
        // An option whose length runs past the record ends the search.
        let broken = ClientEdns {
            options: &[0, 10, 0, 9, 1, 2, 0, 3, 0, 0],
            ..edns
        };
        assert!(broken.has_option(10) && !broken.has_option(3));
        let p = packet("a.b.", RecordType::A, Some(0));
        let edns = parse(&p).expect("parses").edns.expect("edns");
        assert!(!edns.dnssec_ok && !edns.has_option(3));
    }

    #[test]
    fn short_packets_and_responses_are_dropped() {
        assert_eq!(parse(&[0; 11]).err(), Some(Unreadable::Drop));
        let mut p = packet("a.b.", RecordType::A, None);
        p[2] |= 0x80;
        assert_eq!(parse(&p).err(), Some(Unreadable::Drop));
    }

    #[test]
    fn record_counts_at_their_maximum_are_formerr_not_an_overflow() {
        let mut p = packet("a.b.", RecordType::A, None);
        p[6..12].fill(0xFF);
        assert!(matches!(parse(&p), Err(Unreadable::FormErr { .. })));
    }

    #[test]
    fn broken_bodies_are_formerr_with_the_header_kept() {
        let p = packet("a.b.", RecordType::A, Some(0));
        for cut in 13..p.len() {
            match parse(&p[..cut]) {
                Err(Unreadable::FormErr { header }) => assert_eq!(header.id, 4242),
                Err(other) => panic!("cut at {cut}: {other:?}"),
                Ok(_) => panic!("cut at {cut} parsed"),
            }
        }
        let mut two_opts = p.clone();
        two_opts[11] = 2;
        two_opts.extend_from_slice(&p[p.len() - 11..]);
        assert!(matches!(parse(&two_opts), Err(Unreadable::FormErr { .. })));
    }
}
