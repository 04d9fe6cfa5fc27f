//! The plugin developer's kit on the command line: `insitu plugin new` writes a plugin project
//! from a template embedded at compile time (`kit/templates/<lang>/`, see `build.rs`), and
//! `insitu package pack` fills or checks the manifest's `imports` and shows its data window.
//!
//! Neither needs a store: both run before one is opened.
//!
//! May touch: the file system under the directories it is given; the library's `package`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use insitu_core::clock::{Clock, SystemClock};
use insitu_core::package;

/// An embedded file: its path in the project, whether it is executable, its contents.
type File = (&'static str, bool, &'static [u8]);

// `TEMPLATES` and `SDK`, written by `build.rs`.
include!(concat!(env!("OUT_DIR"), "/kit_files.rs"));

/// The literal every template uses for the project's name, and its snake_case form (crate and
/// module names); both are replaced in every file's contents and path.
const NAME: &str = "insitu-plugin-template";
const SNAKE: &str = "insitu_plugin_template";

/// The languages a plugin project can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    Js,
}

impl Lang {
    /// The template's directory under `kit/templates/`.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
        }
    }
}

/// Checks a project name: lowercase ASCII letters, digits and `-`, starting with a letter, at
/// most [`package::MAX_NAME`] bytes (it becomes the manifest's `id`).
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.len() <= package::MAX_NAME;
    if !ok {
        bail!(
            "`{name}` is not a valid plugin name: use lowercase letters, digits and `-`, starting \
             with a letter, at most {} characters (for example `large-debit`)",
            package::MAX_NAME
        );
    }
    Ok(())
}

/// `text` with the template's name replaced by `name` (and its snake_case form by `snake`).
fn named(text: &str, name: &str, snake: &str) -> String {
    text.replace(NAME, name).replace(SNAKE, snake)
}

/// The files of a `lang` project called `name`: `(path, executable, contents)`. Text files
/// get the name filled in; anything else is copied as it is.
pub fn project_files(name: &str, lang: Lang) -> anyhow::Result<Vec<(String, bool, Vec<u8>)>> {
    check_name(name)?;
    let Some((_, template)) = TEMPLATES.iter().find(|(l, _)| *l == lang.dir()) else {
        bail!(
            "this build of insitu has no {} template: kit/templates/{} was missing when it was \
             compiled; rebuild insitu from a checkout that has it",
            lang.dir(),
            lang.dir()
        );
    };
    let snake = name.replace('-', "_");
    let mut files: Vec<(String, bool, Vec<u8>)> = template
        .iter()
        .map(|(path, exec, bytes)| {
            let contents = match std::str::from_utf8(bytes) {
                Ok(text) => named(text, name, &snake).into_bytes(),
                Err(_) => bytes.to_vec(),
            };
            (named(path, name, &snake), *exec, contents)
        })
        .collect();
    if lang == Lang::Rust {
        // The SDK and its WIT, vendored, so that the project builds away from this repository.
        files.extend(SDK.iter().map(|(p, e, b)| (p.to_string(), *e, b.to_vec())));
    }
    Ok(files)
}

/// Writes a `lang` project called `name` into `parent/name`, which must not exist or be empty.
/// Returns the project's directory.
pub fn new_project(name: &str, lang: Lang, parent: &Path) -> anyhow::Result<PathBuf> {
    let files = project_files(name, lang)?;
    let dest = parent.join(name);
    if dest.exists() {
        let empty = dest.is_dir()
            && std::fs::read_dir(&dest)
                .with_context(|| format!("cannot read {}", dest.display()))?
                .next()
                .is_none();
        if !empty {
            bail!(
                "{} already exists and is not an empty directory; nothing was written\nhint: \
                 choose another name, or another parent directory with --dir",
                dest.display()
            );
        }
    }
    for (path, exec, contents) in &files {
        let file = dest.join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&file, contents)
            .with_context(|| format!("cannot write {}", file.display()))?;
        #[cfg(unix)]
        if *exec {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("cannot make {} executable", file.display()))?;
        }
    }
    Ok(dest)
}

/// `insitu plugin new`: writes the project and prints the commands to run next.
pub fn new(name: &str, lang: Lang, parent: Option<&Path>) -> anyhow::Result<()> {
    let parent = parent.unwrap_or(Path::new("."));
    let dest = new_project(name, lang, parent)?;
    let has = |f: &str| dest.join(f).exists();
    println!(
        "created the {} plugin project {name} in {}",
        lang.dir(),
        dest.display()
    );
    println!("next:");
    println!("  cd {}", dest.display());
    match lang {
        Lang::Rust => println!("  cargo test        # the rule's unit tests"),
        Lang::Python => println!("  python3 -m unittest   # the rule's unit tests"),
        Lang::Js => {
            println!("  node --test       # the rule's unit tests");
            println!("  npm install       # componentize-js, pinned in package.json");
        }
    }
    if has("build.sh") {
        println!("  ./build.sh        # builds build/{name}.insitu, signed with a development key");
    }
    println!(
        "  insitu plugin test build/{name}.insitu --generate bank.transactions=1000\n                    # runs it on generated data in a throw-away store"
    );
    println!("then README.md: installing it into a store, and the build flags");
    Ok(())
}

