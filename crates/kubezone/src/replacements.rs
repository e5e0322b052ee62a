//! Replacements under way: a watch's list (its first, or a relist after `410 Gone`), between the
//! source's `ReplaceBegin` and `ReplaceEnd` for that Kind (and namespace).
//!
//! While the index is served, the writer holds the list's changes here and applies them in one
//! step at its end, so readers see that Kind's old state or its new one, never half of each;
//! every other Kind's changes, and the manifests', are published as they come. What is held is
//! the list itself (its objects and the deletes of what it no longer has), so memory is bounded
//! by the list. A list that does not end (an API server that stopped answering mid-list) holds
//! back only its own Kind, and is reported as stuck, in the log and in `/readyz?verbose`.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use kubezone_metrics::{Metrics, OpenReplacement};
use kubezone_sources::{Change, Scope, SourceId};
use tracing::{debug, info, warn};

/// A list still open after this long is reported as stuck. Lists of 10,000 objects of each of
/// two Kinds finish within a second (`bench/README.md`), and the Kubernetes client sets no
/// timeout of its own on a list, so one that hangs would otherwise say nothing.
pub const STUCK_AFTER: Duration = Duration::from_secs(20);

/// The replacements under way, owned by the writer.
#[derive(Default)]
pub struct Replacements {
    open: BTreeMap<(SourceId, Scope), Open>,
    view: ReplacementsView,
    metrics: Option<Metrics>,
}

struct Open {
    since: SystemTime,
    started: Instant,
    /// The changes held until the end; `None` when they are applied as they come, because the
    /// index was not served yet when the list began (nobody sees the state in between, and a
    /// first list of 100,000 objects is not kept twice).
    held: Option<Vec<Change>>,
    stuck: bool,
    /// Counted in `kubezone_replacements_open` while this lives.
    _counted: Option<OpenReplacement>,
}

impl Replacements {
    pub fn with_metrics(mut self, metrics: Metrics) -> Replacements {
        self.metrics = Some(metrics);
        self
    }

    /// What `/readyz?verbose` reads.
    pub fn view(&self) -> ReplacementsView {
        self.view.clone()
    }

    /// A list of `scope` begins; with `hold`, its changes are held until it ends. Returns what
    /// an unfinished list of the same scope held, to apply now (its source has moved on).
    pub fn begin(&mut self, source: SourceId, scope: Scope, hold: bool) -> Vec<Change> {
        let counted = self.metrics.as_ref().map(|m| {
            m.replacement_opened(
                source.as_str(),
                scope.kind,
                scope.namespace.as_deref().unwrap_or_default(),
            )
        });
        debug!(%source, watch = %scope, hold, "list begins");
        let open = Open {
            since: SystemTime::now(),
            started: Instant::now(),
            held: hold.then(Vec::new),
            stuck: false,
            _counted: counted,
        };
        let previous = self.open.insert((source, scope), open);
        self.update_view();
        previous.and_then(|p| p.held).unwrap_or_default()
    }

    /// The list of `scope` ended: what it held, to apply now in one step.
    pub fn end(&mut self, source: SourceId, scope: &Scope) -> Vec<Change> {
        let Some(open) = self.open.remove(&(source, scope.clone())) else {
            debug!(%source, watch = %scope, "the end of a list that did not begin");
            return Vec::new();
        };
        let held = open.held.unwrap_or_default();
        if open.stuck {
            info!(
                %source,
                watch = %scope,
                seconds = open.started.elapsed().as_secs(),
                changes = held.len(),
                "the stuck list has ended; its changes are published"
            );
        }
        self.update_view();
        held
    }

    /// Keeps the changes that belong to a list being held; returns the rest, to apply now.
    pub fn hold(&mut self, source: SourceId, changes: Vec<Change>) -> Vec<Change> {
        if !self
            .open
            .iter()
            .any(|((s, _), open)| *s == source && open.held.is_some())
        {
            return changes;
        }
        let mut rest = Vec::new();
        for change in changes {
            let list = self.open.iter_mut().find_map(|((s, scope), open)| {
                (*s == source && scope.covers(change.object_ref()))
                    .then_some(open.held.as_mut())
                    .flatten()
            });
            match list {
                Some(held) => held.push(change),
                None => rest.push(change),
            }
        }
        rest
    }

    /// When the next list not reported yet becomes stuck.
    pub fn next_stuck(&self) -> Option<Instant> {
        self.open
            .values()
            .filter(|open| !open.stuck)
            .map(|open| open.started + STUCK_AFTER)
            .min()
    }

