//! Which cluster an object came from, when kubezone reads several (`clusters:`).

use std::{fmt, sync::Arc};

/// One cluster of the config's `clusters:`: its place in that list, which the index and the
/// answer path use to tell clusters apart cheaply, and its name, for names and messages.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClusterId {
    index: u16,
    name: Arc<str>,
}

impl ClusterId {
    pub fn new(index: u16, name: &str) -> Self {
        ClusterId {
            index,
            name: name.into(),
        }
    }

    /// The cluster's place in `clusters:`.
    pub fn index(&self) -> u16 {
        self.index
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// By place in the config: the first cluster listed comes first.
impl Ord for ClusterId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.index, &self.name).cmp(&(other.index, &other.name))
    }
}

impl PartialOrd for ClusterId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Debug for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.name, self.index)
    }
}
