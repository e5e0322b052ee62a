//! TSIG (RFC 8945) on transfers and NOTIFY: checking a request's signature (§5.2), the error
//! replies that refuse it (§5.3.2), signing a stream of response messages (§5.3.1), and signing
//! a message as a client and checking the replies.
//!
//! hickory-proto computes the MACs, reads the TSIG record and builds the bytes a MAC covers
//! (`signed_bitmessage_to_buf`, `TSigner::encode_response_tbs`); only the bytes of the later
//! messages of a stream, which cover the timers alone, are put together here.
//!
//! Every message is signed, though §5.3.1 allows signing every 100th: BIND and Knot accept
//! both, and a reader then checks each message on its own. As a client (reading a primary's
//! AXFR), kubezone accepts both too.

use std::fmt;

use hickory_proto::{
    ProtoError,
    op::{Header, Query, ResponseCode},
    rr::{
        Name, RData, Record, RecordType,
        rdata::tsig::{
            TSIG, TsigAlgorithm, TsigError, make_tsig_record, message_tbs, signed_bitmessage_to_buf,
        },
    },
    serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder},
};

use crate::{Algorithm, FUDGE, Key, KeyRing, ReplyProblem, TransferError};

const HEADER_LEN: usize = 12;

/// A request whose signature checked: the key to sign the replies with and the request's MAC,
/// which the first reply's MAC covers.
#[derive(Debug, Clone)]
pub struct Verified {
    key: Key,
    request_mac: Vec<u8>,
    time_signed: u64,
}

impl Verified {
    pub fn key(&self) -> &Key {
        &self.key
    }

    pub fn request_mac(&self) -> &[u8] {
        &self.request_mac
    }

    pub fn time_signed(&self) -> u64 {
        self.time_signed
    }

    /// The signer of the response messages to this request.
    pub fn response_signer(&self) -> ResponseSigner {
        ResponseSigner::new(self)
    }
}

/// Why a request is not taken as signed, and what to answer (`reply`).
#[derive(Debug, Clone)]
pub enum Refusal {
    /// It carries no TSIG record; whether that is allowed is the caller's policy.
    Unsigned,
    /// It, or its TSIG record, does not read (or the TSIG is not the last record, or its MAC is
    /// longer than the algorithm's or shorter than RFC 8945 §5.2.2.1 allows): FORMERR.
    Malformed(String),
    /// Signed with a key name or algorithm not in the ring: NOTAUTH, BADKEY, unsigned.
    BadKey(Box<Rejected>),
    /// Its MAC does not verify: NOTAUTH, BADSIG, unsigned.
    BadSig(Box<Rejected>),
    /// Signed outside its fudge of the server's time: NOTAUTH, BADTIME, signed.
    BadTime(Box<Rejected>),
    /// A valid but truncated MAC, which kubezone does not accept: NOTAUTH, BADTRUNC, signed.
    BadTrunc(Box<Rejected>),
}

/// The request's TSIG record as far as the refusal's reply needs it.
#[derive(Debug, Clone)]
pub struct Rejected {
    key_name: Name,
    algorithm: TsigAlgorithm,
    time_signed: u64,
    fudge: u16,
    original_id: u16,
    mac_len: usize,
    /// The server's time when it checked.
    now: u64,
    /// The key and request MAC, when the MAC verified (BADTIME, BADTRUNC): the reply is signed.
    signing: Option<(Key, Vec<u8>)>,
}

impl Rejected {
    pub fn key_name(&self) -> &Name {
        &self.key_name
    }

    pub fn time_signed(&self) -> u64 {
        self.time_signed
    }
}

impl Refusal {
    /// The reply's RCODE: REFUSED for an unsigned request, FORMERR, else NOTAUTH.
    pub fn rcode(&self) -> ResponseCode {
        match self {
            Refusal::Unsigned => ResponseCode::Refused,
            Refusal::Malformed(_) => ResponseCode::FormErr,
            _ => ResponseCode::NotAuth,
        }
    }