    /// Reports, once each, the lists open for [`STUCK_AFTER`] or longer at `now`.
    pub fn report_stuck(&mut self, now: Instant) {
        let mut any = false;
        for ((source, scope), open) in &mut self.open {
            if open.stuck || now < open.started + STUCK_AFTER {
                continue;
            }
            open.stuck = true;
            any = true;
            warn!(
                %source,
                watch = %scope,
                since = %Since(open.since),
                held = open.held.as_ref().map_or(0, Vec::len),
                "stuck: this list has not ended after {} s; its changes wait for its end, \
                 everything else is published",
                now.duration_since(open.started).as_secs()
            );
        }
        if any {
            self.update_view();
        }
    }

    fn update_view(&self) {
        *self.view.lock() = self
            .open
            .iter()
            .map(|((source, scope), open)| OpenList {
                source: *source,
                scope: scope.clone(),
                since: open.since,
                stuck: open.stuck,
            })
            .collect();
    }
}

/// The replacements under way, as the writer last left them.
#[derive(Clone, Default)]
pub struct ReplacementsView(Arc<Mutex<Vec<OpenList>>>);

struct OpenList {
    source: SourceId,
    scope: Scope,
    since: SystemTime,
    stuck: bool,
}

impl ReplacementsView {
    /// One line per list under way, for `/readyz?verbose`.
    pub fn lines(&self) -> Vec<String> {
        self.lock()
            .iter()
            .map(|list| {
                let seconds = list.since.elapsed().map_or(0, |d| d.as_secs());
                let state = if list.stuck {
                    "stuck, listing"
                } else {
                    "listing"
                };
                format!(
                    "list {} ({}): {state} since {} ({seconds} s); its changes wait for its end",
                    list.scope,
                    list.source,
                    Since(list.since)
                )
            })
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<OpenList>> {
        // Plain data, replaced whole: a panic elsewhere while holding the lock left it usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A moment as RFC 3339 UTC, to the second.
struct Since(SystemTime);

impl fmt::Display for Since {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self
            .0
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or_default());
        match jiff::Timestamp::from_second(seconds) {
            Ok(at) => write!(f, "{at}"),
            Err(_) => write!(f, "unix {seconds}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use kubezone_model::{Kind, ObjectRef};

    use super::*;

    fn services() -> Scope {
        Scope {
            kind: Kind::Service,
            namespace: None,
        }
    }

    fn delete(name: &str) -> Change {
        Change::Delete(ObjectRef::new(Kind::Service, Some("shop"), name))
    }

    #[test]
    fn a_list_open_too_long_is_reported_stuck_once_with_its_start() {
        let mut lists = Replacements::default();
        let view = lists.view();
        let begun = Instant::now();
        lists.begin(SourceId::KUBERNETES, services(), true);
        let stuck_at = lists.next_stuck().expect("one list open");
        assert!(stuck_at >= begun + STUCK_AFTER && stuck_at <= Instant::now() + STUCK_AFTER);

        lists.report_stuck(stuck_at - Duration::from_millis(1));
        assert!(
            view.lines()[0].contains(": listing since "),
            "{:?}",
            view.lines()
        );
        lists.report_stuck(stuck_at);
        let lines = view.lines();
        assert_eq!(lines.len(), 1);
        let since = Since(SystemTime::now()).to_string();
        // "list Service (kubernetes): stuck, listing since 2025-01-02T03:04:05Z (0 s); ..."
        assert!(
            lines[0].starts_with("list Service (kubernetes): stuck, listing since ")
                && lines[0].contains(&since[..10])
                && lines[0].ends_with("its changes wait for its end"),
            "{lines:?}"
        );
        assert_eq!(lists.next_stuck(), None, "reported once");

        assert!(
            lists
                .hold(SourceId::KUBERNETES, vec![delete("a")])
                .is_empty()
        );
        assert_eq!(lists.end(SourceId::KUBERNETES, &services()).len(), 1);
        assert!(view.lines().is_empty());
    }

    #[test]
    fn a_list_begun_again_hands_back_what_the_unfinished_one_held() {
        let mut lists = Replacements::default();
        lists.begin(SourceId::KUBERNETES, services(), true);
        assert!(
            lists
                .hold(SourceId::KUBERNETES, vec![delete("a")])
                .is_empty()
        );
        let handed = lists.begin(SourceId::KUBERNETES, services(), true);
        assert_eq!(handed.len(), 1);
        assert!(lists.end(SourceId::KUBERNETES, &services()).is_empty());
        assert!(
            lists.end(SourceId::KUBERNETES, &services()).is_empty(),
            "an end without a beginning holds nothing"
        );
    }

    #[test]
    fn times_read_as_rfc_3339() {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(Since(at).to_string(), "2023-11-14T22:13:20Z");
    }
}
