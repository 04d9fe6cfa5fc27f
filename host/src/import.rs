//! Import of CSV and JSON Lines files into a person's collection, against its schema.
//!
//! Rules:
//! - Errors name the file, the line, the field and the reason; by default a bad record rejects
//!   the whole file before anything is written.
//! - Idempotent: each record's id is a hash of its collection, its values and its occurrence
//!   number among identical records of the same file (the second identical coffee on the same
//!   day stays a second record), so re-importing a file adds nothing.
//! - Written in transactions of [`BATCH`] records: a crash leaves whole batches only, and
//!   importing again completes the rest.
//! - Money is exact: `-12.34 EUR` becomes -1234 minor units; never a float.
//! - Dates: `YYYY-MM-DD` (midnight UTC), RFC 3339 (`2024-03-01T10:00:00Z`, offsets honoured), or
//!   integer milliseconds since the epoch. Times are stored as UTC milliseconds.
//!
//! May touch: the input file (read only) and the store through [`Store::write_records`].

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::store::{FieldType, KeyedRecord, PersonId, Record, Schema, Store, StoreError, Value};

/// Longest text value accepted, in bytes.
pub const MAX_TEXT: usize = 1 << 20;

/// Records per write transaction.
pub const BATCH: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// Guesses the format from the file name, then from the first byte.
    pub fn detect(path: &Path, head: &[u8]) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl") | Some("ndjson") => Format::JsonLines,
            Some("csv") => Format::Csv,
            _ if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') => Format::JsonLines,
            _ => Format::Csv,
        }
    }
}

/// What to do with a bad record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Refuse the whole file and write nothing (the default).
    #[default]
    Reject,
    /// Skip bad records, report each one, import the rest.
    Skip,
}

/// A bad record: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: field `{field}`: {reason}")]
pub struct RecordError {
    pub file: String,
    pub line: u64,
    pub field: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {file}: {reason}")]
    Io { file: String, reason: String },
    #[error("{0}\nnothing was imported; fix the record, or pass --skip-bad to import the others")]
    Record(RecordError),
    #[error("collection `{0}` needs a time field to be imported")]
    NoTime(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub read: u64,
    pub added: u64,
    pub duplicates: u64,
    /// Records skipped under [`OnError::Skip`], each with its reason.
    pub skipped: Vec<RecordError>,
}

/// Parses `path` into records for `schema`. Calls `progress(records parsed)` now and then.
pub fn parse_file(
    path: &Path,
    schema: &Schema,
    format: Option<Format>,
    on_error: OnError,
) -> Result<(Vec<KeyedRecord>, Vec<RecordError>), ImportError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ImportError::Io {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    let format = format.unwrap_or_else(|| Format::detect(path, &bytes[..bytes.len().min(64)]));
    let time_idx = schema.time_index();
    let mut rows: Vec<(u64, Result<Record, RecordError>)> = Vec::new();
    let err = |line: u64, field: &str, reason: String| RecordError {
        file: file.clone(),
        line,
        field: field.to_string(),
        reason,
    };
    match format {
        Format::Csv => {
            let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text);
            let headers = rdr
                .headers()
                .map_err(|e| ImportError::Io {
                    file: file.clone(),
                    reason: e.to_string(),
                })?
                .clone();
            let cols: Vec<Option<usize>> = schema
                .fields
                .iter()
                .map(|f| headers.iter().position(|h| h.trim() == f.name))
                .collect();
            for rec in rdr.records() {
                let rec = rec.map_err(|e| ImportError::Io {
                    file: file.clone(),
                    reason: e.to_string(),
                })?;
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                let parsed = schema
                    .fields
                    .iter()
                    .zip(&cols)
                    .map(|(f, c)| {
                        let raw = c.and_then(|c| rec.get(c)).map(str::trim).unwrap_or("");
                        parse_value(f.ty, f.optional, raw).map_err(|r| err(line, &f.name, r))
                    })
                    .collect::<Result<Record, _>>();
                rows.push((line, parsed));
            }
        }
        Format::JsonLines => {
            let text =
                String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes));
            for (i, l) in text.lines().enumerate() {
                let line = i as u64 + 1;
                if l.trim().is_empty() {
                    continue;
                }
                let parsed =
                    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(l) {
                        Err(e) => Err(err(line, "-", format!("not a JSON object: {e}"))),
                        Ok(obj) => schema
                            .fields
                            .iter()
                            .map(|f| {
                                json_value(f.ty, f.optional, obj.get(&f.name))
                                    .map_err(|r| err(line, &f.name, r))
                            })
                            .collect::<Result<Record, _>>(),
                    };
                rows.push((line, parsed));
            }
        }
    }
    let mut records = Vec::with_capacity(rows.len());
    let mut skipped = Vec::new();
    let mut seen: HashMap<[u8; 32], u32> = HashMap::new();
    let mut buf = Vec::new();
    for (_, row) in rows {
        match row {
            Ok(values) => {
                crate::store::codec::encode(&values, &mut buf);
                let content: [u8; 32] = Sha256::digest(&buf).into();
                let occurrence = seen.entry(content).or_insert(0);
                *occurrence += 1;
                let mut h = Sha256::new();
                h.update(schema.name.as_bytes());
                h.update(content);
                h.update(occurrence.to_be_bytes());
                let id = u64::from_be_bytes(h.finalize()[..8].try_into().unwrap_or([0; 8]));
                let time = match time_idx.map(|i| &values[i]) {
                    Some(Value::Timestamp(t)) => *t,
                    _ => 0,
                };
                records.push(KeyedRecord { id, time, values });
            }
            Err(e) if on_error == OnError::Skip => skipped.push(e),
            Err(e) => return Err(ImportError::Record(e)),
        }
    }
    Ok((records, skipped))
}

