//! Timestamps travel as milliseconds since the Unix epoch (UTC) on both databases and the wire.

/// "24 Nov 2026, 11:04 UTC": the same text on the server and in the browser, so hydration agrees.
pub fn format_utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%-d %b %Y, %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

pub fn format_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%-d %B %Y").to_string()).unwrap_or_else(|| "—".into())
}

/// "2026-11-24T11:04:05.123Z" (RFC 3339, UTC, milliseconds): how exported files give a moment,
/// which a spreadsheet or a script reads without guessing.
pub fn format_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_format_in_utc() {
        assert_eq!(super::format_utc(1_795_000_000_000), "18 Nov 2026, 11:06 UTC");
        assert_eq!(super::format_date(0), "1 January 1970");
        assert_eq!(super::format_rfc3339(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
    }
}
