//! The compiled-code cache: reused across restarts, never trusted when it does not match, and
//! an altered installed component is refused (invariant 4's "tampered packages are refused",
//! at the level this issue has: the digest).

use crate::common;

use std::sync::Arc;

use common::*;
use insitu_core::meter::Outcome;
use insitu_core::run::Runner;
use insitu_core::sandbox::SandboxConfig;
use insitu_core::store::TimeRange;
use insitu_testkit::*;

fn cached_file(f: &TestPds, digest: &str) -> std::path::PathBuf {
    let dir = f.dir.path().join("plugins/compiled");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(digest))
        .expect("a compiled cache entry")
}

fn restarted(f: &TestPds) -> Runner {
    let mut cfg = SandboxConfig::new(f.dir.path().join("plugins"));
    cfg.pool = 4;
    Runner::new(
        f.store.clone(),
        Arc::new(insitu_core::sandbox::open(f.store.clone(), cfg).unwrap()),
    )
}

async fn scan_works(f: &TestPds, runner: &Runner, p: u64, grant: u64, digest: &str) {
    let run = runner
        .run(insitu_core::run::RunRequest {
            person: p,
            grant,
            digest: digest.into(),
            params: vec![("rule".into(), text("duplicate"))],
            limits: None,
            requester: None,
            as_of: None,
        })
        .await
        .unwrap();
    assert_eq!(run.outcome, Outcome::Succeeded, "{}", run.log);
    let _ = f;
}

#[tokio::test]
async fn a_restart_loads_compiled_code_from_the_cache() {
    let f = TestPds::new();
    let p = f.person_with_transactions("a");
    let digest = f.install(insitu_plugins::FEE_SCANNER);
    let g = f.grant(p, &digest, ALL_FIELDS, TimeRange::ALL);
    let file = cached_file(&f, &digest);
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    let runner = restarted(&f);
    scan_works(&f, &runner, p, g.id, &digest).await;
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        before,
        "the cache entry was rewritten"
    );
}

#[tokio::test]
async fn a_damaged_cache_entry_is_recompiled_not_trusted() {
    let f = TestPds::new();
    let p = f.person_with_transactions("a");
    let digest = f.install(insitu_plugins::FEE_SCANNER);
    let g = f.grant(p, &digest, ALL_FIELDS, TimeRange::ALL);
    let file = cached_file(&f, &digest);
    let good = std::fs::read(&file).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    std::fs::write(&file, &bad).unwrap();
    let runner = restarted(&f);
    scan_works(&f, &runner, p, g.id, &digest).await;
    assert_eq!(
        std::fs::read(&file).unwrap(),
        good,
        "the damaged entry was not replaced"
    );
}

#[tokio::test]
async fn an_altered_installed_component_is_refused() {
    let f = TestPds::new();
    let p = f.person_with_transactions("a");
    let digest = f.install(insitu_plugins::FEE_SCANNER);
    let g = f.grant(p, &digest, ALL_FIELDS, TimeRange::ALL);
    std::fs::remove_file(cached_file(&f, &digest)).unwrap();
    // The component as the store keeps it, one bit changed.
    let mut bytes = f
        .store
        .component(&digest)
        .unwrap()
        .expect("the store keeps it");
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    f.store.put_component(&digest, &bytes).unwrap();
    let runner = restarted(&f);
    let run = runner
        .run(insitu_core::run::RunRequest {
            person: p,
            grant: g.id,
            digest: digest.clone(),
            params: vec![],
            limits: None,
            requester: None,
            as_of: None,
        })
        .await
        .unwrap();
    let (_, msg) = failure(&run);
    assert!(msg.contains("altered"), "{msg}");
    assert_eq!(run.usage.records_read, 0);
}

