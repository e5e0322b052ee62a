//! Wherever hickory-proto has the other side (its client signer and reply verifier, its
//! server-side response signer), it makes or checks the signatures here, so that kubezone's two
//! halves are not merely consistent with each other.

use std::net::Ipv4Addr;

use hickory_proto::{
    op::{Message, MessageType, OpCode, Query, ResponseCode},
    rr::{
        Name, RData, Record, RecordType, TSigResponseContext, TSigVerifier, TSigner,
        rdata::{A, SOA, tsig::TsigError},
    },
    serialize::binary::BinEncodable,
};

use super::*;
use crate::Secret;

const NOW: u64 = 1_700_000_000;
const SECRET: &str = "8B3v+1oI6S6rC3W1l9xkqAqWQ6Iy4w3q0Rb0iJ5i7Ys=";

fn key(name: &str, algorithm: Algorithm) -> Key {
    Key::new(
        name,
        algorithm,
        Secret::from_base64(SECRET).expect("base64"),
    )
    .expect("key")
}

fn ring() -> KeyRing {
    KeyRing::new([
        key("xfr-key", Algorithm::HmacSha256),
        key("wide-key", Algorithm::HmacSha512),
    ])
    .expect("ring")
}

/// hickory's client signer for the same key.
fn client(name: &str, algorithm: Algorithm) -> TSigner {
    TSigner::new(
        data_encoding::BASE64
            .decode(SECRET.as_bytes())
            .expect("base64"),
        algorithm.to_hickory(),
        Name::from_ascii(name).expect("name"),
        300,
    )
    .expect("signer")
}

fn axfr_request() -> Message {
    let mut message = Message::new(0x1234, MessageType::Query, OpCode::Query);
    message.add_query(Query::query(
        Name::from_ascii("example.com.").expect("name"),
        RecordType::AXFR,
    ));
    message
}

/// The request signed by hickory's client at `time`, and hickory's verifier of the replies.
fn signed_by_hickory(signer: &TSigner, time: u64) -> (Vec<u8>, TSigVerifier) {
    let mut request = axfr_request();
    let verifier = request
        .finalize(signer, time)
        .expect("sign")
        .expect("a verifier");
    (request.to_vec().expect("encode"), verifier)
}

/// A response message to the AXFR request with `n` A records, unsigned.
fn response(first: u8, n: u8) -> Vec<u8> {
    let mut message = Message::response(0x1234, OpCode::Query);
    message.metadata.authoritative = true;
    message.add_query(Query::query(
        Name::from_ascii("example.com.").expect("name"),
        RecordType::AXFR,
    ));
    for i in first..first + n {
        message.add_answer(Record::from_rdata(
            Name::from_ascii(format!("host{i}.example.com.")).expect("name"),
            60,
            RData::A(A(Ipv4Addr::new(192, 0, 2, i))),
        ));
    }
    message.to_vec().expect("encode")
}

fn verified_request() -> (Verified, TSigVerifier) {
    let (request, verifier) = signed_by_hickory(&client("xfr-key", Algorithm::HmacSha256), NOW);
    (
        ring().verify_request(&request, NOW).expect("verifies"),
        verifier,
    )
}

#[test]
fn a_request_signed_by_hickorys_client_verifies_with_any_algorithm() {
    for (name, algorithm) in [
        ("xfr-key", Algorithm::HmacSha256),
        ("wide-key", Algorithm::HmacSha512),
    ] {
        let (request, _) = signed_by_hickory(&client(name, algorithm), NOW);
        let verified = ring()
            .verify_request(&request, NOW + 299)
            .expect("verifies");
        assert_eq!(verified.key().name().to_ascii(), format!("{name}."));
        assert_eq!(verified.key().algorithm(), algorithm);
        assert_eq!(verified.time_signed(), NOW);
        let mac = Message::from_vec(&request)
            .expect("parse")
            .signature()
            .expect("signed")
            .data
            .mac
            .clone();
        assert_eq!(verified.request_mac(), mac);
    }
    let sha384 = KeyRing::new([key("mid-key", Algorithm::HmacSha384)]).expect("ring");
    let (request, _) = signed_by_hickory(&client("MID-KEY", Algorithm::HmacSha384), NOW);
    assert!(sha384.verify_request(&request, NOW).is_ok());
}

