//! All zones together: the single writer and the lock-free readers.

use std::{net::IpAddr, sync::Arc};

use arc_swap::ArcSwap;
use kubezone_model::{DnsName, Endpoint, ObjectRef};

use crate::{
    NameConflict, RRset, SerialFloor, ZoneConfig, ZoneSnapshot,
    key::NameKey,
    reverse::{ReverseIndex, reverse_network},
    zone::ZoneWriter,
};

/// One consistent view of every zone, as published by the writer.
pub struct Catalog {
    /// Longest origin first, so the first match is the most specific zone.
    zones: Vec<ZoneSnapshot>,
    ready: bool,
}

impl Catalog {
    /// Whether every source has delivered its first full state. Until then zone names answer
    /// SERVFAIL.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// The most specific zone that contains `key` ("the longest zone wins").
    pub fn zone_for(&self, key: &NameKey) -> Option<&ZoneSnapshot> {
        // A zone only pushed to a primary is not answered for.
        self.zones
            .iter()
            .find(|zone| zone.is_served() && zone.contains(key))
    }

    /// Zones in configuration order.
    pub fn zones(&self) -> impl Iterator<Item = &ZoneSnapshot> {
        let mut zones: Vec<&ZoneSnapshot> = self.zones.iter().collect();
        zones.sort_by_key(|z| z.id());
        zones.into_iter()
    }

    pub fn zone(&self, id: usize) -> Option<&ZoneSnapshot> {
        self.zones.iter().find(|z| z.id() == id)
    }
}

/// A cheap, cloneable handle for the answer path. Loading never waits on the writer.
#[derive(Clone)]
pub struct IndexReader {
    current: Arc<ArcSwap<Catalog>>,
}

impl IndexReader {
    pub fn load(&self) -> arc_swap::Guard<Arc<Catalog>> {
        self.current.load()
    }

    /// An owned reference, for work that outlives one query.
    pub fn load_full(&self) -> Arc<Catalog> {
        self.current.load_full()
    }
}

/// The one owner of the zone index. Applies object changes and publishes snapshots.
pub struct IndexWriter {
    zones: Vec<ZoneWriter>,
    current: Arc<ArcSwap<Catalog>>,
    ready: bool,
    /// Who serves each address the reverse zones cover; `None` without reverse zones.
    reverse: Option<ReverseIndex>,
}

impl IndexWriter {
    /// Zones in configuration order.
    pub fn new(configs: Vec<ZoneConfig>) -> (IndexWriter, IndexReader) {
        IndexWriter::with_floors(configs, |_| None)
    }

    /// Zones in configuration order, each starting from the serial `floor` gives for it (the
    /// serial a running config served, on reload), so that a serial never goes back.
    pub fn with_floors(
        configs: Vec<ZoneConfig>,
        floor: impl Fn(&ZoneConfig) -> Option<SerialFloor>,
    ) -> (IndexWriter, IndexReader) {
        // A zone whose origin is no reverse zone (or cannot be one: the config says why) is a
        // forward zone, whose addresses the reverse zones follow.
        let networks: Vec<_> = configs
            .iter()
            .enumerate()
            .filter_map(|(id, config)| Some((id, reverse_network(&config.origin).ok()??)))
            .collect();
        let zones: Vec<ZoneWriter> = configs
            .into_iter()
            .enumerate()
            .map(|(id, config)| {
                let floor = floor(&config);
                let forward = !networks.iter().any(|(r, _)| *r == id);
                ZoneWriter::new(id, config, floor, forward && !networks.is_empty())
            })
            .collect();
        let current = Arc::new(ArcSwap::from_pointee(Catalog {
            zones: Vec::new(),
            ready: false,
        }));
        let mut writer = IndexWriter {
            zones,
            current: current.clone(),
            ready: false,
            reverse: ReverseIndex::new(networks),
        };
        writer.follow_addresses(0);
        writer.publish(0);
        (writer, IndexReader { current })
    }

    /// Replaces all records of `object` with `endpoints`, given as (zone id, endpoint). An
    /// empty list removes the object. Cost is proportional to the object, not the zone.
    /// `written` is when the object was last written (unix seconds; 0 when unknown, as for a
    /// deletion): the serial of a zone whose records change moves to at least that. `created`
    /// is its creationTimestamp, which `claims: firstNamespace` orders claims by (0: keep the one
    /// applied before, if any).
    /// Returns the conflicts at every name the change touched, whichever object lost.
    pub fn apply(
        &mut self,
        object: &ObjectRef,
        endpoints: impl IntoIterator<Item = (usize, Endpoint)>,
        written: u32,
        created: u32,
    ) -> Vec<NameConflict> {
        let mut per_zone: Vec<Vec<Endpoint>> = vec![Vec::new(); self.zones.len()];
        for (zone, endpoint) in endpoints {
            if let Some(list) = per_zone.get_mut(zone) {
                list.push(endpoint);
            }
        }
        let conflicts = self
            .zones
            .iter_mut()
            .zip(per_zone)
            .flat_map(|(zone, endpoints)| zone.apply(object, endpoints, written, created))
            .collect();
        self.follow_addresses(written);
        conflicts
    }

