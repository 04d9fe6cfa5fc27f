//! Hostile plugins (invariant 3, and 1 from the inside). Each attack is a real component built
//! by the workspace. Every test asserts that the run fails cleanly with a typed reason, that
//! the host then serves a normal run, and that the store is unchanged and nothing leaked.

use crate::common;

use std::time::Duration;

use common::*;
use insitu_core::audit::AuditEvent;
use insitu_core::meter::{FailureReason, Outcome, RunRecord};
use insitu_core::output::{PluginOutput, Scalar};
use insitu_core::package::{self, InstallMode, Manifest};
use insitu_core::sandbox::{ComponentError, HostCosts, InstallError, Limits};
use insitu_core::store::TimeRange;
use insitu_testkit::*;

/// Small enough that the attacks end quickly; large enough for the real scan.
fn tight() -> Limits {
    Limits {
        fuel: 500_000_000,
        memory: 64 << 20,
        deadline: Duration::from_secs(10),
        ..Limits::default()
    }
}

struct Arena {
    f: TestPds,
    person: u64,
    hostile: String,
    hostile_grant: u64,
    scanner: String,
    scanner_grant: u64,
}

fn arena() -> Arena {
    let f = TestPds::new();
    let person = f.person_with_transactions("victim");
    let hostile = f.install(insitu_plugins::HOSTILE);
    let scanner = f.install(insitu_plugins::FEE_SCANNER);
    let hostile_grant = f
        .grant(person, &hostile, &["amount", "label"], TimeRange::ALL)
        .id;
    let scanner_grant = f
        .grant(
            person,
            &scanner,
            &["amount", "label", "counterparty"],
            TimeRange::ALL,
        )
        .id;
    Arena {
        f,
        person,
        hostile,
        hostile_grant,
        scanner,
        scanner_grant,
    }
}

impl Arena {
    async fn attack(&self, behaviour: &str, limits: Limits) -> RunRecord {
        self.f
            .run(
                self.person,
                self.hostile_grant,
                &self.hostile,
                &[("behaviour", text(behaviour))],
                Some(limits),
            )
            .await
    }

    /// Runs `behaviour` and checks containment: the failure is `reason`, no output left, the
    /// failed run is audited, the store is unchanged, and a normal run still works.
    async fn contained(&self, behaviour: &str, limits: Limits, reason: FailureReason) -> String {
        let before = self.f.snapshot(self.person);
        let run = self.attack(behaviour, limits).await;
        let (got, message) = failure(&run);
        assert_eq!(got, reason, "{behaviour}: {message}");
        assert!(
            run.output.is_none(),
            "{behaviour}: an output left a failed run"
        );
        assert_eq!(
            self.f.snapshot(self.person),
            before,
            "{behaviour}: the store changed"
        );
        let audited = self.f.store.audit_log().unwrap().into_iter().any(|e| {
            matches!(&e.event, AuditEvent::Run { run: id, outcome, .. } if *id == run.id && outcome.contains(reason.as_str()))
        });
        assert!(
            audited,
            "{behaviour}: the failed run is not in the audit log"
        );
        self.normal_run_works().await;
        message
    }

    /// The latest hostile run.
    fn last_attack(&self) -> RunRecord {
        self.f
            .store
            .runs(Some(self.person))
            .unwrap()
            .into_iter()
            .filter(|r| r.plugin_digest == self.hostile)
            .max_by_key(|r| r.id)
            .expect("a hostile run")
    }

    async fn normal_run_works(&self) {
        let params = [
            ("rule", text("agency-fee")),
            ("pattern", text("dupont")),
            ("agreed", eur(3000)),
        ];
        let run = self
            .f
            .run(
                self.person,
                self.scanner_grant,
                &self.scanner,
                &params,
                None,
            )
            .await;
        assert_eq!(
            run.outcome,
            Outcome::Succeeded,
            "the host no longer serves normal runs: {}",
            run.log
        );
    }
}

#[tokio::test]
async fn an_infinite_loop_runs_out_of_fuel() {
    let a = arena();
    let msg = a
        .contained("loop", tight(), FailureReason::FuelExhausted)
        .await;
    assert!(msg.contains("fuel"), "{msg}");
}

