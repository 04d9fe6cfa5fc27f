#![no_main]
//! Zip archives as `insitu import` reads them: the entries within the caps, then each one
//! detected and parsed on its own.

use insitu_formats::zip::{Limits, entries};
use insitu_formats::{Options, identify, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small caps, so that a run explores refusals instead of decompressing for long.
    let limits = Limits {
        max_entries: 16,
        max_total: 4 << 20,
        ..Limits::default()
    };
    if let Ok(files) = entries(data, &limits) {
        for f in files {
            if let Ok(format) = identify(&f.bytes) {
                let _ = parse(format, &f.bytes, &Options::default());
            }
        }
    }
});
