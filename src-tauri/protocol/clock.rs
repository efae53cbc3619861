//! The one wall clock of the app. Every time stamp (a stored entry's time,
//! the status's "since", a pause's end, the quiet hours) is read here, so
//! that they all agree and a test or a port has one place to look.
//!
//! Waiting (timers, backoff, heartbeats) uses tokio's monotonic clock
//! instead, which a change of the wall clock does not move; the SSE client
//! compares the two to notice a machine that slept.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, on the wall clock.
pub fn now() -> SystemTime {
    SystemTime::now()
}

/// Now, in milliseconds since the Unix epoch (as stored and shown).
pub fn now_ms() -> i64 {
    ms_since_epoch(now())
}

/// A wall-clock time in milliseconds since the Unix epoch; 0 before it,
/// and saturating far after it.
pub fn ms_since_epoch(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn milliseconds_saturate_instead_of_wrapping() {
        assert_eq!(ms_since_epoch(UNIX_EPOCH), 0);
        assert_eq!(ms_since_epoch(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert_eq!(
            ms_since_epoch(UNIX_EPOCH + Duration::from_millis(1500)),
            1500
        );
        assert!(now_ms() > 1_700_000_000_000);
    }
}
