//! The mapped CSV, receipts, usage events and LinkedIn readers on files shaped like real
//! exports: a French bank's Windows-1252 CSV with a preamble and debit/credit columns, receipts
//! with weighed items, usage traces, and LinkedIn's export folder.

mod common;

use common::{column, day, day_ms, eur, fixture, read_ok, text};
use insitu_formats::csv::Mapping;
use insitu_formats::linkedin::LinkedInFile;
use insitu_formats::schema::{
    CAREER_EDUCATION, CAREER_POSITIONS, CAREER_SKILLS, PURCHASED_PRODUCTS,
};
use insitu_formats::{Format, Options, Parsed, Schema, Value, detect, parse};

fn mapped(file: &str) -> Parsed {
    let mapping = Mapping::from_json(&fixture("csv/releve-banque.mapping.json")).unwrap();
    let opts = Options {
        schema: Schema::standard(mapping.collection.as_deref().unwrap()),
        mapping: Some(mapping),
        ..Default::default()
    };
    parse(Format::Csv, &fixture(file), &opts).unwrap()
}

#[test]
fn a_french_bank_csv_reads_through_its_mapping() {
    let p = mapped("csv/releve-banque.csv");
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    assert_eq!(p.collection, "bank.transactions");
    assert_eq!(p.items.len(), 5);
    let v = |i: usize| &p.items[i].values;
    assert_eq!(v(0)[0], text("30004 00123 00012345678"));
    assert_eq!(v(0)[1], day(2024, 1, 2));
    assert_eq!(v(0)[3], eur(-1999), "a debit written positive is negative");
    assert_eq!(v(1)[3], eur(245_000), "a credit with a thousands space");
    assert_eq!(v(2)[2], day(2024, 1, 4));
    assert_eq!(
        v(2)[5],
        text("CB CAFÉ DE LA GARE 04/01"),
        "Windows-1252 accents"
    );
    assert_eq!(v(3)[5], text("PRÉLÈVEMENT LOYER AGENCE DUPONT"));
    assert_eq!(v(4)[4], Value::Null, "no counterparty column");
    assert_eq!(p.items[0].line, 4, "lines count the preamble");
    assert_eq!(detect(&fixture("csv/releve-banque.csv")), Some(Format::Csv));
}

#[test]
fn a_mapped_csv_reports_each_bad_record_with_its_line() {
    let p = mapped("csv/releve-malformed.csv");
    assert_eq!(p.items.len(), 3);
    let bad = column(&p.bad, |b| (b.line, b.field.as_str()));
    assert_eq!(bad, vec![(6, "amount"), (7, "booked")]);
    assert!(p.bad[0].reason.contains("3,5O"), "{}", p.bad[0].reason);
    assert!(
        p.bad[1].reason.contains("has no day 32"),
        "{}",
        p.bad[1].reason
    );
}