/// Imports `path` into `person`'s `collection`. `progress(done, total)` is called per batch.
pub fn import_file(
    store: &dyn Store,
    person: PersonId,
    collection: &str,
    path: &Path,
    format: Option<Format>,
    on_error: OnError,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport, ImportError> {
    let schema = store.collection(collection)?;
    store.person(person)?;
    let (records, skipped) = parse_file(path, &schema, format, on_error)?;
    let source = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut report = ImportReport {
        read: records.len() as u64,
        skipped,
        ..Default::default()
    };
    let total = records.len() as u64;
    for chunk in records.chunks(BATCH) {
        let out = store.write_records(person, collection, chunk, &source)?;
        report.added += out.added;
        report.duplicates += out.duplicates;
        progress(report.added + report.duplicates, total);
    }
    Ok(report)
}

/// Parses one text value of type `ty`.
pub fn parse_value(ty: FieldType, optional: bool, raw: &str) -> Result<Value, String> {
    if raw.is_empty() {
        return if optional || ty == FieldType::Text {
            Ok(if optional {
                Value::Null
            } else {
                Value::Text(String::new())
            })
        } else {
            Err("missing value".into())
        };
    }
    match ty {
        FieldType::Text if raw.len() > MAX_TEXT => Err(format!(
            "text of {} bytes; the largest accepted is {MAX_TEXT}",
            raw.len()
        )),
        FieldType::Text => Ok(Value::Text(raw.to_string())),
        FieldType::Integer => raw
            .parse()
            .map(Value::Integer)
            .map_err(|_| format!("`{raw}` is not an integer")),
        FieldType::Float => raw
            .parse()
            .map(Value::Float)
            .map_err(|_| format!("`{raw}` is not a number")),
        FieldType::Boolean => match raw.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Boolean(true)),
            "false" | "no" | "0" => Ok(Value::Boolean(false)),
            _ => Err(format!("`{raw}` is not a boolean (true/false)")),
        },
        FieldType::Timestamp => parse_time(raw).map(Value::Timestamp),
        FieldType::Money => {
            parse_money(raw).map(|(minor, currency)| Value::Money { minor, currency })
        }
    }
}

