//! What a translation hands to the index, and the per-object builder that produces it.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubezone_model::{DnsName, Endpoint, Kind, ObjectRef, Preference, Target};

use crate::{Problem, TranslateError, ZoneFilter, filter::longest_zone, global::global_in};

/// The result of one [`Translator::apply`](crate::Translator::apply) or
/// [`Translator::delete`](crate::Translator::delete).
#[derive(Debug, Default)]
pub struct Translated {
    /// The complete new record set of every object whose records may have changed.
    pub updates: Vec<ObjectRecords>,
    pub problems: Vec<Problem>,
}

impl Translated {
    pub(crate) fn push(&mut self, (records, problems): (ObjectRecords, Vec<Problem>)) {
        self.updates.push(records);
        self.problems.extend(problems);
    }
}

impl From<(ObjectRecords, Vec<Problem>)> for Translated {
    fn from(one: (ObjectRecords, Vec<Problem>)) -> Self {
        let mut translated = Translated::default();
        translated.push(one);
        translated
    }
}

/// Every record one object contributes, replacing whatever it contributed before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecords {
    pub object: ObjectRef,
    /// Sorted by zone, then name; targets sorted and unique. Empty: the object contributes nothing.
    pub endpoints: Vec<ZonedEndpoint>,
    /// When the objects these records come from were last written (unix seconds; 0 unknown):
    /// the object's own write, or for a route the newest of it and its Gateways. The SOA
    /// serial moves to at least this when the records change.
    pub written: u32,
}

impl ObjectRecords {
    pub fn empty(object: ObjectRef) -> Self {
        ObjectRecords {
            object,
            endpoints: Vec::new(),
            written: 0,
        }
    }
}

/// An endpoint and the zone (an index into [`Translator::zones`](crate::Translator::zones))
/// that serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZonedEndpoint {
    pub zone: usize,
    pub endpoint: Endpoint,
}

#[derive(Default)]
struct Entry {
    targets: BTreeSet<Target>,
    ttl: Option<u32>,
    note: Option<Arc<str>>,
}

