//! One zone: the writer's bookkeeping and the snapshot readers answer from.

use std::{borrow::Cow, collections::BTreeMap, sync::Arc};

use hashbrown::HashMap;

use hickory_proto::rr::{
    Name, RData, Record, RecordType,
    rdata::{NS, SOA},
};
use kubezone_model::{Endpoint, Kind, ObjectRef, Target};
use smallvec::SmallVec;

use crate::{
    Conflict, NameClaims, NameConflict, NameNode, NodeRole, RRset, ZoneConfig,
    build::{Claim, address_rrsets, build, name_of as key_name},
    clusters::{across_clusters, local_first_clusters, of_cluster},
    key::{MAX_KEY_LEN, NameKey, OwnedKey, owned_key, parent_of, wildcard_of},
    ownership::{admitted, first_namespace},
    reverse::{self, AddressChange, Ptr, ServedAddress},
    serial::{Serial, SerialFloor},
    table::NameTable,
};

/// What a reader sees of one zone. Cloning is cheap: the name map is persistent.
#[derive(Clone)]
pub struct ZoneSnapshot {
    id: usize,
    origin: Name,
    /// The origin's key, so finding a query's zone compares bytes and builds nothing.
    origin_key: OwnedKey,
    origin_labels: usize,
    names: NameTable,
    soa: Record,
    negative_soa: Record,
    /// `negative_soa` pre-encoded; its owner is the origin.
    negative_soa_set: Option<RRset>,
    serial: u32,
    /// What the zone serves, as a hash: equal content, equal fingerprint (the serial aside).
    fingerprint: u64,
    /// The fingerprint of the content the serial was set for (it lags `fingerprint` while a
    /// change waits for the next second).
    serial_fingerprint: u64,
    /// Answered for; `false` for a zone only pushed to a primary.
    served: bool,
}

