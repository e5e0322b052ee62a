//! UPDATE against a scripted primary: what each RCODE means, the reply's TSIG, one connection
//! for many messages, and a connection that broke. The real servers are in
//! `tests/primary.rs`.

use std::time::Duration;

use hickory_proto::{
    op::{Query, UpdateMessage},
    rr::{DNSClass, RecordType},
};

use super::*;
use crate::fake_primary::{Action, FakePrimary, Request, a, key, name};

const ZONE: &str = "example.test.";

fn updater(fake: &FakePrimary) -> Updater {
    Updater::new(Primary::new(fake.addr, Some(key())).with_timeout(Duration::from_secs(5)))
}

/// An UPDATE adding one A record to the zone.
fn add(last: u8) -> Message {
    let mut message = Message::new(0, MessageType::Query, OpCode::Update);
    let mut zone = Query::query(name(ZONE), RecordType::SOA);
    zone.set_query_class(DNSClass::IN);
    message.add_zone(zone);
    message.add_update(a("www.example.test.", last));
    message
}

fn answer(rcode: ResponseCode) -> impl FnMut(&mut Request) -> Action + Send + 'static {
    move |request| Action::Reply(vec![request.reply(rcode, vec![])])
}

#[tokio::test]
async fn each_rcode_means_what_rfc_2136_says() {
    let cases = [
        (ResponseCode::YXDomain, Fault::Prerequisite),
        (ResponseCode::YXRRSet, Fault::Prerequisite),
        (ResponseCode::NXRRSet, Fault::Prerequisite),
        (ResponseCode::NXDomain, Fault::Prerequisite),
        (ResponseCode::Refused, Fault::NotAllowed),
        (ResponseCode::NotAuth, Fault::NotAllowed),
        (ResponseCode::ServFail, Fault::Transient),
        (ResponseCode::NotZone, Fault::NotAllowed),
        (ResponseCode::FormErr, Fault::NotAllowed),
        (ResponseCode::NotImp, Fault::NotAllowed),
    ];
    for (rcode, fault) in cases {
        let fake = FakePrimary::start(answer(rcode)).await;
        let error = updater(&fake).update(add(1)).await.expect_err("an error");
        let variant = match &error {
            UpdateError::PrerequisiteFailed { rcode: r, .. } if *r == rcode => "prerequisite",
            UpdateError::NotAllowed { rcode: r, .. } if *r == rcode => "not allowed",
            UpdateError::ServerFailure { .. } => "server failure",
            UpdateError::Rejected { rcode: r, .. } if *r == rcode => "rejected",
            _ => "other",
        };
        let expected = match fault {
            Fault::Prerequisite => "prerequisite",
            Fault::NotAllowed if matches!(rcode, ResponseCode::Refused | ResponseCode::NotAuth) => {
                "not allowed"
            }
            Fault::NotAllowed => "rejected",
            Fault::Transient => "server failure",
        };
        assert_eq!(variant, expected, "{rcode:?}: {error:?}");
        assert_eq!(error.fault(), fault, "{rcode:?}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("UPDATE of example.test. at {}: ", fake.addr)),
            "{error}"
        );
    }
    let fake = FakePrimary::start(answer(ResponseCode::YXRRSet)).await;
    let error = updater(&fake).update(add(1)).await.expect_err("an error");
    assert_eq!(
        error.to_string(),
        format!(
            "UPDATE of example.test. at {}: a prerequisite failed (YXRRSET): the zone changed since it was read",
            fake.addr
        )
    );

    let fake = FakePrimary::start(answer(ResponseCode::NoError)).await;
    updater(&fake).update(add(1)).await.expect("NOERROR");
}

