#![no_main]

use insitu_formats::{DateOrder, Format, Options, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // With the day order given, inputs reach the record code instead of stopping at the
    // "ambiguous dates" error.
    let opts = Options {
        currency: Some("EUR".into()),
        date_order: Some(DateOrder::DayFirst),
        ..Default::default()
    };
    let _ = parse(Format::Qif, data, &opts);
});
