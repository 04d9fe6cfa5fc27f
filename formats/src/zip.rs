//! Zip archives of statements (banks deliver a month's CAMT files zipped): the files inside,
//! read in memory, each to be detected and parsed on its own.
//!
//! What is refused, always for the whole archive (nothing of it is imported):
//! - an entry with a path: a folder (`2024/01.xml`), `..`, a `\`, an absolute path or a drive
//!   letter. Only files at the top of the archive are read. Folder entries themselves, and
//!   macOS Finder's `__MACOSX/` and `.DS_Store` metadata, are ignored.
//! - an archive inside the archive: nested archives are not opened (the classic way to
//!   multiply a zip bomb).
//! - a zip bomb: more than [`Limits::max_entries`] files, more than [`Limits::max_total`] bytes
//!   once decompressed, or an entry that decompresses to more than [`Limits::max_ratio`] times
//!   its compressed size (past the first [`Limits::ratio_floor`] bytes). The sizes are counted
//!   while decompressing, never taken from the archive's own headers.
//! - encrypted entries, symbolic links, and compression methods other than stored and
//!   deflate.

use std::io::{Cursor, Read};

use ::zip::ZipArchive;
use ::zip::result::ZipError as Zip;

/// Caps on what an archive may expand to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Files in the archive, folders included. Default 1,000.
    pub max_entries: usize,
    /// Bytes of all the files, decompressed. Default 256 MiB.
    pub max_total: u64,
    /// Decompressed bytes per compressed byte of an entry. Default 100: XML statements
    /// compress 10 to 30 times; a zip bomb about 1,000 times.
    pub max_ratio: u64,
    /// Bytes any entry may decompress to whatever its ratio, so that small, very regular files
    /// are read. Default 1 MiB.
    pub ratio_floor: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 1_000,
            max_total: 256 << 20,
            max_ratio: 100,
            ratio_floor: 1 << 20,
        }
    }
}

/// A file of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its name in the archive (a plain file name).
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Why an archive is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("not a readable zip archive: {0}")]
    Malformed(String),
    #[error("entry `{name}` has a path: only files at the top of the archive are imported")]
    Path { name: String },
    #[error("entry `{name}` is itself an archive: nested archives are not opened; unzip it first")]
    Nested { name: String },
    #[error("entry `{name}` is {what}, which is not imported")]
    Unsupported { name: String, what: String },
    #[error("the archive holds more than {max} entries: refused as a possible zip bomb")]
    TooManyEntries { max: usize },
    #[error(
        "the archive decompresses to more than {} MiB: refused as a possible zip bomb",
        max >> 20
    )]
    TooLarge { max: u64 },
    #[error(
        "entry `{name}` decompresses to more than {max_ratio} times its compressed size \
         ({compressed} bytes): refused as a possible zip bomb"
    )]
    Ratio {
        name: String,
        compressed: u64,
        max_ratio: u64,
    },
}

/// Whether `bytes` start like a zip archive (a local file header, or an empty archive's end
/// record).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// The files of the archive, in its order, within `limits`.
pub fn entries(bytes: &[u8], limits: &Limits) -> Result<Vec<Entry>, ArchiveError> {
    let malformed = |e: Zip| ArchiveError::Malformed(e.to_string());
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(malformed)?;
    if archive.len() > limits.max_entries {
        return Err(ArchiveError::TooManyEntries {
            max: limits.max_entries,
        });
    }
    let mut out = Vec::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let file = archive.by_index_raw(i).map_err(malformed)?;
        let name = file.name().map_err(malformed)?.into_owned();
        if ignored(&name) {
            continue;
        }
        if has_path(&name) {
            return Err(ArchiveError::Path { name });
        }
        let unsupported = |what: String| ArchiveError::Unsupported {
            name: name.clone(),
            what,
        };
        if file.encrypted() {
            return Err(unsupported("encrypted".into()));
        }
        if file.is_symlink() {
            return Err(unsupported("a symbolic link".into()));
        }
        let method = file.compression();
        if !matches!(
            method,
            ::zip::CompressionMethod::Stored | ::zip::CompressionMethod::Deflated
        ) {
            return Err(unsupported(format!(
                "compressed with {method} (only stored and deflate are read)"
            )));
        }
        let compressed = file.compressed_size();
        drop(file);
        let by_ratio = compressed
            .saturating_mul(limits.max_ratio)
            .max(limits.ratio_floor);
        let by_total = limits.max_total - total;
        let cap = by_ratio.min(by_total);
        let mut data = Vec::new();
        let file = archive.by_index(i).map_err(malformed)?;
        file.take(cap.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| ArchiveError::Malformed(format!("entry `{name}`: {e}")))?;
        let size = data.len() as u64;
        if size > cap {
            return Err(if by_ratio <= by_total {
                ArchiveError::Ratio {
                    name,
                    compressed,
                    max_ratio: limits.max_ratio,
                }
            } else {
                ArchiveError::TooLarge {
                    max: limits.max_total,
                }
            });
        }
        if is_zip(&data) {
            return Err(ArchiveError::Nested { name });
        }
        total += size;
        out.push(Entry { name, bytes: data });
    }
    Ok(out)
}

/// Folders, and macOS Finder's metadata, which hold no statement.
fn ignored(name: &str) -> bool {
    name.ends_with('/') || name.starts_with("__MACOSX/") || name == ".DS_Store"
}

/// Whether an entry's name is anything but a plain file name.
fn has_path(name: &str) -> bool {
    name.is_empty()
        || name.contains(['/', '\\', '\0'])
        || name == ".."
        || name == "."
        || name.as_bytes().get(1) == Some(&b':')
}
