//! `forwarding`: how fallthrough queries go to `upstream`, and the bound on how many wait
//! there at once.

use std::time::Duration;

use kubezone_dns::ForwardSettings;
use serde::Deserialize;

/// Queries waiting upstream at once, at most: each holds a message ID on a shared socket.
const MAX_IN_FLIGHT: u64 = 10_000;
const TIMEOUT_MS: (u64, u64) = (100, 30_000);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawForwarding {
    max_in_flight: Option<u64>,
    timeout_milliseconds: Option<u64>,
    try_next_after_milliseconds: Option<u64>,
}

/// The checked settings; an error names the key (below `forwarding.`) and the value.
pub(super) fn settings(raw: RawForwarding) -> Result<ForwardSettings, (String, String)> {
    let defaults = ForwardSettings::default();
    let max_in_flight = match raw.max_in_flight {
        None => defaults.max_in_flight,
        Some(n) if (1..=MAX_IN_FLIGHT).contains(&n) => usize::try_from(n).unwrap_or(usize::MAX),
        Some(n) => {
            return Err((
                "maxInFlight".into(),
                format!("{n} is out of range 1..={MAX_IN_FLIGHT}"),
            ));
        }
    };
    let millis =
        |key: &str, value: Option<u64>, default: Duration, (min, max): (u64, u64)| match value {
            None => Ok(default),
            Some(ms) if (min..=max).contains(&ms) => Ok(Duration::from_millis(ms)),
            Some(ms) => Err((
                key.to_string(),
                format!("{ms} is out of range {min}..={max}"),
            )),
        };
    let timeout = millis(
        "timeoutMilliseconds",
        raw.timeout_milliseconds,
        defaults.timeout,
        TIMEOUT_MS,
    )?;
    let try_next_after = millis(
        "tryNextAfterMilliseconds",
        raw.try_next_after_milliseconds,
        defaults.try_next_after.min(timeout),
        (1, TIMEOUT_MS.1),
    )?;
    if try_next_after > timeout {
        return Err((
            "tryNextAfterMilliseconds".into(),
            format!(
                "{} is above timeoutMilliseconds ({}): the next upstream would never be asked",
                try_next_after.as_millis(),
                timeout.as_millis()
            ),
        ));
    }
    Ok(ForwardSettings {
        max_in_flight,
        timeout,
        try_next_after,
        ..defaults
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<ForwardSettings, (String, String)> {
        settings(serde_norway::from_str(yaml).expect("yaml"))
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(parse("{}").expect("defaults"), ForwardSettings::default());
        let s = parse("{maxInFlight: 50, timeoutMilliseconds: 800, tryNextAfterMilliseconds: 200}")
            .expect("valid");
        assert_eq!(s.max_in_flight, 50);
        assert_eq!(s.timeout, Duration::from_millis(800));
        assert_eq!(s.try_next_after, Duration::from_millis(200));
        // A timeout below the default try-next time lowers it with it.
        let s = parse("{timeoutMilliseconds: 300}").expect("valid");
        assert_eq!(s.try_next_after, Duration::from_millis(300));
    }

    #[test]
    fn bad_values_are_named() {
        for (yaml, key, value) in [
            ("{maxInFlight: 0}", "maxInFlight", "0 "),
            ("{maxInFlight: 10001}", "maxInFlight", "10001 "),
            ("{timeoutMilliseconds: 50}", "timeoutMilliseconds", "50 "),
            (
                "{timeoutMilliseconds: 500, tryNextAfterMilliseconds: 600}",
                "tryNextAfterMilliseconds",
                "600 is above timeoutMilliseconds (500)",
            ),
        ] {
            let (k, message) = parse(yaml).expect_err(yaml);
            assert_eq!(k, key, "{yaml}");
            assert!(message.contains(value), "{yaml}: {message}");
        }
    }
}
