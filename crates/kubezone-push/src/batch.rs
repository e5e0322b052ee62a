//! A plan's changes as RFC 2136 UPDATE messages, in batches bounded in bytes and records.
//!
//! Each message names the zone (§2.3), then the prerequisites of every change in it (§2.4),
//! then their updates (§2.5), in order. Why prerequisites at all: between the transfer the plan
//! was made from and the UPDATE, anyone may change the primary. Every change therefore states
//! each RRset it depends on exactly as it saw it (§2.4.2 "RRset exists (value dependent)", or
//! §2.4.3 "RRset does not exist", §2.4.5 "Name is not in use" for a CNAME at a new name): the
//! records it replaces or deletes, the registry TXT that makes them kubezone's, and, for a
//! create, the emptiness of the RRset (and of the CNAME beside it). Value-dependent rather than
//! just "exists" because a record added by hand to an RRset kubezone owns must not be
//! deleted with it, and checking the registry TXT's value, not only its presence, keeps a
//! take-over by another owner from being undone. If anything differs the server applies none
//! of the message (NXRRSET, YXRRSET, YXDOMAIN); the caller transfers the zone again and plans
//! anew, so no change is lost and none overwrites.
//!
//! A name's changes are never split across messages: their prerequisites refer to one another's
//! RRsets (a CNAME replacing an A), which a part sent earlier would change.
//!
//! The caller's loop: `plan::plan` against its `PrimaryZone`, [`batches`] of the plan's changes,
//! then per batch `Batch::message(id)` signed and sent; on NOERROR `PrimaryZone::apply` of the
//! batch's edits (so changes between reconciliations go out against that view, without a
//! transfer); on a failed prerequisite (NXRRSET, YXRRSET, NXDOMAIN, YXDOMAIN) the batch's
//! `index` and `changes` say what was held back, and the view is stale until the next AXFR.

use std::collections::HashSet;

use hickory_proto::rr::{DNSClass, Name, RecordType};

use crate::plan::{Change, Edit, Prerequisite};

/// The largest message kubezone sends: TCP's 65,535 bytes, less room for the TSIG record
/// (key and algorithm names, a MAC of up to 64 bytes, other data).
pub const MAX_MESSAGE: usize = 65_535 - 1_024;

/// How large a batch may grow before the next change starts another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Bytes of the unsigned message.
    pub max_bytes: usize,
    /// Records in the prerequisite and update sections together.
    pub max_records: usize,
}

impl Default for Bounds {
    /// 16 KiB and 1,000 records: an initial sync of 10,000 names (one address each, with its
    /// registry TXT and prerequisites) takes about 160 messages, and one refused message holds
    /// back about 65 names.
    fn default() -> Bounds {
        Bounds {
            max_bytes: 16 * 1024,
            max_records: 1_000,
        }
    }
}

/// One UPDATE message and the changes it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    index: usize,
    changes: Vec<Change>,
    /// The message with ID 0.
    message: Vec<u8>,
    prerequisites: usize,
    updates: usize,
}

impl Batch {
    /// Its place among the plan's batches, from 0, for reports of the one that failed.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The changes it carries: what a failed prerequisite held back.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Its updates, in order: what the primary holds once the message is accepted
    /// (`PrimaryZone::apply`).
    pub fn edits(&self) -> impl Iterator<Item = &Edit> {
        self.changes.iter().flat_map(|c| c.edits.iter())
    }

    /// The unsigned message with this ID, ready for TSIG signing.
    pub fn message(&self, id: u16) -> Vec<u8> {
        let mut message = self.message.clone();
        if let Some(head) = message.get_mut(..2) {
            head.copy_from_slice(&id.to_be_bytes());
        }
        message
    }

    /// Bytes of the unsigned message.
    pub fn len(&self) -> usize {
        self.message.len()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Records in the prerequisite section.
    pub fn prerequisites(&self) -> usize {
        self.prerequisites
    }

    /// Records in the update section.
    pub fn updates(&self) -> usize {
        self.updates
    }
}

/// A name whose changes cannot be sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error(
        "zone {zone}: the changes at {name} take {bytes} bytes, more than one UPDATE message \
         holds ({MAX_MESSAGE})"
    )]
    TooLarge {
        zone: String,
        name: String,
        bytes: usize,
    },
    #[error("zone {zone}: a record at {name} has RDATA longer than 65,535 bytes")]
    RdataTooLong { zone: String, name: String },
}

/// The batches of a plan, and the names that fit in none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batches {
    pub batches: Vec<Batch>,
    /// Changes left out, each name's with why; the rest are unaffected.
    pub refused: Vec<(Vec<Change>, BatchError)>,
}

