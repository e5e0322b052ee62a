//! The plan: from the primary's zone to what kubezone wants there, by policy, touching only
//! what kubezone owns through external-dns's TXT registry.
//!
//! Per name and type:
//! - wanted, absent, nobody's → create (with its registry TXT);
//! - wanted, ours, different → update; equal → nothing (owned through the old registry format
//!   only: add the new-format TXT, as external-dns does on take-over);
//! - ours, no longer wanted → delete (records and registry TXT);
//! - wanted but held by another owner, or present without a registry record (made by hand) →
//!   a conflict naming the holder, left alone. As in external-dns, another owner's records at a
//!   name keep kubezone from creating any type there; a hand-made record blocks only its own
//!   type, and a CNAME (which cannot share its name) every type.
//!
//! The apex SOA and NS, DNSSEC records, and types external-dns's registry cannot name are never
//! touched. Every change states the RRsets it depends on as seen (`change::Prerequisite`), so
//! that a change made on the primary since the transfer fails the update instead of being
//! overwritten; the caller then transfers the zone again and plans anew.

mod change;
mod zone;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use hickory_proto::rr::{Name, RecordType};
use kubezone_index::{NameKey, NameNode, NodeRole, ZoneSnapshot};

pub use change::{Action, Change, Conflict, Edit, Holder, Prerequisite, Skip, Skipped};
pub use zone::{PrimaryZone, Rdata, RecordSet, UnreadableRecord};

use crate::registry::{self, Labels, Registry, SUPPORTED_TYPES};
use zone::fqdn_lower;

/// Which changes a zone's `push.policy` lets through (external-dns's `--policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Create, update and delete.
    #[default]
    Sync,
    /// Create and update, never delete.
    UpsertOnly,
    /// Only create.
    CreateOnly,
}

impl Policy {
    pub fn allows(self, action: Action) -> bool {
        match action {
            Action::Create => true,
            Action::Update | Action::Claim => self != Policy::CreateOnly,
            Action::Delete => self == Policy::Sync,
        }
    }
}

/// A value of `push.policy` that is none of the three.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("push policy {0:?} is not one of sync, upsert-only, create-only")]
pub struct UnknownPolicy(pub String);

impl std::str::FromStr for Policy {
    type Err = UnknownPolicy;

    fn from_str(s: &str) -> Result<Policy, UnknownPolicy> {
        match s {
            "sync" => Ok(Policy::Sync),
            "upsert-only" => Ok(Policy::UpsertOnly),
            "create-only" => Ok(Policy::CreateOnly),
            other => Err(UnknownPolicy(other.to_owned())),
        }
    }
}

/// One RRset kubezone wants on the primary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantedRRset {
    pub name: Name,
    pub record_type: RecordType,
    pub ttl: u32,
    pub rdatas: BTreeSet<Rdata>,
    /// external-dns's resource label for its registry TXT (`registry::resource_label`).
    pub resource: Option<String>,
}

/// What kubezone would serve for a zone, as RRsets to push: everything but the SOA and the
/// apex NS, which belong to the primary, and kubezone's own nameserver hosts. The resource label names the object that won the
/// name.
pub fn wanted_from_snapshot(snapshot: &ZoneSnapshot) -> Vec<WantedRRset> {
    wanted_from_nodes(snapshot, snapshot.nodes())
}

/// [`wanted_from_snapshot`] for some of the snapshot's nodes only (those a publish changed).
pub fn wanted_from_nodes<'n>(
    snapshot: &ZoneSnapshot,
    nodes: impl IntoIterator<Item = &'n NameNode>,
) -> Vec<WantedRRset> {
    let origin = fqdn_lower(snapshot.origin());
    let mut wanted = Vec::new();
    for node in nodes {
        // kubezone's own nameserver hosts and their glue are the serving side's, not records
        // to put on someone else's primary.
        if node.role() == NodeRole::NameServer {
            continue;
        }
        let Some(name) = node_name(node) else {
            continue;
        };
        let resource = node.provenance().and_then(|p| {
            let winner = p
                .sources
                .iter()
                .find(|s| Some(s.kind()) == p.winner)
                .or(p.sources.first());
            winner.and_then(registry::resource_label)
        });
        for rrset in node.rrsets() {
            let record_type = rrset.record_type();
            if record_type == RecordType::SOA || (record_type == RecordType::NS && name == origin) {
                continue;
            }
            wanted.push(WantedRRset {
                name: name.clone(),
                record_type,
                ttl: rrset.ttl(),
                rdatas: rrset.tails().rdatas().map(Rdata::from_wire).collect(),
                resource: resource.clone(),
            });
        }
    }
    wanted
}