#[test]
fn an_unsigned_request_is_told_apart_from_a_broken_one() {
    let request = axfr_request().to_vec().expect("encode");
    assert!(matches!(
        ring().verify_request(&request, NOW),
        Err(Refusal::Unsigned)
    ));
    for broken in [&[][..], &[0x12, 0x34, 0, 0], &request[..request.len() - 1]] {
        assert!(
            matches!(
                ring().verify_request(broken, NOW),
                Err(Refusal::Malformed(_))
            ),
            "{broken:?}"
        );
    }
}

#[test]
fn an_unknown_key_or_algorithm_is_badkey() {
    let (request, _) = signed_by_hickory(&client("other-key", Algorithm::HmacSha256), NOW);
    let refusal = ring()
        .verify_request(&request, NOW)
        .expect_err("unknown key");
    let Refusal::BadKey(rejected) = &refusal else {
        panic!("{refusal:?}");
    };
    assert_eq!(rejected.key_name().to_ascii(), "other-key.");
    assert_eq!(
        refusal.to_string(),
        "the request is signed with key other-key. (hmac-sha256), which is not configured"
    );
    // The right name with another algorithm is another key.
    let (request, _) = signed_by_hickory(&client("xfr-key", Algorithm::HmacSha512), NOW);
    assert!(matches!(
        ring().verify_request(&request, NOW),
        Err(Refusal::BadKey(_))
    ));
}

#[test]
fn a_changed_message_or_another_secret_is_badsig() {
    let (mut request, _) = signed_by_hickory(&client("xfr-key", Algorithm::HmacSha256), NOW);
    // The question's type: AXFR (252) becomes IXFR (251).
    let qtype = 12 + 13;
    assert_eq!(request[qtype + 1], 252);
    request[qtype + 1] = 251;
    assert!(matches!(
        ring().verify_request(&request, NOW),
        Err(Refusal::BadSig(_))
    ));
    let other = TSigner::new(
        b"another secret".to_vec(),
        TsigAlgorithm::HmacSha256,
        Name::from_ascii("xfr-key.").expect("name"),
        300,
    )
    .expect("signer");
    let (request, _) = signed_by_hickory(&other, NOW);
    let refusal = ring().verify_request(&request, NOW).expect_err("bad MAC");
    assert!(matches!(refusal, Refusal::BadSig(_)));
    assert_eq!(
        refusal.to_string(),
        "the request's MAC does not verify with key xfr-key."
    );
}

#[test]
fn a_time_outside_the_fudge_is_badtime_either_way() {
    let (request, _) = signed_by_hickory(&client("xfr-key", Algorithm::HmacSha256), NOW);
    for now in [NOW + 301, NOW - 301, 0, u64::MAX] {
        let refusal = ring().verify_request(&request, now).expect_err("skewed");
        assert!(matches!(refusal, Refusal::BadTime(_)), "{now}: {refusal:?}");
    }
    assert!(ring().verify_request(&request, NOW - 300).is_ok());
    let refusal = ring()
        .verify_request(&request, NOW + 1000)
        .expect_err("late");
    assert_eq!(
        refusal.to_string(),
        format!(
            "the request (key xfr-key.) was signed at {NOW}, more than its fudge of 300 s from \
             the server's time {}",
            NOW + 1000
        )
    );
}

/// The request signed by `key` with its MAC cut to `len` bytes (as the client would send it).
fn truncated(len: usize, tamper: bool) -> Vec<u8> {
    let signer = client("xfr-key", Algorithm::HmacSha256);
    let mut message = axfr_request();
    if tamper {
        message.metadata.recursion_desired = true;
    }
    let stub = TSIG::new(
        TsigAlgorithm::HmacSha256,
        NOW,
        300,
        Vec::new(),
        message.metadata.id,
        None,
        Vec::new(),
    );
    let tbs = message_tbs(&axfr_request(), &stub, signer.signer_name()).expect("tbs");
    let mut mac = signer.sign(&tbs).expect("mac");
    mac.truncate(len);
    message.set_signature(Box::new(make_tsig_record(
        signer.signer_name().clone(),
        stub.set_mac(mac),
    )));
    message.to_vec().expect("encode")
}

