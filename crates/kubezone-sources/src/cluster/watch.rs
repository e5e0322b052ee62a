//! One watch: a Kind, in every namespace or one, turned into [`SourceEvent`]s.
//!
//! A list (the first one, or a relist after `410 Gone`) is sent between `ReplaceBegin` and
//! `ReplaceEnd`, with deletes for whatever the list no longer has, so the writer publishes the
//! Kind's new state in one step and answers never pass through an empty state.

use std::{collections::HashSet, time::Duration};

use futures::{StreamExt, pin_mut};
use kube::{
    api::{Api, ApiResource, DynamicObject, ListParams},
    runtime::{
        WatchStreamExt,
        utils::ResetTimerBackoff,
        watcher::{self, Event, ExponentialBackoff},
    },
};
use kubezone_metrics::WatchCounters;
use kubezone_model::{ClusterId, Kind, ObjectRef};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::{
    client::WATCH_TIMEOUT,
    resource::resource_name,
    slim::{Read, object_ref_in, read, written},
    status::{ClusterStatus, WatchState},
};
use crate::{Change, Scope, SourceEvent, SourceId};

/// A watch that failed and then went this long without another error is watching again: kube's
/// watcher resumes a watch without an event, so quiet is the only sign (retries come at most
/// every 5 s, plus jitter).
const RECOVERED_AFTER: Duration = Duration::from_secs(15);

async fn sleep_until_or_never(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Changes sent per event while a list streams in, so a large list is applied as it arrives.
const LIST_CHUNK: usize = 500;

/// Retries after errors: quick at first, at most every 5 s, so a CRD installed later or an API
/// server back from an outage is picked up within seconds.
pub fn backoff() -> ResetTimerBackoff<ExponentialBackoff> {
    ResetTimerBackoff::new(
        ExponentialBackoff::from(
            backon::ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(250))
                .with_max_delay(Duration::from_secs(5))
                .with_factor(2.0)
                .with_jitter()
                .without_max_times(),
        ),
        Duration::from_secs(60),
    )
}

/// Every watch's settings: ended by the API server every [`WATCH_TIMEOUT`] seconds.
pub fn watch_config() -> watcher::Config {
    watcher::Config::default().timeout(WATCH_TIMEOUT)
}