    /// The TSIG error the reply carries.
    pub fn tsig_error(&self) -> Option<TsigError> {
        match self {
            Refusal::Unsigned | Refusal::Malformed(_) => None,
            Refusal::BadKey(_) => Some(TsigError::BadKey),
            Refusal::BadSig(_) => Some(TsigError::BadSig),
            Refusal::BadTime(_) => Some(TsigError::BadTime),
            Refusal::BadTrunc(_) => Some(TsigError::BadTrunc),
        }
    }

    /// The error reply to `request` (the bytes this refusal came from), RFC 8945 §5.3.2: the
    /// header and question echoed with [`Refusal::rcode`], and for the TSIG errors a TSIG
    /// record carrying the error, unsigned for BADKEY and BADSIG, signed for BADTIME (with the
    /// server's time in Other Data) and BADTRUNC. An unsigned request gets a plain REFUSED,
    /// for a caller that requires a key. Fails only without a 12-byte header, or if signing
    /// fails.
    pub fn reply(&self, request: &[u8]) -> Result<Vec<u8>, TransferError> {
        let reply = echo(request, self.rcode())?;
        let (rejected, error) = match (self, self.tsig_error()) {
            (
                Refusal::BadKey(r)
                | Refusal::BadSig(r)
                | Refusal::BadTime(r)
                | Refusal::BadTrunc(r),
                Some(error),
            ) => (r, error),
            _ => return Ok(reply),
        };
        let Some((key, request_mac)) = &rejected.signing else {
            // §5.3.2: no MAC, and no key to make one; the request's timers and original ID.
            let tsig = TSIG::new(
                rejected.algorithm.clone(),
                rejected.time_signed,
                rejected.fudge,
                Vec::new(),
                rejected.original_id,
                Some(error),
                Vec::new(),
            );
            return append_tsig(reply, &rejected.key_name, tsig).map_err(|reason| {
                TransferError::ErrorReply {
                    reason: reason.to_string(),
                }
            });
        };
        let id = message_id(&reply).map_err(|reason| TransferError::ErrorReply { reason })?;
        let tsig = if error == TsigError::BadTime {
            // The request's Time Signed, so the client can check the MAC whatever its clock
            // (Knot does the same); the server's time in Other Data, 48 bits.
            let other = rejected
                .now
                .to_be_bytes()
                .get(2..)
                .unwrap_or_default()
                .to_vec();
            TSIG::new(
                key.algorithm().to_hickory(),
                rejected.time_signed,
                FUDGE,
                Vec::new(),
                id,
                Some(error),
                other,
            )
        } else {
            TSIG::new(
                key.algorithm().to_hickory(),
                rejected.now,
                FUDGE,
                Vec::new(),
                id,
                Some(error),
                Vec::new(),
            )
        };
        sign_first(key, request_mac, reply, tsig).map(|(reply, _)| reply)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Unsigned => write!(f, "the request is not signed"),
            Refusal::Malformed(reason) => write!(f, "the request's TSIG cannot be read: {reason}"),
            Refusal::BadKey(r) => write!(
                f,
                "the request is signed with key {} ({}), which is not configured",
                r.key_name.to_ascii(),
                r.algorithm
            ),
            Refusal::BadSig(r) => write!(
                f,
                "the request's MAC does not verify with key {}",
                r.key_name.to_ascii()
            ),
            Refusal::BadTime(r) => write!(
                f,
                "the request (key {}) was signed at {}, more than its fudge of {} s from the \
                 server's time {}",
                r.key_name.to_ascii(),
                r.time_signed,
                r.fudge,
                r.now
            ),
            Refusal::BadTrunc(r) => write!(
                f,
                "the request's MAC (key {}) is truncated to {} bytes; only whole MACs are accepted",
                r.key_name.to_ascii(),
                r.mac_len
            ),
        }
    }
}