/// A node's name, lower case with its final dot.
pub fn node_name(node: &NameNode) -> Option<Name> {
    let name = NameKey::from_wire(node.key()).and_then(|(key, _)| key.to_name())?;
    Some(fqdn_lower(&name))
}

/// What to do on the primary, and what was left alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The changes to send, grouped by name in canonical order (a name's changes together:
    /// deletes, then updates, then creates).
    pub changes: Vec<Change>,
    /// Changes the policy keeps back (a delete under `upsert-only`, say), for `kubezone plan`.
    pub withheld: Vec<Change>,
    pub conflicts: Vec<Conflict>,
    pub skipped: Vec<Skipped>,
}

impl Plan {
    /// No change to send.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Plans the changes that bring `zone` (the primary's, as last seen) to `wanted`.
pub fn plan(
    zone: &PrimaryZone,
    wanted: &[WantedRRset],
    registry: &Registry,
    policy: Policy,
) -> Plan {
    plan_some(zone, wanted, None, registry, policy)
}

/// [`plan`] for `names` only (lower case, with their final dots): what a publish changed. `wanted`
/// holds the wanted RRsets at those names; every other name is left as it is.
pub fn plan_names(
    zone: &PrimaryZone,
    wanted: &[WantedRRset],
    names: &BTreeSet<Name>,
    registry: &Registry,
    policy: Policy,
) -> Plan {
    plan_some(zone, wanted, Some(names), registry, policy)
}

fn plan_some(
    zone: &PrimaryZone,
    wanted: &[WantedRRset],
    only: Option<&BTreeSet<Name>>,
    registry: &Registry,
    policy: Policy,
) -> Plan {
    let planner = Planner {
        zone,
        registry,
        policy,
        owners: Owners::read(zone, registry),
    };
    let mut out = Plan::default();
    let wanted = planner.wanted_by_name(wanted, &mut out);
    let names: BTreeSet<Name> = match only {
        Some(only) => only.clone(),
        None => {
            let mut names: BTreeSet<Name> = wanted.keys().cloned().collect();
            names.extend(
                zone.rrsets()
                    .filter(|(name, record_type, _)| planner.manages(name, *record_type))
                    .map(|(name, _, _)| name.clone()),
            );
            names
        }
    };
    for name in names {
        let wanted_here = wanted.get(&name).cloned().unwrap_or_default();
        planner.plan_name(&name, &wanted_here, &mut out);
    }
    out
}

/// A registry TXT value as read from the primary.
#[derive(Clone, Debug)]
struct Entry {
    txt_name: Name,
    rdata: Rdata,
    owner: Option<String>,
    /// At `<prefix><type>-<name>` rather than at the record's own name.
    new_format: bool,
}

/// The registry as read from the primary's TXT records.
struct Owners {
    /// (endpoint name, type or `None` for the old format) → the values covering it.
    by_key: HashMap<(String, Option<RecordType>), Vec<Entry>>,
    /// Every TXT value that is a registry record, so it is not taken for data.
    values: HashSet<(Name, Rdata)>,
}

/// Who owns an RRset.
enum Owned<'a> {
    /// kubezone's owner id, through these registry values.
    Ours(&'a [Entry]),
    /// Someone else; `registered` when a registry value says so (rather than nothing).
    Held { holder: Holder, registered: bool },
}

impl Owners {
    fn read(zone: &PrimaryZone, registry: &Registry) -> Owners {
        let mut owners = Owners {
            by_key: HashMap::new(),
            values: HashSet::new(),
        };
        for (name, record_type, set) in zone.rrsets() {
            if record_type != RecordType::TXT {
                continue;
            }
            for rdata in &set.rdatas {
                let Some(labels) = rdata.txt_text().and_then(|t| Labels::parse(&t).ok()) else {
                    continue;
                };
                owners.values.insert((name.clone(), rdata.clone()));
                let Some(covered) = registry.covered_by(&registry::endpoint_name(name)) else {
                    continue;
                };
                owners
                    .by_key
                    .entry((covered.name, covered.record_type))
                    .or_default()
                    .push(Entry {
                        txt_name: name.clone(),
                        rdata: rdata.clone(),
                        owner: labels.owner().map(str::to_owned),
                        new_format: covered.record_type.is_some(),
                    });
            }
        }
        owners
    }