#[test]
fn a_truncated_mac_is_checked_then_badtrunc_and_a_short_one_formerr() {
    let refusal = ring()
        .verify_request(&truncated(16, false), NOW)
        .expect_err("truncated");
    assert!(matches!(refusal, Refusal::BadTrunc(_)), "{refusal:?}");
    assert!(matches!(
        ring().verify_request(&truncated(16, true), NOW),
        Err(Refusal::BadSig(_))
    ));
    // Time is checked before truncation (RFC 8945 §5.2).
    assert!(matches!(
        ring().verify_request(&truncated(20, false), NOW + 900),
        Err(Refusal::BadTime(_))
    ));
    for len in [0, 9, 15] {
        assert!(
            matches!(
                ring().verify_request(&truncated(len, false), NOW),
                Err(Refusal::Malformed(_))
            ),
            "{len}"
        );
    }
}

#[test]
fn a_tsig_that_is_not_last_is_formerr_without_asking_hickory() {
    // hickory's signed_bitmessage_to_buf asserts against this in debug builds.
    let (request, _) = signed_by_hickory(&client("xfr-key", Algorithm::HmacSha256), NOW);
    let tsig_at = request.len()
        - Message::from_vec(&request)
            .expect("parse")
            .signature()
            .expect("signed")
            .to_bytes()
            .expect("encode")
            .len();
    let mut twice = request.clone();
    twice.extend_from_slice(&request[tsig_at..]);
    twice[11] += 1;
    let refusal = ring().verify_request(&twice, NOW).expect_err("twice");
    let Refusal::Malformed(reason) = &refusal else {
        panic!("{refusal:?}");
    };
    assert_eq!(
        reason,
        "record 1 of 2 is a TSIG record, which must be the last"
    );
    // Answer and authority counts that overflow 16 bits together.
    let mut counts = request.clone();
    counts[6..10].copy_from_slice(&[0xff, 0xff, 0x00, 0x01]);
    assert!(matches!(
        ring().verify_request(&counts, NOW),
        Err(Refusal::Malformed(_))
    ));
}

#[test]
fn no_byte_changed_or_cut_makes_verification_panic() {
    let (request, _) = signed_by_hickory(&client("xfr-key", Algorithm::HmacSha256), NOW);
    for len in 0..request.len() {
        let _ = ring().verify_request(&request[..len], NOW);
    }
    for at in 0..request.len() {
        for value in [0x00, 0x01, 0x3f, 0x80, 0xc0, 0xff] {
            let mut changed = request.clone();
            changed[at] = value;
            if let Err(refusal) = ring().verify_request(&changed, NOW) {
                let _ = refusal.reply(&changed);
            }
        }
    }
}

#[test]
fn badkey_and_badsig_replies_are_notauth_with_an_unsigned_tsig() {
    let (request, _) = signed_by_hickory(&client("other-key", Algorithm::HmacSha256), NOW);
    let refusal = ring()
        .verify_request(&request, NOW)
        .expect_err("unknown key");
    assert_eq!(refusal.rcode(), ResponseCode::NotAuth);
    assert_eq!(refusal.tsig_error(), Some(TsigError::BadKey));
    let reply = Message::from_vec(&refusal.reply(&request).expect("reply")).expect("parse");
    assert_eq!(reply.metadata.id, 0x1234);
    assert_eq!(reply.metadata.message_type, MessageType::Response);
    assert_eq!(reply.metadata.response_code, ResponseCode::NotAuth);
    assert_eq!(reply.queries, axfr_request().queries);
    assert!(reply.answers.is_empty());
    let tsig = reply.signature().expect("a TSIG record");
    assert_eq!(tsig.name.to_ascii(), "other-key.");
    assert_eq!(tsig.data.error, Some(TsigError::BadKey));
    assert!(tsig.data.mac.is_empty());
    assert_eq!(tsig.data.oid, 0x1234);

    let (mut request, _) = signed_by_hickory(&client("xfr-key", Algorithm::HmacSha256), NOW);
    request[2] ^= 0x01;
    let refusal = ring().verify_request(&request, NOW).expect_err("changed");
    let reply = Message::from_vec(&refusal.reply(&request).expect("reply")).expect("parse");
    assert_eq!(reply.metadata.response_code, ResponseCode::NotAuth);
    let tsig = reply.signature().expect("a TSIG record");
    assert_eq!(tsig.data.error, Some(TsigError::BadSig));
    assert!(tsig.data.mac.is_empty());
}

