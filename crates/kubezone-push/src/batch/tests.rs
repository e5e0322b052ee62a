use std::{collections::BTreeSet, net::Ipv4Addr};

use hickory_proto::{
    op::{Message, OpCode, UpdateMessage},
    rr::{DNSClass, Name, RData, RecordType, rdata::A},
};

use super::*;
use crate::plan::{Action, Rdata};

fn name(s: &str) -> Name {
    Name::from_ascii(s).expect("test fixture")
}

fn zone() -> Name {
    name("example.com.")
}

fn a(i: u32) -> Rdata {
    Rdata::from_rdata(&RData::A(A(Ipv4Addr::from(0xC000_0200 + i)))).expect("test fixture")
}

/// A create of `count` addresses at `owner`, as the plan makes it.
fn create(owner: &str, count: u32) -> Change {
    let owner = name(owner);
    let txt_name = Name::from_ascii(format!("a-{owner}")).expect("test fixture");
    let after: BTreeSet<Rdata> = (1..=count).map(a).collect();
    let mut edits: Vec<Edit> = after
        .iter()
        .map(|rdata| Edit::Add {
            name: owner.clone(),
            record_type: RecordType::A,
            ttl: 300,
            rdata: rdata.clone(),
        })
        .collect();
    edits.push(Edit::Add {
        name: txt_name.clone(),
        record_type: RecordType::TXT,
        ttl: 300,
        rdata: Rdata::txt("heritage=external-dns,external-dns/owner=o"),
    });
    Change {
        action: Action::Create,
        name: owner.clone(),
        record_type: RecordType::A,
        before: BTreeSet::new(),
        after,
        ttl: 300,
        prerequisites: vec![
            Prerequisite::Absent {
                name: owner.clone(),
                record_type: RecordType::A,
            },
            Prerequisite::Absent {
                name: owner,
                record_type: RecordType::CNAME,
            },
            Prerequisite::Absent {
                name: txt_name,
                record_type: RecordType::TXT,
            },
        ],
        edits,
    }
}

fn delete(owner: &str) -> Change {
    let owner = name(owner);
    Change {
        action: Action::Delete,
        name: owner.clone(),
        record_type: RecordType::A,
        before: [a(9)].into(),
        after: BTreeSet::new(),
        ttl: 300,
        prerequisites: vec![Prerequisite::Exactly {
            name: owner.clone(),
            record_type: RecordType::A,
            rdatas: [a(9)].into(),
        }],
        edits: vec![Edit::Remove {
            name: owner,
            record_type: RecordType::A,
            rdata: a(9),
        }],
    }
}

#[test]
fn one_create_byte_for_byte() {
    let out = batches(&zone(), &[create("www.example.com.", 1)], Bounds::default());
    assert_eq!(out.refused, Vec::new());
    assert_eq!(out.batches.len(), 1);
    let batch = &out.batches[0];
    let mut expected: Vec<u8> = vec![
        0x12, 0x34, // ID
        0x28, 0x00, // OPCODE UPDATE
        0, 1, 0, 3, 0, 2, 0, 0, // ZOCOUNT, PRCOUNT, UPCOUNT, ADCOUNT
        7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0, 6, 0, 1,
        // nxrrset www A: CLASS NONE, TTL 0, RDLENGTH 0
        3, b'w', b'w', b'w', 0xC0, 0x0C, 0, 1, 0, 254, 0, 0, 0, 0, 0, 0,
        // nxrrset www CNAME
        3, b'w', b'w', b'w', 0xC0, 0x0C, 0, 5, 0, 254, 0, 0, 0, 0, 0, 0,
        // nxrrset a-www TXT
        5, b'a', b'-', b'w', b'w', b'w', 0xC0, 0x0C, 0, 16, 0, 254, 0, 0, 0, 0, 0, 0,
        // add www 300 IN A 192.0.2.1
        3, b'w', b'w', b'w', 0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1,
        // add a-www 300 IN TXT "heritage=…"
        5, b'a', b'-', b'w', b'w', b'w', 0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 1, 44, 0, 43, 42,
    ];
    expected.extend_from_slice(b"heritage=external-dns,external-dns/owner=o");
    assert_eq!(batch.message(0x1234), expected);
    assert_eq!(batch.len(), expected.len());
    assert_eq!((batch.prerequisites(), batch.updates()), (3, 2));
}

#[test]
fn messages_read_back_as_rfc_2136_updates() {
    let changes = [delete("old.example.com."), create("www.example.com.", 2)];
    let out = batches(&zone(), &changes, Bounds::default());
    let message = Message::from_vec(&out.batches[0].message(7)).expect("a valid UPDATE message");
    assert_eq!(message.metadata.id, 7);
    assert_eq!(message.metadata.op_code, OpCode::Update);
    assert_eq!(message.zones().len(), 1);
    assert_eq!(message.zones()[0].name(), &zone());
    assert_eq!(message.zones()[0].query_type(), RecordType::SOA);

    let prerequisites = message.prerequisites();
    assert_eq!(prerequisites.len(), 4);
    // Value dependent: the zone's class, TTL 0, the records.
    assert_eq!(prerequisites[0].name, name("old.example.com."));
    assert_eq!(prerequisites[0].dns_class, DNSClass::IN);
    assert_eq!(prerequisites[0].ttl, 0);
    assert_eq!(Rdata::from_rdata(&prerequisites[0].data), Some(a(9)));
    // Does not exist: CLASS NONE, no RDATA.
    assert_eq!(prerequisites[1].dns_class, DNSClass::NONE);
    assert_eq!(prerequisites[1].record_type(), RecordType::A);
    assert!(matches!(prerequisites[1].data, RData::Update0(_)));

    let updates = message.updates();
    assert_eq!(updates.len(), 4);
    // The delete first: one record, CLASS NONE, TTL 0.
    assert_eq!(updates[0].dns_class, DNSClass::NONE);
    assert_eq!(updates[0].ttl, 0);
    assert_eq!(Rdata::from_rdata(&updates[0].data), Some(a(9)));
    assert_eq!(updates[1].dns_class, DNSClass::IN);
    assert_eq!(updates[1].ttl, 300);
    assert_eq!(updates[1].name, name("www.example.com."));
    assert_eq!(updates[3].record_type(), RecordType::TXT);
}

