//! AXFR against a scripted primary: the stream's rules (SOA first and last, nothing after it,
//! nothing outside the zone, every message answered to this request and signed as §5.3.1
//! says) and each failure's variant. The real servers are in `tests/primary.rs`.

use std::time::Duration;

use hickory_proto::op::ResponseCode;
use kubezone_transfer::ReplyProblem;

use super::*;
use crate::fake_primary::{Action, FakePrimary, Request, a, key, name, soa};

const ZONE: &str = "example.test.";

fn primary(fake: &FakePrimary) -> Primary {
    Primary::new(fake.addr, Some(key())).with_timeout(Duration::from_secs(5))
}

async fn transfer(
    respond: impl FnMut(&mut Request) -> Action + Send + 'static,
) -> Result<TransferredZone, AxfrError> {
    let fake = FakePrimary::start(respond).await;
    primary(&fake).axfr(&name(ZONE)).await
}

fn ok(request: &mut Request, answers: Vec<Record>) -> Vec<u8> {
    request.reply(ResponseCode::NoError, answers)
}

#[tokio::test]
async fn a_stream_of_signed_messages_gives_the_records_between_the_soas() {
    let zone = transfer(|request| {
        Action::Reply(vec![
            ok(request, vec![soa(ZONE, 7), a("www.example.test.", 1)]),
            ok(
                request,
                vec![a("www.example.test.", 2), a("api.example.test.", 3)],
            ),
            ok(request, vec![a("example.test.", 4), soa(ZONE, 7)]),
        ])
    })
    .await
    .expect("transfers");
    assert_eq!(zone.serial(), 7);
    assert_eq!(zone.messages, 3);
    let records: Vec<String> = zone.records.iter().map(ToString::to_string).collect();
    assert_eq!(
        records,
        [
            "www.example.test. 60 IN A 192.0.2.1",
            "www.example.test. 60 IN A 192.0.2.2",
            "api.example.test. 60 IN A 192.0.2.3",
            "example.test. 60 IN A 192.0.2.4",
        ]
    );
}