/// Where a query name lands in a zone.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// The name exists (it may be an empty non-terminal).
    Found(&'a NameNode),
    /// The name does not exist; a wildcard covers it (RFC 4592). Answers take the query name.
    Wildcard(&'a NameNode),
    /// The name is at or below a zone cut (this node, which holds the NS RRset): a referral.
    Referral(&'a NameNode),
    /// The name does not exist.
    NxDomain {
        /// Below one of the zone's nameserver hosts: never falls through.
        below_nameserver: bool,
    },
}

impl ZoneSnapshot {
    /// Position of this zone in the configuration.
    pub fn id(&self) -> usize {
        self.id
    }

    pub fn origin(&self) -> &Name {
        &self.origin
    }

    pub(crate) fn origin_labels(&self) -> usize {
        self.origin_labels
    }

    /// Whether queries are answered for the zone (`serve: false` is push only).
    pub fn is_served(&self) -> bool {
        self.served
    }

    /// Whether `key` is the origin or below it.
    pub fn contains(&self, key: &NameKey) -> bool {
        key.labels() >= self.origin_labels
            && key.ancestor(key.labels() - self.origin_labels) == &*self.origin_key
    }

    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// The zone's content as a hash, for telling two versions apart without comparing them.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The fingerprint of the content the serial stands for: what a reload compares with.
    pub fn serial_fingerprint(&self) -> u64 {
        self.serial_fingerprint
    }

    /// The SOA as answered at the apex.
    pub fn soa(&self) -> &Record {
        &self.soa
    }

    /// The SOA for the authority section of negative answers (RFC 2308 §3).
    pub fn negative_soa(&self) -> &Record {
        &self.negative_soa
    }

    /// The negative SOA pre-encoded; its owner is [`ZoneSnapshot::origin_key`].
    pub fn negative_soa_rrset(&self) -> Option<&RRset> {
        self.negative_soa_set.as_ref()
    }

    /// The origin as lower-case wire bytes.
    pub fn origin_key(&self) -> &[u8] {
        &self.origin_key
    }

    /// The apex's NS targets' addresses, decoded for tools and tests.
    pub fn glue(&self) -> Vec<Record> {
        let Some(apex) = self.names.get(&self.origin_key) else {
            return Vec::new();
        };
        apex.rrset(RecordType::NS)
            .into_iter()
            .flat_map(RRset::ns_keys)
            .flat_map(|key| {
                let owner = NameKey::from_wire(key).and_then(|(k, _)| k.to_name());
                self.addresses(key).flat_map(move |rrset| {
                    owner
                        .iter()
                        .flat_map(|o| rrset.records(o))
                        .collect::<Vec<_>>()
                })
            })
            .collect()
    }

    /// The A and AAAA RRsets at exactly `key`, for glue and additional data: read past zone
    /// cuts, since the glue of a delegation lives below it.
    pub fn addresses<'s>(&'s self, key: &[u8]) -> impl Iterator<Item = &'s RRset> + 's {
        let node = self.names.get(key);
        [RecordType::A, RecordType::AAAA]
            .into_iter()
            .filter_map(move |t| node.and_then(|n| n.rrset(t)))
    }

    /// Every node of the zone, in no particular order: for a zone transfer.
    pub fn nodes(&self) -> impl Iterator<Item = &NameNode> {
        self.names.iter()
    }

    /// The names whose nodes differ from those of `old`, an earlier snapshot of this zone, as
    /// (old node, new node): what an incremental transfer carries. Cheap when `old` is an
    /// earlier version of the same index, since unchanged parts are shared.
    pub fn changes_since<'a>(
        &'a self,
        old: &'a ZoneSnapshot,
    ) -> Vec<(Option<&'a NameNode>, Option<&'a NameNode>)> {
        self.names.changes_since(&old.names)
    }

    /// Number of names, counting empty non-terminals.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Finds `key`, which must be in this zone: exact match, else the closest encloser and its
    /// wildcard.
    pub fn lookup(&self, key: &NameKey) -> Lookup<'_> {
        let below_origin = key.labels().saturating_sub(self.origin_labels);
        if self.names.has_cuts() {
            // The cut nearest the apex decides (RFC 1034 §4.3.2): walk down from it.
            for skip in (0..below_origin).rev() {
                if let Some(node) = self.names.get(key.ancestor(skip))
                    && node.role() == NodeRole::Delegation
                {
                    return Lookup::Referral(node);
                }
            }
        }
        if let Some(node) = self.names.get(key.as_bytes()) {
            return Lookup::Found(node);
        }
        for skip in 1..=below_origin {
            let encloser = key.ancestor(skip);
            let Some(node) = self.names.get(encloser) else {
                continue;
            };
            if node.role() == NodeRole::NameServer {
                return Lookup::NxDomain {
                    below_nameserver: true,
                };
            }
            let mut buf = [0; MAX_KEY_LEN + 2];
            return match wildcard_of(encloser, &mut buf).and_then(|w| self.names.get(w)) {
                Some(wildcard) => Lookup::Wildcard(wildcard),
                None => Lookup::NxDomain {
                    below_nameserver: false,
                },
            };
        }
        Lookup::NxDomain {
            below_nameserver: false,
        }
    }

    /// The node at exactly `name`, for `explain`.
    pub fn get(&self, name: &Name) -> Option<&NameNode> {
        let key = NameKey::new(name)?;
        self.names.get(key.as_bytes())
    }
}

/// The writer's state for one name.
#[derive(Default)]
struct NameState {
    /// Sorted by (rank, object). Nearly always one.
    claims: SmallVec<[Claim; 1]>,
    /// Whether the name serves records of its own.
    has_records: bool,
    /// Descendants that serve records: while non-zero the name is at least an empty
    /// non-terminal (RFC 8020).
    below: u32,
}

/// The zone as the single writer keeps it.
pub(crate) struct ZoneWriter {
    config: ZoneConfig,
    origin_key: OwnedKey,
    names: HashMap<OwnedKey, NameState>,
    /// What each object claims in this zone, to undo it on change or delete.
    objects: HashMap<ObjectRef, Claimed>,
    /// How many names the objects of each Kind claim, for the records metric.
    claimed: BTreeMap<Kind, usize>,
    snapshot: ZoneSnapshot,
    serial: Serial,
    /// The SOA settings as a hash, part of the zone's fingerprint.
    soa_hash: u64,
    /// What the static records could not serve, for the log at start.
    static_conflicts: Vec<NameConflict>,
    /// Namespaces the zone's `namespaces`/`namespaceSelector` turn away, and why: their
    /// objects' claims are kept but not served.
    refused: HashMap<String, String>,
    /// The conflicts of each name that has any, also of names left without records.
    conflicted: HashMap<OwnedKey, Vec<Conflict>>,
    /// In a forward zone of a config with reverse zones: what the names rebuilt since the
    /// index last took them serve, for the reverse zones' PTRs (`reverse.rs`).
    addresses: Option<Vec<AddressChange>>,
    /// In a reverse zone: the PTR each reverse name gets from the forward zones, and its claim.
    ptrs: HashMap<OwnedKey, (Ptr, Claim)>,
    /// Several clusters: the clusters (by place in `clusters:`) whose data has passed its
    /// `staleAfter`; their global claims are held back.
    stale: std::collections::BTreeSet<u16>,
}

