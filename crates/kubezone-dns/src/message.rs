//! Writing a reply into a reused buffer: the header, the question echoed as sent, then whole
//! RRsets copied from their pre-encoded form, with owner names compressed against the question
//! and earlier CNAME targets (RFC 1035 §4.1.4).
//!
//! An RRset that would pass the size limit is left out with everything after it. When it was
//! in the answer or authority section TC is set, so a UDP client retries over TCP and never
//! sees half an RRset; additional data is dropped without TC (RFC 2181 §9).
//!
//! The OPT record goes last, with room for it kept from the start: the query's DO bit, this
//! server's NSID when asked for, the query's Client Subnet with the answer's scope, an Extended
//! DNS Error with a refusal.

use hickory_proto::{op::ResponseCode, rr::rdata::opt::EdnsCode};
use kubezone_index::{RRset, wire::FIXED_LEN};
use smallvec::SmallVec;

use crate::{
    ecs::{CLIENT_SUBNET, ClientSubnet},
    query::{HEADER_LEN, Header},
    resolve::{Owner, Part},
};

/// An OPT record with no options.
const OPT_LEN: usize = 11;
/// OPTION-CODE and OPTION-LENGTH.
const OPTION_HEAD: usize = 4;
/// The EDNS option code of Extended DNS Errors (RFC 8914 §2); hickory-proto has no name for it.
const EDE: u16 = 15;

/// The section whose data may be left out without TC.
pub(crate) const ADDITIONAL: usize = 3;
/// Compression pointers reach the first 16 KiB only.
const MAX_POINTER: usize = 0x3FFF;

/// The OPT record of a reply (RFC 6891 §6.1.2).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Opt<'a> {
    /// The UDP payload size kubezone accepts.
    pub payload: u16,
    /// DO, copied from the query (RFC 3225 §3); no other flag is.
    pub dnssec_ok: bool,
    /// This server's name, when the query asked for it (RFC 5001).
    pub nsid: Option<&'a [u8]>,
    /// The query's Client Subnet, echoed with the prefix the answer holds for (RFC 7871).
    pub subnet: Option<&'a ClientSubnet>,
    /// Why the query was refused or failed (RFC 8914).
    pub error: Option<ExtendedError>,
}

impl Opt<'_> {
    /// The record's size on the wire, options included.
    fn len(&self) -> usize {
        OPT_LEN
            + self.nsid.map_or(0, |n| OPTION_HEAD + n.len())
            + self.subnet.map_or(0, |s| s.option_len())
            + self.error.map_or(0, |e| OPTION_HEAD + 2 + e.text.len())
    }
}

/// An Extended DNS Error (RFC 8914 §4): an INFO-CODE and a short EXTRA-TEXT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ExtendedError {
    code: u16,
    text: &'static str,
}

impl ExtendedError {
    /// SERVFAIL before the sources' first full state.
    pub const NOT_READY: ExtendedError = ExtendedError {
        code: 14,
        text: "sources have not synced",
    };
    // The two refusals go to any source address, forged ones included: without text they
    // grow the reply by 6 bytes only, and the code says it all (NSD sends none either).
    /// REFUSED by the access list.
    pub const PROHIBITED: ExtendedError = ExtendedError { code: 18, text: "" };
    /// REFUSED for a name in no zone served here.
    pub const NOT_AUTHORITATIVE: ExtendedError = ExtendedError { code: 20, text: "" };
    /// SERVFAIL for a fallthrough query when no upstream answered it in time.
    pub const NO_REACHABLE_AUTHORITY: ExtendedError = ExtendedError { code: 22, text: "" };
    /// SERVFAIL at once for a fallthrough query beyond `forwarding.maxInFlight`.
    pub const UPSTREAM_BUSY: ExtendedError = ExtendedError {
        code: 23,
        text: "too many queries upstream",
    };
}

/// The flags of the reply besides those copied from the query.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Flags {
    pub rcode: ResponseCode,
    pub authoritative: bool,
}

/// A reply being written into `out`.
pub(crate) struct Reply<'o> {
    out: &'o mut Vec<u8>,
    header: Header,
    /// Bytes the RRsets may take up to, keeping room for the OPT record.
    limit: usize,
    /// Where uncompressed names were written: (offset, length).
    names: SmallVec<[(usize, usize); 8]>,
    counts: [u16; 4],
    /// Something did not fit: nothing more is added.
    full: bool,
    /// What did not fit was answer or authority data: TC.
    truncated: bool,
    opt: Option<Opt<'o>>,
}

