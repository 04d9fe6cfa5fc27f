//! Import of a person's files into their collections: bank statements (OFX, QFX, CAMT.053,
//! QIF, CFONB 120), CSV (with or without a mapping file), JSON Lines, receipts, usage events and
//! LinkedIn's export. The parsers live in `insitu-formats`; this module adds the policy.
//!
//! Rules:
//! - The format is detected from the content unless given ([`insitu_formats::identify`]); a
//!   file that is no known format is refused with each candidate and why.
//! - A zip archive ([`import_all`]) is opened in memory within the caps of
//!   [`insitu_formats::zip`], and each file inside is detected and parsed on its own, named
//!   `archive.zip:entry.xml` in messages and the audit. All or nothing: every file is parsed
//!   and checked before any is written, and one refused file refuses the archive.
//! - Errors name the file, the line or element, the field and the reason. By default a bad
//!   record rejects the whole file before anything is written; [`OnError::Skip`] imports the
//!   others and reports each skipped record. A bad record is never silently dropped.
//! - Idempotent: a record's id is its natural key when the format has one (OFX `FITID`, CAMT
//!   `AcctSvcrRef`), else a hash of its values and its occurrence number among identical
//!   records of the file (the second identical coffee on the same day stays a second record).
//!   Re-importing an overlapping statement adds only the new records. A natural key only says
//!   that a record came from an earlier file: within a file every record is imported, and a
//!   key the store holds with other content is a clash, imported and noted ([`ids`]).
//! - Nothing is dropped without a word: the report counts and names (by line) the records
//!   already present, the bad ones skipped, and, in its notes, what the parser left out.
//! - A standard collection ([`Schema::standard`]) is defined on first import; a store that
//!   holds the name with another schema refuses the import rather than mixing shapes.
//! - Written in transactions of [`BATCH`] records: a crash leaves whole batches only, and
//!   importing again completes the rest.
//!
//! May touch: the input file (read only) and the store through [`Store::write_records`] (and
//! [`Store::records_at`], in [`ids`], for records whose natural key is not unique).

use std::fmt;
use std::path::Path;

pub use insitu_formats::Note;
pub use insitu_formats::csv::Mapping;
pub use insitu_formats::money::parse_money;
pub use insitu_formats::schema::{MAX_TEXT, parse_value};
pub use insitu_formats::time::{days_from_civil, format_date, parse_time};
use insitu_formats::zip::{ArchiveError, Limits};
pub use insitu_formats::{DateOrder, Format, Unbalanced};
use insitu_formats::{FormatError, Options, Parsed, Undetected};

use crate::store::{KeyedRecord, PersonId, Schema, Source, Store, StoreError};

mod ids;
use ids::{Keys, Later};

/// Records per write transaction.
pub const BATCH: usize = 10_000;

/// What to do with a bad record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Refuse the whole file and write nothing (the default).
    #[default]
    Reject,
    /// Skip bad records, report each one, import the rest.
    Skip,
}

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Detected from the content when absent.
    pub format: Option<Format>,
    /// Target collection of CSV and JSON Lines files (or the mapping's).
    pub collection: Option<String>,
    pub mapping: Option<Mapping>,
    /// For formats that carry no currency (QIF).
    pub currency: Option<String>,
    /// For formats that may carry no account name (QIF).
    pub account: Option<String>,
    pub date_order: Option<DateOrder>,
    /// Accept dates before 1900 or more than a year after the import date (`--any-date`).
    pub any_date: bool,
    pub on_error: OnError,
    /// A statement whose balances do not add up: refused (the default), or imported without
    /// running balances, with a note.
    pub unbalanced: Unbalanced,
    /// The organisation returning the records (restitution); the audit names it instead of
    /// the file.
    pub returned_by: Option<String>,
}

