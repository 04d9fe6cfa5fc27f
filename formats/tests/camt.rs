//! CAMT.053 statements read from realistic bank exports (`tests/fixtures/camt/`).

mod common;

use common::{
    Entry, by_date, chain_by_date, column, day, english, entry, escape, eur, fixture, opt, read,
    read_err, read_ok, text, tx, txs, values,
};
use insitu_formats::{BadRecord, Format, Options, Parsed, Unbalanced, Value, camt};
use proptest::prelude::*;

fn parse(name: &str) -> Parsed {
    read_ok(Format::Camt053, &format!("camt/{name}"))
}

fn error(name: &str) -> String {
    read_err(Format::Camt053, &format!("camt/{name}")).to_string()
}

const SG: &str = "FR7630003012340005000123456";
const BNP: &str = "FR7630004000031234567890143";

#[test]
fn v02_with_bom_crlf_two_accounts_pending_and_batch() {
    let p = parse("camt053_v02_two_accounts.xml");
    assert_eq!(p.collection, "bank.transactions");
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    assert_eq!(
        english(&p),
        ["1 pending entry (PDNG) was not imported: it is imported once booked (line 184)"]
    );
    let expected = [
        tx(
            SG,
            day(2024, 3, 4),
            Some(day(2024, 3, 4)),
            -2999,
            Some("FREE MOBILE"),
            "PRLV SEPA FREE MOBILE FACTURE 03/2024 LIGNE 06XXXXXX12",
            Some("FREEM-2403-889812"),
            Some(149_348),
        ),
        tx(
            SG,
            day(2024, 3, 5),
            Some(day(2024, 3, 5)),
            245_000,
            Some("ACME INDUSTRIES SAS"),
            "VIR SEPA EMPLOYEUR SALAIRE MARS 2024",
            None, // NOTPROVIDED
            Some(394_348),
        ),
        // No details, no value date: the label is AddtlNtryInf.
        tx(
            SG,
            day(2024, 3, 12),
            None,
            -5432,
            None,
            "CB CARREFOUR 12/03",
            None,
            Some(388_916),
        ),
        // AddtlTxInf, with an `&apos;` entity.
        tx(
            SG,
            day(2024, 3, 20),
            Some(day(2024, 3, 19)),
            -800,
            None,
            "COMMISSION D'INTERVENTION 19/03",
            None,
            Some(388_116),
        ),
        // Only a proprietary bank transaction code.
        tx(
            SG,
            day(2024, 3, 29),
            None,
            -250,
            None,
            "FRAIS TENUE DE COMPTE",
            None,
            Some(387_866),
        ),
        // A batch of two cheques: one transaction of the entry's amount.
        tx(
            SG,
            day(2024, 3, 30),
            Some(day(2024, 4, 2)),
            35_000,
            None,
            "REMISE CHEQUES 2",
            None,
            Some(422_866),
        ),
        // The second account, an overdraft at opening (OPBD DBIT 85.20).
        tx(
            "12345678901",
            day(2024, 3, 8),
            Some(day(2024, 3, 8)),
            15_000,
            Some("MME CLAIRE MARTIN"),
            "VIREMENT DEPUIS COMPTE COURANT",
            Some("VIR-INT-20240308"),
            Some(6480),
        ),
        tx(
            "12345678901",
            day(2024, 3, 18),
            None,
            -4500,
            Some("EDF"),
            "PRLV SEPA EDF ECHEANCE MARS",
            None,
            Some(1980),
        ),
    ];
    assert_eq!(values(&p), expected);
    let keys = column(&p.items, |i| i.key.as_deref());
    assert_eq!(
        keys,
        [
            Some("FR7630003012340005000123456/2024030400001"),
            Some("FR7630003012340005000123456/2024030500002"),
            Some("FR7630003012340005000123456/NTRY-0312-3"),
            Some("FR7630003012340005000123456/2024032000007"),
            None,
            Some("FR7630003012340005000123456/2024033000012"),
            Some("12345678901/2024030800021"),
            Some("12345678901/2024031800022"),
        ]
    );
    // Each item is at its `<Ntry>` line.
    let lines = column(&p.items, |i| i.line);
    assert_eq!(lines, [71, 117, 144, 154, 171, 194, 270, 297]);
}

