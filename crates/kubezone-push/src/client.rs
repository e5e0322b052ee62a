//! Sending UPDATE messages (RFC 2136) to the primary, signed with TSIG (RFC 8945), over TCP,
//! one connection reused for a batch of messages, and what the primary's answer means.
//!
//! An UPDATE that timed out or whose connection broke may or may not have been applied: the
//! caller re-reads the zone (AXFR) before it sends more, and the prerequisites of each message
//! (written by `batch`) keep a resent one from undoing a concurrent change.

use std::{io, net::SocketAddr, time::Duration};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use kubezone_transfer::{Key, ReplyProblem, TransferError};

use crate::link::{Link, LinkError, rcode_name, unix_now};

/// How long a connection, or a reply, may take unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The primary a zone is pushed to: where it listens, the key that signs what is sent to it
/// (none: unsigned, for a primary that allows updates by address), and how long to wait.
#[derive(Clone, Debug)]
pub struct Primary {
    pub server: SocketAddr,
    pub key: Option<Key>,
    /// Bounds connecting and each wait for a message; a transfer that keeps moving may take
    /// longer as a whole.
    pub timeout: Duration,
}

impl Primary {
    pub fn new(server: SocketAddr, key: Option<Key>) -> Primary {
        Primary {
            server,
            key,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Primary {
        self.timeout = timeout;
        self
    }
}

/// What an error means for the next attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Unreachable, slow, failing (SERVFAIL) or a broken stream: retry with backoff.
    Transient,
    /// Refused (REFUSED, NOTAUTH, a TSIG error, a zone the primary does not have): nothing
    /// changes until its config or kubezone's does, so retry slowly.
    NotAllowed,
    /// A prerequisite failed (YXDOMAIN, YXRRSET, NXRRSET, NXDOMAIN): the zone changed under
    /// the plan; read it again and plan anew.
    Prerequisite,
}

/// Why an UPDATE was not applied (or may not have been). Each names the primary and the zone.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("UPDATE of {zone} at {server}: cannot connect: {source}")]
    Connect {
        server: SocketAddr,
        zone: String,
        source: io::Error,
    },
    #[error("UPDATE of {zone} at {server}: nothing within {waited:?} while {during}")]
    Timeout {
        server: SocketAddr,
        zone: String,
        waited: Duration,
        during: &'static str,
    },
    #[error("UPDATE of {zone} at {server}: the connection failed: {source}")]
    Connection {
        server: SocketAddr,
        zone: String,
        source: io::Error,
    },
    #[error(
        "UPDATE of {zone} at {server}: a prerequisite failed ({}): the zone changed since it was read",
        rcode_name(*rcode)
    )]
    PrerequisiteFailed {
        server: SocketAddr,
        zone: String,
        rcode: ResponseCode,
    },
    #[error(
        "UPDATE of {zone} at {server}: not allowed ({}): the primary's update policy does not grant it to {key}",
        rcode_name(*rcode)
    )]
    NotAllowed {
        server: SocketAddr,
        zone: String,
        rcode: ResponseCode,
        /// "key K" or "this address, unsigned".
        key: String,
    },
    #[error("UPDATE of {zone} at {server}: the primary failed (SERVFAIL)")]
    ServerFailure { server: SocketAddr, zone: String },
    /// FORMERR, NOTIMP, NOTZONE and the rest.
    #[error("UPDATE of {zone} at {server}: rejected with {}", rcode_name(*rcode))]
    Rejected {
        server: SocketAddr,
        zone: String,
        rcode: ResponseCode,
    },
    /// BADKEY, BADSIG or BADTIME from the primary: a key it does not know, another secret, or
    /// clocks apart.
    #[error(
        "UPDATE of {zone} at {server}: the primary refused key {key} with TSIG error {error} ({})",
        tsig_hint(error)
    )]
    TsigRefused {
        server: SocketAddr,
        zone: String,
        key: String,
        error: String,
    },
    #[error("UPDATE of {zone} at {server}: the reply does not verify with key {key}: {problem}")]
    Unverified {
        server: SocketAddr,
        zone: String,
        key: String,
        problem: ReplyProblem,
    },
    #[error("UPDATE of {zone} at {server}: the reply is malformed: {reason}")]
    Malformed {
        server: SocketAddr,
        zone: String,
        reason: String,
    },
    #[error("UPDATE of {zone} at {server}: cannot sign it: {source}")]
    Sign {
        server: SocketAddr,
        zone: String,
        source: TransferError,
    },
    /// The message handed in is not an UPDATE that can be sent.
    #[error("UPDATE to {server}: {reason}")]
    NotAnUpdate { server: SocketAddr, reason: String },
}