impl KeyRing {
    /// Checks the TSIG record of a request (the last additional record) at unix time `now`, in
    /// the order of RFC 8945 §5.2: the key, the MAC, the time, the truncation.
    pub fn verify_request(&self, packet: &[u8], now: u64) -> Result<Verified, Refusal> {
        if !ends_in_tsig(packet).map_err(Refusal::Malformed)? {
            return Err(Refusal::Unsigned);
        }
        let (signed, record) = signed_bitmessage_to_buf(packet, None, true)
            .map_err(|e| Refusal::Malformed(e.to_string()))?;
        let tsig = &record.data;
        let mut rejected = Rejected {
            key_name: record.name.clone(),
            algorithm: tsig.algorithm.clone(),
            time_signed: tsig.time,
            fudge: tsig.fudge,
            original_id: tsig.oid,
            mac_len: tsig.mac.len(),
            now,
            signing: None,
        };
        let Some(key) = self
            .get(&record.name)
            .filter(|key| Algorithm::from_hickory(&tsig.algorithm) == Some(key.algorithm()))
        else {
            return Err(Refusal::BadKey(Box::new(rejected)));
        };
        let whole = key.algorithm().mac_len();
        let len = tsig.mac.len();
        if len > whole || len < (whole / 2).max(10) {
            return Err(Refusal::Malformed(format!(
                "a MAC of {len} bytes for {} (of {whole} bytes; truncated to no less than {})",
                key.algorithm(),
                (whole / 2).max(10)
            )));
        }
        let verifies = if len == whole {
            key.signer().verify(&signed, &tsig.mac).is_ok()
        } else {
            truncated_mac_verifies(key, &signed, &tsig.mac)
        };
        if !verifies {
            return Err(Refusal::BadSig(Box::new(rejected)));
        }
        rejected.signing = Some((key.clone(), tsig.mac.clone()));
        if !within_fudge(now, tsig.time, tsig.fudge) {
            return Err(Refusal::BadTime(Box::new(rejected)));
        }
        if len < whole {
            return Err(Refusal::BadTrunc(Box::new(rejected)));
        }
        Ok(Verified {
            key: key.clone(),
            request_mac: tsig.mac.clone(),
            time_signed: tsig.time,
        })
    }
}

/// Signs the messages of a response to a verified request, each over the previous one's MAC:
/// the first with the request's MAC and all TSIG variables, the later ones with only the
/// timers (RFC 8945 §5.3.1).
#[derive(Debug, Clone)]
pub struct ResponseSigner {
    key: Key,
    previous_mac: Vec<u8>,
    first: bool,
}

impl ResponseSigner {
    pub fn new(verified: &Verified) -> ResponseSigner {
        ResponseSigner {
            key: verified.key.clone(),
            previous_mac: verified.request_mac.clone(),
            first: true,
        }
    }

    /// The bytes the TSIG record adds to each message, to keep free when filling one.
    pub fn tsig_len(&self) -> usize {
        tsig_len(&self.key)
    }

    /// `message` is a whole encoded message whose ARCOUNT does not count the TSIG record yet;
    /// returns it with the record appended and ARCOUNT one more, signed at unix time `now`.
    pub fn sign(&mut self, message: Vec<u8>, now: u64) -> Result<Vec<u8>, TransferError> {
        let failed = |reason: String| TransferError::Sign {
            key: self.key.name().to_ascii(),
            reason,
        };
        let id = message_id(&message).map_err(failed)?;
        let tsig = stub(&self.key, now, id);
        let (signed, mac) = if self.first {
            sign_first(&self.key, &self.previous_mac, message, tsig)?
        } else {
            let tbs =
                timers_tbs(&self.previous_mac, &message, now).map_err(|e| failed(e.to_string()))?;
            let mac = self
                .key
                .signer()
                .sign(&tbs)
                .map_err(|e| failed(e.to_string()))?;
            let signed = append_tsig(message, self.key.name(), tsig.set_mac(mac.clone()))
                .map_err(|e| failed(e.to_string()))?;
            (signed, mac)
        };
        self.previous_mac = mac;
        self.first = false;
        Ok(signed)
    }
}

