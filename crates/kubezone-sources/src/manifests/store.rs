//! The last good objects of every file, which file wins when two define the same object, and
//! the difference to send after a batch of file updates.

use std::{
    collections::{HashMap, hash_map::Entry},
    path::Path,
    sync::Arc,
};

use tracing::{error, info, warn};

use kubezone_model::ObjectRef;
use kubezone_translate::KubeObject;

use super::parse::Parsed;
use crate::Change;

/// The hash of a copy that should be served but could not be sent: whatever is read next
/// differs from it.
const NOT_SENT: u64 = 0;

/// Re-reads one file's objects, for when a copy that was never kept must be served.
pub(crate) type Reload<'a> = dyn FnMut(&Path) -> Option<Vec<Parsed>> + 'a;

#[derive(Default)]
pub(crate) struct Store {
    /// Per file: a hash of each object it defines. Objects are not kept: once sent, the
    /// translator and the index have what they need.
    files: HashMap<Arc<Path>, HashMap<ObjectRef, u64>>,
    /// Per object: the files that define it, sorted; the first one is served.
    claims: HashMap<ObjectRef, Claims>,
    /// Objects touched since the last [`Store::take_changes`], with the hash of the copy that
    /// was served before the first touch (`None`: not served).
    dirty: HashMap<ObjectRef, Option<u64>>,
    /// Objects parsed since the last [`Store::take_changes`], so that sending them does not parse
    /// them again.
    fresh: HashMap<(Arc<Path>, ObjectRef), KubeObject>,
    /// Copies of objects defined in several files that are not served: kept whole, since one
    /// is served as soon as the file served before drops the object.
    spare: HashMap<(Arc<Path>, ObjectRef), KubeObject>,
    /// When each file was last modified (unix seconds): the write time of its objects, which
    /// the SOA serial follows.
    written: HashMap<Arc<Path>, u32>,
}

/// The files defining one object; one, nearly always.
enum Claims {
    One(Arc<Path>),
    Many(Vec<Arc<Path>>),
}

impl Claims {
    fn served(&self) -> Option<&Arc<Path>> {
        match self {
            Claims::One(path) => Some(path),
            Claims::Many(paths) => paths.first(),
        }
    }

    fn contains(&self, path: &Arc<Path>) -> bool {
        match self {
            Claims::One(one) => one == path,
            Claims::Many(paths) => paths.binary_search(path).is_ok(),
        }
    }
}

impl Store {
    /// Replaces everything `path` defines with `objects`, read from a file last modified at
    /// `written` (unix seconds).
    pub fn replace_file(&mut self, path: &Path, objects: Vec<Parsed>, written: u32) {
        let path: Arc<Path> = match self.files.get_key_value(path) {
            Some((key, _)) => key.clone(),
            None => Arc::from(path),
        };
        if objects.is_empty() {
            self.written.remove(&path);
        } else {
            self.written.insert(path.clone(), written);
        }
        let mut new: HashMap<ObjectRef, u64> = HashMap::with_capacity(objects.len());
        for Parsed { object, hash } in objects {
            let object_ref = object.object_ref();
            if new.insert(object_ref.clone(), hash).is_some() {
                warn!(object = %object_ref, path = %path.display(), "object defined twice in one file; the later definition is used");
            }
            self.spare.remove(&(path.clone(), object_ref.clone()));
            self.fresh.insert((path.clone(), object_ref), object);
        }
        let old = self.files.remove(&path).unwrap_or_default();
        // Record what is served now, before anything moves.
        for object_ref in old.keys().chain(new.keys()) {
            self.mark_dirty(object_ref, Some((&path, &old)));
        }

        for object_ref in old.keys().filter(|r| !new.contains_key(*r)) {
            self.unclaim(object_ref, &path);
            let key = (path.clone(), object_ref.clone());
            self.fresh.remove(&key);
            self.spare.remove(&key);
        }
        for object_ref in new.keys().filter(|r| !old.contains_key(*r)) {
            self.claim(object_ref, &path);
        }
        if !new.is_empty() {
            self.files.insert(path, new);
        }
    }

    /// Forgets everything `path` defined.
    pub fn remove_file(&mut self, path: &Path) {
        self.replace_file(path, Vec::new(), 0);
    }

    /// How many objects are served.
    pub fn len(&self) -> usize {
        self.claims.len()
    }

