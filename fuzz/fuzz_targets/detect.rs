#![no_main]
//! Detection, then the detected format's parser, as `insitu import` does without `--format`;
//! a refusal must render (it quotes lines of the input).

use insitu_formats::{Options, identify, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match identify(data) {
        Ok(format) => {
            let _ = parse(format, data, &Options::default());
        }
        Err(why) => {
            let _ = why.to_string();
        }
    }
});
