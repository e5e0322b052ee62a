//! Reading the primary's zone by AXFR (RFC 5936) over TCP, signed with the push key, each
//! message of the answer checked (RFC 8945 §5.3.1): what the plan compares with what kubezone
//! wants.

use std::{io, net::SocketAddr, time::Duration};

use hickory_proto::{
    op::{Message, MessageType, OpCode, Query, ResponseCode},
    rr::{DNSClass, Name, RData, Record, RecordType},
};
use kubezone_transfer::{ReplyProblem, ReplyVerifier, TransferError};

use crate::{
    client::{Fault, Primary, TsigFailure, tsig_hint},
    link::{Link, LinkError, rcode_name, unix_now},
};

/// The zone as the primary holds it.
#[derive(Clone, Debug)]
pub struct TransferredZone {
    /// The zone's SOA, as the transfer began (and ended) with it.
    pub soa: Record,
    /// Every other record, in the order the primary sent them.
    pub records: Vec<Record>,
    /// The messages the transfer took.
    pub messages: usize,
}

impl TransferredZone {
    pub fn serial(&self) -> u32 {
        match &self.soa.data {
            RData::SOA(soa) => soa.serial,
            _ => 0,
        }
    }
}

/// Why the zone could not be read. Each names the primary and the zone.
#[derive(Debug, thiserror::Error)]
pub enum AxfrError {
    #[error("AXFR of {zone} from {server}: cannot connect: {source}")]
    Connect {
        server: SocketAddr,
        zone: String,
        source: io::Error,
    },
    #[error("AXFR of {zone} from {server}: nothing within {waited:?} while {during}")]
    Timeout {
        server: SocketAddr,
        zone: String,
        waited: Duration,
        during: &'static str,
    },
    #[error("AXFR of {zone} from {server}: the connection failed: {source}")]
    Connection {
        server: SocketAddr,
        zone: String,
        source: io::Error,
    },
    #[error(
        "AXFR of {zone} from {server}: the primary closed the connection after {records} records, before the closing SOA"
    )]
    Truncated {
        server: SocketAddr,
        zone: String,
        records: usize,
    },
    #[error(
        "AXFR of {zone} from {server}: REFUSED: the primary does not allow {key} to transfer the zone"
    )]
    Refused {
        server: SocketAddr,
        zone: String,
        /// "key K" or "this address, unsigned".
        key: String,
    },
    #[error(
        "AXFR of {zone} from {server}: NOTAUTH: the primary is not authoritative for the zone, or does not accept {key}"
    )]
    NotAuth {
        server: SocketAddr,
        zone: String,
        key: String,
    },
    #[error("AXFR of {zone} from {server}: NOTIMP: the primary does not do AXFR")]
    NotImp { server: SocketAddr, zone: String },
    /// SERVFAIL, NXDOMAIN, FORMERR and the rest.
    #[error("AXFR of {zone} from {server}: the primary answered {}", rcode_name(*rcode))]
    Rcode {
        server: SocketAddr,
        zone: String,
        rcode: ResponseCode,
    },
    /// BADKEY, BADSIG or BADTIME from the primary.
    #[error(
        "AXFR of {zone} from {server}: the primary refused key {key} with TSIG error {error} ({})",
        tsig_hint(error)
    )]
    TsigRefused {
        server: SocketAddr,
        zone: String,
        key: String,
        error: String,
    },
    #[error(
        "AXFR of {zone} from {server}: message {message} does not verify with key {key}: {problem}"
    )]
    Unverified {
        server: SocketAddr,
        zone: String,
        key: String,
        message: usize,
        problem: ReplyProblem,
    },
    #[error("AXFR of {zone} from {server}: message {message} is malformed: {reason}")]
    Malformed {
        server: SocketAddr,
        zone: String,
        message: usize,
        reason: String,
    },
    #[error("AXFR of {zone} from {server}: cannot sign the request: {source}")]
    Sign {
        server: SocketAddr,
        zone: String,
        source: TransferError,
    },
}

