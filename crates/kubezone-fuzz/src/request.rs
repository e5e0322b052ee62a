//! Seeds for the `request` target (DNS query bytes → response), written out to
//! `fuzz/corpus/request/` by `tests/replay.rs` (see `docs/fuzzing.md`).
//!
//! Each seed is one query as a UDP payload; over TCP the same bytes follow a 2-byte length. The
//! packets are built by hand rather than with a DNS library so that broken ones (truncated,
//! compression loops, counts that lie) can be written as easily as good ones.

/// One seed: its file name, its bytes, and whether it is a well-formed DNS message.
pub struct Seed {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub well_formed: bool,
}

const A: u16 = 1;
const NS: u16 = 2;
const CNAME: u16 = 5;
const SOA: u16 = 6;
const MX: u16 = 15;
const TXT: u16 = 16;
const AAAA: u16 = 28;
const OPT: u16 = 41;
const DS: u16 = 43;
const DNSKEY: u16 = 48;
const IXFR: u16 = 251;
const AXFR: u16 = 252;
const ANY: u16 = 255;
const IN: u16 = 1;
const CH: u16 = 3;
const CLASS_ANY: u16 = 255;

/// Header flags.
const RD: u16 = 0x0100;
const TC: u16 = 0x0200;
const QR: u16 = 0x8000;
const OPCODE_NOTIFY: u16 = 4 << 11;
const OPCODE_UPDATE: u16 = 5 << 11;
const OPCODE_STATUS: u16 = 2 << 11;
const CD: u16 = 0x0010;

/// EDNS(0) DO bit, in the OPT record's TTL.
const DO: u32 = 0x8000;