/// Packs `changes` (a plan's, a name's changes together) into UPDATE messages for `zone`.
pub fn batches(zone: &Name, changes: &[Change], bounds: Bounds) -> Batches {
    let mut out = Batches::default();
    let mut open = Open::new(zone);
    for unit in units(changes) {
        let encoded = match Encoded::new(zone, unit, &open.seen) {
            Ok(encoded) => encoded,
            Err(e) => {
                out.refused.push((unit.to_vec(), e));
                continue;
            }
        };
        let fits = open.len() + encoded.len() <= bounds.max_bytes
            && open.records() + encoded.records() <= bounds.max_records;
        if fits || open.is_empty() {
            open.push(unit, encoded);
            continue;
        }
        open.flush(&mut out.batches);
        // Against an empty batch nothing is shared any more: encode again.
        match Encoded::new(zone, unit, &open.seen) {
            Ok(encoded) => open.push(unit, encoded),
            Err(e) => out.refused.push((unit.to_vec(), e)),
        }
    }
    open.flush(&mut out.batches);
    out
}

/// Consecutive changes at one name.
fn units(changes: &[Change]) -> impl Iterator<Item = &[Change]> {
    changes.chunk_by(|a, b| a.name == b.name)
}

/// A batch being filled.
struct Open {
    zone_section: Vec<u8>,
    changes: Vec<Change>,
    prerequisites: Vec<u8>,
    prerequisite_count: usize,
    updates: Vec<u8>,
    update_count: usize,
    /// Prerequisites already in this batch: stated once per message.
    seen: HashSet<Prerequisite>,
}

impl Open {
    fn new(zone: &Name) -> Open {
        let mut zone_section = Vec::new();
        write_full_name(&mut zone_section, zone);
        zone_section.extend_from_slice(&u16::from(RecordType::SOA).to_be_bytes());
        zone_section.extend_from_slice(&u16::from(DNSClass::IN).to_be_bytes());
        Open {
            zone_section,
            changes: Vec::new(),
            prerequisites: Vec::new(),
            prerequisite_count: 0,
            updates: Vec::new(),
            update_count: 0,
            seen: HashSet::new(),
        }
    }

    fn len(&self) -> usize {
        HEADER_LEN + self.zone_section.len() + self.prerequisites.len() + self.updates.len()
    }

    fn records(&self) -> usize {
        self.prerequisite_count + self.update_count
    }

    fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    fn push(&mut self, unit: &[Change], encoded: Encoded) {
        self.changes.extend_from_slice(unit);
        self.prerequisites.extend_from_slice(&encoded.prerequisites);
        self.prerequisite_count += encoded.prerequisite_count;
        self.updates.extend_from_slice(&encoded.updates);
        self.update_count += encoded.update_count;
        self.seen.extend(encoded.new_prerequisites);
    }

    fn flush(&mut self, batches: &mut Vec<Batch>) {
        if self.is_empty() {
            return;
        }
        // Counts fit: a message is at most MAX_MESSAGE bytes, and every record takes more
        // than one byte.
        let count = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
        let mut message = Vec::with_capacity(self.len());
        message.extend_from_slice(&[0, 0]);
        message.extend_from_slice(&UPDATE_FLAGS.to_be_bytes());
        message.extend_from_slice(&1u16.to_be_bytes());
        message.extend_from_slice(&count(self.prerequisite_count));
        message.extend_from_slice(&count(self.update_count));
        message.extend_from_slice(&0u16.to_be_bytes());
        message.extend_from_slice(&self.zone_section);
        message.append(&mut self.prerequisites);
        message.append(&mut self.updates);
        batches.push(Batch {
            index: batches.len(),
            changes: std::mem::take(&mut self.changes),
            message,
            prerequisites: self.prerequisite_count,
            updates: self.update_count,
        });
        self.prerequisite_count = 0;
        self.update_count = 0;
        self.seen.clear();
    }
}

const HEADER_LEN: usize = 12;
/// QR=0, OPCODE=UPDATE (5), every other flag clear.
const UPDATE_FLAGS: u16 = 5 << 11;
/// Where the zone section's name starts: owner names point there (RFC 1035 §4.1.4).
const ZONE_POINTER: [u8; 2] = [0xC0, 0x0C];
const CLASS_NONE: u16 = 254;

/// One name's changes in wire form, prerequisites already in the batch left out.
struct Encoded {
    prerequisites: Vec<u8>,
    prerequisite_count: usize,
    updates: Vec<u8>,
    update_count: usize,
    new_prerequisites: Vec<Prerequisite>,
}

