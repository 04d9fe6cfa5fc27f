//! The plugin developer's guide, `docs/PLUGINS.md`, run as written: every fenced block whose
//! info string is `sh` is run in order, each with `bash -euo pipefail`, in one fresh directory,
//! with the `insitu` binary under test first on `PATH`. A block that exits non-zero fails the
//! test with its text, its stdout and its stderr.
//!
//! A `text` block right after the line `<!-- expect -->` holds output: each of its non-empty
//! lines must appear in the stdout of the `sh` block before it. Other `text` and `console`
//! blocks only show output and are not run. A `wit` block quotes `wit/plugin.wit` verbatim.
//!
//! The guide's commands see these variables:
//! - `INSITU`: the binary under test (also `insitu` on `PATH`);
//! - `INSITU_DATA_DIR`: `data/` in the directory the blocks run in (the store they set up);
//! - `EXAMPLE_COMPONENT`: the repository's built `fee-scanner` component, standing for the
//!   reader's own component;
//! - `INSITU_REPO`: this repository's root (for blocks that need the SDK or templates from it).
//!
//! `HOME` and the rest of the environment are the test's own, so that blocks which build a
//! plugin find the toolchains (cargo, rustup, Python, npm) as a reader's shell would.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One fenced block of the guide.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    /// The info string after the opening fence (`sh`, `text`, `json`, ...).
    info: String,
    body: String,
    /// The guide's line number of the opening fence (1-based).
    line: usize,
    /// Whether `<!-- expect -->` is the last non-blank line before the fence.
    expect: bool,
}

/// Every fenced block of `doc`, in order. A fence is a line that starts, after indentation,
/// with three backticks; the block ends at the next such line.
fn blocks(doc: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    let mut last_text_line = "";
    for (i, line) in doc.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            Some(b) => {
                if trimmed.starts_with("```") {
                    out.push(open.take().expect("a block is open"));
                    last_text_line = "";
                } else {
                    b.body.push_str(line);
                    b.body.push('\n');
                }
            }
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    open = Some(Block {
                        info: info.trim().to_string(),
                        body: String::new(),
                        line: i + 1,
                        expect: last_text_line.trim() == "<!-- expect -->",
                    });
                } else if !trimmed.is_empty() {
                    last_text_line = trimmed;
                }
            }
        }
    }
    assert!(open.is_none(), "the guide ends inside a fenced block");
    out
}

/// A command block to run and the lines its stdout must contain.
#[derive(Debug, PartialEq, Eq)]
struct Step {
    block: Block,
    expected: Vec<String>,
}

/// The `sh` blocks of `doc` in order, each with the expected lines that follow it. An expect
/// block that follows no `sh` block, or one that is not `text`, is an error in the guide.
fn steps(doc: &str) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    for b in blocks(doc) {
        if b.expect {
            assert_eq!(
                b.info, "text",
                "line {}: an expect block must be a ```text block",
                b.line
            );
            let step = out.last_mut().unwrap_or_else(|| {
                panic!("line {}: an expect block follows no ```sh block", b.line)
            });
            step.expected.extend(
                b.body
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
        } else if b.info == "sh" {
            out.push(Step {
                block: b,
                expected: Vec::new(),
            });
        }
    }
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_block_reader_finds_commands_and_their_expected_output() {
    let doc = "\
# Title

```sh
echo one
```

<!-- expect -->
```text
one
```

```console
$ not run
```

```json
{\"not\": \"run\"}
```

    ```sh
    echo indented
    ```

```text
not expected: no marker
```
";
    let s = steps(doc);
    assert_eq!(s.len(), 2, "{s:?}");
    assert_eq!(s[0].block.body, "echo one\n");
    assert_eq!(s[0].block.line, 3);
    assert_eq!(s[0].expected, vec!["one".to_string()]);
    assert_eq!(s[1].block.body, "    echo indented\n");
    assert!(s[1].expected.is_empty());
}

#[test]
#[should_panic(expected = "follows no ```sh block")]
fn an_expect_block_before_any_command_is_an_error_in_the_guide() {
    steps("<!-- expect -->\n```text\nx\n```\n");
}

/// The guide quotes the WIT in ```wit blocks; each must be a verbatim excerpt of the file, so
/// the guide cannot drift from the interface it explains.
#[test]
fn every_wit_excerpt_in_the_guide_is_in_the_wit_file() {
    let doc = std::fs::read_to_string(root().join("docs/PLUGINS.md")).expect("docs/PLUGINS.md");
    let wit = std::fs::read_to_string(root().join("wit/plugin.wit")).expect("wit/plugin.wit");
    let excerpts: Vec<Block> = blocks(&doc)
        .into_iter()
        .filter(|b| b.info == "wit")
        .collect();
    assert!(!excerpts.is_empty(), "the guide quotes no WIT");
    for b in excerpts {
        assert!(
            wit.contains(&b.body),
            "docs/PLUGINS.md line {}: this excerpt is not in wit/plugin.wit:\n{}",
            b.line,
            b.body
        );
    }
}

/// Runs every `sh` block of docs/PLUGINS.md in order and checks each expected output.
#[test]
fn every_command_in_the_plugin_guide_runs() {
    let doc = std::fs::read_to_string(root().join("docs/PLUGINS.md")).expect("docs/PLUGINS.md");
    let steps = steps(&doc);
    assert!(
        steps.len() >= 10,
        "the guide should walk through the whole path; it has {} command blocks",
        steps.len()
    );
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    let work = tmp.path().join("work");
    for d in [&bin, &work] {
        std::fs::create_dir(d).unwrap();
    }
    let repo = root().canonicalize().unwrap();
    let exe = bin.join("insitu");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_insitu"), &exe).unwrap();
    // The language tools where `scripts/test-deps` installs them (componentize-py for the
    // Python quick start), after the binary under test.
    let kit = std::env::var_os("INSITU_KIT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/insitu-kit")
        });
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        kit.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The Rust quick start's build shares its dependencies with `tests/all/kit.rs`.
    let cargo_target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kit-projects");
    for (n, step) in steps.iter().enumerate() {
        let b = &step.block;
        let start = std::time::Instant::now();
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &b.body])
            .current_dir(&work)
            .env("PATH", &path)
            .env_remove("XDG_DATA_HOME")
            .env_remove("RUST_LOG")
            .env("INSITU", &exe)
            .env("INSITU_DATA_DIR", work.join("data"))
            .env("EXAMPLE_COMPONENT", insitu_plugins::FEE_SCANNER)
            .env("INSITU_REPO", &repo)
            .env("CARGO_TARGET_DIR", &cargo_target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .expect("run bash");
        // How long each step of the path takes (the quick starts: from `plugin new` to a
        // first `plugin test`), printed for docs/BENCHMARKS.md.
        println!(
            "guide block {} (line {}, `{}`): {:.1} s",
            n + 1,
            b.line,
            b.body.lines().next().unwrap_or_default(),
            start.elapsed().as_secs_f64()
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let context = || {
            format!(
                "docs/PLUGINS.md block {} (line {}):\n{}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
                n + 1,
                b.line,
                b.body
            )
        };
        assert!(
            out.status.success(),
            "failed ({}): {}",
            out.status,
            context()
        );
        for line in &step.expected {
            assert!(
                stdout.contains(line.as_str()),
                "expected output line missing: {line:?}\n{}",
                context()
            );
        }
    }
}
