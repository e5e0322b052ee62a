//! What a plan says: the changes to send, each with the prerequisites that guard it, and what
//! was left alone and why.

use std::{collections::BTreeSet, fmt};

use hickory_proto::rr::{Name, RecordType};

use super::zone::Rdata;

/// What a change does to one RRset kubezone owns (or is about to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Records and their registry TXT go away (policy `sync` only).
    Delete,
    /// Records owned by kubezone change (TTL or data).
    Update,
    /// Records already equal and owned by kubezone through external-dns's old registry format
    /// get the new-format registry TXT external-dns adds on its own take-over (an update in
    /// its terms, so not under `create-only`).
    Claim,
    /// Records nobody has yet are added, with their registry TXT.
    Create,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Delete => "delete",
            Action::Update => "update",
            Action::Claim => "claim",
            Action::Create => "create",
        })
    }
}

/// An RFC 2136 §2.4 prerequisite: how the primary must look for a change to apply. Each states
/// an RRset exactly as the plan saw it, so anything changed there since makes the whole
/// message fail (NXRRSET, YXRRSET, YXDOMAIN) instead of being overwritten.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Prerequisite {
    /// §2.4.3 "RRset does not exist".
    Absent { name: Name, record_type: RecordType },
    /// §2.4.2 "RRset exists (value dependent)": exactly these records, no more, no fewer.
    Exactly {
        name: Name,
        record_type: RecordType,
        rdatas: BTreeSet<Rdata>,
    },
    /// §2.4.5 "Name is not in use".
    NameUnused { name: Name },
}

impl Prerequisite {
    /// How many records it takes in the prerequisite section.
    pub fn records(&self) -> usize {
        match self {
            Prerequisite::Exactly { rdatas, .. } => rdatas.len(),
            Prerequisite::Absent { .. } | Prerequisite::NameUnused { .. } => 1,
        }
    }
}

/// Prerequisites in nsupdate's syntax.
impl fmt::Display for Prerequisite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Prerequisite::Absent { name, record_type } => {
                write!(f, "prereq nxrrset {name} IN {record_type}")
            }
            Prerequisite::Exactly {
                name,
                record_type,
                rdatas,
            } => {
                let mut first = true;
                for rdata in rdatas {
                    if !first {
                        writeln!(f)?;
                    }
                    first = false;
                    let text = rdata.to_text(*record_type);
                    write!(f, "prereq yxrrset {name} IN {record_type} {text}")?;
                }
                Ok(())
            }
            Prerequisite::NameUnused { name } => write!(f, "prereq nxdomain {name}"),
        }
    }
}

/// An RFC 2136 §2.5 update, one record at a time: adding to an RRset (§2.5.1) or deleting one
/// record from it (§2.5.4). Whole RRsets are never deleted, so a value kubezone did not write
/// (a hand-made TXT beside a registry TXT) is never lost.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edit {
    Add {
        name: Name,
        record_type: RecordType,
        ttl: u32,
        rdata: Rdata,
    },
    Remove {
        name: Name,
        record_type: RecordType,
        rdata: Rdata,
    },
}

/// Updates in nsupdate's syntax.
impl fmt::Display for Edit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Edit::Add {
                name,
                record_type,
                ttl,
                rdata,
            } => {
                let text = rdata.to_text(*record_type);
                write!(f, "update add {name} {ttl} IN {record_type} {text}")
            }
            Edit::Remove {
                name,
                record_type,
                rdata,
            } => {
                let text = rdata.to_text(*record_type);
                write!(f, "update delete {name} IN {record_type} {text}")
            }
        }
    }
}

/// One change to one RRset, with what guards it and what it sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    pub name: Name,
    pub record_type: RecordType,
    /// kubezone's records there now (empty for a create).
    pub before: BTreeSet<Rdata>,
    /// kubezone's records there after (empty for a delete).
    pub after: BTreeSet<Rdata>,
    /// The TTL after (for a delete, the one it had).
    pub ttl: u32,
    pub prerequisites: Vec<Prerequisite>,
    /// In the order they must be applied: removals first.
    pub edits: Vec<Edit>,
}

/// One line for `kubezone plan` and the log: the action and the records it leaves.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let records = if self.action == Action::Delete {
            &self.before
        } else {
            &self.after
        };
        let values: Vec<String> = records
            .iter()
            .map(|r| r.to_text(self.record_type))
            .collect();
        write!(
            f,
            "{} {} {} {} {}",
            self.action,
            self.name,
            self.ttl,
            self.record_type,
            values.join(", ")
        )
    }
}

/// Who holds records kubezone will not touch.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holder {
    /// Another external-dns registry owner id.
    Owner(String),
    /// No registry record covers them (made by hand, or by a tool without a registry).
    Unowned,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Owner(owner) => write!(f, "owner {owner}"),
            Holder::Unowned => f.write_str("unowned"),
        }
    }
}

/// A name and type kubezone wants, held by someone else: reported, left alone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Conflict {
    pub name: Name,
    /// The type kubezone wants there.
    pub record_type: RecordType,
    /// The type of the records in the way (the same, or the CNAME or other data a CNAME
    /// cannot live beside, or any record of another owner at the name).
    pub held_type: RecordType,
    pub holder: Holder,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} is wanted but {} holds {} there",
            self.name, self.record_type, self.holder, self.held_type
        )
    }
}

/// Why an RRset kubezone wants cannot be pushed at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error(
        "its registry TXT {txt_name} lies outside the zone; set a txtPrefix ending in '.' \
         (such as \"%{{record_type}}-reg.\") to own records at the apex"
    )]
    RegistryOutsideZone { txt_name: Name },
    #[error("it lies outside the zone")]
    OutsideZone,
    #[error("a value of it reads as an external-dns registry record (heritage=external-dns)")]
    RegistryValue,
}

/// An RRset kubezone wants and cannot push, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub name: Name,
    pub record_type: RecordType,
    pub reason: Skip,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} is not pushed: {}",
            self.name, self.record_type, self.reason
        )
    }
}