/// A bad record: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub file: String,
    pub bad: insitu_formats::BadRecord,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.bad)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {file}: {reason}")]
    Io { file: String, reason: String },
    #[error(
        "cannot tell the format of {file}: {why}\nnothing was imported; if you know the format, \
         pass --format (one of {})",
        Format::NAMES.join(", ")
    )]
    Undetected { file: String, why: Undetected },
    #[error("{file} is refused: {error}; nothing was imported")]
    Archive { file: String, error: ArchiveError },
    #[error("{file} is not valid {format}: {error}; nothing was imported")]
    Format {
        file: String,
        format: Format,
        error: FormatError,
    },
    #[error(
        "{first}{more}\nnothing was imported; fix the record, or pass --skip-bad to import the others",
        more = if *count > 1 { format!("\n(and {} more bad records)", count - 1) } else { String::new() }
    )]
    Record { first: RecordError, count: usize },
    #[error("{0}")]
    Collection(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The result of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub format: Format,
    pub collection: String,
    pub read: u64,
    pub added: u64,
    /// Records already present (same id, same content): not written again.
    pub duplicates: u64,
    /// The line of each of them, in file order.
    pub duplicate_lines: Vec<u64>,
    /// Records whose natural key the store held with other content: imported as new records,
    /// each named in `clash_notes`.
    pub clashes: u64,
    /// Records skipped under [`OnError::Skip`], each with its reason.
    pub skipped: Vec<RecordError>,
    /// What the parser says of the file alone (pending entries left out, with their lines,
    /// say): the same whatever the store holds.
    pub notes: Vec<Note>,
    /// Each clash with its key and line. These depend on what the store held, so they reach
    /// only the person (never an organisation returning data, see `POST /api/returns`).
    /// Each is a [`Note::Clash`].
    pub clash_notes: Vec<Note>,
}

impl ImportReport {
    /// Everything the person should know: the parser's notes, then each clash.
    pub fn all_notes(&self) -> impl Iterator<Item = &Note> {
        self.notes.iter().chain(&self.clash_notes)
    }
}

/// Reads and parses `path`, without writing. The schema of a CSV or JSON Lines target comes
/// from the store, or is the standard one when the store does not have it yet.
pub fn parse_file(
    store: &dyn Store,
    path: &Path,
    opts: &ImportOptions,
) -> Result<(Format, Parsed), ImportError> {
    parse_bytes(store, &path.display().to_string(), &read(path)?, opts)
}

