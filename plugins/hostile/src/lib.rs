//! `hostile`: a plugin that attacks its sandbox. The `behaviour` parameter picks the attack:
//!
//! - `loop`: spins forever (fuel or the deadline must stop it);
//! - `recurse`: recurses without end on the wasm stack (the stack limit must stop it);
//! - `recurse-frames`: recurses with large frames, overflowing the stack Rust keeps in linear
//!   memory (the memory bounds must stop it);
//! - `memory`: allocates without end (the memory cap must stop it);
//! - `big-output`: returns about 8 MiB (the output cap must withhold it);
//! - `panic`: panics (the run must fail with the panic message);
//! - `snoop`: reads an ungranted collection and an ungranted field, and returns whatever it
//!   gets (the host must refuse both, so it returns nothing);
//! - `escape`: tries the filesystem, the environment, the clock and randomness, and reports
//!   what it got (it must get nothing useful);
//! - `hoard-queries`: opens queries without closing them (the open-query cap must refuse);
//! - `log-flood`: logs 8 MiB (the log cap must drop the excess; the run still succeeds);
//! - `host-call-flood`: lists its collections and opens and drops a query, forever (the fuel
//!   charged for host calls must stop it, long before the deadline);
//! - `endless-log`: writes short lines to the log interface and to stdout, forever (the fuel
//!   charged per call and per byte logged must stop it).

use std::hint::black_box;

use insitu_sdk::{Level, Metric, Output, Params, Plugin, PluginError, Query, Scalar, Table};

/// Recursion whose frames live on the wasm stack only (no locals in linear memory).
fn recurse(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let below = recurse(n - 1);
    below.wrapping_mul(31).wrapping_add(n)
}

/// Recursion with big frames, which live in linear memory (Rust's shadow stack).
fn recurse_frames(n: u64) -> u64 {
    let frame = black_box([n; 32]);
    if n == 0 {
        frame[1]
    } else {
        black_box(recurse_frames(n - 1)) + frame[3]
    }
}

struct Hostile;

impl Plugin for Hostile {
    fn run(params: Params) -> Result<Output, PluginError> {
        match params.text("behaviour")?.as_str() {
            "loop" => {
                let mut x = 0u64;
                loop {
                    x = black_box(x.wrapping_add(1));
                }
            }
            "recurse" => Ok(Output::Metrics(vec![Metric {
                name: "depth".into(),
                value: Scalar::Integer(recurse(params.integer_or("depth", i64::MAX)? as u64) as i64),
            }])),
            "recurse-frames" => Ok(Output::Metrics(vec![Metric {
                name: "depth".into(),
                value: Scalar::Integer(recurse_frames(black_box(u64::MAX)) as i64),
            }])),
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![7u8; 1 << 20]));
                }
            }
            "big-output" => Ok(Output::Table(Table {
                columns: vec!["junk".into()],
                rows: (0..8192)
                    .map(|_| vec![Scalar::Text("x".repeat(1024))])
                    .collect(),
            })),
            "panic" => panic!("hostile plugin panicking on purpose"),
            "snoop" => snoop(),
            "hoard-queries" => {
                // Keep every query open until the host refuses one.
                let mut open = Vec::new();
                loop {
                    open.push(Query::new("bank.transactions").open()?);
                }
            }
            "escape" => Ok(Output::Metrics(escape())),
            "log-flood" => {
                let line = "x".repeat(1024);
                for _ in 0..8192 {
                    insitu_sdk::log(Level::Info, &line);
                    println!("{line}");
                }
                Ok(Output::Metrics(Vec::new()))
            }
            "host-call-flood" => loop {
                black_box(insitu_sdk::collections());
                drop(black_box(Query::new("bank.transactions").open()?));
            },
            "endless-log" => loop {
                insitu_sdk::log(Level::Info, "x");
                println!("x");
            },
            other => Err(PluginError::InvalidParams(format!(
                "unknown behaviour `{other}`"
            ))),
        }
    }
}

/// Returns any data it manages to read; the host must refuse every attempt.
fn snoop() -> Result<Output, PluginError> {
    let mut refusals = Vec::new();
    let mut leaked = Vec::new();
    let attempts: [(&str, Option<&[&str]>); 2] = [
        ("profile.secrets", None),
        ("bank.transactions", Some(&["account", "amount"])),
    ];
    for (collection, fields) in attempts {
        let mut q = Query::new(collection);
        if let Some(f) = fields {
            q = q.fields(f);
        }
        match q.open() {
            Ok(mut rows) => {
                while let Ok(Some(b)) = rows.next_batch() {
                    for r in b.rows() {
                        leaked.push(vec![Scalar::Text(format!(
                            "{collection}:{:?}",
                            r.text("account")
                        ))]);
                    }
                }
            }
            Err(e) => refusals.push(PluginError::from(e)),
        }
    }
    if leaked.is_empty() {
        let msgs: Vec<String> = refusals
            .into_iter()
            .map(|e| match e {
                PluginError::Data(m) | PluginError::Failed(m) | PluginError::InvalidParams(m) => m,
            })
            .collect();
        return Err(PluginError::Data(msgs.join("; ")));
    }
    Ok(Output::Table(Table {
        columns: vec!["leak".into()],
        rows: leaked,
    }))
}

/// Reports what the ambient world gave it.
fn escape() -> Vec<Metric> {
    let m = |name: &str, value: Scalar| Metric {
        name: name.into(),
        value,
    };
    let fs = std::fs::read_dir("/")
        .map(|d| d.count() as i64)
        .unwrap_or(-1);
    let file = std::fs::read("/etc/passwd")
        .map(|b| b.len() as i64)
        .unwrap_or(-1);
    let write = std::fs::write("insitu-escape.txt", b"x").is_ok();
    let env = std::env::vars().count() as i64;
    let args = std::env::args().count() as i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(-1);
    let t0 = std::time::Instant::now();
    let mut spin = 0u64;
    for i in 0..1_000_000u64 {
        spin = black_box(spin ^ i);
    }
    let elapsed = t0.elapsed().as_nanos() as i64;
    let random = {
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(1u8) as i64
    };
    vec![
        m("root-entries", Scalar::Integer(fs)),
        m("passwd-bytes", Scalar::Integer(file)),
        m("wrote-file", Scalar::Boolean(write)),
        m("env-vars", Scalar::Integer(env)),
        m("args", Scalar::Integer(args)),
        m("wall-clock-ms", Scalar::Integer(now)),
        m("monotonic-elapsed-ns", Scalar::Integer(elapsed)),
        m("random", Scalar::Integer(random)),
        m("spin", Scalar::Integer(spin as i64)),
    ]
}

insitu_sdk::export_plugin!(Hostile);