#[test]
fn a_badtime_reply_is_signed_and_carries_the_servers_time() {
    let (request, mut client_side) =
        signed_by_hickory(&client("xfr-key", Algorithm::HmacSha256), NOW);
    let server_time = NOW + 3600;
    let refusal = ring()
        .verify_request(&request, server_time)
        .expect_err("skewed");
    let reply = refusal.reply(&request).expect("reply");
    // hickory's client checks the MAC and that the reply's time is within fudge of its own.
    let checked = client_side
        .verify(&reply)
        .expect("the client accepts the signature");
    assert_eq!(checked.metadata.response_code, ResponseCode::NotAuth);
    let tsig = checked.signature().expect("a TSIG record");
    assert_eq!(tsig.data.error, Some(TsigError::BadTime));
    assert_eq!(tsig.data.time, NOW);
    assert_eq!(tsig.data.other, server_time.to_be_bytes()[2..].to_vec());
}

#[test]
fn unsigned_and_malformed_requests_get_refused_and_formerr() {
    let request = axfr_request().to_vec().expect("encode");
    let reply =
        Message::from_vec(&Refusal::Unsigned.reply(&request).expect("reply")).expect("parse");
    assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
    assert_eq!(reply.queries, axfr_request().queries);
    assert!(reply.signature().is_none());
    let garbage = [0xab, 0xcd, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xff];
    let refusal = ring().verify_request(&garbage, NOW).expect_err("garbage");
    let reply = Message::from_vec(&refusal.reply(&garbage).expect("reply")).expect("parse");
    assert_eq!(reply.metadata.id, 0xabcd);
    assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
    assert!(reply.queries.is_empty());
    assert!(refusal.reply(&garbage[..5]).is_err());
}

#[test]
fn a_three_message_stream_verifies_message_by_message_with_hickory() {
    let (verified, mut client_side) = verified_request();
    let mut signer = verified.response_signer();
    let messages: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            let unsigned = response(i * 10, 10);
            let signed = signer
                .sign(unsigned.clone(), NOW + u64::from(i))
                .expect("sign");
            assert_eq!(signed.len(), unsigned.len() + signer.tsig_len());
            assert_eq!(signed[..10], unsigned[..10]);
            assert_eq!(signed[10..12], [0, 1]);
            signed
        })
        .collect();
    for (i, message) in messages.iter().enumerate() {
        let checked = client_side
            .verify(message)
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
        assert_eq!(checked.answers.len(), 10);
        assert_eq!(
            checked.signature().expect("signed").data.time,
            NOW + i as u64
        );
    }
}

#[test]
fn a_stream_out_of_order_or_signed_like_a_first_message_does_not_verify() {
    let (verified, mut client_side) = verified_request();
    let mut signer = verified.response_signer();
    let first = signer.sign(response(0, 2), NOW).expect("sign");
    signer.sign(response(2, 2), NOW).expect("sign"); // never delivered
    let third = signer.sign(response(4, 2), NOW).expect("sign");
    client_side.verify(&first).expect("first");
    assert!(
        client_side.verify(&third).is_err(),
        "the second was skipped"
    );

    // A later message signed over all TSIG variables, as hickory's TSigResponseContext would.
    let (verified, mut client_side) = verified_request();
    let mut signer = verified.response_signer();
    let first = signer.sign(response(0, 2), NOW).expect("sign");
    client_side.verify(&first).expect("first");
    let first_mac = Message::from_vec(&first)
        .expect("parse")
        .signature()
        .expect("signed")
        .data
        .mac
        .clone();
    let context = TSigResponseContext::new(
        0x1234,
        NOW,
        client("xfr-key", Algorithm::HmacSha256),
        first_mac,
        None,
    );
    let unsigned = response(2, 2);
    let record = context.sign(&unsigned).expect("sign");
    let mut message = Message::from_vec(&unsigned).expect("parse");
    message.set_signature(record);
    assert!(
        client_side
            .verify(&message.to_vec().expect("encode"))
            .is_err()
    );
}