impl AxfrError {
    pub fn fault(&self) -> Fault {
        match self {
            AxfrError::Connect { .. }
            | AxfrError::Timeout { .. }
            | AxfrError::Connection { .. }
            | AxfrError::Truncated { .. }
            | AxfrError::Malformed { .. } => Fault::Transient,
            AxfrError::Rcode { rcode, .. } if *rcode == ResponseCode::ServFail => Fault::Transient,
            AxfrError::Refused { .. }
            | AxfrError::NotAuth { .. }
            | AxfrError::NotImp { .. }
            | AxfrError::Rcode { .. }
            | AxfrError::TsigRefused { .. }
            | AxfrError::Unverified { .. }
            | AxfrError::Sign { .. } => Fault::NotAllowed,
        }
    }
}

impl Primary {
    /// Reads `zone` by AXFR on a connection of its own.
    pub async fn axfr(&self, zone: &Name) -> Result<TransferredZone, AxfrError> {
        Transfer::new(self, zone).run().await
    }
}

/// One AXFR under way.
struct Transfer<'a> {
    primary: &'a Primary,
    zone: &'a Name,
    /// Messages received so far, for errors.
    messages: usize,
}

impl<'a> Transfer<'a> {
    fn new(primary: &'a Primary, zone: &'a Name) -> Transfer<'a> {
        Transfer {
            primary,
            zone,
            messages: 0,
        }
    }

    async fn run(mut self) -> Result<TransferredZone, AxfrError> {
        let id = rand::random::<u16>();
        let mut request = Message::new(id, MessageType::Query, OpCode::Query);
        let mut question = Query::query(self.zone.clone(), RecordType::AXFR);
        question.set_query_class(DNSClass::IN);
        request.add_query(question);
        let bytes = request
            .to_vec()
            .map_err(|e| self.malformed(e.to_string()))?;
        let (bytes, mut verifier) = match &self.primary.key {
            Some(key) => {
                let (signed, verifier) = key
                    .sign_request(bytes, unix_now())
                    .map_err(|source| self.sign(source))?;
                (signed, Some(verifier))
            }
            None => (bytes, None),
        };
        let mut link = Link::connect(self.primary.server, self.primary.timeout)
            .await
            .map_err(|e| self.link_error(e))?;
        link.send(&bytes).await.map_err(|e| self.link_error(e))?;

        let mut soa: Option<Record> = None;
        let mut records = Vec::new();
        loop {
            let Some(reply) = link.receive().await.map_err(|e| self.link_error(e))? else {
                return Err(AxfrError::Truncated {
                    server: self.primary.server,
                    zone: self.zone.to_string(),
                    records: records.len() + usize::from(soa.is_some()),
                });
            };
            self.messages += 1;
            let message = Message::from_vec(&reply)
                .map_err(|e| self.malformed(format!("it does not parse: {e}")))?;
            let header = &message.metadata;
            if header.id != id
                || header.message_type != MessageType::Response
                || header.op_code != OpCode::Query
            {
                return Err(self.malformed(format!(
                    "expected an answer to query {id}, got {:?} {} {:?}",
                    header.message_type, header.id, header.op_code
                )));
            }
            let rcode = header.response_code;
            if let Some(verifier) = verifier.as_mut() {
                match verifier
                    .verify_next(&reply, unix_now())
                    .map_err(TsigFailure::from)
                {
                    Ok(_) => {}
                    // An unsigned error is taken for what it says (see `client`).
                    Err(TsigFailure::Unsigned) if rcode != ResponseCode::NoError => {}
                    Err(failure) => return Err(self.tsig_error(failure)),
                }
            }
            self.check_rcode(rcode)?;
            let mut answers = message.answers.into_iter();
            while let Some(record) = answers.next() {
                let Some(first) = &soa else {
                    if record.record_type() != RecordType::SOA || record.name != *self.zone {
                        return Err(self.malformed(format!(
                            "the transfer begins with {} {}, not the zone's SOA",
                            record.name,
                            record.record_type()
                        )));
                    }
                    soa = Some(record);
                    continue;
                };
                if record.record_type() == RecordType::SOA {
                    if let Some(after) = answers.next() {
                        return Err(self.malformed(format!(
                            "{} {} follows the closing SOA",
                            after.name,
                            after.record_type()
                        )));
                    }
                    return self.close(first.clone(), records, &record, verifier.as_ref());
                }
                if !self.zone.zone_of(&record.name) {
                    return Err(self.malformed(format!(
                        "{} {} is outside the zone",
                        record.name,
                        record.record_type()
                    )));
                }
                records.push(record);
            }
            if soa.is_none() {
                return Err(self.malformed("the first message has no SOA".into()));
            }
        }
    }

    /// `closing` is a SOA after the first, and the last record of its message: it ends the
    /// transfer if it is the zone's SOA again and its message was signed.
    fn close(
        &self,
        first: Record,
        records: Vec<Record>,
        closing: &Record,
        verifier: Option<&ReplyVerifier>,
    ) -> Result<TransferredZone, AxfrError> {
        if closing.name != *self.zone || closing.data != first.data {
            return Err(self.malformed(format!(
                "a SOA for {} ({}) comes where only the closing SOA of the zone may",
                closing.name, closing.data
            )));
        }
        if let Some(verifier) = verifier {
            verifier
                .finish()
                .map_err(|e| self.tsig_error(TsigFailure::from(e)))?;
        }
        Ok(TransferredZone {
            soa: first,
            records,
            messages: self.messages,
        })
    }

    fn check_rcode(&self, rcode: ResponseCode) -> Result<(), AxfrError> {
        let server = self.primary.server;
        let zone = self.zone.to_string();
        let key = match &self.primary.key {
            Some(key) => format!("key {}", key.name()),
            None => "this address, unsigned".into(),
        };
        match rcode {
            ResponseCode::NoError => Ok(()),
            ResponseCode::Refused => Err(AxfrError::Refused { server, zone, key }),
            ResponseCode::NotAuth => Err(AxfrError::NotAuth { server, zone, key }),
            ResponseCode::NotImp => Err(AxfrError::NotImp { server, zone }),
            rcode => Err(AxfrError::Rcode {
                server,
                zone,
                rcode,
            }),
        }
    }

    fn tsig_error(&self, failure: TsigFailure) -> AxfrError {
        let server = self.primary.server;
        let zone = self.zone.to_string();
        match failure {
            TsigFailure::Peer { key, error } => AxfrError::TsigRefused {
                server,
                zone,
                key,
                error,
            },
            TsigFailure::Unsigned => AxfrError::Unverified {
                server,
                zone,
                key: self
                    .primary
                    .key
                    .as_ref()
                    .map(|k| k.name().to_ascii())
                    .unwrap_or_default(),
                message: self.messages,
                problem: ReplyProblem::Unsigned,
            },
            TsigFailure::Problem { key, problem } => AxfrError::Unverified {
                server,
                zone,
                key,
                message: self.messages,
                problem,
            },
        }
    }

    fn malformed(&self, reason: String) -> AxfrError {
        AxfrError::Malformed {
            server: self.primary.server,
            zone: self.zone.to_string(),
            message: self.messages,
            reason,
        }
    }

    fn sign(&self, source: TransferError) -> AxfrError {
        AxfrError::Sign {
            server: self.primary.server,
            zone: self.zone.to_string(),
            source,
        }
    }

    fn link_error(&self, error: LinkError) -> AxfrError {
        let server = self.primary.server;
        let zone = self.zone.to_string();
        match error {
            LinkError::Connect(source) => AxfrError::Connect {
                server,
                zone,
                source,
            },
            LinkError::Timeout { during } => AxfrError::Timeout {
                server,
                zone,
                waited: self.primary.timeout,
                during,
            },
            LinkError::Broken(source) => AxfrError::Connection {
                server,
                zone,
                source,
            },
        }
    }
}

#[cfg(test)]
mod tests;
