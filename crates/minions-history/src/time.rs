//! Unix times to UTC dates and back, for listings and `--since`, without a
//! calendar crate: the store keeps Unix seconds, and only whole UTC days
//! are ever shown or parsed.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD HH:MM` (UTC) of a Unix time.
pub fn utc_minute(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        seconds / 3_600,
        seconds % 3_600 / 60
    )
}

/// The Unix time `--since` means: `7d` (days) or `12h` (hours) before
/// `now`, or a UTC date, `YYYY-MM-DD` or `YYYY-MM` (its first day).
pub fn parse_since(text: &str, now: i64) -> Result<i64, String> {
    let text = text.trim();
    let bad = || {
        format!(
            "--since {text}: give a number of days or hours back (7d, 12h) or a date (2026-11-01, 2026-11)"
        )
    };
    if let Some(days) = text.strip_suffix('d') {
        let days: i64 = days.parse().map_err(|_| bad())?;
        return Ok(now - days * 86_400);
    }
    if let Some(hours) = text.strip_suffix('h') {
        let hours: i64 = hours.parse().map_err(|_| bad())?;
        return Ok(now - hours * 3_600);
    }
    let parts: Vec<&str> = text.split('-').collect();
    let number = |part: &str| part.parse::<i64>().map_err(|_| bad());
    let (year, month, day) = match parts.as_slice() {
        [year, month] => (number(year)?, number(month)?, 1),
        [year, month, day] => (number(year)?, number(month)?, number(day)?),
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    Ok(days_from_civil(year, month, day) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00");
        // 2026-11-29 08:12 UTC.
        assert_eq!(utc_minute(1_795_939_920), "2026-11-29 08:12");
        assert_eq!(parse_since("2026-11-29", 0).unwrap(), 1_795_910_400);
        assert_eq!(
            parse_since("2024-02", 0).unwrap() / 86_400,
            days_from_civil(2024, 2, 1)
        );
        for days in [-1_000, 0, 59, 60, 11_016, 20_000, 100_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn since_takes_spans_and_dates_and_explains_the_rest() {
        assert_eq!(
            parse_since("7d", 1_000_000).unwrap(),
            1_000_000 - 7 * 86_400
        );
        assert_eq!(parse_since("12h", 100_000).unwrap(), 100_000 - 12 * 3_600);
        for bad in ["yesterday", "2026-13-01", "7w", ""] {
            let error = parse_since(bad, 0).unwrap_err();
            assert!(error.contains("--since"), "{error}");
        }
    }
}
