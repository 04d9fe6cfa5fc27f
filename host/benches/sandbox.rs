//! Sandbox benchmarks, each against a baseline measured in the same run:
//! - `overhead`: instantiate and call the no-op plugin from the warm cache;
//! - `cold_load`: load an installed plugin from the compiled cache (verify, deserialize,
//!   pre-instantiate);
//! - `scan`: fee-scanner over 1,000,000 transactions read from redb, against the same scan
//!   compiled natively over the same store cursor.
//!
//! Run with `cargo bench -p insitu --bench sandbox`.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fee_scanner::scan::Rule;
use insitu_core::output::{Money, Scalar};
use insitu_core::sandbox::Limits;
use insitu_core::sandbox::bindings::insitu::plugin::output::Param;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn overhead(c: &mut Criterion) {
    let b = common::setup(10, 16);
    let digest = b.install(insitu_plugins::NOOP);
    let grant = b.grant(&digest);
    let sb = b.pds.runner.sandbox().clone();
    let pre = sb.load(&digest).unwrap();
    let rt = rt();
    let mut g = c.benchmark_group("overhead");
    g.bench_function("noop instantiate+call", |bench| {
        bench.iter(|| {
            let data = insitu_core::sandbox::data_access(
                b.pds.store.clone(),
                b.person,
                grant.clone(),
                &Limits::default(),
            )
            .unwrap();
            let exec = rt.block_on(sb.execute(&pre, data, Limits::default(), &[]));
            black_box(exec.outcome.is_ok())
        })
    });
    // Baseline: the same host-side work without WebAssembly (grant view + output check).
    g.bench_function("baseline: host bookkeeping only", |bench| {
        bench.iter(|| {
            let data = insitu_core::sandbox::data_access(
                b.pds.store.clone(),
                b.person,
                grant.clone(),
                &Limits::default(),
            )
            .unwrap();
            black_box(data.read.len())
        })
    });
    g.finish();
}

fn cold_load(c: &mut Criterion) {
    let b = common::setup(10, 16);
    let digest = b.install(insitu_plugins::FEE_SCANNER);
    let sb = b.pds.runner.sandbox().clone();
    let mut g = c.benchmark_group("cold_load");
    g.bench_function("fee-scanner from compiled cache", |bench| {
        bench.iter(|| {
            sb.forget_loaded();
            black_box(sb.load(&digest).unwrap());
        })
    });
    g.bench_function("warm: fee-scanner already loaded", |bench| {
        bench.iter(|| black_box(sb.load(&digest).unwrap()))
    });
    g.finish();
}

const N: usize = 1_000_000;

fn params() -> Vec<Param> {
    vec![
        Param {
            name: "rule".into(),
            value: Scalar::Text("agency-fee".into()).into(),
        },
        Param {
            name: "pattern".into(),
            value: Scalar::Text("frais de gestion".into()).into(),
        },
        Param {
            name: "agreed".into(),
            value: Scalar::Money(Money {
                minor: 3000,
                currency: "EUR".into(),
            })
            .into(),
        },
    ]
}

/// The same scan, compiled natively, over the same store cursor and batch size.
fn native_scan(b: &common::Bench) -> usize {
    common::native_scan(
        b.pds.store.as_ref(),
        b.person,
        Rule::AgencyFee {
            agreed: 3000,
            currency: "EUR".into(),
        },
        "frais de gestion",
    )
}

fn scan(c: &mut Criterion) {
    let b = common::setup(N, 16);
    let digest = b.install(insitu_plugins::FEE_SCANNER);
    let grant = b.grant(&digest);
    let sb = b.pds.runner.sandbox().clone();
    let pre = sb.load(&digest).unwrap();
    let rt = rt();
    let expected = native_scan(&b);
    let mut g = c.benchmark_group("scan_1m");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(N as u64));
    g.bench_function("native Rust", |bench| {
        bench.iter(|| black_box(native_scan(&b)))
    });
    g.bench_function("fee-scanner plugin", |bench| {
        bench.iter(|| {
            let data = insitu_core::sandbox::data_access(
                b.pds.store.clone(),
                b.person,
                grant.clone(),
                &Limits::default(),
            )
            .unwrap();
            let exec = rt.block_on(sb.execute(&pre, data, Limits::default(), &params()));
            let out = exec.outcome.expect("the scan succeeds");
            let matched = match out {
                insitu_core::output::PluginOutput::Findings { summary, .. } => {
                    summary.iter().find(|m| m.name == "matched").and_then(|m| {
                        if let Scalar::Integer(i) = m.value {
                            Some(i as usize)
                        } else {
                            None
                        }
                    })
                }
                _ => None,
            };
            assert_eq!(matched, Some(expected), "plugin and native disagree");
        })
    });
    g.finish();
}

criterion_group!(benches, overhead, cold_load, scan);
criterion_main!(benches);