/// The names one object claims, and when it was created and last written (unix seconds; 0
/// unknown).
struct Claimed {
    written: u32,
    created: u32,
    keys: SmallVec<[OwnedKey; 1]>,
}

impl ZoneWriter {
    /// `track_addresses`: report what each rebuilt name serves, for reverse zones.
    pub(crate) fn new(
        id: usize,
        config: ZoneConfig,
        floor: Option<SerialFloor>,
        track_addresses: bool,
    ) -> ZoneWriter {
        let origin = config.origin.as_name().clone();
        let origin_key = owned_key(&origin).unwrap_or_else(|| OwnedKey::from(&[0][..]));
        let soa = soa_record(&config, 0);
        let soa_hash = {
            use std::hash::{DefaultHasher, Hash, Hasher};
            let mut hasher = DefaultHasher::new();
            format!("{:?}", soa.data).hash(&mut hasher);
            soa.ttl.hash(&mut hasher);
            hasher.finish()
        };
        let mut zone = ZoneWriter {
            origin_key: origin_key.clone(),
            names: HashMap::new(),
            objects: HashMap::new(),
            claimed: BTreeMap::new(),
            snapshot: ZoneSnapshot {
                id,
                origin_key,
                origin_labels: usize::from(origin.num_labels()),
                origin,
                names: NameTable::default(),
                negative_soa_set: RRset::new(vec![soa.clone()]),
                negative_soa: soa.clone(),
                soa,
                serial: 0,
                fingerprint: 0,
                serial_fingerprint: 0,
                served: config.served,
            },
            serial: Serial::new(floor),
            soa_hash,
            static_conflicts: Vec::new(),
            refused: HashMap::new(),
            conflicted: HashMap::new(),
            addresses: track_addresses.then(Vec::new),
            ptrs: HashMap::new(),
            stale: std::collections::BTreeSet::new(),
            config,
        };
        zone.install_nameservers(true);
        zone.apply_static_records();
        let origin_key = zone.origin_key.clone();
        zone.rebuild(&origin_key);
        zone
    }

    /// The config's static records, one claim per line, written at `static_written` (0 for
    /// most zones: their static records never move the serial of a fresh start on their own).
    fn apply_static_records(&mut self) {
        let written = self.config.static_written;
        for record in self.config.records.clone() {
            let object = ObjectRef::new(Kind::Config, None, &record.source);
            let endpoint =
                Endpoint::new(record.name, vec![Target::Record(record.data)]).with_ttl(record.ttl);
            let conflicts = self.apply(&object, vec![endpoint], written, 0);
            self.static_conflicts.extend(conflicts);
        }
    }

    /// The serial of the last snapshot.
    pub(crate) fn serial(&self) -> u32 {
        self.snapshot.serial
    }

    /// Conflicts among the config's static records.
    pub(crate) fn static_conflicts(&self) -> &[NameConflict] {
        &self.static_conflicts
    }

    pub(crate) fn config(&self) -> &ZoneConfig {
        &self.config
    }

    /// Replaces everything `object` claims in this zone with `endpoints` (empty: remove it).
    /// Returns conflicts that this change created.
    /// `written` is when the object was last written (unix seconds, 0 when unknown): a change
    /// of the zone's records moves the serial to at least that. `created` orders claims for
    /// `claims: firstNamespace`.
    pub(crate) fn apply(
        &mut self,
        object: &ObjectRef,
        endpoints: Vec<Endpoint>,
        written: u32,
        created: u32,
    ) -> Vec<NameConflict> {
        let before = self.snapshot.names.fingerprint();
        let conflicts = self.replace_claims(object, endpoints, written, created);
        if self.snapshot.names.fingerprint() != before {
            self.serial.changed(written);
        }
        conflicts
    }

