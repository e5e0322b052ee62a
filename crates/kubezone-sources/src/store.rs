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

use crate::{Change, manifest::Parsed};

#[derive(Default)]
pub(crate) struct Store {
    /// Per file: its objects as JSON text.
    files: HashMap<Arc<Path>, HashMap<ObjectRef, Arc<str>>>,
    /// Per object: the files that define it, sorted; the first one is served.
    claims: HashMap<ObjectRef, Vec<Arc<Path>>>,
    /// Objects touched since the last [`Store::take_changes`], with the JSON that was served
    /// before the first touch (`None`: not served).
    dirty: HashMap<ObjectRef, Option<Arc<str>>>,
    /// Objects parsed since the last [`Store::take_changes`], so that sending them does not parse
    /// them again.
    fresh: HashMap<(Arc<Path>, ObjectRef), KubeObject>,
}

impl Store {
    /// Replaces everything `path` defines with `objects`.
    pub fn replace_file(&mut self, path: &Path, objects: Vec<Parsed>) {
        let path: Arc<Path> = match self.files.get_key_value(path) {
            Some((key, _)) => key.clone(),
            None => Arc::from(path),
        };
        let mut new: HashMap<ObjectRef, Arc<str>> = HashMap::with_capacity(objects.len());
        for Parsed { object, json } in objects {
            let object_ref = object.object_ref();
            if new.insert(object_ref.clone(), json).is_some() {
                warn!(object = %object_ref, path = %path.display(), "object defined twice in one file; the later definition is used");
            }
            self.fresh.insert((path.clone(), object_ref), object);
        }
        let old_refs: Vec<ObjectRef> = self
            .files
            .get(&path)
            .map(|old| old.keys().cloned().collect())
            .unwrap_or_default();
        // Record what is served now, before anything moves.
        for object_ref in old_refs.iter().chain(new.keys()) {
            self.mark_dirty(object_ref);
        }
        let old = self.files.remove(&path).unwrap_or_default();

        for object_ref in old.keys().filter(|r| !new.contains_key(*r)) {
            self.unclaim(object_ref, &path);
            self.fresh.remove(&(path.clone(), object_ref.clone()));
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
        self.replace_file(path, Vec::new());
    }

    /// How many objects are served.
    pub fn len(&self) -> usize {
        self.claims.len()
    }

    /// The difference between what is served now and what was served at the previous call,
    /// sorted by object.
    pub fn take_changes(&mut self) -> Vec<Change> {
        let mut dirty: Vec<_> = self.dirty.drain().collect();
        dirty.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut fresh = std::mem::take(&mut self.fresh);
        let mut changes = Vec::new();
        for (object_ref, before) in dirty {
            match self.served(&object_ref) {
                None if before.is_some() => changes.push(Change::Delete(object_ref)),
                None => {}
                Some((_, json)) if before.as_deref() == Some(&**json) => {}
                Some((path, json)) => {
                    let object = match fresh.remove(&(path.clone(), object_ref.clone())) {
                        Some(object) => Some(object),
                        // Another file's copy takes over: parse it from its stored JSON.
                        None => reparse(&object_ref, json),
                    };
                    if let Some(object) = object {
                        changes.push(Change::Apply(object));
                    }
                }
            }
        }
        changes
    }

    fn mark_dirty(&mut self, object_ref: &ObjectRef) {
        if !self.dirty.contains_key(object_ref) {
            let served = self.served(object_ref).map(|(_, json)| json.clone());
            self.dirty.insert(object_ref.clone(), served);
        }
    }

    /// The file whose copy of `object_ref` is served, and that copy.
    fn served(&self, object_ref: &ObjectRef) -> Option<(&Arc<Path>, &Arc<str>)> {
        let path = self.claims.get(object_ref)?.first()?;
        let json = self.files.get(path)?.get(object_ref)?;
        Some((path, json))
    }

    fn claim(&mut self, object_ref: &ObjectRef, path: &Arc<Path>) {
        let paths = self.claims.entry(object_ref.clone()).or_default();
        let Err(at) = paths.binary_search(path) else {
            return;
        };
        paths.insert(at, path.clone());
        if paths.len() > 1 {
            let served = &paths[0];
            let others: Vec<_> = paths[1..].iter().map(|p| p.display().to_string()).collect();
            warn!(
                object = %object_ref,
                served = %served.display(),
                ignored = %others.join(", "),
                "the same object is defined in several files; the first in path order is served"
            );
        }
    }

    fn unclaim(&mut self, object_ref: &ObjectRef, path: &Arc<Path>) {
        let Entry::Occupied(mut entry) = self.claims.entry(object_ref.clone()) else {
            return;
        };
        let paths = entry.get_mut();
        if let Ok(at) = paths.binary_search(path) {
            paths.remove(at);
            if at == 0
                && let Some(next) = paths.first()
            {
                info!(object = %object_ref, from = %path.display(), now = %next.display(), "object now served from another file");
            }
        }
        if paths.is_empty() {
            entry.remove();
        }
    }
}

fn reparse(object_ref: &ObjectRef, json: &str) -> Option<KubeObject> {
    let parsed = serde_json::from_str(json)
        .map_err(|e| e.to_string())
        .and_then(|value| KubeObject::from_value(value).map_err(|e| e.to_string()));
    match parsed {
        Ok(Some(object)) => Some(object),
        Ok(None) => None,
        Err(message) => {
            // It parsed when it was read, so this would be a bug, not a user error.
            error!(object = %object_ref, %message, "cannot parse a stored object again");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_objects;

    fn node(name: &str, label: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{v: \"{label}\"}}\n---\n"
        )
    }

    fn set(store: &mut Store, path: &str, text: &str) {
        let objects = parse_objects(Path::new(path), text).expect("valid");
        store.replace_file(Path::new(path), objects);
    }

    fn summary(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| match c {
                Change::Apply(o) => format!(
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
            summary(&store.take_changes()),
            ["apply Node/n1 1", "apply Node/n2 1"]
        );
        set(&mut store, "/a.yaml", &(node("n1", "1") + &node("n3", "1")));
        assert_eq!(
            summary(&store.take_changes()),
            ["delete Node/n2", "apply Node/n3 1"]
        );
        set(&mut store, "/a.yaml", &(node("n1", "2") + &node("n3", "1")));
        assert_eq!(summary(&store.take_changes()), ["apply Node/n1 2"]);
        store.remove_file(Path::new("/a.yaml"));
        assert_eq!(
            summary(&store.take_changes()),
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
        assert_eq!(summary(&store.take_changes()), ["apply Node/n a"]);
        set(&mut store, "/b.yaml", &node("n", "b2"));
        assert!(store.take_changes().is_empty());
        store.remove_file(Path::new("/a.yaml"));
        assert_eq!(summary(&store.take_changes()), ["apply Node/n b2"]);
        set(&mut store, "/a.yaml", &node("n", "b2"));
        // Same JSON from another file: nothing to send.
        assert!(store.take_changes().is_empty());
        store.remove_file(Path::new("/a.yaml"));
        store.remove_file(Path::new("/b.yaml"));
        assert_eq!(summary(&store.take_changes()), ["delete Node/n"]);
    }

    #[test]
    fn an_object_that_comes_and_goes_within_a_batch_sends_nothing() {
        let mut store = Store::default();
        set(&mut store, "/a.yaml", &node("n", "1"));
        store.remove_file(Path::new("/a.yaml"));
        assert!(store.take_changes().is_empty());
    }
}
