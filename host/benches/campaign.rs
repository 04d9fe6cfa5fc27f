//! A campaign over many members: `MEMBERS` stores (default 10,000) with 1,000 bank
//! transactions each, every one with a standing grant for fee-scanner, scanned with the
//! `micro-fees` rule. Measures the campaign end to end (open, fan-out with durable batched
//! commits, counts) and the peak resident memory during it, against a native scan of the same
//! data: the same rule compiled natively, over the same store cursors, on as many threads as
//! the fan-out uses cores.
//!
//! Run with `cargo bench -p insitu --bench campaign` (`MEMBERS=1000` for a quick one). It sets
//! up redb, then PostgreSQL (the test database that `scripts/pg-start` starts), then measures
//! them one right after the other, so that both are measured within a minute of each other
//! and on data of the same age; `BACKENDS=redb` or `BACKENDS=postgres` for one. It measures
//! them `ROUNDS` times (default 3), in turn, each round a new campaign over the same members,
//! and prints each round's ratio and their median: the host's share of this machine's CPU
//! moves from minute to minute (below), and a ratio of two measurements a minute apart, taken
//! several times, says more than one.
//! `CONCURRENCY=N` sets the runs in flight (the policy's `concurrency`, by default two per
//! core) on every backend.
//!
//! On PostgreSQL the set-up ends with `VACUUM (ANALYZE)` of the store's tables, as an operator
//! runs after a bulk load, and a `CHECKPOINT`, so that the set-up's pages are on disk before
//! the measurements, as redb's are (each of its commits is durable); `VACUUM=0` skips both,
//! and autovacuum and the checkpointer then do that work during the measurements.
//!
//! Each backend's lines end with the share of the machine's CPU time that the virtual
//! machine's host took during each measurement (`steal` in `/proc/stat`): on a shared host it
//! moves from minute to minute, and a backend measured while the host took a third of the
//! CPU ran on a slower machine than one measured while it took none.
//!
//! `NODES=2` (PostgreSQL only) measures how the work divides instead: the same campaign on one
//! node pinned to one core (`taskset -c 0`), then on two nodes, two processes pinned to a core
//! each (`taskset -c 0`, `taskset -c 1`) working one job's queue, with each node's share of the
//! member runs and the speed-up.

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
        // `CONCURRENCY=N`: the operator's runs in flight per node, instead of the policy's.
        if let Some(n) = std::env::var("CONCURRENCY")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            let mut policy = store.policy().unwrap();
            policy.concurrency = n;
            store.set_policy(&policy).unwrap();
        }
        // A job opened by the parent (the nodes of `NODES=2` share it), else a new one.
        let job = match std::env::var("CAMPAIGN_JOB") {
            Ok(id) => id.parse().expect("CAMPAIGN_JOB"),
            Err(_) => open_campaign(store.as_ref(), &digest),
        };
        let progress = Progress::default();
        println!("start_ms {}", epoch_ms());
        let job = rt
            .block_on(campaign::scan(&pds.runner, job, &progress))
            .unwrap();
        println!("end_ms {}", epoch_ms());
        // This node's own member runs: its share of the queue.
        println!(
            "ran {}",
            progress.ran.load(std::sync::atomic::Ordering::Relaxed)
        );
        // The operator's exact counts (the organisation's are noisy, from the release time).
        let (scanned, matched) = campaign::exact_counts(&store.members(job.id).unwrap());
        assert_eq!(scanned, people.len() as u64);
        let failed = progress.failed.load(std::sync::atomic::Ordering::Relaxed);
        if failed > 0 {
            let members = store.members(job.id).unwrap();
            let why: Vec<String> = members
                .iter()
                .filter(|m| matches!(m.outcome, insitu_core::job::MemberOutcome::Failed { .. }))
                .take(3)
                .map(|m| format!("{:?}", store.run(m.run).map(|r| r.outcome)))
                .collect();
            panic!("{failed} member runs failed, for example: {why:?}");
        }
        matched
    };
    println!("seconds {}", t.elapsed().as_secs_f64());
    println!("matched {matched}");
    println!("peak_kib {}", common::kib("VmHWM:"));
}