    fn replace_claims(
        &mut self,
        object: &ObjectRef,
        endpoints: Vec<Endpoint>,
        written: u32,
        created: u32,
    ) -> Vec<NameConflict> {
        let (old_keys, created) = match self.objects.remove(object) {
            // 0: the caller does not know it (it applies a route for its Gateway's sake).
            Some(claimed) => (
                claimed.keys.into_vec(),
                if created == 0 {
                    claimed.created
                } else {
                    created
                },
            ),
            None => (Vec::new(), created),
        };
        if old_keys.is_empty() && endpoints.is_empty() {
            return Vec::new();
        }
        let claimed_before = old_keys.len();
        let rank = self.config.rank(object.kind());
        let mut conflicts = Vec::new();
        let mut claims: Vec<(OwnedKey, Claim)> = Vec::new();
        for endpoint in endpoints {
            let Some(rank) = rank else { break };
            if !self.config.origin.contains(&endpoint.name) {
                continue;
            }
            if self
                .config
                .hosts()
                .any(|ns| ns.name.contains(&endpoint.name))
            {
                conflicts.push(NameConflict {
                    name: endpoint.name,
                    conflict: Conflict::Reserved {
                        object: object.clone(),
                    },
                });
                continue;
            }
            let Some(key) = owned_key(endpoint.name.as_name()) else {
                continue;
            };
            if let Some((_, claim)) = claims.iter_mut().find(|(k, _)| *k == key) {
                claim.targets.extend(endpoint.targets);
                continue;
            }
            claims.push((
                key,
                Claim {
                    rank,
                    object: object.clone(),
                    targets: endpoint.targets,
                    ttl: endpoint.ttl,
                    note: endpoint.note,
                    global: endpoint.global,
                },
            ));
        }

        for key in &old_keys {
            if !claims.iter().any(|(k, _)| k == key)
                && let Some(state) = self.names.get_mut(key)
            {
                state.claims.retain(|c| c.object != *object);
            }
        }
        let mut new_keys: SmallVec<[OwnedKey; 1]> = SmallVec::with_capacity(claims.len());
        for (key, claim) in claims {
            // One allocation per name, shared by the node and every claim on it.
            let key = match self.names.get_key_value(&key) {
                Some((known, _)) => known.clone(),
                None => key,
            };
            new_keys.push(key.clone());
            let state = self.names.entry(key).or_default();
            state.claims.retain(|c| c.object != *object);
            let at = state
                .claims
                .partition_point(|c| (c.rank, &c.object) < (claim.rank, &claim.object));
            state.claims.insert(at, claim);
        }
        let mut touched = old_keys;
        touched.extend(new_keys.iter().cloned());
        touched.sort();
        touched.dedup();
        // The creation time first: the namespace rule of the rebuilt names reads it.
        if !new_keys.is_empty() {
            self.objects.insert(
                object.clone(),
                Claimed {
                    written,
                    created,
                    keys: new_keys.clone(),
                },
            );
        }
        conflicts.extend(self.rebuild_all(&touched));
        let claimed = self.claimed.entry(object.kind()).or_default();
        *claimed = (*claimed + new_keys.len()).saturating_sub(claimed_before);
        conflicts
    }

    /// Builds `keys` again; returns the conflicts found there, each with its name.
    fn rebuild_all(&mut self, keys: &[OwnedKey]) -> Vec<NameConflict> {
        let mut conflicts = Vec::new();
        for key in keys {
            let found = self.rebuild(key);
            if !found.is_empty()
                && let Some(name) = key_name(key)
            {
                conflicts.extend(found.into_iter().map(|conflict| NameConflict {
                    name: name.clone(),
                    conflict,
                }));
            }
        }
        conflicts
    }

    /// When `object` was last written, if it claims a name here.
    pub(crate) fn written_of(&self, object: &ObjectRef) -> Option<u32> {
        self.objects.get(object).map(|c| c.written)
    }