pub struct KindWatch {
    pub kind: Kind,
    pub resource: ApiResource,
    pub api: Api<DynamicObject>,
    /// `None` for every namespace.
    pub namespace: Option<String>,
    pub status: ClusterStatus,
    pub id: usize,
    pub counters: Option<WatchCounters>,
    /// The cluster, when kubezone reads several.
    pub cluster: Option<ClusterId>,
    pub source: SourceId,
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl KindWatch {
    /// What this watch lists, which is also what a log line or `/readyz` calls it.
    pub fn scope(&self) -> Scope {
        Scope {
            kind: self.kind,
            namespace: self.namespace.clone(),
        }
    }

    /// Watches until `events` closes.
    pub async fn run(self, events: mpsc::Sender<SourceEvent>) {
        let stream = watcher::watcher(self.api.clone(), watch_config()).backoff(backoff());
        pin_mut!(stream);
        let mut state = Objects::default();
        let mut out = Outbox::new(events, self.source);
        let mut failing_since: Option<tokio::time::Instant> = None;
        loop {
            let quiet_until = failing_since.map(|t| t + RECOVERED_AFTER);
            let item = tokio::select! {
                item = stream.next() => match item {
                    Some(item) => item,
                    None => return,
                },
                () = sleep_until_or_never(quiet_until) => {
                    failing_since = None;
                    self.set_state(WatchState::Synced);
                    continue;
                }
            };
            if let Some(counters) = &self.counters {
                match &item {
                    Ok(_) => counters.events.inc(),
                    Err(_) => counters.errors.inc(),
                }
            }
            match &item {
                // Before the first list, only InitDone makes a watch synced.
                Err(_) if self.status_is_synced_once() => {
                    failing_since = Some(tokio::time::Instant::now());
                }
                Err(_) => {}
                Ok(_) => {
                    if failing_since.take().is_some() {
                        self.set_state(WatchState::Synced);
                    }
                }
            }
            let sent = match item {
                Ok(Event::Init) => {
                    state.listing = Some(HashSet::new());
                    out.send(SourceEvent::ReplaceBegin {
                        source: self.source,
                        scope: self.scope(),
                    })
                    .await
                }
                Ok(Event::InitApply(object)) => {
                    let change = self.listed(&mut state, object);
                    out.push(change);
                    if out.pending.len() >= LIST_CHUNK {
                        out.flush().await
                    } else {
                        true
                    }
                }
                Ok(Event::InitDone) => {
                    let listed = state.listing.take().unwrap_or_default();
                    for gone in state.known.difference(&listed) {
                        out.push(Some(Change::Delete(gone.clone())));
                    }
                    state.known = listed;
                    state.lists += 1;
                    if state.lists > 1 {
                        // A relist means the watch fell too far behind (410 Gone) or restarted:
                        // worth knowing when changes seem slow.
                        info!(watch = %self.label_now(), objects = state.known.len(), "relisted");
                    }
                    let sent = out.flush().await && out.send(self.replace_end()).await;
                    self.set_state(WatchState::Synced);
                    sent
                }
                Ok(Event::Apply(object)) => {
                    let change = self.applied(&mut state, object);
                    out.push(change);
                    out.flush().await
                }
                Ok(Event::Delete(object)) => {
                    let object = object_ref_in(self.cluster.clone(), self.kind, &object);
                    if state.known.remove(&object) {
                        out.push(Some(Change::Delete(object)));
                    }
                    out.flush().await
                }
                Err(e) => {
                    let mut sent = true;
                    if state.listing.take().is_some() {
                        // What was listed so far is newer than what was there; keep it and
                        // let the next list finish the job.
                        sent = out.flush().await && out.send(self.replace_end()).await;
                    }
                    match self.classify(&e) {
                        Some(WatchState::Failing { message }) => {
                            let state = self.probe(message).await;
                            self.set_state(state);
                        }
                        Some(state) => self.set_state(state),
                        None => debug!(watch = %self.label_now(), "{e}"),
                    }
                    sent
                }
            };
            if !sent {
                return;
            }
        }
    }

    fn replace_end(&self) -> SourceEvent {
        SourceEvent::ReplaceEnd {
            source: self.source,
            scope: self.scope(),
        }
    }

    fn set_state(&self, state: WatchState) {
        if let Some(counters) = &self.counters {
            match &state {
                WatchState::Synced => counters.synced(unix_now()),
                WatchState::Missing { .. } => counters.crd_missing(true),
                _ => {}
            }
        }
        self.status.set(self.id, state);
    }

    fn status_is_synced_once(&self) -> bool {
        self.status
            .watches()
            .get(self.id)
            .is_some_and(|w| w.synced_once)
    }

    fn label_now(&self) -> String {
        self.scope().to_string()
    }

    fn listed(&self, state: &mut Objects, object: DynamicObject) -> Option<Change> {
        let reference = object_ref_in(self.cluster.clone(), self.kind, &object);
        let written = written(&object.metadata);
        match self.read(&reference, object) {
            Some(object) => {
                if let Some(listing) = state.listing.as_mut() {
                    listing.insert(reference.clone());
                }
                Some(Change::Apply {
                    object,
                    object_ref: reference,
                    written,
                })
            }
            // Left out of the list, so the end of the list deletes it if it was known.
            None => None,
        }
    }

    fn applied(&self, state: &mut Objects, object: DynamicObject) -> Option<Change> {
        let reference = object_ref_in(self.cluster.clone(), self.kind, &object);
        let written = written(&object.metadata);
        match self.read(&reference, object) {
            Some(object) => {
                state.known.insert(reference.clone());
                Some(Change::Apply {
                    object,
                    object_ref: reference,
                    written,
                })
            }
            None => state
                .known
                .remove(&reference)
                .then_some(Change::Delete(reference)),
        }
    }

    fn read(
        &self,
        reference: &ObjectRef,
        object: DynamicObject,
    ) -> Option<kubezone_translate::KubeObject> {
        match read(self.kind, &self.resource, object) {
            Read::Object(object) => Some(object),
            Read::Ignored => None,
            Read::Invalid(message) => {
                warn!(object = %reference, "skipped: {message}");
                if let Some(counters) = &self.counters {
                    counters.skipped.inc();
                }
                None
            }
        }
    }

    /// What an error says about the watch; `None` for errors the watcher recovers from by
    /// itself (`410 Gone` relists).
    fn classify(&self, error: &watcher::Error) -> Option<WatchState> {
        let (verb, client_error) = match error {
            watcher::Error::InitialListFailed(e) => ("list", Some(e)),
            watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => {
                ("watch", Some(e))
            }
            watcher::Error::WatchError(status) => {
                return match status.code {
                    410 => None,
                    403 => Some(self.forbidden("watch", &status.message)),
                    404 => Some(self.missing()),
                    _ => Some(WatchState::Failing {
                        message: format!("{}: {}", resource_name(&self.resource), status.message),
                    }),
                };
            }
            watcher::Error::NoResourceVersion => ("list", None),
        };
        if let Some(kube::Error::Api(status)) = client_error {
            match status.code {
                403 => return Some(self.forbidden(verb, &status.message)),
                404 => return Some(self.missing()),
                410 => return None,
                _ => {}
            }
        }
        Some(WatchState::Failing {
            message: format!("cannot {verb} {}: {error}", resource_name(&self.resource)),
        })
    }

    /// A failed watch does not always say why (a resource that is gone answers a watch with a
    /// plain-text 404 page); a one-item list does.
    async fn probe(&self, failure: String) -> WatchState {
        match self
            .api
            .list_metadata(&ListParams::default().limit(1))
            .await
        {
            Err(kube::Error::Api(status)) if status.code == 404 => self.missing(),
            Err(kube::Error::Api(status)) if status.code == 403 => {
                self.forbidden("list", &status.message)
            }
            _ => WatchState::Failing { message: failure },
        }
    }

    fn forbidden(&self, verb: &'static str, message: &str) -> WatchState {
        let scope = match &self.namespace {
            Some(ns) => format!("in namespace {ns}"),
            None => "in all namespaces".into(),
        };
        WatchState::Forbidden {
            verb,
            message: format!(
                "{} {scope} (check kubezone's ClusterRole): {message}",
                resource_name(&self.resource)
            ),
        }
    }

    fn missing(&self) -> WatchState {
        let resource = &self.resource;
        let message = if resource.group.is_empty() {
            format!("the API server does not serve {}", resource.plural)
        } else {
            format!(
                "the CRD {} is not installed, or does not serve {}",
                resource_name(resource),
                resource.api_version
            )
        };
        WatchState::Missing { message }
    }
}

/// What this watch has told the writer about.
#[derive(Default)]
struct Objects {
    /// Objects the writer has from this watch.
    known: HashSet<ObjectRef>,
    /// During a list: the objects it has returned so far.
    listing: Option<HashSet<ObjectRef>>,
    /// Lists finished so far.
    lists: u64,
}

/// Changes waiting to be sent; `false` from a send means the writer is gone.
struct Outbox {
    events: mpsc::Sender<SourceEvent>,
    source: SourceId,
    pending: Vec<Change>,
}

impl Outbox {
    fn new(events: mpsc::Sender<SourceEvent>, source: SourceId) -> Self {
        Outbox {
            events,
            source,
            pending: Vec::new(),
        }
    }

    fn push(&mut self, change: Option<Change>) {
        self.pending.extend(change);
    }

    async fn flush(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let changes = std::mem::take(&mut self.pending);
        self.send(SourceEvent::Changes {
            source: self.source,
            changes,
        })
        .await
    }

    async fn send(&self, event: SourceEvent) -> bool {
        self.events.send(event).await.is_ok()
    }
}
