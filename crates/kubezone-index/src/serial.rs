/// The next SOA serial: `max(previous + 1, unix seconds now)` (`spec/dns.md`).
///
/// Seconds since the epoch keep the serial moving forward across restarts without storing
/// anything; `previous + 1` keeps it moving within one second.
pub fn next_serial(previous: u32, now_unix: u32) -> u32 {
    previous.wrapping_add(1).max(now_unix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_follows_the_clock_and_never_repeats() {
        assert_eq!(next_serial(100, 5_000), 5_000);
        assert_eq!(next_serial(5_000, 5_000), 5_001);
        assert_eq!(next_serial(5_001, 5_000), 5_002, "never goes backwards");
    }
}