    /// Turns `namespace` away (`why`) or admits it (`None`). When that changes, every name its
    /// objects claim is built again; returns the conflicts found there.
    pub(crate) fn refuse_namespace(
        &mut self,
        namespace: &str,
        why: Option<String>,
    ) -> Vec<NameConflict> {
        if self.refused.get(namespace) == why.as_ref() {
            return Vec::new();
        }
        match why {
            Some(why) => self.refused.insert(namespace.to_string(), why),
            None => self.refused.remove(namespace),
        };
        self.rebuild_objects(|object| object.namespace() == Some(namespace))
    }

    /// Builds again every name the objects `which` picks claim; returns the conflicts found
    /// there. A rule outside the objects (a namespace's labels, a cluster's reach) moved the
    /// zone, so its serial follows the clock.
    fn rebuild_objects(&mut self, which: impl Fn(&ObjectRef) -> bool) -> Vec<NameConflict> {
        let before = self.snapshot.names.fingerprint();
        let mut keys: Vec<OwnedKey> = self
            .objects
            .iter()
            .filter(|(object, _)| which(object))
            .flat_map(|(_, claimed)| claimed.keys.iter().cloned())
            .collect();
        keys.sort();
        keys.dedup();
        let conflicts = self.rebuild_all(&keys);
        if self.snapshot.names.fingerprint() != before {
            self.serial.changed(0);
        }
        conflicts
    }

    /// Marks a cluster's data stale (its global claims leave the global names) or fresh
    /// again. When that changes, every name its objects claim is built again; returns the
    /// conflicts found there.
    pub(crate) fn set_cluster_stale(&mut self, cluster: u16, stale: bool) -> Vec<NameConflict> {
        let changed = if stale {
            self.stale.insert(cluster)
        } else {
            self.stale.remove(&cluster)
        };
        if !changed {
            return Vec::new();
        }
        self.rebuild_objects(|object| object.cluster().is_some_and(|c| c.index() == cluster))
    }

    /// Every conflict the zone's names have now.
    pub(crate) fn conflicts(&self) -> Vec<NameConflict> {
        self.conflicted
            .iter()
            .filter_map(|(key, conflicts)| Some((key_name(key)?, conflicts)))
            .flat_map(|(name, conflicts)| {
                conflicts.iter().map(move |conflict| NameConflict {
                    name: name.clone(),
                    conflict: conflict.clone(),
                })
            })
            .collect()
    }

    /// How many names the objects of each Kind claim.
    pub(crate) fn claimed_by_kind(&self) -> &BTreeMap<Kind, usize> {
        &self.claimed
    }

    /// Replaces the glue addresses of the nameserver hosts.
    pub(crate) fn set_nameservers(
        &mut self,
        nameserver: Option<Vec<std::net::IpAddr>>,
        secondary: Option<Vec<std::net::IpAddr>>,
        written: u32,
    ) {
        let before = self.snapshot.names.fingerprint();
        if let Some(addrs) = nameserver {
            self.config.nameserver.addrs = addrs;
        }
        if let (Some(ns), Some(addrs)) = (self.config.secondary.as_mut(), secondary) {
            ns.addrs = addrs;
        }
        self.install_nameservers(false);
        if self.snapshot.names.fingerprint() != before {
            self.serial.changed(written);
        }
    }

    /// The snapshot to publish, with the serial moved if the zone changed since it was last set
    /// (`serial.rs`). Also returns the unix second at which to publish again, when a change
    /// waits for the clock to allow the next serial.
    pub(crate) fn snapshot(&mut self, now_unix: u32, ready: bool) -> (ZoneSnapshot, Option<u32>) {
        let fingerprint = self.snapshot.names.fingerprint() ^ self.soa_hash;
        let newest = || {
            let objects = self.objects.values().map(|c| c.written);
            objects
                .chain(self.ptrs.values().map(|(ptr, _)| ptr.written))
                .max()
                .unwrap_or(0)
        };
        let (serial, retry) = self.serial.next(fingerprint, ready, now_unix, newest);
        if let Some(serial) = serial {
            self.set_serial(serial);
        }
        self.snapshot.fingerprint = fingerprint;
        self.snapshot.serial_fingerprint = self.serial.fingerprint();
        (self.snapshot.clone(), retry)
    }

