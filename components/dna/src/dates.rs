//! ISO 8601 calendar dates (UTC) and milliseconds since the Unix epoch.

const DAY_MS: u64 = 86_400_000;

/// The ISO date (UTC) of a time in milliseconds since the Unix epoch.
pub fn iso_date(ms: u64) -> String {
    civil_from_days(ms / DAY_MS)
}

/// The start (00:00 UTC) of an ISO date `YYYY-MM-DD`, in milliseconds since the
/// epoch; `None` for anything else, a date that does not exist, or one before 1970.
pub fn start_of(date: &str) -> Option<u64> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = date.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let days = days_from_civil(y, m, d)?;
    // Round-tripping rejects 2026-02-30 and the like.
    let days = u64::try_from(days).ok()?;
    (civil_from_days(days) == date).then(|| days * DAY_MS)
}

/// `YYYY-MM-DD` of days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(days: u64) -> String {
    let z = i64::try_from(days).unwrap_or(i64::MAX - 719_468) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_impossible_ones_are_refused() {
        assert_eq!(start_of("1970-01-01"), Some(0));
        assert_eq!(start_of("2026-11-25"), Some(1_795_564_800_000));
        assert_eq!(iso_date(1_795_564_800_000 + 5), "2026-11-25");
        assert_eq!(
            start_of("2024-02-29").map(iso_date).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "26-11-25",
            "2026-11-25T00:00",
            "",
            "1969-12-31",
            "+026-11-25",
        ] {
            assert_eq!(start_of(bad), None, "{bad}");
        }
    }
}