#[tokio::test]
async fn an_infinite_loop_with_ample_fuel_hits_the_deadline() {
    let a = arena();
    let limits = Limits {
        fuel: u64::MAX / 4,
        deadline: Duration::from_millis(300),
        ..tight()
    };
    let started = std::time::Instant::now();
    a.contained("loop", limits, FailureReason::Deadline).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deadline was not enforced promptly"
    );
}

#[tokio::test]
async fn deep_recursion_overflows_the_guest_stack_not_the_host() {
    arena()
        .contained("recurse", tight(), FailureReason::StackOverflow)
        .await;
}

#[tokio::test]
async fn deep_recursion_with_large_frames_overflows_into_a_clean_trap() {
    let msg = arena()
        .contained("recurse-frames", tight(), FailureReason::Trap)
        .await;
    assert!(msg.contains("out of bounds"), "{msg}");
}

/// The workspace links plugins with a 64 KiB stack (`.cargo/config.toml`): a no-op run's whole
/// linear memory stays under rustc's default 1 MiB stack alone, which is what keeps the pages a
/// run touches inside the pool's resident part (docs/BENCHMARKS.md, per-run overhead).
#[tokio::test]
async fn plugins_are_linked_with_a_small_stack() {
    let a = arena();
    let noop = a.f.install(insitu_plugins::NOOP);
    let grant = a.f.grant(a.person, &noop, &["amount"], TimeRange::ALL).id;
    let run = a.f.run(a.person, grant, &noop, &[], None).await;
    assert!(
        matches!(run.outcome, Outcome::Succeeded),
        "{:?}",
        run.outcome
    );
    assert!(
        run.usage.peak_memory < 1 << 20,
        "the no-op plugin's memory is {} bytes: is it linked with the default 1 MiB stack?",
        run.usage.peak_memory
    );
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_cap() {
    let a = arena();
    let msg = a
        .contained("memory", tight(), FailureReason::MemoryLimit)
        .await;
    assert!(msg.contains("memory"), "{msg}");
    let last =
        a.f.store
            .runs(Some(a.person))
            .unwrap()
            .into_iter()
            .find(|r| r.plugin_digest == a.hostile)
            .unwrap();
    assert!(
        last.usage.peak_memory <= 64 << 20,
        "peak {} above the cap",
        last.usage.peak_memory
    );
}

#[tokio::test]
async fn an_oversized_output_is_withheld() {
    let msg = arena()
        .contained("big-output", tight(), FailureReason::OutputTooLarge)
        .await;
    assert!(msg.contains("withheld"), "{msg}");
}

#[tokio::test]
async fn a_panic_fails_the_run_with_the_panic_message() {
    let msg = arena()
        .contained("panic", tight(), FailureReason::Trap)
        .await;
    assert!(
        msg.contains("panicking on purpose"),
        "the panic message is lost: {msg}"
    );
}

#[tokio::test]
async fn reads_of_ungranted_collections_and_fields_are_refused() {
    let msg = arena()
        .contained("snoop", tight(), FailureReason::PluginError)
        .await;
    assert!(
        msg.contains("unknown collection `profile.secrets`"),
        "{msg}"
    );
    assert!(msg.contains("unknown field `account`"), "{msg}");
}

#[tokio::test]
async fn a_plugin_has_no_filesystem_environment_clock_or_entropy() {
    let a = arena();
    let run = a.attack("escape", tight()).await;
    assert_eq!(run.outcome, Outcome::Succeeded, "{}", run.log);
    let Some(PluginOutput::Metrics { metrics }) = run.output else {
        panic!()
    };
    let get = |n: &str| {
        metrics
            .iter()
            .find(|m| m.name == n)
            .map(|m| m.value.clone())
            .unwrap()
    };
    assert_eq!(
        get("root-entries"),
        Scalar::Integer(-1),
        "the filesystem is reachable"
    );
    assert_eq!(
        get("passwd-bytes"),
        Scalar::Integer(-1),
        "a host file was read"
    );
    assert_eq!(
        get("wrote-file"),
        Scalar::Boolean(false),
        "a file was written"
    );
    assert_eq!(
        get("env-vars"),
        Scalar::Integer(0),
        "the environment leaked"
    );
    assert_eq!(get("args"), Scalar::Integer(0));
    assert_eq!(
        get("wall-clock-ms"),
        Scalar::Integer(0),
        "the wall clock is not frozen"
    );
    assert_eq!(
        get("monotonic-elapsed-ns"),
        Scalar::Integer(0),
        "the plugin can time itself"
    );
    // Deterministic per run: a second run draws exactly the same "random" numbers.
    let again = a.attack("escape", tight()).await;
    let Some(PluginOutput::Metrics { metrics: again }) = again.output else {
        panic!()
    };
    let random = |m: &[insitu_core::output::Metric]| {
        m.iter()
            .find(|m| m.name == "random")
            .map(|m| m.value.clone())
    };
    assert_eq!(random(&metrics), random(&again), "the plugin has entropy");
}

#[tokio::test]
async fn hoarding_open_queries_is_refused_at_the_cap() {
    let limits = Limits {
        open_queries: 4,
        ..tight()
    };
    let msg = arena()
        .contained("hoard-queries", limits, FailureReason::PluginError)
        .await;
    assert!(msg.contains("too many queries open"), "{msg}");
}

#[tokio::test]
async fn reads_stop_at_the_record_and_byte_caps() {
    let f = TestPds::new();
    let p = f.store.add_person("reader").unwrap();
    let txs: Vec<_> = (0..50).map(|d| tx(d, -100 - d, "ACHAT", None)).collect();
    f.store
        .write_records(
            p,
            "bank.transactions",
            &txs,
            insitu_core::store::Source::File("t"),
        )
        .unwrap();
    let probe = f.install(insitu_plugins::PROBE);
    let g = f.grant(p, &probe, &["amount", "label"], TimeRange::ALL);
    let small = [("batch-size", Scalar::Integer(8))];
    for (limits, expect) in [
        (
            Limits {
                records: 20,
                ..tight()
            },
            "20 records read",
        ),
        (
            Limits {
                read_bytes: 100,
                ..tight()
            },
            "bytes read",
        ),
    ] {
        let run = f.run(p, g.id, &probe, &small, Some(limits)).await;
        let (reason, msg) = failure(&run);
        assert_eq!(reason, FailureReason::PluginError, "{msg}");
        assert!(
            msg.contains("limit reached") && msg.contains(expect),
            "{msg}"
        );
        assert!(
            run.usage.records_read < 50,
            "read {} records past the cap",
            run.usage.records_read
        );
    }
    assert_eq!(
        f.run(p, g.id, &probe, &small, None)
            .await
            .usage
            .records_read,
        50
    );
}

#[tokio::test]
async fn a_log_flood_is_capped_and_the_run_goes_on() {
    let a = arena();
    let limits = tight();
    let run = a.attack("log-flood", limits).await;
    assert_eq!(run.outcome, Outcome::Succeeded);
    assert!(run.usage.log_bytes <= limits.log_bytes);
    assert!(
        run.usage.log_dropped > 8 << 20,
        "dropped only {}",
        run.usage.log_dropped
    );
    assert!(run.log.len() as u64 <= limits.log_bytes);
}

#[tokio::test]
async fn a_loop_in_start_up_code_is_bounded_too() {
    let a = arena();
    let digest = a.f.install(insitu_plugins::HOSTILE_START);
    let g = a.f.grant(a.person, &digest, &["amount"], TimeRange::ALL);
    let before = a.f.snapshot(a.person);
    let run = a.f.run(a.person, g.id, &digest, &[], Some(tight())).await;
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::FuelExhausted, "{msg}");
    assert_eq!(a.f.snapshot(a.person).0, before.0);
    a.normal_run_works().await;
}