/// `insitu package pack`: packs `component` with the manifest at `manifest` into `out`, after
/// filling or checking its `imports`, and shows the data window it asks for.
pub fn pack(component: &Path, manifest: &Path, out: &Path) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(component).with_context(|| format!("cannot read {}", component.display()))?;
    let json =
        std::fs::read(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let (m, filled) = package::manifest_for_pack(&bytes, &json).with_context(|| {
        format!(
            "{} was not packed with {}",
            component.display(),
            manifest.display()
        )
    })?;
    let packed = package::pack(&bytes, &m)?;
    std::fs::write(out, &packed).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "packed {} {} into {} (digest {})",
        m.id,
        m.version,
        out.display(),
        package::parse(&packed)?.digest
    );
    if filled {
        println!(
            "imports: {} (filled in from the component: {} has no \"imports\"; add them to it \
             to have them checked at each pack)",
            m.imports.join(", "),
            manifest.display()
        );
    } else {
        println!(
            "imports: {} (as the component imports)",
            m.imports.join(", ")
        );
    }
    if !m.data.is_empty() {
        println!("data it may read, under a grant approved today:");
        // `pack` opens no store: the command line reads the system clock itself.
        for line in package::describe_window(&m, SystemClock.now_ms()).lines() {
            println!("  {line}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_filled_into_paths_and_contents() {
        for bad in [
            "",
            "Large",
            "1debit",
            "-x",
            "large_debit",
            "large debit",
            "débit",
        ] {
            assert!(check_name(bad).is_err(), "`{bad}` was accepted");
        }
        check_name("large-debit2").unwrap();
        let files = project_files("large-debit2", Lang::Rust).unwrap();
        let text = |p: &str| {
            let (_, _, b) = files.iter().find(|(q, _, _)| q == p).expect(p);
            String::from_utf8(b.clone()).unwrap()
        };
        assert!(text("Cargo.toml").contains("name = \"large-debit2\""));
        assert!(text("manifest.json").contains("\"id\": \"large-debit2\""));
        assert!(text("build.sh").contains("large_debit2.wasm"));
        assert!(files.iter().any(|(p, exec, _)| p == "build.sh" && *exec));
        assert!(text("insitu-sdk/src/lib.rs").contains("wit_bindgen::generate!"));
        assert!(text("wit/plugin.wit").contains("package insitu:plugin@"));
        for (path, _, bytes) in &files {
            let t = String::from_utf8_lossy(bytes);
            assert!(
                !t.contains(NAME) && !t.contains(SNAKE),
                "{path} keeps the template's name"
            );
        }
    }

    /// The vendored SDK's manifest names the wit-bindgen the workspace builds the SDK with.
    #[test]
    fn the_vendored_sdk_uses_the_workspace_wit_bindgen() {
        let workspace = include_str!("../../../Cargo.toml");
        let version = workspace
            .lines()
            .find_map(|l| l.strip_prefix("wit-bindgen = "))
            .expect("wit-bindgen in [workspace.dependencies]");
        let files = project_files("x", Lang::Rust).unwrap();
        let (_, _, sdk) = files
            .iter()
            .find(|(p, _, _)| p == "insitu-sdk/Cargo.toml")
            .unwrap();
        let sdk = String::from_utf8_lossy(sdk);
        assert!(
            sdk.contains(&format!("wit-bindgen = {version}")),
            "{sdk} does not use wit-bindgen {version}"
        );
    }

    /// The template's Cargo.lock pins the versions this repository builds and tests the SDK
    /// with, so that a new project builds with crates already known to work (and offline once
    /// they are in the local cache).
    #[test]
    fn the_template_lock_pins_the_workspace_versions() {
        let workspace = include_str!("../../../Cargo.lock");
        let files = project_files("x", Lang::Rust).unwrap();
        let (_, _, lock) = files.iter().find(|(p, _, _)| p == "Cargo.lock").unwrap();
        let lock = String::from_utf8_lossy(lock);
        let packages = lock.split("[[package]]").skip(1);
        let mut checked = 0;
        for p in packages.filter(|p| p.contains("source = \"registry+")) {
            let head: String = p.lines().take(3).collect::<Vec<_>>().join("\n");
            assert!(
                workspace.contains(head.trim()),
                "the template's Cargo.lock has {head}, which the workspace does not build; \
                 regenerate kit/templates/rust/Cargo.lock (`cargo generate-lockfile --offline` in \
                 a new project, its name put back to insitu-plugin-template)"
            );
            checked += 1;
        }
        assert!(
            checked > 10,
            "only {checked} registry packages in the template's lock"
        );
    }
}
