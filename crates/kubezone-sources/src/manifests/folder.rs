//! Every manifest file known: which to read again after a batch of events, reading them, and
//! keeping a broken file's last good objects.

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    fs, io,
    ops::Bound,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
};

use tracing::{debug, info, warn};

use super::{
    parse::{Parsed, parse_objects},
    store::Store,
    walk::{Identity, Root, first_hidden, is_manifest_name, walk_dir},
    watch::Batch,
};
use crate::{Change, ManifestError};

/// Every manifest file known, and the objects they define.
pub(crate) struct Folder {
    roots: Vec<Root>,
    files: BTreeMap<PathBuf, FileState>,
    store: Store,
}

struct FileState {
    /// What the file looked like when last read; `None` when it could not be looked at.
    identity: Option<Identity>,
    /// The last read failed; the store still has the objects of the last good read.
    broken: bool,
}

/// What one batch of events asks for.
#[derive(Default)]
struct Plan {
    /// Read again, whatever their identity.
    read: BTreeSet<PathBuf>,
    /// Walk again, reading new and changed files and forgetting gone ones.
    rescan: BTreeSet<PathBuf>,
    /// Read again if their identity changed.
    check: BTreeSet<PathBuf>,
}

/// The files one batch reads and forgets.
#[derive(Default)]
struct Work {
    /// Already decided on (or still being written): not looked at again in this batch.
    seen: HashSet<PathBuf>,
    read: BTreeSet<PathBuf>,
    forget: BTreeSet<PathBuf>,
}

/// One file read from disk, before it is committed.
enum Loaded {
    Gone,
    Read {
        identity: Option<Identity>,
        result: Result<Vec<Parsed>, ManifestError>,
    },
}

impl Folder {
    pub fn new(roots: Vec<Root>) -> Self {
        Folder {
            roots,
            files: BTreeMap::new(),
            store: Store::default(),
        }
    }

    /// Manifest files known, broken ones included.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    pub fn broken_count(&self) -> usize {
        self.files.values().filter(|f| f.broken).count()
    }

    /// Objects served.
    pub fn object_count(&self) -> usize {
        self.store.len()
    }

    /// Reads what `batch` touched, and returns what is served differently now. With `partial`,
    /// what is read is also handed over every [`PARTIAL_EVERY`] files, as soon as it is read,
    /// and only the rest is returned: for the first load, which nobody sees before it is whole,
    /// so that translating and indexing overlap reading and parsed objects do not pile up.
    pub fn apply(
        &mut self,
        batch: Batch,
        mut partial: Option<&mut dyn FnMut(Vec<Change>)>,
    ) -> Vec<Change> {
        let mut plan = Plan::default();
        if batch.everything {
            for root in &self.roots {
                match root {
                    Root::Dir(dir) => plan.rescan.insert(dir.clone()),
                    Root::File(file) => plan.check.insert(file.clone()),
                };
            }
        }
        for path in &batch.paths {
            self.plan(path, &mut plan);
        }

        // Files still open for writing are read once they are closed.
        let mut work = Work {
            seen: batch.still_writing,
            ..Work::default()
        };
        for path in &plan.read {
            self.want_read(path, &mut work);
        }
        // A folder inside another folder being walked is walked with it.
        let mut walked: Option<&Path> = None;
        for dir in &plan.rescan {
            if walked.is_some_and(|w| dir.starts_with(w)) {
                continue;
            }
            walked = Some(dir);
            self.want_rescan(dir, &mut work);
        }
        for path in &plan.check {
            self.want_check(path, &mut work);
        }

        for path in &work.forget {
            self.forget(path);
        }
        let files_read = work.read.len();
        let mut since_partial = 0;
        load_each(work.read, |path, loaded| {
            self.commit(path, loaded);
            since_partial += 1;
            if let Some(send) = partial.as_mut()
                && since_partial >= PARTIAL_EVERY
            {
                since_partial = 0;
                send(self.store.take_changes(&mut reload));
            }
        });
        let changes = self.store.take_changes(&mut reload);
        debug!(files_read, changes = changes.len(), "manifests batch done");
        changes
    }

    /// Decides what an event on `path` means for each root.
    fn plan(&self, path: &Path, plan: &mut Plan) {
        for root in &self.roots {
            match root {
                Root::File(file) => {
                    if path == file {
                        plan.read.insert(file.clone());
                    } else if file.parent().is_some_and(|parent| path.starts_with(parent)) {
                        // Something beside it changed: a symlink it goes through, maybe.
                        plan.check.insert(file.clone());
                    }
                }
                Root::Dir(dir) => {
                    let Ok(rel) = path.strip_prefix(dir) else {
                        continue;
                    };
                    if let Some(visible) = first_hidden(rel) {
                        // `..data` of a ConfigMap, or an editor's swap file: visible files of
                        // the folder holding it may be symlinks through it.
                        plan.rescan
                            .insert(dir.join(rel.components().take(visible).collect::<PathBuf>()));
                    } else if rel.as_os_str().is_empty() {
                        plan.rescan.insert(dir.clone());
                    } else if is_manifest_name(path) {
                        plan.read.insert(path.to_path_buf());
                    } else {
                        // A folder created, removed or renamed; or an unrelated file, which
                        // costs one failed listing.
                        plan.rescan.insert(path.to_path_buf());
                    }
                }
            }
        }
    }

    fn covered(&self, path: &Path) -> bool {
        self.roots.iter().any(|root| root.covers(path))
    }

    /// Queues `path` to be read, or forgotten if it is gone.
    fn want_read(&self, path: &Path, work: &mut Work) {
        if !work.seen.insert(path.to_path_buf()) {
            return;
        }
        if !self.covered(path) {
            work.forget.insert(path.to_path_buf());
            return;
        }
        match fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => {
                // A folder with a manifest-like name.
                work.forget.insert(path.to_path_buf());
                self.want_rescan(path, work);
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                work.forget.insert(path.to_path_buf());
            }
            _ => {
                work.read.insert(path.to_path_buf());
            }
        }
    }

    /// Queues `path` to be read if it changed since the last read.
    fn want_check(&self, path: &Path, work: &mut Work) {
        if work.seen.contains(path) {
            return;
        }
        let unchanged = self.covered(path)
            && match (Identity::of(path), self.files.get(path)) {
                (Ok(now), Some(known)) => known.identity.as_ref() == Some(&now),
                _ => false,
            };
        if unchanged {
            work.seen.insert(path.to_path_buf());
        } else {
            self.want_read(path, work);
        }
    }

    /// Walks `dir` again: new and changed files are queued, gone ones forgotten.
    fn want_rescan(&self, dir: &Path, work: &mut Work) {
        let mut found = Vec::new();
        if fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
            walk_dir(dir, &mut found);
        }
        let found_set: HashSet<&Path> = found.iter().map(PathBuf::as_path).collect();
        let gone = self
            .files
            .range::<Path, _>((Bound::Included(dir), Bound::Unbounded))
            .take_while(|(path, _)| path.starts_with(dir))
            .filter(|(path, _)| !found_set.contains(path.as_path()))
            .map(|(path, _)| path);
        // `check` rather than forget: another root may still cover a file the walk skipped.
        for path in gone.chain(&found) {
            self.want_check(path, work);
        }
    }

    /// Replaces the objects of `path` with what was read, or keeps the last good ones if it is
    /// broken.
    fn commit(&mut self, path: PathBuf, loaded: Loaded) {
        let Loaded::Read { identity, result } = loaded else {
            return self.forget(&path);
        };
        match result {
            Ok(objects) => {
                if self.files.get(&path).is_some_and(|f| f.broken) {
                    info!(path = %path.display(), objects = objects.len(), "manifest file is valid again");
                }
                let written = identity.as_ref().map_or(0, Identity::written);
                self.store.replace_file(&path, objects, written);
                self.files.insert(
                    path,
                    FileState {
                        identity,
                        broken: false,
                    },
                );
            }
            Err(error) => {
                warn!(path = %path.display(), line = error.line(), %error, "manifest file is broken; its last good objects stay served");
                // A read error is retried on the next look; a parse error only when it changes.
                let identity = identity.filter(|_| !matches!(error, ManifestError::Read { .. }));
                self.files.insert(
                    path,
                    FileState {
                        identity,
                        broken: true,
                    },
                );
            }
        }
    }

    fn forget(&mut self, path: &Path) {
        if self.files.remove(path).is_some() {
            debug!(path = %path.display(), "manifest file gone");
        }
        self.store.remove_file(path);
    }
}

