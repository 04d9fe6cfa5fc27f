//! Grants enforced at the boundary (invariants 1 and 4): what the plugin sees from inside the
//! sandbox is exactly what the grant allows, and a grant serves only its person, its code and
//! its period.

use crate::common;

use insitu_core::store::prelude::*;
use std::time::Duration;

use common::*;
use insitu_core::clock::ManualClock;
use insitu_core::meter::{FailureReason, Outcome, RunRecord};
use insitu_core::output::{PluginOutput, Scalar};
use insitu_core::store::{TimeRange, Value};
use insitu_testkit::*;

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
    let f = TestPds::new();
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
    let f = TestPds::new();
    let p = f.person_with_transactions("alice");
    let probe = f.install(insitu_plugins::PROBE);
    let g = f.grant(p, &probe, ALL_FIELDS, TimeRange::ALL);
    let rows = seen(&f.run(p, g.id, &probe, &[], None).await);
    assert_eq!(rows[0].1, ALL_FIELDS.join(","));
    assert_eq!(rows[0].3, 5);
}

#[tokio::test]
async fn one_persons_grant_never_reads_another_persons_data() {
    let f = TestPds::new();
    let alice = f.person_with_transactions("alice");
    let bob = f.store.add_person("bob").unwrap();
    f.store
        .write_records(
            bob,
            "bank.transactions",
            &[tx(5, -100, "BOB ONLY", None)],
            insitu_core::store::Source::File("t"),
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
    let f = TestPds::new();
    let p = f.person_with_transactions("alice");
    let probe = f.install(insitu_plugins::PROBE);
    let scanner = f.install(insitu_plugins::FEE_SCANNER);

    let revoked = f.grant(p, &probe, ALL_FIELDS, TimeRange::ALL);
    f.store.revoke_grant(revoked.id, f.store.now_ms()).unwrap();
    let mut expired = f.grant(p, &probe, ALL_FIELDS, TimeRange::ALL);
    expired.expires_ms = Some(f.store.now_ms() - 1);
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

/// Every layer reads the clock it is given: on a `ManualClock` set in 2200, a grant that
/// expired the day before is refused at admission (though the system clock is far before its
/// expiry), the run starts at the manual time, and every audit entry carries it; moved past a
/// live grant's expiry, the same run is refused too.
#[tokio::test]
async fn admission_and_the_audit_read_the_injected_clock() {
    let at = 7_258_118_400_000; // 2200-01-01
    let clock = ManualClock::at(at);
    let f = TestPds::with_clock(clock.clone());
    let p = f.person_with_transactions("alice");
    let probe = f.install(insitu_plugins::PROBE);
    let mut expired = f.grant(p, &probe, ALL_FIELDS, TimeRange::ALL);
    assert_eq!(expired.created_ms, at);
    expired.expires_ms = Some(at - DAY);
    let expired = f.store.add_grant(expired).unwrap();
    let run = f.run(p, expired.id, &probe, &[], None).await;
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::Grant, "{msg}");
    assert!(msg.contains("expired"), "{msg}");
    assert_eq!(run.started_ms, at);
    let log = f.store.audit_log().unwrap();
    assert!(
        log.iter().all(|e| e.at_ms == at),
        "an audit entry is not stamped by the injected clock: {:?}",
        log.iter().map(|e| e.at_ms).collect::<Vec<_>>()
    );

    let mut live = f.grant(p, &probe, ALL_FIELDS, TimeRange::ALL);
    live.expires_ms = Some(at + DAY);
    let live = f.store.add_grant(live).unwrap();
    let ok = f.run(p, live.id, &probe, &[], None).await;
    assert_eq!(ok.outcome, Outcome::Succeeded, "{}", ok.log);
    clock.advance(2 * DAY);
    let late = f.run(p, live.id, &probe, &[], None).await;
    assert_eq!(failure(&late).0, FailureReason::Grant);
    assert_eq!(late.started_ms, at + 2 * DAY);
}

/// A person with `n` purchases, the probe installed, and a grant of their amounts to it.
fn probe_on_purchases(
    f: &TestPds,
    name: &str,
    n: i64,
) -> (u64, String, insitu_core::consent::Grant) {
    let p = f.store.add_person(name).unwrap();
    let txs: Vec<_> = (0..n).map(|d| tx(d, -100 - d, "ACHAT", None)).collect();
    f.store
        .write_records(
            p,
            "bank.transactions",
            &txs,
            insitu_core::store::Source::File("t"),
        )
        .unwrap();
    let probe = f.install(insitu_plugins::PROBE);
    let g = f.grant(p, &probe, &["amount"], TimeRange::ALL);
    (p, probe, g)
}

/// Revokes `grant` `ms` after `person`'s run is admitted (stored as running): on a loaded
/// machine admission alone (a compile) can take longer than a fixed wait.
async fn revoke_once_running(f: &TestPds, person: u64, grant: u64, ms: u64) {
    let started = std::time::Instant::now();
    while !f
        .store
        .runs(Some(person))
        .unwrap()
        .iter()
        .any(|r| r.outcome == Outcome::Running)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never admitted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(ms)).await;
    f.store.revoke_grant(grant, f.store.now_ms()).unwrap();
}