#[test]
fn v08_windows_1252_prefixed_with_only_a_closing_balance() {
    let bytes = fixture("camt/camt053_v08_windows1252.xml");
    assert!(
        bytes.windows(2).any(|w| w == b"\xe9l"),
        "Latin-1 bytes in the fixture"
    );
    let p = parse("camt053_v08_windows1252.xml");
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    assert_eq!(
        english(&p),
        [
            "1 information entry (INFO) was not imported: it is not a booking (line 111)",
            "2 pending entries (PDNG) were not imported: they are imported once booked (lines \
             122, 133)",
        ]
    );
    let acct = "FR7630003000500005000123456";
    assert_eq!(
        values(&p),
        [
            // Booked at 23:30+02:00 on 31 March: the day printed, whatever the offset.
            tx(
                acct,
                day(2024, 3, 31),
                Some(day(2024, 4, 1)),
                -4290,
                Some("Société Générale Assurances"),
                "Prélèvement assurance habitation avril",
                Some("SGA-HAB-2404-55120"),
                Some(195_659),
            ),
            tx(
                acct,
                day(2024, 4, 2),
                Some(day(2024, 4, 2)),
                120_000,
                Some("Caisse d'Allocations Familiales"),
                "VIR SEPA CAF PRESTATIONS MARS",
                Some("CAF2404020001"),
                Some(315_659),
            ),
            // Balances go back from the closing balance, the only one given.
            tx(
                acct,
                day(2024, 4, 4),
                None,
                -1500,
                None,
                "FRAIS TENUE DE COMPTE",
                None,
                Some(314_159),
            ),
        ]
    );
    let keys = column(&p.items, |i| i.key.clone().unwrap());
    assert_eq!(
        keys,
        [
            format!("{acct}/SG-240331-0001"),
            format!("{acct}/SG-240402-0007"),
            format!("{acct}/5"),
        ]
    );
}

#[test]
fn overlapping_statements_give_the_same_records() {
    let jan = parse("overlap_jan.xml");
    let feb = parse("overlap_jan_feb.xml");
    assert_eq!((jan.items.len(), feb.items.len()), (5, 5));
    let key = |i: &insitu_formats::Item| i.key.clone().unwrap();
    // The entries of 16, 25 and 31 January are in both statements.
    let overlap = column(&jan.items[2..], key);
    assert_eq!(
        overlap,
        [
            format!("{BNP}/BNP-240116-01"),
            format!("{BNP}/BNP-240125-01"),
            format!("{BNP}/BNP-240131-01"),
        ]
    );
    assert_eq!(overlap, column(&feb.items[..3], key));
    for (a, b) in jan.items[2..].iter().zip(&feb.items[..3]) {
        assert_eq!(a.values, b.values, "same values, balance included");
    }
    assert_eq!(
        feb.items[4].values,
        tx(
            BNP,
            day(2024, 2, 12),
            Some(day(2024, 2, 12)),
            -8745,
            None,
            "CB CARREFOUR 10/02",
            None,
            Some(298_989),
        )
    );
    assert_eq!(
        jan.items[0].values[4..7],
        [
            text("FREE MOBILE"),
            text("PRLV SEPA FREE MOBILE"),
            text("FM-240103-77812")
        ]
    );
}

#[test]
fn a_statement_that_does_not_add_up_is_refused_at_its_line() {
    assert_eq!(
        error("unbalanced.xml"),
        format!(
            "line 8: Stmt 1 ({BNP}): the statement does not add up: opening balance 800.00 \
             plus movements 2370.51 is 3170.51, but the closing balance is 3107.33 EUR"
        )
    );
}

#[test]
fn a_statement_that_does_not_add_up_is_imported_without_balances_on_request() {
    let opts = Options {
        unbalanced: Unbalanced::Import,
        ..Options::default()
    };
    let p = read(Format::Camt053, "camt/unbalanced.xml", &opts).unwrap();
    let t = txs(&p);
    assert_eq!(t.len(), 4);
    assert!(t.iter().all(|t| t.balance.is_none()), "{t:?}");
    assert_eq!(
        english(&p),
        [format!(
            "line 8: Stmt 1 ({BNP}): the statement does not add up: opening balance 800.00 \
             plus movements 2370.51 is 3170.51, but the closing balance is 3107.33 EUR; its 4 \
             movement(s) were imported as asked (--unbalanced=import), without running balances"
        )]
    );
}