impl Key {
    /// Signs `message` (ARCOUNT not counting the TSIG record yet) as a client, at unix time
    /// `now`, RFC 8945 §4.3: the message and all TSIG variables. Returns the signed message
    /// and what checks the replies.
    pub fn sign_request(
        &self,
        message: Vec<u8>,
        now: u64,
    ) -> Result<(Vec<u8>, ReplyVerifier), TransferError> {
        let failed = |reason: String| TransferError::Sign {
            key: self.name().to_ascii(),
            reason,
        };
        let id = message_id(&message).map_err(failed)?;
        let tsig = stub(self, now, id);
        let tbs = message_tbs(&Encoded(&message), &tsig, self.name())
            .map_err(|e| failed(e.to_string()))?;
        let mac = self
            .signer()
            .sign(&tbs)
            .map_err(|e| failed(e.to_string()))?;
        let signed = append_tsig(message, self.name(), tsig.set_mac(mac.clone()))
            .map_err(|e| failed(e.to_string()))?;
        let verifier = ReplyVerifier {
            key: self.clone(),
            previous_mac: mac,
            first: true,
            unsigned: Vec::new(),
            unsigned_count: 0,
        };
        Ok((signed, verifier))
    }
}

/// Checks the replies to a request kubezone signed: the first over the request's MAC with all
/// TSIG variables, each later one (a stream over TCP) over the previous MAC with the timers.
/// [`ReplyVerifier::verify`] wants every message signed (a reply, or a stream whose server
/// signs each message, as BIND and Knot do); [`ReplyVerifier::verify_next`] reads a stream
/// as RFC 8945 §5.3.1 allows it, with up to 99 unsigned messages between signed ones.
#[derive(Debug, Clone)]
pub struct ReplyVerifier {
    key: Key,
    previous_mac: Vec<u8>,
    first: bool,
    /// The unsigned messages since the last signed one, which the next MAC covers.
    unsigned: Vec<u8>,
    unsigned_count: usize,
}

/// §5.3.1: a client must accept up to 99 unsigned messages in a row, and no more.
pub const MAX_UNSIGNED_MESSAGES: usize = 99;

impl ReplyVerifier {
    /// Accepts `reply` if signed by the key, its MAC verifies, it carries no TSIG error and it
    /// was signed within its fudge of unix time `now`.
    pub fn verify(&mut self, reply: &[u8], now: u64) -> Result<(), TransferError> {
        let refuse = |reason: ReplyProblem| TransferError::Reply {
            key: self.key.name().to_ascii(),
            reason,
        };
        if !ends_in_tsig(reply).map_err(|e| refuse(ReplyProblem::Malformed(e)))? {
            return Err(refuse(ReplyProblem::Unsigned));
        }
        self.verify_signed(reply, now)
    }

    /// The next message of a stream (an AXFR's): the first must be signed; a later one may
    /// be unsigned, and is then covered by the next signed message's MAC. Returns whether it
    /// was signed. The stream must end in a signed message: see [`ReplyVerifier::finish`].
    pub fn verify_next(&mut self, message: &[u8], now: u64) -> Result<bool, TransferError> {
        let refuse = |reason: ReplyProblem| TransferError::Reply {
            key: self.key.name().to_ascii(),
            reason,
        };
        if ends_in_tsig(message).map_err(|e| refuse(ReplyProblem::Malformed(e)))? {
            self.verify_signed(message, now)?;
            return Ok(true);
        }
        if self.first {
            return Err(refuse(ReplyProblem::Unsigned));
        }
        if self.unsigned_count >= MAX_UNSIGNED_MESSAGES {
            return Err(refuse(ReplyProblem::TooManyUnsigned(
                self.unsigned_count + 1,
            )));
        }
        self.unsigned.extend_from_slice(message);
        self.unsigned_count += 1;
        Ok(false)
    }

