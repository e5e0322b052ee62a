//! Push mode's task, one per zone with `push` (issue 17, `docs/push.md`): once every source has
//! synced, it reads the primary's zone by AXFR, plans what kubezone owns and wants there
//! (`kubezone-push`), and sends the changes as signed UPDATEs. After that it plans again on each
//! publish that changed the zone, from the primary's zone as last read and kept current by the
//! batches that succeeded, and reads the zone afresh every `interval`, after any failure and
//! after a failed prerequisite (someone else changed it). It never holds up the answer path.

use std::{
    fmt::Write as _,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hickory_proto::rr::Name;
use kubezone_index::{IndexReader, ZoneSnapshot};
use kubezone_metrics::{Metrics, PushCounters};
use kubezone_push::{
    AxfrError, Backoff, Fault, Pacing, Primary, UpdateError, Updater,
    batch::{self, Bounds},
    plan::{self, Plan, Policy, PrimaryZone},
    registry::Registry,
};
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::config::{Config, PushPolicy};

/// One zone's push, as configured.
#[derive(Clone)]
pub struct ZonePush {
    /// The zone's place in the index.
    pub zone: usize,
    pub origin: Name,
    pub primary: Primary,
    pub registry: Registry,
    pub policy: Policy,
    pub interval: Duration,
    pub counters: Option<PushCounters>,
}

/// The zones of `config` that push, ready to run.
pub fn zone_pushes(config: &Config, metrics: Option<&Metrics>) -> Vec<ZonePush> {
    config
        .zones
        .iter()
        .enumerate()
        .filter_map(|(i, zone)| {
            let push = zone.push.as_ref()?;
            let key = config
                .tsig_keys
                .get(&Name::from_ascii(&push.key).ok()?)
                .cloned();
            Some(ZonePush {
                zone: i,
                origin: zone.index.origin.as_name().clone(),
                primary: Primary::new(push.server, key),
                registry: push.registry.clone(),
                policy: match push.policy {
                    PushPolicy::Sync => Policy::Sync,
                    PushPolicy::UpsertOnly => Policy::UpsertOnly,
                    PushPolicy::CreateOnly => Policy::CreateOnly,
                },
                interval: push.interval,
                counters: metrics.map(|m| m.push_counters(&zone.index.origin.to_string())),
            })
        })
        .collect()
}

/// What `/readyz?verbose` says about each zone's push, and the conflicts left alone on each
/// primary, for `/debug/explain`.
#[derive(Clone, Default)]
pub struct PushStatus(Arc<Mutex<StatusInner>>);

#[derive(Default)]
struct StatusInner {
    /// (zone, state) in the order zones started.
    states: Vec<(String, String)>,
    /// (zone, name in lower case with its final dot, the conflict).
    conflicts: Vec<(String, String, String)>,
}

impl PushStatus {
    fn set(&self, zone: &Name, state: String) {
        let zone = zone.to_string();
        if let Ok(mut inner) = self.0.lock() {
            match inner.states.iter_mut().find(|(z, _)| *z == zone) {
                Some(line) => line.1 = state,
                None => inner.states.push((zone, state)),
            }
        }
    }

    fn set_conflicts(&self, zone: &Name, conflicts: &[plan::Conflict]) {
        let zone = zone.to_string();
        if let Ok(mut inner) = self.0.lock() {
            inner.conflicts.retain(|(z, _, _)| *z != zone);
            for conflict in conflicts {
                let name = conflict.name.to_lowercase().to_string();
                inner
                    .conflicts
                    .push((zone.clone(), name, conflict.to_string()));
            }
        }
    }

    /// `push <zone>: <state>` lines.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|inner| {
                inner
                    .states
                    .iter()
                    .map(|(zone, state)| format!("push {zone}: {state}"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The conflicts at `name` (any case, with or without its final dot) on a primary.
    pub fn conflicts_at(&self, name: &str) -> Vec<String> {
        let mut name = name.trim().to_ascii_lowercase();
        if !name.ends_with('.') {
            name.push('.');
        }
        self.0
            .lock()
            .map(|inner| {
                inner
                    .conflicts
                    .iter()
                    .filter(|(_, n, _)| *n == name)
                    .map(|(zone, _, text)| format!("{text} (zone {zone}'s primary)"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Why a reconciliation stopped.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Axfr(#[from] AxfrError),
    #[error("{0}")]
    Update(#[from] UpdateError),
}

impl Failure {
    fn fault(&self) -> Fault {
        match self {
            Failure::Axfr(e) => e.fault(),
            Failure::Update(e) => e.fault(),
        }
    }
}

/// What one reconciliation did.
#[derive(Default)]
struct Outcome {
    changes: usize,
    messages: usize,
    conflicts: Vec<plan::Conflict>,
    /// How long planning took, and sending.
    planned: Duration,
    sent: Duration,
}

impl ZonePush {
    /// Reads the primary's zone by AXFR.
    async fn read(&self) -> Result<PrimaryZone, AxfrError> {
        let transferred = self.primary.axfr(&self.origin).await?;
        let (zone, unreadable) = PrimaryZone::from_records(
            &self.origin,
            std::iter::once(&transferred.soa).chain(&transferred.records),
        );
        for record in unreadable {
            warn!(zone = %self.origin, "push: a record of the primary cannot be read: {record}");
        }
        Ok(zone)
    }

    /// The plan from the primary's zone as it stands to what the index serves now.
    pub fn plan(&self, primary: &PrimaryZone, reader: &IndexReader) -> Option<Plan> {
        Some(self.plan_all(primary, reader.load().zone(self.zone)?))
    }

    /// The plan from the primary's zone to everything `snapshot` serves.
    fn plan_all(&self, primary: &PrimaryZone, snapshot: &ZoneSnapshot) -> Plan {
        let wanted = plan::wanted_from_snapshot(snapshot);
        plan::plan(primary, &wanted, &self.registry, self.policy)
    }

    /// One reconciliation: plan from `known` (read when `None`), send every batch.
    ///
    /// `planned` is the snapshot `known` was last brought up to: when there is one (and `known`
    /// was not read afresh), only the names that changed since are planned, so a change costs
    /// what it touches rather than the whole zone. It becomes the snapshot planned now.
    async fn reconcile(
        &self,
        known: &mut Option<PrimaryZone>,
        planned: &mut Option<ZoneSnapshot>,
        conflicts: &mut Vec<plan::Conflict>,
        updater: &mut Updater,
        reader: &IndexReader,
    ) -> Result<Outcome, Failure> {
        if known.is_none() {
            *known = Some(self.read().await?);
            *planned = None;
        }
        let Some(zone) = known.as_mut() else {
            return Ok(Outcome::default());
        };
        let planning = Instant::now();
        let catalog = reader.load();
        let Some(snapshot) = catalog.zone(self.zone) else {
            return Ok(Outcome::default());
        };
        // The names planned this time; `None`: all of them.
        let mut only: Option<std::collections::BTreeSet<Name>> = None;
        let plan = match planned.as_ref() {
            Some(before) => {
                let changed = snapshot.changes_since(before);
                let names: std::collections::BTreeSet<Name> = changed
                    .iter()
                    .filter_map(|(old, new)| plan::node_name(new.or(*old)?))
                    .collect();
                let wanted =
                    plan::wanted_from_nodes(snapshot, changed.iter().filter_map(|(_, new)| *new));
                let plan = plan::plan_names(zone, &wanted, &names, &self.registry, self.policy);
                only = Some(names);
                plan
            }
            // The same snapshot as the one remembered below, so the next change is planned
            // from exactly what this plan covered.
            None => self.plan_all(zone, snapshot),
        };
        let snapshot = snapshot.clone();
        drop(catalog);
        let batches = batch::batches(&self.origin, &plan.changes, Bounds::default());
        let plan_time = planning.elapsed();
        for (changes, error) in &batches.refused {
            warn!(zone = %self.origin, changes = changes.len(), "push: not sent: {error}");
        }
        // The conflicts at the names not planned this time still stand.
        match &only {
            Some(names) => {
                conflicts.retain(|c| !names.contains(&c.name));
                conflicts.extend(plan.conflicts.iter().cloned());
                conflicts.sort();
            }
            None => *conflicts = plan.conflicts.clone(),
        }
        let mut outcome = Outcome {
            conflicts: conflicts.clone(),
            ..Outcome::default()
        };
        // A few changes are each worth a line; a large sync is told by its count.
        if plan.changes.len() <= 10 {
            for change in &plan.changes {
                info!(zone = %self.origin, "push: {change}");
            }
        }
        for batch in &batches.batches {
            if let Err(e) = updater.update_wire(&self.origin, batch.message(0)).await {
                // Whatever the primary holds now is unknown: read it again next time.
                *known = None;
                *planned = None;
                return Err(e.into());
            }
            zone.apply(batch.edits());
            outcome.changes += batch.changes().len();
            outcome.messages += 1;
        }
        *planned = Some(snapshot);
        outcome.planned = plan_time;
        outcome.sent = planning.elapsed().saturating_sub(plan_time);
        Ok(outcome)
    }

    /// `kubezone plan`: reads the primary's zone and says what a reconciliation would change;
    /// with `apply`, makes the changes (one reconciliation, for jobs). The report names the
    /// zone, each change, what the policy holds back, each conflict and what is not pushed.
    pub async fn once(&self, reader: &IndexReader, apply: bool) -> Result<String, String> {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "zone {} (primary {}, owner {}, policy {:?})",
            self.origin,
            self.primary.server,
            self.registry.owner(),
            self.policy
        );
        let mut zone = self.read().await.map_err(|e| e.to_string())?;
        let plan = self
            .plan(&zone, reader)
            .ok_or_else(|| format!("zone {} is not in the index", self.origin))?;
        for change in &plan.changes {
            let _ = writeln!(out, "  {change}");
        }
        for change in &plan.withheld {
            let _ = writeln!(out, "  held back by the policy: {change}");
        }
        for conflict in &plan.conflicts {
            let _ = writeln!(out, "  left alone: {conflict}");
        }
        for skipped in &plan.skipped {
            let _ = writeln!(out, "  not pushed: {skipped}");
        }
        if plan.changes.is_empty() {
            let _ = writeln!(out, "  no change");
        }
        if apply && !plan.changes.is_empty() {
            let batches = batch::batches(&self.origin, &plan.changes, Bounds::default());
            let mut updater = Updater::new(self.primary.clone());
            for batch in &batches.batches {
                updater
                    .update_wire(&self.origin, batch.message(0))
                    .await
                    .map_err(|e| format!("{out}{e}"))?;
                zone.apply(batch.edits());
            }
            for (_, error) in &batches.refused {
                let _ = writeln!(out, "  not sent: {error}");
            }
            let _ = writeln!(
                out,
                "  sent {} changes in {} messages",
                plan.changes.len(),
                batches.batches.len()
            );
        }
        Ok(out)
    }

    /// Runs until the pipeline is dropped.
    pub async fn run(self, reader: IndexReader, published: Arc<Notify>, status: PushStatus) {
        let mut known: Option<PrimaryZone> = None;
        let mut planned: Option<ZoneSnapshot> = None;
        let mut conflicts: Vec<plan::Conflict> = Vec::new();
        let mut updater = Updater::new(self.primary.clone());
        let mut transient = Backoff::new(Pacing::TRANSIENT);
        let mut refused = Backoff::new(Pacing::REFUSED);
        let mut pushed: Option<u64> = None;
        let mut last_read = Instant::now();
        let mut last_conflicts: Vec<plan::Conflict> = Vec::new();
        status.set(&self.origin, "waiting for every source's first sync".into());
        loop {
            let catalog = reader.load();
            let fingerprint = catalog.zone(self.zone).map(|z| z.fingerprint());
            // A half-listed cluster must never delete what the primary holds.
            let ready = catalog.is_ready();
            drop(catalog);
            if ready && known.is_some() && last_read.elapsed() >= self.interval {
                known = None;
            }
            if !ready || (known.is_some() && pushed == fingerprint) {
                let until_read = self.interval.saturating_sub(last_read.elapsed());
                let _ = tokio::time::timeout(
                    until_read.max(Duration::from_millis(100)),
                    published.notified(),
                )
                .await;
                continue;
            }
            if known.is_none() {
                last_read = Instant::now();
            }
            match self
                .reconcile(
                    &mut known,
                    &mut planned,
                    &mut conflicts,
                    &mut updater,
                    &reader,
                )
                .await
            {
                Ok(outcome) => {
                    transient.reset();
                    refused.reset();
                    pushed = fingerprint;
                    if outcome.changes > 0 {
                        info!(
                            zone = %self.origin,
                            changes = outcome.changes,
                            messages = outcome.messages,
                            planned_ms = outcome.planned.as_millis() as u64,
                            sent_ms = outcome.sent.as_millis() as u64,
                            "push: the primary is up to date"
                        );
                    }
                    if let Some(counters) = &self.counters {
                        counters.changes.inc_by(outcome.changes as u64);
                        counters.messages.inc_by(outcome.messages as u64);
                        counters
                            .conflicts
                            .set(i64::try_from(outcome.conflicts.len()).unwrap_or(i64::MAX));
                        counters.last_success.set(unix_now());
                    }
                    status.set_conflicts(&self.origin, &outcome.conflicts);
                    if outcome.conflicts != last_conflicts {
                        for conflict in &outcome.conflicts {
                            warn!(zone = %self.origin, "push: left alone: {conflict}");
                        }
                        last_conflicts = outcome.conflicts.clone();
                    }
                    let mut state = format!("in sync ({} changes sent last)", outcome.changes);
                    if !outcome.conflicts.is_empty() {
                        let _ = write!(state, ", {} conflicts", outcome.conflicts.len());
                    }
                    status.set(&self.origin, state);
                }
                Err(failure) => {
                    if let Some(counters) = &self.counters {
                        counters.failed(match failure.fault() {
                            Fault::Prerequisite => "prerequisite",
                            Fault::NotAllowed => "not_allowed",
                            Fault::Transient => "transient",
                        });
                    }
                    let wait = match failure.fault() {
                        // Someone changed the zone meanwhile: read it again at once.
                        Fault::Prerequisite => Duration::ZERO,
                        Fault::NotAllowed => refused.failed(),
                        Fault::Transient => transient.failed(),
                    };
                    known = None;
                    warn!(zone = %self.origin, retry_in = ?wait, "push: {failure}");
                    status.set(
                        &self.origin,
                        format!("failing: {failure}; retrying in {} s", wait.as_secs()),
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
