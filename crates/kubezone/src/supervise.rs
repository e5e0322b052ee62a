//! The tasks of a pipeline (its writer, its sources, zone transfer), watched: none of them ends
//! while the pipeline runs, so one that returns, fails or panics is a failure to report rather
//! than a frozen index behind a server that still says it is ready.

use std::{collections::HashMap, fmt, future::Future};

use std::borrow::Cow;

use tokio::task::{Id, JoinSet};

/// The running tasks; dropping this aborts them.
#[derive(Default)]
pub struct Tasks {
    set: JoinSet<Result<(), String>>,
    names: HashMap<Id, Cow<'static, str>>,
}

/// A task that ended while its pipeline ran, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskFailure {
    /// What the task is: "the writer", "the manifests source".
    pub task: Cow<'static, str>,
    pub reason: String,
}

impl fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} stopped: {}", self.task, self.reason)
    }
}

impl Tasks {
    /// Runs `task`, named `name` when it fails; it returns `Err` with the reason it stopped.
    pub fn spawn(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        task: impl Future<Output = Result<(), String>> + Send + 'static,
    ) {
        let handle = self.set.spawn(task);
        self.names.insert(handle.id(), name.into());
    }

    /// Waits until a task ends, and says which and why. Never returns while every task runs
    /// (or when there is none).
    pub async fn failed(&mut self) -> TaskFailure {
        let Some(ended) = self.set.join_next_with_id().await else {
            return std::future::pending().await;
        };
        let (id, reason) = match ended {
            Ok((id, Ok(()))) => (id, "it ended, which it never should".to_string()),
            Ok((id, Err(reason))) => (id, reason),
            Err(e) if e.is_panic() => (e.id(), format!("panicked: {}", panic_message(e))),
            Err(e) => (e.id(), e.to_string()),
        };
        TaskFailure {
            task: self
                .names
                .get(&id)
                .cloned()
                .unwrap_or(Cow::Borrowed("a task")),
            reason,
        }
    }
}

fn panic_message(error: tokio::task::JoinError) -> String {
    let payload = error.into_panic();
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".into()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_task_that_fails_returns_or_panics_is_named_with_its_reason() {
        let mut tasks = Tasks::default();
        tasks.spawn("the runner", std::future::pending());
        tasks.spawn("the failer", async {
            Err("cannot read /nowhere".to_string())
        });
        assert_eq!(
            tasks.failed().await.to_string(),
            "the failer stopped: cannot read /nowhere"
        );
        tasks.spawn("the returner", async { Ok(()) });
        assert_eq!(
            tasks.failed().await.to_string(),
            "the returner stopped: it ended, which it never should"
        );
        tasks.spawn("the panicker", async { panic!("a bug") });
        assert_eq!(
            tasks.failed().await.to_string(),
            "the panicker stopped: panicked: a bug"
        );
        tasks.spawn("the formatter", async { panic!("bug number {}", 7) });
        assert_eq!(
            tasks.failed().await.to_string(),
            "the formatter stopped: panicked: bug number 7"
        );
        // The one that runs on is not reported.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), tasks.failed())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn without_tasks_nothing_fails() {
        let mut tasks = Tasks::default();
        assert!(
            tokio::time::timeout(Duration::from_millis(20), tasks.failed())
                .await
                .is_err()
        );
    }
}