/// How many files are read between two partial hand-overs of the first load.
const PARTIAL_EVERY: usize = 4;

/// A file's objects read again, when the store needs a copy it did not keep.
fn reload(path: &Path) -> Option<Vec<Parsed>> {
    match load(path) {
        Loaded::Read {
            result: Ok(objects),
            ..
        } => Some(objects),
        _ => None,
    }
}

/// Reads and parses one file. Pure, so files can be read in parallel.
fn load(path: &Path) -> Loaded {
    // Taken before reading: if the file changes meanwhile, the next look reads it again.
    let identity = match Identity::of(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Loaded::Gone,
        identity => identity.ok(),
    };
    let text = fs::read(path).and_then(|bytes| {
        String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    });
    let result = match text {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Loaded::Gone,
        Err(source) => Err(ManifestError::Read {
            path: path.to_path_buf(),
            source,
        }),
        Ok(text) => parse_objects(path, &text),
    };
    Loaded::Read { identity, result }
}

/// Parsing is most of the work of a start-up or a ConfigMap swap, and files are independent:
/// they are read on every core, and each is committed by the calling thread as soon as it is
/// read (in the order they finish; the store does not depend on it).
fn load_each(paths: BTreeSet<PathBuf>, mut commit: impl FnMut(PathBuf, Loaded)) {
    let paths: Vec<PathBuf> = paths.into_iter().collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len());
    if threads <= 1 {
        for path in paths {
            let loaded = load(&path);
            commit(path, loaded);
        }
        return;
    }
    let next = AtomicUsize::new(0);
    // A few files ahead of the committer at most, so parsed objects do not pile up.
    let (tx, rx) = mpsc::sync_channel(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (tx, next, paths) = (tx.clone(), &next, &paths);
                scope.spawn(move || {
                    while let Some(path) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
                        if tx.send((path, load(path))).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        for (path, loaded) in rx {
            commit(path.clone(), loaded);
        }
        for handle in handles {
            // A panic while parsing would be a bug; losing that file's update beats taking
            // the server down. The other threads read the remaining files.
            if handle.join().is_err() {
                tracing::error!("reading a manifest file panicked");
            }
        }
    });
}
