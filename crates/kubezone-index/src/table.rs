//! The names of one zone snapshot: a persistent hash table for one writer and lock-free
//! readers.
//!
//! The table is cut into 4,096 shards behind two 64-way arrays of `Arc`s. A publish clones
//! one `Arc`. The writer changes a shard in place unless a published snapshot still holds it;
//! then it copies that shard and the two arrays above it first, so a change costs one small
//! shard's copy at most. Each name costs one 8-byte slot here, because the node owns its key.
//! imbl's HAMT, used before, cost about 160 bytes per name, and about 11 with its small
//! chunks, which doubled the time of a lookup in a 100k-name zone.

use std::{hash::BuildHasher, sync::Arc};

use hashbrown::{DefaultHashBuilder, HashTable, hash_table::Entry};

use crate::{NameNode, NodeRole};

/// Bits of the hash that pick an array slot at each level.
const LEVEL_BITS: u32 = 6;
const WIDTH: usize = 1 << LEVEL_BITS;
/// The levels take hash bits from here up: hashbrown probes with the low bits and tags with
/// the top seven, so these stay independent of both.
const LEVEL_SHIFT: u32 = 32;

type Shard = HashTable<Arc<NameNode>>;
type Branch = [Option<Arc<Shard>>; WIDTH];
type Root = [Option<Arc<Branch>>; WIDTH];

/// Name nodes by key. Cloning is one `Arc` clone.
#[derive(Clone)]
pub(crate) struct NameTable {
    root: Arc<Root>,
    hasher: DefaultHashBuilder,
    len: usize,
    /// The XOR of every node's content hash: equal tables have equal fingerprints, so a
    /// publish can tell whether the zone changed without comparing names.
    fingerprint: u64,
    /// Nodes that are zone cuts; lookups look for one only when there is any.
    cuts: usize,
}

impl Default for NameTable {
    fn default() -> Self {
        NameTable {
            root: Arc::new(std::array::from_fn(|_| None)),
            hasher: DefaultHashBuilder::default(),
            len: 0,
            fingerprint: 0,
            cuts: 0,
        }
    }
}

/// The root and branch slots of a hash.
fn slots(hash: u64) -> (usize, usize) {
    let mask = (WIDTH - 1) as u64;
    let root = (hash >> LEVEL_SHIFT) & mask;
    let branch = (hash >> (LEVEL_SHIFT + LEVEL_BITS)) & mask;
    (root as usize, branch as usize)
}

impl NameTable {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Whether any name is a zone cut.
    pub(crate) fn has_cuts(&self) -> bool {
        self.cuts > 0
    }

    fn count(&mut self, node: &NameNode, added: bool) {
        self.fingerprint ^= node.content_hash();
        if node.role() == NodeRole::Delegation {
            if added {
                self.cuts += 1;
            } else {
                self.cuts = self.cuts.saturating_sub(1);
            }
        }
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<&NameNode> {
        let hash = self.hasher.hash_one(key);
        let (r, b) = slots(hash);
        let branch = self.root.get(r)?.as_deref()?;
        let shard = branch.get(b)?.as_deref()?;
        shard
            .find(hash, |node| node.key() == key)
            .map(|node| &**node)
    }

    /// Adds `node`, or replaces the node with its key.
    pub(crate) fn insert(&mut self, node: Arc<NameNode>) {
        let hash = self.hasher.hash_one(node.key());
        let Some(shard) = shard_mut(&mut self.root, hash, true) else {
            return;
        };
        let hasher = &self.hasher;
        let added = node.clone();
        let replaced = match shard.entry(
            hash,
            |n| n.key() == node.key(),
            |n| hasher.hash_one(n.key()),
        ) {
            Entry::Occupied(mut slot) => Some(std::mem::replace(slot.get_mut(), node)),
            Entry::Vacant(slot) => {
                slot.insert(node);
                self.len += 1;
                None
            }
        };
        if let Some(old) = replaced {
            self.count(&old, false);
        }
        self.count(&added, true);
    }

    pub(crate) fn remove(&mut self, key: &[u8]) {
        if self.get(key).is_none() {
            // Nothing to do, and nothing shared is copied.
            return;
        }
        let hash = self.hasher.hash_one(key);
        let Some(shard) = shard_mut(&mut self.root, hash, false) else {
            return;
        };
        if let Ok(slot) = shard.find_entry(hash, |n| n.key() == key) {
            let (old, _) = slot.remove();
            self.len -= 1;
            self.count(&old, false);
        }
    }
}

impl NameTable {
    /// Every node, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &NameNode> {
        self.root
            .iter()
            .flatten()
            .flat_map(|branch| branch.iter().flatten())
            .flat_map(|shard| shard.iter())
            .map(|node| &**node)
    }

