//! Insitu's data model and the parsers of the formats people's data arrives in.
//!
//! This crate does no I/O and knows nothing of the store: each parser turns the bytes of one
//! file into [`Parsed`] records of a standard collection ([`Schema::standard`]), or of the
//! schema a mapping names. The host (`insitu::import`) decides the error policy, derives record
//! ids and writes. Keeping the parsers here lets the fuzz targets (`fuzz/`) build them without
//! the WebAssembly runtime.
//!
//! Rules every parser follows:
//! - Money is exact: integer minor units plus an ISO 4217 currency ([`money`]); never a float.
//! - Time zones ([`time`]): a bank's booking or value date is a calendar day, stored as
//!   midnight UTC of the day the file prints, whatever time or offset it adds. An instant
//!   (a usage event, a receipt's time) honours its offset; without one it is read as UTC.
//! - Text is decoded by [`text::decode`]: a declared charset wins, then a BOM, then UTF-8 when
//!   the bytes are valid UTF-8, else Windows-1252 (a superset of Latin-1's printable range).
//! - A record the parser cannot read becomes a [`BadRecord`] naming its line, element, field
//!   and reason; it is never silently dropped. A file that cannot be read at all is a
//!   [`FormatError`].
//! - Where the format gives one, a record carries a natural key (OFX's `FITID`, CAMT's
//!   `AcctSvcrRef`), so that re-importing an overlapping statement adds only new records.

pub mod bank;
pub mod camt;
pub mod cfonb;
pub mod csv;
pub mod detect;
pub mod json;
pub mod linkedin;
pub mod money;
pub mod note;
pub mod ofx;
pub mod qif;
pub mod schema;
pub mod text;
pub mod time;
pub mod write;
pub mod zip;

use std::fmt;

pub use detect::{Format, Undetected, detect, identify};
pub use note::Note;
pub use schema::{Field, FieldType, Record, Schema, SchemaError, Value};

/// One record read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// 1-based line where the record starts (0 when the format has no lines).
    pub line: u64,
    /// A stable natural key from the file, when the format gives one.
    pub key: Option<String>,
    /// One value per field of the collection's schema, in schema order.
    pub values: Record,
}

/// A record that could not be read: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub line: u64,
    /// The element or record kind, for formats with nesting (`Ntry 3`, `STMTTRN`).
    pub element: Option<String>,
    /// The bad field; several, joined by `, `, when the record has more than one (see
    /// [`BadRecord::fields`]).
    pub field: String,
    /// What is wrong; with several fields, `field `X`: why` for each, joined by `; `.
    pub reason: String,
}

impl BadRecord {
    /// One bad record naming every bad field of it, each with its reason, so that the person
    /// fixes the record in one go. `None` when `bad` is empty.
    pub fn fields(
        line: u64,
        element: Option<String>,
        bad: Vec<(String, String)>,
    ) -> Option<BadRecord> {
        let (field, reason) = match bad.as_slice() {
            [] => return None,
            [(field, reason)] => (field.clone(), reason.clone()),
            many => {
                let names: Vec<&str> = many.iter().map(|(f, _)| f.as_str()).collect();
                let reasons: Vec<String> = many
                    .iter()
                    .map(|(f, r)| format!("field `{f}`: {r}"))
                    .collect();
                (names.join(", "), reasons.join("; "))
            }
        };
        Some(BadRecord {
            line,
            element,
            field,
            reason,
        })
    }

    /// Whether the record names several bad fields.
    fn several(&self) -> bool {
        self.field.contains(", ")
    }
}

/// The bad fields of one record, gathered while every field is read, so that its
/// [`BadRecord`] names each of them.
#[derive(Debug, Default)]
pub struct BadFields(Vec<(String, String)>);

impl BadFields {
    /// The value `read` gave, or, noting the field and why, the type's default (which
    /// [`BadFields::check`] then keeps from being used).
    pub fn read<T: Default>(&mut self, field: &str, read: Result<T, String>) -> T {
        read.unwrap_or_else(|reason| {
            self.0.push((field.to_string(), reason));
            T::default()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when every field was read, else the bad record naming each bad one.
    pub fn check(self, line: u64, element: Option<String>) -> Result<(), BadRecord> {
        BadRecord::fields(line, element, self.0).map_or(Ok(()), Err)
    }
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.line)?;
        if let Some(e) = &self.element {
            write!(f, " ({e})")?;
        }
        if self.several() {
            // The reason names each field.
            write!(f, ": {}", self.reason)
        } else {
            write!(f, ": field `{}`: {}", self.field, self.reason)
        }
    }
}

/// A file that cannot be read as its format at all (malformed XML, no account, no currency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// 1-based; 0 when the error is not at a line (a missing option).
    pub line: u64,
    pub reason: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for FormatError {}

impl FormatError {
    pub fn new(line: u64, reason: impl Into<String>) -> Self {
        FormatError {
            line,
            reason: reason.into(),
        }
    }
}

/// The records of one collection read from a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub collection: String,
    pub items: Vec<Item>,
    pub bad: Vec<BadRecord>,
    /// Things the person should know that are not errors (pending entries left out, say).
    pub notes: Vec<Note>,
}

impl Parsed {
    pub fn new(collection: &str) -> Self {
        Parsed {
            collection: collection.to_string(),
            ..Default::default()
        }
    }

