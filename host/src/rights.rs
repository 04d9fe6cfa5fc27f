//! A person's rights over their store: export everything as one archive in open formats, and
//! re-import it into another Insitu instance. (Erasure is [`Store::erase_person`].)
//!
//! The archive is an uncompressed POSIX tar (ustar) holding:
//! - `manifest.json`: the format (`insitu-export-1`), the time, and each collection's schema;
//! - `collections/<name>.jsonl` and `collections/<name>.csv`: every record, once as JSON Lines
//!   (money as `{"minor", "currency"}`, times as RFC 3339) and once as CSV (money as
//!   `-12.34 EUR`);
//! - `grants.jsonl`, `requests.jsonl`, `runs.jsonl` (outputs addressed to the person only) and
//!   `audit.jsonl` (the entries about the person).
//!
//! Re-import reads the manifest and the JSON Lines files: schemas are defined where missing and
//! records imported like any JSON Lines file, so importing twice adds nothing. Grants, runs
//! and the audit are the old instance's history, kept in the archive but not replayed.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::import::{self, ImportError, ImportOptions, ImportReport};
use crate::package::Audience;
use crate::store::{PersonId, Schema, Store, StoreError, TimeRange, Value};
use insitu_formats::time::format_instant;

pub const FORMAT: &str = "insitu-export-1";

#[derive(Debug, Serialize, Deserialize)]
pub struct ArchiveManifest {
    pub format: String,
    pub person: PersonId,
    pub exported_ms: i64,
    pub collections: Vec<Schema>,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("not an Insitu export: {0}")]
    Malformed(String),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Appends one file to a tar archive.
fn tar_file(out: &mut Vec<u8>, name: &str, data: &[u8], mtime_s: i64) {
    let mut h = [0u8; 512];
    let put = |h: &mut [u8; 512], at: usize, len: usize, s: &str| {
        let b = s.as_bytes();
        h[at..at + b.len().min(len)].copy_from_slice(&b[..b.len().min(len)]);
    };
    put(&mut h, 0, 100, name);
    put(&mut h, 100, 8, "0000644");
    put(&mut h, 108, 8, "0000000");
    put(&mut h, 116, 8, "0000000");
    put(&mut h, 124, 12, &format!("{:011o}", data.len()));
    put(&mut h, 136, 12, &format!("{:011o}", mtime_s.max(0)));
    h[156] = b'0';
    put(&mut h, 257, 6, "ustar");
    put(&mut h, 263, 2, "00");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    put(&mut h, 148, 8, &format!("{sum:06o}\0 "));
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

/// The files of a tar archive, by name.
fn untar(bytes: &[u8]) -> Result<Vec<(String, &[u8])>, ArchiveError> {
    let bad = |why: &str| ArchiveError::Malformed(why.to_string());
    let mut files = Vec::new();
    let mut at = 0;
    while at + 512 <= bytes.len() {
        let h = &bytes[at..at + 512];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        if &h[257..262] != b"ustar" {
            return Err(bad("a tar header is not ustar"));
        }
        let field = |from: usize, len: usize| {
            let f = &h[from..from + len];
            let end = f.iter().position(|&b| b == 0).unwrap_or(len);
            String::from_utf8_lossy(&f[..end]).trim().to_string()
        };
        let name = field(0, 100);
        let size =
            usize::from_str_radix(&field(124, 12), 8).map_err(|_| bad("a size is not octal"))?;
        let start = at + 512;
        let data = bytes
            .get(start..start + size)
            .ok_or_else(|| bad("the archive is truncated"))?;
        files.push((name, data));
        at = start + size.div_ceil(512) * 512;
    }
    Ok(files)
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

/// Everything of `person`'s, as a tar archive.
pub fn export(store: &dyn Store, person: PersonId, now_ms: i64) -> Result<Vec<u8>, StoreError> {
    store.person(person)?;
    let mut out = Vec::new();
    let secs = now_ms / 1000;
    let mut collections = Vec::new();
    for schema in store.collections()? {
        if store.count(person, &schema.name)? == 0 {
            continue;
        }
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
        tar_file(
            &mut out,
            &format!("collections/{}.jsonl", schema.name),
            &lines,
            secs,
        );
        let csv = csv.into_inner().unwrap_or_default();
        tar_file(
            &mut out,
            &format!("collections/{}.csv", schema.name),
            &csv,
            secs,
        );
        collections.push(schema);
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
    let audit: Vec<_> = store
        .audit_log()?
        .into_iter()
        .filter(|e| e.event.person() == Some(person))
        .collect();
    tar_file(&mut out, "grants.jsonl", &jsonl(&grants), secs);
    tar_file(&mut out, "requests.jsonl", &jsonl(&requests), secs);
    tar_file(&mut out, "runs.jsonl", &jsonl(&runs), secs);
    tar_file(&mut out, "audit.jsonl", &jsonl(&audit), secs);
    let manifest = ArchiveManifest {
        format: FORMAT.into(),
        person,
        exported_ms: now_ms,
        collections,
    };
    let m = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    // The manifest first, so that a reader meets the format before anything else.
    let mut archive = Vec::new();
    tar_file(&mut archive, "manifest.json", &m, secs);
    archive.extend_from_slice(&out);
    archive.extend_from_slice(&[0; 1024]);
    Ok(archive)
}

/// Re-imports an archive's records into `person`'s store.
pub fn import_archive(
    store: &dyn Store,
    person: PersonId,
    bytes: &[u8],
) -> Result<Vec<ImportReport>, ArchiveError> {
    let files = untar(bytes)?;
    let manifest = files
        .iter()
        .find(|(n, _)| n == "manifest.json")
        .ok_or_else(|| ArchiveError::Malformed("no manifest.json".into()))?;
    let manifest: ArchiveManifest = serde_json::from_slice(manifest.1)
        .map_err(|e| ArchiveError::Malformed(format!("manifest.json: {e}")))?;
    if manifest.format != FORMAT {
        return Err(ArchiveError::Malformed(format!(
            "format `{}`, expected `{FORMAT}`",
            manifest.format
        )));
    }
    let mut reports = Vec::new();
    for schema in &manifest.collections {
        store.define_collection(schema)?;
        let name = format!("collections/{}.jsonl", schema.name);
        let data = files
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ArchiveError::Malformed(format!("{name} is missing")))?;
        let opts = ImportOptions {
            format: Some(import::Format::JsonLines),
            collection: Some(schema.name.clone()),
            ..Default::default()
        };
        reports.push(import::import_bytes(
            store,
            person,
            &name,
            data.1,
            &opts,
            &mut |_, _| {},
        )?);
    }
    Ok(reports)
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
