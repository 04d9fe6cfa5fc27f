//! The store's data: people, time ranges, column batches, records to write, installed plugins
//! and publishers, receptions and erasures. What every store backend reads and writes; no I/O.

use serde::{Deserialize, Serialize};

pub use insitu_formats::schema::{Field, FieldType, Record, Schema, Value};

/// Identifies a person in the store.
pub type PersonId = u64;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
}

/// An installed plugin, named by the SHA-256 digest of its component bytes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PluginRecord {
    pub digest: String,
    pub name: String,
    pub size: u64,
    pub installed_at_ms: i64,
    /// The interfaces the component imports, as checked at install.
    pub imports: Vec<String>,
    /// The manifest packed with the component (what the person is asked to approve).
    #[serde(default)]
    pub manifest: Option<crate::manifest::Manifest>,
    /// The publisher whose signature was verified at install; `None` in development mode.
    #[serde(default)]
    pub publisher: Option<String>,
    /// Installed unsigned, in the explicit development mode.
    #[serde(default)]
    pub development: bool,
}

/// A publisher whose signing key the operator trusts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Publisher {
    pub name: String,
    /// Hex of the ed25519 verifying key.
    pub key: String,
    pub trusted_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// A half-open time range `[since, until)` in ms since the epoch; `None` is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        since: None,
        until: None,
    };

    /// The intersection of two ranges.
    pub fn intersect(self, other: TimeRange) -> TimeRange {
        TimeRange {
            since: match (self.since, other.since) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            until: match (self.until, other.until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    pub fn contains(&self, t: i64) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

/// Text values of a batch, concatenated, with the end offset of each (Arrow's layout).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextColumn {
    pub data: String,
    pub ends: Vec<u32>,
}

impl TextColumn {
    pub fn with_capacity(n: usize) -> Self {
        TextColumn {
            data: String::with_capacity(n * 16),
            ends: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, s: &str) {
        self.data.push_str(s);
        self.ends.push(self.data.len() as u32);
    }

    /// Value `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.data[start..self.ends[i] as usize]
    }
}

/// Money values of a batch: minor units, and an index into the batch's distinct currencies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MoneyColumn {
    pub minor: Vec<i64>,
    pub currencies: Vec<String>,
    pub currency: Vec<u16>,
}

impl MoneyColumn {
    pub fn push(&mut self, minor: i64, currency: &str) {
        let idx = match self.currencies.iter().position(|c| c == currency) {
            Some(i) => i,
            None => {
                self.currencies.push(currency.to_string());
                self.currencies.len() - 1
            }
        };
        self.minor.push(minor);
        self.currency.push(idx as u16);
    }

    /// Minor units and currency of value `i`.
    pub fn get(&self, i: usize) -> (i64, &str) {
        let code = self.currencies.get(self.currency[i] as usize);
        (self.minor[i], code.map(String::as_str).unwrap_or(""))
    }
}

/// One field's values across a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    Text(TextColumn),
    Integer(Vec<i64>),
    Float(Vec<f64>),
    Money(MoneyColumn),
    Timestamp(Vec<i64>),
    Boolean(Vec<bool>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnData {
    pub name: String,
    pub values: ColumnValues,
    /// Present for optional fields: `false` where the record has no value.
    pub valid: Option<Vec<bool>>,
}

impl ColumnData {
    /// The value at row `i` (`Value::Null` where absent).
    pub fn value(&self, i: usize) -> Value {
        if let Some(v) = &self.valid
            && !v[i]
        {
            return Value::Null;
        }
        match &self.values {
            ColumnValues::Text(v) => Value::Text(v.get(i).to_string()),
            ColumnValues::Integer(v) => Value::Integer(v[i]),
            ColumnValues::Float(v) => Value::Float(v[i]),
            ColumnValues::Money(m) => {
                let (minor, currency) = m.get(i);
                Value::Money {
                    minor,
                    currency: currency.to_string(),
                }
            }
            ColumnValues::Timestamp(v) => Value::Timestamp(v[i]),
            ColumnValues::Boolean(v) => Value::Boolean(v[i]),
        }
    }
}

/// Records in columnar form, in time order: what a scan yields and what a plugin receives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnBatch {
    pub ids: Vec<u64>,
    pub times: Vec<i64>,
    pub columns: Vec<ColumnData>,
}

impl ColumnBatch {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// What a batch write did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOutcome {
    pub added: u64,
    /// Records already present (same key), left as they were: re-imports add nothing.
    pub duplicates: u64,
    /// The index in the batch of each duplicate, in order.
    #[serde(default)]
    pub taken: Vec<u32>,
    /// The index of each duplicate whose stored values are not the ones given (a subset of
    /// `taken`): the importer decides whether that is the same record or a clash.
    #[serde(default)]
    pub changed: Vec<u32>,
}

/// A person's agreement to receive data an organisation holds about them into one collection
/// (restitution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reception {
    pub id: u64,
    pub person: PersonId,
    pub organisation: String,
    pub collection: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// What an erasure removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Erasure {
    pub records: u64,
    pub runs: u64,
    pub grants: u64,
    pub accounts: u64,
}

/// Where written records come from, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// A file the person imported, by name. Names can be personal: the audit entry holds the
    /// name's SHA-256 and the name is kept beside the chain ([`Store::source_name`]).
    File(&'a str),
    /// Data an organisation returned into the person's store (restitution), by its name.
    ReturnedBy(&'a str),
}

/// One collection's records for [`Store::write_collections`].
#[derive(Debug, Clone, Copy)]
pub struct NewRecords<'a> {
    pub collection: &'a str,
    pub records: &'a [KeyedRecord],
    pub source: Source<'a>,
}

/// A record ready to write: its stable id and time are computed by the importer.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedRecord {
    pub id: u64,
    pub time: i64,
    pub values: Record,
}
