//! The mapped CSV, receipts, usage events and LinkedIn readers on files shaped like real
//! exports: a French bank's Windows-1252 CSV with a preamble and debit/credit columns, receipts
//! with weighed items, usage traces, and LinkedIn's export folder.

mod common;

use common::{column, day, day_ms, english, eur, fixture, read_ok, text};
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

#[test]
fn footer_rows_are_skipped_as_the_mapping_says() {
    let mapping = Mapping::from_json(&fixture("csv/releve-totaux.mapping.json")).unwrap();
    assert_eq!(mapping.skip_footer, 2);
    let opts = Options {
        schema: Schema::standard("bank.transactions"),
        mapping: Some(mapping),
        ..Default::default()
    };
    let p = parse(Format::Csv, &fixture("csv/releve-totaux.csv"), &opts).unwrap();
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    assert_eq!(
        column(&p.items, |i| (i.line, i.values[3].clone())),
        [(2, eur(-1999)), (3, eur(245_000)), (4, eur(-5430))]
    );
    assert_eq!(
        english(&p),
        ["lines 6 to 7: skipped 2 footer row(s), as the mapping's `skip_footer` says"]
    );
}

#[test]
fn a_csv_row_with_several_bad_fields_names_each() {
    let p = mapped("csv/releve-two-bad.csv");
    assert_eq!(p.items.len(), 1);
    assert_eq!(
        column(&p.bad, |b| (b.line, b.field.as_str())),
        [(5, "booked, value_date, amount")]
    );
    assert_eq!(
        p.bad[0].reason,
        "field `booked`: `32/01/2024`: 2024-01 has no day 32; \
         field `value_date`: `2024-01-31` does not match the date format `%d/%m/%Y`; \
         field `amount`: `2,5O` is not an amount: unexpected `O`"
    );
}

#[test]
fn receipt_arithmetic_is_exact_decimal() {
    let bytes = fixture("receipts/weighed.json");
    let p = parse(Format::Receipts, &bytes, &Options::default()).unwrap();
    // 2.675 kg × 1.00 = 2.675 and 0.5 kg × 3.77 = 1.885, with no line total: rounded half to
    // even (through a float, 1.885 became 1.89). 0.25 kg × 17.90 = 4.475, printed 4.47: within
    // half a cent.
    assert_eq!(
        column(&p.items, |i| (i.values[3].clone(), i.values[8].clone())),
        [
            (text("Pommes Golden"), eur(268)),
            (text("Tomates grappe"), eur(188)),
            (text("Comté 18 mois"), eur(447)),
        ]
    );
    assert_eq!(p.items[0].values[5], Value::Float(2.675));
    assert_eq!(
        english(&p),
        [
            "receipt 1: items[0].total: 2.675 × 1.00 = 2.675 EUR, rounded half to even to 2.68",
            "receipt 2: items[0].total: 0.5 × 3.77 = 1.885 EUR, rounded half to even to 1.88",
        ]
    );
    // One cent off is not a rounding: refused, and so is a quantity not written in decimals.
    assert_eq!(
        column(&p.bad, |b| (
            b.element.clone(),
            b.field.clone(),
            b.reason.clone()
        )),
        [
            (
                Some("receipt 4".into()),
                "items[0].total".into(),
                "line total 2.19 EUR is not 2 × 1.09 = 2.18".into()
            ),
            (
                Some("receipt 5".into()),
                "items[0].total".into(),
                "line total 4.46 EUR is not 0.25 × 17.90 = 4.475 rounded to 4.47 or 4.48".into()
            ),
            (
                Some("receipt 6".into()),
                "items[0].quantity".into(),
                "`1e-1` is not a positive decimal quantity like `0.532`".into()
            ),
        ]
    );
}

#[test]
fn a_receipt_with_several_bad_fields_names_each() {
    let bytes = fixture("receipts/bad-fields.json");
    let p = parse(Format::Receipts, &bytes, &Options::default()).unwrap();
    assert!(p.items.is_empty());
    assert_eq!(
        column(&p.bad, |b| b.field.as_str()),
        ["date, currency, items[0].quantity"]
    );
    let reason = &p.bad[0].reason;
    assert!(
        reason.contains("field `date`: `le 5 mars` is not a date"),
        "{reason}"
    );
    assert!(
        reason.contains("field `currency`: `euros` is not a currency code"),
        "{reason}"
    );
    assert!(
        reason.contains("field `items[0].quantity`: `-2` is not a positive decimal quantity"),
        "{reason}"
    );
}

#[test]
fn a_json_line_with_several_bad_fields_names_each() {
    let bytes = fixture("usage/bad-fields.jsonl");
    let p = parse(Format::UsageEvents, &bytes, &Options::default()).unwrap();
    assert_eq!(p.items.len(), 1);
    assert_eq!(
        column(&p.bad, |b| (b.line, b.field.as_str())),
        [(2, "at, activity, duration_s")]
    );
    assert!(
        p.bad[0].reason.contains("field `activity`: missing value"),
        "{}",
        p.bad[0].reason
    );
}

#[test]
fn linkedin_dates_say_every_form_read_and_every_bad_field() {
    let bytes = fixture("linkedin/Positions-present.csv");
    let p = parse(
        Format::LinkedIn(LinkedInFile::Positions),
        &bytes,
        &Options::default(),
    )
    .unwrap();
    assert_eq!(column(&p.items, |i| i.line), [4]);
    assert_eq!(
        column(&p.bad, |b| (b.line, b.field.as_str())),
        [(2, "Finished On"), (3, "Company Name, Started On")]
    );
    assert_eq!(
        p.bad[0].reason,
        "`Present` is not a date like `Mar 2019`, `March 2019`, `2019` or `2019-03-01` \
         (an empty end date means a current position)"
    );
    assert_eq!(
        p.bad[1].reason,
        "field `Company Name`: missing value; field `Started On`: `2017/09` is not a date \
         like `Mar 2019`, `March 2019`, `2019` or `2019-03-01`"
    );
}
