//! Grants enforced at the boundary (invariants 1 and 4): what the plugin sees from inside the
//! sandbox is exactly what the grant allows, and a grant serves only its person, its code and
//! its period.

mod common;

use std::time::Duration;

use common::*;
use insitu::consent::now_ms;
use insitu::meter::{FailureReason, Outcome, RunRecord};
use insitu::output::{PluginOutput, Scalar};
use insitu::store::TimeRange;

/// The probe's table: (collection, fields listed, fields delivered, records, first, last).
fn seen(run: &RunRecord) -> Vec<(String, String, String, i64, i64, i64)> {
    assert_eq!(run.outcome, Outcome::Succeeded, "{}", run.log);
    let Some(PluginOutput::Table { rows, .. }) = &run.output else {
        panic!("{:?}", run.output)
    };
    rows.iter()
        .map(|r| match &r[..] {
            [
                Scalar::Text(c),
                Scalar::Text(f),
                Scalar::Text(d),
                Scalar::Integer(n),
                Scalar::Timestamp(a),
                Scalar::Timestamp(b),
            ] => (c.clone(), f.clone(), d.clone(), *n, *a, *b),
            other => panic!("unexpected row {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn a_plugin_sees_only_granted_collections_fields_and_window() {
    let f = Fixture::new();
    let p = f.person_with_transactions("alice");
    let probe = f.install(insitu_plugins::PROBE);
    // Days 2 to 40: two of the five transactions fall outside.
    let window = TimeRange {
        since: Some(T0 + 2 * DAY),
        until: Some(T0 + 40 * DAY),
    };
    let g = f.grant(p, &probe, &["amount", "label"], window);
    let rows = seen(&f.run(p, g.id, &probe, &[], None).await);
    assert_eq!(
        rows.len(),
        1,
        "an ungranted collection is visible: {rows:?}"
    );
    let (coll, listed, delivered, n, first, last) = rows[0].clone();
    assert_eq!(coll, "bank.transactions");
    assert_eq!(listed, "amount,label", "ungranted fields are listed");
    assert_eq!(delivered, "amount,label", "ungranted fields are delivered");
    assert_eq!(n, 3, "records outside the window were read");
    assert!(first >= T0 + 2 * DAY && last < T0 + 40 * DAY);
}

#[tokio::test]
async fn the_whole_grant_is_visible_and_nothing_more() {
    let f = Fixture::new();
    let p = f.person_with_transactions("alice");
    let probe = f.install(insitu_plugins::PROBE);
    let g = f.grant(p, &probe, ALL_FIELDS, TimeRange::ALL);
    let rows = seen(&f.run(p, g.id, &probe, &[], None).await);
    assert_eq!(rows[0].1, ALL_FIELDS.join(","));
    assert_eq!(rows[0].3, 5);
}

#[tokio::test]
async fn one_persons_grant_never_reads_another_persons_data() {
    let f = Fixture::new();
    let alice = f.person_with_transactions("alice");
    let bob = f.store.add_person("bob").unwrap();
    f.store
        .write_records(
            bob,
            "bank.transactions",
            &[tx(5, -100, "BOB ONLY", None)],
            insitu::store::Source::File("t"),
        )
        .unwrap();
    let probe = f.install(insitu_plugins::PROBE);
    let g = f.grant(bob, &probe, ALL_FIELDS, TimeRange::ALL);
    assert_eq!(seen(&f.run(bob, g.id, &probe, &[], None).await)[0].3, 1);
    // Bob's grant used for Alice's store is refused before anything is read.
    let run = f.run(alice, g.id, &probe, &[], None).await;
    assert_eq!(failure(&run).0, FailureReason::Grant);
    assert_eq!(run.usage.records_read, 0);
}

#[tokio::test]
async fn revoked_expired_and_other_code_grants_start_no_run() {
    let f = Fixture::new();
    let p = f.person_with_transactions("alice");
    let probe = f.install(insitu_plugins::PROBE);
    let scanner = f.install(insitu_plugins::FEE_SCANNER);

    let revoked = f.grant(p, &probe, ALL_FIELDS, TimeRange::ALL);
    f.store.revoke_grant(revoked.id, now_ms()).unwrap();
    let mut expired = f.grant(p, &probe, ALL_FIELDS, TimeRange::ALL);
    expired.expires_ms = Some(now_ms() - 1);
    let expired = f.store.add_grant(expired).unwrap();
    let for_scanner = f.grant(p, &scanner, ALL_FIELDS, TimeRange::ALL);

    for (grant, what) in [
        (revoked.id, "revoked"),
        (expired.id, "expired"),
        (for_scanner.id, "is for plugin"),
        (999, "no grant"),
    ] {
        let run = f.run(p, grant, &probe, &[], None).await;
        let (reason, msg) = failure(&run);
        assert_eq!(reason, FailureReason::Grant, "{msg}");
        assert!(msg.contains(what), "{msg}");
        assert_eq!(run.usage.records_read, 0);
        assert_eq!(run.usage.fuel, 0, "the plugin ran");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_stops_a_run_in_progress_at_the_next_batch() {
    let f = std::sync::Arc::new(Fixture::new());
    let p = f.store.add_person("carol").unwrap();
    let txs: Vec<_> = (0..200).map(|d| tx(d, -100 - d, "ACHAT", None)).collect();
    f.store
        .write_records(
            p,
            "bank.transactions",
            &txs,
            insitu::store::Source::File("t"),
        )
        .unwrap();
    let probe = f.install(insitu_plugins::PROBE);
    let g = f.grant(p, &probe, &["amount"], TimeRange::ALL);
    let params = [
        ("batch-size", Scalar::Integer(1)),
        ("spin", Scalar::Integer(20_000_000)),
    ];
    let run = {
        let f = f.clone();
        let probe = probe.clone();
        tokio::spawn(async move { f.run(p, g.id, &probe, &params, None).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    f.store.revoke_grant(g.id, now_ms()).unwrap();
    let run = run.await.unwrap();
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::PluginError, "{msg}");
    assert!(msg.contains("access ended"), "{msg}");
    assert!(
        run.usage.records_read > 0 && run.usage.records_read < 200,
        "read {}",
        run.usage.records_read
    );
}