    /// The difference between what is served now and what was served at the previous call,
    /// sorted by object. `reload` reads a file again when a copy that was not kept is served
    /// now (its file was outranked by another that has just dropped the object).
    pub fn take_changes(&mut self, reload: &mut Reload<'_>) -> Vec<Change> {
        let mut dirty: Vec<_> = self.dirty.drain().collect();
        dirty.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut fresh = std::mem::take(&mut self.fresh);
        let mut changes = Vec::with_capacity(dirty.len());
        for (object_ref, before) in dirty {
            let Some((path, hash)) = self.served(&object_ref) else {
                if before.is_some() {
                    changes.push(Change::Delete(object_ref));
                }
                continue;
            };
            if before == Some(hash) {
                continue;
            }
            let path = path.clone();
            let key = (path, object_ref);
            let object = fresh
                .remove(&key)
                .or_else(|| self.spare.remove(&key))
                .or_else(|| reloaded(reload, &key.0, &key.1));
            match object {
                Some(object) => changes.push(Change::Apply {
                    object,
                    object_ref: key.1,
                    written: self.written.get(&key.0).copied().unwrap_or(0),
                }),
                None => {
                    // Better nothing than a stale copy; the next read of the file sends it.
                    if let Some(hash) = self
                        .files
                        .get_mut(&key.0)
                        .and_then(|objects| objects.get_mut(&key.1))
                    {
                        *hash = NOT_SENT;
                    }
                    if before.is_some() {
                        changes.push(Change::Delete(key.1));
                    }
                }
            }
        }
        // Copies that are not served are kept for when they are.
        for (key, object) in fresh {
            if self
                .claims
                .get(&key.1)
                .is_some_and(|claims| claims.contains(&key.0) && claims.served() != Some(&key.0))
            {
                self.spare.insert(key, object);
            }
        }
        changes
    }

    /// Notes what is served for `object_ref` before a change. `replacing` is the file being
    /// replaced and its old hashes, already taken out of `files`.
    fn mark_dirty(
        &mut self,
        object_ref: &ObjectRef,
        replacing: Option<(&Arc<Path>, &HashMap<ObjectRef, u64>)>,
    ) {
        if self.dirty.contains_key(object_ref) {
            return;
        }
        let served = self.claims.get(object_ref).and_then(|claims| {
            let path = claims.served()?;
            match replacing {
                Some((replaced, old)) if replaced == path => old.get(object_ref).copied(),
                _ => self.files.get(path)?.get(object_ref).copied(),
            }
        });
        self.dirty.insert(object_ref.clone(), served);
    }

    /// The file whose copy of `object_ref` is served, and that copy's hash.
    fn served(&self, object_ref: &ObjectRef) -> Option<(&Arc<Path>, u64)> {
        let path = self.claims.get(object_ref)?.served()?;
        let hash = self.files.get(path)?.get(object_ref)?;
        Some((path, *hash))
    }

    fn claim(&mut self, object_ref: &ObjectRef, path: &Arc<Path>) {
        let claims = match self.claims.entry(object_ref.clone()) {
            Entry::Vacant(entry) => {
                entry.insert(Claims::One(path.clone()));
                return;
            }
            Entry::Occupied(entry) => entry.into_mut(),
        };
        let mut paths = match std::mem::replace(claims, Claims::Many(Vec::new())) {
            Claims::One(one) => vec![one],
            Claims::Many(paths) => paths,
        };
        if let Err(at) = paths.binary_search(path) {
            paths.insert(at, path.clone());
        }
        if let Some((served, others)) = paths.split_first() {
            let others: Vec<_> = others.iter().map(|p| p.display().to_string()).collect();
            warn!(
                object = %object_ref,
                served = %served.display(),
                ignored = %others.join(", "),
                "the same object is defined in several files; the first in path order is served"
            );
        }
        *claims = Claims::Many(paths);
    }

