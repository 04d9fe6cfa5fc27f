//! 100 concurrent runs of fee-scanner, each over 10,000 transactions: the process's peak
//! resident memory before and after, and the wall time, against the same 100 runs one at a
//! time. Run with `cargo bench -p insitu --bench concurrent_rss`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use insitu_core::meter::Outcome;
use insitu_core::output::{Money, Scalar};
use insitu_core::run::{LocalScheduler, RunRequest, Scheduler};

fn request(b: &common::Bench, grant: u64, digest: &str) -> RunRequest {
    RunRequest {
        person: b.person,
        grant,
        digest: digest.into(),
        params: vec![
            ("rule".into(), Scalar::Text("agency-fee".into())),
            ("pattern".into(), Scalar::Text("frais de gestion".into())),
            (
                "agreed".into(),
                Scalar::Money(Money {
                    minor: 3000,
                    currency: "EUR".into(),
                }),
            ),
        ],
        limits: None,
        requester: None,
        as_of: None,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    const RUNS: usize = 100;
    let b = common::setup(10_000, 128);
    let digest = b.install(insitu_plugins::FEE_SCANNER);
    let grant = b.grant(&digest).id;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Warm up: load the plugin and touch the store.
    rt.block_on(b.pds.runner.run(request(&b, grant, &digest)))
        .unwrap();
    let base_rss = common::kib("VmRSS:");
    let base_hwm = common::kib("VmHWM:");

    let runner = Arc::new(insitu_core::run::Runner::new(
        b.pds.store.clone(),
        b.pds.runner.sandbox().clone(),
    ));
    let sequential = Instant::now();
    for _ in 0..RUNS {
        let r = rt
            .block_on(runner.run(request(&b, grant, &digest)))
            .unwrap();
        assert_eq!(r.outcome, Outcome::Succeeded);
    }
    let sequential = sequential.elapsed();

    let scheduler = Arc::new(LocalScheduler::new(runner.clone(), RUNS));
    // How many runs were in flight at once (started, not finished).
    let live = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    // Spawned from inside the runtime, so the runs share a worker's queue and interleave at
    // their fuel yields, as runs started by a server would.
    let records = rt
        .block_on(rt.spawn({
            let (scheduler, live, most) = (scheduler.clone(), live.clone(), most.clone());
            let reqs: Vec<RunRequest> = (0..RUNS).map(|_| request(&b, grant, &digest)).collect();
            async move {
                let tasks: Vec<_> = reqs
                    .into_iter()
                    .map(|req| {
                        let s = scheduler.clone();
                        let (live, most) = (live.clone(), most.clone());
                        tokio::spawn(async move {
                            let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            let r = s.submit(req).await;
                            live.fetch_sub(1, Ordering::SeqCst);
                            r
                        })
                    })
                    .collect();
                let mut n = 0;
                for t in tasks {
                    let r = t.await.unwrap().unwrap();
                    assert_eq!(r.outcome, Outcome::Succeeded, "{:?}", r.outcome);
                    n += r.usage.records_read;
                }
                n
            }
        }))
        .unwrap();
    let concurrent = started.elapsed();
    let peak = common::kib("VmHWM:");
    println!(
        "concurrent_rss: {RUNS} runs x 10,000 transactions ({records} records read), at most {} in flight at once",
        most.load(Ordering::SeqCst)
    );
    println!(
        "  RSS before: {} MiB (peak so far {} MiB)",
        base_rss / 1024,
        base_hwm / 1024
    );
    println!(
        "  peak RSS after {RUNS} concurrent runs: {} MiB (+{} MiB)",
        peak / 1024,
        peak.saturating_sub(base_hwm) / 1024
    );
    println!(
        "  wall: concurrent {:.1} ms, sequential baseline {:.1} ms (ratio {:.2})",
        concurrent.as_secs_f64() * 1e3,
        sequential.as_secs_f64() * 1e3,
        concurrent.as_secs_f64() / sequential.as_secs_f64()
    );
}