    /// Adds the record read at `line`, or a bad record naming each bad field and its reason
    /// ([`BadRecord::fields`]).
    pub fn push(&mut self, line: u64, values: Result<Record, Vec<(String, String)>>) {
        match values {
            Ok(values) => self.items.push(Item {
                line,
                key: None,
                values,
            }),
            Err(bad) => self.bad.extend(BadRecord::fields(line, None, bad)),
        }
    }
}

/// The order of day, month and year in dates that do not say it (QIF's `01/02/03`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// `dmy`: `31/12/2024`.
    DayFirst,
    /// `mdy`: `12/31/2024`, `12/31'24`.
    MonthFirst,
    /// `ymd`: `24/12/31` (a four-digit first part is read year first in any order).
    YearFirst,
}

impl DateOrder {
    /// The names `--date-order` takes, in the order of the variants.
    pub const NAMES: [&str; 3] = ["dmy", "mdy", "ymd"];

    pub fn from_name(name: &str) -> Result<DateOrder, String> {
        match name {
            "dmy" => Ok(DateOrder::DayFirst),
            "mdy" => Ok(DateOrder::MonthFirst),
            "ymd" => Ok(DateOrder::YearFirst),
            other => Err(format!(
                "the date order is `dmy`, `mdy` or `ymd`, not `{other}`"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// The earliest date a reader accepts without [`Options::any_date`]: 1900-01-01.
pub const EARLIEST_DATE: i64 = -2_208_988_800_000;

/// What a parser may need beyond the bytes.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Currency for formats that carry none (QIF).
    pub currency: Option<String>,
    /// Account name for formats that carry none (QIF without `!Account`).
    pub account: Option<String>,
    /// Day order for ambiguous dates; detected from the file when absent.
    pub date_order: Option<DateOrder>,
    /// The import date (ms since the epoch, UTC), given by the caller since this crate reads no
    /// clock: a date more than a year after it is refused (see [`Options::check_date`]). `None`
    /// (the default): no upper bound.
    pub today: Option<i64>,
    /// Accept any date, however far in the past or the future (`--any-date`). Default `false`:
    /// dates before 1900 or more than a year after [`Options::today`] are bad records, as they
    /// are almost always a misread day order or year.
    pub any_date: bool,
    /// Target schema of the generic CSV and JSON Lines readers.
    pub schema: Option<Schema>,
    /// Mapping file of the generic CSV reader.
    pub mapping: Option<csv::Mapping>,
    /// What to do with a statement whose balances do not add up (CAMT, CFONB 120).
    pub unbalanced: Unbalanced,
}

/// What to do with a statement whose opening balance plus its movements is not its closing
/// balance, or whose balances are in another currency than its movements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unbalanced {
    /// Refuse the file: an entry was lost or invented (the default).
    #[default]
    Refuse,
    /// Import the movements, note the difference, and leave that statement's running
    /// balances empty, since they cannot be known (`--unbalanced=import`).
    Import,
}

impl Unbalanced {
    /// `refuse` or `import`, as the command line and the API spell it.
    pub fn from_name(name: &str) -> Result<Self, String> {
        match name {
            "refuse" => Ok(Unbalanced::Refuse),
            "import" => Ok(Unbalanced::Import),
            other => Err(format!(
                "--unbalanced is `refuse` or `import`, not `{other}`"
            )),
        }
    }
}

impl Options {
    /// `ms` if it is a plausible date: from 1900-01-01 ([`EARLIEST_DATE`]) to the same day a
    /// year after [`Options::today`], else why not (`raw` as written). Always `Ok` with
    /// [`Options::any_date`].
    pub fn check_date(&self, raw: &str, ms: i64) -> Result<i64, String> {
        if self.any_date {
            return Ok(ms);
        }
        let why = if ms < EARLIEST_DATE {
            "before 1900"
        } else if !plausible_date(ms, self.today) {
            "more than a year after the import date"
        } else {
            return Ok(ms);
        };
        Err(format!(
            "`{raw}` reads as {}, {why}; check the date order (--date-order), or pass \
             --any-date to accept it",
            time::format_date(ms)
        ))
    }
}

/// Whether `ms` is from 1900-01-01 to the same day a year after `today` (when known): the
/// range [`Options::check_date`] accepts, and what readers that detect a date order count as
/// a reading of a date.
pub fn plausible_date(ms: i64, today: Option<i64>) -> bool {
    ms >= EARLIEST_DATE && today.is_none_or(|t| ms <= year_after(t))
}

/// The same calendar day a year after `ms` (1 March after 29 February).
fn year_after(ms: i64) -> i64 {
    let (y, m, d) = time::civil_from_days(ms.div_euclid(time::DAY_MS));
    time::days_from_civil(y + 1, m, d) * time::DAY_MS
}

/// Parses `bytes` as `format`.
pub fn parse(format: Format, bytes: &[u8], opts: &Options) -> Result<Parsed, FormatError> {
    match format {
        Format::Ofx => ofx::parse(bytes, opts),
        Format::Camt052 => camt::parse_kind(camt::Kind::Report, bytes, opts),
        Format::Camt053 => camt::parse(bytes, opts),
        Format::Camt054 => camt::parse_kind(camt::Kind::Notification, bytes, opts),
        Format::Qif => qif::parse(bytes, opts),
        Format::Cfonb120 => cfonb::parse(bytes, opts),
        Format::Csv => csv::parse(bytes, opts),
        Format::JsonLines => json::parse_lines(bytes, opts),
        Format::Receipts => json::parse_receipts(bytes, opts),
        Format::UsageEvents => json::parse_usage(bytes, opts),
        Format::LinkedIn(kind) => linkedin::parse(kind, bytes),
    }
}