    fn set_serial(&mut self, serial: u32) {
        self.snapshot.serial = serial;
        self.snapshot.soa = soa_record(&self.config, serial);
        // RFC 2308 §3: negative answers carry the SOA with min(SOA TTL, SOA MINIMUM).
        let mut negative = self.snapshot.soa.clone();
        negative.ttl = negative.ttl.min(self.config.soa.negative_ttl);
        self.snapshot.negative_soa_set = RRset::new(vec![negative.clone()]);
        self.snapshot.negative_soa = negative;
        let origin_key = self.origin_key.clone();
        self.rebuild(&origin_key);
    }

    /// Publishes the nameserver hosts, their glue and their ancestors.
    fn install_nameservers(&mut self, first: bool) {
        let ttl = self.config.ttl;
        // A host outside the zone (a catalog zone's `invalid.`) has no node here.
        let hosts: Vec<_> = self
            .config
            .hosts()
            .filter(|ns| self.config.origin.contains(&ns.name))
            .cloned()
            .collect();
        for ns in hosts {
            let name = ns.name.as_name().clone();
            let Some(key) = owned_key(&name) else {
                continue;
            };
            let rrsets = address_rrsets(&ns.addrs, ttl);
            if key == self.origin_key {
                continue;
            }
            self.snapshot.names.insert(Arc::new(NameNode::new(
                key.clone(),
                rrsets,
                NodeRole::NameServer,
                None,
            )));
            self.note_addresses(&key, true);
            if first {
                self.names.entry(key.clone()).or_default().has_records = true;
                self.adjust_ancestors(&key, true);
            }
        }
    }

    /// Recomputes the node at `key` from its claims and keeps ancestors' existence right.
    fn rebuild(&mut self, key: &OwnedKey) -> Vec<Conflict> {
        let had_addresses = self.addresses.is_some()
            && self
                .snapshot
                .names
                .get(key)
                .is_some_and(|node| reverse::node_addresses(node).next().is_some());
        let conflicts = self.rebuild_node(key);
        self.note_addresses(key, had_addresses);
        conflicts
    }

    fn rebuild_node(&mut self, key: &OwnedKey) -> Vec<Conflict> {
        let is_apex = *key == self.origin_key;
        let Some(state) = self.names.get(key) else {
            self.conflicted.remove(key);
            if is_apex {
                self.publish_apex(Vec::new(), None);
            }
            return Vec::new();
        };
        if state.has_records && state.claims.is_empty() && !is_apex {
            // A nameserver host: its node is installed by install_nameservers.
            if self.is_nameserver_key(key) {
                return Vec::new();
            }
        }
        let (claims, mut held_back) = admitted(&state.claims, &self.refused);
        let (claims, claimed) = match self.config.claims {
            NameClaims::Shared => (claims, Vec::new()),
            NameClaims::FirstNamespace => {
                let objects = &self.objects;
                let (kept, claimed) =
                    first_namespace(&claims, |o| objects.get(o).map_or(0, |c| c.created));
                (Cow::Owned(kept.into_owned()), claimed)
            }
        };
        held_back.extend(claimed);
        let (claims, other_clusters) = match across_clusters(&claims, &self.stale) {
            (Cow::Borrowed(_), held) => (claims, held),
            (Cow::Owned(kept), held) => (Cow::Owned(kept), held),
        };
        held_back.extend(other_clusters);
        // A PTR from the forward zones, where nothing of this zone's own takes its place.
        let ptr = self.ptrs.get(key).filter(|_| reverse::ptr_fits(&claims));
        let claims = match ptr {
            Some((_, claim)) => {
                let mut with_ptr = claims.into_owned();
                with_ptr.push(claim.clone());
                Cow::Owned(with_ptr)
            }
            None => claims,
        };
        let mut built = build(&claims, self.config.ttl, is_apex);
        // A local-first name: what a client of each cluster gets instead of the merged set.
        let local: Vec<(u16, Vec<RRset>)> = local_first_clusters(&claims)
            .into_iter()
            .map(|cluster| {
                let own = of_cluster(&claims, cluster);
                (cluster, build(&own, self.config.ttl, is_apex).rrsets)
            })
            .filter(|(_, rrsets)| !rrsets.is_empty())
            .collect();
        built.provenance.conflicts.splice(0..0, held_back);
        if let Some((ptr, _)) = ptr {
            built.provenance.reverse_of = key_name(&ptr.target);
        }
        let conflicts = built.provenance.conflicts.clone();
        if conflicts.is_empty() {
            self.conflicted.remove(key);
        } else {
            self.conflicted.insert(key.clone(), conflicts.clone());
        }
        let has_records = !built.rrsets.is_empty();
        let role = if built.cut {
            NodeRole::Delegation
        } else {
            NodeRole::Ordinary
        };
        let provenance = (!state.claims.is_empty() || ptr.is_some()).then_some(built.provenance);

        if is_apex {
            self.publish_apex(built.rrsets, provenance);
            return conflicts;
        }
        let had_records = state.has_records;
        let below = state.below;
        let claims_empty = state.claims.is_empty();
        if let Some(state) = self.names.get_mut(key) {
            state.has_records = has_records;
        }
        if has_records {
            self.snapshot.names.insert(Arc::new(
                NameNode::new(key.clone(), built.rrsets, role, provenance).with_local(local),
            ));
        } else if below > 0 {
            self.set_empty_non_terminal(key);
        } else {
            self.snapshot.names.remove(key.as_ref());
        }
        if !has_records && below == 0 && claims_empty && !self.ptrs.contains_key(key) {
            self.names.remove(key);
        }
        if had_records != has_records {
            self.adjust_ancestors(key, has_records);
        }
        conflicts
    }

