//! Kubernetes Events on the objects kubezone does not serve in full (skipped, invalid,
//! shadowed, held back by a zone's tenant rules), so a namespace owner sees why in
//! `kubectl describe` without access to kubezone's logs.
//!
//! The index writer hands reports over without waiting (a full queue drops them, counted); one
//! task looks each object up for its uid, which `kubectl describe` matches Events on, and
//! writes the Event through kube's recorder, which turns a repeat into a count on the first.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::{
    Api, Client,
    api::DynamicObject,
    runtime::events::{Event, EventType, Recorder, Reporter},
};
use kubezone_metrics::EventCounters;
use kubezone_model::ObjectRef;
use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::resource::api_resource;

/// Reports waiting to be written; more are dropped (and counted) rather than stall the writer.
const QUEUE: usize = 1024;

/// The API's limit on an Event's note.
const NOTE_BYTES: usize = 1024;

/// Why an object is not served in full: what the Event says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectReport {
    pub object: ObjectRef,
    /// PascalCase, e.g. `NameShadowed`.
    pub reason: String,
    /// Names the DNS name and the rule.
    pub message: String,
}

/// The writer's end: cheap to clone, never waits.
#[derive(Clone)]
pub struct EventReports {
    queue: mpsc::Sender<ObjectReport>,
    counters: Option<EventCounters>,
}

impl EventReports {
    /// A queue of `capacity` reports and its receiving end (which [`event_recorder`] drains).
    pub fn channel(capacity: usize) -> (EventReports, mpsc::Receiver<ObjectReport>) {
        let (queue, reports) = mpsc::channel(capacity.max(1));
        (
            EventReports {
                queue,
                counters: None,
            },
            reports,
        )
    }

    /// Queues `report`; false when the queue was full and it was dropped.
    pub fn report(&self, report: ObjectReport) -> bool {
        match self.queue.try_send(report) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(report)) => {
                debug!(object = %report.object, reason = report.reason, "event queue full; dropped");
                if let Some(counters) = &self.counters {
                    counters.dropped.inc();
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// The task that writes Events through `client`, and the writer's end of its queue. Each Event
/// names this replica by its host name (the pod's name) as its reportingInstance.
pub fn event_recorder(
    client: Client,
    counters: Option<EventCounters>,
) -> (EventReports, impl Future<Output = ()> + Send + 'static) {
    let (mut sink, mut reports) = EventReports::channel(QUEUE);
    sink.counters = counters.clone();
    let recorder = Recorder::new(client.clone(), Reporter::from("kubezone"));
    let task_counters = counters;
    let task = async move {
        // One warning per kind of failure in a row, not one per report, when RBAC is missing.
        let mut last_failure: Option<String> = None;
        while let Some(report) = reports.recv().await {
            let outcome = publish(&client, &recorder, &report).await;
            let counter = task_counters.as_ref().map(|c| match &outcome {
                Ok(true) => &c.published,
                Ok(false) => &c.gone,
                Err(_) => &c.failed,
            });
            if let Some(counter) = counter {
                counter.inc();
            }
            match outcome {
                Err(error) => {
                    let kind = failure_kind(&error);
                    if last_failure.as_deref() != Some(kind.as_str()) {
                        warn!(object = %report.object, reason = report.reason, "cannot write an Event: {error}");
                    } else {
                        debug!(object = %report.object, reason = report.reason, "cannot write an Event: {error}");
                    }
                    last_failure = Some(kind);
                }
                Ok(_) => last_failure = None,
            }
        }
    };
    (sink, task)
}

/// Writes one Event. `Ok(false)` when the object is not in the cluster.
async fn publish(
    client: &Client,
    recorder: &Recorder,
    report: &ObjectReport,
) -> Result<bool, kube::Error> {
    let Some(resource) = api_resource(report.object.kind()) else {
        return Ok(false);
    };
    let api: Api<DynamicObject> = match report.object.namespace() {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let Some(found) = api.get_metadata_opt(report.object.name()).await? else {
        return Ok(false);
    };
    let reference = ObjectReference {
        api_version: Some(resource.api_version.clone()),
        kind: Some(resource.kind.clone()),
        name: Some(report.object.name().to_string()),
        namespace: report.object.namespace().map(str::to_string),
        uid: found.metadata.uid,
        resource_version: found.metadata.resource_version,
        field_path: None,
    };
    let event = Event {
        type_: EventType::Warning,
        reason: report.reason.clone(),
        note: Some(truncate(&report.message, NOTE_BYTES)),
        action: "ServeDNS".into(),
        secondary: None,
    };
    recorder.publish(&event, &reference).await?;
    Ok(true)
}

/// The sort of failure, to warn once per sort: the API's status code, or "no answer".
fn failure_kind(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!("api {}", status.code),
        _ => "no answer".into(),
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn notes_are_cut_at_a_character_boundary() {
        assert_eq!(truncate("short", 1024), "short");
        let long = "é".repeat(600);
        let cut = truncate(&long, 1024);
        assert_eq!(cut.len(), 1024);
        let odd = format!("a{long}");
        assert_eq!(truncate(&odd, 1024).len(), 1023);
    }
}
