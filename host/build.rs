//! Embeds the plugin project templates (`kit/templates/<lang>/`, every file) and the SDK's
//! sources and WIT (`sdk/src/`, `wit/plugin.wit`) into the binary, for `insitu plugin new`
//! (`src/cli/kit.rs`). Writes `$OUT_DIR/kit_files.rs`: paths relative to their directory, and
//! contents through `include_bytes!`, so no path of this machine ends up in the binary. A
//! language whose directory is missing is simply absent; the command says so.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Directories never copied into a project: build outputs an author may leave in a template.
const SKIP: &[&str] = &["target", "node_modules", "__pycache__", ".venv"];

fn files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if SKIP.iter().any(|s| name == *s) {
            continue;
        }
        if path.is_dir() {
            files(root, &path, out);
        } else if path.is_file() {
            out.push(
                path.strip_prefix(root)
                    .expect("under its root")
                    .to_path_buf(),
            );
        }
    }
}

#[cfg(unix)]
fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn executable(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "sh")
}

/// One `(relative path, executable, contents)` entry per file under `root`, sorted.
fn entries(root: &Path, prefix: &str, code: &mut String) {
    let mut list = Vec::new();
    files(root, root, &mut list);
    list.sort();
    for rel in list {
        let abs = root.join(&rel);
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        writeln!(
            code,
            "    ({:?}, {}, include_bytes!({:?})),",
            format!("{prefix}{rel}"),
            executable(&abs),
            abs.display().to_string()
        )
        .expect("write to a String");
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("..");
    let templates = root.join("kit/templates");
    for dir in [&templates, &root.join("sdk/src"), &root.join("wit")] {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    let mut code = String::from(
        "/// Every template: `(language, [(path, executable, contents)])`.\n\
         pub static TEMPLATES: &[(&str, &[File])] = &[\n",
    );
    for lang in ["rust", "python", "js"] {
        let dir = templates.join(lang);
        if dir.is_dir() {
            code.push_str(&format!("  ({lang:?}, &[\n"));
            entries(&dir, "", &mut code);
            code.push_str("  ]),\n");
        }
    }
    code.push_str(
        "];\n\n/// The SDK's sources and the WIT they bind, as placed in a Rust project.\n\
         pub static SDK: &[File] = &[\n",
    );
    entries(&root.join("sdk/src"), "insitu-sdk/src/", &mut code);
    entries(&root.join("wit"), "wit/", &mut code);
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("kit_files.rs"), code).expect("write kit_files.rs");
}