impl UpdateError {
    pub fn fault(&self) -> Fault {
        match self {
            UpdateError::Connect { .. }
            | UpdateError::Timeout { .. }
            | UpdateError::Connection { .. }
            | UpdateError::ServerFailure { .. }
            | UpdateError::Malformed { .. } => Fault::Transient,
            UpdateError::PrerequisiteFailed { .. } => Fault::Prerequisite,
            UpdateError::NotAllowed { .. }
            | UpdateError::Rejected { .. }
            | UpdateError::TsigRefused { .. }
            | UpdateError::Unverified { .. }
            | UpdateError::Sign { .. }
            | UpdateError::NotAnUpdate { .. } => Fault::NotAllowed,
        }
    }
}

/// Sends UPDATEs to one primary over one TCP connection, made when first needed and made
/// again when the primary closed it or an exchange broke.
#[derive(Debug)]
pub struct Updater {
    primary: Primary,
    link: Option<Link>,
    connections: u64,
}

impl Updater {
    pub fn new(primary: Primary) -> Updater {
        Updater {
            primary,
            link: None,
            connections: 0,
        }
    }

    pub fn primary(&self) -> &Primary {
        &self.primary
    }

    /// Connections made so far (one serves many messages).
    pub fn connections(&self) -> u64 {
        self.connections
    }

    /// Closes the connection, if any; the next message makes a new one.
    pub fn close(&mut self) {
        self.link = None;
    }

    /// Sends `message` (opcode UPDATE, its zone as the one question) with a new ID, signed,
    /// and waits for the answer: `Ok` for NOERROR.
    pub async fn update(&mut self, mut message: Message) -> Result<(), UpdateError> {
        let server = self.primary.server;
        if message.metadata.op_code != OpCode::Update {
            return Err(UpdateError::NotAnUpdate {
                server,
                reason: format!("its opcode is {:?}, not UPDATE", message.metadata.op_code),
            });
        }
        let zone = match message.queries.as_slice() {
            [zone] => zone.name.to_string(),
            other => {
                return Err(UpdateError::NotAnUpdate {
                    server,
                    reason: format!("its zone section has {} entries, not 1", other.len()),
                });
            }
        };
        let id = rand::random::<u16>();
        message.metadata.id = id;
        message.metadata.message_type = MessageType::Query;
        let bytes = message.to_vec().map_err(|e| UpdateError::NotAnUpdate {
            server,
            reason: format!("it does not encode: {e}"),
        })?;
        self.send(zone, id, bytes).await
    }

    /// Sends an UPDATE already in wire form (a `batch::Batch`'s message, whose zone is
    /// `zone`) with a new ID, signed, and waits for the answer: `Ok` for NOERROR.
    pub async fn update_wire(
        &mut self,
        zone: &hickory_proto::rr::Name,
        mut bytes: Vec<u8>,
    ) -> Result<(), UpdateError> {
        let id = rand::random::<u16>();
        match bytes.get_mut(..2) {
            Some(head) => head.copy_from_slice(&id.to_be_bytes()),
            None => {
                return Err(UpdateError::NotAnUpdate {
                    server: self.primary.server,
                    reason: "it is shorter than a header".into(),
                });
            }
        }
        self.send(zone.to_string(), id, bytes).await
    }

