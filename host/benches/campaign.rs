//! A campaign over many members: `MEMBERS` stores (default 10,000) with 1,000 bank
//! transactions each, every one with a standing grant for fee-scanner, scanned with the
//! `micro-fees` rule. Measures the campaign end to end (open, fan-out with durable batched
//! commits, counts) and the peak resident memory during it, against a native scan of the same
//! data: the same rule compiled natively, over the same store cursors, on as many threads as
//! the fan-out uses cores.
//!
//! Run with `cargo bench -p insitu --bench campaign` (`MEMBERS=1000` for a quick one). It runs
//! on redb, then on PostgreSQL (the test database that `scripts/pg-start` starts);
//! `BACKENDS=redb` or `BACKENDS=postgres` for one.

mod common;

use std::time::Instant;

use fee_scanner::scan::Rule;
use insitu_core::account::{self, Role};
use insitu_core::campaign::{self, NewCampaign};
use insitu_core::clock::{Clock, SystemClock};
use insitu_core::job::Progress;
use insitu_core::output::{Money, Scalar};
use insitu_core::package::{self, InstallMode, Manifest};
use insitu_core::pds::Pds;
use insitu_core::store::{KeyedRecord, Source, Store};
use insitu_testkit::bank_record;

const PER_MEMBER: usize = 1_000;

/// A member's transactions; one member in seven is charged 2.50 EUR notice fees twelve times.
fn transactions(member: u64) -> Vec<KeyedRecord> {
    let t0 = SystemClock.now_ms() - 300 * 86_400_000;
    let victim = member.is_multiple_of(7);
    (0..PER_MEMBER)
        .map(|i| {
            let t = t0 + i as i64 * 25_000_000;
            let (minor, party, label) = match i % 5 {
                0 => (-70_000, "Agence Dupont Immobilier", "PRLV LOYER"),
                1 if victim && i % 80 == 1 => {
                    (-250, "Agence Dupont Immobilier", "FRAIS ENVOI QUITTANCE")
                }
                1 => (
                    -((i as i64 * 7919) % 9000 + 100),
                    "Carrefour",
                    "CB CARREFOUR MARKET",
                ),
                2 => (-1_999, "Free Mobile", "PRLV FREE MOBILE"),
                3 => (-450, "Boulangerie Paul", "CB BOULANGERIE PAUL"),
                _ => (210_000, "ACME SA", "VIR SALAIRE ACME"),
            };
            bank_record(i as u64, t, "FR7630004000031234", minor, Some(party), label)
        })
        .collect()
}

fn rule() -> Rule {
    Rule::MicroFees {
        max: 2_000,
        currency: "EUR".into(),
        keywords: fee_scanner::MICRO_FEE_KEYWORDS
            .split(',')
            .map(|k| k.to_lowercase())
            .collect(),
    }
}

/// The rule over one member's records, natively: whether they match.
fn native_member(store: &dyn Store, person: u64) -> bool {
    common::native_scan(store, person, rule(), "Agence Dupont") > 0
}

/// What a child process measured: seconds, matched members, and its peak RSS in KiB.
fn measured(out: &str, key: &str) -> f64 {
    out.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("the child printed no `{key}`:\n{out}"))
}

