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
pub mod ofx;
pub mod qif;
pub mod schema;
pub mod text;
pub mod time;
pub mod write;

use std::fmt;

pub use detect::{Format, detect};
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
    pub field: String,
    pub reason: String,
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.line)?;
        if let Some(e) = &self.element {
            write!(f, " ({e})")?;
        }
        write!(f, ": field `{}`: {}", self.field, self.reason)
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
    pub notes: Vec<String>,
}

impl Parsed {
    pub fn new(collection: &str) -> Self {
        Parsed {
            collection: collection.to_string(),
            ..Default::default()
        }
    }

    /// Adds the record read at `line`, or a bad record naming the field and the reason.
    pub fn push(&mut self, line: u64, values: Result<Record, (String, String)>) {
        match values {
            Ok(values) => self.items.push(Item {
                line,
                key: None,
                values,
            }),
            Err((field, reason)) => self.bad.push(BadRecord {
                line,
                element: None,
                field,
                reason,
            }),
        }
    }
}

/// Day order for formats whose dates do not say it (QIF, mapped CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    DayFirst,
    MonthFirst,
}

/// What a parser may need beyond the bytes.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Currency for formats that carry none (QIF).
    pub currency: Option<String>,
    /// Account name for formats that carry none (QIF without `!Account`).
    pub account: Option<String>,
    /// Day order for ambiguous dates; detected from the file when absent.
    pub date_order: Option<DateOrder>,
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

/// Parses `bytes` as `format`.
pub fn parse(format: Format, bytes: &[u8], opts: &Options) -> Result<Parsed, FormatError> {
    match format {
        Format::Ofx => ofx::parse(bytes, opts),
        Format::Camt053 => camt::parse(bytes, opts),
        Format::Qif => qif::parse(bytes, opts),
        Format::Cfonb120 => cfonb::parse(bytes, opts),
        Format::Csv => csv::parse(bytes, opts),
        Format::JsonLines => json::parse_lines(bytes, opts),
        Format::Receipts => json::parse_receipts(bytes, opts),
        Format::UsageEvents => json::parse_usage(bytes, opts),
        Format::LinkedIn(kind) => linkedin::parse(kind, bytes),
    }
}