    /// Signs `bytes` (an UPDATE with ID `id` for `zone`), sends it and reads the answer.
    async fn send(&mut self, zone: String, id: u16, bytes: Vec<u8>) -> Result<(), UpdateError> {
        let server = self.primary.server;
        let (bytes, mut verifier) = match &self.primary.key {
            Some(key) => {
                let (signed, verifier) =
                    key.sign_request(bytes, unix_now())
                        .map_err(|source| UpdateError::Sign {
                            server,
                            zone: zone.clone(),
                            source,
                        })?;
                (signed, Some(verifier))
            }
            None => (bytes, None),
        };
        let reply = match self.exchange(&bytes).await {
            Ok(reply) => reply,
            Err(error) => {
                self.link = None;
                return Err(self.link_error(zone, error));
            }
        };
        let malformed = |reason: String| UpdateError::Malformed {
            server,
            zone: zone.clone(),
            reason,
        };
        let parsed = match Message::from_vec(&reply) {
            Ok(parsed) => parsed,
            Err(error) => {
                self.link = None;
                return Err(malformed(format!("it does not parse: {error}")));
            }
        };
        let header = &parsed.metadata;
        if header.id != id
            || header.message_type != MessageType::Response
            || header.op_code != OpCode::Update
        {
            // Out of step with the primary: nothing more is read on this connection.
            self.link = None;
            return Err(malformed(format!(
                "expected the answer to UPDATE {id}, got {:?} {} {:?}",
                header.message_type, header.id, header.op_code
            )));
        }
        let rcode = header.response_code;
        if let Some(verifier) = verifier.as_mut() {
            match verifier
                .verify(&reply, unix_now())
                .map_err(TsigFailure::from)
            {
                Ok(()) => {}
                // An error unsigned (a REFUSED from a primary that does not know the key's
                // purpose) is taken for what it says: it only keeps something from happening.
                Err(TsigFailure::Unsigned) if rcode != ResponseCode::NoError => {}
                Err(TsigFailure::Peer { key, error }) => {
                    return Err(UpdateError::TsigRefused {
                        server,
                        zone,
                        key,
                        error,
                    });
                }
                Err(TsigFailure::Unsigned) => {
                    return Err(UpdateError::Unverified {
                        server,
                        zone,
                        key: self.key_name(),
                        problem: ReplyProblem::Unsigned,
                    });
                }
                Err(TsigFailure::Problem { key, problem }) => {
                    return Err(UpdateError::Unverified {
                        server,
                        zone,
                        key,
                        problem,
                    });
                }
            }
        }
        match rcode {
            ResponseCode::NoError => Ok(()),
            ResponseCode::YXDomain
            | ResponseCode::YXRRSet
            | ResponseCode::NXRRSet
            | ResponseCode::NXDomain => Err(UpdateError::PrerequisiteFailed {
                server,
                zone,
                rcode,
            }),
            ResponseCode::Refused | ResponseCode::NotAuth => Err(UpdateError::NotAllowed {
                server,
                zone,
                rcode,
                key: match &self.primary.key {
                    Some(key) => format!("key {}", key.name()),
                    None => "this address, unsigned".into(),
                },
            }),
            ResponseCode::ServFail => Err(UpdateError::ServerFailure { server, zone }),
            rcode => Err(UpdateError::Rejected {
                server,
                zone,
                rcode,
            }),
        }
    }

    /// Sends `bytes` on the connection (made now if there is none, or it is no longer good)
    /// and returns the reply.
    async fn exchange(&mut self, bytes: &[u8]) -> Result<Vec<u8>, LinkError> {
        let link = match self.link.take() {
            Some(link) if link.is_usable() => link,
            _ => {
                let link = Link::connect(self.primary.server, self.primary.timeout).await?;
                self.connections += 1;
                link
            }
        };
        let link = self.link.insert(link);
        link.send(bytes).await?;
        match link.receive().await? {
            Some(reply) => Ok(reply),
            None => Err(LinkError::Broken(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the primary closed the connection without answering",
            ))),
        }
    }

    fn link_error(&self, zone: String, error: LinkError) -> UpdateError {
        let server = self.primary.server;
        match error {
            LinkError::Connect(source) => UpdateError::Connect {
                server,
                zone,
                source,
            },
            LinkError::Timeout { during } => UpdateError::Timeout {
                server,
                zone,
                waited: self.primary.timeout,
                during,
            },
            LinkError::Broken(source) => UpdateError::Connection {
                server,
                zone,
                source,
            },
        }
    }

    fn key_name(&self) -> String {
        self.primary
            .key
            .as_ref()
            .map(|k| k.name().to_ascii())
            .unwrap_or_default()
    }
}

/// What a TSIG error from the primary most likely means.
pub(crate) fn tsig_hint(error: &str) -> &'static str {
    match error {
        // Knot answers BADKEY also to a key it knows whose ACL does not allow the request.
        "BADKEY" => "the primary does not know the key, or its ACL does not allow it this",
        "BADSIG" => "the secret or algorithm differs from the primary's",
        "BADTIME" => "the clocks differ by more than the fudge",
        _ => "see the primary's log",
    }
}

/// A reply's TSIG that did not check, sorted by what it means.
#[derive(Debug)]
pub(crate) enum TsigFailure {
    /// No TSIG record at all.
    Unsigned,
    /// The primary answered a TSIG error (BADKEY, BADSIG, BADTIME).
    Peer { key: String, error: String },
    /// Signed, but not right.
    Problem { key: String, problem: ReplyProblem },
}

impl From<TransferError> for TsigFailure {
    fn from(error: TransferError) -> TsigFailure {
        match error {
            TransferError::Reply {
                reason: ReplyProblem::Unsigned,
                ..
            } => TsigFailure::Unsigned,
            TransferError::Reply {
                key,
                reason: ReplyProblem::PeerError(error),
            } => TsigFailure::Peer { key, error },
            TransferError::Reply { key, reason } => TsigFailure::Problem {
                key,
                problem: reason,
            },
            other => TsigFailure::Problem {
                key: String::new(),
                problem: ReplyProblem::Malformed(other.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests;