/// Collects one object's endpoints, merging names and de-duplicating targets, and its problems.
pub(crate) struct Builder<'a> {
    zones: &'a [ZoneFilter],
    object: ObjectRef,
    entries: BTreeMap<(usize, DnsName), Entry>,
    problems: Vec<Problem>,
    written: u32,
    /// The zones whose `annotationFilter` the object's annotations fail: they serve none of
    /// its names. Usually empty.
    filtered_out: Vec<usize>,
    /// Several clusters: per zone, the object's preference where it is global. Empty for
    /// objects of no cluster.
    global: Vec<Option<Preference>>,
    /// Names that belong to the object's cluster alone (`<name>.<namespace>.<cluster>.<zone>`),
    /// never global.
    cluster_names: BTreeSet<DnsName>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(zones: &'a [ZoneFilter], object: ObjectRef) -> Self {
        Builder {
            zones,
            object,
            entries: BTreeMap::new(),
            problems: Vec::new(),
            written: 0,
            filtered_out: Vec::new(),
            global: Vec::new(),
            cluster_names: BTreeSet::new(),
        }
    }

    /// Reads the object's annotations against every zone's `annotationFilter`, and, for an
    /// object of one of several clusters, its labels and annotations for whether it is global.
    pub(crate) fn metadata(&mut self, meta: &ObjectMeta) {
        if self.object.cluster().is_some() {
            let (global, problem) = global_in(self.zones, meta);
            self.global = global;
            if let Some(problem) = problem {
                self.problem(problem);
            }
        }
        self.annotations(meta.annotations.as_ref());
    }

    /// The zone's preference if the object is global in zone `index`.
    pub(crate) fn global_in(&self, index: usize) -> Option<Preference> {
        self.global.get(index).copied().flatten()
    }

    /// Marks a name as the object's cluster's alone: it never merges with other clusters'.
    pub(crate) fn cluster_name(&mut self, name: DnsName) {
        self.cluster_names.insert(name);
    }

    /// Reads the object's annotations against every zone's `annotationFilter`.
    fn annotations(&mut self, annotations: Option<&BTreeMap<String, String>>) {
        let none = BTreeMap::new();
        let annotations = annotations.unwrap_or(&none);
        self.filtered_out = (0..self.zones.len())
            .filter(|&i| {
                self.zones
                    .get(i)
                    .is_some_and(|z| !z.accepts_annotations(annotations))
            })
            .collect();
    }

    /// The zones the object's annotations keep it out of, for a route to remember.
    pub(crate) fn filtered_out(&self) -> &[usize] {
        &self.filtered_out
    }

    /// Keeps the object out of these zones, as remembered from its annotations.
    pub(crate) fn filter_out(&mut self, zones: &[usize]) {
        self.filtered_out = zones.to_vec();
    }

    /// Whether the object's annotations let zone `index` serve its names.
    pub(crate) fn admitted_by(&self, index: usize) -> bool {
        !self.filtered_out.contains(&index)
    }

    /// Sets when the records' objects were last written (the newest of the times given).
    pub(crate) fn written(&mut self, written: u32) {
        self.written = self.written.max(written);
    }

    pub(crate) fn zones(&self) -> &'a [ZoneFilter] {
        self.zones
    }

    pub(crate) fn kind(&self) -> Kind {
        self.object.kind()
    }

    pub(crate) fn object(&self) -> &ObjectRef {
        &self.object
    }

    pub(crate) fn problem(&mut self, error: TranslateError) {
        self.problems.push(Problem {
            object: self.object.clone(),
            error,
        });
    }

    /// Keeps the value, or records the problem and skips it.
    pub(crate) fn check<T>(&mut self, result: Result<T, TranslateError>) -> Option<T> {
        result.map_err(|error| self.problem(error)).ok()
    }

    /// The zone that serves `name` for this object: the longest zone containing it, provided it
    /// lists the object's Kind, its annotation filter passes and it `accepts` the object. A
    /// shorter zone never picks it up.
    pub(crate) fn zone_for(
        &self,
        name: &DnsName,
        accepts: impl FnOnce(&ZoneFilter) -> bool,
    ) -> Option<usize> {
        let index = longest_zone(self.zones, name)?;
        let zone = self.zones.get(index)?;
        (zone.serves(self.kind()) && self.admitted_by(index) && accepts(zone)).then_some(index)
    }

    /// Adds targets to a name. A name without targets gives no records, so it is left out.
    /// Two TTLs for one name: the shorter wins, so no cache holds a record longer than asked.
    pub(crate) fn add<'t>(
        &mut self,
        zone: usize,
        name: DnsName,
        targets: impl IntoIterator<Item = &'t Target>,
        ttl: Option<u32>,
    ) {
        let mut targets = targets.into_iter().peekable();
        if targets.peek().is_none() {
            return;
        }
        let entry = self.entries.entry((zone, name)).or_default();
        entry.targets.extend(targets.cloned());
        entry.ttl = match (entry.ttl, ttl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// [`Builder::add`] with a note for `explain` on why the targets are these.
    pub(crate) fn add_noted<'t>(
        &mut self,
        zone: usize,
        name: DnsName,
        targets: impl IntoIterator<Item = &'t Target>,
        ttl: Option<u32>,
        note: Arc<str>,
    ) {
        let key = (zone, name);
        self.add(key.0, key.1.clone(), targets, ttl);
        if let Some(entry) = self.entries.get_mut(&key) {
            entry.note = Some(note);
        }
    }

    pub(crate) fn finish(self) -> (ObjectRecords, Vec<Problem>) {
        let (global, cluster_names) = (&self.global, &self.cluster_names);
        let endpoints = self
            .entries
            .into_iter()
            .map(|((zone, name), entry)| {
                let global = global
                    .get(zone)
                    .copied()
                    .flatten()
                    .filter(|_| !cluster_names.contains(&name));
                ZonedEndpoint {
                    zone,
                    endpoint: Endpoint::new(name, entry.targets.into_iter().collect())
                        .with_ttl(entry.ttl)
                        .with_note(entry.note)
                        .with_global(global),
                }
            })
            .collect();
        (
            ObjectRecords {
                object: self.object,
                endpoints,
                written: self.written,
            },
            self.problems,
        )
    }
}