    /// Accepts the end of a stream: its last message was signed (§5.3.1).
    pub fn finish(&self) -> Result<(), TransferError> {
        if self.first || self.unsigned_count > 0 {
            return Err(TransferError::Reply {
                key: self.key.name().to_ascii(),
                reason: ReplyProblem::UnsignedEnd(self.unsigned_count),
            });
        }
        Ok(())
    }

    /// `reply` ends in a TSIG record: checks it, over the unsigned messages before it.
    fn verify_signed(&mut self, reply: &[u8], now: u64) -> Result<(), TransferError> {
        let refuse = |reason: ReplyProblem| TransferError::Reply {
            key: self.key.name().to_ascii(),
            reason,
        };
        let (signed, record) = if self.unsigned.is_empty() {
            signed_bitmessage_to_buf(reply, Some(&self.previous_mac), self.first)
        } else {
            // The previous MAC, then every unsigned message, then this one (§5.3.1).
            signed_bitmessage_to_buf(reply, None, false).and_then(|(this, record)| {
                let mut covered = self.unsigned.clone();
                covered.extend_from_slice(&this);
                Ok((prefixed(&self.previous_mac, &covered)?, record))
            })
        }
        .map_err(|e| refuse(ReplyProblem::Malformed(e.to_string())))?;
        let tsig = &record.data;
        if record.name != *self.key.name()
            || Algorithm::from_hickory(&tsig.algorithm) != Some(self.key.algorithm())
        {
            return Err(refuse(ReplyProblem::OtherKey {
                found: format!("{} ({})", record.name.to_ascii(), tsig.algorithm),
            }));
        }
        // BADKEY and BADSIG come unsigned (§5.3.2): nothing to check but the error.
        if tsig.mac.is_empty()
            && let Some(error) = tsig.error
        {
            return Err(refuse(ReplyProblem::PeerError(error_name(error))));
        }
        if tsig.mac.len() != self.key.algorithm().mac_len()
            || self.key.signer().verify(&signed, &tsig.mac).is_err()
        {
            return Err(refuse(ReplyProblem::BadSignature));
        }
        if let Some(error) = tsig.error {
            return Err(refuse(ReplyProblem::PeerError(error_name(error))));
        }
        if !within_fudge(now, tsig.time, tsig.fudge) {
            return Err(refuse(ReplyProblem::BadTime {
                signed: tsig.time,
                fudge: tsig.fudge,
                now,
            }));
        }
        self.previous_mac = tsig.mac.clone();
        self.first = false;
        self.unsigned.clear();
        self.unsigned_count = 0;
        Ok(())
    }
}

/// `bytes` after the MAC and its length, as a later message's MAC covers them.
fn prefixed(previous_mac: &[u8], bytes: &[u8]) -> Result<Vec<u8>, ProtoError> {
    let mac_len = u16::try_from(previous_mac.len())
        .map_err(|_| ProtoError::from("the previous MAC is longer than 65535 bytes"))?;
    let mut out = Vec::with_capacity(2 + previous_mac.len() + bytes.len());
    out.extend_from_slice(&mac_len.to_be_bytes());
    out.extend_from_slice(previous_mac);
    out.extend_from_slice(bytes);
    Ok(out)
}

/// An already encoded message, for hickory's `message_tbs`.
struct Encoded<'a>(&'a [u8]);

impl BinEncodable for Encoded<'_> {
    fn emit(&self, encoder: &mut BinEncoder<'_>) -> Result<(), ProtoError> {
        encoder.emit_vec(self.0)
    }
}

