//! A query parsed once, checked (ACL, opcode, class, EDNS version, CH TXT, zone transfer), then
//! answered from the index or handed on for fallthrough.

use std::{net::SocketAddr, time::Instant};

use hickory_proto::{
    op::ResponseCode,
    rr::{DNSClass, RecordType, rdata::opt::EdnsCode},
};
use kubezone_guard::{ResponseKey, Verdict};
use tracing::debug;

use super::{
    Answerer, Handled, MAX_UDP_PAYLOAD, PLAIN_UDP_PAYLOAD, TCP_LIMIT, Transport, account::Seen,
};
use crate::{
    Resolution,
    ecs::ClientSubnet,
    locality::Client,
    message::{ADDITIONAL, ExtendedError, Flags, Opt, Reply},
    query::{Header, Query, Unreadable, parse},
    rated, resolve_in_zone,
};

impl Answerer {
    /// Answers `packet` into `out`. On [`Handled::Forward`], call [`Answerer::forward`].
    pub fn respond(
        &self,
        packet: &[u8],
        transport: Transport,
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> Handled {
        self.respond_rated(packet, transport, src, out).0
    }

    /// Answers a UDP query as [`Answerer::respond`] does, also saying what the rate limit
    /// counts the reply under, for [`Answerer::rate_limit`].
    pub fn respond_udp(
        &self,
        packet: &[u8],
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> (Handled, ResponseKey) {
        self.respond_rated(packet, Transport::Udp, src, out)
    }

    pub(super) fn respond_rated(
        &self,
        packet: &[u8],
        transport: Transport,
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> (Handled, ResponseKey) {
        let start = Instant::now();
        // Parsed once here: the checks, the answer and the query log all read this.
        let parsed = parse(packet);
        let (handled, seen) = match self.guard.as_deref().map(|g| g.check_acl(src.ip())) {
            None | Some(Verdict::Allow) => self.answer(&parsed, packet, transport, src, out),
            Some(Verdict::Drop) => return (Handled::Drop, ResponseKey::ERROR),
            Some(Verdict::Refuse) => refuse_client(parsed.as_ref().ok(), out),
        };
        let rated = seen.rated;
        if seen.signed
            && handled == Handled::Reply
            && let Some(transfers) = &self.transfers
        {
            // A secondary's signed SOA check (RFC 8945): signed back with the same key.
            transfers.sign_reply(packet, out);
        }
        if handled != Handled::Forward {
            self.account(seen, start, transport, src, parsed.as_ref().ok());
        }
        (handled, rated)
    }

    /// Streams the response to an AXFR or IXFR that [`Answerer::respond`] handed on
    /// ([`Handled::Transfer`]) to `writer`, length-prefixed as on TCP.
    pub async fn transfer<W: tokio::io::AsyncWrite + Unpin>(
        &self,
        packet: &[u8],
        peer: SocketAddr,
        writer: &mut W,
    ) -> std::io::Result<()> {
        match &self.transfers {
            Some(transfers) => transfers.serve_tcp(packet, peer, writer).await,
            None => Ok(()),
        }
    }

    pub(super) fn answer(
        &self,
        parsed: &Result<Query<'_>, Unreadable>,
        packet: &[u8],
        transport: Transport,
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> (Handled, Seen) {
        let mut seen = Seen {
            zone: None,
            qtype: RecordType::NULL,
            rcode: ResponseCode::FormErr,
            rated: ResponseKey::ERROR,
            signed: false,
        };
        let query = match parsed {
            Ok(query) => query,
            Err(Unreadable::Drop) => return (Handled::Drop, seen),
            Err(Unreadable::FormErr { header }) => {
                let header = Header {
                    id: header.id,
                    opcode: header.opcode,
                    recursion_desired: header.recursion_desired,
                    checking_disabled: false,
                };
                Reply::new(out, header, &[], TCP_LIMIT, None).finish(Flags {
                    rcode: ResponseCode::FormErr,
                    authoritative: false,
                });
                return (Handled::Reply, seen);
            }
        };
        seen.qtype = query.qtype;
        seen.signed = query.signed;
        let limit = limit(query, transport);
        // Options are read only when the client sent some.
        let subnet = match query.edns {
            Some(edns) if !edns.options.is_empty() => ClientSubnet::find(edns.options),
            _ => Ok(None),
        };
        let echo = subnet.as_ref().ok().and_then(Option::as_ref);
        let opt = self.opt(query, limit).map(|opt| Opt {
            subnet: echo,
            ..opt
        });
        let question = query.question;
        let refuse = |rcode: ResponseCode, error: Option<ExtendedError>, out: &mut Vec<u8>| {
            let echo = if rcode == ResponseCode::FormErr {
                &[][..]
            } else {
                question
            };
            let opt = opt.map(|opt| Opt { error, ..opt });
            Reply::new(out, query.header, echo, TCP_LIMIT, opt).finish(Flags {
                rcode,
                authoritative: false,
            });
            (Handled::Reply, rcode)
        };
        let refused = if query.edns.is_some_and(|e| e.version > 0) {
            Some(ResponseCode::BADVERS)
        } else if query.header.opcode != 0 {
            Some(ResponseCode::NotImp)
        } else if query.question_count != 1 {
            Some(ResponseCode::FormErr)
        } else if let Err(malformed) = subnet {
            // RFC 7871 §7.1.1: a broken Client Subnet is the sender's bug to fix.
            debug!(%src, ?malformed, "malformed EDNS Client Subnet");
            Some(ResponseCode::FormErr)
        } else if let Some(txt) = self.chaos_txt(query) {
            let mut reply = Reply::new(out, query.header, question, usize::from(limit), opt);
            reply.query_answer(txt);
            // Not authoritative, as NSD answers: CH is no zone of ours.
            reply.finish(Flags {
                rcode: ResponseCode::NoError,
                authoritative: false,
            });
            seen.rcode = ResponseCode::NoError;
            return (Handled::Reply, seen);
        } else if let Some(transfers) = self.transfers.as_deref().filter(|t| {
            query.qclass == DNSClass::IN
                && matches!(query.qtype, RecordType::AXFR | RecordType::IXFR)
                && t.serves(&query.key)
        }) {
            seen.rcode = ResponseCode::NoError;
            // Signed (or refused) by zone transfer itself.
            seen.signed = false;
            return match transport {
                Transport::Tcp => (Handled::Transfer, seen),
                Transport::Udp => {
                    transfers.serve_udp(packet, src, out);
                    (Handled::Reply, seen)
                }
            };
        } else if query.qclass != DNSClass::IN
            // Zone transfer of a zone without `transfer` settings.
            || matches!(query.qtype, RecordType::AXFR | RecordType::IXFR)
        {
            Some(ResponseCode::Refused)
        } else {
            None
        };
        if let Some(rcode) = refused {
            let (handled, rcode) = refuse(rcode, None, out);
            seen.rcode = rcode;
            return (handled, seen);
        }

        let catalog = self.index.load();
        // The client is placed by the address its resolver gave, else by its own; a cluster
        // is looked up only if the answer reaches a local-first name.
        let address = match echo {
            Some(subnet) => subnet.address(),
            None => Some(src.ip()),
        };
        let mut client = Client::new(self.locality.as_deref(), address);
        let (zone, resolution) = resolve_in_zone(
            &catalog,
            &query.key,
            query.qtype,
            &self.fallthrough,
            &mut client,
        );
        // The scope is the choice's when the answer went through a local-first name, else 0:
        // the answer holds for everyone.
        let scoped = client
            .choice()
            .zip(echo)
            .map(|(choice, subnet)| subnet.with_scope(choice.scope));
        let opt = match &scoped {
            Some(subnet) => opt.map(|opt| Opt {
                subnet: Some(subnet),
                ..opt
            }),
            None => opt,
        };
        seen.zone = zone;
        let failed = match resolution {
            Resolution::Answer(answer) => Err(answer),
            Resolution::Refused => Ok((
                ResponseCode::Refused,
                Some(ExtendedError::NOT_AUTHORITATIVE),
            )),
            Resolution::NotReady => Ok((ResponseCode::ServFail, Some(ExtendedError::NOT_READY))),
            Resolution::Fallthrough if self.forwarder.is_some() => {
                return (Handled::Forward, seen);
            }
            Resolution::Fallthrough => Ok((ResponseCode::ServFail, None)),
        };
        let answer = match failed {
            Err(answer) => answer,
            Ok((rcode, error)) => {
                let (handled, rcode) = refuse(rcode, error, out);
                seen.rcode = rcode;
                return (handled, seen);
            }
        };
        seen.rcode = answer.rcode;
        if let Some(limiter) = self.limiter(transport) {
            seen.rated = rated::answer_key(limiter, &answer, query.qtype);
        }
        let mut reply = Reply::new(out, query.header, query.question, usize::from(limit), opt);
        let _ = reply.section(1, &answer.answers)
            && reply.section(2, &answer.authorities)
            && reply.section(ADDITIONAL, &answer.additionals);
        reply.finish(Flags {
            rcode: answer.rcode,
            authoritative: answer.authoritative,
        });
        (Handled::Reply, seen)
    }

    /// The reply's OPT for `query`, with this server's name when the query asked for it.
    pub(super) fn opt<'a>(&'a self, query: &Query<'_>, limit: u16) -> Option<Opt<'a>> {
        let mut opt = opt(query, limit)?;
        // Options are read only when identity is on and the client sent some.
        if let (Some(identity), Some(edns)) = (self.identity.as_deref(), query.edns)
            && edns.has_option(u16::from(EdnsCode::NSID))
        {
            opt.nsid = identity.nsid_payload();
        }
        Some(opt)
    }

    /// The CH TXT record naming this server, when `query` asks for it and that is on.
    pub(super) fn chaos_txt(&self, query: &Query<'_>) -> Option<&[u8]> {
        if query.qclass != DNSClass::CH {
            return None;
        }
        self.identity
            .as_deref()?
            .chaos_txt(query.key.as_bytes(), query.qtype)
    }
}

/// REFUSED for a client the access list turns away: the question only, and why.
pub(super) fn refuse_client(query: Option<&Query<'_>>, out: &mut Vec<u8>) -> (Handled, Seen) {
    let mut seen = Seen {
        zone: None,
        qtype: RecordType::NULL,
        rcode: ResponseCode::Refused,
        rated: ResponseKey::ERROR,
        signed: false,
    };
    match query {
        Some(query) => {
            seen.qtype = query.qtype;
            let opt = opt(query, MAX_UDP_PAYLOAD).map(|opt| Opt {
                error: Some(ExtendedError::PROHIBITED),
                ..opt
            });
            Reply::new(out, query.header, query.question, TCP_LIMIT, opt).finish(Flags {
                rcode: ResponseCode::Refused,
                authoritative: false,
            });
            (Handled::Reply, seen)
        }
        None => (Handled::Drop, seen),
    }
}

/// The size a reply may take.
pub(super) fn limit(query: &Query<'_>, transport: Transport) -> u16 {
    match (query.edns, transport) {
        (_, Transport::Tcp) => u16::MAX,
        (None, Transport::Udp) => PLAIN_UDP_PAYLOAD,
        (Some(edns), Transport::Udp) => edns.payload.clamp(PLAIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD),
    }
}

/// The reply's OPT: there exactly when the query had one (RFC 6891 §7), advertising what
/// `limit` allows, with the query's DO bit.
pub(super) fn opt(query: &Query<'_>, limit: u16) -> Option<Opt<'static>> {
    query.edns.map(|edns| Opt {
        payload: limit.clamp(PLAIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD),
        dnssec_ok: edns.dnssec_ok,
        nsid: None,
        subnet: None,
        error: None,
    })
}
