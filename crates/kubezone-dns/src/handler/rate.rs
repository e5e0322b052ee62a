//! The response rate limit on UDP replies, also checked before a query goes upstream.

use std::{net::SocketAddr, sync::PoisonError, time::Instant};

use hickory_proto::op::ResponseCode;
use kubezone_guard::{RateLimiter, RateVerdict, ResponseKey, ResponseKind};

use super::{Answerer, Handled, MAX_UDP_PAYLOAD, Transport, respond::opt};
use crate::{
    message::{Flags, Reply},
    query::{Query, parse},
};

impl Answerer {
    /// Applies the response rate limit to a UDP reply in `out` about to go to `client`, counted
    /// under `response` (from [`Answerer::respond_udp`] or [`Answerer::forward_udp`]): send
    /// it, drop it, or slip an empty truncated reply in its place so a real client retries
    /// over TCP.
    pub fn rate_limit(
        &self,
        packet: &[u8],
        client: SocketAddr,
        response: ResponseKey,
        out: &mut Vec<u8>,
    ) -> Handled {
        let Some(guard) = self.guard.as_deref() else {
            return Handled::Reply;
        };
        if guard.rate_limit.is_none() {
            return Handled::Reply;
        }
        match guard.check_rate(client.ip(), response, Instant::now()) {
            RateVerdict::Send => Handled::Reply,
            RateVerdict::Drop => Handled::Drop,
            RateVerdict::Slip => match parse(packet) {
                Ok(query) => {
                    let opt = opt(&query, MAX_UDP_PAYLOAD);
                    let rcode = rcode_of(out);
                    let mut reply = Reply::new(out, query.header, query.question, 0, opt);
                    reply.mark_truncated();
                    reply.finish(Flags {
                        rcode,
                        authoritative: false,
                    });
                    Handled::Reply
                }
                Err(_) => Handled::Drop,
            },
        }
    }

    /// The rate limiter, for a query that came over UDP (TCP is never limited).
    pub(super) fn limiter(&self, transport: Transport) -> Option<&RateLimiter> {
        match transport {
            Transport::Udp => self.guard.as_deref()?.rate_limit.as_ref(),
            Transport::Tcp => None,
        }
    }

    /// The key of a response `query`'s client is already over its limit for, among those an
    /// upstream's reply could be counted under: an answer or NODATA for the name, the zone's
    /// last upstream NXDOMAIN or referral, an error.
    pub(super) fn over_limit(
        &self,
        limiter: &RateLimiter,
        query: &Query<'_>,
        zone: Option<usize>,
        src: SocketAddr,
        now: Instant,
    ) -> Option<ResponseKey> {
        let name = query.key.as_bytes();
        let qtype = u16::from(query.qtype);
        let remembered = zone
            .and_then(|z| {
                let keys = self
                    .upstream_keys
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                keys.get(&z).copied()
            })
            .unwrap_or_default();
        [
            Some(limiter.key(ResponseKind::Answer, name, qtype)),
            Some(limiter.key(ResponseKind::NoData, name, qtype)),
            Some(ResponseKey::ERROR),
        ]
        .into_iter()
        .chain(remembered)
        .flatten()
        .find(|key| limiter.in_debt(src.ip(), *key, now))
    }

    /// Remembers the key of an upstream's NXDOMAIN or referral in `zone`, for
    /// [`Answerer::over_limit`].
    pub(super) fn remember_upstream_key(&self, zone: Option<usize>, key: ResponseKey) {
        let slot = match key.kind() {
            ResponseKind::NxDomain => 0,
            ResponseKind::Referral => 1,
            _ => return,
        };
        let Some(zone) = zone else {
            return;
        };
        let mut keys = self
            .upstream_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let remembered = keys.entry(zone).or_default();
        if let Some(at) = remembered.get_mut(slot) {
            *at = Some(key);
        }
    }
}

/// The rcode of a reply already written (the low four bits of the header's flags).
pub(super) fn rcode_of(reply: &[u8]) -> ResponseCode {
    ResponseCode::from(0, reply.get(3).map_or(0, |flags| flags & 0x0F))
}
