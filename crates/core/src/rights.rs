//! A person's rights over their store: export everything as one archive in open formats, and
//! re-import it into another Insitu instance. (Erasure is [`Store::erase_person`].)
//!
//! The archive is an uncompressed tar (GNU format, see `rights/archive.rs`) holding:
//! - `manifest.json` first: the format (`insitu-export-1`), the time, and each collection's
//!   schema;
//! - `collections/<name>.jsonl` and `collections/<name>.csv`: every record, once as JSON Lines
//!   (money as `{"minor", "currency"}`, times as RFC 3339) and once as CSV (money as
//!   `-12.34 EUR`);
//! - `grants.jsonl`, `requests.jsonl`, `runs.jsonl` (outputs addressed to the person only) and
//!   `audit.jsonl` (the entries about the person).
//!
//! Restore ([`import_archive`]) is all or nothing: it checks the whole archive (entries,
//! manifest, schemas against the store's, every line of every collection) before it writes
//! anything, then writes every collection in one store transaction. Records are keyed like any
//! JSON Lines import, so restoring twice adds nothing. Grants, runs and the audit are the old
//! instance's history, kept in the archive but not replayed.

mod archive;

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::import::{self, ImportError, ImportReport, RecordError};
use crate::package::Audience;
use crate::store::{NewRecords, PersonId, Schema, Source, Store, StoreError, TimeRange, Value};
use insitu_formats::time::format_instant;

pub const FORMAT: &str = "insitu-export-1";

#[derive(Debug, Serialize, Deserialize)]
pub struct ArchiveManifest {
    pub format: String,
    pub person: PersonId,
    pub exported_ms: i64,
    pub collections: Vec<Schema>,
}

/// Why an archive was not restored. Whatever the error, nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("not an Insitu export: {0}")]
    Malformed(String),
    /// An entry a well-formed export never holds (see `rights/archive.rs`): the archive is
    /// refused whole, before anything is written.
    #[error("not an Insitu export: entry {name:?} {reason}; nothing was restored")]
    Entry { name: String, reason: String },
    #[error(
        "manifest.json: collection `{0}` exists in this store with another schema, and schemas \
         cannot change; nothing was restored"
    )]
    SchemaConflict(String),
    #[error(
        "{first}{more}\nnothing was restored; the archive is damaged",
        more = if *count > 1 { format!("\n(and {} more bad records)", count - 1) } else { String::new() }
    )]
    Record { first: RecordError, count: usize },
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

fn json_value(v: &Value) -> serde_json::Value {
    use serde_json::json;
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Text(s) => json!(s),
        Value::Integer(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::Boolean(b) => json!(b),
        Value::Money { minor, currency } => json!({"minor": minor, "currency": currency}),
        Value::Timestamp(t) => json!(format_instant(*t)),
    }
}

fn csv_value(v: &Value) -> String {
    v.to_text()
}

fn jsonl<T: Serialize>(items: impl IntoIterator<Item = T>) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        if let Ok(line) = serde_json::to_string(&item) {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The archive could not be written: a name tar cannot hold (a bug, not an input).
    #[error("cannot write the export: {0}")]
    Archive(String),
}

/// Everything of `person`'s, as a tar archive.
pub fn export(store: &dyn Store, person: PersonId, now_ms: i64) -> Result<Vec<u8>, ExportError> {
    store.person(person)?;
    let mut collections = Vec::new();
    for schema in store.collections()? {
        if store.count(person, &schema.name)? > 0 {
            collections.push(schema);
        }
    }
    let mut out = archive::Writer::new(now_ms / 1000);
    // Writing to memory fails only on a name tar cannot hold, and collection names are
    // `[a-z0-9_.]+`: this is a bug, not an input, if it ever happens.
    let mut file = |name: &str, data: &[u8]| {
        out.file(name, data)
            .map_err(|e| ExportError::Archive(format!("{name}: {e}")))
    };
    let manifest = ArchiveManifest {
        format: FORMAT.into(),
        person,
        exported_ms: now_ms,
        collections,
    };
    // The manifest first, so that a reader meets the format before anything else.
    file(
        "manifest.json",
        &serde_json::to_vec_pretty(&manifest).unwrap_or_default(),
    )?;
    for schema in &manifest.collections {
        let fields: Vec<String> = schema.fields.iter().map(|f| f.name.clone()).collect();
        let mut cursor = store.scan(person, &schema.name, TimeRange::ALL, &fields)?;
        let mut lines = Vec::new();
        let mut csv = ::csv::Writer::from_writer(Vec::new());
        let _ = csv.write_record(&fields);
        while let Some((batch, _)) = cursor.next_batch(4096)? {
            for i in 0..batch.len() {
                let values: Vec<Value> = batch.columns.iter().map(|c| c.value(i)).collect();
                let obj: serde_json::Map<String, serde_json::Value> = fields
                    .iter()
                    .cloned()
                    .zip(values.iter().map(json_value))
                    .collect();
                let mut line = serde_json::to_string(&obj).unwrap_or_default();
                line.push('\n');
                lines.extend_from_slice(line.as_bytes());
                let _ = csv.write_record(values.iter().map(csv_value));
            }
        }
        file(&format!("collections/{}.jsonl", schema.name), &lines)?;
        let csv = csv.into_inner().unwrap_or_default();
        file(&format!("collections/{}.csv", schema.name), &csv)?;
    }
    let grants = store.grants(Some(person))?;
    let requests = store.requests(Some(person))?;
    let runs: Vec<_> = store
        .runs(Some(person))?
        .into_iter()
        .map(|mut r| {
            if r.audience != Some(Audience::Person) {
                r.output = None;
            }
            r
        })
        .collect();
    let audit = insitu_store::verify::person_trail(store, person)?;
    file("grants.jsonl", &jsonl(&grants))?;
    file("requests.jsonl", &jsonl(&requests))?;
    file("runs.jsonl", &jsonl(&runs))?;
    file("audit.jsonl", &jsonl(&audit))?;
    out.finish()
        .map_err(|e| ExportError::Archive(e.to_string()))
}