    /// The names whose nodes differ between `old` and this table, as (old node, new node).
    /// Shards that a later version shares with an earlier one are skipped, so for two versions
    /// of one table the cost follows the changes, not the zone.
    pub(crate) fn changes_since<'a>(
        &'a self,
        old: &'a NameTable,
    ) -> Vec<(Option<&'a NameNode>, Option<&'a NameNode>)> {
        let mut changes = Vec::new();
        if Arc::ptr_eq(&self.root, &old.root) {
            return changes;
        }
        for (new_branch, old_branch) in self.root.iter().zip(old.root.iter()) {
            if same(new_branch, old_branch) {
                continue;
            }
            for b in 0..WIDTH {
                let new_shard = new_branch
                    .as_deref()
                    .and_then(|br| br.get(b))
                    .and_then(Option::as_ref);
                let old_shard = old_branch
                    .as_deref()
                    .and_then(|br| br.get(b))
                    .and_then(Option::as_ref);
                if let (Some(n), Some(o)) = (new_shard, old_shard)
                    && Arc::ptr_eq(n, o)
                {
                    continue;
                }
                for node in new_shard.into_iter().flat_map(|s| s.iter()) {
                    let before = old.get(node.key());
                    if before.is_none_or(|before| before != &**node) {
                        changes.push((before, Some(&**node)));
                    }
                }
                for node in old_shard.into_iter().flat_map(|s| s.iter()) {
                    if self.get(node.key()).is_none() {
                        changes.push((Some(&**node), None));
                    }
                }
            }
        }
        changes
    }
}

fn same<T>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// The shard for `hash`, ready to change: copied first if a snapshot shares it.
fn shard_mut(root: &mut Arc<Root>, hash: u64, create: bool) -> Option<&mut Shard> {
    let (r, b) = slots(hash);
    let branch = Arc::make_mut(root).get_mut(r)?;
    if branch.is_none() && create {
        *branch = Some(Arc::new(std::array::from_fn(|_| None)));
    }
    let shard = Arc::make_mut(branch.as_mut()?).get_mut(b)?;
    if shard.is_none() && create {
        *shard = Some(Arc::new(Shard::new()));
    }
    Some(Arc::make_mut(shard.as_mut()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeRole;

    fn node(key: &[u8], marker: u8) -> Arc<NameNode> {
        let role = if marker == 0 {
            NodeRole::Ordinary
        } else {
            NodeRole::NameServer
        };
        Arc::new(NameNode::new(key.into(), Vec::new(), role, None))
    }

    fn key(i: usize) -> Vec<u8> {
        let label = format!("n{i}");
        let mut key = vec![label.len() as u8];
        key.extend_from_slice(label.as_bytes());
        key.extend_from_slice(b"\x07example\0");
        key
    }

    #[test]
    fn changes_since_an_earlier_version_are_the_names_that_differ() {
        let mut table = NameTable::default();
        for i in 0..10_000 {
            table.insert(node(&key(i), 0));
        }
        let before = table.clone();
        assert!(table.changes_since(&before).is_empty());
        table.insert(node(&key(5), 1));
        table.remove(&key(6));
        table.insert(node(&key(20_000), 0));
        table.insert(node(&key(7), 0)); // the same content again: not a change
        type Keys = (Option<Vec<u8>>, Option<Vec<u8>>);
        let mut changes: Vec<Keys> = table
            .changes_since(&before)
            .into_iter()
            .map(|(o, n)| (o.map(|n| n.key().to_vec()), n.map(|n| n.key().to_vec())))
            .collect();
        changes.sort();
        assert_eq!(
            changes,
            [
                (None, Some(key(20_000))),
                (Some(key(5)), Some(key(5))),
                (Some(key(6)), None),
            ]
        );
        assert_eq!(table.iter().count(), 10_000);
        // Two unrelated tables with the same names have no changes either.
        let mut other = NameTable::default();
        for n in table.iter() {
            other.insert(Arc::new(NameNode::new(
                n.key().into(),
                Vec::new(),
                n.role(),
                None,
            )));
        }
        assert!(other.changes_since(&table).is_empty());
    }

    #[test]
    fn finds_what_was_inserted_and_not_what_was_removed() {
        let mut table = NameTable::default();
        for i in 0..10_000 {
            table.insert(node(&key(i), 0));
        }
        assert_eq!(table.len(), 10_000);
        for i in (0..10_000).step_by(2) {
            table.remove(&key(i));
        }
        table.remove(&key(20_000));
        assert_eq!(table.len(), 5_000);
        for i in 0..10_000 {
            assert_eq!(table.get(&key(i)).is_some(), i % 2 == 1, "name {i}");
        }
    }

    #[test]
    fn insert_replaces_the_node_with_the_same_key() {
        let mut table = NameTable::default();
        table.insert(node(&key(1), 0));
        table.insert(node(&key(1), 1));
        assert_eq!(table.len(), 1);
        assert_eq!(
            table.get(&key(1)).map(NameNode::role),
            Some(NodeRole::NameServer)
        );
    }

    #[test]
    fn a_clone_keeps_its_state_while_the_original_changes() {
        let mut table = NameTable::default();
        for i in 0..1_000 {
            table.insert(node(&key(i), 0));
        }
        let snapshot = table.clone();
        for i in 0..500 {
            table.remove(&key(i));
        }
        table.insert(node(&key(999), 1));
        table.insert(node(&key(5_000), 0));
        assert_eq!(snapshot.len(), 1_000);
        assert!((0..1_000).all(|i| snapshot.get(&key(i)).is_some()));
        assert!(snapshot.get(&key(5_000)).is_none());
        assert_eq!(
            snapshot.get(&key(999)).map(NameNode::role),
            Some(NodeRole::Ordinary)
        );
        assert_eq!(table.len(), 501);
        assert!(table.get(&key(0)).is_none());
        assert_eq!(
            table.get(&key(999)).map(NameNode::role),
            Some(NodeRole::NameServer)
        );
    }
}
