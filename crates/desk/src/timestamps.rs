//! Timestamps as stored and sent: RFC 3339, UTC, milliseconds, `Z` — the hub's format.
//! Fixed width, so they sort and compare correctly as text in both databases.

use time::{
    Duration, OffsetDateTime, Time, format_description::FormatItem, macros::format_description,
};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn format(at: OffsetDateTime) -> String {
    // Formatting a UTC time with a fixed numeric format cannot fail; fall back to the
    // standard form rather than panic if it ever did.
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc.format(FORMAT)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

/// Midnight (UTC) of the day `at` falls on: where "today" starts for the statistics.
pub fn day_start(at: OffsetDateTime) -> String {
    format(
        at.to_offset(time::UtcOffset::UTC)
            .replace_time(Time::MIDNIGHT),
    )
}

pub fn after(at: OffsetDateTime, duration: Duration) -> String {
    format(at + duration)
}

/// Parses a client-given time (RFC 3339, any offset) into the stored form.
pub fn parse(text: &str) -> Result<String, String> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .map(format)
        .map_err(|_| "must be an RFC 3339 time, e.g. 2026-11-21T10:15:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        assert_eq!(
            format(datetime!(2026-11-21 13:15:02.1234 +3)),
            "2026-11-21T10:15:02.123Z"
        );
    }

    #[test]
    fn the_day_starts_at_utc_midnight() {
        assert_eq!(
            day_start(datetime!(2026-11-21 10:15 UTC)),
            "2026-11-21T00:00:00.000Z"
        );
    }

    #[test]
    fn client_times_are_normalized() {
        assert_eq!(
            parse("2026-11-21T13:00:00+03:00").as_deref(),
            Ok("2026-11-21T10:00:00.000Z")
        );
        assert!(parse("tomorrow").is_err());
    }
}
