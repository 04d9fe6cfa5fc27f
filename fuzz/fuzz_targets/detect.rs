#![no_main]
//! Detection, then the detected format's parser, as `insitu import` does without `--format`.

use insitu_formats::{Options, detect, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(format) = detect(data) {
        let _ = parse(format, data, &Options::default());
    }
});