#[test]
fn the_signer_refuses_what_it_cannot_sign() {
    let (verified, _) = verified_request();
    let mut signer = verified.response_signer();
    let error = signer.sign(vec![0; 5], NOW).expect_err("no header");
    assert_eq!(
        error.to_string(),
        "cannot sign with key xfr-key.: the message is shorter than a DNS header"
    );
    let mut full = response(0, 1);
    full[10..12].copy_from_slice(&[0xff, 0xff]);
    assert!(signer.sign(full, NOW).is_err());
    let large = vec![0; 65535 - signer.tsig_len() + 1];
    assert!(signer.sign(large, NOW).is_err());
    let fits = vec![0; 65535 - signer.tsig_len()];
    assert_eq!(signer.sign(fits, NOW).expect("fits").len(), 65535);
}

fn notify() -> Vec<u8> {
    let mut message = Message::new(0x4321, MessageType::Query, OpCode::Notify);
    message.metadata.authoritative = true;
    message.add_query(Query::query(
        Name::from_ascii("example.com.").expect("name"),
        RecordType::SOA,
    ));
    message.to_vec().expect("encode")
}

/// A NOTIFY response as a secondary sends it, signed by hickory's server-side context.
fn notify_response(request_mac: &[u8], time: u64, signer: TSigner) -> Vec<u8> {
    let mut message = Message::response(0x4321, OpCode::Notify);
    message.metadata.authoritative = true;
    message.add_query(Query::query(
        Name::from_ascii("example.com.").expect("name"),
        RecordType::SOA,
    ));
    let unsigned = message.to_vec().expect("encode");
    let record = TSigResponseContext::new(0x4321, time, signer, request_mac.to_vec(), None)
        .sign(&unsigned)
        .expect("sign");
    message.set_signature(record);
    message.to_vec().expect("encode")
}

#[test]
fn notify_is_signed_as_a_client_and_its_reply_checked() {
    let key = key("xfr-key", Algorithm::HmacSha256);
    let (signed, mut replies) = key.sign_request(notify(), NOW).expect("sign");
    // hickory's server side accepts it.
    let (_, time, _) = client("xfr-key", Algorithm::HmacSha256)
        .verify_message_byte(&signed, None, true)
        .expect("hickory verifies");
    assert_eq!(time, NOW);
    let parsed = Message::from_vec(&signed).expect("parse");
    assert_eq!(parsed.metadata.op_code, OpCode::Notify);
    assert_eq!(parsed.signature().expect("signed").data.oid, 0x4321);
    // So does kubezone's.
    let verified = ring().verify_request(&signed, NOW).expect("verifies");

    let reply = notify_response(
        verified.request_mac(),
        NOW + 2,
        client("xfr-key", Algorithm::HmacSha256),
    );
    replies.verify(&reply, NOW + 3).expect("the reply verifies");
}