fn json_value(
    ty: FieldType,
    optional: bool,
    v: Option<&serde_json::Value>,
) -> Result<Value, String> {
    use serde_json::Value as J;
    match (ty, v) {
        (_, None | Some(J::Null)) => parse_value(ty, optional, ""),
        (FieldType::Integer | FieldType::Timestamp, Some(J::Number(n))) => n
            .as_i64()
            .map(|i| {
                if ty == FieldType::Integer {
                    Value::Integer(i)
                } else {
                    Value::Timestamp(i)
                }
            })
            .ok_or_else(|| format!("`{n}` is not an integer")),
        (FieldType::Float, Some(J::Number(n))) => n
            .as_f64()
            .map(Value::Float)
            .ok_or_else(|| format!("`{n}` is not a number")),
        (FieldType::Boolean, Some(J::Bool(b))) => Ok(Value::Boolean(*b)),
        (FieldType::Money, Some(J::Object(o))) => match (
            o.get("minor").and_then(|m| m.as_i64()),
            o.get("currency").and_then(|c| c.as_str()),
        ) {
            (Some(minor), Some(c)) => {
                parse_money(&format!("0 {c}")).map(|(_, currency)| Value::Money { minor, currency })
            }
            _ => Err(
                "money must be {\"minor\": integer, \"currency\": \"EUR\"} or \"-12.34 EUR\""
                    .into(),
            ),
        },
        (_, Some(J::String(s))) => parse_value(ty, optional, s.trim()),
        (_, Some(other)) => Err(format!("`{other}` is not a {}", ty.name())),
    }
}

/// `-12.34 EUR`, `EUR -12.34` or `-12,34 EUR` to (-1234, "EUR"). At most two decimals.
pub fn parse_money(raw: &str) -> Result<(i64, String), String> {
    let bad = || format!("`{raw}` is not an amount with a currency, like `-12.34 EUR`");
    let parts: Vec<&str> = raw.split_whitespace().collect();
    let (num, cur) = match parts.as_slice() {
        [n, c] if c.len() == 3 && c.chars().all(|x| x.is_ascii_uppercase()) => (*n, *c),
        [c, n] if c.len() == 3 && c.chars().all(|x| x.is_ascii_uppercase()) => (*n, *c),
        _ => return Err(bad()),
    };
    let (neg, digits) = match num.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, num.strip_prefix('+').unwrap_or(num)),
    };
    let (int, frac) = match digits.split_once(['.', ',']) {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if int.is_empty()
        || frac.len() > 2
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let int: i64 = int.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let minor = int
        .checked_mul(100)
        .and_then(|v| v.checked_add(frac))
        .ok_or_else(bad)?;
    Ok((if neg { -minor } else { minor }, cur.to_string()))
}

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

fn civil_from_days(z: i64) -> (i64, i64, i64) {
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
    let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses a date or date-time (see the module doc) to ms since the epoch, UTC.
pub fn parse_time(raw: &str) -> Result<i64, String> {
    let bad =
        || format!("`{raw}` is not a date (YYYY-MM-DD), an RFC 3339 time, or epoch milliseconds");
    if let Ok(ms) = raw.parse::<i64>() {
        return Ok(ms);
    }
    let num = |s: &str| s.parse::<i64>().map_err(|_| bad());
    let b = raw.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let (y, m, d) = (num(&raw[0..4])?, num(&raw[5..7])?, num(&raw[8..10])?);
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if d < 1 || d > days_in_month {
        return Err(bad());
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    let rest = &raw[10..];
    if rest.is_empty() {
        return Ok(ms);
    }
    let rest = rest.strip_prefix(['T', ' ']).ok_or_else(bad)?;
    if rest.len() < 8 || rest.as_bytes()[2] != b':' || rest.as_bytes()[5] != b':' {
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
        ms += num(&format!("{:0<3}", &f[..f.len().min(3)]))?;
        tz = &frac[n..];
    }
    match tz {
        "" | "Z" => Ok(ms),
        _ if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && &tz[3..4] == ":" => {
            let off = (num(&tz[1..3])? * 60 + num(&tz[4..6])?) * 60_000;
            Ok(if tz.starts_with('+') {
                ms - off
            } else {
                ms + off
            })
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact_and_bad_amounts_are_refused() {
        assert_eq!(parse_money("-12.34 EUR"), Ok((-1234, "EUR".into())));
        assert_eq!(parse_money("EUR 0,5"), Ok((50, "EUR".into())));
        assert_eq!(parse_money("7 USD"), Ok((700, "USD".into())));
        assert!(parse_money("1.234 EUR").is_err());
        assert!(parse_money("12.34").is_err());
        assert!(parse_money("abc EUR").is_err());
    }

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
        assert_eq!(format_date(1_709_200_800_000), "2024-02-29");
    }
}