/// Opens the campaign the benchmark measures; its job id.
fn open_campaign(store: &dyn Store, digest: &str) -> u64 {
    campaign::open(
        store,
        NewCampaign {
            owner: "ufc".into(),
            description: "notice fees".into(),
            brand: "Agence Dupont Immobilier".into(),
            association: "ufc".into(),
            plugin_digest: digest.to_string(),
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
    .unwrap()
    .id
}

fn epoch_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
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
    let nodes: usize = std::env::var("NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    // redb, then PostgreSQL (the test database, `scripts/pg-start`), side by side;
    // `BACKENDS=redb` or `BACKENDS=postgres` for one of them. Several nodes share a store only
    // on PostgreSQL.
    let default = if nodes > 1 {
        "postgres"
    } else {
        "redb,postgres"
    };
    let backends = std::env::var("BACKENDS").unwrap_or_else(|_| default.into());
    // Every backend is set up first, then measured, one right after the other: the host's
    // share of this machine's CPU moves from minute to minute, and PostgreSQL's set-up alone
    // takes minutes, so backends measured each after its own set-up were measured on
    // different machines; set up first, their data is also the same age when measured.
    // `ROUNDS`: how many times each backend is measured (see below).
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let schemas = insitu_store_pg::testing::Schemas::new("bench_campaign");
    let mut prepared = Vec::new();
    for backend in backends.split(',') {
        let (store, schema) = match backend {
            "redb" if nodes > 1 => panic!("NODES={nodes}: several nodes need BACKENDS=postgres"),
            "redb" => (None, None),
            "postgres" => {
                let schema = schemas.fresh();
                drop(insitu_store_pg::testing::connect(
                    &schema,
                    insitu_core::clock::SystemClock::shared(),
                ));
                let base = insitu_store_pg::testing::url();
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
                (Some(url), Some(schema))
            }
            other => panic!("BACKENDS: unknown backend {other}"),
        };
        let ready = set_up(members, store.as_deref(), schema.as_deref(), nodes, rounds);
        if nodes > 1 {
            return split(
                store.as_deref(),
                members,
                nodes,
                &ready.digest,
                ready.victims,
            );
        }
        prepared.push((backend, store, ready));
    }
    // `ROUNDS` rounds, each measuring every backend in turn: the ratio of each round compares
    // two measurements a minute apart, and the median over rounds is the figure to read.
    let mut times: Vec<Vec<(f64, String)>> = vec![Vec::new(); prepared.len()];
    for round in 1..=rounds {
        println!("round {round} of {rounds}");
        for (i, (backend, store, ready)) in prepared.iter().enumerate() {
            times[i].push(measure(backend, members, store.as_deref(), ready));
        }
    }
    if let [first, .., last] = prepared.as_slice() {
        let (a, b) = (first.0, last.0);
        let i = prepared.len() - 1;
        println!("campaign, {b} / {a}, by round (the host's share during each: {a} / {b}):");
        let mut ratios: Vec<f64> = times[i]
            .iter()
            .zip(&times[0])
            .enumerate()
            .map(|(round, ((tb, sb), (ta, sa)))| {
                println!(
                    "  round {}: {tb:.2} s / {ta:.2} s = {:.2} ({sa} / {sb})",
                    round + 1,
                    tb / ta
                );
                tb / ta
            })
            .collect();
        ratios.sort_by(f64::total_cmp);
        println!("  median over {rounds} rounds: {:.2}", median(&ratios));
    }
}

/// The median of sorted `values`.
fn median(values: &[f64]) -> f64 {
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// What one child process printed.
struct Child {
    seconds: f64,
    matched: u64,
    peak_kib: u64,
    /// Member runs this process ran, and when its scan started and ended (ms since the epoch).
    ran: u64,
    start_ms: f64,
    end_ms: f64,
}

/// Starts the child measuring `what` on `dir` (`store`: the PostgreSQL URL), on job `job` (else
/// one it opens), pinned to `core` with `taskset` when given.
fn spawn(
    dir: &std::path::Path,
    store: Option<&str>,
    what: &str,
    job: Option<u64>,
    core: Option<usize>,
) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let mut child = match core {
        Some(core) => {
            let mut c = std::process::Command::new("taskset");
            c.args(["-c", &core.to_string()]).arg(exe);
            c
        }
        None => std::process::Command::new(exe),
    };
    child
        .env("CAMPAIGN_DIR", dir)
        .env("CAMPAIGN_RUN", what)
        .env_remove("CAMPAIGN_STORE")
        .env_remove("CAMPAIGN_JOB")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(url) = store {
        child.env("CAMPAIGN_STORE", url);
    }
    if let Some(job) = job {
        child.env("CAMPAIGN_JOB", job.to_string());
    }
    child
        .spawn()
        .expect("the child process (taskset for NODES)")
}

/// Waits for a child of [`spawn`]; what it measured.
fn wait(what: &str, child: std::process::Child) -> Child {
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if std::env::var_os("INSITU_PG_PROFILE").is_some() {
        // The store's profile, which the child prints on its standard error (see insitu-store-pg).
        eprint!("{what}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let campaign = what == "campaign";
    let or_zero = |key| if campaign { measured(&text, key) } else { 0.0 };
    Child {
        seconds: measured(&text, "seconds "),
        matched: measured(&text, "matched ") as u64,
        peak_kib: measured(&text, "peak_kib ") as u64,
        ran: or_zero("ran ") as u64,
        start_ms: or_zero("start_ms "),
        end_ms: or_zero("end_ms "),
    }
}

/// A backend's store, set up and settled, ready to be measured.
struct Prepared {
    dir: tempfile::TempDir,
    digest: String,
    victims: u64,
}

/// Sets up `members` on one backend (`store`: a PostgreSQL URL in `schema`, or redb).
fn set_up(
    members: u64,
    store: Option<&str>,
    schema: Option<&str>,
    nodes: usize,
    rounds: usize,
) -> Prepared {
    let dir = tempfile::tempdir().expect("tempdir");
    let setup = Instant::now();
    let digest = {
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
        // Several campaigns on the same members, one after the other (two for `NODES`, one a
        // round otherwise), each spending its ε: the operator's gap and monthly budget allow
        // them all.
        let mut policy = store.policy().unwrap();
        policy.campaign_gap_days = 0;
        policy.epsilon_per_month_micro = policy
            .epsilon_per_month_micro
            .max(policy.campaign_epsilon_micro * rounds.max(2) as u64);
        if nodes > 1 {
            // Each node runs as many members at once as the default gives one core.
            policy.concurrency = 2;
        }
        store.set_policy(&policy).unwrap();
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
        plugin.digest
    };
    let records = members * PER_MEMBER as u64;
    let victims = (0..members).filter(|i| i.is_multiple_of(7)).count() as u64;
    eprintln!(
        "set-up: {members} members, {records} records in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    if let Some(schema) = schema.filter(|_| std::env::var("VACUUM").as_deref() != Ok("0")) {
        // As an operator does after a bulk load: the campaign then does not share the cores
        // with the autovacuum of the set-up's ten million rows, nor with the write-out of its
        // pages (`VACUUM=0` leaves both to run during the measurements).
        let t = Instant::now();
        insitu_store_pg::testing::settle(schema)
            .expect("VACUUM (ANALYZE) and CHECKPOINT after the set-up");
        eprintln!(
            "set-up: VACUUM (ANALYZE) and CHECKPOINT in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    Prepared {
        dir,
        digest,
        victims,
    }
}

/// One campaign over `members` on one backend, set up by [`set_up`], against the native scan
/// of the same data; the campaign's seconds, and the host's share of the CPU during it.
fn measure(backend: &str, members: u64, store: Option<&str>, prepared: &Prepared) -> (f64, String) {
    let (dir, victims) = (&prepared.dir, prepared.victims);
    let records = members * PER_MEMBER as u64;
    let run = |what: &str| {
        let before = cpu_times();
        let child = wait(what, spawn(dir.path(), store, what, None, None));
        (child, steal(before, cpu_times()))
    };
    let (native, native_steal) = run("native");
    assert_eq!(native.matched, victims, "the native scan is wrong");
    let (campaign, campaign_steal) = run("campaign");
    assert_eq!(campaign.matched, victims, "the campaign's count is wrong");
    let (elapsed, native_s) = (campaign.seconds, native.seconds);
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
        "  native scan, same rule and cursors, {threads} threads: {native_s:.2} s, {:.0} records/s",
        records as f64 / native_s
    );
    println!("  ratio campaign / native: {:.2}", elapsed / native_s);
    println!(
        "  peak RSS of the process, store opened to campaign done: {} MiB (native scan process: {} MiB)",
        campaign.peak_kib >> 10,
        native.peak_kib >> 10
    );
    println!("  matched {victims}, none failed");
    println!(
        "  CPU time taken by the virtual machine's host (steal), native scan / campaign: {native_steal} / {campaign_steal}"
    );
    (elapsed, campaign_steal)
}

/// The machine's CPU time so far, in ticks: what the virtual machine's host took from it
/// ("steal" in `/proc/stat`), and all of it. None where `/proc/stat` says nothing of steal.
fn cpu_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    // cpu user nice system idle iowait irq softirq steal ...
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|t| t.parse().ok())
        .collect();
    Some((*ticks.get(7)?, ticks.iter().sum()))
}

/// The share of the machine's CPU time its host took between two [`cpu_times`] readings: a
/// measurement during which the host took a large share ran on a slower machine than one
/// during which it took none, so two measurements compare only at similar shares.
fn steal(before: Option<(u64, u64)>, after: Option<(u64, u64)>) -> String {
    match (before, after) {
        (Some((s0, t0)), Some((s1, t1))) if t1 > t0 => {
            format!(
                "{:.1} %",
                100.0 * s1.saturating_sub(s0) as f64 / (t1 - t0) as f64
            )
        }
        _ => "unknown".into(),
    }
}

/// `NODES`: the campaign on one node pinned to core 0, then a second campaign over the same
/// members on `nodes` nodes pinned to cores 0, 1, ..., all working one job (opened here).
fn split(store: Option<&str>, members: u64, nodes: usize, digest: &str, victims: u64) {
    let url = store.expect("NODES needs PostgreSQL");
    let opener = insitu_store_pg::PgStore::connect(url).unwrap();
    // Every node gets its own data directory (its compiled code), as separate machines would;
    // the one node too, so that each compiles the plugin once.
    let fresh = || tempfile::tempdir().unwrap();
    let one_dir = fresh();
    let one_job = open_campaign(&opener, digest);
    let one = wait(
        "campaign",
        spawn(one_dir.path(), store, "campaign", Some(one_job), Some(0)),
    );
    assert_eq!(
        one.matched, victims,
        "the one-node campaign's count is wrong"
    );
    assert_eq!(one.ran, members, "the one node ran every member");

    let job = open_campaign(&opener, digest);
    let dirs: Vec<tempfile::TempDir> = (0..nodes).map(|_| fresh()).collect();
    let children: Vec<_> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| spawn(d.path(), store, "campaign", Some(job), Some(i)))
        .collect();
    let each: Vec<Child> = children.into_iter().map(|c| wait("campaign", c)).collect();
    for c in &each {
        assert_eq!(c.matched, victims, "a node's count is wrong");
    }
    let ran: u64 = each.iter().map(|c| c.ran).sum();
    // A member is run twice only when a lease ran out, which a healthy run never sees.
    assert!(ran >= members, "the nodes ran {ran} of {members} members");
    let start = each
        .iter()
        .map(|c| c.start_ms)
        .fold(f64::INFINITY, f64::min);
    let end = each.iter().map(|c| c.end_ms).fold(0.0, f64::max);
    let wall = (end - start) / 1000.0;

    println!(
        "campaign over {members} members x {PER_MEMBER} transactions, on PostgreSQL: one node against {nodes}, a core each"
    );
    println!(
        "  one node on core 0: {:.2} s, {:.0} members/s, peak RSS {} MiB",
        one.seconds,
        members as f64 / one.seconds,
        one.peak_kib >> 10
    );
    println!(
        "  {nodes} nodes, first start to last end: {wall:.2} s, {:.0} members/s; speed-up {:.2}",
        members as f64 / wall,
        one.seconds / wall
    );
    for (i, c) in each.iter().enumerate() {
        println!(
            "  node {i} on core {i}: ran {} members ({:.1} %), {:.2} s, peak RSS {} MiB",
            c.ran,
            100.0 * c.ran as f64 / ran as f64,
            c.seconds,
            c.peak_kib >> 10
        );
    }
    println!("  matched {victims}, none failed");
}