/// The reason of a `Malformed` error, or a panic naming what came instead.
fn malformed(result: Result<TransferredZone, AxfrError>) -> (usize, String) {
    match result {
        Err(AxfrError::Malformed {
            message, reason, ..
        }) => (message, reason),
        other => panic!("expected a malformed stream, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stream_must_begin_with_the_zones_soa() {
    let (message, reason) = malformed(
        transfer(|request| Action::Reply(vec![ok(request, vec![a("www.example.test.", 1)])])).await,
    );
    assert_eq!(message, 1);
    assert_eq!(
        reason,
        "the transfer begins with www.example.test. A, not the zone's SOA"
    );
    let (_, reason) = malformed(
        transfer(|request| {
            Action::Reply(vec![ok(
                request,
                vec![soa("other.test.", 1), soa("other.test.", 1)],
            )])
        })
        .await,
    );
    assert_eq!(
        reason,
        "the transfer begins with other.test. SOA, not the zone's SOA"
    );
    let (_, reason) = malformed(transfer(|request| Action::Reply(vec![ok(request, vec![])])).await);
    assert_eq!(reason, "the first message has no SOA");
}

#[tokio::test]
async fn a_stream_must_end_with_the_same_soa_and_nothing_after_it() {
    let (message, reason) = malformed(
        transfer(|request| {
            Action::Reply(vec![
                ok(request, vec![soa(ZONE, 7), a("www.example.test.", 1)]),
                ok(request, vec![soa(ZONE, 7), a("late.example.test.", 2)]),
            ])
        })
        .await,
    );
    assert_eq!(message, 2);
    assert_eq!(reason, "late.example.test. A follows the closing SOA");

    let (_, reason) = malformed(
        transfer(|request| Action::Reply(vec![ok(request, vec![soa(ZONE, 7), soa(ZONE, 8)])]))
            .await,
    );
    assert!(
        reason
            .starts_with("a SOA for example.test. (ns1.example.test. hostmaster.example.test. 8 "),
        "{reason}"
    );
}

#[tokio::test]
async fn a_record_outside_the_zone_is_refused() {
    let (_, reason) = malformed(
        transfer(|request| {
            Action::Reply(vec![ok(
                request,
                vec![soa(ZONE, 7), a("www.example.org.", 1), soa(ZONE, 7)],
            )])
        })
        .await,
    );
    assert_eq!(reason, "www.example.org. A is outside the zone");
}

#[tokio::test]
async fn a_stream_cut_short_says_how_far_it_got() {
    let error = transfer(|request| {
        Action::ReplyAndClose(vec![ok(
            request,
            vec![soa(ZONE, 7), a("www.example.test.", 1)],
        )])
    })
    .await
    .expect_err("cut short");
    assert!(
        matches!(error, AxfrError::Truncated { records: 2, .. }),
        "{error:?}"
    );
    assert_eq!(error.fault(), Fault::Transient);
    assert!(
        error
            .to_string()
            .ends_with("the primary closed the connection after 2 records, before the closing SOA"),
        "{error}"
    );
}

#[tokio::test]
async fn an_answer_to_another_query_is_malformed() {
    let (_, reason) = malformed(
        transfer(|request| {
            request.message.metadata.id = request.message.metadata.id.wrapping_add(1);
            Action::Reply(vec![
                request.unsigned(ResponseCode::NoError, vec![soa(ZONE, 7)]),
            ])
        })
        .await,
    );
    assert!(
        reason.starts_with("expected an answer to query "),
        "{reason}"
    );
}

#[tokio::test]
async fn error_rcodes_are_told_apart() {
    for (rcode, fault) in [
        (ResponseCode::Refused, Fault::NotAllowed),
        (ResponseCode::NotAuth, Fault::NotAllowed),
        (ResponseCode::NotImp, Fault::NotAllowed),
        (ResponseCode::ServFail, Fault::Transient),
        (ResponseCode::NXDomain, Fault::NotAllowed),
    ] {
        let error = transfer(move |request| Action::Reply(vec![request.reply(rcode, vec![])]))
            .await
            .expect_err("an error");
        let expected = match rcode {
            ResponseCode::Refused => matches!(error, AxfrError::Refused { .. }),
            ResponseCode::NotAuth => matches!(error, AxfrError::NotAuth { .. }),
            ResponseCode::NotImp => matches!(error, AxfrError::NotImp { .. }),
            _ => matches!(error, AxfrError::Rcode { rcode: r, .. } if r == rcode),
        };
        assert!(expected, "{rcode:?}: {error:?}");
        assert_eq!(error.fault(), fault, "{rcode:?}");
    }
    // An unsigned error is still told for what it is.
    let error =
        transfer(|request| Action::Reply(vec![request.unsigned(ResponseCode::Refused, vec![])]))
            .await
            .expect_err("refused");
    assert!(
        error
            .to_string()
            .ends_with("REFUSED: the primary does not allow key push-key. to transfer the zone"),
        "{error}"
    );
}

/// The problem of an `Unverified` error, or a panic naming what came instead.
fn unverified(result: Result<TransferredZone, AxfrError>) -> (usize, ReplyProblem) {
    match result {
        Err(AxfrError::Unverified {
            message, problem, ..
        }) => (message, problem),
        other => panic!("expected a TSIG failure, got {other:?}"),
    }
}

#[tokio::test]
async fn every_message_must_verify_and_the_last_be_signed() {
    // An unsigned answer to a signed request.
    let (message, problem) = unverified(
        transfer(|request| {
            Action::Reply(vec![
                request.unsigned(ResponseCode::NoError, vec![soa(ZONE, 7), soa(ZONE, 7)]),
            ])
        })
        .await,
    );
    assert_eq!((message, problem), (1, ReplyProblem::Unsigned));

    // A record changed on the way.
    let (message, problem) = unverified(
        transfer(|request| {
            let first = ok(request, vec![soa(ZONE, 7)]);
            let mut second = ok(request, vec![a("www.example.test.", 1), soa(ZONE, 7)]);
            // The A record's last address byte, before the SOA: 192.0.2.1 becomes .0.
            let at = second
                .windows(4)
                .position(|w| w == [192, 0, 2, 1])
                .expect("the address");
            second[at + 3] = 0;
            Action::Reply(vec![first, second])
        })
        .await,
    );
    assert_eq!((message, problem), (2, ReplyProblem::BadSignature));

    // The closing SOA in an unsigned message: §5.3.1 wants the last one signed.
    let (message, problem) = unverified(
        transfer(|request| {
            let first = ok(request, vec![soa(ZONE, 7), a("www.example.test.", 1)]);
            let last = request.unsigned(ResponseCode::NoError, vec![soa(ZONE, 7)]);
            Action::Reply(vec![first, last])
        })
        .await,
    );
    assert_eq!((message, problem), (2, ReplyProblem::UnsignedEnd(1)));
}

#[tokio::test]
async fn a_primary_that_says_nothing_times_out_and_a_closed_port_cannot_connect() {
    let fake = FakePrimary::start(|_| Action::Silent).await;
    let error = primary(&fake)
        .with_timeout(Duration::from_millis(100))
        .axfr(&name(ZONE))
        .await
        .expect_err("silent");
    assert!(
        matches!(
            error,
            AxfrError::Timeout {
                during: "waiting for the reply",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.fault(), Fault::Transient);

    // A port just bound and let go: nothing listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port");
    let error = Primary::new(addr, Some(key()))
        .axfr(&name(ZONE))
        .await
        .expect_err("closed");
    assert!(matches!(error, AxfrError::Connect { .. }), "{error:?}");
    assert!(
        error.to_string().starts_with(&format!(
            "AXFR of example.test. from {addr}: cannot connect: "
        )),
        "{error}"
    );
}