/// Restores an archive's collections into `person`'s store, all or nothing.
///
/// Everything is checked before anything is written: the archive's entries (a hostile
/// one refuses it whole), the manifest, every schema (valid, listed once, the same as this store's if it has one),
/// and every line of every collection's JSON Lines file, parsed against the archive's schema.
/// Then one store transaction ([`Store::write_collections`]) defines the missing collections
/// and writes every record; an error at any point leaves the store as it was. Records already
/// present count as duplicates, so a second restore adds nothing.
pub fn import_archive(
    store: &dyn Store,
    person: PersonId,
    bytes: &[u8],
) -> Result<Vec<ImportReport>, ArchiveError> {
    store.person(person)?;
    let files = archive::read(bytes)?;
    let find = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, data)| data.as_slice())
            .ok_or_else(|| ArchiveError::Malformed(format!("{name} is missing")))
    };
    let manifest: ArchiveManifest = serde_json::from_slice(find("manifest.json")?)
        .map_err(|e| ArchiveError::Malformed(format!("manifest.json: {e}")))?;
    if manifest.format != FORMAT {
        return Err(ArchiveError::Malformed(format!(
            "format `{}`, expected `{FORMAT}`",
            manifest.format
        )));
    }
    let mut keyed: Vec<(String, import::Keyed)> = Vec::new();
    for schema in &manifest.collections {
        schema
            .validate()
            .map_err(|e| ArchiveError::Malformed(format!("manifest.json: {e}")))?;
        if keyed.iter().any(|(_, k)| k.collection == schema.name) {
            return Err(ArchiveError::Malformed(format!(
                "manifest.json lists collection `{}` twice",
                schema.name
            )));
        }
        match store.collection(&schema.name) {
            Ok(stored) if stored != *schema => {
                return Err(ArchiveError::SchemaConflict(schema.name.clone()));
            }
            Ok(_) | Err(StoreError::NoCollection(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let file = format!("collections/{}.jsonl", schema.name);
        let k = import::key_jsonl(&file, find(&file)?, schema, store.now_ms())?;
        if let Some(first) = k.bad.first() {
            return Err(ArchiveError::Record {
                first: first.clone(),
                count: k.bad.len(),
            });
        }
        // The audit names the file as an import of it would: by its name, not its path.
        keyed.push((format!("{}.jsonl", schema.name), k));
    }
    let writes: Vec<NewRecords> = keyed
        .iter()
        .map(|(source, k)| NewRecords {
            collection: &k.collection,
            records: &k.records,
            source: Source::File(source),
        })
        .collect();
    let outcomes = store.write_collections(person, &manifest.collections, &writes)?;
    Ok(keyed
        .into_iter()
        .zip(outcomes)
        .map(|((_, k), out)| ImportReport {
            format: import::Format::JsonLines,
            collection: k.collection,
            read: k.records.len() as u64,
            added: out.added,
            duplicates: out.duplicates,
            // An archive's records are keyed by content: a duplicate is the same record, and
            // there are no natural keys to clash.
            duplicate_lines: Vec::new(),
            clashes: 0,
            skipped: Vec::new(),
            notes: k.notes,
            clash_notes: Vec::new(),
        })
        .collect())
}

/// A one-line summary of an import of an archive.
pub fn summary(reports: &[ImportReport]) -> String {
    let mut s = String::new();
    for r in reports {
        let _ = write!(
            s,
            "{}: {} added, {} already there; ",
            r.collection, r.added, r.duplicates
        );
    }
    s.trim_end_matches("; ").to_string()
}