#[test]
fn name_unused_is_any_none() {
    let mut change = create("www.example.com.", 1);
    change.prerequisites = vec![Prerequisite::NameUnused {
        name: name("www.example.com."),
    }];
    let out = batches(&zone(), &[change], Bounds::default());
    let message = Message::from_vec(&out.batches[0].message(1)).expect("a valid UPDATE message");
    let prerequisite = &message.prerequisites()[0];
    assert_eq!(prerequisite.record_type(), RecordType::ANY);
    assert_eq!(prerequisite.dns_class, DNSClass::NONE);
}

#[test]
fn batches_keep_to_the_record_bound() {
    let changes: Vec<Change> = (0..100)
        .map(|i| create(&format!("host{i}.example.com."), 2))
        .collect();
    // Each create: 3 prerequisites and 3 updates.
    let bounds = Bounds {
        max_bytes: 64 * 1024,
        max_records: 20,
    };
    let out = batches(&zone(), &changes, bounds);
    assert_eq!(out.batches.len(), 34);
    for (i, batch) in out.batches.iter().enumerate() {
        assert_eq!(batch.index(), i);
        assert!(batch.prerequisites() + batch.updates() <= 20);
    }
    let sent: Vec<&Change> = out.batches.iter().flat_map(|b| b.changes()).collect();
    assert_eq!(sent, changes.iter().collect::<Vec<_>>());
}

#[test]
fn batches_keep_to_the_byte_bound() {
    let changes: Vec<Change> = (0..200)
        .map(|i| create(&format!("host{i}.example.com."), 4))
        .collect();
    let bounds = Bounds {
        max_bytes: 1_000,
        max_records: 10_000,
    };
    let out = batches(&zone(), &changes, bounds);
    assert!(out.batches.len() > 1);
    for batch in &out.batches {
        assert!(
            batch.len() <= 1_000,
            "batch {} has {}",
            batch.index(),
            batch.len()
        );
        // Every message parses, with the counts it claims.
        let message = Message::from_vec(&batch.message(1)).expect("a valid UPDATE message");
        assert_eq!(message.prerequisites().len(), batch.prerequisites());
        assert_eq!(message.updates().len(), batch.updates());
    }
    let sent: usize = out.batches.iter().map(|b| b.changes().len()).sum();
    assert_eq!(sent, 200);
}

#[test]
fn a_large_name_goes_alone_and_a_too_large_one_is_refused() {
    let changes = [
        create("a.example.com.", 1),
        create("big.example.com.", 200),
        create("huge.example.com.", 5_000),
        create("z.example.com.", 1),
    ];
    let bounds = Bounds {
        max_bytes: 1_000,
        max_records: 10_000,
    };
    let out = batches(&zone(), &changes, bounds);
    let names: Vec<Vec<String>> = out
        .batches
        .iter()
        .map(|b| b.changes().iter().map(|c| c.name.to_ascii()).collect())
        .collect();
    assert_eq!(
        names,
        vec![
            vec!["a.example.com.".to_string()],
            vec!["big.example.com.".to_string()],
            vec!["z.example.com.".to_string()],
        ]
    );
    assert!(out.batches[1].len() > 1_000);
    assert_eq!(out.refused.len(), 1);
    assert!(matches!(
        &out.refused[0].1,
        BatchError::TooLarge { name, .. } if name == "huge.example.com."
    ));
}

#[test]
fn a_names_changes_stay_together_and_share_prerequisites() {
    // A delete and a create at one name stating the same RRset: one message, stated once.
    let mut recreate = create("www.example.com.", 1);
    recreate.prerequisites = delete("www.example.com.").prerequisites;
    let changes = [
        create("a.example.com.", 1),
        delete("www.example.com."),
        recreate,
    ];
    let bounds = Bounds {
        max_bytes: 64 * 1024,
        max_records: 6,
    };
    let out = batches(&zone(), &changes, bounds);
    assert_eq!(out.batches.len(), 2);
    let second = &out.batches[1];
    assert_eq!(second.changes().len(), 2);
    assert_eq!(second.prerequisites(), 1);
    assert_eq!(second.updates(), 3);
    let message = Message::from_vec(&second.message(1)).expect("a valid UPDATE message");
    assert_eq!(message.prerequisites().len(), 1);
}

#[test]
fn applying_a_batch_updates_the_zone_view() {
    let mut zone = crate::plan::PrimaryZone::new(&zone());
    let out = batches(
        &self::zone(),
        &[create("www.example.com.", 2)],
        Bounds::default(),
    );
    zone.apply(out.batches[0].edits());
    assert_eq!(
        zone.rrset(&name("www.example.com."), RecordType::A)
            .map(|s| s.rdatas.len()),
        Some(2)
    );
    assert!(
        zone.rrset(&name("a-www.example.com."), RecordType::TXT)
            .is_some()
    );
}
