//! The records a plan compares: RDATA in one comparable form, RRsets, and the primary's zone
//! as read by AXFR (kept up to date by the batches that succeed).

use std::collections::{BTreeMap, BTreeSet};

use hickory_proto::{
    rr::{DNSClass, Name, RData, Record, RecordType},
    serialize::binary::{BinDecoder, BinEncodable, BinEncoder, Restrict},
};

use super::change::Edit;

/// RDATA in wire form with names uncompressed and lower case where RFC 4034 §6.2 says so:
/// the form the index stores, so what kubezone wants and what the primary has compare equal
/// however either spelled the names.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rdata(Box<[u8]>);

impl Rdata {
    /// RDATA already in that form, such as an index RRset's.
    pub fn from_wire(bytes: &[u8]) -> Rdata {
        Rdata(bytes.into())
    }

    /// The canonical form of a parsed RDATA; `None` when hickory cannot encode it.
    pub fn from_rdata(rdata: &RData) -> Option<Rdata> {
        let mut bytes = Vec::new();
        let mut encoder = BinEncoder::new(&mut bytes);
        encoder.set_canonical_form(true);
        rdata.emit(&mut encoder).ok()?;
        Some(Rdata(bytes.into_boxed_slice()))
    }

    /// A TXT RDATA holding `text`, cut into character-strings of at most 255 bytes.
    pub fn txt(text: &str) -> Rdata {
        let mut bytes = Vec::with_capacity(text.len() + text.len() / 255 + 1);
        let mut chunks = text.as_bytes().chunks(255).peekable();
        if chunks.peek().is_none() {
            bytes.push(0);
        }
        for chunk in chunks {
            // `chunks(255)` makes every chunk at most 255 bytes long.
            bytes.push(u8::try_from(chunk.len()).unwrap_or(u8::MAX));
            bytes.extend_from_slice(chunk);
        }
        Rdata(bytes.into_boxed_slice())
    }

    /// The text of a TXT RDATA, its character-strings joined (external-dns's providers read a
    /// long value back this way); `None` when the bytes are not character-strings or not UTF-8.
    pub fn txt_text(&self) -> Option<String> {
        let mut rest: &[u8] = &self.0;
        let mut text = Vec::with_capacity(rest.len());
        while let Some((&len, tail)) = rest.split_first() {
            let (string, tail) = tail.split_at_checked(usize::from(len))?;
            text.extend_from_slice(string);
            rest = tail;
        }
        String::from_utf8(text).ok()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The RDATA parsed as `record_type`, for printing; `None` when it does not parse.
    pub fn parse(&self, record_type: RecordType) -> Option<RData> {
        let len = u16::try_from(self.0.len()).ok()?;
        let mut decoder = BinDecoder::new(&self.0);
        RData::read(&mut decoder, record_type, Restrict::new(len)).ok()
    }

    /// Presentation form: hickory's for known types, RFC 3597's `\# len hex` otherwise.
    pub fn to_text(&self, record_type: RecordType) -> String {
        match self.parse(record_type) {
            Some(rdata) => rdata.to_string(),
            None => {
                let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
                format!("\\# {} {hex}", self.0.len())
            }
        }
    }
}

impl std::fmt::Debug for Rdata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rdata({:02x?})", &self.0)
    }
}

/// The records of one name and type: a TTL and a set of RDATA.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordSet {
    pub ttl: u32,
    pub rdatas: BTreeSet<Rdata>,
}

/// A record of the primary's zone that the plan could not read, and was left out of it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("zone {zone}: record {name} {record_type} from the primary cannot be encoded; left out")]
pub struct UnreadableRecord {
    pub zone: String,
    pub name: String,
    pub record_type: RecordType,
}

/// The primary's zone as kubezone last saw it: every RRset by (name, type), names lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryZone {
    origin: Name,
    rrsets: BTreeMap<(Name, RecordType), RecordSet>,
}

impl PrimaryZone {
    /// An empty zone (a primary that has nothing but what kubezone will not touch).
    pub fn new(origin: &Name) -> PrimaryZone {
        PrimaryZone {
            origin: fqdn_lower(origin),
            rrsets: BTreeMap::new(),
        }
    }