#[test]
fn a_mapping_that_does_not_fit_refuses_the_file() {
    let schema = Schema::bank_transactions();
    let bytes = fixture("csv/releve-banque.csv");
    let with = |json: &str| {
        let opts = Options {
            schema: Some(schema.clone()),
            mapping: Some(Mapping::from_json(json.as_bytes()).unwrap()),
            ..Default::default()
        };
        parse(Format::Csv, &bytes, &opts).unwrap_err().to_string()
    };
    let base = r#""skip_lines": 2, "delimiter": ";", "currency": "EUR""#;
    let e = with(&format!(
        r#"{{{base}, "fields": {{"account": "Compte", "booked": "Date opération", "amount": "Débit", "label": "Libellé"}}}}"#
    ));
    assert!(e.contains("no column `Compte` in the header"), "{e}");
    assert!(e.contains("line 3"), "{e}");
    let e = with(&format!(
        r#"{{{base}, "fields": {{"booked": "Date opération", "amount": "Débit", "label": "Libellé"}}}}"#
    ));
    assert!(e.contains("no column for required field `account`"), "{e}");
    let e = with(&format!(r#"{{{base}, "fields": {{"colour": "Libellé"}}}}"#));
    assert!(e.contains("field `colour`"), "{e}");
    assert!(
        Mapping::from_json(br#"{"fields": {}, "delimeter": ";"}"#)
            .unwrap_err()
            .contains("unknown field `delimeter`")
    );
}

#[test]
fn receipts_become_line_items_with_exact_totals() {
    let p = read_ok(Format::Receipts, "receipts/carrefour.json");
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    assert_eq!(p.collection, "receipts.items");
    assert_eq!(p.items.len(), 6);
    let tomatoes = &p.items[1].values;
    assert_eq!(tomatoes[3], text("Tomates grappe"));
    assert_eq!(tomatoes[4], Value::Null, "no barcode");
    assert_eq!(tomatoes[5], Value::Float(0.532));
    assert_eq!(tomatoes[6], text("kg"));
    assert_eq!(
        (tomatoes[7].clone(), tomatoes[8].clone()),
        (eur(379), eur(202))
    );
    assert_eq!(
        tomatoes[1],
        Value::Timestamp(day_ms(2024, 3, 2) + 16 * 3_600_000 + 21 * 60_000)
    );
    assert_eq!(tomatoes[2], text("T-0042"));
    assert_eq!(
        p.items[2].values[8],
        eur(389),
        "a price written as a JSON number"
    );
    assert_eq!(p.items[4].values[8], eur(-10), "a discount line");
    assert_eq!(p.items[5].values[2], Value::Null, "a receipt without id");
    let bad = parse(
        Format::Receipts,
        &fixture("receipts/bad-total.json"),
        &Options::default(),
    )
    .unwrap();
    assert!(
        bad.items.is_empty(),
        "a receipt that does not add up imports no line"
    );
    assert!(
        bad.bad[0]
            .reason
            .contains("5.00 EUR is not the sum of its lines, 2.90"),
        "{:?}",
        bad.bad
    );
}

#[test]
fn usage_events_keep_their_context() {
    let p = read_ok(Format::UsageEvents, "usage/events.jsonl");
    assert_eq!(p.items.len(), 3);
    let first = &p.items[0].values;
    assert_eq!(
        first[0],
        Value::Timestamp(day_ms(2024, 5, 1) + 5 * 3_600_000 + 42 * 60_000)
    );
    assert_eq!(first[3], text("home"));
    assert_eq!(first[4], text("morning"), "07:42 local time");
    assert_eq!(first[6], Value::Integer(240));
    assert_eq!(p.items[1].values[4], text("afternoon"));
    assert_eq!(p.items[2].values[4], text("evening"));
    let bad = column(&p.bad, |b| (b.line, b.field.as_str()));
    assert_eq!(bad, vec![(4, "activity"), (5, "duration_s")]);
}

#[test]
fn the_linkedin_export_fills_the_career_collections() {
    let read = |file: &str, kind| read_ok(Format::LinkedIn(kind), &format!("linkedin/{file}"));
    let pos = read("Positions.csv", LinkedInFile::Positions);
    assert_eq!(pos.collection, CAREER_POSITIONS);
    assert_eq!(pos.items.len(), 3);
    let acme = &pos.items[0].values;
    assert_eq!(
        acme[..3],
        [
            text("Acme SA"),
            text("Data Engineer"),
            text("Lyon, Auvergne-Rhône-Alpes, France")
        ]
    );
    assert_eq!(acme[3], day(2021, 3, 1));
    assert_eq!(acme[4], Value::Null, "a current position has no end");
    assert_eq!(pos.items[1].values[4], day(2021, 2, 1));
    let edu = read("Education.csv", LinkedInFile::Education);
    assert_eq!(edu.collection, CAREER_EDUCATION);
    assert_eq!(edu.items[0].values[1], text("Diplôme d'ingénieur"));
    assert_eq!(edu.items[1].values[2], day(2012, 1, 1), "only an end date");
    let skills = read("Skills.csv", LinkedInFile::Skills);
    assert_eq!(skills.collection, CAREER_SKILLS);
    assert_eq!(skills.items.len(), 3);
    let bad = read("Positions-bad.csv", LinkedInFile::Positions);
    let why = column(&bad.bad, |b| (b.line, b.field.as_str()));
    assert_eq!(why, vec![(2, "Finished On"), (3, "Company Name")]);
    assert_eq!(
        detect(&fixture("linkedin/Connections.csv")),
        Some(Format::Csv)
    );
}

#[test]
fn a_plain_csv_fills_any_collection_by_header() {
    let opts = Options {
        schema: Schema::standard(PURCHASED_PRODUCTS),
        ..Default::default()
    };
    let p = parse(Format::Csv, &fixture("purchases/products.csv"), &opts).unwrap();
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    assert_eq!(p.items[0].values[5], Value::Float(139.0));
    assert_eq!(p.items[2].values[5], Value::Null, "not measured");
    assert_eq!(p.items[2].values[1], text("Jus d'orange 1 L"));
}
