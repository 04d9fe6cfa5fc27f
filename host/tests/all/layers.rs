//! The crate layers of ARCHITECTURE.md ("Crates and layers"), checked on the manifests: each
//! crate's normal dependencies name only the Insitu crates below it, and none of the heavy
//! crates its layer must not know (the store never sees wasmtime, the sandbox never sees the
//! store, the domain reaches wasmtime only through the sandbox, the model does no I/O, nothing
//! below the server links axum, the command line builds no plugin).

use std::path::Path;

/// (crate directory, Insitu crates it may depend on, third-party crates it must not).
const LAYERS: &[(&str, &[&str], &[&str])] = &[
    (
        "formats",
        &[],
        &["redb", "wasmtime", "tokio", "axum", "insitu-model"],
    ),
    (
        "crates/model",
        &["insitu-formats"],
        &[
            "redb",
            "wasmtime",
            "wasmtime-wasi",
            "tokio",
            "axum",
            "hyper",
            "ed25519-dalek",
        ],
    ),
    (
        "crates/store",
        &["insitu-formats", "insitu-model"],
        &[
            "wasmtime",
            "wasmtime-wasi",
            "wasmparser",
            "tokio",
            "axum",
            "ed25519-dalek",
        ],
    ),
    (
        "crates/store-pg",
        &["insitu-model", "insitu-store"],
        &[
            "redb",
            "wasmtime",
            "wasmtime-wasi",
            "wasmparser",
            "axum",
            "ed25519-dalek",
        ],
    ),
    (
        "crates/sandbox",
        &["insitu-formats", "insitu-model"],
        &[
            "insitu-store",
            "redb",
            "ed25519-dalek",
            "wasmparser",
            "axum",
            "hyper",
        ],
    ),
    (
        "crates/core",
        &[
            "insitu-formats",
            "insitu-model",
            "insitu-store",
            "insitu-sandbox",
        ],
        &[
            "wasmtime",
            "wasmtime-wasi",
            "axum",
            "hyper",
            "hyper-util",
            "tower-http",
            "clap",
            "indicatif",
        ],
    ),
    (
        "crates/server",
        &[
            "insitu-formats",
            "insitu-model",
            "insitu-store",
            "insitu-core",
        ],
        &["clap", "indicatif"],
    ),
    (
        "host",
        // The command line opens the PostgreSQL store `--store` names, and hands it to core
        // as a `Store`: core itself knows no backend but the default one.
        &[
            "insitu-formats",
            "insitu-core",
            "insitu-server",
            "insitu-store-pg",
        ],
        &["insitu-plugins", "insitu-demo", "insitu-testkit"],
    ),
];

/// The names under `[dependencies]` of a Cargo manifest.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if !in_deps || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.split(['=', '.']).next() {
            names.push(name.trim().to_string());
        }
    }
    names
}

/// What breaks the layer rule in one manifest.
fn violations(manifest: &str, allowed: &[&str], forbidden: &[&str]) -> Vec<String> {
    dependencies(manifest)
        .into_iter()
        .filter(|d| {
            (d.starts_with("insitu") && !allowed.contains(&d.as_str()))
                || forbidden.contains(&d.as_str())
        })
        .collect()
}

#[test]
fn every_crate_depends_only_on_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut wrong = Vec::new();
    for (dir, allowed, forbidden) in LAYERS {
        let manifest = std::fs::read_to_string(root.join(dir).join("Cargo.toml")).unwrap();
        assert!(
            !dependencies(&manifest).is_empty() || *dir == "formats",
            "{dir}: no dependencies read; the parser is broken"
        );
        for v in violations(&manifest, allowed, forbidden) {
            wrong.push(format!("{dir} depends on {v}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "upward or forbidden dependencies: {wrong:?}"
    );
}

#[test]
fn the_layer_check_sees_an_upward_or_forbidden_dependency() {
    let store = "[package]\nname = \"insitu-store\"\n\n[dependencies]\nserde.workspace = true\n\
                 insitu-model = { path = \"../model\" }\n";
    let (_, allowed, forbidden) = LAYERS[2];
    assert!(violations(store, allowed, forbidden).is_empty());
    let upward = format!("{store}insitu-core = {{ path = \"../core\" }}\n");
    assert_eq!(violations(&upward, allowed, forbidden), ["insitu-core"]);
    let heavy = format!("{store}wasmtime.workspace = true\n");
    assert_eq!(violations(&heavy, allowed, forbidden), ["wasmtime"]);
    // A dev-dependency is not a layer's dependency.
    let dev = format!("{store}\n[dev-dependencies]\ninsitu-core = {{ path = \"../core\" }}\n");
    assert!(violations(&dev, allowed, forbidden).is_empty());
}