    /// Brings the reverse zones' PTRs up to date with the addresses the forward zones' rebuilt
    /// names serve now. `written` is when the change's object was written, for the serials.
    fn follow_addresses(&mut self, written: u32) {
        let Some(reverse) = self.reverse.as_mut() else {
            return;
        };
        for (id, zone) in self.zones.iter_mut().enumerate() {
            let changes = zone.take_address_changes();
            if !changes.is_empty() {
                reverse.record(id, changes);
            }
        }
        for change in reverse.take_changes() {
            if let Some(zone) = self.zones.get_mut(change.zone) {
                zone.set_ptr(change.name, change.ptr, written);
            }
        }
    }

    /// Sets the glue of zone `zone`'s nameserver hosts (from the server's own Service, or the
    /// config); `None` leaves a host's glue as it is. `written` is when the Service was written.
    pub fn set_nameservers(
        &mut self,
        zone: usize,
        nameserver: Option<Vec<IpAddr>>,
        secondary: Option<Vec<IpAddr>>,
        written: u32,
    ) {
        if let Some(z) = self.zones.get_mut(zone) {
            z.set_nameservers(nameserver, secondary, written);
        }
        self.follow_addresses(written);
    }

    /// When `object` was last written, as last applied (unix seconds); `None` if it claims no
    /// name.
    pub fn written_of(&self, object: &ObjectRef) -> Option<u32> {
        self.zones.iter().filter_map(|z| z.written_of(object)).max()
    }

    /// Turns `namespace` away from zone `zone` (`why`, which conflicts quote) or admits it
    /// (`None`): the claims of its objects are kept either way, and served only while it is
    /// admitted. Returns the conflicts at the names that changed.
    pub fn refuse_namespace(
        &mut self,
        zone: usize,
        namespace: &str,
        why: Option<String>,
    ) -> Vec<NameConflict> {
        let conflicts = self
            .zones
            .get_mut(zone)
            .map(|z| z.refuse_namespace(namespace, why))
            .unwrap_or_default();
        // A namespace's labels moved the zone: the serials follow the clock.
        self.follow_addresses(0);
        conflicts
    }

    /// Marks cluster `cluster` (its place in `clusters:`) stale, so its targets leave every
    /// global name, or fresh again. Returns the conflicts at the names that changed.
    pub fn set_cluster_stale(&mut self, cluster: u16, stale: bool) -> Vec<NameConflict> {
        let conflicts = self
            .zones
            .iter_mut()
            .flat_map(|z| z.set_cluster_stale(cluster, stale))
            .collect();
        self.follow_addresses(0);
        conflicts
    }

    /// Every conflict in every zone as last applied, e.g. to report them once the first full
    /// state is in.
    pub fn conflicts(&self) -> Vec<NameConflict> {
        self.zones.iter().flat_map(ZoneWriter::conflicts).collect()
    }

    /// How many names the objects of each Kind claim in zone `zone`.
    pub fn names_by_kind(&self, zone: usize) -> Vec<(kubezone_model::Kind, usize)> {
        self.zones
            .get(zone)
            .map(|z| z.claimed_by_kind().iter().map(|(k, n)| (*k, *n)).collect())
            .unwrap_or_default()
    }

    /// Each zone's serial as last published, in configuration order.
    pub fn serials(&self) -> Vec<u32> {
        self.zones.iter().map(ZoneWriter::serial).collect()
    }

    /// What each zone's static records could not serve, as (zone, conflict).
    pub fn static_conflicts(&self) -> Vec<(usize, NameConflict)> {
        self.zones
            .iter()
            .enumerate()
            .flat_map(|(i, z)| z.static_conflicts().iter().map(move |c| (i, c.clone())))
            .collect()
    }

    pub fn set_ready(&mut self, ready: bool) {
        self.ready = ready;
    }

    pub fn zone_configs(&self) -> impl Iterator<Item = &ZoneConfig> {
        self.zones.iter().map(ZoneWriter::config)
    }

    /// Gives the node at `name` in zone `zone` per-cluster variants ([`crate::NameNode::with_local`])
    /// until the name is next rebuilt; false when there is no such node. For tools and tests:
    /// the index builds a `local-first` name's variants from its claims.
    pub fn set_local(
        &mut self,
        zone: usize,
        name: &DnsName,
        local: Vec<(u16, Vec<RRset>)>,
    ) -> bool {
        let Some(key) = NameKey::new(name.as_name()) else {
            return false;
        };
        self.zones
            .get_mut(zone)
            .is_some_and(|z| z.set_local(key.as_bytes(), local))
    }

    /// Makes everything applied so far visible to readers, in one step. Returns the unix second
    /// at which to publish again when a zone's serial waits for the clock (`serial.rs`).
    pub fn publish(&mut self, now_unix: u32) -> Option<u32> {
        // The apex is rebuilt with each new serial; its addresses stay as they were.
        self.follow_addresses(0);
        let ready = self.ready;
        let mut retry: Option<u32> = None;
        let mut zones: Vec<ZoneSnapshot> = self
            .zones
            .iter_mut()
            .map(|z| {
                let (snapshot, again) = z.snapshot(now_unix, ready);
                retry = match (retry, again) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                snapshot
            })
            .collect();
        zones.sort_by_key(|z| std::cmp::Reverse(z.origin_labels()));
        self.current.store(Arc::new(Catalog {
            zones,
            ready: self.ready,
        }));
        retry
    }
}