#[test]
fn a_closing_balance_in_another_currency_is_a_currency_mismatch() {
    assert_eq!(
        error("closing_other_currency.xml"),
        format!(
            "line 8: Stmt 1 ({SG}): currency mismatch: a balance is in EUR and a balance in \
             USD, so the balances cannot be checked"
        )
    );
    let opts = Options {
        unbalanced: Unbalanced::Import,
        ..Options::default()
    };
    let p = read(Format::Camt053, "camt/closing_other_currency.xml", &opts).unwrap();
    assert_eq!(txs(&p)[0].balance, None);
    assert!(
        english(&p)[0].contains("currency mismatch"),
        "{:?}",
        p.notes
    );
}

#[test]
fn running_balances_follow_booking_dates_not_file_order() {
    let t = txs(&parse("out_of_order.xml"));
    let booked: Vec<i64> = column(&t, |t| t.booked);
    assert!(
        booked.windows(2).any(|w| w[0] > w[1]),
        "the fixture lists entries out of date order"
    );
    // OPBD 120.00, CLBD 1245.01; the two entries of 5 April in file order.
    chain_by_date(&t, 12_000, 124_501);
    assert_eq!((t[2].balance, t[3].balance), (Some(127_000), Some(126_001)));
}

#[test]
fn a_truncated_file_is_refused() {
    assert_eq!(
        error("truncated.xml"),
        "line 43: malformed XML: the file ends inside <Amt>: it is truncated"
    );
}

#[test]
fn an_unreadable_amount_is_a_bad_record_and_the_rest_is_read() {
    let p = parse("bad_amount.xml");
    assert_eq!(
        p.bad,
        [BadRecord {
            line: 42,
            element: Some("Stmt 1 > Ntry 2".into()),
            field: "Amt".into(),
            reason: "`63,1O` is not an amount: unexpected `O`".into(),
        }]
    );
    assert_eq!(p.items.len(), 4);
    assert!(
        p.items.iter().all(|i| i.values[7] == Value::Null),
        "no balances without every entry"
    );
    assert_eq!(
        english(&p),
        [format!(
            "Stmt 1 ({BNP}): the balances were not checked, as 1 entry could not be read"
        )]
    );
}

fn parse_str(xml: &str) -> Result<Parsed, String> {
    camt::parse(xml.as_bytes(), &Options::default()).map_err(|e| e.to_string())
}

const HEAD: &str = r#"<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>"#;

