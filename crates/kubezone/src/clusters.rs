//! Several clusters (`clusters:`): each cluster's reachability, how old its data is, and the
//! `staleAfter` that takes its targets out of the global names (`docs/multi-cluster.md`).
//!
//! A watchdog per cluster reads the cluster source's watch states. The cluster is out of reach
//! while every watch that can succeed (not a missing CRD, not forbidden) is failing. After
//! `staleAfter` of that, the writer marks its data stale; when a watch answers again, fresh. A
//! remote cluster (not `localCluster`) that is out of reach before its first list no longer
//! holds back readiness.

use std::{
    fmt::Write,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use kubezone_metrics::ClusterGauges;
use kubezone_model::ClusterId;
use kubezone_sources::{ClusterStatus, SourceEvent, SourceId, WatchState};
use tokio::{sync::mpsc, time::Instant};
use tracing::warn;

/// How often the watchdog looks, besides every change of a watch's state.
const TICK: Duration = Duration::from_secs(1);

/// What `/readyz?verbose` and the metrics say about one cluster.
#[derive(Clone)]
pub struct ClusterView {
    pub id: ClusterId,
    pub status: ClusterStatus,
    state: Arc<Mutex<Reach>>,
    stale_after: Duration,
}

#[derive(Clone, Copy, Default)]
struct Reach {
    /// Since when every watch has failed; `None` while it answers.
    out_of_reach_since: Option<Instant>,
    stale: bool,
}

impl ClusterView {
    pub fn new(id: ClusterId, status: ClusterStatus, stale_after: Duration) -> Self {
        ClusterView {
            id,
            status,
            state: Arc::default(),
            stale_after,
        }
    }

    fn reach(&self) -> Reach {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One line for `/readyz?verbose`, then one per watch.
    pub fn lines(&self, out: &mut String) {
        let reach = self.reach();
        let state = match reach.out_of_reach_since {
            None => "answering".to_string(),
            Some(since) if reach.stale => format!(
                "out of reach for {}s, past staleAfter {}s: its targets have left the global names",
                since.elapsed().as_secs(),
                self.stale_after.as_secs()
            ),
            Some(since) => format!(
                "out of reach for {}s; its data is served until staleAfter {}s",
                since.elapsed().as_secs(),
                self.stale_after.as_secs()
            ),
        };
        let _ = writeln!(out, "cluster {}: {state}", self.id);
        for watch in self.status.watches() {
            let _ = writeln!(
                out,
                "cluster {} watch {}: {}",
                self.id, watch.watch, watch.state
            );
        }
    }
}

/// Whether every watch that could answer is failing.
fn out_of_reach(status: &ClusterStatus) -> bool {
    let watches = status.watches();
    let mut failing = false;
    for watch in &watches {
        match watch.state {
            WatchState::Failing { .. } => failing = true,
            WatchState::Missing { .. } | WatchState::Forbidden { .. } => {}
            WatchState::Listing | WatchState::Synced => return false,
        }
    }
    failing
}

/// Follows one cluster until `events` closes: tells the writer when its data goes stale and
/// when it is back, and (for a remote cluster) settles its readiness once it is out of reach.
pub async fn watchdog(
    view: ClusterView,
    source: SourceId,
    remote: bool,
    gauges: Option<ClusterGauges>,
    events: mpsc::Sender<SourceEvent>,
) {
    let mut changed = view.status.subscribe();
    let mut settled = false;
    let mut last_answer = Instant::now();
    loop {
        let now = Instant::now();
        let failing = out_of_reach(&view.status);
        let mut send = Vec::new();
        {
            let mut reach = view.state.lock().unwrap_or_else(PoisonError::into_inner);
            if failing {
                let since = *reach.out_of_reach_since.get_or_insert(now);
                if !reach.stale && now.duration_since(since) >= view.stale_after {
                    reach.stale = true;
                    send.push(stale_event(&view, source, true));
                }
                if remote && !settled && !view.status.is_settled() {
                    // Its first list may never come: readiness does not wait for it. (Once it
                    // has listed, its source said so itself.)
                    settled = true;
                    warn!(cluster = %view.id, "out of reach: ready without it; its objects are served once it answers");
                    send.push(SourceEvent::Synced { source });
                }
            } else {
                last_answer = now;
                reach.out_of_reach_since = None;
                if reach.stale {
                    reach.stale = false;
                    send.push(stale_event(&view, source, false));
                }
            }
            if let Some(gauges) = &gauges {
                gauges.up.set(i64::from(!failing));
                gauges.stale.set(i64::from(reach.stale));
                gauges
                    .data_age
                    .set(now.duration_since(last_answer).as_secs_f64());
            }
        }
        for event in send {
            if events.send(event).await.is_err() {
                return;
            }
        }
        tokio::select! {
            () = events.closed() => return,
            changed = changed.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

fn stale_event(view: &ClusterView, source: SourceId, stale: bool) -> SourceEvent {
    SourceEvent::ClusterStale {
        source,
        cluster: view.id.index(),
        stale,
    }
}
