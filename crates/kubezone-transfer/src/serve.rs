//! Answering AXFR and IXFR requests: which zone, whether the client may have it, and the
//! response messages, written to the connection as they are built.

use std::{net::SocketAddr, sync::Arc};

use hickory_proto::{
    op::{Message, OpCode, ResponseCode},
    rr::{RData, RecordType},
};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tracing::{debug, info, warn};

use crate::{
    Outcome, Refusal, ResponseSigner, Transfers, message::Messages, records, unix_now,
    versions::Version,
};

/// Bytes a transfer message takes at most, before its TSIG record. Large enough that a zone of
/// 100,000 names needs a few hundred messages; small enough to bound each transfer's memory.
pub const MESSAGE_LIMIT: usize = 16 * 1024;

/// What a request is, once read.
struct Request {
    id: u16,
    /// Signs each response message when the request was signed.
    signer: Option<ResponseSigner>,
    kind: RecordType,
    /// The question as sent, to echo.
    question: Vec<u8>,
    zone: usize,
    /// For IXFR: the client's serial.
    client_serial: Option<u32>,
}

impl Transfers {
    /// Answers an AXFR or IXFR request that came over TCP, writing each response message
    /// (length-prefixed) to `writer` as it is built.
    pub async fn serve_tcp<W: AsyncWrite + Unpin>(
        &self,
        query: &[u8],
        peer: SocketAddr,
        writer: &mut W,
    ) -> std::io::Result<()> {
        let request = match self.admit(query, peer) {
            Ok(request) => request,
            Err(reply) => return write_frame(writer, &reply).await,
        };
        let Ok(_permit) = self.running.clone().try_acquire_owned() else {
            info!(%peer, "zone transfer refused: too many transfers at once");
            self.observe(request.zone, Outcome::Busy);
            return write_frame(writer, &refusal(query, ResponseCode::ServFail)).await;
        };
        let Some(version) = self
            .zones
            .get(request.zone)
            .and_then(|z| z.versions.current())
        else {
            return write_frame(writer, &refusal(query, ResponseCode::ServFail)).await;
        };
        let mut request = request;
        let outcome = self.stream(&mut request, &version, writer).await?;
        self.observe(request.zone, outcome);
        Ok(())
    }

    /// Answers an IXFR request over UDP (RFC 1995 §2): the current SOA, which tells a client
    /// that is current so, and any other to ask again over TCP. AXFR over UDP is refused.
    pub fn serve_udp(&self, query: &[u8], peer: SocketAddr, out: &mut Vec<u8>) {
        out.clear();
        let mut request = match self.admit(query, peer) {
            Ok(request) => request,
            Err(reply) => {
                out.extend_from_slice(&reply);
                return;
            }
        };
        let version = self
            .zones
            .get(request.zone)
            .and_then(|z| z.versions.current());
        let (Some(version), RecordType::IXFR) = (version, request.kind) else {
            out.extend_from_slice(&refusal(query, ResponseCode::Refused));
            return;
        };
        let Some(soa) = version.soa_tail() else {
            out.extend_from_slice(&refusal(query, ResponseCode::ServFail));
            return;
        };
        let mut messages = Messages::new(
            request.id,
            &request.question,
            version.snapshot.origin_key(),
            usize::from(u16::MAX),
        );
        messages.push(version.snapshot.origin_key(), &soa);
        let reply = messages.finish().unwrap_or_default();
        match sign(&mut request.signer, reply) {
            Ok(reply) => out.extend_from_slice(&reply),
            Err(error) => {
                warn!(%peer, %error, "cannot sign the IXFR reply");
                out.extend_from_slice(&refusal(query, ResponseCode::ServFail));
                return;
            }
        }
        self.observe(request.zone, Outcome::UpToDate);
    }