    /// external-dns's lookup: the new-format key first, else (for all types but AAAA) the
    /// old format's.
    fn owner_of(&self, registry: &Registry, name: &Name, record_type: RecordType) -> Owned<'_> {
        let key = registry.lookup_name(name);
        let entries = self
            .by_key
            .get(&(key.clone(), Some(record_type)))
            .filter(|e| !e.is_empty())
            .or_else(|| {
                (record_type != RecordType::AAAA)
                    .then(|| self.by_key.get(&(key, None)))
                    .flatten()
            });
        let Some(entries) = entries else {
            return Owned::Held {
                holder: Holder::Unowned,
                registered: false,
            };
        };
        let ours = registry.owner();
        // Two owners claiming one RRset: the other one wins, so kubezone never takes it.
        if let Some(other) = entries
            .iter()
            .filter_map(|e| e.owner.as_deref())
            .find(|o| *o != ours)
        {
            return Owned::Held {
                holder: Holder::Owner(other.to_owned()),
                registered: true,
            };
        }
        if entries.iter().any(|e| e.owner.as_deref() == Some(ours)) {
            Owned::Ours(entries)
        } else {
            Owned::Held {
                holder: Holder::Unowned,
                registered: true,
            }
        }
    }

    /// The old-format values of kubezone's owner id at `name`.
    fn ours_old_format(&self, registry: &Registry, name: &Name) -> Vec<&Entry> {
        self.by_key
            .get(&(registry.lookup_name(name), None))
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e.owner.as_deref() == Some(registry.owner()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The data an RRset holds, and who owns it.
struct Current<'a> {
    data: RecordSet,
    owned: Owned<'a>,
}

struct Planner<'a> {
    zone: &'a PrimaryZone,
    registry: &'a Registry,
    policy: Policy,
    owners: Owners,
}

impl<'a> Planner<'a> {
    /// Whether kubezone may own records of this name and type at all.
    fn manages(&self, name: &Name, record_type: RecordType) -> bool {
        SUPPORTED_TYPES.contains(&record_type)
            && !(record_type == RecordType::NS && name == self.zone.origin())
    }

    /// The wanted RRsets by name and type; those that cannot be pushed are noted as skipped.
    fn wanted_by_name<'w>(
        &self,
        wanted: &'w [WantedRRset],
        out: &mut Plan,
    ) -> BTreeMap<Name, BTreeMap<RecordType, (&'w WantedRRset, Name)>> {
        let mut by_name: BTreeMap<Name, BTreeMap<RecordType, (&WantedRRset, Name)>> =
            BTreeMap::new();
        for w in wanted {
            let name = fqdn_lower(&w.name);
            let skip = |reason: Skip| Skipped {
                name: name.clone(),
                record_type: w.record_type,
                reason,
            };
            if w.rdatas.is_empty()
                || w.record_type == RecordType::SOA
                || (w.record_type == RecordType::NS && name == *self.zone.origin())
            {
                continue;
            }
            if !self.zone.origin().zone_of(&name) {
                out.skipped.push(skip(Skip::OutsideZone));
                continue;
            }
            // Read back, such a value would be taken for ownership, not data, and pushed again
            // at every reconciliation.
            let registry_like = w.record_type == RecordType::TXT
                && w.rdatas
                    .iter()
                    .any(|r| r.txt_text().is_some_and(|t| Labels::parse(&t).is_ok()));
            if registry_like {
                out.skipped.push(skip(Skip::RegistryValue));
                continue;
            }
            let txt_name = match self.registry.txt_name(&name, w.record_type) {
                Ok(txt_name) => txt_name,
                Err(e) => {
                    out.skipped.push(skip(Skip::Registry(e)));
                    continue;
                }
            };
            if !self.zone.origin().zone_of(&txt_name) {
                out.skipped
                    .push(skip(Skip::RegistryOutsideZone { txt_name }));
                continue;
            }
            by_name
                .entry(name.clone())
                .or_default()
                .insert(w.record_type, (w, txt_name));
        }
        by_name
    }

    /// The data of an RRset (a TXT's registry values left out), if any.
    fn data(&self, name: &Name, record_type: RecordType) -> Option<RecordSet> {
        let set = self.zone.rrset(name, record_type)?;
        let mut data = set.clone();
        if record_type == RecordType::TXT {
            data.rdatas
                .retain(|r| !self.owners.values.contains(&(name.clone(), r.clone())));
        }
        (!data.rdatas.is_empty()).then_some(data)
    }