#[test]
fn files_that_cannot_be_read_are_refused_with_a_reason() {
    assert_eq!(
        parse_str(
            r#"<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
<BkToCstmrDbtCdtNtfctn><Ntfctn/></BkToCstmrDbtCdtNtfctn></Document>"#
        )
        .unwrap_err(),
        "line 1: not a camt.053 statement: no BkToCstmrStmt element \
         (it holds <BkToCstmrDbtCdtNtfctn>)"
    );
    assert_eq!(
        parse_str(&format!(
            "{HEAD}\n<Stmt><Acct><Ccy>EUR</Ccy></Acct></Stmt></BkToCstmrStmt></Document>"
        ))
        .unwrap_err(),
        "line 3: Stmt 1 has no account: Acct/Id/IBAN or Acct/Id/Othr/Id is required"
    );
    let e = parse_str(&format!("{HEAD}\n<Stmt></Acct></Stmt>")).unwrap_err();
    assert!(e.starts_with("line 3: malformed XML:"), "{e}");
    assert_eq!(
        parse_str(&format!("{HEAD}</BkToCstmrStmt></Document>")).unwrap_err(),
        "line 1: the camt.053 file holds no statement (Stmt)"
    );
    assert_eq!(
        parse_str(r#"<?xml version="1.0" encoding="klingon"?><Document/>"#).unwrap_err(),
        "line 1: unknown text encoding `klingon`"
    );
    assert!(parse_str("").is_err());
    assert!(parse_str("\u{feff}not xml at all").is_err());
}

#[test]
fn entries_without_a_required_field_are_bad_records() {
    let stmt = |ntry: &str| {
        format!(
            "{HEAD}<Stmt><Acct><Id><IBAN>X</IBAN></Id></Acct>\n<Ntry>{ntry}</Ntry></Stmt>\
             </BkToCstmrStmt></Document>"
        )
    };
    let bad = |ntry: &str| {
        let p = parse_str(&stmt(ntry)).unwrap();
        assert!(p.items.is_empty());
        let b = p.bad.into_iter().next().unwrap();
        assert_eq!((b.line, b.element.as_deref()), (3, Some("Stmt 1 > Ntry 1")));
        (b.field, b.reason)
    };
    let booked = "<Sts>BOOK</Sts><BookgDt><Dt>2024-01-02</Dt></BookgDt>";
    assert_eq!(
        bad(&format!(
            "<Amt>1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>{booked}"
        ))
        .0,
        "Ccy"
    );
    assert_eq!(
        bad(&format!(
            "<Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>X</CdtDbtInd>{booked}"
        )),
        ("CdtDbtInd".into(), "`X` is neither CRDT nor DBIT".into())
    );
    assert_eq!(
        bad(&format!(
            "<Amt Ccy=\"EUR\">1.00-</Amt><CdtDbtInd>DBIT</CdtDbtInd>{booked}"
        )),
        (
            "Amt".into(),
            "`1.00-` is negative, but the sign is CdtDbtInd's".into()
        )
    );
    assert_eq!(
        bad(
            "<Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>\
             <BookgDt><Dt>2024-02-30</Dt></BookgDt>"
        ),
        (
            "BookgDt".into(),
            "`2024-02-30`: 2024-02 has no day 30".into()
        )
    );
    assert_eq!(
        bad("<Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>\
             <BookgDt><Dt>2024-02-03</Dt></BookgDt>")
        .0,
        "Sts"
    );
    // A three-decimal currency, an empty element and a time with an offset.
    let p = parse_str(&stmt(
        "<Amt Ccy=\"KWD\">1.250</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>\
         <BookgDt><DtTm>2024-01-02T00:30:00-05:00</DtTm></BookgDt><AddtlNtryInf/>",
    ))
    .unwrap();
    assert_eq!(
        p.items[0].values[1..4],
        [
            day(2024, 1, 2),
            Value::Null,
            Value::Money {
                minor: -1250,
                currency: "KWD".into()
            }
        ]
    );
}

#[test]
fn sums_beyond_64_bits_are_refused_not_wrapped() {
    let ntry = "<Ntry><Amt Ccy=\"EUR\">90000000000000000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>\
                <Sts>BOOK</Sts><BookgDt><Dt>2024-01-02</Dt></BookgDt></Ntry>";
    let bal = |code: &str| {
        format!(
            "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0</Amt>\
             <CdtDbtInd>CRDT</CdtDbtInd></Bal>"
        )
    };
    let xml = format!(
        "{HEAD}\n<Stmt><Acct><Id><IBAN>X</IBAN></Id></Acct>{}{}{ntry}{ntry}</Stmt>\
         </BkToCstmrStmt></Document>",
        bal("OPBD"),
        bal("CLBD")
    );
    assert_eq!(
        parse_str(&xml).unwrap_err(),
        "line 3: Stmt 1 (X): the amounts are too large to add up"
    );
}

/// A tiny camt.053 writer: `.02` or `.08` (status and party nesting), with or without a prefix.
fn write(entries: &[Entry], opening: Option<(&str, i64)>, v08: bool, prefix: &str) -> String {
    let p = prefix;
    let el = |name: &str, body: &str| format!("<{p}{name}>{body}</{p}{name}>");
    let amt = |minor: i64| {
        format!(
            "<{p}Amt Ccy=\"EUR\">{}.{:02}</{p}Amt>{}",
            minor.unsigned_abs() / 100,
            minor.unsigned_abs() % 100,
            el("CdtDbtInd", if minor < 0 { "DBIT" } else { "CRDT" })
        )
    };
    let bal = |code: &str, minor: i64| {
        el(
            "Bal",
            &format!(
                "{}{}",
                el("Tp", &el("CdOrPrtry", &el("Cd", code))),
                amt(minor)
            ),
        )
    };
    let mut body = el("Acct", &el("Id", &el("IBAN", "DE89370400440532013000")));
    if let Some((code, opening)) = opening {
        body += &bal(code, opening);
        body += &bal(
            "CLBD",
            opening + entries.iter().map(|e| e.minor).sum::<i64>(),
        );
    }
    for e in entries {
        let date = insitu_formats::time::format_date(e.day * insitu_formats::time::DAY_MS);
        let sts = if v08 { el("Cd", "BOOK") } else { "BOOK".into() };
        let role = if e.minor < 0 { "Cdtr" } else { "Dbtr" };
        let party = e.party.as_ref().map_or(String::new(), |n| {
            let nm = el("Nm", &escape(n));
            el(role, &if v08 { el("Pty", &nm) } else { nm })
        });
        let details = el(
            "TxDtls",
            &format!(
                "{}{}",
                el("RltdPties", &party),
                el("RmtInf", &el("Ustrd", &escape(&e.label)))
            ),
        );
        let key = e
            .reference
            .as_ref()
            .map_or(String::new(), |k| el("AcctSvcrRef", k));
        body += "\n";
        body += &el(
            "Ntry",
            &format!(
                "{}{}{}{key}{}",
                amt(e.minor),
                el("Sts", &sts),
                el("BookgDt", &el("Dt", &date)),
                el("NtryDtls", &details)
            ),
        );
    }
    let ns = if v08 { "08" } else { "02" };
    let xmlns = format!(
        "xmlns{}=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{ns}\"",
        prefix
            .strip_suffix(':')
            .map_or(String::new(), |x| format!(":{x}"))
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{p}Document {xmlns}>{}</{p}Document>",
        el("BkToCstmrStmt", &el("Stmt", &body))
    )
}

fn gen_entry() -> impl Strategy<Value = Entry> {
    entry(
        -10_000_000_000..10_000_000_000,
        0..20_000,
        "[A-Za-z0-9éèàçÉ&<>'/.-]([A-Za-z0-9éèàçÉ &<>'/.-]{0,30}[A-Za-z0-9éèàçÉ&<>'/.-])?",
        "[A-Za-z][A-Za-z é'&]{0,20}[A-Za-z]",
        "[A-Z0-9-]{1,20}",
    )
}

proptest! {
    #[test]
    fn written_statements_read_back(
        entries in proptest::collection::vec(gen_entry(), 0..8),
        opening in -1_000_000_000i64..1_000_000_000,
        opening_code in prop::sample::select(vec![Some("OPBD"), Some("PRCD"), None]),
        v08 in any::<bool>(),
        prefix in prop::sample::select(vec!["", "ns2:", "camt:"]),
    ) {
        let xml = write(&entries, opening_code.map(|c| (c, opening)), v08, prefix);
        let p = camt::parse(xml.as_bytes(), &Options::default()).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
        prop_assert!(p.bad.is_empty());
        prop_assert_eq!(p.items.len(), entries.len());
        let balances = by_date(&entries, opening);
        for ((item, e), balance) in p.items.iter().zip(&entries).zip(balances) {
            let v = &item.values;
            prop_assert_eq!(&v[0], &text("DE89370400440532013000"));
            prop_assert_eq!(&v[1], &Value::Timestamp(e.day * insitu_formats::time::DAY_MS));
            prop_assert_eq!(&v[3], &eur(e.minor));
            prop_assert_eq!(&v[4], &opt(e.party.as_deref()));
            prop_assert_eq!(&v[5], &text(&e.label));
            let expected = if opening_code.is_some() { eur(balance) } else { Value::Null };
            prop_assert_eq!(&v[7], &expected);
            prop_assert_eq!(
                item.key.clone(),
                e.reference.as_ref().map(|k| format!("DE89370400440532013000/{k}"))
            );
        }
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = camt::parse(&bytes, &Options::default());
    }

    #[test]
    fn damaged_statements_do_not_panic(
        entries in proptest::collection::vec(gen_entry(), 1..4),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut xml = write(&entries, Some(("OPBD", 0)), true, "").into_bytes();
        let at = cut.index(xml.len());
        xml[at] = byte;
        let _ = camt::parse(&xml, &Options::default());
        let _ = camt::parse(&xml[..at], &Options::default());
    }
}