    /// In a forward zone that reports its addresses: notes what `key` serves now, if it served
    /// or serves any address (`had`: it did before the change).
    fn note_addresses(&mut self, key: &OwnedKey, had: bool) {
        if self.addresses.is_none() {
            return;
        }
        let served = self.served_addresses(key);
        if let Some(changes) = self.addresses.as_mut()
            && (had || !served.is_empty())
        {
            changes.push(AddressChange {
                name: key.clone(),
                served,
            });
        }
    }

    fn served_addresses(&self, key: &OwnedKey) -> Vec<ServedAddress> {
        // A wildcard's owner is no host's name: a PTR to it would name nothing.
        if key.starts_with(b"\x01*") {
            return Vec::new();
        }
        let Some(node) = self.snapshot.names.get(key) else {
            return Vec::new();
        };
        // The nameserver hosts' glue is the zone's own, like its static records.
        let host = (node.role() == NodeRole::NameServer)
            .then(|| {
                let mut hosts = self.config.hosts().zip(["apex", "secondary"]);
                hosts
                    .find(|(ns, _)| owned_key(ns.name.as_name()).is_some_and(|k| k == *key))
                    .map(|(_, field)| {
                        let source = format!("zones[{}].{field}", self.snapshot.id);
                        ObjectRef::new(Kind::Config, None, &source)
                    })
            })
            .flatten();
        let claims = self.names.get(key).map_or(&[][..], |s| &s.claims[..]);
        reverse::served_addresses(node, claims, host.as_ref(), |object| {
            self.objects.get(object).map_or(0, |c| c.written)
        })
    }

    /// Gives the node at `key` per-cluster variants, until the name is next rebuilt; see
    /// [`crate::IndexWriter::set_local`].
    pub(crate) fn set_local(&mut self, key: &[u8], local: Vec<(u16, Vec<RRset>)>) -> bool {
        let Some(node) = self.snapshot.names.get(key) else {
            return false;
        };
        let node = node.clone().with_local(local);
        self.snapshot.names.insert(Arc::new(node));
        true
    }

