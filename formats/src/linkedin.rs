//! LinkedIn's data export: `Positions.csv`, `Education.csv` and `Skills.csv`.
//!
//! Columns are found by their header, whatever their order:
//! - Positions: `Company Name`, `Title`, `Description`, `Location`, `Started On`,
//!   `Finished On` → `career.positions`;
//! - Education: `School Name`, `Start Date`, `End Date`, `Notes`, `Degree Name`, `Activities`
//!   → `career.education`;
//! - Skills: `Name` → `career.skills`.
//!
//! Dates are `Mar 2019`, `March 2019`, `2019` or `2019-03-01`, read as the first day of the month
//! (or of the year), midnight UTC. An empty end date means the position is current (`Present`
//! is refused, saying so). A position needs its start; an education with only an end date
//! starts then (LinkedIn leaves the start of many degrees empty). A row with several bad fields
//! is one bad record naming each.

use crate::schema::{CAREER_EDUCATION, CAREER_POSITIONS, CAREER_SKILLS, Value};
use crate::{BadFields, FormatError, Item, Parsed, text, time};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkedInFile {
    Positions,
    Education,
    Skills,
}

/// `Mar 2019`, `March 2019`, `2019` or an ISO date.
pub fn month_date(raw: &str) -> Result<i64, String> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let bad = || {
        let current = if raw.eq_ignore_ascii_case("present") {
            " (an empty end date means a current position)"
        } else {
            ""
        };
        format!(
            "`{raw}` is not a date like `Mar 2019`, `March 2019`, `2019` or `2019-03-01`{current}"
        )
    };
    let parts: Vec<&str> = raw.split_whitespace().collect();
    match parts.as_slice() {
        [y] if y.len() == 4 => time::ymd(y.parse().map_err(|_| bad())?, 1, 1),
        [_] => time::parse_time(raw).map_err(|_| bad()),
        [m, y] => {
            let m = m.to_ascii_lowercase();
            let month = MONTHS
                .iter()
                .position(|p| m.is_char_boundary(3) && m.len() >= 3 && m[..3] == **p)
                .ok_or_else(bad)?;
            time::ymd(y.parse().map_err(|_| bad())?, month as i64 + 1, 1)
        }
        _ => Err(bad()),
    }
}

/// Reads one file of the export.
pub fn parse(kind: LinkedInFile, bytes: &[u8]) -> Result<Parsed, FormatError> {
    let (text, _) = text::decode(bytes, None).map_err(|e| FormatError::new(0, e))?;
    let mut rdr = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| FormatError::new(1, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let (collection, columns): (&str, &[(&str, bool)]) = match kind {
        LinkedInFile::Positions => (
            CAREER_POSITIONS,
            &[
                ("Company Name", true),
                ("Title", true),
                ("Started On", true),
                ("Finished On", false),
                ("Location", false),
                ("Description", false),
            ],
        ),
        LinkedInFile::Education => (
            CAREER_EDUCATION,
            &[
                ("School Name", true),
                ("Degree Name", false),
                ("Start Date", true),
                ("End Date", false),
                ("Notes", false),
                ("Activities", false),
            ],
        ),
        LinkedInFile::Skills => (CAREER_SKILLS, &[("Name", true)]),
    };
    let idx: Vec<Option<usize>> = columns
        .iter()
        .map(
            |(name, required)| match headers.iter().position(|h| h == name) {
                Some(i) => Ok(Some(i)),
                None if *required => Err(FormatError::new(
                    1,
                    format!("not a LinkedIn {kind:?}.csv: no `{name}` column"),
                )),
                None => Ok(None),
            },
        )
        .collect::<Result<_, _>>()?;
    let mut out = Parsed::new(collection);
    let mut lines = text::LineCounter::new(&text, 1);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            FormatError::new(
                lines.at(e.position().map_or(0, |p| p.byte())),
                format!("not valid CSV: {e}"),
            )
        })?;
        let line = lines.at(rec.position().map_or(0, |p| p.byte()));
        let cell = |i: usize| {
            idx[i]
                .and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let text = |i: usize| cell(i).map_or(Value::Null, |s| Value::Text(s.to_string()));
        let date = |i: usize| cell(i).map(month_date).transpose();
        let values = match kind {
            LinkedInFile::Skills => match cell(0) {
                Some(s) => Ok(vec![Value::Text(s.to_string())]),
                None => continue,
            },
            _ => (|| {
                // Every field is read, so that a bad record names each bad one.
                let mut bad = BadFields::default();
                let missing = |i: usize| cell(i).map(Some).ok_or_else(|| "missing value".into());
                let (start_col, end_col) = (columns[2].0, columns[3].0);
                let name = bad.read(columns[0].0, missing(0));
                let (start, end) = (date(2), date(3));
                let dates_ok = start.is_ok() && end.is_ok();
                let (start, end) = (bad.read(start_col, start), bad.read(end_col, end));
                let start = match (kind, start, end) {
                    (_, Some(s), _) => Some(s),
                    (LinkedInFile::Education, None, Some(e)) => Some(e),
                    _ if dates_ok => bad.read(start_col, Err("missing value".into())),
                    _ => None,
                };
                if let (Some(s), Some(e)) = (start, end)
                    && e < s
                {
                    bad.read::<()>(end_col, Err("ends before it starts".into()));
                }
                let second = match kind {
                    LinkedInFile::Positions => bad
                        .read("Title", missing(1))
                        .map_or(Value::Null, |t| Value::Text(t.to_string())),
                    _ => text(1),
                };
                bad.check(line, None)?;
                let (name, start, end) = (
                    Value::Text(name.unwrap_or_default().to_string()),
                    Value::Timestamp(start.unwrap_or_default()),
                    end.map_or(Value::Null, Value::Timestamp),
                );
                Ok(match kind {
                    // company, title, location, started, ended, description
                    LinkedInFile::Positions => vec![name, second, text(4), start, end, text(5)],
                    // school, degree, started, ended, notes, activities
                    _ => vec![name, second, start, end, text(4), text(5)],
                })
            })(),
        };
        match values {
            Ok(values) => out.items.push(Item {
                line,
                key: None,
                values,
            }),
            Err(b) => out.bad.push(b),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_dates() {
        assert_eq!(month_date("Mar 2019"), time::ymd(2019, 3, 1));
        assert_eq!(month_date("September 2012"), time::ymd(2012, 9, 1));
        assert_eq!(month_date("2010"), time::ymd(2010, 1, 1));
        assert!(month_date("Foo 2010").is_err());
        assert!(month_date("é 2010").is_err());
    }
}