/// The TSIG RDATA of a message signed now, before its MAC.
fn stub(key: &Key, now: u64, id: u16) -> TSIG {
    TSIG::new(
        key.algorithm().to_hickory(),
        now,
        FUDGE,
        Vec::new(),
        id,
        None,
        Vec::new(),
    )
}

/// Signs a reply's first (or only) message: the request MAC, the message and all TSIG
/// variables (hickory's response encoding). Returns the signed message and its MAC.
fn sign_first(
    key: &Key,
    request_mac: &[u8],
    message: Vec<u8>,
    tsig: TSIG,
) -> Result<(Vec<u8>, Vec<u8>), TransferError> {
    let failed = |reason: String| TransferError::Sign {
        key: key.name().to_ascii(),
        reason,
    };
    let tbs = key
        .signer()
        .encode_response_tbs(request_mac, &message, &tsig)
        .map_err(|e| failed(e.to_string()))?;
    let mac = key.signer().sign(&tbs).map_err(|e| failed(e.to_string()))?;
    let signed = append_tsig(message, key.name(), tsig.set_mac(mac.clone()))
        .map_err(|e| failed(e.to_string()))?;
    Ok((signed, mac))
}

/// What a later message of a stream signs (RFC 8945 §5.3.1): the previous MAC with its length,
/// the message, and the timers (Time Signed, 48 bits, and Fudge).
fn timers_tbs(previous_mac: &[u8], message: &[u8], now: u64) -> Result<Vec<u8>, ProtoError> {
    let mac_len = u16::try_from(previous_mac.len())
        .map_err(|_| ProtoError::from("the previous MAC is longer than 65535 bytes"))?;
    let mut tbs = Vec::with_capacity(previous_mac.len() + message.len() + 10);
    let mut encoder = BinEncoder::new(&mut tbs);
    encoder.emit_u16(mac_len)?;
    encoder.emit_vec(previous_mac)?;
    encoder.emit_vec(message)?;
    encoder.emit_vec(now.to_be_bytes().get(2..).unwrap_or_default())?;
    encoder.emit_u16(FUDGE)?;
    Ok(tbs)
}

/// Appends the TSIG record for `tsig` to `message` and counts it in ARCOUNT.
fn append_tsig(mut message: Vec<u8>, key_name: &Name, tsig: TSIG) -> Result<Vec<u8>, ProtoError> {
    let mut record = Vec::with_capacity(128);
    make_tsig_record(key_name.clone(), tsig).emit(&mut BinEncoder::new(&mut record))?;
    let Some((header, _)) = message.split_first_chunk_mut::<HEADER_LEN>() else {
        return Err(ProtoError::from("the message is shorter than a DNS header"));
    };
    let additional = u16::from_be_bytes([header[10], header[11]])
        .checked_add(1)
        .ok_or_else(|| ProtoError::from("ARCOUNT is full"))?;
    [header[10], header[11]] = additional.to_be_bytes();
    if message.len().saturating_add(record.len()) > usize::from(u16::MAX) {
        return Err(ProtoError::from(
            "the message is too large for its TSIG record",
        ));
    }
    message.extend_from_slice(&record);
    Ok(message)
}

/// The length of a TSIG record signed with `key` (no Other Data).
fn tsig_len(key: &Key) -> usize {
    let tsig = stub(key, 0, 0).set_mac(vec![0; key.algorithm().mac_len()]);
    let mut record = Vec::with_capacity(128);
    match make_tsig_record(key.name().clone(), tsig).emit(&mut BinEncoder::new(&mut record)) {
        Ok(()) => record.len(),
        // Not reached for a name and algorithm that make a key; the record's largest size.
        Err(_) => 255 + 10 + 255 + 16 + key.algorithm().mac_len(),
    }
}

fn message_id(message: &[u8]) -> Result<u16, String> {
    message
        .first_chunk::<2>()
        .map(|id| u16::from_be_bytes(*id))
        .ok_or_else(|| "the message is shorter than a DNS header".to_string())
}