    /// Signs `reply`, written by the answer path for a TSIG-signed `query` (a secondary's SOA
    /// check), with the query's key; or replaces it with the TSIG refusal (RFC 8945 §5.3.2).
    pub fn sign_reply(&self, query: &[u8], reply: &mut Vec<u8>) {
        let now = unix_now();
        match self.keys.verify_request(query, now) {
            Ok(verified) => {
                let mut signer = ResponseSigner::new(&verified);
                match signer.sign(std::mem::take(reply), now) {
                    Ok(signed) => *reply = signed,
                    Err(error) => {
                        warn!(%error, "cannot sign a reply");
                        *reply = refusal(query, ResponseCode::ServFail);
                    }
                }
            }
            Err(Refusal::Unsigned) => {}
            Err(refused) => {
                *reply = refused
                    .reply(query)
                    .unwrap_or_else(|_| refusal(query, ResponseCode::NotAuth));
            }
        }
    }

    /// Reads the request and checks the client; the refusal to send otherwise.
    fn admit(&self, query: &[u8], peer: SocketAddr) -> Result<Request, Vec<u8>> {
        let message =
            Message::from_vec(query).map_err(|_| refusal(query, ResponseCode::FormErr))?;
        let question = match (&message.queries[..], message.metadata.op_code) {
            ([question], OpCode::Query) => question,
            _ => return Err(refusal(query, ResponseCode::FormErr)),
        };
        let kind = question.query_type();
        let name = question.name();
        let Some(zone) = self
            .zones
            .iter()
            .position(|z| z.origin.eq_ignore_ascii_case(&crate::wire_name(name)))
        else {
            return Err(refusal(query, ResponseCode::NotAuth));
        };
        let Some(config) = self.zones.get(zone).map(|z| &z.config) else {
            return Err(refusal(query, ResponseCode::NotAuth));
        };
        if !config.allow.contains(peer.ip()) {
            self.refused_once(peer, zone, "not in transfer.allow");
            self.observe(zone, Outcome::Refused);
            return Err(refusal(query, ResponseCode::Refused));
        }
        // TSIG (RFC 8945 §5.2): a signed request is checked whatever the zone requires, and
        // its replies are signed; a zone with `keys` takes signed requests only.
        let signed = match self.keys.verify_request(query, unix_now()) {
            Ok(verified) => Some(verified),
            Err(Refusal::Unsigned) => None,
            Err(refused) => {
                self.refused_once(peer, zone, &refused.to_string());
                self.observe(zone, Outcome::Refused);
                return Err(refused
                    .reply(query)
                    .unwrap_or_else(|_| refusal(query, ResponseCode::NotAuth)));
            }
        };
        if !config.keys.is_empty() {
            let allowed = signed
                .as_ref()
                .is_some_and(|v| config.keys.contains(v.key().name()));
            if !allowed {
                let why = match &signed {
                    None => "unsigned, and transfer.keys requires a key".to_string(),
                    Some(v) => format!(
                        "signed with {}, which transfer.keys does not list",
                        v.key().name()
                    ),
                };
                self.refused_once(peer, zone, &why);
                self.observe(zone, Outcome::Refused);
                return Err(refusal(query, ResponseCode::NotAuth));
            }
        }
        let client_serial = message.authorities.iter().find_map(|r| match &r.data {
            RData::SOA(soa) if kind == RecordType::IXFR => Some(soa.serial),
            _ => None,
        });
        debug!(%peer, zone = %name, %kind, "zone transfer");
        Ok(Request {
            id: message.metadata.id,
            signer: signed.as_ref().map(ResponseSigner::new),
            kind,
            question: question_bytes(query).unwrap_or_default(),
            zone,
            client_serial,
        })
    }