    /// The RRset exactly as seen, as a prerequisite.
    fn as_seen(&self, name: &Name, record_type: RecordType) -> Prerequisite {
        match self.zone.rrset(name, record_type) {
            Some(set) => Prerequisite::Exactly {
                name: name.clone(),
                record_type,
                rdatas: set.rdatas.clone(),
            },
            None => Prerequisite::Absent {
                name: name.clone(),
                record_type,
            },
        }
    }

    fn plan_name(
        &self,
        name: &Name,
        wanted: &BTreeMap<RecordType, (&WantedRRset, Name)>,
        out: &mut Plan,
    ) {
        let registry = self.registry;
        let current: BTreeMap<RecordType, Current<'_>> = self
            .zone
            .at(name)
            .filter(|(t, _)| self.manages(name, *t))
            .filter_map(|(t, _)| {
                let data = self.data(name, t)?;
                let owned = self.owners.owner_of(registry, name, t);
                Some((t, Current { data, owned }))
            })
            .collect();
        let mut deletes = Vec::new();
        let mut updates = Vec::new();
        let mut creates = Vec::new();
        let mut withheld = Vec::new();
        // Types of ours at this name that this plan deletes, and those it may not.
        let mut deleted = BTreeSet::new();
        let mut kept_ours = BTreeSet::new();

        for (&record_type, cur) in &current {
            let Owned::Ours(entries) = cur.owned else {
                continue;
            };
            if wanted.contains_key(&record_type) {
                continue;
            }
            let change = self.delete(name, record_type, cur, entries);
            if self.policy.allows(Action::Delete) {
                deleted.insert(record_type);
                deletes.push(change);
            } else {
                kept_ours.insert(record_type);
                withheld.push(change);
            }
        }

        // Another owner's records anywhere at the name keep kubezone from creating there.
        let other_owner = current.iter().find_map(|(t, c)| match &c.owned {
            Owned::Held {
                holder: holder @ Holder::Owner(_),
                ..
            } => Some((*t, holder.clone())),
            _ => None,
        });

        for (&record_type, (w, txt_name)) in wanted {
            let conflict = |held_type: RecordType, holder: Holder| Conflict {
                name: name.clone(),
                record_type,
                held_type,
                holder,
            };
            match current.get(&record_type) {
                Some(Current {
                    data,
                    owned: Owned::Ours(entries),
                }) => {
                    let same = data.ttl == w.ttl && data.rdatas == w.rdatas;
                    let action = if !same {
                        Action::Update
                    } else if entries.iter().any(|e| e.new_format) {
                        continue;
                    } else {
                        Action::Claim
                    };
                    let change = self.update(action, w, txt_name, data, entries);
                    if self.policy.allows(action) {
                        updates.push(change);
                    } else {
                        withheld.push(change);
                    }
                }
                Some(Current {
                    owned: Owned::Held { holder, .. },
                    ..
                }) => out.conflicts.push(conflict(record_type, holder.clone())),
                None => {
                    // A registry value of someone else for this name and type, even with no
                    // records left, is theirs: writing ours beside it would make two owners.
                    if let Owned::Held {
                        holder,
                        registered: true,
                    } = self.owners.owner_of(registry, name, record_type)
                    {
                        out.conflicts.push(conflict(record_type, holder));
                        continue;
                    }
                    if let Some((held_type, holder)) = &other_owner {
                        out.conflicts.push(conflict(*held_type, holder.clone()));
                        continue;
                    }
                    match self.blocker(name, record_type, &current, &deleted, &kept_ours) {
                        Some(Blocker::Held(held_type, holder)) => {
                            out.conflicts.push(conflict(held_type, holder));
                        }
                        Some(Blocker::OursKept) => withheld.push(self.create(w, txt_name)),
                        None => creates.push(self.create(w, txt_name)),
                    }
                }
            }
        }

        // Old-format registry values stay (as external-dns leaves them) while they cover
        // anything of ours; once every record of ours at the name is gone, they go too.
        let nothing_left = wanted.is_empty()
            && kept_ours.is_empty()
            && current
                .iter()
                .all(|(t, c)| !matches!(c.owned, Owned::Ours(_)) || deleted.contains(t));
        if nothing_left && let Some(last) = deletes.last_mut() {
            self.remove_old_format(name, last);
        }

        out.changes.extend(deletes);
        out.changes.extend(updates);
        out.changes.extend(creates);
        out.withheld.extend(withheld);
    }