/// A data directory from before components were kept in the store holds them as
/// `plugins/<digest>.wasm`: such a plugin still runs, its component checked against its
/// digest, and is then kept in the store (which other nodes read); an altered file is refused.
#[tokio::test]
async fn a_component_installed_as_a_file_before_the_store_kept_it_runs_and_moves_in() {
    let old = TestPds::new();
    let digest = old.install(insitu_plugins::FEE_SCANNER);
    let record = old.store.plugin(&digest).unwrap();
    let bytes = old.store.component(&digest).unwrap().unwrap();

    for altered in [true, false] {
        let f = TestPds::new();
        let p = f.person_with_transactions("a");
        f.store.put_plugin(&record).unwrap();
        assert_eq!(f.store.component(&digest).unwrap(), None);
        let mut file = bytes.clone();
        if altered {
            file[100] ^= 1;
        }
        std::fs::create_dir_all(f.dir.path().join("plugins")).unwrap();
        std::fs::write(f.dir.path().join(format!("plugins/{digest}.wasm")), &file).unwrap();
        let g = f.grant(p, &digest, ALL_FIELDS, TimeRange::ALL);
        let runner = restarted(&f);
        let req = insitu_core::run::RunRequest {
            person: p,
            grant: g.id,
            digest: digest.clone(),
            params: vec![("rule".into(), text("duplicate"))],
            limits: None,
            requester: None,
            as_of: None,
        };
        let run = runner.run(req).await.unwrap();
        if altered {
            let (_, msg) = failure(&run);
            assert!(msg.contains("altered"), "{msg}");
            assert_eq!(
                f.store.component(&digest).unwrap(),
                None,
                "kept an altered file"
            );
        } else {
            assert_eq!(run.outcome, Outcome::Succeeded, "{}", run.log);
            assert_eq!(f.store.component(&digest).unwrap(), Some(bytes.clone()));
        }
    }
}

/// A compile on a cache miss runs on the blocking pool, not on the async thread: a task
/// sharing the runtime's only thread (a ticker) keeps running while the plugin compiles.
#[tokio::test(flavor = "current_thread")]
async fn a_compile_on_a_cache_miss_does_not_hold_the_async_thread() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    let f = TestPds::new();
    let p = f.person_with_transactions("a");
    let digest = f.install(insitu_plugins::FEE_SCANNER);
    let g = f.grant(p, &digest, ALL_FIELDS, TimeRange::ALL);
    let file = cached_file(&f, &digest);
    std::fs::remove_file(&file).unwrap();
    let runner = restarted(&f);

    let ticks = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = tokio::spawn({
        let (ticks, stop) = (ticks.clone(), stop.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                ticks.lock().unwrap().push(Instant::now());
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    tokio::task::yield_now().await;
    let started = Instant::now();
    scan_works(&f, &runner, p, g.id, &digest).await;
    let ended = Instant::now();
    stop.store(true, Ordering::Relaxed);
    ticker.await.unwrap();

    assert!(file.exists(), "the run compiled the plugin again");
    let mut times: Vec<Instant> = vec![started];
    times.extend(
        ticks
            .lock()
            .unwrap()
            .iter()
            .filter(|t| **t > started && **t < ended),
    );
    times.push(ended);
    let longest = times.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    let took = ended - started;
    assert!(
        longest * 2 < took,
        "the async thread was held for {longest:?} of a {took:?} run that compiled the plugin"
    );
}

/// Runs that start together on a cold cache (a job's first wave on a node that never ran the
/// plugin) all load it: one compiles while the others wait for its result, instead of each
/// compiling and racing for the cache file.
#[test]
fn loads_that_start_together_on_a_cold_cache_all_get_the_plugin() {
    let f = TestPds::new();
    let digest = f.install(insitu_plugins::FEE_SCANNER);
    let file = cached_file(&f, &digest);
    std::fs::remove_file(&file).unwrap();
    let runner = restarted(&f);
    let sandbox = runner.sandbox();
    let failed: Vec<String> = std::thread::scope(|s| {
        let loads: Vec<_> = (0..16)
            .map(|_| s.spawn(|| sandbox.load(&digest).map(|_| ())))
            .collect();
        loads
            .into_iter()
            .filter_map(|l| l.join().unwrap().err().map(|e| format!("{e:#}")))
            .collect()
    });
    assert!(
        failed.is_empty(),
        "{} of 16 loads failed: {failed:?}",
        failed.len()
    );
    assert!(file.exists(), "the compiled code was not cached");
    let left: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}