    /// What the names rebuilt since the last call serve (a forward zone of a config with
    /// reverse zones; nothing otherwise).
    pub(crate) fn take_address_changes(&mut self) -> Vec<AddressChange> {
        self.addresses
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// In a reverse zone: the PTR the forward zones give the reverse name `key` (`None`: none).
    /// `written` is when the object whose change moved it was written, for the serial.
    pub(crate) fn set_ptr(&mut self, key: OwnedKey, ptr: Option<Ptr>, written: u32) {
        let old = self.ptrs.get_mut(&key);
        match (old, &ptr) {
            (None, None) => return,
            (Some((old, _)), Some(new)) if old.target == new.target && old.object == new.object => {
                old.written = new.written;
                return;
            }
            _ => {}
        }
        let before = self.snapshot.names.fingerprint();
        let reserved = self.config.hosts().any(|ns| {
            owned_key(ns.name.as_name()).is_some_and(|host| reverse::at_or_below(&key, &host))
        });
        match ptr.and_then(|ptr| Some((reverse::ptr_claim(&ptr)?, ptr))) {
            Some((claim, ptr)) if !reserved => {
                self.ptrs.insert(key.clone(), (ptr, claim));
                self.names.entry(key.clone()).or_default();
            }
            _ => {
                self.ptrs.remove(&key);
            }
        }
        self.rebuild(&key);
        if self.snapshot.names.fingerprint() != before {
            self.serial.changed(written);
        }
    }

    fn is_nameserver_key(&self, key: &[u8]) -> bool {
        self.config
            .hosts()
            .any(|ns| owned_key(ns.name.as_name()).is_some_and(|k| *k == *key))
    }

    /// The apex: object records (no CNAME), then SOA and NS.
    fn publish_apex(&mut self, mut rrsets: Vec<RRset>, provenance: Option<crate::Provenance>) {
        let origin = self.snapshot.origin.clone();
        let ttl = self.config.ttl;
        rrsets.extend(RRset::new(vec![self.snapshot.soa.clone()]));
        let ns: Vec<Record> = self
            .config
            .ns_names()
            .into_iter()
            .map(|name| {
                Record::from_rdata(origin.clone(), ttl, RData::NS(NS(name.as_name().clone())))
            })
            .collect();
        rrsets.extend(RRset::new(ns));
        self.snapshot.names.insert(Arc::new(NameNode::new(
            self.origin_key.clone(),
            rrsets,
            NodeRole::Apex,
            provenance,
        )));
    }

    /// Serves `key` as an empty non-terminal, unless it already is one.
    fn set_empty_non_terminal(&mut self, key: &OwnedKey) {
        let already =
            self.snapshot.names.get(key).is_some_and(|node| {
                node.is_empty_non_terminal() && node.role() == NodeRole::Ordinary
            });
        if !already {
            self.snapshot
                .names
                .insert(Arc::new(NameNode::empty_non_terminal(key.clone())));
        }
    }

    /// A name started or stopped serving records: every ancestor up to the apex gains or loses
    /// one descendant, and becomes or stops being an empty non-terminal.
    fn adjust_ancestors(&mut self, key: &[u8], gained: bool) {
        let mut current = parent_of(key);
        while let Some(ancestor) = current {
            if *ancestor == *self.origin_key || ancestor.len() < self.origin_key.len() {
                break;
            }
            if !self.names.contains_key(ancestor) {
                self.names.insert(ancestor.into(), NameState::default());
            }
            let Some((owned, state)) = self.names.get_key_value_mut(ancestor) else {
                break;
            };
            let owned = owned.clone();
            if gained {
                state.below += 1;
            } else {
                state.below = state.below.saturating_sub(1);
            }
            let (below, has_records, claims_empty) =
                (state.below, state.has_records, state.claims.is_empty());
            if !has_records {
                if below > 0 {
                    self.set_empty_non_terminal(&owned);
                } else {
                    self.snapshot.names.remove(ancestor);
                    if claims_empty {
                        self.names.remove(ancestor);
                    }
                }
            }
            current = parent_of(ancestor);
        }
    }
}

fn soa_record(config: &ZoneConfig, serial: u32) -> Record {
    let mname = config.nameserver.name.as_name().clone();
    let rname = match &config.soa.rname {
        Some(rname) => rname.as_name().clone(),
        None => config
            .origin
            .as_name()
            .prepend_label("hostmaster")
            .unwrap_or_else(|_| mname.clone()),
    };
    let timer = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    Record::from_rdata(
        config.origin.as_name().clone(),
        config.ttl,
        RData::SOA(SOA::new(
            mname,
            rname,
            serial,
            timer(config.soa.refresh),
            timer(config.soa.retry),
            timer(config.soa.expire),
            config.soa.negative_ttl,
        )),
    )
}