    /// What keeps a create of `record_type` at `name` from taking effect, if anything: a CNAME
    /// cannot share its name (RFC 1034 §3.6.2), and an UPDATE adding either beside the other is
    /// silently ignored (RFC 2136 §3.4.2.2), so it must not be sent.
    fn blocker(
        &self,
        name: &Name,
        record_type: RecordType,
        current: &BTreeMap<RecordType, Current<'_>>,
        deleted: &BTreeSet<RecordType>,
        kept_ours: &BTreeSet<RecordType>,
    ) -> Option<Blocker> {
        let holder_of = |t: RecordType| match current.get(&t).map(|c| &c.owned) {
            Some(Owned::Held { holder, .. }) => holder.clone(),
            _ => Holder::Unowned,
        };
        if record_type != RecordType::CNAME {
            if self.zone.rrset(name, RecordType::CNAME).is_none()
                || deleted.contains(&RecordType::CNAME)
            {
                return None;
            }
            if kept_ours.contains(&RecordType::CNAME) {
                return Some(Blocker::OursKept);
            }
            return Some(Blocker::Held(
                RecordType::CNAME,
                holder_of(RecordType::CNAME),
            ));
        }
        let old_ours: HashSet<&Rdata> = self
            .owners
            .ours_old_format(self.registry, name)
            .into_iter()
            .map(|e| &e.rdata)
            .collect();
        for (t, set) in self.zone.at(name) {
            if matches!(t, RecordType::CNAME | RecordType::RRSIG | RecordType::NSEC)
                || deleted.contains(&t)
            {
                continue;
            }
            if kept_ours.contains(&t) {
                return Some(Blocker::OursKept);
            }
            if t == RecordType::TXT && !current.contains_key(&t) {
                // Only registry values: ours in the old format go with the create.
                if let Some(other) = set.rdatas.iter().find(|r| !old_ours.contains(r)) {
                    let holder = self
                        .owners
                        .by_key
                        .values()
                        .flatten()
                        .find(|e| e.txt_name == *name && e.rdata == *other)
                        .and_then(|e| e.owner.clone())
                        .map_or(Holder::Unowned, Holder::Owner);
                    return Some(Blocker::Held(t, holder));
                }
                continue;
            }
            return Some(Blocker::Held(t, holder_of(t)));
        }
        None
    }

    fn delete(
        &self,
        name: &Name,
        record_type: RecordType,
        cur: &Current<'_>,
        entries: &[Entry],
    ) -> Change {
        let mut prerequisites = vec![self.as_seen(name, record_type)];
        let mut edits: Vec<Edit> = cur
            .data
            .rdatas
            .iter()
            .map(|rdata| Edit::Remove {
                name: name.clone(),
                record_type,
                rdata: rdata.clone(),
            })
            .collect();
        for entry in entries.iter().filter(|e| e.new_format) {
            push_unique(
                &mut prerequisites,
                self.as_seen(&entry.txt_name, RecordType::TXT),
            );
            if entry.owner.as_deref() == Some(self.registry.owner()) {
                edits.push(remove_txt(entry));
            }
        }
        for entry in entries.iter().filter(|e| !e.new_format) {
            push_unique(
                &mut prerequisites,
                self.as_seen(&entry.txt_name, RecordType::TXT),
            );
        }
        Change {
            action: Action::Delete,
            name: name.clone(),
            record_type,
            before: cur.data.rdatas.clone(),
            after: BTreeSet::new(),
            ttl: cur.data.ttl,
            prerequisites,
            edits,
        }
    }

    fn update(
        &self,
        action: Action,
        w: &WantedRRset,
        txt_name: &Name,
        data: &RecordSet,
        entries: &[Entry],
    ) -> Change {
        let name = fqdn_lower(&w.name);
        let record_type = w.record_type;
        let mut prerequisites = vec![self.as_seen(&name, record_type)];
        for entry in entries {
            push_unique(
                &mut prerequisites,
                self.as_seen(&entry.txt_name, RecordType::TXT),
            );
        }
        let mut edits = Vec::new();
        if action == Action::Update {
            // A TTL applies to the whole RRset, so a new one rewrites every record.
            let keep = |r: &Rdata| data.ttl == w.ttl && w.rdatas.contains(r);
            let removed = data.rdatas.iter().filter(|r| !keep(r));
            edits.extend(removed.map(|rdata| Edit::Remove {
                name: name.clone(),
                record_type,
                rdata: rdata.clone(),
            }));
            let added = w
                .rdatas
                .iter()
                .filter(|r| !(data.ttl == w.ttl && data.rdatas.contains(r)));
            edits.extend(added.map(|rdata| Edit::Add {
                name: name.clone(),
                record_type,
                ttl: w.ttl,
                rdata: rdata.clone(),
            }));
        }
        self.write_registry(w, txt_name, &mut prerequisites, &mut edits);
        Change {
            action,
            name,
            record_type,
            before: data.rdatas.clone(),
            after: w.rdatas.clone(),
            ttl: w.ttl,
            prerequisites,
            edits,
        }
    }

