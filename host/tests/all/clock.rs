//! `insitu:plugin/clock` on the real sandbox: a plugin that imports it gets the date its run
//! request set, at day precision, and the WASI clocks stay frozen; one that imports it without
//! naming it in its manifest is refused at pack and at install; one that does not import it
//! runs as before.

use insitu_core::meter::{Outcome, RunRecord};
use insitu_core::output::{PluginOutput, Scalar};
use insitu_core::package::{self, InstallMode, Manifest, component_imports};
use insitu_core::run::{Known, Purpose, RunRequest};
use insitu_core::sandbox::AsOf;
use insitu_testkit::now_ms;
use insitu_testkit::{DAY, T0, TestPds as Fixture, grant_for};

const CLOCK: &str = "insitu:plugin/clock";

fn manifest(path: &str) -> Manifest {
    Manifest::from_file(std::path::Path::new(insitu_plugins::manifest_for(path))).unwrap()
}

fn metric(r: &RunRecord, name: &str) -> Scalar {
    assert_eq!(r.outcome, Outcome::Succeeded, "{:?}", r.outcome);
    let Some(PluginOutput::Metrics { metrics }) = &r.output else {
        panic!("expected metrics, got {:?}", r.output);
    };
    metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name} in {metrics:?}"))
        .value
        .clone()
}

fn request(person: u64, grant: u64, digest: &str, as_of: Option<i64>) -> RunRequest {
    RunRequest {
        person,
        grant,
        digest: digest.into(),
        params: Vec::new(),
        limits: None,
        requester: None,
        as_of,
    }
}

#[tokio::test]
async fn a_plugin_gets_the_day_its_run_request_sets_and_never_the_time() {
    let f = Fixture::new();
    let p = f.person_with_transactions("alice");
    let d = f.install(insitu_plugins::DATED);
    let g = grant_for(f.store.as_ref(), p, &d);

    // Any time of a day stands for that day: the plugin learns the day, not the hour.
    let at = T0 + 40 * DAY + 13 * 3_600_000 + 1_234;
    let run = f.runner.run(request(p, g, &d, Some(at))).await.unwrap();
    assert_eq!(metric(&run, "today"), Scalar::Timestamp(T0 + 40 * DAY));
    // Asking for the date does not unfreeze the WASI clock.
    assert_eq!(metric(&run, "wasi-now"), Scalar::Timestamp(0));
    // `collections` and `today`: each charged as a host call.
    assert_eq!(run.usage.host_calls, 2);

    // A campaign or study member's run carries the job's day the same way.
    let member = f
        .runner
        .execute(
            request(p, g, &d, Some(T0 + 3 * DAY + 1)),
            Purpose::Member,
            Known::default(),
        )
        .await
        .unwrap();
    assert_eq!(metric(&member, "today"), Scalar::Timestamp(T0 + 3 * DAY));

    // A request that sets none is as of the day it is made.
    let before = AsOf::day_of(now_ms()).ms();
    let run = f.runner.run(request(p, g, &d, None)).await.unwrap();
    let after = AsOf::day_of(now_ms()).ms();
    let Scalar::Timestamp(today) = metric(&run, "today") else {
        panic!("today is a timestamp");
    };
    assert!(today == before || today == after, "{today} not {before}");
    assert_eq!(today % DAY, 0);
}

#[test]
fn a_plugin_importing_the_clock_without_naming_it_is_refused_at_pack_and_install() {
    let f = Fixture::new();
    let bytes = insitu_plugins::bytes(insitu_plugins::DATED);
    let imports = component_imports(&bytes).unwrap();
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("insitu:plugin/clock@")),
        "{imports:?}"
    );
    let mut m = manifest(insitu_plugins::DATED);
    assert!(m.describe().contains("learns the date its run is as of"));
    m.imports.retain(|i| i != CLOCK);
    // Declaring the package `insitu:plugin` does not cover the clock.
    assert!(m.imports.iter().any(|i| i == "insitu:plugin"));

    // At pack (the CLI's path, from the manifest's JSON).
    let json = serde_json::to_vec(&m).unwrap();
    let err = package::manifest_for_pack(&bytes, &json)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the component imports insitu:plugin (insitu:plugin/clock) but the manifest does not list it"),
        "{err}"
    );

    // At install, for a package packed without that check.
    let signed = package::pack_and_sign(&bytes, &m, &f.key).unwrap();
    let err = f
        .install_bytes(&signed, InstallMode::Verified)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("insitu:plugin/clock") && err.contains("does not list it"),
        "{err}"
    );
    assert!(f.store.plugins().unwrap().is_empty());
}

#[tokio::test]
async fn a_plugin_that_does_not_import_the_clock_runs_as_before() {
    let f = Fixture::new();
    // Built with the SDK that binds the clock, but never calling it: no clock import, and a
    // manifest without it, exactly as before the clock existed.
    let bytes = insitu_plugins::bytes(insitu_plugins::PROBE);
    let imports = component_imports(&bytes).unwrap();
    assert!(!imports.iter().any(|i| i.contains("clock")), "{imports:?}");
    let m = manifest(insitu_plugins::PROBE);
    assert!(!m.imports.iter().any(|i| i == CLOCK));
    assert!(!m.describe().contains("learns the date"));

    let p = f.person_with_transactions("bob");
    let d = f.install(insitu_plugins::PROBE);
    let g = grant_for(f.store.as_ref(), p, &d);
    let run = f.runner.run(request(p, g, &d, Some(T0))).await.unwrap();
    assert_eq!(run.outcome, Outcome::Succeeded, "{:?}", run.outcome);
    let Some(PluginOutput::Table { rows, .. }) = &run.output else {
        panic!("expected the probe's table, got {:?}", run.output);
    };
    assert_eq!(rows[0][3], Scalar::Integer(5), "{rows:?}");
}
