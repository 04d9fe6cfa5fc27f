//! CSV into any collection: either the header names the schema's fields, or a mapping file
//! says which column feeds which field and how to read it.
//!
//! A mapping file is JSON:
//!
//! ```json
//! {
//!   "collection": "bank.transactions",
//!   "delimiter": ";",
//!   "encoding": "windows-1252",
//!   "skip_lines": 2,
//!   "skip_footer": 1,
//!   "date_format": "%d/%m/%Y",
//!   "decimal": ",",
//!   "currency": "EUR",
//!   "key": "Référence",
//!   "fields": {
//!     "account": { "value": "FR76 3000 4000 0100 0123 4567 890" },
//!     "booked": "Date opération",
//!     "value_date": { "column": "Date valeur", "date_format": "%d/%m/%y" },
//!     "amount": { "debit": "Débit", "credit": "Crédit" },
//!     "label": "Libellé"
//!   }
//! }
//! ```
//!
//! - `fields` maps a schema field to a column name, a `{"column"}` with its own date format,
//!   a constant `{"value"}`, or, for money, a pair of `{"debit", "credit"}` columns (the debit is
//!   negative whatever sign the bank writes).
//! - `skip_lines` lines (a bank's title, the account holder) come before the header;
//!   `skip_footer` rows (a totals line, a closing balance) after the records are left out, with
//!   a note. Blank rows are not counted.
//! - `key` names a column holding a natural key (the bank's transaction id), if any.
//! - Without `encoding`, text follows [`crate::text::decode`]; without `delimiter`, the
//!   header's most frequent of `,` `;` tab is used; `decimal` defaults to `.`.
//! - Money columns may carry their currency (`12,50 EUR`); else `currency` applies.
//! - A required field with no column, or a column missing from the header, refuses the file.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::schema::{FieldType, Schema, Value, parse_value};
use crate::{BadFields, FormatError, Item, Note, Options, Parsed, money, text, time};

/// How a CSV's columns feed a collection's fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The target collection; the `--collection` option when absent.
    pub collection: Option<String>,
    pub delimiter: Option<char>,
    pub encoding: Option<String>,
    #[serde(default)]
    pub skip_lines: usize,
    /// Rows after the records (a bank's totals line, a closing balance) left out; default 0.
    #[serde(default)]
    pub skip_footer: usize,
    pub date_format: Option<String>,
    pub decimal: Option<char>,
    pub currency: Option<String>,
    pub key: Option<String>,
    pub fields: BTreeMap<String, Source>,
}

/// Where one field's value comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Source {
    Column(String),
    Value {
        value: String,
    },
    Split {
        debit: String,
        credit: String,
    },
    Detailed {
        column: String,
        date_format: Option<String>,
    },
}

impl Mapping {
    /// Reads a mapping file's JSON, with a message that names what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Mapping, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("bad mapping file: {e}"))
    }
}

/// A field's resolved source: column indexes into the record.
enum Col {
    Missing,
    At(usize, Option<String>),
    Constant(String),
    Split(usize, usize),
}

/// Reads a CSV into `opts.schema`, through `opts.mapping` when given.
pub fn parse(bytes: &[u8], opts: &Options) -> Result<Parsed, FormatError> {
    let schema = opts
        .schema
        .as_ref()
        .ok_or_else(|| FormatError::new(0, "a CSV file needs a collection: pass --collection"))?;
    let empty = Mapping {
        collection: None,
        delimiter: None,
        encoding: None,
        skip_lines: 0,
        skip_footer: 0,
        date_format: None,
        decimal: None,
        currency: None,
        key: None,
        fields: BTreeMap::new(),
    };
    let mapping = opts.mapping.as_ref().unwrap_or(&empty);
    let (text, _) =
        text::decode(bytes, mapping.encoding.as_deref()).map_err(|e| FormatError::new(0, e))?;
    let mut body: &str = &text;
    for _ in 0..mapping.skip_lines {
        body = body.split_once('\n').map_or("", |(_, rest)| rest);
    }
    let first_line = mapping.skip_lines as u64 + 1;
    let header = body.lines().next().unwrap_or("");
    let delimiter = mapping.delimiter.unwrap_or_else(|| {
        [',', ';', '\t']
            .into_iter()
            .max_by_key(|d| header.matches(*d).count())
            .unwrap_or(',')
    });
    if !delimiter.is_ascii() {
        return Err(FormatError::new(
            0,
            "the delimiter must be an ASCII character",
        ));
    }
    let mut rdr = ::csv::ReaderBuilder::new()
        .delimiter(delimiter as u8)
        .flexible(true)
        .from_reader(body.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| FormatError::new(first_line, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            FormatError::new(
                first_line,
                format!(
                    "no column `{name}` in the header; the columns are: {}",
                    headers.join(", ")
                ),
            )
        })
    };
    for f in mapping.fields.keys() {
        if schema.field(f).is_none() {
            return Err(FormatError::new(
                0,
                format!(
                    "the mapping names field `{f}`, which `{}` does not have",
                    schema.name
                ),
            ));
        }
    }
    let mut cols = Vec::with_capacity(schema.fields.len());
    for f in &schema.fields {
        let col = match mapping.fields.get(&f.name) {
            Some(Source::Column(c)) => Col::At(column(c)?, None),
            Some(Source::Detailed {
                column: c,
                date_format,
            }) => Col::At(column(c)?, date_format.clone()),
            Some(Source::Value { value }) => Col::Constant(value.clone()),
            Some(Source::Split { debit, credit }) if f.ty == FieldType::Money => {
                Col::Split(column(debit)?, column(credit)?)
            }
            Some(Source::Split { .. }) => {
                return Err(FormatError::new(
                    0,
                    format!(
                        "field `{}` is not money: it cannot take debit and credit",
                        f.name
                    ),
                ));
            }
            None if opts.mapping.is_none() => match headers.iter().position(|h| *h == f.name) {
                Some(i) => Col::At(i, None),
                None => Col::Missing,
            },
            None => Col::Missing,
        };
        if matches!(col, Col::Missing) && !f.optional && opts.mapping.is_some() {
            return Err(FormatError::new(
                0,
                format!(
                    "the mapping gives no column for required field `{}`",
                    f.name
                ),
            ));
        }
        cols.push(col);
    }
    let key_col = mapping.key.as_deref().map(column).transpose()?;
    let reader = Reader {
        mapping,
        decimal: mapping.decimal.unwrap_or('.'),
        mapped: opts.mapping.is_some(),
    };
    let mut out = Parsed::new(&schema.name);
    let mut lines = text::LineCounter::new(body, first_line);
    let mut record = ::csv::StringRecord::new();
    // The last `skip_footer` rows read, held back until a later row shows they are records.
    let mut held = std::collections::VecDeque::with_capacity(mapping.skip_footer + 1);
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = lines.at(e.position().map_or(0, |p| p.byte()));
                return Err(FormatError::new(line, format!("not valid CSV: {e}")));
            }
        }
        let line = lines.at(record.position().map_or(0, |p| p.byte()));
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        held.push_back((line, record.clone()));
        if held.len() > mapping.skip_footer
            && let Some((line, record)) = held.pop_front()
        {
            row(&mut out, line, &record, schema, &cols, &reader, key_col);
        }
    }
    if let (Some((first, _)), Some((last, _))) = (held.front(), held.back()) {
        out.notes.push(Note::Footer {
            first: *first,
            last: *last,
            rows: held.len(),
        });
    }
    Ok(out)
}

