//! Durations as the config writes them.

use std::time::Duration;

/// Seconds, or a Go duration in whole h/m/s (as external-dns writes `--interval`), from 1 s to
/// a day.
pub(super) fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    let mut total: u64 = 0;
    if text.bytes().all(|b| b.is_ascii_digit()) {
        total = text.parse().ok()?;
    } else {
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit())?;
            let (number, tail) = rest.split_at(digits);
            let number: u64 = number.parse().ok()?;
            let mut units = tail.chars();
            let scale = match units.next()? {
                'h' => 3600,
                'm' => 60,
                's' => 1,
                _ => return None,
            };
            rest = units.as_str();
            total = total.checked_add(number.checked_mul(scale)?)?;
        }
    }
    (1..=86_400)
        .contains(&total)
        .then(|| Duration::from_secs(total))
}
