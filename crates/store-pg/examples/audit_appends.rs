//! Audit appends from 8 concurrent writers, on redb and on PostgreSQL: each writer for its
//! own person (per-person chains: the appends need not wait for each other), against all 8
//! for one person (one chain: the shape of the single global chain before per-person chains,
//! every append waiting for the one before).
//!
//! ```sh
//! cargo run --release -p insitu-store-pg --example audit_appends [appends per writer]
//! ```
//!
//! PostgreSQL at `INSITU_TEST_PG` (default postgres://insitu:insitu@127.0.0.1:5432/insitu_test),
//! in a fresh schema dropped at the end.

use std::sync::Arc;
use std::time::Instant;

use insitu_model::audit::AuditEvent;
use insitu_model::clock::SystemClock;
use insitu_store::Store;
use insitu_store::redb::RedbStore;
use insitu_store_pg::PgStore;

const WRITERS: u64 = 8;

/// Appends `each` entries from each of 8 threads, writer `w` for person `person(w)`; returns
/// appends per second.
fn run(store: &dyn Store, each: u64, person: impl Fn(u64) -> u64 + Sync) -> f64 {
    let start = std::sync::Barrier::new(WRITERS as usize);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let (start, person) = (&start, &person);
            s.spawn(move || {
                start.wait();
                for i in 0..each {
                    store
                        .append_audit(AuditEvent::GrantRevoked {
                            grant: w * 1_000_000 + i,
                            person: person(w),
                        })
                        .expect("append_audit");
                }
            });
        }
    });
    (WRITERS * each) as f64 / t0.elapsed().as_secs_f64()
}

fn measure(name: &str, open: &dyn Fn() -> Arc<dyn Store>, each: u64) {
    let per_person = run(open().as_ref(), each, |w| 1 + w);
    let one_chain = run(open().as_ref(), each, |_| 1);
    println!(
        "{name:<11} per-person chains: {per_person:>8.0} appends/s   one chain: {one_chain:>8.0} appends/s   ratio {:.2}",
        per_person / one_chain
    );
}

fn main() {
    let each: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(250);
    println!("{WRITERS} writers x {each} appends each");
    let dir = tempfile::tempdir().expect("tempdir");
    let n = std::sync::atomic::AtomicU32::new(0);
    measure(
        "redb",
        &|| {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Arc::new(RedbStore::open(&dir.path().join(format!("{i}.redb"))).expect("open"))
        },
        each,
    );
    let url = std::env::var("INSITU_TEST_PG")
        .unwrap_or_else(|_| "postgres://insitu:insitu@127.0.0.1:5432/insitu_test".into());
    let schema = format!("insitu_bench_audit_{}", std::process::id());
    let schemas = std::sync::Mutex::new(Vec::new());
    measure(
        "PostgreSQL",
        &|| {
            let name = format!("{schema}_{}", schemas.lock().map_or(0, |v| v.len()));
            if let Ok(mut v) = schemas.lock() {
                v.push(name.clone());
            }
            Arc::new(
                PgStore::connect_in_schema(&url, &name, SystemClock::shared())
                    .expect("cannot reach PostgreSQL (scripts/pg-start)"),
            )
        },
        each,
    );
    // Drop the schemas.
    let names = schemas.into_inner().unwrap_or_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        for name in names {
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await;
        }
    });
}