/// Child process: opens the store in `dir` and runs one measurement, `native` or `campaign`,
/// so that each peak RSS is that of a process doing only that, from opening the store.
fn child(dir: &std::path::Path, what: &str) {
    let pds = open(dir, std::env::var("CAMPAIGN_STORE").ok().as_deref());
    let store = pds.store.clone();
    let people: Vec<u64> = store.people().unwrap().iter().map(|p| p.id).collect();
    let digest = pds.find_plugin("fee-scanner").unwrap();
    let t = Instant::now();
    let matched = if what == "native" {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        std::thread::scope(|s| {
            let handles: Vec<_> = people
                .chunks(people.len().div_ceil(threads))
                .map(|chunk| {
                    let store = store.clone();
                    s.spawn(move || {
                        chunk
                            .iter()
                            .filter(|p| native_member(store.as_ref(), **p))
                            .count()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum::<usize>() as u64
        })
    } else {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let job = campaign::open(
            store.as_ref(),
            NewCampaign {
                owner: "ufc".into(),
                description: "notice fees".into(),
                brand: "Agence Dupont Immobilier".into(),
                association: "ufc".into(),
                plugin_digest: digest,
                params: vec![
                    ("rule".into(), Scalar::Text("micro-fees".into())),
                    ("pattern".into(), Scalar::Text("Agence Dupont".into())),
                    (
                        "max".into(),
                        Scalar::Money(Money {
                            minor: 2_000,
                            currency: "EUR".into(),
                        }),
                    ),
                ],
                k: None,
            },
        )
        .unwrap();
        let progress = Progress::default();
        let job = rt
            .block_on(campaign::scan(&pds.runner, job.id, &progress))
            .unwrap();
        // The operator's exact counts (the organisation's are noisy, from the release time).
        let (scanned, matched) = campaign::exact_counts(&store.members(job.id).unwrap());
        assert_eq!(scanned, people.len() as u64);
        let failed = progress.failed.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(failed, 0, "member runs failed");
        matched
    };
    println!("seconds {}", t.elapsed().as_secs_f64());
    println!("matched {matched}");
    println!("peak_kib {}", common::kib("VmHWM:"));
}

/// The PDS on `dir`, over the PostgreSQL store at `store` (the test database's schema of this
/// run; a child process gets it as `CAMPAIGN_STORE`), else over the redb file in `dir`.
fn open(dir: &std::path::Path, store: Option<&str>) -> Pds {
    match store {
        Some(url) => Pds::builder(dir)
            .store(std::sync::Arc::new(
                insitu_store_pg::PgStore::connect(url).unwrap(),
            ))
            .open()
            .unwrap(),
        None => Pds::open(dir).unwrap(),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let (Ok(dir), Ok(what)) = (std::env::var("CAMPAIGN_DIR"), std::env::var("CAMPAIGN_RUN")) {
        return child(std::path::Path::new(&dir), &what);
    }
    let members: u64 = std::env::var("MEMBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    // redb, then PostgreSQL (the test database, `scripts/pg-start`), side by side;
    // `BACKENDS=redb` or `BACKENDS=postgres` for one of them.
    let backends = std::env::var("BACKENDS").unwrap_or_else(|_| "redb,postgres".into());
    for backend in backends.split(',') {
        let schemas = insitu_store_pg::testing::Schemas::new("bench_campaign");
        let store = match backend {
            "redb" => None,
            "postgres" => {
                let schema = schemas.fresh();
                drop(insitu_store_pg::testing::connect(
                    &schema,
                    insitu_core::clock::SystemClock::shared(),
                ));
                let base = insitu_store_pg::testing::url();
                let sep = if base.contains('?') { '&' } else { '?' };
                Some(format!("{base}{sep}options=-csearch_path%3D{schema}"))
            }
            other => panic!("BACKENDS: unknown backend {other}"),
        };
        bench(backend, members, store.as_deref());
    }
}

/// One campaign over `members` on one backend (`store`: a PostgreSQL URL, or redb).
fn bench(backend: &str, members: u64, store: Option<&str>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let setup = Instant::now();
    {
        let pds = open(dir.path(), store);
        let store = pds.store.clone();
        let m = Manifest::from_file(std::path::Path::new(insitu_plugins::FEE_SCANNER_MANIFEST))
            .unwrap();
        let packed =
            package::pack(&insitu_plugins::bytes(insitu_plugins::FEE_SCANNER), &m).unwrap();
        let plugin = package::install(
            store.as_ref(),
            pds.runner.sandbox(),
            &packed,
            InstallMode::Development,
        )
        .unwrap();
        account::create(
            store.as_ref(),
            "ufc",
            "a long enough password",
            Role::Organisation,
        )
        .unwrap();
        for i in 0..members {
            let p = store.add_person(&format!("member {i}")).unwrap();
            store
                .write_records(
                    p,
                    "bank.transactions",
                    &transactions(i),
                    Source::File("bench"),
                )
                .unwrap();
            common::fee_grant(store.as_ref(), p, &plugin.digest);
            if (i + 1) % 1000 == 0 {
                eprintln!("set-up: {} members", i + 1);
            }
        }
    }
    let records = members * PER_MEMBER as u64;
    let victims = (0..members).filter(|i| i.is_multiple_of(7)).count() as u64;
    eprintln!(
        "set-up: {members} members, {records} records in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let run = |what: &str| {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child
            .env("CAMPAIGN_DIR", dir.path())
            .env("CAMPAIGN_RUN", what)
            .env_remove("CAMPAIGN_STORE");
        if let Some(url) = store {
            child.env("CAMPAIGN_STORE", url);
        }
        let out = child.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{what}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            measured(&text, "seconds "),
            measured(&text, "matched ") as u64,
            measured(&text, "peak_kib ") as u64,
        )
    };
    let (native, native_matched, native_kib) = run("native");
    assert_eq!(native_matched, victims, "the native scan is wrong");
    let (elapsed, matched, peak) = run("campaign");
    assert_eq!(matched, victims, "the campaign's count is wrong");
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());

    println!(
        "campaign over {members} members x {PER_MEMBER} transactions ({records} records), on {backend}"
    );
    println!(
        "  end to end (open, scan with durable batched commits, counts): {elapsed:.2} s, {:.0} records/s, {:.0} members/s",
        records as f64 / elapsed,
        members as f64 / elapsed
    );
    println!(
        "  native scan, same rule and cursors, {threads} threads: {native:.2} s, {:.0} records/s",
        records as f64 / native
    );
    println!("  ratio campaign / native: {:.2}", elapsed / native);
    println!(
        "  peak RSS of the process, store opened to campaign done: {} MiB (native scan process: {} MiB)",
        peak >> 10,
        native_kib >> 10
    );
    println!("  matched {victims}, none failed");
}
