#![no_main]
//! The mapped CSV reader: the first line of the input is the mapping file, the rest the CSV.

use insitu_formats::{Format, Options, Schema, csv::Mapping, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&b| b == b'\n') else {
        return;
    };
    let Ok(mapping) = serde_json::from_slice::<Mapping>(&data[..split]) else {
        return;
    };
    let collection = mapping.collection.as_deref().unwrap_or("bank.transactions");
    let opts = Options {
        schema: Schema::standard(collection),
        mapping: Some(mapping),
        ..Default::default()
    };
    let _ = parse(Format::Csv, &data[split + 1..], &opts);
});
