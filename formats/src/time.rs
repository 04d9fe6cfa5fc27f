//! Dates and times, stored as milliseconds since the Unix epoch, UTC.
//!
//! The rule, for every format:
//! - A calendar date (a bank's booking or value date, a position's start month) is stored as
//!   midnight UTC of the day the file prints. A time or offset next to it is ignored, so that
//!   the same statement read from OFX or CAMT gives the same day.
//! - An instant (RFC 3339 `2024-03-01T10:00:00+01:00`) honours its offset; without one it is
//!   read as UTC.

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD` of a time in ms since the epoch (UTC).
pub fn format_date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// RFC 3339 in UTC with milliseconds (`2024-03-05T10:00:00.000Z`), which [`parse_time`] reads
/// back exactly.
pub fn format_instant(ms: i64) -> String {
    let rem = ms.rem_euclid(DAY_MS);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{}T{h:02}:{mi:02}:{s:02}.{milli:03}Z", format_date(ms))
}

/// Midnight UTC of a checked calendar date.
pub fn ymd(y: i64, m: i64, d: i64) -> Result<i64, String> {
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return Err(format!("month {m} does not exist")),
    };
    if !(1..=9999).contains(&y) {
        return Err(format!("year {y} is out of range"));
    }
    if d < 1 || d > days_in_month {
        return Err(format!("{y:04}-{m:02} has no day {d}"));
    }
    Ok(days_from_civil(y, m, d) * DAY_MS)
}

fn digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Expands a two-digit year: 00-69 are 2000-2069, 70-99 are 1970-1999.
pub fn full_year(y: i64, written: usize) -> i64 {
    match written {
        2 if y < 70 => 2000 + y,
        2 => 1900 + y,
        _ => y,
    }
}

/// A compact `YYYYMMDD` date, as OFX writes it; anything after the eighth digit is ignored.
pub fn compact_date(raw: &str) -> Result<i64, String> {
    let bad = || format!("`{raw}` is not a date (YYYYMMDD)");
    if raw.len() < 8 || !raw.as_bytes()[..8].iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let (y, m, d) = (
        digits(&raw[0..4]).ok_or_else(bad)?,
        digits(&raw[4..6]).ok_or_else(bad)?,
        digits(&raw[6..8]).ok_or_else(bad)?,
    );
    ymd(y, m, d).map_err(|e| format!("`{raw}`: {e}"))
}

/// A date with separators (`/`, `-`, `.`, `'`): day-first or month-first, or year-first when
/// the first part has four digits. Two-digit years follow [`full_year`].
pub fn numeric_date(raw: &str, order: crate::DateOrder) -> Result<i64, String> {
    let parts: Vec<&str> = raw
        .trim()
        .split(['/', '-', '.', '\''])
        .map(str::trim)
        .collect();
    let bad = || format!("`{raw}` is not a date");
    if parts.len() != 3 {
        return Err(bad());
    }
    let n: Vec<i64> = parts
        .iter()
        .map(|p| digits(p).ok_or_else(bad))
        .collect::<Result<_, _>>()?;
    let (y, m, d) = if parts[0].len() == 4 {
        (n[0], n[1], n[2])
    } else {
        let y = full_year(n[2], parts[2].len());
        match order {
            crate::DateOrder::DayFirst => (y, n[1], n[0]),
            crate::DateOrder::MonthFirst => (y, n[0], n[1]),
            crate::DateOrder::YearFirst => (full_year(n[0], parts[0].len()), n[1], n[2]),
        }
    };
    ymd(y, m, d).map_err(|e| format!("`{raw}`: {e}"))
}

/// Parses a date with a pattern of `%d`, `%m`, `%Y`, `%y`, `%H`, `%M`, `%S` and literal
/// characters, as a mapping file gives it. The time, when present, is an instant in UTC.
pub fn pattern_date(raw: &str, pattern: &str) -> Result<i64, String> {
    let bad = || format!("`{raw}` does not match the date format `{pattern}`");
    let (mut y, mut m, mut d, mut h, mut mi, mut s) = (None, None, None, 0, 0, 0);
    let mut rest = raw.trim();
    let mut pat = pattern.chars();
    while let Some(c) = pat.next() {
        if c != '%' {
            rest = rest.strip_prefix(c).ok_or_else(bad)?;
            continue;
        }
        let spec = pat.next().ok_or_else(bad)?;
        let max = if spec == 'Y' { 4 } else { 2 };
        let n = rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if n == 0 {
            return Err(bad());
        }
        let v = digits(&rest[..n]).ok_or_else(bad)?;
        rest = &rest[n..];
        match spec {
            'Y' => y = Some(v),
            'y' => y = Some(full_year(v, 2)),
            'm' => m = Some(v),
            'd' => d = Some(v),
            'H' => h = v,
            'M' => mi = v,
            'S' => s = v,
            _ => return Err(format!("date format `{pattern}`: unknown `%{spec}`")),
        }
    }
    if !rest.is_empty() || h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    let day = ymd(y.ok_or_else(bad)?, m.ok_or_else(bad)?, d.unwrap_or(1))
        .map_err(|e| format!("`{raw}`: {e}"))?;
    Ok(day + (h * 3600 + mi * 60 + s) * 1000)
}