/// Whether the message's last record is a TSIG record. Every record is read first, so that what
/// hickory's `signed_bitmessage_to_buf` then reads is known to be sound: it asserts (in debug
/// builds) that no TSIG record comes before the last, and adds the answer and authority counts
/// in 16 bits.
fn ends_in_tsig(message: &[u8]) -> Result<bool, String> {
    let mut decoder = BinDecoder::new(message);
    let counts = Header::read(&mut decoder)
        .map_err(|e| format!("header: {e}"))?
        .counts;
    let sections = u32::from(counts.answers) + u32::from(counts.authorities);
    if sections > u32::from(u16::MAX) {
        return Err(format!(
            "{} answer and {} authority records cannot fit in a message",
            counts.answers, counts.authorities
        ));
    }
    for _ in 0..counts.queries {
        Query::read(&mut decoder).map_err(|e| format!("question: {e}"))?;
    }
    let records = sections + u32::from(counts.additionals);
    let mut last_is_tsig = false;
    for n in 1..=records {
        let record: Record<RData> =
            Record::read(&mut decoder).map_err(|e| format!("record {n} of {records}: {e}"))?;
        last_is_tsig = record.record_type() == RecordType::TSIG;
        if last_is_tsig && n != records {
            return Err(format!(
                "record {n} of {records} is a TSIG record, which must be the last"
            ));
        }
    }
    if last_is_tsig && counts.additionals == 0 {
        return Err("the TSIG record is not in the additional section".into());
    }
    Ok(last_is_tsig)
}

/// A MAC truncated as §5.2.2.1 allows: the leading bytes of the whole MAC, compared in
/// constant time.
fn truncated_mac_verifies(key: &Key, signed: &[u8], mac: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    let Ok(whole) = key.signer().sign(signed) else {
        return false;
    };
    whole
        .get(..mac.len())
        .is_some_and(|prefix| bool::from(prefix.ct_eq(mac)))
}

/// RFC 8945 §5.2.3: the time signed is within fudge seconds of now, either way.
fn within_fudge(now: u64, signed: u64, fudge: u16) -> bool {
    now.abs_diff(signed) <= u64::from(fudge)
}

fn error_name(error: TsigError) -> String {
    match error {
        TsigError::BadSig => "BADSIG".into(),
        TsigError::BadKey => "BADKEY".into(),
        TsigError::BadTime => "BADTIME".into(),
        TsigError::BadTrunc => "BADTRUNC".into(),
        TsigError::Unknown(code) => code.to_string(),
    }
}

/// A reply to `request` with `rcode`: its ID, opcode and RD, and its question when it has
/// exactly one that reads; nothing else.
fn echo(request: &[u8], rcode: ResponseCode) -> Result<Vec<u8>, TransferError> {
    let Some(header) = request.first_chunk::<HEADER_LEN>() else {
        return Err(TransferError::ErrorReply {
            reason: format!("{} bytes are not a DNS header", request.len()),
        });
    };
    let mut question_end = HEADER_LEN;
    if u16::from_be_bytes([header[4], header[5]]) == 1 {
        let mut decoder = BinDecoder::new(request);
        if Header::read(&mut decoder).is_ok() && Query::read(&mut decoder).is_ok() {
            question_end = request.len().saturating_sub(decoder.len());
        }
    }
    let question = request.get(HEADER_LEN..question_end).unwrap_or_default();
    let mut reply = Vec::with_capacity(question_end + 128);
    reply.extend_from_slice(&[
        header[0],
        header[1],
        // QR, the opcode and RD.
        0x80 | (header[2] & 0x79),
        rcode.low(),
        0,
        u8::from(!question.is_empty()),
        0,
        0,
        0,
        0,
        0,
        0,
    ]);
    reply.extend_from_slice(question);
    Ok(reply)
}

#[cfg(test)]
mod tests;
