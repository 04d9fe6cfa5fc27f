//! The compiled-code cache: native code for each installed component, on disk.
//!
//! A cache file is named by the component's digest and a fingerprint of the engine (wasmtime
//! version and configuration), so a changed engine never loads stale code. Loading native code
//! is `unsafe` (it is trusted to be what wasmtime wrote), so the SHA-256 of every file is kept
//! outside the plugin directory ([`CodeStore`]: the store, in practice) when it is
//! written, and checked before it is loaded: a file that does not match, whether damaged or
//! tampered with, is recompiled from the installed component, never trusted.
//! The installed component itself is checked against its digest before compiling.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use insitu_model::audit::hex;

use crate::source::CodeStore;

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash never leaves a
/// half-written file under the final name. The temporary file is this writer's own (process and
/// call), so that writers of the same path at once (a node's first runs of a plugin, all
/// compiling it; nodes sharing a directory) each rename a whole file and the last one stays.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("{}-{n}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn fingerprint(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

fn cache_key(engine: &Engine, digest: &str) -> String {
    format!("{digest}-{}", fingerprint(engine))
}

fn cache_path(dir: &Path, key: &str) -> PathBuf {
    dir.join("compiled").join(format!("{key}.cwasm"))
}

/// Serialises `component` into the cache and records its hash.
pub fn store_compiled(
    engine: &Engine,
    code: &dyn CodeStore,
    dir: &Path,
    digest: &str,
    component: &Component,
) -> anyhow::Result<()> {
    let bytes = component.serialize()?;
    let key = cache_key(engine, digest);
    write_atomic(&cache_path(dir, &key), &bytes)?;
    code.set_compiled_hash(&key, &hex(&Sha256::digest(&bytes)))?;
    Ok(())
}

/// Loads the component `digest`: from the cache if its hash checks out, else recompiled from
/// the installed component, whose own digest is checked first. The component comes from the
/// code store; one installed before components were kept there is read from `legacy` (the
/// plugin directory's `<digest>.wasm`) and, once checked, kept in the code store.
pub fn load(
    engine: &Engine,
    code: &dyn CodeStore,
    dir: &Path,
    digest: &str,
    legacy: &Path,
) -> anyhow::Result<Component> {
    let key = cache_key(engine, digest);
    let path = cache_path(dir, &key);
    if let (Some(expected), Ok(bytes)) = (code.compiled_hash(&key)?, std::fs::read(&path))
        && hex(&Sha256::digest(&bytes)) == expected
    {
        // SAFETY: these bytes are exactly those `Component::serialize` produced for this
        // engine fingerprint: their hash was recorded when they were written.
        match unsafe { Component::deserialize(engine, &bytes) } {
            Ok(c) => return Ok(c),
            Err(e) => tracing::warn!(%digest, "compiled cache entry refused, recompiling: {e:#}"),
        }
    } else {
        tracing::info!(%digest, "no valid compiled cache entry, compiling");
    }
    let (bytes, kept) = match code.component(digest)? {
        Some(bytes) => (bytes, true),
        None => {
            let bytes = std::fs::read(legacy).with_context(|| {
                format!("plugin {digest} is not installed (the store does not hold its component)")
            })?;
            (bytes, false)
        }
    };
    if hex(&Sha256::digest(&bytes)) != digest {
        bail!(
            "the installed component {digest} does not match its digest: it was altered; install it again"
        );
    }
    if !kept {
        code.put_component(digest, &bytes)?;
    }
    let component = Component::new(engine, &bytes)?;
    store_compiled(engine, code, dir, digest, &component)?;
    Ok(component)
}

#[cfg(test)]
mod tests {
    /// Two writers of one path at once both succeed, and the file is one of theirs, whole.
    #[test]
    fn writers_of_one_path_at_once_both_succeed() {
        let dir = std::env::temp_dir().join(format!("insitu-write-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.cwasm");
        for _ in 0..50 {
            let (a, b) = (vec![1u8; 1 << 16], vec![2u8; 1 << 16]);
            std::thread::scope(|s| {
                let one = s.spawn(|| super::write_atomic(&path, &a));
                let two = s.spawn(|| super::write_atomic(&path, &b));
                one.join().unwrap().unwrap();
                two.join().unwrap().unwrap();
            });
            let got = std::fs::read(&path).unwrap();
            assert!(got == a || got == b);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
