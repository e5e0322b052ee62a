//! The answer path without sockets, on a zone of 100,000 names: the index lookup alone, and a
//! whole query from its bytes to the reply's bytes.

use std::{hint::black_box, net::SocketAddr};

use criterion::{Criterion, criterion_group, criterion_main};
use hickory_proto::{
    op::{Edns, Message, Query},
    rr::{Name, RecordType},
};
use kubezone_dns::{Answerer, FallthroughPolicy, Transport, resolve};
use kubezone_index::{IndexReader, IndexWriter, NameKey, NameServer, ZoneConfig};
use kubezone_model::{DnsName, Endpoint, Kind, ObjectRef, Target};

const NAMES: u32 = 100_000;

fn dns(s: &str) -> DnsName {
    DnsName::parse(s).expect("valid name")
}

fn index() -> IndexReader {
    let zone = ZoneConfig {
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
    };
    let (mut writer, reader) = IndexWriter::new(vec![zone]);
    for i in 0..NAMES {
        let object = ObjectRef::new(Kind::Service, Some("default"), &format!("svc-{i}"));
        let target = Target::V4(std::net::Ipv4Addr::new(
            10,
            (i >> 16) as u8,
            (i >> 8) as u8,
            i as u8,
        ));
        writer.apply(
            &object,
            [(0, Endpoint::new(dns(&name(i)), vec![target]))],
            1_700_000_000,
            0,
        );
    }
    writer.set_ready(true);
    writer.publish(1_700_000_000);
    reader
}

fn name(i: u32) -> String {
    format!("svc-{i}.ns-{}.example.com.", i % 100)
}

fn packet(name: &str, qtype: RecordType) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.id = 1;
    m.add_query(Query::query(Name::from_ascii(name).expect("name"), qtype));
    m.set_edns(Edns::new());
    m.to_vec().expect("encodes")
}

fn answer(c: &mut Criterion) {
    let reader = index();
    let policy = FallthroughPolicy::default();
    let cases = [
        ("hit", name(4242), RecordType::A),
        ("nodata", name(4242), RecordType::AAAA),
        (
            "nxdomain",
            "missing.ns-42.example.com.".to_string(),
            RecordType::A,
        ),
    ];
    for (what, qname, qtype) in &cases {
        let key = NameKey::new(&Name::from_ascii(qname).expect("name")).expect("key");
        c.bench_function(&format!("lookup: {what} in 100k names"), |b| {
            b.iter(|| {
                let catalog = reader.load();
                let resolution = resolve(&catalog, black_box(&key), *qtype, &policy);
                black_box(matches!(resolution, kubezone_dns::Resolution::Answer(_)));
            })
        });
    }
    let answerer = Answerer::new(reader.clone(), FallthroughPolicy::default(), None);
    let src: SocketAddr = "127.0.0.1:5300".parse().expect("addr");
    let mut out = Vec::with_capacity(4096);
    for (what, qname, qtype) in &cases {
        let query = packet(qname, *qtype);
        c.bench_function(
            &format!("respond: {what}, query bytes to reply bytes"),
            |b| {
                b.iter(|| {
                    let handled =
                        answerer.respond(black_box(&query), Transport::Udp, src, &mut out);
                    black_box((handled, out.len()));
                })
            },
        );
    }
}

criterion_group!(benches, answer);
criterion_main!(benches);
