//! The tar layer of a person's export: writing the archive's files, and reading them back from
//! an archive that may have been forged.
//!
//! Written with the `tar` crate in the GNU format: a name longer than a tar header's 100 bytes
//! goes whole into a GNU long-name entry just before its file, which GNU tar, bsdtar and the
//! `tar` crate all read. Reading also takes PAX `path` records.
//!
//! Reading refuses the whole archive, so that its caller writes nothing, on: a header that is
//! neither ustar nor GNU, or whose checksum is wrong; an entry that is not a regular file
//! (directory, link, device, FIFO, sparse file, PAX global header); a name that is not UTF-8,
//! is absolute, has an empty, `.` or `..` component, a backslash or a control character; two
//! entries of the same name; an entry whose data is shorter than its header says (a truncated
//! archive, or a forged size).
//!
//! May touch: nothing but the bytes it is given.

use std::collections::HashSet;
use std::io::{self, Read};

use super::ArchiveError;

/// An archive being written: regular files, mode 0644, owned by root, all of the same time.
pub struct Writer {
    tar: tar::Builder<Vec<u8>>,
    mtime_s: u64,
}

impl Writer {
    pub fn new(mtime_s: i64) -> Self {
        Writer {
            tar: tar::Builder::new(Vec::new()),
            mtime_s: u64::try_from(mtime_s).unwrap_or(0),
        }
    }

    /// Appends a file. Fails only on a name tar cannot hold (absolute, or with `..`).
    pub fn file(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(self.mtime_s);
        h.set_size(data.len() as u64);
        self.tar.append_data(&mut h, name, data)
    }

    /// The archive, with its end-of-archive blocks.
    pub fn finish(self) -> io::Result<Vec<u8>> {
        self.tar.into_inner()
    }
}

/// The files of an archive, by name, in archive order; refuses a hostile archive whole (see
/// the module doc).
pub fn read(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ArchiveError> {
    let malformed = |e: io::Error| ArchiveError::Malformed(format!("unreadable tar: {e}"));
    let mut archive = tar::Archive::new(bytes);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut seen = HashSet::new();
    for entry in archive.entries().map_err(malformed)? {
        let mut entry = entry.map_err(malformed)?;
        let header = entry.header();
        if header.as_ustar().is_none() && header.as_gnu().is_none() {
            return Err(ArchiveError::Malformed("a tar header is not ustar".into()));
        }
        let kind = header.entry_type();
        let refuse = |name: &str, reason: String| ArchiveError::Entry {
            name: name.to_string(),
            reason,
        };
        let name = match std::str::from_utf8(&entry.path_bytes()) {
            Ok(n) => n.to_string(),
            Err(_) => {
                let lossy = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                return Err(refuse(&lossy, "has a name that is not UTF-8".into()));
            }
        };
        if kind != tar::EntryType::Regular {
            let what = kind_name(kind);
            return Err(refuse(&name, format!("is {what}, not a regular file")));
        }
        if let Some(why) = bad_name(&name) {
            return Err(refuse(&name, why.into()));
        }
        if !seen.insert(name.clone()) {
            return Err(refuse(&name, "appears twice".into()));
        }
        let size = entry.size();
        // Bounded by the archive in memory, whatever the header claims.
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(malformed)?;
        if data.len() as u64 != size {
            return Err(refuse(
                &name,
                format!(
                    "says it holds {size} bytes but only {} follow: the archive is truncated, \
                     or the size forged",
                    data.len()
                ),
            ));
        }
        files.push((name, data));
    }
    Ok(files)
}

/// What a non-regular entry is, for its error.
fn kind_name(kind: tar::EntryType) -> String {
    use tar::EntryType as T;
    match kind {
        T::Symlink => "a symbolic link".into(),
        T::Link => "a hard link".into(),
        T::Directory => "a directory".into(),
        T::Char => "a character device".into(),
        T::Block => "a block device".into(),
        T::Fifo => "a FIFO".into(),
        T::GNUSparse => "a sparse file".into(),
        T::XGlobalHeader => "a PAX global header".into(),
        other => format!("an entry of type {:?}", char::from(other.as_byte())),
    }
}

/// Why `name` cannot name a file of the archive, if it cannot.
fn bad_name(name: &str) -> Option<&'static str> {
    if name.starts_with('/') {
        return Some("has an absolute name");
    }
    if name.chars().any(|c| c == '\\' || c.is_control()) {
        return Some("has a backslash or a control character in its name");
    }
    if name.split('/').any(|c| c == "..") {
        return Some("has a `..` component");
    }
    if name.split('/').any(|c| c.is_empty() || c == ".") {
        return Some("has an empty or `.` component");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(names: &[String]) -> Vec<(String, Vec<u8>)> {
        let mut w = Writer::new(1_800_000_000);
        for (i, n) in names.iter().enumerate() {
            w.file(n, format!("file {i}\n").as_bytes()).unwrap();
        }
        read(&w.finish().unwrap()).unwrap()
    }

    #[test]
    fn long_and_multibyte_names_come_back_whole() {
        let names = vec![
            "manifest.json".to_string(),
            format!("collections/{}.jsonl", "a".repeat(120)),
            format!("collections/{}.jsonl", "b".repeat(250)),
            // Two-byte characters across the 100-byte boundary of a tar header's name.
            format!("collections/{}.jsonl", "é".repeat(60)),
            format!("collections/{}.csv", "日本".repeat(50)),
        ];
        let files = round_trip(&names);
        let got: Vec<&String> = files.iter().map(|(n, _)| n).collect();
        assert_eq!(got, names.iter().collect::<Vec<_>>());
        for (i, (_, data)) in files.iter().enumerate() {
            assert_eq!(data, format!("file {i}\n").as_bytes());
        }
    }

    #[test]
    fn names_sharing_their_first_100_bytes_stay_distinct() {
        let stem = "x".repeat(100);
        let names = vec![format!("{stem}.one"), format!("{stem}.two")];
        let files = round_trip(&names);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].0, names[0]);
        assert_eq!(files[1].0, names[1]);
    }

    #[test]
    fn a_name_is_refused_for_each_way_it_can_escape_or_alias() {
        for name in [
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "./a",
            "a/",
            "a\\b",
            "a\u{1b}[2Jb",
        ] {
            assert!(bad_name(name).is_some(), "{name:?} accepted");
        }
        for name in [
            "manifest.json",
            "collections/bank.transactions.jsonl",
            "...jsonl",
        ] {
            assert_eq!(bad_name(name), None, "{name:?} refused");
        }
    }
}