fn read(path: &Path) -> Result<Vec<u8>, ImportError> {
    std::fs::read(path).map_err(|e| ImportError::Io {
        file: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// [`parse_file`] of a file already in memory (an upload); `file` names it in errors.
pub fn parse_bytes(
    store: &dyn Store,
    file: &str,
    bytes: &[u8],
    opts: &ImportOptions,
) -> Result<(Format, Parsed), ImportError> {
    let file = file.to_string();
    let format = match opts.format {
        Some(f) => f,
        None if opts.mapping.is_some() => Format::Csv,
        None => insitu_formats::identify(bytes).map_err(|why| ImportError::Undetected {
            file: file.clone(),
            why,
        })?,
    };
    let schema = match format {
        Format::Csv | Format::JsonLines => {
            let name = opts
                .collection
                .as_deref()
                .or(opts.mapping.as_ref().and_then(|m| m.collection.as_deref()))
                .ok_or_else(|| {
                    ImportError::Collection(format!(
                        "{file} is {format}: pass --collection, or a mapping file that names one"
                    ))
                })?;
            Some(schema_of(store, name)?)
        }
        _ => None,
    };
    let parsed = parse_as(&file, format, bytes, schema, opts, store.now_ms())?;
    if let Some(c) = &opts.collection
        && *c != parsed.collection
    {
        return Err(ImportError::Collection(format!(
            "{file} is {format}, whose records go to `{}`, not `{c}`",
            parsed.collection
        )));
    }
    Ok((format, parsed))
}

/// Parses `bytes` as `format`, into `schema` for the formats that take one.
fn parse_as(
    file: &str,
    format: Format,
    bytes: &[u8],
    schema: Option<Schema>,
    opts: &ImportOptions,
    today_ms: i64,
) -> Result<Parsed, ImportError> {
    insitu_formats::parse(
        format,
        bytes,
        &Options {
            currency: opts.currency.clone(),
            account: opts.account.clone(),
            date_order: opts.date_order,
            today: Some(today_ms),
            any_date: opts.any_date,
            schema,
            mapping: opts.mapping.clone(),
            unbalanced: opts.unbalanced,
        },
    )
    .map_err(|error| ImportError::Format {
        file: file.to_string(),
        format,
        error,
    })
}

fn record_errors(file: &str, bad: Vec<insitu_formats::BadRecord>) -> Vec<RecordError> {
    bad.into_iter()
        .map(|bad| RecordError {
            file: file.to_string(),
            bad,
        })
        .collect()
}

/// A file's records, parsed and keyed but not written (see [`key_jsonl`]).
#[derive(Debug)]
pub struct Keyed {
    pub collection: String,
    /// With the ids [`import_bytes`] would give them, so that writing them is idempotent too.
    pub records: Vec<KeyedRecord>,
    /// Bad records, each with where and why: the caller decides whether they refuse the file.
    pub bad: Vec<RecordError>,
    pub notes: Vec<Note>,
}

/// Parses a JSON Lines file into `schema` and keys its records, touching no store: restore
/// checks every file of an archive against the archive's own schemas before writing any.
/// `today_ms` is the import date, which dates may not be more than a year after.
pub fn key_jsonl(
    file: &str,
    bytes: &[u8],
    schema: &Schema,
    today_ms: i64,
) -> Result<Keyed, ImportError> {
    let parsed = parse_as(
        file,
        Format::JsonLines,
        bytes,
        Some(schema.clone()),
        &ImportOptions::default(),
        today_ms,
    )?;
    let mut keys = Keys::new(schema);
    Ok(Keyed {
        collection: parsed.collection,
        records: parsed
            .items
            .into_iter()
            .map(|i| keys.key(i.key.as_deref(), i.values))
            .collect(),
        bad: record_errors(file, parsed.bad),
        notes: parsed.notes,
    })
}

/// The stored schema of `name`, or the standard one if the store does not have it yet.
fn schema_of(store: &dyn Store, name: &str) -> Result<Schema, ImportError> {
    match store.collection(name) {
        Ok(s) => Ok(s),
        Err(StoreError::NoCollection(_)) => Schema::standard(name).ok_or_else(|| {
            ImportError::Collection(format!(
                "no collection `{name}`: define it first, or use a standard one ({})",
                insitu_formats::schema::STANDARD.join(", ")
            ))
        }),
        Err(e) => Err(e.into()),
    }
}

/// Imports `path` into `person`'s collections. `progress(done, total)` is called per batch.
pub fn import_file(
    store: &dyn Store,
    person: PersonId,
    path: &Path,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport, ImportError> {
    store.person(person)?;
    let file = path.display().to_string();
    import_bytes(store, person, &file, &read(path)?, opts, progress)
}

/// [`import_file`] of a file already in memory (an upload); `file` names it in errors and in
/// the audit log.
pub fn import_bytes(
    store: &dyn Store,
    person: PersonId,
    file: &str,
    bytes: &[u8],
    opts: &ImportOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport, ImportError> {
    store.person(person)?;
    let ready = prepare(store, file, bytes, opts)?;
    write(store, person, ready, opts, progress)
}

/// Imports `bytes`, or each file of a zip archive (see the module doc): one report per file,
/// named `file` or `file:entry`. `progress` is called per batch of each file.
pub fn import_all(
    store: &dyn Store,
    person: PersonId,
    file: &str,
    bytes: &[u8],
    opts: &ImportOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Vec<Imported>, ImportError> {
    store.person(person)?;
    if !insitu_formats::zip::is_zip(bytes) {
        let report = import_bytes(store, person, file, bytes, opts, progress)?;
        return Ok(vec![Imported {
            file: file.to_string(),
            report,
        }]);
    }
    let refused = |error| ImportError::Archive {
        file: file.to_string(),
        error,
    };
    let entries = insitu_formats::zip::entries(bytes, &Limits::default()).map_err(refused)?;
    let mut ready = Vec::with_capacity(entries.len());
    for e in entries {
        let name = format!("{file}:{}", e.name);
        ready.push((name.clone(), prepare(store, &name, &e.bytes, opts)?));
    }
    ready
        .into_iter()
        .map(|(file, r)| {
            let report = write(store, person, r, opts, progress)?;
            Ok(Imported { file, report })
        })
        .collect()
}

/// [`import_all`] of a file on disk.
pub fn import_path(
    store: &dyn Store,
    person: PersonId,
    path: &Path,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Vec<Imported>, ImportError> {
    store.person(person)?;
    let file = path.display().to_string();
    import_all(store, person, &file, &read(path)?, opts, progress)
}

/// One file's report in [`import_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The file, or `archive.zip:entry` for a file of an archive.
    pub file: String,
    pub report: ImportReport,
}

/// A file parsed and checked against the error policy and the store's schemas, not written.
struct Prepared {
    file: String,
    format: Format,
    parsed: Parsed,
    schema: Schema,
    skipped: Vec<RecordError>,
}

fn prepare(
    store: &dyn Store,
    file: &str,
    bytes: &[u8],
    opts: &ImportOptions,
) -> Result<Prepared, ImportError> {
    let (format, mut parsed) = parse_bytes(store, file, bytes, opts)?;
    let file = file.to_string();
    let skipped = record_errors(&file, std::mem::take(&mut parsed.bad));
    if opts.on_error == OnError::Reject
        && let Some(first) = skipped.first()
    {
        return Err(ImportError::Record {
            first: first.clone(),
            count: skipped.len(),
        });
    }
    let schema = schema_of(store, &parsed.collection)?;
    if let Some(standard) = Schema::standard(&parsed.collection)
        && standard != schema
        && !matches!(format, Format::Csv | Format::JsonLines)
    {
        return Err(ImportError::Collection(format!(
            "this store's `{}` has another schema than the standard one that {format} fills",
            parsed.collection
        )));
    }
    Ok(Prepared {
        file,
        format,
        parsed,
        schema,
        skipped,
    })
}

/// Writes a prepared file's records in batches (see the module doc).
fn write(
    store: &dyn Store,
    person: PersonId,
    ready: Prepared,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport, ImportError> {
    let Prepared {
        file,
        format,
        parsed,
        schema,
        skipped,
    } = ready;
    store.define_collection(&schema)?;
    let name = Path::new(&file)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let source = match &opts.returned_by {
        Some(org) => Source::ReturnedBy(org),
        None => Source::File(&name),
    };
    let mut report = ImportReport {
        format,
        collection: parsed.collection,
        read: parsed.items.len() as u64,
        added: 0,
        duplicates: 0,
        duplicate_lines: Vec::new(),
        clashes: 0,
        skipped,
        notes: parsed.notes,
        clash_notes: Vec::new(),
    };
    let items = parsed.items;
    // Records whose id depends on what the store holds wait for the others ([`ids`]).
    let repeated = ids::repeated_keys(&items);
    let mut later = Vec::new();
    // Keying (a hash per record) on a second thread, overlapped with the writes.
    std::thread::scope(|scope| -> Result<(), ImportError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(2);
        let schema = &schema;
        let keying = scope.spawn(move || {
            let mut keys = Keys::new(schema);
            let mut repeats = Vec::new();
            let mut items = items.into_iter();
            loop {
                let mut chunk = Chunk::default();
                for mut item in items.by_ref() {
                    match item.key.take() {
                        Some(key) if repeated.contains(&key) => repeats.push(Later {
                            line: item.line,
                            key,
                            values: item.values,
                        }),
                        key => {
                            chunk.lines.push(item.line);
                            chunk.records.push(keys.key(key.as_deref(), item.values));
                            chunk.keys.push(key);
                            if chunk.records.len() == BATCH {
                                break;
                            }
                        }
                    }
                }
                if chunk.records.is_empty() || tx.send(chunk).is_err() {
                    break;
                }
            }
            repeats
        });
        for chunk in rx {
            let out = store.write_records(person, &report.collection, &chunk.records, source)?;
            report.added += out.added;
            tally(&mut report, &mut later, chunk, &out);
            progress(report.added + report.duplicates, report.read);
        }
        // A panic while keying is a bug, not an input: it is raised again here.
        let repeats = keying
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        later.extend(repeats);
        Ok(())
    })?;
    write_later(store, person, &schema, source, later, &file, &mut report)?;
    progress(report.added + report.duplicates, report.read);
    Ok(report)
}

/// A batch of keyed records with, for each, its line and natural key.
#[derive(Default)]
struct Chunk {
    records: Vec<KeyedRecord>,
    lines: Vec<u64>,
    keys: Vec<Option<String>>,
}

/// Counts a batch's duplicates; a natural key the store holds with other values waits, in
/// `later`, to be compared with what the store holds.
fn tally(
    report: &mut ImportReport,
    later: &mut Vec<Later>,
    mut chunk: Chunk,
    out: &crate::store::WriteOutcome,
) {
    let mut changed = out.changed.iter().peekable();
    for &i in &out.taken {
        let i = i as usize;
        let differs = changed.next_if(|&&c| c as usize == i).is_some();
        match chunk.keys.get_mut(i).and_then(Option::take) {
            Some(key) if differs => later.push(Later {
                line: chunk.lines[i],
                key,
                values: std::mem::take(&mut chunk.records[i].values),
            }),
            _ => {
                report.duplicates += 1;
                report.duplicate_lines.push(chunk.lines[i]);
            }
        }
    }
}

/// Writes the records whose id depends on what the store holds ([`ids::settle`]), noting
/// each clash with an earlier file.
fn write_later(
    store: &dyn Store,
    person: PersonId,
    schema: &Schema,
    source: Source<'_>,
    later: Vec<Later>,
    file: &str,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if later.is_empty() {
        return Ok(());
    }
    let mut keys = Keys::new(schema);
    let mut settled = ids::settle(store, person, &mut keys, later)?;
    settled.sort_by_key(|s| s.line);
    for part in settled.chunks_mut(BATCH) {
        let records: Vec<KeyedRecord> = part
            .iter_mut()
            .map(|s| KeyedRecord {
                values: std::mem::take(&mut s.record.values),
                ..s.record
            })
            .collect();
        let out = store.write_records(person, &report.collection, &records, source)?;
        report.added += out.added;
        let mut taken = out.taken.iter().map(|&i| i as usize).peekable();
        for (i, s) in part.iter().enumerate() {
            if taken.next_if_eq(&i).is_some() {
                report.duplicates += 1;
                report.duplicate_lines.push(s.line);
            } else if s.clash {
                report.clashes += 1;
                report.clash_notes.push(Note::Clash {
                    file: file.to_string(),
                    line: s.line,
                    key: s.key.clone(),
                });
            }
        }
    }
    report.duplicate_lines.sort_unstable();
    Ok(())
}

/// `lines` as ranges, `3-7, 9`: how the command line and the API name many lines.
pub fn line_ranges(lines: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = lines[i];
        while i + 1 < lines.len() && lines[i + 1] == lines[i] + 1 {
            i += 1;
        }
        out.push(if lines[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", lines[i])
        });
        i += 1;
    }
    out.join(", ")
}
