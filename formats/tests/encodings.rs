//! Declared character sets (`text.rs`): a CAMT file's XML declaration and an OFX header name
//! the encoding, whatever WHATWG label or code page they use.

mod common;

use common::{fixture, txs};
use insitu_formats::{Format, Options, parse};

/// The labels and counterparties of a fixture.
fn texts(format: Format, path: &str) -> Vec<(String, Option<String>)> {
    let p = parse(format, &fixture(path), &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    txs(&p)
        .into_iter()
        .map(|t| (t.label, t.counterparty))
        .collect()
}

#[test]
fn a_baltic_camt_declared_iso_8859_13() {
    assert_eq!(
        texts(Format::Camt053, "camt/camt053_iso8859_13.xml"),
        [
            (
                "Mokėjimas už šildymą ir karštą vandenį, sąskaita Nr. 0042".to_string(),
                Some("UAB Šiaulių energija".to_string())
            ),
            (
                "Darbo užmokestis už sausį".to_string(),
                Some("Įmonė \"Žalgiris\" UAB".to_string())
            ),
        ]
    );
}

#[test]
fn central_european_camt_declared_iso_8859_2_and_windows_1250() {
    assert_eq!(
        texts(Format::Camt053, "camt/camt053_iso8859_2.xml"),
        [(
            "Opłata za prąd, Zażółć gęślą jaźń".to_string(),
            Some("Spółdzielnia Mieszkaniowa Łódź".to_string())
        )]
    );
    assert_eq!(
        texts(Format::Camt053, "camt/camt053_windows1250.xml"),
        [(
            "Příliš žluťoučký kůň úpěl ďábelské ódy „záloha“".to_string(),
            Some("Pražská energetika, a.s.".to_string())
        )]
    );
}

#[test]
fn an_ofx_header_naming_a_code_page() {
    let p = parse(
        Format::Ofx,
        &fixture("ofx/baltic-1257.ofx"),
        &Options::default(),
    )
    .unwrap();
    assert!(p.notes.is_empty(), "{:?}", p.notes);
    let names: Vec<Option<String>> = txs(&p).into_iter().map(|t| t.counterparty).collect();
    assert_eq!(
        names[3].as_deref(),
        Some("Mokėjimas už šildymą"),
        "{names:?}"
    );
}
