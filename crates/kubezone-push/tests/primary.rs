//! The push client against real primaries (BIND and Knot on loopback): reading the zone by
//! AXFR with the key, UPDATEs that add and delete records, a failed prerequisite, a wrong key
//! and a key the update policy does not grant, and a primary stopped and started again.

mod primaries;

use std::{collections::BTreeSet, net::Ipv4Addr, time::Duration};

use hickory_proto::{
    op::{Message, UpdateMessage, update_message},
    rr::{
        Name, RData, Record, RecordSet,
        rdata::{A, TXT},
    },
};
use kubezone_push::{AxfrError, Fault, Primary, TransferredZone, UpdateError, Updater};
use primaries::{
    PrimaryServer, READER_KEY, READER_SECRET, Software, UPDATE_KEY, UPDATE_SECRET, key, zone,
};

/// A failure bound: everything here takes milliseconds on loopback.
const TIMEOUT: Duration = Duration::from_secs(5);

fn push_to(server: &PrimaryServer) -> Primary {
    Primary::new(server.addr(), Some(key(UPDATE_KEY, UPDATE_SECRET))).with_timeout(TIMEOUT)
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("name")
}

fn a(owner: &str, address: [u8; 4]) -> Record {
    Record::from_rdata(name(owner), 60, RData::A(A(Ipv4Addr::from(address))))
}

fn txt(owner: &str, text: &str) -> Record {
    Record::from_rdata(name(owner), 60, RData::TXT(TXT::new(vec![text.into()])))
}

/// The zone's records as sorted zone-file lines, the SOA left out.
fn lines(zone: &TransferredZone) -> BTreeSet<String> {
    zone.records.iter().map(ToString::to_string).collect()
}