#[test]
fn notify_replies_that_are_unsigned_forged_skewed_or_errors_are_refused() {
    let key = key("xfr-key", Algorithm::HmacSha256);
    let (signed, replies) = key.sign_request(notify(), NOW).expect("sign");
    let mac = Message::from_vec(&signed)
        .expect("parse")
        .signature()
        .expect("signed")
        .data
        .mac
        .clone();
    let problem = |reply: &[u8], now: u64| match replies.clone().verify(reply, now) {
        Err(TransferError::Reply { key, reason }) => {
            assert_eq!(key, "xfr-key.");
            reason
        }
        other => panic!("{other:?}"),
    };

    let mut unsigned = Message::response(0x4321, OpCode::Notify);
    unsigned.add_query(Query::query(
        Name::from_ascii("example.com.").expect("name"),
        RecordType::SOA,
    ));
    let unsigned = unsigned.to_vec().expect("encode");
    assert_eq!(problem(&unsigned, NOW), ReplyProblem::Unsigned);

    let good = notify_response(&mac, NOW, client("xfr-key", Algorithm::HmacSha256));
    assert_eq!(
        problem(&good, NOW + 301),
        ReplyProblem::BadTime {
            signed: NOW,
            fudge: 300,
            now: NOW + 301
        }
    );
    let mut changed = good.clone();
    changed[3] |= 0x80; // RA
    assert_eq!(problem(&changed, NOW), ReplyProblem::BadSignature);
    let forged = notify_response(&[0; 32], NOW, client("xfr-key", Algorithm::HmacSha256));
    assert_eq!(problem(&forged, NOW), ReplyProblem::BadSignature);
    let other = notify_response(&mac, NOW, client("wide-key", Algorithm::HmacSha512));
    assert_eq!(
        problem(&other, NOW),
        ReplyProblem::OtherKey {
            found: "wide-key. (hmac-sha512)".into()
        }
    );

    // A secondary that does not know the key answers BADKEY, unsigned.
    let refusal = KeyRing::default()
        .verify_request(&signed, NOW)
        .expect_err("unknown");
    let badkey = refusal.reply(&signed).expect("reply");
    assert_eq!(
        problem(&badkey, NOW),
        ReplyProblem::PeerError("BADKEY".into())
    );
    // One whose clock is off answers BADTIME, signed.
    let refusal = ring()
        .verify_request(&signed, NOW + 7200)
        .expect_err("skewed");
    let badtime = refusal.reply(&signed).expect("reply");
    assert_eq!(
        problem(&badtime, NOW),
        ReplyProblem::PeerError("BADTIME".into())
    );
    assert_eq!(
        TransferError::Reply {
            key: "xfr-key.".into(),
            reason: ReplyProblem::PeerError("BADTIME".into())
        }
        .to_string(),
        "reply not accepted for key xfr-key.: the peer answered TSIG error BADTIME"
    );
}

#[test]
fn a_signed_reply_stream_to_a_signed_request_verifies_both_ways() {
    // kubezone as the client of kubezone: request, then three signed response messages.
    let key = key("wide-key", Algorithm::HmacSha512);
    let mut request = axfr_request().to_vec().expect("encode");
    request[0..2].copy_from_slice(&[0x12, 0x34]);
    let (signed, mut replies) = key.sign_request(request, NOW).expect("sign");
    let verified = ring().verify_request(&signed, NOW).expect("verifies");
    let mut signer = verified.response_signer();
    for i in 0..3 {
        let message = signer.sign(response(i, 1), NOW + 1).expect("sign");
        replies
            .verify(&message, NOW + 2)
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
    }
    let soa = Record::from_rdata(
        Name::from_ascii("example.com.").expect("name"),
        60,
        RData::SOA(SOA::new(
            Name::from_ascii("ns.example.com.").expect("name"),
            Name::from_ascii("hostmaster.example.com.").expect("name"),
            1,
            1,
            1,
            1,
            1,
        )),
    );
    let mut last = Message::from_vec(&response(9, 0)).expect("parse");
    last.add_answer(soa);
    let message = signer
        .sign(last.to_vec().expect("encode"), NOW + 1)
        .expect("sign");
    replies.verify(&message, NOW + 2).expect("the last message");
}

/// A later message of a stream signed after `unsigned` messages (RFC 8945 §5.3.1): its MAC
/// covers the previous MAC, the unsigned messages and itself, then the timers.
fn sign_after_unsigned(
    key: &Key,
    previous_mac: &[u8],
    unsigned: &[Vec<u8>],
    message: Vec<u8>,
    now: u64,
) -> (Vec<u8>, Vec<u8>) {
    let covered: Vec<u8> = unsigned.iter().flatten().chain(&message).copied().collect();
    let mac = key
        .signer()
        .sign(&timers_tbs(previous_mac, &covered, now).expect("tbs"))
        .expect("sign");
    let id = message_id(&message).expect("id");
    let signed =
        append_tsig(message, key.name(), stub(key, now, id).set_mac(mac.clone())).expect("append");
    (signed, mac)
}

fn mac_of(message: &[u8]) -> Vec<u8> {
    Message::from_vec(message)
        .expect("parse")
        .signature()
        .expect("signed")
        .data
        .mac
        .clone()
}