#[tokio::test]
async fn a_component_importing_sockets_is_refused_at_install() {
    let a = arena();
    // Honestly signed and declared: refused all the same, because the host never links sockets.
    let signed = a.f.package(insitu_plugins::HOSTILE_IMPORT);
    let err =
        a.f.install_bytes(&signed, InstallMode::Verified)
            .unwrap_err();
    assert!(
        matches!(
            err,
            InstallError::Component(ComponentError::UnsupportedImport(_))
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("wasi:sockets"),
        "the missing interface is not named: {err}"
    );
    assert!(
        a.f.store
            .plugins()
            .unwrap()
            .iter()
            .all(|p| p.name != "hostile-import")
    );
    a.normal_run_works().await;
}

#[tokio::test]
async fn malformed_components_are_refused_with_a_clear_message() {
    let a = arena();
    let good = a.f.package(insitu_plugins::NOOP);
    let manifest =
        Manifest::from_file(std::path::Path::new(insitu_plugins::NOOP_MANIFEST)).unwrap();
    let mut random = vec![0u8; 4096];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for b in random.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let core_module = package::pack(b"\0asm\x01\0\0\0", &manifest).unwrap();
    let truncated = good[..good.len() / 2].to_vec();
    let mut huge = b"\0asm\x0d\0\x01\0".to_vec();
    huge.resize(insitu_core::sandbox::MAX_COMPONENT_BYTES + 1, 0);
    let bare = insitu_plugins::bytes(insitu_plugins::NOOP);
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("empty", vec![], "empty"),
        ("random", random, "not a WebAssembly file"),
        ("core", core_module, "core WebAssembly module"),
        ("truncated", truncated, "cut short"),
        ("huge", huge, "largest plugin"),
        ("no manifest", bare, "no Insitu manifest"),
    ];
    for (name, bytes, expect) in cases {
        let before = a.f.store.plugins().unwrap().len();
        let err =
            a.f.install_bytes(&bytes, InstallMode::Development)
                .expect_err(name);
        assert!(err.to_string().contains(expect), "{name}: {err}");
        assert_eq!(
            a.f.store.plugins().unwrap().len(),
            before,
            "{name} was installed"
        );
    }
    a.normal_run_works().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_run_does_not_stall_concurrent_runs() {
    let a = std::sync::Arc::new(arena());
    let limits = Limits {
        fuel: u64::MAX / 4,
        deadline: Duration::from_secs(4),
        ..tight()
    };
    let spinner = {
        let a = a.clone();
        tokio::spawn(async move { a.attack("loop", limits).await })
    };
    let started = std::time::Instant::now();
    for _ in 0..5 {
        a.normal_run_works().await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "normal runs waited on the hostile one"
    );
    let run = spinner.await.unwrap();
    assert_eq!(failure(&run).0, FailureReason::Deadline);
}

/// Time to spare: only fuel may stop these attacks, and well before the deadline.
fn fuel_bound() -> Limits {
    Limits {
        deadline: Duration::from_secs(60),
        ..tight()
    }
}

impl Arena {
    /// Runs an endless loop of host calls, checks containment, and that fuel, not the
    /// deadline, ended it; the run.
    async fn flood(&self, behaviour: &str) -> RunRecord {
        let limits = fuel_bound();
        let msg = self
            .contained(behaviour, limits, FailureReason::FuelExhausted)
            .await;
        assert!(msg.contains("fuel"), "{behaviour}: {msg}");
        let run = self.last_attack();
        assert_eq!(
            run.usage.fuel, limits.fuel,
            "{behaviour}: charged fuel is not in the usage"
        );
        assert!(
            run.usage.wall_us < limits.deadline.as_micros() as u64 / 4,
            "{behaviour} took {} µs: the deadline, not fuel, bounds it",
            run.usage.wall_us
        );
        run
    }
}

#[tokio::test]
async fn a_flood_of_host_calls_runs_out_of_fuel_long_before_the_deadline() {
    let run = arena().flood("host-call-flood").await;
    let costs = HostCosts::default();
    // Each counted call (`collections`, `open`) pays `call`, and each `open` `query` on top.
    assert!(
        run.usage.host_calls * (costs.call + costs.query / 2) <= fuel_bound().fuel,
        "{} host calls on {} fuel: host calls are not charged",
        run.usage.host_calls,
        fuel_bound().fuel
    );
}

#[tokio::test]
async fn an_endless_log_runs_out_of_fuel_long_before_the_deadline() {
    let run = arena().flood("endless-log").await;
    let costs = HostCosts::default();
    let written = run.usage.log_bytes + run.usage.log_dropped;
    // Each round is one `log` call (counted) and at least one stdout write (WASI), each paying
    // `call`, and every byte written pays `log_byte`.
    assert!(
        run.usage.host_calls * 2 * costs.call + written * costs.log_byte <= fuel_bound().fuel,
        "{} log calls and {written} bytes on {} fuel: logging is not charged",
        run.usage.host_calls,
        fuel_bound().fuel
    );
}

#[tokio::test]
async fn host_work_costs_a_normal_scan_only_a_few_percent() {
    use insitu_core::sandbox::SandboxConfig;
    use insitu_core::sandbox::bindings::insitu::plugin::output::Param;

    // The benchmark's scan (`benches/sandbox.rs`, `scan_1m`) on fewer records: realistic
    // labels and counterparties, one in six an agency fee, one in fifty over-priced.
    const N: i64 = 50_000;
    let labels = [
        ("CB CARREFOUR MARKET", "Carrefour"),
        ("FRAIS DE GESTION", "Agence Dupont Immobilier"),
        ("CB BOULANGERIE PAUL", "Boulangerie Paul"),
        ("PRLV FREE MOBILE", "Free Mobile"),
        ("VIR SALAIRE ACME", "ACME SA"),
        ("CB SNCF", "SNCF"),
    ];
    let f = TestPds::new();
    let p = f.store.add_person("scanned").unwrap();
    let txs: Vec<_> = (0..N)
        .map(|i| {
            let (label, who) = labels[i as usize % labels.len()];
            let minor = match (label, i % 50) {
                ("FRAIS DE GESTION", 1) => -4500,
                ("FRAIS DE GESTION", _) => -3000,
                _ => -((i * 7919) % 9000 + 100),
            };
            let mut t = tx(0, minor, label, Some(who));
            t.id = i as u64;
            t.time = T0 + i * 600_000;
            t
        })
        .collect();
    write_transactions(f.store.as_ref(), p, &txs);
    let scanner = f.install(insitu_plugins::FEE_SCANNER);
    let grant = f.grant(
        p,
        &scanner,
        &["amount", "label", "counterparty"],
        TimeRange::ALL,
    );
    let params: Vec<Param> = [
        ("rule", text("agency-fee")),
        ("pattern", text("frais de gestion")),
        ("agreed", eur(3000)),
    ]
    .into_iter()
    .map(|(n, v)| Param {
        name: n.into(),
        value: v.into(),
    })
    .collect();
    let fuel = |costs: HostCosts| {
        let mut cfg = SandboxConfig::new(f.dir.path().join("plugins"));
        cfg.pool = 2;
        cfg.costs = costs;
        let sb = insitu_core::sandbox::open(f.store.clone(), cfg).unwrap();
        let pre = sb.load(&scanner).unwrap();
        let data = insitu_core::sandbox::data_access(
            f.store.clone(),
            p,
            grant.clone(),
            &Limits::default(),
        )
        .unwrap();
        let params = &params;
        async move {
            let exec = sb.execute(&pre, data, Limits::default(), params).await;
            assert!(exec.outcome.is_ok(), "{:?}", exec.outcome);
            assert_eq!(exec.usage.records_read, N as u64);
            exec.usage.fuel
        }
    };
    let free = fuel(HostCosts::FREE).await;
    let charged = fuel(HostCosts::default()).await;
    let overhead = (charged - free) as f64 / free as f64;
    eprintln!(
        "fee-scanner over {N} records: {free} fuel free, {charged} charged, +{:.2} %",
        overhead * 100.0
    );
    assert!(charged > free, "host work is not charged");
    assert!(
        overhead < 0.05,
        "host work adds {:.1} % to a normal scan",
        overhead * 100.0
    );
}