#[tokio::test]
async fn the_reply_must_be_signed_unless_it_says_no() {
    // NOERROR unsigned: not taken.
    let fake = FakePrimary::start(|request: &mut Request| {
        Action::Reply(vec![request.unsigned(ResponseCode::NoError, vec![])])
    })
    .await;
    let error = updater(&fake).update(add(1)).await.expect_err("unsigned");
    assert!(
        matches!(
            &error,
            UpdateError::Unverified {
                problem: ReplyProblem::Unsigned,
                ..
            }
        ),
        "{error:?}"
    );
    // REFUSED unsigned: taken for what it says.
    let fake = FakePrimary::start(|request: &mut Request| {
        Action::Reply(vec![request.unsigned(ResponseCode::Refused, vec![])])
    })
    .await;
    let error = updater(&fake).update(add(1)).await.expect_err("refused");
    assert_eq!(
        error.to_string(),
        format!(
            "UPDATE of example.test. at {}: not allowed (REFUSED): the primary's update policy does not grant it to key push-key.",
            fake.addr
        )
    );
    // Signed with the right key over other bytes: not taken.
    let fake = FakePrimary::start(|request: &mut Request| {
        let mut reply = request.reply(ResponseCode::NoError, vec![]);
        // The AA flag, which the MAC covers.
        reply[2] ^= 0x04;
        Action::Reply(vec![reply])
    })
    .await;
    let error = updater(&fake).update(add(1)).await.expect_err("forged");
    assert!(
        matches!(
            &error,
            UpdateError::Unverified {
                problem: ReplyProblem::BadSignature,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn messages_share_one_connection_until_it_closes_or_breaks() {
    let fake = FakePrimary::start(answer(ResponseCode::NoError)).await;
    let mut updater = updater(&fake);
    for i in 0..3 {
        updater.update(add(i)).await.expect("NOERROR");
    }
    assert_eq!((updater.connections(), fake.accepted()), (1, 1));

    // The primary closes the connection after each answer, as a server closing idle ones
    // would: each message finds it closed and makes a new one.
    let fake = FakePrimary::start(|request: &mut Request| {
        Action::ReplyAndClose(vec![request.reply(ResponseCode::NoError, vec![])])
    })
    .await;
    let mut updater = self::updater(&fake);
    for i in 0..3 {
        updater.update(add(i)).await.expect("NOERROR");
        // Until the client's side of the connection has seen the close.
        for _ in 0..1000 {
            if !updater.link.as_ref().is_some_and(Link::is_usable) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert_eq!(updater.connections(), 3);

    // A reply to another ID: the connection is out of step and not used again.
    let mut replies = 0;
    let fake = FakePrimary::start(move |request: &mut Request| {
        replies += 1;
        if replies == 1 {
            request.message.metadata.id = request.message.metadata.id.wrapping_add(1);
        }
        Action::Reply(vec![request.reply(ResponseCode::NoError, vec![])])
    })
    .await;
    let mut updater = self::updater(&fake);
    let error = updater.update(add(1)).await.expect_err("another ID");
    assert!(matches!(&error, UpdateError::Malformed { .. }), "{error:?}");
    assert_eq!(error.fault(), Fault::Transient);
    updater.update(add(2)).await.expect("on a new connection");
    assert_eq!(updater.connections(), 2);
}

#[tokio::test]
async fn no_answer_is_a_timeout_and_a_close_a_connection_error() {
    let fake = FakePrimary::start(|_: &mut Request| Action::Silent).await;
    let mut updater =
        Updater::new(Primary::new(fake.addr, Some(key())).with_timeout(Duration::from_millis(100)));
    let error = updater.update(add(1)).await.expect_err("silent");
    assert!(
        matches!(
            &error,
            UpdateError::Timeout {
                during: "waiting for the reply",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.fault(), Fault::Transient);

    let fake = FakePrimary::start(|_: &mut Request| Action::ReplyAndClose(vec![])).await;
    let error = self::updater(&fake)
        .update(add(1))
        .await
        .expect_err("closed");
    assert_eq!(
        error.to_string(),
        format!(
            "UPDATE of example.test. at {}: the connection failed: the primary closed the connection without answering",
            fake.addr
        )
    );
    assert_eq!(error.fault(), Fault::Transient);
}

#[tokio::test]
async fn only_an_update_with_one_zone_is_sent() {
    let fake = FakePrimary::start(answer(ResponseCode::NoError)).await;
    let mut updater = updater(&fake);
    let mut query = add(1);
    query.metadata.op_code = OpCode::Query;
    let error = updater.update(query).await.expect_err("a query");
    assert!(
        error
            .to_string()
            .ends_with("its opcode is Query, not UPDATE"),
        "{error}"
    );
    let mut two = add(1);
    two.add_zone(Query::query(name("example.org."), RecordType::SOA));
    let error = updater.update(two).await.expect_err("two zones");
    assert_eq!(
        error.to_string(),
        format!(
            "UPDATE to {}: its zone section has 2 entries, not 1",
            fake.addr
        )
    );
    assert_eq!(fake.accepted(), 0, "nothing was sent");
}