    /// The zone from the records of an AXFR. Records outside the zone or of another class are
    /// ignored; the SOA is kept (it is never touched). Records hickory cannot encode are
    /// returned beside the zone, each naming itself.
    pub fn from_records<'r>(
        origin: &Name,
        records: impl IntoIterator<Item = &'r Record>,
    ) -> (PrimaryZone, Vec<UnreadableRecord>) {
        let mut zone = PrimaryZone::new(origin);
        let mut unreadable = Vec::new();
        for record in records {
            if let Err(e) = zone.insert(record) {
                unreadable.push(e);
            }
        }
        (zone, unreadable)
    }

    /// Adds one record as read from the primary.
    pub fn insert(&mut self, record: &Record) -> Result<(), UnreadableRecord> {
        if record.dns_class != DNSClass::IN
            || matches!(record.data, RData::Update0(_))
            || !self.origin.zone_of(&record.name)
        {
            return Ok(());
        }
        let record_type = record.record_type();
        let Some(rdata) = Rdata::from_rdata(&record.data) else {
            return Err(UnreadableRecord {
                zone: self.origin.to_ascii(),
                name: record.name.to_ascii(),
                record_type,
            });
        };
        self.add(&record.name, record_type, record.ttl, rdata);
        Ok(())
    }

    fn add(&mut self, name: &Name, record_type: RecordType, ttl: u32, rdata: Rdata) {
        let set = self
            .rrsets
            .entry((fqdn_lower(name), record_type))
            .or_insert_with(|| RecordSet {
                ttl,
                rdatas: BTreeSet::new(),
            });
        // An RRset has one TTL (RFC 2181 §5.2); the last record added sets it, as an UPDATE
        // that adds to an RRset does on BIND and Knot.
        set.ttl = ttl;
        set.rdatas.insert(rdata);
    }

    /// Records the effect of edits the primary accepted, so the next plan starts from it
    /// without a fresh transfer.
    pub fn apply<'e>(&mut self, edits: impl IntoIterator<Item = &'e Edit>) {
        for edit in edits {
            match edit {
                Edit::Add {
                    name,
                    record_type,
                    ttl,
                    rdata,
                } => self.add(name, *record_type, *ttl, rdata.clone()),
                Edit::Remove {
                    name,
                    record_type,
                    rdata,
                } => {
                    let key = (fqdn_lower(name), *record_type);
                    if let Some(set) = self.rrsets.get_mut(&key) {
                        set.rdatas.remove(rdata);
                        if set.rdatas.is_empty() {
                            self.rrsets.remove(&key);
                        }
                    }
                }
            }
        }
    }

    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// The whole RRset at `name` of `record_type`, as the primary has it.
    pub fn rrset(&self, name: &Name, record_type: RecordType) -> Option<&RecordSet> {
        self.rrsets.get(&(fqdn_lower(name), record_type))
    }

    /// Every RRset, in canonical name order.
    pub fn rrsets(&self) -> impl Iterator<Item = (&Name, RecordType, &RecordSet)> {
        self.rrsets.iter().map(|((n, t), s)| (n, *t, s))
    }

    /// The RRsets at one name.
    pub fn at(&self, name: &Name) -> impl Iterator<Item = (RecordType, &RecordSet)> {
        let name = fqdn_lower(name);
        let start = (name.clone(), RecordType::Unknown(0));
        self.rrsets
            .range(start..)
            .take_while(move |((n, _), _)| *n == name)
            .map(|((_, t), s)| (*t, s))
    }

    /// Whether the primary has anything at `name`.
    pub fn has_name(&self, name: &Name) -> bool {
        self.at(name).next().is_some()
    }

    pub fn len(&self) -> usize {
        self.rrsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rrsets.is_empty()
    }
}

/// Names are compared and stored lower case and fully qualified.
pub(crate) fn fqdn_lower(name: &Name) -> Name {
    let mut name = name.to_lowercase();
    name.set_fqdn(true);
    name
}