    /// Writes the response messages of an admitted request.
    async fn stream<W: AsyncWrite + Unpin>(
        &self,
        request: &mut Request,
        version: &Arc<Version>,
        writer: &mut W,
    ) -> std::io::Result<Outcome> {
        let origin = version.snapshot.origin_key();
        let Some(soa) = version.soa_tail() else {
            write_frame(writer, &header_only(request.id, ResponseCode::ServFail)).await?;
            return Ok(Outcome::Failed);
        };
        let room = request.signer.as_ref().map_or(0, ResponseSigner::tsig_len);
        let mut messages =
            Messages::new(request.id, &request.question, origin, MESSAGE_LIMIT - room);
        let signer = &mut request.signer;
        let incremental = match (request.kind, request.client_serial) {
            (RecordType::IXFR, Some(serial)) if serial == version.serial() => Some(Vec::new()),
            (RecordType::IXFR, Some(serial)) => version.journal.since(serial),
            _ => None,
        };
        let outcome = match &incremental {
            Some(changes) if changes.is_empty() => {
                messages.push(origin, &soa);
                Outcome::UpToDate
            }
            Some(changes) => {
                for (owner, tail) in records::ixfr(origin, &soa, changes) {
                    if let Some(full) = messages.push(owner, tail) {
                        write_frame(writer, &sign(signer, full)?).await?;
                    }
                }
                Outcome::Ixfr
            }
            None => {
                for (owner, tail) in records::axfr(version, &soa) {
                    if let Some(full) = messages.push(owner, tail) {
                        write_frame(writer, &sign(signer, full)?).await?;
                    }
                }
                Outcome::Axfr
            }
        };
        if let Some(last) = messages.finish() {
            write_frame(writer, &sign(signer, last)?).await?;
        }
        writer.flush().await?;
        Ok(outcome)
    }

    fn observe(&self, zone: usize, outcome: Outcome) {
        if let (Some(observer), Some(z)) = (&self.observer, self.zones.get(zone)) {
            observer.transfer(&z.name, outcome);
        }
    }

    /// Logs a refused client once per (client, zone), so a client retrying does not flood the
    /// log; the metric counts every refusal.
    fn refused_once(&self, peer: SocketAddr, zone: usize, why: &str) {
        let mut seen = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() < 1024 && seen.insert((peer.ip(), zone)) {
            let name = self.zones.get(zone).map(|z| z.name.as_str()).unwrap_or("");
            info!(client = %peer.ip(), zone = name, "zone transfer refused: {why}");
        }
    }
}

/// `message` with its TSIG record, when the request was signed.
fn sign(signer: &mut Option<ResponseSigner>, message: Vec<u8>) -> std::io::Result<Vec<u8>> {
    match signer {
        Some(signer) => signer
            .sign(message, unix_now())
            .map_err(|e| std::io::Error::other(e.to_string())),
        None => Ok(message),
    }
}

/// Writes one length-prefixed message.
async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, message: &[u8]) -> std::io::Result<()> {
    let Ok(len) = u16::try_from(message.len()) else {
        return Err(std::io::Error::other("message longer than 65535 bytes"));
    };
    writer.write_all(&len.to_be_bytes()).await?;
    writer.write_all(message).await
}

/// The question section of a request, as sent.
fn question_bytes(query: &[u8]) -> Option<Vec<u8>> {
    let body = query.get(12..)?;
    let mut at = 0;
    loop {
        let len = usize::from(*body.get(at)?);
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        at += 1 + len;
    }
    body.get(..at + 5).map(<[u8]>::to_vec)
}

/// A reply with the request's header and question and `rcode`, nothing else.
pub(crate) fn refusal(query: &[u8], rcode: ResponseCode) -> Vec<u8> {
    let id = query
        .first_chunk::<2>()
        .map_or(0, |b| u16::from_be_bytes(*b));
    let question = if rcode == ResponseCode::FormErr {
        None
    } else {
        question_bytes(query)
    };
    let mut reply = header_only(id, rcode);
    if let Some(question) = question {
        if let Some(qd) = reply.get_mut(4..6) {
            qd.copy_from_slice(&1u16.to_be_bytes());
        }
        reply.extend_from_slice(&question);
    }
    reply
}

/// A response header (QR set) with `rcode` and no records.
fn header_only(id: u16, rcode: ResponseCode) -> Vec<u8> {
    let mut reply = Vec::with_capacity(512);
    reply.extend_from_slice(&id.to_be_bytes());
    reply.push(0x80);
    reply.push((u16::from(rcode) & 0x0F) as u8);
    reply.extend_from_slice(&[0; 8]);
    reply
}
