#![no_main]
//! camt.052 account reports and camt.054 notifications: the camt.053 reader under their roots.

use insitu_formats::{Format, Options, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = Options::default();
    let _ = parse(Format::Camt052, data, &opts);
    let _ = parse(Format::Camt054, data, &opts);
});
