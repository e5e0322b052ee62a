//! The SOA serial, derived from the data rather than the process clock, so that replicas that
//! see the same objects serve the same serial (the README's "The SOA serial" says what is and
//! is not guaranteed).
//!
//! - When a zone first becomes ready, its serial is the newest write time (unix seconds) of the
//!   objects that give it records: a pure function of the data, whatever the start time. A
//!   reload carries the running serial over as a floor, so it never goes back.
//! - After that the serial moves only when the zone's content changes (its fingerprint
//!   differs from the one the serial was set for), to `max(previous + 1, newest write among
//!   the changes)` (RFC 1982 forwards).
//! - It never runs ahead of the clock on its own: a change in the same second as the last move
//!   is served at once and takes the next serial when that second comes. So a restart, which
//!   starts again from the data, rarely finds a serial below the one served before.

/// The serial and fingerprint a reloaded zone starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SerialFloor {
    pub serial: u32,
    pub fingerprint: u64,
}

/// One zone's serial bookkeeping.
#[derive(Debug)]
pub(crate) struct Serial {
    /// The serial served, once assigned at the first ready publish.
    current: Option<u32>,
    /// The zone's fingerprint when the serial was set.
    fingerprint: u64,
    /// The newest write time among changes since then.
    pending: u32,
    floor: Option<SerialFloor>,
}

impl Serial {
    pub(crate) fn new(floor: Option<SerialFloor>) -> Serial {
        Serial {
            current: None,
            fingerprint: 0,
            pending: 0,
            floor,
        }
    }

    /// The fingerprint of the content the serial was set for.
    pub(crate) fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// An applied change altered the zone's content; `written` is when its object was written.
    pub(crate) fn changed(&mut self, written: u32) {
        self.pending = self.pending.max(written);
    }

    /// The serial to set now, if it moves, and the unix second at which to try again when a
    /// change must wait for the clock. `newest` gives the newest write time of the objects in
    /// the zone, asked for once, when the serial is first assigned.
    pub(crate) fn next(
        &mut self,
        fingerprint: u64,
        ready: bool,
        now: u32,
        newest: impl FnOnce() -> u32,
    ) -> (Option<u32>, Option<u32>) {
        let Some(current) = self.current else {
            if !ready {
                return (None, None);
            }
            let from_data = newest().max(1);
            let serial = match self.floor.take() {
                None => from_data,
                Some(floor) if floor.fingerprint == fingerprint => from_data.max(floor.serial),
                Some(floor) => from_data.max(floor.serial.wrapping_add(1)),
            };
            self.set(serial, fingerprint);
            return (Some(serial), None);
        };
        if fingerprint == self.fingerprint {
            // Back to what the serial was set for (a change and its undo): nothing to announce.
            self.pending = 0;
            return (None, None);
        }
        let next = current.wrapping_add(1).max(self.pending);
        if next <= now.max(self.pending) {
            self.set(next, fingerprint);
            (Some(next), None)
        } else {
            (None, Some(next))
        }
    }

    fn set(&mut self, serial: u32, fingerprint: u64) {
        self.current = Some(serial);
        self.fingerprint = fingerprint;
        self.pending = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u32 = 1_800_000_000;

    #[test]
    fn the_first_serial_is_the_newest_write_whatever_the_clock() {
        for now in [NOW, NOW + 2, NOW + 3600] {
            let mut serial = Serial::new(None);
            assert_eq!(serial.next(7, false, now, || NOW - 50), (None, None));
            assert_eq!(
                serial.next(7, true, now, || NOW - 50),
                (Some(NOW - 50), None)
            );
        }
        let mut empty = Serial::new(None);
        assert_eq!(empty.next(7, true, NOW, || 0), (Some(1), None));
    }

    #[test]
    fn only_a_content_change_moves_it() {
        let mut serial = Serial::new(None);
        serial.next(1, true, NOW, || NOW - 100);
        serial.changed(NOW - 10);
        assert_eq!(
            serial.next(1, true, NOW, || 0),
            (None, None),
            "same content"
        );
        serial.changed(NOW - 10);
        assert_eq!(serial.next(2, true, NOW, || 0), (Some(NOW - 10), None));
        assert_eq!(serial.next(2, true, NOW, || 0), (None, None));
    }

    #[test]
    fn a_change_without_a_newer_write_steps_by_one_but_not_past_the_clock() {
        let mut serial = Serial::new(None);
        serial.next(1, true, NOW, || NOW);
        // A deletion: no write time.
        serial.changed(0);
        assert_eq!(
            serial.next(2, true, NOW, || 0),
            (None, Some(NOW + 1)),
            "waits"
        );
        assert_eq!(serial.next(2, true, NOW + 1, || 0), (Some(NOW + 1), None));
        serial.changed(0);
        assert_eq!(serial.next(3, true, NOW + 5, || 0), (Some(NOW + 2), None));
    }

    #[test]
    fn a_write_time_ahead_of_the_local_clock_is_taken() {
        let mut serial = Serial::new(None);
        serial.next(1, true, NOW, || NOW - 5);
        serial.changed(NOW + 3);
        assert_eq!(serial.next(2, true, NOW, || 0), (Some(NOW + 3), None));
    }

    #[test]
    fn a_reload_never_goes_back() {
        let floor = SerialFloor {
            serial: NOW + 10,
            fingerprint: 5,
        };
        let mut same = Serial::new(Some(floor));
        assert_eq!(same.next(5, true, NOW, || NOW - 1), (Some(NOW + 10), None));
        let mut changed = Serial::new(Some(floor));
        assert_eq!(
            changed.next(6, true, NOW, || NOW - 1),
            (Some(NOW + 11), None)
        );
        let mut newer = Serial::new(Some(floor));
        assert_eq!(
            newer.next(6, true, NOW, || NOW + 20),
            (Some(NOW + 20), None)
        );
    }
}
