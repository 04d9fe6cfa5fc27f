#![no_main]

use insitu_formats::{Format, Options, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = Options { currency: Some("EUR".into()), ..Default::default() };
    let _ = parse(Format::Ofx, data, &opts);
});
