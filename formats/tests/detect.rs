//! Telling a file's format from its content (`detect.rs`): every fixture is detected as its
//! format, whatever its encoding; a file that is none of them is refused with each candidate
//! and the reason, never called CSV by default.

mod common;

use common::fixture;
use insitu_formats::linkedin::LinkedInFile;
use insitu_formats::{Format, Options, detect, identify, parse};

/// Fixtures and the format each is.
const FIXTURES: &[(&str, Format)] = &[
    ("ofx/jan.ofx", Format::Ofx),
    ("ofx/jan-utf16le.ofx", Format::Ofx),
    ("ofx/jan-utf16be.ofx", Format::Ofx),
    ("ofx/baltic-1257.ofx", Format::Ofx),
    ("ofx/chase-card.qfx", Format::Ofx),
    ("camt/overlap_jan.xml", Format::Camt053),
    ("camt/overlap_jan_utf16le.xml", Format::Camt053),
    ("camt/overlap_jan_utf16be.xml", Format::Camt053),
    ("camt/camt053_iso8859_13.xml", Format::Camt053),
    ("camt/camt053_windows1250.xml", Format::Camt053),
    ("camt/camt052_report.xml", Format::Camt052),
    ("camt/camt054_notification.xml", Format::Camt054),
    ("qif/us-checking.qif", Format::Qif),
    ("qif/us-checking-utf16le.qif", Format::Qif),
    ("qif/us-checking-utf16be.qif", Format::Qif),
    ("qif/bom-crlf.qif", Format::Qif),
    ("qif/commented.qif", Format::Qif),
    ("cfonb/releve_jan.txt", Format::Cfonb120),
    ("cfonb/releve_back_to_back_cp1252.txt", Format::Cfonb120),
    ("cfonb/starts_with_05.txt", Format::Cfonb120),
    ("cfonb/record_116.txt", Format::Cfonb120),
    ("csv/releve-banque.csv", Format::Csv),
    ("detect/achats.csv", Format::Csv),
    ("purchases/products.csv", Format::Csv),
    (
        "linkedin/Positions.csv",
        Format::LinkedIn(LinkedInFile::Positions),
    ),
    ("receipts/carrefour.json", Format::Receipts),
    ("usage/events.jsonl", Format::UsageEvents),
];

#[test]
fn every_fixture_is_detected_as_its_format() {
    let wrong: Vec<String> = FIXTURES
        .iter()
        .filter_map(|&(path, format)| {
            let got = identify(&fixture(path));
            (got.as_ref().ok() != Some(&format)).then(|| format!("{path}: {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A UTF-16 file, once detected, reads as the UTF-8 (or Windows-1252) file it was saved from.
#[test]
fn utf16_files_read_as_their_original() {
    let qif = Options {
        currency: Some("USD".into()),
        account: Some("Checking".into()),
        ..Options::default()
    };
    for (original, copies, format, opts) in [
        (
            "ofx/jan.ofx",
            ["ofx/jan-utf16le.ofx", "ofx/jan-utf16be.ofx"],
            Format::Ofx,
            Options::default(),
        ),
        (
            "camt/overlap_jan.xml",
            [
                "camt/overlap_jan_utf16le.xml",
                "camt/overlap_jan_utf16be.xml",
            ],
            Format::Camt053,
            Options::default(),
        ),
        (
            "qif/us-checking.qif",
            ["qif/us-checking-utf16le.qif", "qif/us-checking-utf16be.qif"],
            Format::Qif,
            qif,
        ),
    ] {
        let expected = parse(format, &fixture(original), &opts).unwrap();
        assert!(!expected.items.is_empty(), "{original}");
        for copy in copies {
            let bytes = fixture(copy);
            let detected = detect(&bytes).unwrap_or_else(|| panic!("{copy}: not detected"));
            let got = parse(detected, &bytes, &opts).unwrap();
            assert_eq!(got.items, expected.items, "{copy}");
        }
    }
}

#[test]
fn a_text_that_is_no_format_is_refused_with_each_candidate_and_why() {
    let why = identify(&fixture("detect/notes.txt")).unwrap_err();
    assert_eq!(why.what, None);
    let csv = why.rejected.iter().find(|r| r.format == "CSV").unwrap();
    assert_eq!(
        (csv.line, csv.reason.as_str()),
        (2, "3 `,`-separated fields where the header (line 1) has 2")
    );
    let considered: Vec<&str> = why.rejected.iter().map(|r| r.format).collect();
    assert_eq!(
        considered,
        ["OFX or CAMT", "QIF", "CFONB 120", "JSON", "CSV"]
    );
    let message = why.to_string();
    assert!(
        message.contains("not QIF: line 1: `Relevé de compte, janvier 2024` is not a `!Type:`"),
        "{message}"
    );
    assert!(
        message.contains("not CFONB 120: line 1: a line of 30 characters"),
        "{message}"
    );
}

#[test]
fn a_headerless_or_ragged_table_is_not_csv() {
    let ragged = b"date;label;amount\n2024-01-02;coffee;3,50\n2024-01-03;bread\n";
    let why = identify(ragged).unwrap_err();
    assert_eq!(why.rejected.last().unwrap().line, 3);
    let headerless = b"2024-01-02;coffee;3,50\n2024-01-03;bread;1,20\n";
    let why = identify(headerless).unwrap_err().to_string();
    assert!(
        why.contains("`2024-01-02` is a value, not a column name"),
        "{why}"
    );
}

#[test]
fn other_files_are_named() {
    let pain = identify(&fixture("detect/pain001.xml")).unwrap_err();
    assert_eq!(
        pain.what.as_deref(),
        Some(
            "an ISO 20022 pain.001 message (customer credit transfer initiation), not a \
             statement Insitu imports"
        )
    );
    let zip = identify(&fixture("zip/statements.zip")).unwrap_err();
    assert!(zip.what.unwrap().starts_with("a zip archive"));
    let html = identify(b"<!DOCTYPE html>\n<html><body>Relev\xc3\xa9</body></html>").unwrap_err();
    assert_eq!(
        html.what.as_deref(),
        Some("an XML document whose root element is <html>")
    );
    let pdf = identify(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").unwrap_err();
    assert!(pdf.what.unwrap().starts_with("a PDF document"));
}