impl<'o> Reply<'o> {
    /// Starts a reply to `header` echoing `question` (empty for none), with `opt` as its OPT
    /// record when given.
    pub fn new(
        out: &'o mut Vec<u8>,
        header: Header,
        question: &[u8],
        limit: usize,
        opt: Option<Opt<'o>>,
    ) -> Reply<'o> {
        out.clear();
        out.extend_from_slice(&[0; HEADER_LEN]);
        out.extend_from_slice(question);
        let mut names = SmallVec::new();
        let mut counts = [0; 4];
        if !question.is_empty() {
            names.push((HEADER_LEN, question.len() - 4));
            counts[0] = 1;
        }
        let mut opt = opt;
        // The OPT record always goes out; the server's name is left out when it alone would
        // pass the limit (a long name beside a long question in 512 bytes).
        if let Some(o) = opt.as_mut()
            && HEADER_LEN + question.len() + o.len() > limit
        {
            o.nsid = None;
        }
        let reserve = opt.map_or(0, |opt| opt.len());
        Reply {
            out,
            header,
            limit: limit.saturating_sub(reserve),
            names,
            counts,
            full: false,
            truncated: false,
            opt,
        }
    }

    /// Adds whole RRsets to section 1 (answer), 2 (authority) or 3 (additional). Returns false
    /// once something did not fit; nothing more is added after that.
    pub fn section(&mut self, section: usize, parts: &[Part<'_>]) -> bool {
        for part in parts {
            if self.full {
                return false;
            }
            let mark = (self.out.len(), self.names.len());
            self.rrset(part.owner, part.rrset);
            if self.out.len() > self.limit {
                self.out.truncate(mark.0);
                self.names.truncate(mark.1);
                self.full = true;
                self.truncated = section != ADDITIONAL;
                return false;
            }
            if let Some(count) = self.counts.get_mut(section) {
                *count = count.saturating_add(u16::try_from(part.rrset.len()).unwrap_or(u16::MAX));
            }
        }
        !self.full
    }

    /// Adds one record owned by the query name, given as its wire form after the owner, to
    /// the answer section. Returns false when it did not fit.
    pub fn query_answer(&mut self, tail: &[u8]) -> bool {
        if self.full {
            return false;
        }
        let mark = self.out.len();
        self.owner_query();
        self.out.extend_from_slice(tail);
        if self.out.len() > self.limit {
            self.out.truncate(mark);
            self.full = true;
            self.truncated = true;
            return false;
        }
        self.counts[1] = self.counts[1].saturating_add(1);
        true
    }

    /// The query name as an owner: a pointer to the question, or the root without one.
    fn owner_query(&mut self) {
        if self.names.is_empty() {
            self.out.push(0);
        } else {
            self.out.extend_from_slice(&[0xC0, HEADER_LEN as u8]);
        }
    }

    fn rrset(&mut self, owner: Owner<'_>, rrset: &RRset) {
        // Where this RRset's owner was first written: later records point there.
        let mut written: Option<usize> = None;
        for tail in rrset.tails() {
            match (owner, written) {
                (Owner::Query, _) => self.owner_query(),
                (Owner::Name(_), Some(at)) => self
                    .out
                    .extend_from_slice(&[0xC0 | (at >> 8) as u8, at as u8]),
                (Owner::Name(key), None) => {
                    let at = self.name(key);
                    written = (at <= MAX_POINTER).then_some(at);
                }
            }
            let at = self.out.len();
            self.out.extend_from_slice(tail);
            if rrset.cname_key().is_some() && at + FIXED_LEN <= MAX_POINTER {
                self.names.push((at + FIXED_LEN, tail.len() - FIXED_LEN));
            }
        }
    }

    /// Writes `key` (lower-case wire), pointing at the longest suffix already in the message.
    /// Returns where the name starts in full or in part, for later pointers to it (never the
    /// offset of a lone pointer).
    fn name(&mut self, key: &[u8]) -> usize {
        let mut start = 0;
        while let (Some(labels), Some(suffix)) = (key.get(..start), key.get(start..)) {
            let Some(&len) = suffix.first() else { break };
            if len == 0 {
                break;
            }
            if let Some(at) = self.find(suffix) {
                if labels.is_empty() {
                    // The whole name is already there.
                    self.out
                        .extend_from_slice(&[0xC0 | (at >> 8) as u8, at as u8]);
                    return at;
                }
                let written = self.out.len();
                self.out.extend_from_slice(labels);
                self.out
                    .extend_from_slice(&[0xC0 | (at >> 8) as u8, at as u8]);
                return written;
            }
            start += 1 + usize::from(len);
        }
        let at = self.out.len();
        self.out.extend_from_slice(key);
        if at <= MAX_POINTER {
            self.names.push((at, key.len()));
        }
        at
    }

    /// The offset of an earlier name, or a suffix of one, equal to `suffix`.
    fn find(&self, suffix: &[u8]) -> Option<usize> {
        for &(offset, len) in &self.names {
            let Some(name) = self.out.get(offset..offset + len) else {
                continue;
            };
            let mut at = 0;
            while let Some(rest) = name.get(at..) {
                if rest.len() < suffix.len() {
                    break;
                }
                if rest.eq_ignore_ascii_case(suffix) {
                    let pointer = offset + at;
                    return (pointer <= MAX_POINTER).then_some(pointer);
                }
                let Some(&len) = rest.first() else { break };
                if len == 0 {
                    break;
                }
                at += 1 + usize::from(len);
            }
        }
        None
    }

    /// Writes the OPT record: owner root, TYPE OPT, CLASS payload, extended rcode, version 0,
    /// DO, then the options.
    fn opt(&mut self, opt: Opt<'_>, code: u16) {
        let [p0, p1] = opt.payload.to_be_bytes();
        let flags = if opt.dnssec_ok { 0x80 } else { 0 };
        let [r0, r1] = u16::try_from(opt.len() - OPT_LEN)
            .unwrap_or(0)
            .to_be_bytes();
        self.out
            .extend_from_slice(&[0, 0, 41, p0, p1, (code >> 4) as u8, 0, flags, 0, r0, r1]);
        if let Some(nsid) = opt.nsid {
            self.option(u16::from(EdnsCode::NSID), &[nsid]);
        }
        if let Some(subnet) = opt.subnet {
            let (fixed, address) = subnet.data();
            self.option(CLIENT_SUBNET, &[&fixed, address]);
        }
        if let Some(error) = opt.error {
            self.option(EDE, &[&error.code.to_be_bytes(), error.text.as_bytes()]);
        }
        self.counts[3] = self.counts[3].saturating_add(1);
    }

    /// Writes one EDNS option whose data is `parts`, one after the other.
    fn option(&mut self, code: u16, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        self.out.extend_from_slice(&code.to_be_bytes());
        self.out
            .extend_from_slice(&u16::try_from(len).unwrap_or(0).to_be_bytes());
        for part in parts {
            self.out.extend_from_slice(part);
        }
    }

    /// Sets TC although nothing was cut: an empty reply that sends the client to TCP.
    pub fn mark_truncated(&mut self) {
        self.full = true;
        self.truncated = true;
    }

    /// Writes the header (and OPT) and returns whether the reply was truncated.
    pub fn finish(mut self, flags: Flags) -> bool {
        let code = u16::from(flags.rcode);
        if let Some(opt) = self.opt {
            self.opt(opt, code);
        }
        let h = self.header;
        let mut bits: u16 = 0x8000 | (u16::from(h.opcode & 0xF) << 11) | (code & 0xF);
        if flags.authoritative {
            bits |= 0x0400;
        }
        if self.truncated {
            bits |= 0x0200;
        }
        if h.recursion_desired {
            bits |= 0x0100;
        }
        if h.checking_disabled {
            bits |= 0x0010;
        }
        let mut head = [0u8; HEADER_LEN];
        head[0..2].copy_from_slice(&h.id.to_be_bytes());
        head[2..4].copy_from_slice(&bits.to_be_bytes());
        for (slot, count) in head[4..].chunks_exact_mut(2).zip(self.counts) {
            slot.copy_from_slice(&count.to_be_bytes());
        }
        if let Some(start) = self.out.get_mut(..HEADER_LEN) {
            start.copy_from_slice(&head);
        }
        self.truncated
    }
}