/// A stream of a signed first message, `gap` unsigned ones, then a signed one, as a server that
/// signs every 100th message sends it; and what the client sees of it.
fn stream_with_gap(gap: u8) -> (ReplyVerifier, Vec<u8>, Vec<Vec<u8>>, Vec<u8>) {
    let key = key("xfr-key", Algorithm::HmacSha256);
    let mut request = axfr_request().to_vec().expect("encode");
    request[0..2].copy_from_slice(&[0x12, 0x34]);
    let (signed, replies) = key.sign_request(request, NOW).expect("sign");
    let verified = ring().verify_request(&signed, NOW).expect("verifies");
    let first = verified
        .response_signer()
        .sign(response(0, 1), NOW)
        .expect("sign");
    let unsigned: Vec<Vec<u8>> = (0..gap).map(|i| response(i + 1, 1)).collect();
    let (last, _) = sign_after_unsigned(
        &key,
        &mac_of(&first),
        &unsigned,
        response(gap.wrapping_add(1), 1),
        NOW,
    );
    (replies, first, unsigned, last)
}

#[test]
fn a_stream_with_unsigned_messages_between_signed_ones_verifies() {
    let (mut replies, first, unsigned, last) = stream_with_gap(3);
    assert!(replies.verify_next(&first, NOW).expect("first"));
    assert!(replies.finish().is_ok(), "a signed message ends it");
    for message in &unsigned {
        assert!(!replies.verify_next(message, NOW).expect("unsigned"));
        assert!(replies.finish().is_err(), "it cannot end unsigned");
    }
    assert!(replies.verify_next(&last, NOW).expect("last"));
    replies.finish().expect("ends signed");

    // `verify` wants every message signed.
    let (mut replies, first, unsigned, _) = stream_with_gap(1);
    replies.verify(&first, NOW).expect("first");
    let error = replies.verify(&unsigned[0], NOW).expect_err("unsigned");
    assert_eq!(
        error.to_string(),
        "reply not accepted for key xfr-key.: it is not signed"
    );
}

#[test]
fn a_changed_or_missing_unsigned_message_fails_the_next_mac() {
    let (mut replies, first, mut unsigned, last) = stream_with_gap(2);
    replies.verify_next(&first, NOW).expect("first");
    let end = unsigned[1].len() - 1;
    unsigned[1][end] ^= 1;
    for message in &unsigned {
        replies.verify_next(message, NOW).expect("unsigned");
    }
    let error = replies.verify_next(&last, NOW).expect_err("changed");
    assert_eq!(
        error.to_string(),
        "reply not accepted for key xfr-key.: its MAC does not verify"
    );

    let (mut replies, first, unsigned, last) = stream_with_gap(2);
    replies.verify_next(&first, NOW).expect("first");
    replies.verify_next(&unsigned[1], NOW).expect("unsigned");
    assert!(replies.verify_next(&last, NOW).is_err(), "one is missing");
}

#[test]
fn a_stream_must_start_signed_and_have_at_most_99_unsigned_in_a_row() {
    let (mut replies, _, unsigned, _) = stream_with_gap(1);
    let error = replies.verify_next(&unsigned[0], NOW).expect_err("first");
    assert_eq!(
        error.to_string(),
        "reply not accepted for key xfr-key.: it is not signed"
    );
    assert_eq!(
        replies.finish().expect_err("nothing signed").to_string(),
        "reply not accepted for key xfr-key.: the stream ends without a signed message (0 unsigned at its end)"
    );

    let (mut replies, first, unsigned, last) = stream_with_gap(99);
    replies.verify_next(&first, NOW).expect("first");
    for message in &unsigned {
        replies.verify_next(message, NOW).expect("unsigned");
    }
    replies.verify_next(&last, NOW).expect("99 are allowed");

    let (mut replies, first, unsigned, _) = stream_with_gap(100);
    replies.verify_next(&first, NOW).expect("first");
    for message in &unsigned[..99] {
        replies.verify_next(message, NOW).expect("unsigned");
    }
    let error = replies.verify_next(&unsigned[99], NOW).expect_err("100th");
    assert_eq!(
        error.to_string(),
        "reply not accepted for key xfr-key.: 100 messages in a row are unsigned, more than the 99 allowed"
    );
}
