//! What response rate limiting counts a reply under ([`ResponseKey`]), as BIND 9 classifies
//! responses: by kind (answer, referral, NODATA, NXDOMAIN, error) and the name each kind is
//! counted by.

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::RecordType,
};
use kubezone_guard::{RateLimiter, ResponseKey, ResponseKind};
use kubezone_index::NameKey;

use crate::Answer;

/// The key of a reply written from `answer` to a question of `qtype`. The name is
/// [`Answer::matched`]: the node or wildcard answered from, or the zone for NXDOMAIN.
pub(crate) fn answer_key(
    limiter: &RateLimiter,
    answer: &Answer<'_>,
    qtype: RecordType,
) -> ResponseKey {
    // As BIND, a response is counted by its first lookup: a CNAME is an answer, whatever its
    // target then gives.
    let kind = if !answer.answers.is_empty() {
        ResponseKind::Answer
    } else {
        match answer.rcode {
            ResponseCode::NXDomain => ResponseKind::NxDomain,
            ResponseCode::NoError if is_referral(answer) => ResponseKind::Referral,
            ResponseCode::NoError => ResponseKind::NoData,
            _ => ResponseKind::Error,
        }
    };
    limiter.key(kind, answer.matched, u16::from(qtype))
}

/// A referral: not authoritative, no answer, the child's NS records in authority.
fn is_referral(answer: &Answer<'_>) -> bool {
    !answer.authoritative
        && answer
            .authorities
            .first()
            .is_some_and(|part| part.rrset.record_type() == RecordType::NS)
}

/// The key of `reply`, an upstream's answer to a question for `qname`/`qtype` that fell
/// through. NXDOMAIN is counted by the owner of the SOA in authority (the upstream's zone),
/// else by the root; a referral by its NS owner.
pub(crate) fn upstream_key(
    limiter: &RateLimiter,
    reply: &Message,
    qname: &NameKey,
    qtype: RecordType,
) -> ResponseKey {
    let rcode = reply.metadata.response_code;
    let owner_of = |rtype: RecordType| {
        reply
            .authorities
            .iter()
            .find(|r| r.record_type() == rtype)
            .and_then(|r| NameKey::new(&r.name))
    };
    let qtype = u16::from(qtype);
    match rcode {
        ResponseCode::NoError | ResponseCode::NXDomain if !reply.answers.is_empty() => {
            limiter.key(ResponseKind::Answer, qname.as_bytes(), qtype)
        }
        ResponseCode::NXDomain => match owner_of(RecordType::SOA) {
            Some(zone) => limiter.key(ResponseKind::NxDomain, zone.as_bytes(), qtype),
            None => limiter.key(ResponseKind::NxDomain, &[0], qtype),
        },
        ResponseCode::NoError => match owner_of(RecordType::NS) {
            Some(cut) if !reply.metadata.authoritative => {
                limiter.key(ResponseKind::Referral, cut.as_bytes(), qtype)
            }
            _ => limiter.key(ResponseKind::NoData, qname.as_bytes(), qtype),
        },
        _ => ResponseKey::ERROR,
    }
}
