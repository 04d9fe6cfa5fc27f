#![no_main]

//! The manifest reader: a `manifest.json` (`Manifest::read`: size cap, JSON, bounds, use) and a
//! whole package around it (`package::parse`: custom sections, then the same reader). Neither
//! may panic; what they accept must describe itself and narrow itself.

use insitu_core::package::{self, Manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::read(data) {
        let _ = m.describe();
        assert_eq!(package::narrows(&m, &m), Ok(()));
    }
    let component = [b"\0asm\x0d\x00\x01\x00".as_slice(), data].concat();
    let _ = package::parse(&component);
});
