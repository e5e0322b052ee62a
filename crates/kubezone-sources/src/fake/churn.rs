//! The objects and their changes, drawn from one seeded generator: the same seed, count and
//! blueprint give the same objects and the same changes in the same order on every run.
//!
//! A change picks a slot at random and gives it new addresses, or (one in [`DELETE_ONE_IN`])
//! deletes it; the change after a delete re-creates that slot, so at most one name is missing
//! at a time and a checker can expect every other one to resolve.

use std::num::NonZeroU32;

use rand::{RngExt, SeedableRng, rngs::Xoshiro256PlusPlus};

use super::objects::{Addresses, Blueprint};
use crate::Change;

/// One change in this many is a delete (whose slot the next change re-creates).
const DELETE_ONE_IN: u32 = 10;

pub(super) struct Churn {
    blueprint: Blueprint,
    objects: NonZeroU32,
    rng: Xoshiro256PlusPlus,
    /// The slot the last change deleted.
    deleted: Option<u32>,
}

impl Churn {
    pub(super) fn new(blueprint: Blueprint, objects: NonZeroU32, seed: u64) -> Churn {
        Churn {
            blueprint,
            objects,
            // Xoshiro256++ is a fixed algorithm, unlike `StdRng`, whose stream may change
            // between rand releases.
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            deleted: None,
        }
    }

    pub(super) fn objects(&self) -> u32 {
        self.objects.get()
    }

    /// Slot `slot` as first created, written at `written` (unix seconds). The first state is
    /// every slot from 0 in order.
    pub(super) fn create(&mut self, slot: u32, written: u32) -> Change {
        self.apply(slot, written)
    }

    /// The next change, written at `written`.
    pub(super) fn next_change(&mut self, written: u32) -> Change {
        if let Some(slot) = self.deleted.take() {
            return self.apply(slot, written);
        }
        let slot = self.rng.random_range(0..self.objects.get());
        if self.rng.random_ratio(1, DELETE_ONE_IN) {
            self.deleted = Some(slot);
            return Change::Delete(self.blueprint.object_ref(slot));
        }
        self.apply(slot, written)
    }

    fn apply(&mut self, slot: u32, written: u32) -> Change {
        let addresses = Addresses::pick(self.rng.random(), self.rng.random(), self.rng.random());
        let object = self.blueprint.object(slot, &addresses);
        Change::Apply {
            object_ref: self.blueprint.object_ref(slot),
            object,
            written,
        }
    }
}
