//! The store's data: people, time ranges, column batches, records to write, installed plugins
//! and publishers, receptions and erasures. What every store backend reads and writes; no I/O.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

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

/// What an erasure removed, counted (the audit log's tombstone holds the same counts). What an
/// erasure covers is [`PersonData::on_erasure`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Erasure {
    /// The person's records, in every collection.
    pub records: u64,
    /// The runs over their data, with their outputs.
    pub runs: u64,
    /// Their grants that were live, now revoked.
    pub grants: u64,
    /// Their accounts, with their tokens.
    pub accounts: u64,
}

/// Each kind of data a store holds about a person, for what erasure does to it
/// ([`PersonData::on_erasure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonData {
    /// The person's entry and their name.
    Person,
    /// Their records, in every collection.
    Records,
    /// The names of the files they imported (the audit log holds only their digests).
    SourceNames,
    /// Runs over their data, with their outputs.
    Runs,
    /// Their accounts, and their names' keys (the names are free again).
    Accounts,
    /// Their accounts' tokens.
    Tokens,
    /// Their membership of campaigns and studies (result, invitation, answer).
    Memberships,
    /// Their peer offers.
    Offers,
    /// Peer contacts they asked or were asked for.
    Contacts,
    /// Their grants.
    Grants,
    /// Access requests made to them.
    Requests,
    /// Their agreements to receive an organisation's data.
    Receptions,
    /// The privacy budget spent and reserved for them.
    Budgets,
    /// Jobs' billing records that pay them.
    Billing,
    /// Ledger entries naming them.
    Ledger,
    /// Audit entries about them.
    Audit,
    /// Their comments, suggestions and votes on proposals.
    Contributions,
    /// Their pledges (money: kept with the ledger).
    Pledges,
}

/// What erasure does to one kind of a person's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased {
    /// Gone from the store.
    Deleted,
    /// Kept, revoked at the erasure's time.
    Revoked,
    /// Kept as it was.
    Kept,
}

impl PersonData {
    /// Every kind, in the order above.
    pub const ALL: [PersonData; 18] = [
        PersonData::Person,
        PersonData::Records,
        PersonData::SourceNames,
        PersonData::Runs,
        PersonData::Accounts,
        PersonData::Tokens,
        PersonData::Memberships,
        PersonData::Offers,
        PersonData::Contacts,
        PersonData::Grants,
        PersonData::Requests,
        PersonData::Receptions,
        PersonData::Budgets,
        PersonData::Billing,
        PersonData::Ledger,
        PersonData::Audit,
        PersonData::Contributions,
        PersonData::Pledges,
    ];

    /// What `RecordStore::erase_person` does to this kind of data, in its one transaction: the
    /// one statement of what an erasure covers, which every backend follows and
    /// `insitu_store::conformance` checks kind by kind.
    ///
    /// What is kept names the person by id only, and is other parties' as much as theirs:
    /// requests are the requester's history of asking; receptions can return nothing once the
    /// person is gone; budgets are the privacy accounting of jobs that ran (a resumed job
    /// charges nobody twice); billing records and ledger entries keep every party's books
    /// balanced; the audit log keeps its chain verifiable, with a tombstone of counts only.
    pub fn on_erasure(self) -> Erased {
        match self {
            PersonData::Person
            | PersonData::Records
            | PersonData::SourceNames
            | PersonData::Runs
            | PersonData::Accounts
            | PersonData::Tokens
            | PersonData::Memberships
            | PersonData::Offers
            | PersonData::Contacts
            | PersonData::Contributions => Erased::Deleted,
            PersonData::Grants => Erased::Revoked,
            PersonData::Requests
            | PersonData::Receptions
            | PersonData::Budgets
            | PersonData::Billing
            | PersonData::Ledger
            | PersonData::Pledges
            | PersonData::Audit => Erased::Kept,
        }
    }
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

impl Source<'_> {
    /// A file's digest, as the audit log names it and the backend keys its name by: the
    /// SHA-256 of the name, in lowercase hex. `None` for returned data.
    pub fn file_digest(&self) -> Option<String> {
        match self {
            Source::File(name) => Some(crate::audit::hex(&sha2::Sha256::digest(name.as_bytes()))),
            Source::ReturnedBy(_) => None,
        }
    }
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
