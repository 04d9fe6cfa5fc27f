//! "Garbage never panics" for the readers without a fixture-shaped round trip: CSV with and
//! without a mapping, JSON Lines, receipts, usage events and LinkedIn's files. Shuffled
//! fragments of each format, as a fuzzer would try them (the fuzz targets in `fuzz/` are not
//! run by `cargo test`): never a panic, and what is read points at lines of the file.

mod common;

use common::{fixture, never_panics, shuffled};
use insitu_formats::csv::Mapping;
use insitu_formats::linkedin::LinkedInFile;
use insitu_formats::{Format, Options, Schema};
use proptest::prelude::*;

/// Cells, separators and line ends of CSV files, and what breaks them.
const CSV: &[&str] = &[
    "Date;Libellé;Débit;Crédit\n",
    "account,booked,amount,label\n",
    "booked",
    "amount",
    ",",
    ";",
    "\t",
    "\n",
    "\r\n",
    "\"",
    "\"\"",
    "\"a\nb\"",
    "01/02/2024",
    "32/01/2024",
    "2024-02-29",
    "-12,34",
    "12.34 EUR",
    "99999999999999999999",
    "(1,00)",
    "é",
    "\u{feff}",
    "\u{a0}",
    "Total",
    "   ",
];

fn bank() -> Schema {
    Schema::standard("bank.transactions").unwrap()
}

proptest! {
    #[test]
    fn csv_without_a_mapping(text in shuffled(CSV.to_vec())) {
        let opts = Options { schema: Some(bank()), ..Options::default() };
        never_panics(Format::Csv, &text, &opts, false)?;
    }

    #[test]
    fn csv_through_a_mapping(text in shuffled(CSV.to_vec()), skip in 0usize..3, footer in 0usize..3) {
        let mut mapping = Mapping::from_json(&fixture("csv/releve-totaux.mapping.json")).unwrap();
        mapping.skip_lines = skip;
        mapping.skip_footer = footer;
        let opts = Options { schema: Some(bank()), mapping: Some(mapping), ..Options::default() };
        never_panics(Format::Csv, &text, &opts, false)?;
    }

    #[test]
    fn json_lines(text in shuffled(vec![
        "{", "}", "[", "]", "\n", ",", ":", "\"booked\"", "\"amount\"", "\"account\"", "\"label\"",
        "\"2024-02-30\"", "1709200800000", "\"-12.34 EUR\"", "{\"minor\": 1, \"currency\": \"eur\"}",
        "null", "true", "1e999", "-0", "\"é\"", "\"\\u0000\"", "\"\\ud800\"",
    ])) {
        let opts = Options { schema: Some(bank()), ..Options::default() };
        never_panics(Format::JsonLines, &text, &opts, false)?;
    }

    #[test]
    fn receipts(text in shuffled(vec![
        "{", "}", "[", "]", "\n", ",", ":", "\"shop\"", "\"date\"", "\"currency\"", "\"items\"",
        "\"total\"", "\"quantity\"", "\"unit_price\"", "\"product\"", "\"EUR\"", "\"JPY\"",
        "\"2024-03-02T17:21:00+01:00\"", "\"1.09\"", "0.532", "2.675", "1e-7", "-3", "0",
        "9223372036854775807", "\"99999999999999999.99\"", "0.000000000000000000001", "null",
        "\"é\"",
    ])) {
        never_panics(Format::Receipts, &text, &Options::default(), true)?;
    }

    #[test]
    fn usage_events(text in shuffled(vec![
        "{", "}", "\n", ",", ":", "\"at\"", "\"product\"", "\"activity\"", "\"place\"",
        "\"time_of_day\"", "\"duration_s\"", "\"2024-03-02T07:30:00+01:00\"",
        "\"2024-03-02T23:59:60-14:00\"", "\"9999-12-31T23:59:59+23:59\"", "-9223372036854775808",
        "9223372036854775807", "\"app\"", "null", "1.5",
    ])) {
        never_panics(Format::UsageEvents, &text, &Options::default(), false)?;
    }

    #[test]
    fn linkedin_files(text in shuffled(vec![
        "Company Name,Title,Started On,Finished On\n", "School Name,Start Date,End Date\n",
        "Name\n", ",", "\n", "\"", "Acme", "Mar 2019", "Mär 2019", "September 2012", "2019",
        "2019-03-01", "Present", "é", "0", "99999 2019", "Jan 99999999999", "\r\n",
    ]), kind in prop::sample::select(vec![
        LinkedInFile::Positions, LinkedInFile::Education, LinkedInFile::Skills,
    ])) {
        never_panics(Format::LinkedIn(kind), &text, &Options::default(), false)?;
    }
}
