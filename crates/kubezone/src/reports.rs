//! What the index writer tells namespace owners: one Kubernetes Event per reason an object is
//! not served in full, at most once per change of that object.
//!
//! The writer sees the same conflict again whenever any object at that name changes, and every
//! object again on a relist; an Event each time would bury the one that matters. So each
//! object's reports are remembered (as hashes) until the object itself is written again
//! (its write time moves) or deleted.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
};

use kubezone_index::NameConflict;
use kubezone_model::{Kind, ObjectRef};
use kubezone_sources::{EventReports, ObjectReport};
use kubezone_translate::Problem;

/// The reason of an Event for a value the translator could not use.
const INVALID: &str = "InvalidDnsValue";

pub struct Reports {
    /// Where reports on objects of no cluster (the one-cluster form) go.
    sink: Option<EventReports>,
    /// Several clusters: each one's Event recorder, by place in `clusters:`.
    cluster_sinks: Vec<Option<EventReports>>,
    /// Off until the first full state is in: conflicts met while the lists arrive are often
    /// only a matter of order.
    live: bool,
    /// Per object with reports: its write time when they were sent, and what was sent.
    sent: HashMap<ObjectRef, Sent>,
}

struct Sent {
    written: u32,
    hashes: Vec<u64>,
}

impl Reports {
    pub fn new(sink: EventReports) -> Reports {
        Reports {
            sink: Some(sink),
            cluster_sinks: Vec::new(),
            live: false,
            sent: HashMap::new(),
        }
    }

    /// Reports of several clusters, each sent to its own cluster's recorder (`None`: that
    /// cluster's Events are off).
    pub fn for_clusters(sinks: Vec<Option<EventReports>>) -> Reports {
        Reports {
            sink: None,
            cluster_sinks: sinks,
            live: false,
            sent: HashMap::new(),
        }
    }

    /// Conflicts are reported from now on.
    pub fn go_live(&mut self) {
        self.live = true;
    }

    pub fn is_live(&self) -> bool {
        self.live
    }

    /// `object` was written at `written` (applied again): reports about it may be sent anew
    /// if it changed.
    pub fn applied(&mut self, object: &ObjectRef, written: u32) {
        if let Some(sent) = self.sent.get_mut(object)
            && sent.written != written
        {
            sent.written = written;
            sent.hashes.clear();
        }
    }

    pub fn deleted(&mut self, object: &ObjectRef) {
        self.sent.remove(object);
    }

    /// A field of `problem.object` (written at `written`) could not be used.
    pub fn problem(&mut self, problem: &Problem, written: u32) {
        self.send(
            &problem.object,
            written,
            INVALID.to_string(),
            problem.to_string(),
        );
    }

    /// A conflict at a name; its loser was last written at `written`.
    pub fn conflict(&mut self, conflict: &NameConflict, written: u32) {
        if !self.live {
            return;
        }
        let object = conflict.conflict.object();
        self.send(
            object,
            written,
            conflict.conflict.reason().to_string(),
            conflict.to_string(),
        );
    }

    fn send(&mut self, object: &ObjectRef, written: u32, reason: String, message: String) {
        // Static records are the config's, reported in the log at start.
        if object.kind() == Kind::Config {
            return;
        }
        let hash = {
            let mut hasher = DefaultHasher::new();
            (&reason, &message).hash(&mut hasher);
            hasher.finish()
        };
        let sent = self.sent.entry(object.clone()).or_insert_with(|| Sent {
            written,
            hashes: Vec::new(),
        });
        if sent.hashes.contains(&hash) {
            return;
        }
        sent.hashes.push(hash);
        let sink = match object.cluster() {
            Some(cluster) => self
                .cluster_sinks
                .get(usize::from(cluster.index()))
                .and_then(Option::as_ref),
            None => self.sink.as_ref(),
        };
        if let Some(sink) = sink {
            sink.report(ObjectReport {
                object: object.clone(),
                reason,
                message,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use kubezone_index::{Conflict, NameConflict};
    use kubezone_model::{DnsName, Kind, ObjectRef};
    use kubezone_sources::EventReports;

    use super::Reports;

    fn shadowed(loser: &ObjectRef) -> NameConflict {
        NameConflict {
            name: DnsName::parse("www.example.com").expect("name"),
            conflict: Conflict::Shadowed {
                winner: Kind::HttpRoute,
                loser: loser.clone(),
            },
        }
    }

    #[test]
    fn a_conflict_is_reported_once_per_change_of_its_object() {
        let (sink, mut queue) = EventReports::channel(16);
        let mut reports = Reports::new(sink);
        reports.go_live();
        let ingress = ObjectRef::new(Kind::Ingress, Some("shop"), "web");
        reports.conflict(&shadowed(&ingress), 100);
        // The same conflict found again (another object at the name changed, a relist).
        reports.applied(&ingress, 100);
        reports.conflict(&shadowed(&ingress), 100);
        let first = queue.try_recv().expect("one event");
        assert_eq!(first.reason, "NameShadowed");
        assert!(
            first.message.contains("www.example.com.") && first.message.contains("shop/web"),
            "{}",
            first.message
        );
        assert!(
            queue.try_recv().is_err(),
            "no second event for the same change"
        );
        // The Ingress is written again and is still shadowed: one more.
        reports.applied(&ingress, 200);
        reports.conflict(&shadowed(&ingress), 200);
        assert!(queue.try_recv().is_ok());
        assert!(queue.try_recv().is_err());
        // Deleted and created again: reported again.
        reports.deleted(&ingress);
        reports.conflict(&shadowed(&ingress), 200);
        assert!(queue.try_recv().is_ok());
    }

    #[test]
    fn conflicts_wait_until_the_first_full_state_is_in() {
        let (sink, mut queue) = EventReports::channel(16);
        let mut reports = Reports::new(sink);
        let ingress = ObjectRef::new(Kind::Ingress, Some("shop"), "web");
        reports.conflict(&shadowed(&ingress), 100);
        assert!(queue.try_recv().is_err(), "nothing while the lists come in");
        reports.go_live();
        reports.conflict(&shadowed(&ingress), 100);
        assert!(queue.try_recv().is_ok(), "reported once live");
    }

    #[test]
    fn static_records_get_no_event() {
        let (sink, mut queue) = EventReports::channel(16);
        let mut reports = Reports::new(sink);
        reports.go_live();
        let record = ObjectRef::new(Kind::Config, None, "zones[0].records[0]");
        reports.conflict(&shadowed(&record), 0);
        assert!(queue.try_recv().is_err());
    }

    #[test]
    fn a_full_queue_drops_rather_than_waits() {
        let (sink, mut queue) = EventReports::channel(1);
        let mut reports = Reports::new(sink);
        reports.go_live();
        for name in ["a", "b", "c"] {
            reports.conflict(
                &shadowed(&ObjectRef::new(Kind::Ingress, Some("x"), name)),
                1,
            );
        }
        assert!(queue.try_recv().is_ok());
        assert!(queue.try_recv().is_err(), "the other two were dropped");
    }
}
