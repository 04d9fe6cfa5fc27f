//! Zip archives (`zip.rs`): the files inside, or the whole archive refused with the entry
//! and the reason.

mod common;

use common::fixture;
use insitu_formats::zip::{ArchiveError, Limits, entries, is_zip};

fn open(name: &str) -> Result<Vec<(String, Vec<u8>)>, ArchiveError> {
    let bytes = fixture(&format!("zip/{name}"));
    assert!(is_zip(&bytes), "{name}");
    Ok(entries(&bytes, &Limits::default())?
        .into_iter()
        .map(|e| (e.name, e.bytes))
        .collect())
}

#[test]
fn the_files_of_an_archive_in_its_order() {
    assert_eq!(
        open("statements.zip").unwrap(),
        [
            ("2024-01.xml".to_string(), fixture("camt/overlap_jan.xml")),
            ("2024-03.xml".to_string(), fixture("camt/camt053_march.xml")),
        ]
    );
    let names: Vec<String> = open("macos.zip")
        .unwrap()
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(names, ["2024-01.xml"], "Finder's metadata is ignored");
}

#[test]
fn paths_nested_archives_and_bombs_refuse_the_archive() {
    let refused = |name: &str| open(name).unwrap_err().to_string();
    assert_eq!(
        refused("traversal.zip"),
        "entry `../x.xml` has a path: only files at the top of the archive are imported"
    );
    assert_eq!(
        refused("folder.zip"),
        "entry `releves/2024-01.xml` has a path: only files at the top of the archive are \
         imported"
    );
    assert_eq!(
        refused("nested.zip"),
        "entry `inner.zip` is itself an archive: nested archives are not opened; unzip it first"
    );
    let bomb = open("bomb.zip").unwrap_err();
    assert!(
        matches!(&bomb, ArchiveError::Ratio { name, max_ratio: 100, .. } if name == "big.xml"),
        "{bomb}"
    );
}

#[test]
fn the_caps_hold_whatever_the_headers_say() {
    let bytes = fixture("zip/statements.zip");
    let small = Limits {
        max_total: 4_000,
        ..Limits::default()
    };
    assert_eq!(
        entries(&bytes, &small).unwrap_err(),
        ArchiveError::TooLarge { max: 4_000 }
    );
    let few = Limits {
        max_entries: 1,
        ..Limits::default()
    };
    assert_eq!(
        entries(&bytes, &few).unwrap_err(),
        ArchiveError::TooManyEntries { max: 1 }
    );
    let tight = Limits {
        max_ratio: 1,
        ratio_floor: 0,
        ..Limits::default()
    };
    assert!(matches!(
        entries(&bytes, &tight),
        Err(ArchiveError::Ratio { .. })
    ));
    let cut = &bytes[..bytes.len() - 30];
    assert!(matches!(
        entries(cut, &Limits::default()),
        Err(ArchiveError::Malformed(_))
    ));
}