/// A name in wire format, without compression.
fn name(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in text
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

struct Edns {
    payload: u16,
    version: u8,
    flags: u32,
    options: Vec<(u16, Vec<u8>)>,
}

impl Edns {
    fn new(payload: u16) -> Self {
        Edns {
            payload,
            version: 0,
            flags: 0,
            options: Vec::new(),
        }
    }

    fn record(&self) -> Vec<u8> {
        let mut out = vec![0]; // the root name
        out.extend(OPT.to_be_bytes());
        out.extend(self.payload.to_be_bytes());
        // TTL: extended rcode, version, then the DO bit and zeros.
        let ttl = (u32::from(self.version) << 16) | self.flags;
        out.extend(ttl.to_be_bytes());
        let mut rdata = Vec::new();
        for (code, data) in &self.options {
            rdata.extend(code.to_be_bytes());
            rdata.extend((data.len() as u16).to_be_bytes());
            rdata.extend(data);
        }
        out.extend((rdata.len() as u16).to_be_bytes());
        out.extend(rdata);
        out
    }
}

/// A query: header, questions, and an OPT record when `edns` is set.
struct Query {
    id: u16,
    flags: u16,
    questions: Vec<(Vec<u8>, u16, u16)>,
    edns: Option<Edns>,
    /// Other additional records, already encoded.
    additional: Vec<Vec<u8>>,
}

impl Query {
    fn new(qname: &str, qtype: u16) -> Self {
        Query {
            id: 0x4b5a,
            flags: 0,
            questions: vec![(name(qname), qtype, IN)],
            edns: None,
            additional: Vec::new(),
        }
    }

    fn edns(mut self, edns: Edns) -> Self {
        self.edns = Some(edns);
        self
    }

    fn flags(mut self, flags: u16) -> Self {
        self.flags = flags;
        self
    }

    fn class(mut self, class: u16) -> Self {
        for question in &mut self.questions {
            question.2 = class;
        }
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let arcount = self.additional.len() + usize::from(self.edns.is_some());
        let mut out = Vec::new();
        out.extend(self.id.to_be_bytes());
        out.extend(self.flags.to_be_bytes());
        out.extend((self.questions.len() as u16).to_be_bytes());
        out.extend([0, 0, 0, 0]);
        out.extend((arcount as u16).to_be_bytes());
        for (qname, qtype, qclass) in &self.questions {
            out.extend(qname);
            out.extend(qtype.to_be_bytes());
            out.extend(qclass.to_be_bytes());
        }
        for record in &self.additional {
            out.extend(record);
        }
        if let Some(edns) = &self.edns {
            out.extend(edns.record());
        }
        out
    }
}

fn seed(name: &'static str, bytes: Vec<u8>, well_formed: bool) -> Seed {
    Seed {
        name,
        bytes,
        well_formed,
    }
}

/// Every seed, against the zones of `config/kubezone.yaml` (example.com with the objects of
/// `config/examples`).
pub fn seeds() -> Vec<Seed> {
    let good = |name, query: Query| seed(name, query.bytes(), true);
    let edns = || Edns::new(1232);
    let mut seeds = vec![
        good("a", Query::new("www.example.com", A)),
        good("a-rd", Query::new("www.example.com", A).flags(RD)),
        good("a-edns", Query::new("www.example.com", A).edns(edns())),
        good(
            "aaaa-edns",
            Query::new("www.example.com", AAAA).edns(edns()),
        ),
        good("a-mixed-case", Query::new("WwW.ExAmPlE.cOm", A)),
        good(
            "cname-chain",
            Query::new("docs.example.com", A).edns(edns()),
        ),
        good("cname-type", Query::new("docs.example.com", CNAME)),
        good("wildcard", Query::new("foo.apps.example.com", A)),
        good("wildcard-deep", Query::new("a.b.c.apps.example.com", AAAA)),
        good("txt", Query::new("_dmarc.example.com", TXT).edns(edns())),
        good("nodata-mx", Query::new("www.example.com", MX)),
        good("nodata-aaaa", Query::new("www.example.com", AAAA)),
        good(
            "nodata-empty-non-terminal",
            Query::new("apps.example.com", A),
        ),
        good("nxdomain", Query::new("nope.example.com", A)),
        good(
            "nxdomain-edns",
            Query::new("nope.example.com", AAAA).edns(edns()),
        ),
        good(
            "nxdomain-below-apex-host",
            Query::new("x.dns1.kube-system.example.com", A),
        ),
        good("refused-outside-zones", Query::new("www.example.net", A)),
        good("root-ns", Query::new(".", NS)),
        good("apex-ns", Query::new("example.com", NS).edns(edns())),
        // The request target's glue does not fit 512 bytes: left out without TC.
        good("apex-ns-no-edns", Query::new("example.com", NS)),
        good(
            "cname-loop",
            Query::new("loop1.example.com", A).edns(edns()),
        ),
        good("apex-soa", Query::new("example.com", SOA)),
        good("apex-host-a", Query::new("dns1.kube-system.example.com", A)),
        good("node", Query::new("node-1.internal.example.com", A)),
        good("any", Query::new("www.example.com", ANY)),
        good("axfr", Query::new("example.com", AXFR)),
        good("ixfr", Query::new("example.com", IXFR)),
        good(
            "ds",
            Query::new("example.com", DS).edns(Edns {
                flags: DO,
                ..edns()
            }),
        ),
        good(
            "dnskey-do-cd",
            Query::new("example.com", DNSKEY).flags(CD).edns(Edns {
                flags: DO,
                ..edns()
            }),
        ),
        good("qtype-0", Query::new("www.example.com", 0)),
        good("qtype-65535", Query::new("www.example.com", 0xffff)),
        good("class-ch", Query::new("version.bind", TXT).class(CH)),
        good("ch-id-server", Query::new("id.server", TXT).class(CH)),
        good(
            "ch-hostname-bind",
            Query::new("HOSTNAME.bind", TXT).class(CH).edns(edns()),
        ),
        good("ch-id-server-a", Query::new("id.server", A).class(CH)),
        good(
            "class-ch-in-zone",
            Query::new("www.example.com", A).class(CH),
        ),
        good(
            "class-any",
            Query::new("www.example.com", A).class(CLASS_ANY),
        ),
        good(
            "edns-version-1",
            Query::new("www.example.com", A).edns(Edns {
                version: 1,
                ..edns()
            }),
        ),
        good(
            "edns-payload-512",
            Query::new("www.example.com", A).edns(Edns::new(512)),
        ),
        good(
            "edns-payload-below-512",
            Query::new("www.example.com", A).edns(Edns::new(100)),
        ),
        good(
            "edns-payload-65535",
            Query::new("www.example.com", A).edns(Edns::new(0xffff)),
        ),
        good(
            "edns-cookie",
            Query::new("www.example.com", A).edns(Edns {
                options: vec![(10, b"\x01\x02\x03\x04\x05\x06\x07\x08".to_vec())],
                ..edns()
            }),
        ),
        good(
            "edns-nsid",
            Query::new("www.example.com", A).edns(Edns {
                options: vec![(3, Vec::new())],
                ..edns()
            }),
        ),
        good(
            "edns-nsid-do-refused",
            Query::new("www.example.net", A).edns(Edns {
                flags: DO,
                options: vec![
                    (10, b"\x01\x02\x03\x04\x05\x06\x07\x08".to_vec()),
                    (3, Vec::new()),
                ],
                ..edns()
            }),
        ),
        good(
            "edns-unknown-option",
            Query::new("www.example.com", A).edns(Edns {
                options: vec![
                    (65001, b"kubezone".to_vec()),
                    (8, vec![0, 1, 24, 0, 192, 0, 2]),
                ],
                ..edns()
            }),
        ),
        good("tc-set", Query::new("www.example.com", A).flags(TC)),
        good("qr-set", Query::new("www.example.com", A).flags(QR)),
        good(
            "opcode-notify",
            Query::new("example.com", SOA).flags(OPCODE_NOTIFY),
        ),
        good(
            "opcode-update",
            Query::new("example.com", SOA).flags(OPCODE_UPDATE),
        ),
        good(
            "opcode-status",
            Query::new("example.com", A).flags(OPCODE_STATUS),
        ),
        good(
            "label-63",
            Query::new(&format!("{}.example.com", "a".repeat(63)), A),
        ),
        good(
            "name-255",
            // 4 labels of 61 and one of 1, plus example.com: 255 bytes on the wire.
            Query::new(&format!("{0}.{0}.{0}.a.example.com", "b".repeat(61)), A),
        ),
    ];

    let mut two = Query::new("www.example.com", A);
    two.questions.push((name("docs.example.com"), AAAA, IN));
    seeds.push(good("two-questions", two));

    let mut none = Query::new("www.example.com", A);
    none.questions.clear();
    seeds.push(good("no-question", none));

    let mut two_opt = Query::new("www.example.com", A).edns(edns());
    two_opt.additional.push(edns().record());
    // RFC 6891 6.1.1: a query with two OPT records gets FORMERR.
    seeds.push(seed("two-opt-records", two_opt.bytes(), false));

    // A non-OPT additional record (a TXT at the root), which a query should not carry.
    let mut extra = Query::new("www.example.com", A);
    let mut txt = vec![0];
    txt.extend(TXT.to_be_bytes());
    txt.extend(IN.to_be_bytes());
    txt.extend(60u32.to_be_bytes());
    txt.extend(3u16.to_be_bytes());
    txt.extend(b"\x02hi");
    extra.additional.push(txt);
    seeds.push(good("additional-txt", extra));

    // A second question whose name ends in a compression pointer into the first one.
    let mut second = Query::new("www.example.com", A);
    second.questions.push((b"\x04docs\xc0\x10".to_vec(), A, IN));
    seeds.push(good("compression-pointer", second));

    // Broken packets.
    let valid = Query::new("www.example.com", A).bytes();
    seeds.push(seed("empty", Vec::new(), false));
    seeds.push(seed("header-only-5-bytes", valid[..5].to_vec(), false));
    seeds.push(seed("header-only", valid[..12].to_vec(), false));
    seeds.push(seed("truncated-in-name", valid[..18].to_vec(), false));
    seeds.push(seed(
        "truncated-before-class",
        valid[..valid.len() - 2].to_vec(),
        false,
    ));
    let mut lying = Query::new("www.example.com", A).bytes();
    lying[5] = 2; // QDCOUNT 2, one question present
    seeds.push(seed("qdcount-too-high", lying, false));
    let mut arcount = Query::new("www.example.com", A).bytes();
    arcount[11] = 1; // ARCOUNT 1, no record
    seeds.push(seed("arcount-too-high", arcount, false));
    let mut self_loop = valid[..12].to_vec();
    self_loop.extend(b"\xc0\x0c");
    self_loop.extend(A.to_be_bytes());
    self_loop.extend(IN.to_be_bytes());
    seeds.push(seed("compression-loop-self", self_loop, false));
    let mut pair_loop = valid[..12].to_vec();
    pair_loop.extend(b"\x01a\xc0\x10\x01b\xc0\x0c");
    pair_loop.extend(A.to_be_bytes());
    pair_loop.extend(IN.to_be_bytes());
    seeds.push(seed("compression-loop-pair", pair_loop, false));
    let mut forward = valid[..12].to_vec();
    forward.extend(b"\xc0\xff");
    forward.extend(A.to_be_bytes());
    forward.extend(IN.to_be_bytes());
    seeds.push(seed("compression-pointer-out-of-bounds", forward, false));
    let mut long_label = valid[..12].to_vec();
    long_label.push(64);
    long_label.extend([b'a'; 64]);
    long_label.push(0);
    long_label.extend(A.to_be_bytes());
    long_label.extend(IN.to_be_bytes());
    seeds.push(seed("label-64", long_label, false));
    let mut trailing = valid.clone();
    trailing.extend(b"trailing garbage");
    seeds.push(seed("trailing-bytes", trailing, true));
    seeds
}