    fn create(&self, w: &WantedRRset, txt_name: &Name) -> Change {
        let name = fqdn_lower(&w.name);
        let record_type = w.record_type;
        let mut prerequisites = vec![self.as_seen(&name, record_type)];
        let mut edits = Vec::new();
        if record_type == RecordType::CNAME {
            if self.zone.has_name(&name) {
                for (t, _) in self.zone.at(&name) {
                    if !matches!(t, RecordType::RRSIG | RecordType::NSEC) {
                        push_unique(&mut prerequisites, self.as_seen(&name, t));
                    }
                }
            } else {
                prerequisites.push(Prerequisite::NameUnused { name: name.clone() });
            }
            // A CNAME cannot keep an old-format registry TXT at its own name.
            for entry in self.owners.ours_old_format(self.registry, &name) {
                edits.push(remove_txt(entry));
            }
        } else {
            push_unique(&mut prerequisites, self.as_seen(&name, RecordType::CNAME));
        }
        edits.extend(w.rdatas.iter().map(|rdata| Edit::Add {
            name: name.clone(),
            record_type,
            ttl: w.ttl,
            rdata: rdata.clone(),
        }));
        self.write_registry(w, txt_name, &mut prerequisites, &mut edits);
        Change {
            action: Action::Create,
            name,
            record_type,
            before: BTreeSet::new(),
            after: w.rdatas.clone(),
            ttl: w.ttl,
            prerequisites,
            edits,
        }
    }

    /// Makes the new-format registry TXT say what kubezone writes now: left alone when it
    /// does (no churn on take-over), else kubezone's stale values there replaced.
    fn write_registry(
        &self,
        w: &WantedRRset,
        txt_name: &Name,
        prerequisites: &mut Vec<Prerequisite>,
        edits: &mut Vec<Edit>,
    ) {
        let value = Rdata::txt(&self.registry.value(w.resource.as_deref()));
        let seen = self.zone.rrset(txt_name, RecordType::TXT);
        if seen.is_some_and(|s| s.rdatas.contains(&value)) {
            push_unique(prerequisites, self.as_seen(txt_name, RecordType::TXT));
            return;
        }
        push_unique(prerequisites, self.as_seen(txt_name, RecordType::TXT));
        let ours = self.registry.owner();
        let stale = seen.into_iter().flat_map(|s| &s.rdatas).filter(|r| {
            r.txt_text()
                .and_then(|t| Labels::parse(&t).ok())
                .is_some_and(|l| l.owner() == Some(ours))
        });
        for rdata in stale {
            edits.push(Edit::Remove {
                name: txt_name.clone(),
                record_type: RecordType::TXT,
                rdata: rdata.clone(),
            });
        }
        edits.push(Edit::Add {
            name: txt_name.clone(),
            record_type: RecordType::TXT,
            ttl: w.ttl,
            rdata: value,
        });
    }

    /// Adds to `change` the removal of kubezone's old-format registry values at `name`.
    fn remove_old_format(&self, name: &Name, change: &mut Change) {
        let entries = self.owners.ours_old_format(self.registry, name);
        for entry in entries {
            push_unique(
                &mut change.prerequisites,
                self.as_seen(&entry.txt_name, RecordType::TXT),
            );
            change.edits.push(remove_txt(entry));
        }
    }
}

/// What stands in the way of a create.
enum Blocker {
    Held(RecordType, Holder),
    /// kubezone's own records, which the policy does not let it delete.
    OursKept,
}

fn remove_txt(entry: &Entry) -> Edit {
    Edit::Remove {
        name: entry.txt_name.clone(),
        record_type: RecordType::TXT,
        rdata: entry.rdata.clone(),
    }
}

fn push_unique(prerequisites: &mut Vec<Prerequisite>, prerequisite: Prerequisite) {
    if !prerequisites.contains(&prerequisite) {
        prerequisites.push(prerequisite);
    }
}

#[cfg(test)]
mod tests;
