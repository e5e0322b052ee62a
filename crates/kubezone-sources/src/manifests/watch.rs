//! Watching the disk: folders rather than files, so that an editor's write-and-rename and a
//! ConfigMap's symlink swap are both seen; and gathering events into batches.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    path::{Path, PathBuf},
    time::Duration,
};

use notify::{
    Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher,
    event::{AccessKind, AccessMode, ModifyKind},
};
use tokio::{
    sync::mpsc,
    time::{Instant, timeout},
};
use tracing::{debug, info, warn};

use super::walk::Root;
use crate::SourceError;

/// How long the disk must be quiet before a batch of events is read: one save is often several
/// events (write, close, rename), and a ConfigMap update is a dozen.
const QUIET: Duration = Duration::from_millis(75);
/// The longest a batch waits under a steady stream of events, so changes still show up quickly.
const MAX_BATCH_DELAY: Duration = Duration::from_millis(400);
/// A file written to but not closed yet (`kubectl get -o yaml > file` truncates first and writes
/// when the API answers) is read when it is closed, or after this long at the latest.
const MAX_WRITE_WAIT: Duration = Duration::from_secs(5);

pub(crate) type Message = notify::Result<Event>;

/// The paths that changed since the last read.
#[derive(Default)]
pub(crate) struct Batch {
    pub paths: BTreeSet<PathBuf>,
    /// Events were lost (queue overflow, watcher error): look at everything again.
    pub everything: bool,
    /// Files written to and not closed yet: not read in this batch.
    pub still_writing: HashSet<PathBuf>,
}

impl Batch {
    pub fn everything() -> Self {
        Batch {
            everything: true,
            ..Batch::default()
        }
    }

    pub fn of_paths(paths: impl IntoIterator<Item = PathBuf>) -> Self {
        Batch {
            paths: paths.into_iter().collect(),
            ..Batch::default()
        }
    }

    fn add(&mut self, message: Message, writing: &mut Writing) {
        match message {
            Ok(event) => {
                writing.observe(&event);
                self.everything |= event.need_rescan();
                self.paths.extend(event.paths);
            }
            Err(error) => {
                warn!(%error, "file watcher error; looking at every manifest again");
                self.everything = true;
                self.paths.extend(error.paths);
            }
        }
    }
}

/// Gathers events until the disk has been quiet for [`QUIET`].
pub(crate) async fn collect_batch(
    first: Message,
    rx: &mut mpsc::UnboundedReceiver<Message>,
    writing: &mut Writing,
) -> Batch {
    let mut batch = Batch::default();
    batch.add(first, writing);
    let deadline = Instant::now() + MAX_BATCH_DELAY;
    loop {
        let wait = QUIET.min(deadline.saturating_duration_since(Instant::now()));
        if wait.is_zero() {
            break;
        }
        match timeout(wait, rx.recv()).await {
            Ok(Some(message)) => batch.add(message, writing),
            Ok(None) | Err(_) => break,
        }
    }
    batch
}

/// Files that were written to and not closed since. Only inotify reports closes, so elsewhere
/// nothing is tracked and files are read as soon as the disk is quiet.
#[derive(Default)]
pub(crate) struct Writing {
    since: HashMap<PathBuf, Instant>,
}

impl Writing {
    fn observe(&mut self, event: &Event) {
        if !cfg!(any(target_os = "linux", target_os = "android")) {
            return;
        }
        match event.kind {
            EventKind::Modify(ModifyKind::Data(_)) => {
                for path in &event.paths {
                    self.since.entry(path.clone()).or_insert_with(Instant::now);
                }
            }
            EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Name(_)) => {
                for path in &event.paths {
                    self.since.remove(path);
                }
            }
            _ => {}
        }
    }

    pub fn paths(&self) -> HashSet<PathBuf> {
        self.since.keys().cloned().collect()
    }

    /// When the oldest unclosed write must be read anyway.
    pub fn deadline(&self) -> Option<Instant> {
        self.since
            .values()
            .min()
            .map(|since| *since + MAX_WRITE_WAIT)
    }

    /// The files that waited too long for their close; they are read now, as they are.
    pub fn take_overdue(&mut self) -> Vec<PathBuf> {
        let now = Instant::now();
        let overdue: Vec<PathBuf> = self
            .since
            .iter()
            .filter(|(_, since)| now.duration_since(**since) >= MAX_WRITE_WAIT)
            .map(|(path, _)| path.clone())
            .collect();
        for path in &overdue {
            self.since.remove(path);
            debug!(path = %path.display(), "file still open for writing; reading it anyway");
        }
        overdue
    }
}

