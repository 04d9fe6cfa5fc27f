//! Paths of the plugin components built by this crate's build script, one constant per plugin
//! in `plugins/` (e.g. [`FEE_SCANNER`]), and [`ALL`] as (package name, path) pairs.

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

/// The `manifest.json` of the plugin whose component is at `path`.
pub fn manifest_for(path: &str) -> &'static str {
    MANIFESTS
        .iter()
        .find(|(c, _)| *c == path)
        .map(|(_, m)| *m)
        .unwrap_or_else(|| panic!("{path} is not a plugin built by this crate"))
}

/// Reads the component of the plugin at `path`.
pub fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        panic!("plugin component {path} is missing ({e}); rebuild the workspace")
    })
}