    fn unclaim(&mut self, object_ref: &ObjectRef, path: &Arc<Path>) {
        let Entry::Occupied(mut entry) = self.claims.entry(object_ref.clone()) else {
            return;
        };
        match entry.get_mut() {
            Claims::One(one) => {
                if one == path {
                    entry.remove();
                }
            }
            Claims::Many(paths) => {
                if let Ok(at) = paths.binary_search(path) {
                    paths.remove(at);
                    if at == 0
                        && let Some(next) = paths.first()
                    {
                        info!(object = %object_ref, from = %path.display(), now = %next.display(), "object now served from another file");
                    }
                }
                match paths.len() {
                    0 => {
                        entry.remove();
                    }
                    1 => {
                        let last = paths.remove(0);
                        *entry.get_mut() = Claims::One(last);
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Reads `path` again for its copy of `object_ref`.
fn reloaded(reload: &mut Reload<'_>, path: &Path, object_ref: &ObjectRef) -> Option<KubeObject> {
    let object = reload(path).and_then(|objects| {
        // The later definition wins within a file, as when it was first read.
        objects
            .into_iter()
            .rev()
            .map(|parsed| parsed.object)
            .find(|object| object.object_ref() == *object_ref)
    });
    if object.is_none() {
        error!(object = %object_ref, path = %path.display(), "the file that serves this object now does not define it or cannot be read; it is not served until the file is read again");
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifests::parse::parse_objects;

    fn node(name: &str, label: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{v: \"{label}\"}}\n---\n"
        )
    }

    fn set(store: &mut Store, path: &str, text: &str) {
        let objects = parse_objects(Path::new(path), text).expect("valid");
        store.replace_file(Path::new(path), objects, 0);
    }

    fn summary(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| match c {
                Change::Apply { object: o, .. } => format!(
                    "apply {} {}",
                    o.object_ref(),
                    o.metadata()
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("v"))
                        .cloned()
                        .unwrap_or_default()
                ),
                Change::Delete(r) => format!("delete {r}"),
            })
            .collect()
    }

    #[test]
    fn sends_only_differences() {
        let mut store = Store::default();
        set(&mut store, "/a.yaml", &(node("n1", "1") + &node("n2", "1")));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["apply Node/n1 1", "apply Node/n2 1"]
        );
        set(&mut store, "/a.yaml", &(node("n1", "1") + &node("n3", "1")));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["delete Node/n2", "apply Node/n3 1"]
        );
        set(&mut store, "/a.yaml", &(node("n1", "2") + &node("n3", "1")));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["apply Node/n1 2"]
        );
        store.remove_file(Path::new("/a.yaml"));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["delete Node/n1", "delete Node/n3"]
        );
        assert_eq!(store.len(), 0);
    }

    #[test]
    fn the_first_file_wins_and_the_next_takes_over() {
        let mut store = Store::default();
        set(&mut store, "/b.yaml", &node("n", "b"));
        set(&mut store, "/a.yaml", &node("n", "a"));
        // Within one batch only the final state counts.
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["apply Node/n a"]
        );
        set(&mut store, "/b.yaml", &node("n", "b2"));
        assert!(store.take_changes(&mut |_| None).is_empty());
        store.remove_file(Path::new("/a.yaml"));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["apply Node/n b2"]
        );
        set(&mut store, "/a.yaml", &node("n", "b2"));
        // Same JSON from another file: nothing to send.
        assert!(store.take_changes(&mut |_| None).is_empty());
        store.remove_file(Path::new("/a.yaml"));
        store.remove_file(Path::new("/b.yaml"));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["delete Node/n"]
        );
    }

    #[test]
    fn a_copy_outranked_after_it_was_sent_is_read_again_when_it_is_served_again() {
        let mut store = Store::default();
        set(&mut store, "/b.yaml", &node("n", "b"));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["apply Node/n b"]
        );
        // a.yaml comes first: its copy is served; b's was sent and not kept.
        set(&mut store, "/a.yaml", &node("n", "a"));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["apply Node/n a"]
        );
        store.remove_file(Path::new("/a.yaml"));
        let mut asked = Vec::new();
        let changes = store.take_changes(&mut |path| {
            asked.push(path.to_path_buf());
            parse_objects(path, &node("n", "b")).ok()
        });
        assert_eq!(asked, [Path::new("/b.yaml")]);
        assert_eq!(summary(&changes), ["apply Node/n b"]);
    }

    #[test]
    fn a_copy_that_cannot_be_read_again_is_withdrawn_until_its_file_is_read() {
        let mut store = Store::default();
        set(&mut store, "/b.yaml", &node("n", "b"));
        set(&mut store, "/a.yaml", &node("n", "a"));
        // Both in one batch: b's copy is kept, no read needed.
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["apply Node/n a"]
        );
        store.remove_file(Path::new("/a.yaml"));
        assert_eq!(
            summary(&store.take_changes(&mut |_| panic!("kept, not read"))),
            ["apply Node/n b"]
        );
        set(&mut store, "/a.yaml", &node("n", "a"));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["apply Node/n a"]
        );
        // b's copy was sent before, then outranked: it must be read again, and that fails.
        store.remove_file(Path::new("/a.yaml"));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["delete Node/n"]
        );
        // The same text read again is sent, although its hash did not change.
        set(&mut store, "/b.yaml", &node("n", "b"));
        assert_eq!(
            summary(&store.take_changes(&mut |_| None)),
            ["apply Node/n b"]
        );
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn an_object_that_comes_and_goes_within_a_batch_sends_nothing() {
        let mut store = Store::default();
        set(&mut store, "/a.yaml", &node("n", "1"));
        store.remove_file(Path::new("/a.yaml"));
        assert!(store.take_changes(&mut |_| None).is_empty());
    }
}