/// Parses a date or date-time to ms since the epoch, UTC: `YYYY-MM-DD` (midnight UTC),
/// RFC 3339 (`2024-03-01T10:00:00Z`, offsets honoured, none means UTC), or integer
/// milliseconds since the epoch.
pub fn parse_time(raw: &str) -> Result<i64, String> {
    parse_instant(raw).map(|(ms, _)| ms)
}

/// Like [`parse_time`], and also returns the offset written, in minutes east of UTC.
pub fn parse_instant(raw: &str) -> Result<(i64, Option<i64>), String> {
    let bad =
        || format!("`{raw}` is not a date (YYYY-MM-DD), an RFC 3339 time, or epoch milliseconds");
    if let Ok(ms) = raw.parse::<i64>() {
        return Ok((ms, None));
    }
    let num = |s: &str| digits(s).ok_or_else(bad);
    let b = raw.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' || !raw.is_char_boundary(10) {
        return Err(bad());
    }
    let mut ms = ymd(num(&raw[0..4])?, num(&raw[5..7])?, num(&raw[8..10])?)
        .map_err(|e| format!("`{raw}`: {e}"))?;
    let rest = &raw[10..];
    if rest.is_empty() {
        return Ok((ms, None));
    }
    let rest = rest.strip_prefix(['T', ' ']).ok_or_else(bad)?;
    let rb = rest.as_bytes();
    if rb.len() < 8 || rb[2] != b':' || rb[5] != b':' || !rest.is_char_boundary(8) {
        return Err(bad());
    }
    let (h, mi, s) = (num(&rest[0..2])?, num(&rest[3..5])?, num(&rest[6..8])?);
    if h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    ms += (h * 3600 + mi * 60 + s) * 1000;
    let mut tz = &rest[8..];
    if let Some(frac) = tz.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        let f = &frac[..n];
        if n > 0 {
            ms += num(&format!("{:0<3}", &f[..n.min(3)]))?;
        }
        tz = &frac[n..];
    }
    match tz {
        "" => Ok((ms, None)),
        "Z" => Ok((ms, Some(0))),
        _ if tz.len() == 6
            && tz.is_ascii()
            && (tz.starts_with('+') || tz.starts_with('-'))
            && &tz[3..4] == ":" =>
        {
            let off = num(&tz[1..3])? * 60 + num(&tz[4..6])?;
            let off = if tz.starts_with('+') { off } else { -off };
            Ok((ms - off * 60_000, Some(off)))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DateOrder::*;
    use proptest::prelude::*;

    #[test]
    fn dates_follow_the_documented_rule() {
        assert_eq!(parse_time("1970-01-02"), Ok(86_400_000));
        assert_eq!(parse_time("2024-02-29T10:00:00Z"), Ok(1_709_200_800_000));
        assert_eq!(
            parse_time("2024-02-29T12:00:00+02:00"),
            Ok(1_709_200_800_000)
        );
        assert_eq!(
            parse_time("2024-02-29T10:00:00.250Z"),
            Ok(1_709_200_800_250)
        );
        assert!(parse_time("2023-02-29").is_err());
        assert!(parse_time("29/02/2024").is_err());
        assert!(parse_time("2024-01-01T10:00:00é").is_err());
        assert_eq!(format_date(1_709_200_800_000), "2024-02-29");
        assert_eq!(compact_date("20240229120000.000[-5:EST]"), ymd(2024, 2, 29));
        // Found by the fuzzer: multi-byte characters inside the fields sliced.
        assert!(compact_date("2024²1501").is_err());
        assert!(parse_time("2024-02-29T10:00:00+1é00").is_err());
        assert_eq!(numeric_date("29/02/2024", DayFirst), ymd(2024, 2, 29));
        assert_eq!(numeric_date("2/29'24", MonthFirst), ymd(2024, 2, 29));
        assert!(numeric_date("29/02/2024", MonthFirst).is_err());
        assert_eq!(pattern_date("29.02.24", "%d.%m.%y"), ymd(2024, 2, 29));
        assert_eq!(
            pattern_date("2024-02-29 10:00", "%Y-%m-%d %H:%M"),
            Ok(1_709_200_800_000)
        );
        assert!(pattern_date("2024/02/29", "%Y-%m-%d").is_err());
    }

    proptest! {
        #[test]
        fn days_round_trip(day in -700_000i64..2_900_000) {
            let (y, m, d) = civil_from_days(day);
            prop_assert_eq!(days_from_civil(y, m, d), day);
            if (1..=9999).contains(&y) {
                prop_assert_eq!(parse_time(&format_date(day * DAY_MS)), Ok(day * DAY_MS));
                let t = day * DAY_MS + (day.rem_euclid(86_400) * 997) % DAY_MS;
                prop_assert_eq!(parse_time(&format_instant(t)), Ok(t));
            }
        }
    }
}