impl Encoded {
    fn new(
        zone: &Name,
        unit: &[Change],
        seen: &HashSet<Prerequisite>,
    ) -> Result<Encoded, BatchError> {
        let name = unit.first().map(|c| c.name.to_ascii()).unwrap_or_default();
        let too_long = || BatchError::RdataTooLong {
            zone: zone.to_ascii(),
            name: name.clone(),
        };
        let mut encoded = Encoded {
            prerequisites: Vec::new(),
            prerequisite_count: 0,
            updates: Vec::new(),
            update_count: 0,
            new_prerequisites: Vec::new(),
        };
        for prerequisite in unit.iter().flat_map(|c| &c.prerequisites) {
            if seen.contains(prerequisite) || encoded.new_prerequisites.contains(prerequisite) {
                continue;
            }
            encoded.prerequisite_count += prerequisite.records();
            write_prerequisite(&mut encoded.prerequisites, zone, prerequisite)
                .ok_or_else(too_long)?;
            encoded.new_prerequisites.push(prerequisite.clone());
        }
        for edit in unit.iter().flat_map(|c| &c.edits) {
            encoded.update_count += 1;
            write_edit(&mut encoded.updates, zone, edit).ok_or_else(too_long)?;
        }
        if HEADER_LEN + encoded.len() > MAX_MESSAGE {
            return Err(BatchError::TooLarge {
                zone: zone.to_ascii(),
                name,
                bytes: HEADER_LEN + encoded.len(),
            });
        }
        Ok(encoded)
    }

    fn len(&self) -> usize {
        self.prerequisites.len() + self.updates.len()
    }

    fn records(&self) -> usize {
        self.prerequisite_count + self.update_count
    }
}

fn write_prerequisite(out: &mut Vec<u8>, zone: &Name, prerequisite: &Prerequisite) -> Option<()> {
    match prerequisite {
        // §2.4.3: CLASS NONE, TTL 0, no RDATA.
        Prerequisite::Absent { name, record_type } => {
            write_record(out, zone, name, u16::from(*record_type), CLASS_NONE, 0, &[])
        }
        // §2.4.2: the whole RRset, CLASS of the zone, TTL 0.
        Prerequisite::Exactly {
            name,
            record_type,
            rdatas,
        } => rdatas.iter().try_for_each(|rdata| {
            write_record(
                out,
                zone,
                name,
                u16::from(*record_type),
                u16::from(DNSClass::IN),
                0,
                rdata.as_bytes(),
            )
        }),
        // §2.4.5: TYPE ANY, CLASS NONE, TTL 0, no RDATA.
        Prerequisite::NameUnused { name } => write_record(
            out,
            zone,
            name,
            u16::from(RecordType::ANY),
            CLASS_NONE,
            0,
            &[],
        ),
    }
}

fn write_edit(out: &mut Vec<u8>, zone: &Name, edit: &Edit) -> Option<()> {
    match edit {
        // §2.5.1: CLASS of the zone.
        Edit::Add {
            name,
            record_type,
            ttl,
            rdata,
        } => write_record(
            out,
            zone,
            name,
            u16::from(*record_type),
            u16::from(DNSClass::IN),
            *ttl,
            rdata.as_bytes(),
        ),
        // §2.5.4: CLASS NONE, TTL 0, the RDATA to delete.
        Edit::Remove {
            name,
            record_type,
            rdata,
        } => write_record(
            out,
            zone,
            name,
            u16::from(*record_type),
            CLASS_NONE,
            0,
            rdata.as_bytes(),
        ),
    }
}

/// One record; `None` if the RDATA is too long for RDLENGTH.
fn write_record(
    out: &mut Vec<u8>,
    zone: &Name,
    name: &Name,
    record_type: u16,
    class: u16,
    ttl: u32,
    rdata: &[u8],
) -> Option<()> {
    let rdlength = u16::try_from(rdata.len()).ok()?;
    write_owner(out, zone, name);
    out.extend_from_slice(&record_type.to_be_bytes());
    out.extend_from_slice(&class.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&rdlength.to_be_bytes());
    out.extend_from_slice(rdata);
    Some(())
}

/// An owner name: its labels below the zone, then a pointer to the zone section's name.
fn write_owner(out: &mut Vec<u8>, zone: &Name, name: &Name) {
    if !zone.zone_of(name) {
        write_full_name(out, name);
        return;
    }
    let own = name.iter().count().saturating_sub(zone.iter().count());
    for label in name.iter().take(own) {
        write_label(out, label);
    }
    out.extend_from_slice(&ZONE_POINTER);
}

fn write_full_name(out: &mut Vec<u8>, name: &Name) {
    for label in name.iter() {
        write_label(out, label);
    }
    out.push(0);
}

fn write_label(out: &mut Vec<u8>, label: &[u8]) {
    // hickory's Name keeps labels to 63 bytes.
    out.push(u8::try_from(label.len()).unwrap_or(63));
    out.extend(label.iter().map(u8::to_ascii_lowercase));
}

#[cfg(test)]
mod tests;
