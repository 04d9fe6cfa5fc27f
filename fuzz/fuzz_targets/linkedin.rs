#![no_main]

use insitu_formats::{Format, Options, linkedin::LinkedInFile, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = Options { currency: Some("EUR".into()), ..Default::default() };
    let _ = parse(Format::LinkedIn(LinkedInFile::Positions), data, &opts);
});