/// Reads one row into `out`: a record, or a bad record naming each bad field.
fn row(
    out: &mut Parsed,
    line: u64,
    record: &::csv::StringRecord,
    schema: &Schema,
    cols: &[Col],
    reader: &Reader,
    key_col: Option<usize>,
) {
    let mut values = Vec::with_capacity(cols.len());
    let mut bad = BadFields::default();
    for (f, col) in schema.fields.iter().zip(cols) {
        let cell = |i: usize| record.get(i).map_or("", str::trim);
        let v = match col {
            Col::Missing => parse_value(f.ty, f.optional, ""),
            Col::Constant(v) => reader.value(f.ty, f.optional, v, None),
            Col::At(i, fmt) => reader.value(f.ty, f.optional, cell(*i), fmt.as_deref()),
            Col::Split(d, c) => reader.split(f.optional, cell(*d), cell(*c)),
        };
        values.push(bad.read(&f.name, v.map(Some)).unwrap_or(Value::Null));
    }
    match bad.check(line, None) {
        Err(b) => out.bad.push(b),
        Ok(()) => out.items.push(Item {
            line,
            key: key_col.map(|i| record.get(i).unwrap_or("").trim().to_string()),
            values,
        }),
    }
}

struct Reader<'a> {
    mapping: &'a Mapping,
    decimal: char,
    mapped: bool,
}

impl Reader<'_> {
    fn value(
        &self,
        ty: FieldType,
        optional: bool,
        raw: &str,
        date_format: Option<&str>,
    ) -> Result<Value, String> {
        if !self.mapped || raw.is_empty() {
            return parse_value(ty, optional, raw);
        }
        match ty {
            FieldType::Timestamp => match date_format.or(self.mapping.date_format.as_deref()) {
                Some(p) => time::pattern_date(raw, p).map(Value::Timestamp),
                None => time::parse_time(raw).map(Value::Timestamp),
            },
            FieldType::Money => {
                let (minor, currency) = self.money(raw)?;
                Ok(Value::Money { minor, currency })
            }
            FieldType::Float if self.decimal == ',' => {
                parse_value(ty, optional, &raw.replace(',', "."))
            }
            _ => parse_value(ty, optional, raw),
        }
    }

    /// An amount, with its currency written after it or the mapping's.
    fn money(&self, raw: &str) -> Result<(i64, String), String> {
        let (num, cur) = match raw.rsplit_once(' ') {
            Some((n, c)) if money::currency(c).is_ok() => (n, c.to_string()),
            _ => match &self.mapping.currency {
                Some(c) => (raw, money::currency(c)?),
                None => {
                    return Err(format!(
                        "`{raw}` has no currency and the mapping gives none (\"currency\": \"EUR\")"
                    ));
                }
            },
        };
        let minor = money::parse_decimal(num, money::exponent(&cur), self.decimal)?;
        Ok((minor, cur))
    }

    /// A debit column and a credit column: one of them holds the amount.
    fn split(&self, optional: bool, debit: &str, credit: &str) -> Result<Value, String> {
        let (minor, currency) = match (debit.is_empty(), credit.is_empty()) {
            (false, true) => self.money(debit).map(|(m, c)| (-m.abs(), c))?,
            (true, false) => self.money(credit)?,
            (true, true) if optional => return Ok(Value::Null),
            (true, true) => {
                return Err("neither the debit nor the credit column has an amount".into());
            }
            (false, false) => {
                return Err(format!(
                    "both debit `{debit}` and credit `{credit}` hold an amount"
                ));
            }
        };
        Ok(Value::Money { minor, currency })
    }
}