/// The records of the zone file (see `primaries::ZONE_FILE`).
fn hand_made() -> BTreeSet<String> {
    [
        "example.test. 300 IN NS ns1.example.test.",
        "ns1.example.test. 300 IN A 192.0.2.53",
        "manual.example.test. 300 IN A 192.0.2.1",
        // hickory prints a TXT record's strings without quotes.
        "manual.example.test. 300 IN TXT made by hand",
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}

fn with(base: &BTreeSet<String>, more: &[&str]) -> BTreeSet<String> {
    base.iter()
        .cloned()
        .chain(more.iter().map(|l| l.to_string()))
        .collect()
}

async fn axfr(server: &PrimaryServer) -> TransferredZone {
    push_to(server)
        .axfr(&zone())
        .await
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", server.name(), server.log()))
}

fn create(record: Record) -> Message {
    update_message::create(RecordSet::from(record), zone(), false)
}

#[tokio::test]
async fn axfr_with_the_key_reads_the_whole_zone() {
    for software in Software::ALL {
        let server = PrimaryServer::start(software);
        let read = axfr(&server).await;
        assert_eq!(read.serial(), 1, "{}", server.name());
        assert_eq!(read.soa.name, zone());
        assert_eq!(lines(&read), hand_made(), "{}", server.name());

        // A key that may only transfer reads the same.
        let reader = Primary::new(server.addr(), Some(key(READER_KEY, READER_SECRET)));
        let read = reader.axfr(&zone()).await.expect("reader-key transfers");
        assert_eq!(lines(&read), hand_made(), "{}", server.name());
    }
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_the_error_says_so() {
    for software in Software::ALL {
        let server = PrimaryServer::start(software);
        let what = server.name();
        // The right name with another secret: BADSIG.
        let forged = Primary::new(
            server.addr(),
            Some(key(
                UPDATE_KEY,
                "YW5vdGhlciBzZWNyZXQsIG5vdCB0aGUgcHJpbWFyeSdz",
            )),
        );
        let error = forged.axfr(&zone()).await.expect_err("forged AXFR");
        assert!(
            matches!(&error, AxfrError::TsigRefused { error, .. } if error == "BADSIG"),
            "{what}: {error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "AXFR of example.test. from {}: the primary refused key update-key. with TSIG error BADSIG \
                 (the secret or algorithm differs from the primary's)",
                server.addr()
            )
        );
        assert_eq!(error.fault(), Fault::NotAllowed);
        let error = Updater::new(forged)
            .update(create(a("new.example.test.", [192, 0, 2, 9])))
            .await
            .expect_err("forged UPDATE");
        assert!(
            matches!(&error, UpdateError::TsigRefused { error, .. } if error == "BADSIG"),
            "{what}: {error:?}"
        );
        assert_eq!(error.fault(), Fault::NotAllowed);

        // A key the primary does not know: BADKEY.
        let stranger = Primary::new(server.addr(), Some(key("stranger-key", UPDATE_SECRET)));
        let error = stranger.axfr(&zone()).await.expect_err("unknown key");
        assert!(
            matches!(&error, AxfrError::TsigRefused { error, .. } if error == "BADKEY"),
            "{what}: {error:?}"
        );
        assert!(error.to_string().contains("key stranger-key."), "{error}");

        // No key at all: the transfer is refused by the primary's policy.
        let unsigned = Primary::new(server.addr(), None);
        let error = unsigned.axfr(&zone()).await.expect_err("unsigned");
        assert!(
            matches!(
                &error,
                AxfrError::Refused { .. } | AxfrError::NotAuth { .. }
            ),
            "{what}: {error:?}"
        );
        assert_eq!(error.fault(), Fault::NotAllowed);

        // A key the update policy does not grant: not allowed, and nothing changed. BIND
        // answers REFUSED, signed; Knot NOTAUTH with TSIG error BADKEY, as for a key it does
        // not know.
        let reader = Primary::new(server.addr(), Some(key(READER_KEY, READER_SECRET)));
        let error = Updater::new(reader)
            .update(create(a("new.example.test.", [192, 0, 2, 9])))
            .await
            .expect_err("reader-key may not update");
        match software {
            Software::Bind => assert_eq!(
                error.to_string(),
                format!(
                    "UPDATE of example.test. at {}: not allowed (REFUSED): the primary's update \
                     policy does not grant it to key reader-key.",
                    server.addr()
                )
            ),
            Software::Knot => assert!(
                matches!(&error, UpdateError::TsigRefused { error, .. } if error == "BADKEY"),
                "{what}: {error:?}"
            ),
        }
        assert_eq!(error.fault(), Fault::NotAllowed);
        assert_eq!(lines(&axfr(&server).await), hand_made(), "{what}");
    }
}

#[tokio::test]
async fn updates_add_and_delete_records_on_one_connection() {
    for software in Software::ALL {
        let server = PrimaryServer::start(software);
        let what = server.name();
        let mut updater = Updater::new(push_to(&server));
        updater
            .update(create(a("www.example.test.", [192, 0, 2, 10])))
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
        updater
            .update(update_message::append(
                RecordSet::from(a("www.example.test.", [192, 0, 2, 11])),
                zone(),
                true,
                false,
            ))
            .await
            .expect("append");
        updater
            .update(create(txt("owner.example.test.", "heritage=external-dns")))
            .await
            .expect("create TXT");
        let read = axfr(&server).await;
        assert!(read.serial() > 1, "{what}: the serial moves");
        assert_eq!(
            lines(&read),
            with(
                &hand_made(),
                &[
                    "www.example.test. 60 IN A 192.0.2.10",
                    "www.example.test. 60 IN A 192.0.2.11",
                    "owner.example.test. 60 IN TXT heritage=external-dns",
                ]
            ),
            "{what}"
        );

        updater
            .update(update_message::delete_by_rdata(
                RecordSet::from(a("www.example.test.", [192, 0, 2, 10])),
                zone(),
                false,
            ))
            .await
            .expect("delete one A");
        let read = axfr(&server).await;
        assert_eq!(
            lines(&read),
            with(
                &hand_made(),
                &[
                    "www.example.test. 60 IN A 192.0.2.11",
                    "owner.example.test. 60 IN TXT heritage=external-dns",
                ]
            ),
            "{what}"
        );
        assert_eq!(updater.connections(), 1, "{what}: one connection for all");
    }
}

#[tokio::test]
async fn a_zone_of_many_messages_is_read_with_each_message_checked() {
    for software in Software::ALL {
        let server = PrimaryServer::start(software);
        let what = server.name();
        let mut updater = Updater::new(push_to(&server));
        // 4,000 names in UPDATEs of 500, well over what one AXFR message holds.
        for batch in 0..8u8 {
            let mut message = update_message::append(
                RecordSet::from(a(
                    &format!("host{batch}-0.example.test."),
                    [10, batch, 0, 0],
                )),
                zone(),
                false,
                false,
            );
            for i in 1..500u16 {
                let [high, low] = i.to_be_bytes();
                message.add_update(a(
                    &format!("host{batch}-{i}.example.test."),
                    [10, batch, high, low],
                ));
            }
            updater
                .update(message)
                .await
                .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
        }
        let read = axfr(&server).await;
        assert!(read.messages > 1, "{what}: {} message(s)", read.messages);
        let read = lines(&read);
        assert_eq!(read.len(), hand_made().len() + 4000, "{what}");
        assert!(
            read.contains("host7-499.example.test. 60 IN A 10.7.1.243"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_failed_prerequisite_is_told_apart_and_changes_nothing() {
    for software in Software::ALL {
        let server = PrimaryServer::start(software);
        let what = server.name();
        let mut updater = Updater::new(push_to(&server));
        // `create` requires that the RRset does not exist: the hand-made A does.
        let error = updater
            .update(create(a("manual.example.test.", [192, 0, 2, 99])))
            .await
            .expect_err("the RRset exists");
        assert!(
            matches!(&error, UpdateError::PrerequisiteFailed { rcode, .. }
                if *rcode == hickory_proto::op::ResponseCode::YXRRSet),
            "{what}: {error:?}"
        );
        assert_eq!(error.fault(), Fault::Prerequisite);
        assert!(
            error
                .to_string()
                .contains("a prerequisite failed (YXRRSET)"),
            "{error}"
        );

        // A swap from a value the primary does not have: NXRRSET.
        let error = updater
            .update(update_message::compare_and_swap(
                RecordSet::from(a("manual.example.test.", [192, 0, 2, 2])),
                RecordSet::from(a("manual.example.test.", [192, 0, 2, 3])),
                zone(),
                false,
            ))
            .await
            .expect_err("the value differs");
        assert!(
            matches!(&error, UpdateError::PrerequisiteFailed { rcode, .. }
                if *rcode == hickory_proto::op::ResponseCode::NXRRSet),
            "{what}: {error:?}"
        );
        let read = axfr(&server).await;
        assert_eq!(read.serial(), 1, "{what}");
        assert_eq!(lines(&read), hand_made(), "{what}");

        // The connection is still good after an answer that says no.
        updater
            .update(update_message::compare_and_swap(
                RecordSet::from(Record::from_rdata(
                    name("manual.example.test."),
                    300,
                    RData::A(A(Ipv4Addr::new(192, 0, 2, 1))),
                )),
                RecordSet::from(a("manual.example.test.", [192, 0, 2, 3])),
                zone(),
                false,
            ))
            .await
            .expect("the swap from the right value");
        assert_eq!(updater.connections(), 1, "{what}");
        assert!(
            lines(&axfr(&server).await).contains("manual.example.test. 60 IN A 192.0.2.3"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_stopped_primary_is_a_connection_error_and_once_restarted_it_works() {
    for software in Software::ALL {
        let mut server = PrimaryServer::start(software);
        let what = server.name();
        let mut updater = Updater::new(push_to(&server));
        updater
            .update(create(a("before.example.test.", [192, 0, 2, 20])))
            .await
            .expect("before the stop");

        server.stop();
        let error = updater
            .update(create(a("during.example.test.", [192, 0, 2, 21])))
            .await
            .expect_err("stopped");
        assert!(
            matches!(&error, UpdateError::Connect { .. }),
            "{what}: {error:?}"
        );
        assert_eq!(error.fault(), Fault::Transient);
        assert!(
            error.to_string().starts_with(&format!(
                "UPDATE of example.test. at {}: cannot connect: ",
                server.addr()
            )),
            "{error}"
        );
        let error = push_to(&server).axfr(&zone()).await.expect_err("stopped");
        assert!(
            matches!(&error, AxfrError::Connect { .. }),
            "{what}: {error:?}"
        );
        assert_eq!(error.fault(), Fault::Transient);

        server.restart();
        updater
            .update(create(a("after.example.test.", [192, 0, 2, 22])))
            .await
            .unwrap_or_else(|e| panic!("{what} after the restart: {e}\n{}", server.log()));
        assert_eq!(updater.connections(), 2, "{what}: one more connection");
        let read = lines(&axfr(&server).await);
        assert!(
            read.contains("before.example.test. 60 IN A 192.0.2.20"),
            "{what}"
        );
        assert!(
            read.contains("after.example.test. 60 IN A 192.0.2.22"),
            "{what}"
        );
        assert!(!read.iter().any(|l| l.starts_with("during.")), "{what}");
    }
}
