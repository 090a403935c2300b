//! RFC 3339 timestamps without a date-time dependency.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A point in time as an RFC 3339 string in UTC with milliseconds, e.g.
/// `2026-11-22T03:12:19.229Z`.
///
/// Stored as text: readers keep whatever the writer put there, so a timestamp from another
/// tool is never rewritten.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    /// A timestamp from a system time (times before 1970 clamp to the epoch).
    pub fn from_system_time(time: SystemTime) -> Timestamp {
        let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Timestamp(format_rfc3339_millis(since_epoch))
    }

    /// A timestamp from any string; not validated.
    pub fn from_string(text: impl Into<String>) -> Timestamp {
        Timestamp(text.into())
    }

    /// The timestamp's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, to change in place (for [`crate::walk::walk_mut`]).
    pub(crate) fn string_mut(&mut self) -> &mut String {
        &mut self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Formats a duration since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn format_rfc3339_millis(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let millis = since_epoch.subsec_millis();
    if !(0..=9999).contains(&year) {
        return format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z");
    }
    // By hand: the recorder stamps every result, and `format!` costs ten times more.
    let mut out = [0u8; 24];
    let mut put = |at: usize, value: u64, width: usize| {
        let mut value = value;
        for i in (0..width).rev() {
            out[at + i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, year.unsigned_abs(), 4);
    put(5, u64::from(month), 2);
    put(8, u64::from(day), 2);
    put(11, hour, 2);
    put(14, minute, 2);
    put(17, second, 2);
    put(20, u64::from(millis), 3);
    for (at, separator) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.'), (23, b'Z')]
    {
        out[at] = separator;
    }
    out.iter().copied().map(char::from).collect()
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_rfc3339_millis(Duration::ZERO), "1970-01-01T00:00:00.000Z");
        // 2026-11-22T03:12:19.229Z
        assert_eq!(
            format_rfc3339_millis(Duration::from_millis(1_795_317_139_229)),
            "2026-11-22T03:12:19.229Z"
        );
        // Leap day.
        assert_eq!(format_rfc3339_millis(Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000Z");
        assert_eq!(format_rfc3339_millis(Duration::from_secs(253_402_300_799)), "9999-12-31T23:59:59.000Z");
        // Past year 9999, the slow path.
        assert_eq!(format_rfc3339_millis(Duration::from_secs(253_402_300_800)), "10000-01-01T00:00:00.000Z");
        assert_eq!(
            format_rfc3339_millis(Duration::from_millis(1_000_000_000_007)),
            "2001-09-09T01:46:40.007Z"
        );
    }
}