/// The watches on disk.
pub(crate) struct Watch {
    watcher: RecommendedWatcher,
    dirs: Vec<(PathBuf, RecursiveMode)>,
    /// Indexes into `dirs` of folders that disappeared; they are watched again when they return.
    lost: Vec<usize>,
}

impl Watch {
    /// Watches every folder `roots` need: a folder root recursively, the folder of a file root
    /// on its own.
    pub fn new(roots: &[Root], tx: mpsc::UnboundedSender<Message>) -> Result<Self, SourceError> {
        let first_root = roots.first().map(|r| r.path().to_path_buf());
        let watcher = notify::recommended_watcher(move |message: Message| {
            // Our own reads open files too; only changes are interesting.
            if let Ok(event) = &message
                && matches!(event.kind, EventKind::Access(access)
                    if access != AccessKind::Close(AccessMode::Write))
            {
                return;
            }
            // Fails only once the source is gone, when nobody is listening.
            let _ = tx.send(message);
        })
        .map_err(|source| SourceError::Watch {
            path: first_root.unwrap_or_default(),
            source,
        })?;

        let mut dirs: Vec<(PathBuf, RecursiveMode)> = Vec::new();
        for root in roots {
            if let Root::Dir(dir) = root
                && !dirs.iter().any(|(d, _)| d == dir)
            {
                dirs.push((dir.clone(), RecursiveMode::Recursive));
            }
        }
        for root in roots {
            if let Root::File(file) = root {
                let parent = file.parent().unwrap_or(Path::new("/")).to_path_buf();
                // Under a watched folder already: watching it twice would confuse the watcher.
                let covered = dirs.iter().any(|(d, mode)| {
                    *d == parent || (*mode == RecursiveMode::Recursive && parent.starts_with(d))
                });
                if !covered {
                    dirs.push((parent, RecursiveMode::NonRecursive));
                }
            }
        }

        let mut watch = Watch {
            watcher,
            dirs,
            lost: Vec::new(),
        };
        for (dir, mode) in &watch.dirs {
            watch
                .watcher
                .watch(dir, *mode)
                .map_err(|source| SourceError::Watch {
                    path: dir.clone(),
                    source,
                })?;
        }
        Ok(watch)
    }

    pub fn has_lost(&self) -> bool {
        !self.lost.is_empty()
    }

    /// Notes watched folders that are gone (deleted or renamed away).
    pub fn note_lost(&mut self) {
        for (index, (dir, _)) in self.dirs.iter().enumerate() {
            if !dir.is_dir() && !self.lost.contains(&index) {
                warn!(dir = %dir.display(), "watched manifests folder is gone; watching for it to come back");
                self.lost.push(index);
            }
        }
    }

    /// Watches lost folders that are back. True when one came back.
    pub fn retry_lost(&mut self) -> bool {
        let mut back = false;
        let dirs = &self.dirs;
        let watcher = &mut self.watcher;
        self.lost.retain(|&index| {
            let Some((dir, mode)) = dirs.get(index) else {
                return false;
            };
            if !dir.is_dir() {
                return true;
            }
            // The old watch died with the old folder; the watcher may still list it.
            let _ = watcher.unwatch(dir);
            match watcher.watch(dir, *mode) {
                Ok(()) => {
                    info!(dir = %dir.display(), "manifests folder is back; watching it again");
                    back = true;
                    false
                }
                Err(error) => {
                    debug!(dir = %dir.display(), %error, "cannot watch folder yet");
                    true
                }
            }
        });
        back
    }
}
