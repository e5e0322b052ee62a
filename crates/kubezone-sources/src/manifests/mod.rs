//! The manifests source: files and folders of Kubernetes objects, read at start-up and watched
//! so that every edit is served within a second, without a restart.
//!
//! `walk.rs` says which files are manifests, `watch.rs` watches their folders and gathers
//! events into batches, `parse.rs` reads one file, `folder.rs` keeps every file's last good
//! objects and `store.rs` which file wins an object and what changed.

use std::{path::PathBuf, time::Duration};

use tokio::{
    sync::mpsc,
    time::{sleep, sleep_until},
};
use tracing::{debug, info};

mod folder;
mod parse;
mod store;
mod walk;
mod watch;

pub use parse::parse_manifest;
pub use walk::manifest_files;

use crate::{Change, SourceError, SourceEvent, SourceId};
use folder::Folder;
use walk::Root;
use watch::{Batch, Watch, Writing, collect_batch};

/// How often a watched folder that disappeared is looked for again.
const REWATCH_EVERY: Duration = Duration::from_secs(1);

/// Files and folders of Kubernetes objects, as `kubectl get -o yaml` prints them.
pub struct ManifestsSource {
    paths: Vec<PathBuf>,
}

impl ManifestsSource {
    pub const ID: SourceId = SourceId::MANIFESTS;

    /// `paths` are files and/or folders, already absolute.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        ManifestsSource { paths }
    }

    /// Reads everything and sends it as `Changes` (one or more, as files are read; the last
    /// may be empty) then `Synced`, then watches the paths and sends only diffs, one `Changes`
    /// per batch of file events, until `events` is closed.
    ///
    /// Fails when a path does not exist or cannot be watched. A broken file is not an error: it
    /// is logged, and serves its last good objects (none, if it was broken at start-up).
    pub async fn run(self, events: mpsc::Sender<SourceEvent>) -> Result<(), SourceError> {
        let roots = self
            .paths
            .into_iter()
            .map(|path| {
                Root::classify(path.clone()).map_err(|source| SourceError::Path { path, source })
            })
            .collect::<Result<Vec<_>, _>>()?;

        // Watch before the first read, so that nothing written meanwhile is missed.
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut watch = Watch::new(&roots, tx)?;
        let (mut folder, changes) = in_blocking(
            Folder::new(roots),
            Batch::everything(),
            Some(events.clone()),
        )
        .await?;
        info!(
            files = folder.file_count(),
            broken = folder.broken_count(),
            objects = folder.object_count(),
            "manifests loaded"
        );
        let source = Self::ID;
        if events
            .send(SourceEvent::Changes { source, changes })
            .await
            .is_err()
            || events.send(SourceEvent::Synced { source }).await.is_err()
        {
            return Ok(());
        }

        let mut writing = Writing::default();
        loop {
            let write_deadline = writing.deadline();
            let mut batch = tokio::select! {
                _ = events.closed() => return Ok(()),
                message = rx.recv() => match message {
                    Some(message) => collect_batch(message, &mut rx, &mut writing).await,
                    None => return Err(SourceError::WatcherStopped),
                },
                _ = sleep_until(write_deadline.unwrap_or_else(tokio::time::Instant::now)),
                    if write_deadline.is_some() =>
                {
                    Batch::of_paths(writing.take_overdue())
                }
                _ = sleep(REWATCH_EVERY), if watch.has_lost() => {
                    if !watch.retry_lost() {
                        continue;
                    }
                    Batch::everything()
                }
            };
            // Files still open for writing are read once they are closed.
            batch.still_writing = writing.paths();
            let (next, changes) = in_blocking(folder, batch, None).await?;
            folder = next;
            watch.note_lost();
            if !changes.is_empty() {
                debug!(changes = changes.len(), "manifests changed");
                if events
                    .send(SourceEvent::Changes { source, changes })
                    .await
                    .is_err()
                {
                    return Ok(());
                }
            }
        }
    }
}

/// Reading and parsing block, so they run off the async threads. With `partial`, changes are
/// sent there as files are read (see [`Folder::apply`]).
async fn in_blocking(
    mut folder: Folder,
    batch: Batch,
    partial: Option<mpsc::Sender<SourceEvent>>,
) -> Result<(Folder, Vec<Change>), SourceError> {
    Ok(tokio::task::spawn_blocking(move || {
        let changes = match partial {
            Some(events) => folder.apply(
                batch,
                Some(&mut |changes: Vec<Change>| {
                    if !changes.is_empty() {
                        // A closed channel is noticed by the caller.
                        let _ = events.blocking_send(SourceEvent::Changes {
                            source: ManifestsSource::ID,
                            changes,
                        });
                    }
                }),
            ),
            None => folder.apply(batch, None),
        };
        (folder, changes)
    })
    .await?)
}
