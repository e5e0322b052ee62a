//! One object update applied to a zone of 100,000 names, then published.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kubezone_index::{IndexWriter, NameServer, ZoneConfig};
use kubezone_model::{DnsName, Endpoint, Kind, ObjectRef, Target};

const NAMES: u32 = 100_000;

fn dns(s: &str) -> DnsName {
    DnsName::parse(s).expect("valid name")
}

fn zone() -> ZoneConfig {
    ZoneConfig {
        origin: dns("example.com"),
        ttl: 60,
        nameserver: NameServer {
            name: dns("dns1.kube-system.example.com"),
            addrs: vec!["192.0.2.53".parse().expect("ip")],
        },
        secondary: None,
        nameservers: Vec::new(),
        soa: Default::default(),
        records: Vec::new(),
        static_written: 0,
        precedence: Kind::DEFAULT_RESOURCES.to_vec(),
        claims: kubezone_index::NameClaims::Shared,
        served: true,
    }
}

fn object(i: u32) -> ObjectRef {
    ObjectRef::new(Kind::Service, Some("default"), &format!("svc-{i}"))
}

fn endpoint(i: u32, last_octet: u8) -> Endpoint {
    Endpoint::new(
        dns(&format!("svc-{i}.ns-{}.example.com", i % 100)),
        vec![Target::V4(std::net::Ipv4Addr::new(
            10,
            (i >> 8) as u8,
            i as u8,
            last_octet,
        ))],
    )
}

fn full_zone() -> IndexWriter {
    let (mut writer, _reader) = IndexWriter::new(vec![zone()]);
    for i in 0..NAMES {
        writer.apply(&object(i), [(0, endpoint(i, 1))], 1_700_000_000, 0);
    }
    writer.set_ready(true);
    writer.publish(1_700_000_000);
    writer
}

fn update(c: &mut Criterion) {
    let mut writer = full_zone();
    let mut turn: u8 = 0;
    c.bench_function(
        "index: one object's address changes in a 100k-name zone, then publish",
        |b| {
            b.iter(|| {
                turn = turn.wrapping_add(1);
                let i = u32::from(turn) * 331 % NAMES;
                writer.apply(&object(i), [(0, endpoint(i, turn))], 1_700_000_000, 0);
                writer.publish(1_700_000_001);
            })
        },
    );
    c.bench_function(
        "index: an object added to and deleted from a 100k-name zone",
        |b| {
            b.iter_batched(
                || (),
                |()| {
                    writer.apply(
                        &object(NAMES + 1),
                        [(0, endpoint(NAMES + 1, 1))],
                        1_700_000_000,
                        0,
                    );
                    writer.apply(&object(NAMES + 1), [], 1_700_000_000, 0);
                    writer.publish(1_700_000_002);
                },
                BatchSize::SmallInput,
            )
        },
    );
}

criterion_group!(benches, update);
criterion_main!(benches);