/// A test PDS over redb, or over a fresh PostgreSQL schema (kept while the `Schemas` lives):
/// the grant read before each batch is the store's, and PostgreSQL reads it with the batch.
fn on(
    backend: Backend,
) -> (
    std::sync::Arc<TestPds>,
    Option<insitu_store_pg::testing::Schemas>,
) {
    match backend {
        Backend::Redb => (std::sync::Arc::new(TestPds::new()), None),
        Backend::Postgres => {
            let schemas = insitu_store_pg::testing::Schemas::new("grants");
            let store = insitu_store_pg::testing::connect(
                &schemas.fresh(),
                std::sync::Arc::new(insitu_core::clock::SystemClock),
            );
            (
                std::sync::Arc::new(TestPds::over(std::sync::Arc::new(store))),
                Some(schemas),
            )
        }
    }
}

#[derive(Clone, Copy)]
enum Backend {
    Redb,
    Postgres,
}

async fn revocation_stops_a_run_in_progress_at_the_next_batch(backend: Backend) {
    let (f, _schemas) = on(backend);
    let (p, probe, g) = probe_on_purchases(&f, "carol", 200);
    let params = [
        ("batch-size", Scalar::Integer(1)),
        ("spin", Scalar::Integer(20_000_000)),
    ];
    let run = {
        let f = f.clone();
        let probe = probe.clone();
        tokio::spawn(async move { f.run(p, g.id, &probe, &params, None).await })
    };
    revoke_once_running(&f, p, g.id, 300).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_stops_a_run_in_progress_at_the_next_batch_on_redb() {
    revocation_stops_a_run_in_progress_at_the_next_batch(Backend::Redb).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_stops_a_run_in_progress_at_the_next_batch_on_postgres() {
    revocation_stops_a_run_in_progress_at_the_next_batch(Backend::Postgres).await
}

/// The end of the data is the person's data too: a grant revoked after the last batch was
/// delivered ends the run at its next call, which would only have said "no more". (Here the
/// plugin asks past the batch the host said was the last, `past-last`: the SDK would not.)
async fn revocation_after_the_last_batch_ends_the_run_before_it_learns_the_data_ended(
    backend: Backend,
) {
    let (f, _schemas) = on(backend);
    let (p, probe, g) = probe_on_purchases(&f, "erin", 20);
    // One batch holds all 20 records; the plugin spins after it, before asking for more.
    let params = [
        ("spin", Scalar::Integer(400_000_000)),
        ("past-last", Scalar::Integer(1)),
    ];
    let run = {
        let f = f.clone();
        tokio::spawn(async move { f.run(p, g.id, &probe, &params, None).await })
    };
    revoke_once_running(&f, p, g.id, 200).await;
    let run = run.await.unwrap();
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::PluginError, "{msg}");
    assert!(msg.contains("access ended"), "{msg}");
    assert_eq!(
        run.usage.records_read, 20,
        "the batch before the revocation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_after_the_last_batch_ends_the_run_before_it_learns_the_data_ended_on_redb() {
    revocation_after_the_last_batch_ends_the_run_before_it_learns_the_data_ended(Backend::Redb)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_after_the_last_batch_ends_the_run_before_it_learns_the_data_ended_on_postgres()
{
    revocation_after_the_last_batch_ends_the_run_before_it_learns_the_data_ended(Backend::Postgres)
        .await
}

/// The host says, with a batch, that it was the last (`was-last`), when it knows: the plugin
/// learned the end under the grant checked with that batch, and the SDK makes no further call.
/// A revocation after it ends no call of the run, which finishes with the 20 records it read
/// (the same run asking past the last batch is stopped: the test above).
async fn a_plugin_told_its_batch_was_the_last_learns_nothing_after_a_revocation(backend: Backend) {
    let (f, _schemas) = on(backend);
    let (p, probe, g) = probe_on_purchases(&f, "fran", 20);
    let params = [("spin", Scalar::Integer(400_000_000))];
    let run = {
        let f = f.clone();
        tokio::spawn(async move { f.run(p, g.id, &probe, &params, None).await })
    };
    revoke_once_running(&f, p, g.id, 200).await;
    let run = run.await.unwrap();
    assert_eq!(run.outcome, Outcome::Succeeded, "{:?}", run.outcome);
    assert_eq!(run.usage.records_read, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_told_its_batch_was_the_last_learns_nothing_after_a_revocation_on_redb() {
    a_plugin_told_its_batch_was_the_last_learns_nothing_after_a_revocation(Backend::Redb).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_told_its_batch_was_the_last_learns_nothing_after_a_revocation_on_postgres() {
    a_plugin_told_its_batch_was_the_last_learns_nothing_after_a_revocation(Backend::Postgres).await
}

/// A job hands its member runs the grant it read at the claim (`run::Known`); a revocation
/// between the claim and the run still stops the run before its first record: the grant is
/// read again before a batch is delivered (over PostgreSQL, in the batch's own round trip).
async fn a_member_run_on_a_grant_revoked_after_its_claim_reads_nothing(backend: Backend) {
    let (f, _schemas) = on(backend);
    let (p, probe, g) = probe_on_purchases(&f, "dora", 20);
    let claimed = f.store.grant(g.id).unwrap();
    f.store.revoke_grant(g.id, f.store.now_ms()).unwrap();
    let req = insitu_core::run::RunRequest {
        person: p,
        grant: g.id,
        digest: probe.clone(),
        params: Vec::new(),
        limits: None,
        requester: None,
        as_of: None,
    };
    let known = insitu_core::run::Known {
        manifest: None,
        grant: Some(claimed),
    };
    let run = f
        .runner
        .execute(req, insitu_core::run::Purpose::Member, known)
        .await
        .unwrap();
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::PluginError, "{msg}");
    assert!(msg.contains("access ended"), "{msg}");
    assert_eq!(run.usage.records_read, 0);
    assert!(run.output.is_none());
}

#[tokio::test]
async fn a_member_run_on_a_grant_revoked_after_its_claim_reads_nothing_on_redb() {
    a_member_run_on_a_grant_revoked_after_its_claim_reads_nothing(Backend::Redb).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_run_on_a_grant_revoked_after_its_claim_reads_nothing_on_postgres() {
    a_member_run_on_a_grant_revoked_after_its_claim_reads_nothing(Backend::Postgres).await
}

/// The probe's `ids` table: the id the plugin was given for each record.
fn ids_seen(run: &RunRecord) -> Vec<u64> {
    assert_eq!(run.outcome, Outcome::Succeeded, "{}", run.log);
    let Some(PluginOutput::Table { rows, .. }) = &run.output else {
        panic!("{:?}", run.output)
    };
    rows.iter()
        .map(|r| match &r[..] {
            [Scalar::Text(_), Scalar::Integer(id)] => *id as u64,
            other => panic!("unexpected row {other:?}"),
        })
        .collect()
}

/// The content-derived id the importer gives a record without a natural key (`import.rs`),
/// for its first few occurrences: what anyone who knows or guesses every value can compute.
fn content_ids(values: &[Value]) -> Vec<u64> {
    use sha2::Digest as _;
    let mut encoded = Vec::new();
    insitu_core::store::codec::encode(&values.to_vec(), &mut encoded);
    let mut h = sha2::Sha256::new();
    h.update(b"bank.transactions");
    h.update(b"\0values\0");
    h.update(&encoded);
    let digest = h.finalize();
    let base = u64::from_be_bytes(digest[..8].try_into().unwrap());
    (0..4u64)
        .map(|n| base.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        .collect()
}

/// Alice's statement imported from CSV (no natural key, so content-derived ids), and a probe
/// with two grants over the same fields: what a brute-forcing plugin would be granted.
fn imported_with_two_grants() -> (TestPds, u64, String, u64, u64) {
    let f = TestPds::new();
    let p = f.store.add_person("alice").unwrap();
    let csv = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/statement.csv"),
    )
    .unwrap();
    let opts = insitu_core::import::ImportOptions {
        collection: Some("bank.transactions".into()),
        ..Default::default()
    };
    insitu_core::import::import_bytes(
        f.store.as_ref(),
        p,
        "statement.csv",
        &csv,
        &opts,
        &mut |_, _| {},
    )
    .unwrap();
    let probe = f.install(insitu_plugins::PROBE);
    let fields = ["amount", "label", "counterparty"];
    let a = f.grant(p, &probe, &fields, TimeRange::ALL).id;
    let b = f.grant(p, &probe, &fields, TimeRange::ALL).id;
    (f, p, probe, a, b)
}

const IDS: [(&str, Scalar); 1] = [("ids", Scalar::Integer(1))];

#[tokio::test]
async fn record_ids_are_stable_under_one_grant_and_unrelated_across_grants() {
    let (f, p, probe, a, b) = imported_with_two_grants();
    let first = ids_seen(&f.run(p, a, &probe, &IDS, None).await);
    let again = ids_seen(&f.run(p, a, &probe, &IDS, None).await);
    let other = ids_seen(&f.run(p, b, &probe, &IDS, None).await);
    let n = stored_transactions(f.store.as_ref(), p).len();
    assert!(n >= 4, "the fixture has {n} records");
    assert_eq!(first.len(), n);
    let distinct: std::collections::BTreeSet<u64> = first.iter().copied().collect();
    assert_eq!(distinct.len(), n, "two records share an id: {first:?}");
    assert_eq!(
        first, again,
        "the ids changed between two runs of one grant"
    );
    assert!(
        first.iter().all(|id| !other.contains(id)),
        "two grants over the same records see common ids: {first:?} {other:?}"
    );
}

#[tokio::test]
async fn record_ids_are_not_the_stored_ids_nor_computable_from_the_records() {
    let (f, p, probe, a, _) = imported_with_two_grants();
    let seen = ids_seen(&f.run(p, a, &probe, &IDS, None).await);
    let records = stored_transactions(f.store.as_ref(), p);
    for (id, values) in &records {
        let computable = content_ids(values);
        // The attack the pseudonyms stop: from the granted fields and a guess of the others,
        // the stored id is recomputed and the guess confirmed.
        assert!(
            computable.contains(id),
            "the importer's ids are no longer content hashes; update this test"
        );
        for s in &seen {
            assert_ne!(s, id, "a plugin sees a stored record id");
            assert!(
                !computable.contains(s),
                "a plugin's id is recomputable from the record's values"
            );
        }
    }
    // The run keeps, for the host only, which record each id stands for.
    let grant = f.store.grant(a).unwrap();
    let sb = f.runner.sandbox();
    let pre = sb.load(&probe).unwrap();
    let data = insitu_core::sandbox::data_access(
        f.store.clone(),
        p,
        grant,
        &insitu_core::sandbox::Limits::default(),
    )
    .unwrap();
    let params = [
        insitu_core::sandbox::bindings::insitu::plugin::output::Param {
            name: "ids".into(),
            value: Scalar::Integer(1).into(),
        },
    ];
    let exec = sb
        .execute(&pre, data, insitu_core::sandbox::Limits::default(), &params)
        .await;
    assert_eq!(exec.delivered.len(), records.len());
    for s in &seen {
        let back = exec.delivered.get(*s).expect("a delivered id maps back");
        assert_eq!(back.collection, "bank.transactions");
        assert!(records.iter().any(|(id, _)| *id == back.id));
    }
}

#[tokio::test]
async fn the_pseudonym_secret_is_never_exported_or_audited() {
    let (f, p, probe, a, _) = imported_with_two_grants();
    f.run(p, a, &probe, &IDS, None).await;
    let key = f.store.pseudonym_key().unwrap();
    assert_ne!(key, [0u8; 32]);
    let hex = insitu_core::audit::hex(&key);
    let archive = insitu_core::rights::export(f.store.as_ref(), p, f.store.now_ms()).unwrap();
    assert!(
        !archive.windows(32).any(|w| w == key) && !String::from_utf8_lossy(&archive).contains(&hex),
        "the export holds the secret"
    );
    let audit = serde_json::to_string(&f.store.audit_log().unwrap()).unwrap();
    assert!(!audit.contains(&hex), "the audit log holds the secret");
    // Made once per store and kept across reopening, so pseudonyms last as long as the store.
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str| {
        insitu_core::store::redb::RedbStore::open(&dir.path().join(name))
            .unwrap()
            .pseudonym_key()
            .unwrap()
    };
    let made = open("other.redb");
    assert_eq!(open("other.redb"), made, "the secret changed on reopening");
    assert_ne!(made, key, "two stores share a secret");
}
