//! NOTIFY (RFC 1996): telling each secondary that a zone has a new serial, so it asks for the
//! changes at once instead of at its next refresh.
//!
//! One task per (zone, target). It sends the newest serial only: a burst of versions while a
//! NOTIFY is unanswered costs one more NOTIFY, not one per version. Unanswered NOTIFYs are
//! sent again with a growing wait, until acknowledged or the attempts run out; the next
//! version starts over. Nothing here blocks the writer or the answer path.

use std::{net::SocketAddr, time::Duration};

use hickory_proto::{
    op::{Message, MessageType, OpCode, Query, ResponseCode},
    rr::{Name, RecordType},
};
use tokio::{net::UdpSocket, sync::watch};
use tracing::{debug, info, warn};

use crate::{Key, ReplyVerifier, unix_now};

/// How long to wait for the first acknowledgement; each retry waits twice as long.
const FIRST_WAIT: Duration = Duration::from_millis(500);
/// Attempts per version before giving up on a target until the next version.
const ATTEMPTS: u32 = 6;

/// Sends the newest serial of `zone` to `target` whenever `serials` changes.
pub(crate) async fn notifier(
    zone: Name,
    target: SocketAddr,
    mut serials: watch::Receiver<u32>,
    key: Option<Key>,
    observer: Option<std::sync::Arc<dyn crate::Observer>>,
) {
    let bind: SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = match UdpSocket::bind(bind).await {
        Ok(socket) => socket,
        Err(error) => {
            warn!(%zone, %target, %error, "cannot send NOTIFY");
            return;
        }
    };
    let zone_text = zone.to_string();
    loop {
        // The first version, or the next one; a version that came during the retries below
        // is already marked changed, so this returns at once.
        if serials.changed().await.is_err() {
            return;
        }
        let serial = *serials.borrow_and_update();
        let mut wait = FIRST_WAIT;
        let mut acknowledged = false;
        for attempt in 1..=ATTEMPTS {
            let id: u16 = rand_id();
            let (packet, mut verifier) = match notify_message(&zone, id, key.as_ref()) {
                Ok(signed) => signed,
                Err(error) => {
                    warn!(%zone, %target, %error, "cannot build NOTIFY");
                    return;
                }
            };
            if let Err(error) = socket.send_to(&packet, target).await {
                debug!(%zone, %target, %error, attempt, "NOTIFY not sent");
            }
            let reply = acknowledgement(&socket, target, id, verifier.as_mut());
            match tokio::time::timeout(wait, reply).await {
                Ok(Ok(())) => {
                    acknowledged = true;
                    break;
                }
                Ok(Err(rcode)) => {
                    warn!(%zone, %target, %rcode, serial, "NOTIFY refused by the secondary");
                    break;
                }
                Err(_) => {}
            }
            if serials.has_changed().unwrap_or(false) {
                break;
            }
            wait = wait.saturating_mul(2);
        }
        if let Some(observer) = &observer {
            observer.notified(&zone_text, acknowledged);
        }
        if acknowledged {
            debug!(%zone, %target, serial, "NOTIFY acknowledged");
        } else if !serials.has_changed().unwrap_or(false) {
            info!(%zone, %target, serial, "NOTIFY not acknowledged; the secondary will find the change at its next refresh");
        }
    }
}

/// The NOTIFY for `zone`: opcode NOTIFY, AA set, the zone's SOA as the question; signed with
/// `key` when given, with what checks the reply.
fn notify_message(
    zone: &Name,
    id: u16,
    key: Option<&Key>,
) -> Result<(Vec<u8>, Option<ReplyVerifier>), String> {
    let mut message = Message::new(id, MessageType::Query, OpCode::Notify);
    message.metadata.authoritative = true;
    message.add_query(Query::query(zone.clone(), RecordType::SOA));
    let bytes = message.to_vec().map_err(|e| e.to_string())?;
    match key {
        Some(key) => key
            .sign_request(bytes, unix_now())
            .map(|(signed, verifier)| (signed, Some(verifier)))
            .map_err(|e| e.to_string()),
        None => Ok((bytes, None)),
    }
}

/// Waits for the reply to NOTIFY `id` from `target`: `Ok` for NOERROR, the rcode otherwise.
async fn acknowledgement(
    socket: &UdpSocket,
    target: SocketAddr,
    id: u16,
    mut verifier: Option<&mut ReplyVerifier>,
) -> Result<(), ResponseCode> {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((len, from)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        if from != target {
            continue;
        }
        let Some(bytes) = buf.get(..len) else {
            continue;
        };
        let Ok(reply) = Message::from_vec(bytes) else {
            continue;
        };
        if reply.metadata.id != id
            || reply.metadata.message_type != MessageType::Response
            || reply.metadata.op_code != OpCode::Notify
        {
            continue;
        }
        if let Some(verifier) = verifier.as_deref_mut()
            && let Err(error) = verifier.verify(bytes, unix_now())
        {
            debug!(%target, %error, "NOTIFY reply not signed as it should be");
            return Err(ResponseCode::NotAuth);
        }
        return match reply.metadata.response_code {
            ResponseCode::NoError => Ok(()),
            rcode => Err(rcode),
        };
    }
}

/// A message ID that another host cannot guess from the previous one.
fn rand_id() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (RandomState::new().hash_one(nanos) & 0xFFFF) as u16
}
