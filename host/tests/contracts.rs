//! Output contracts (invariant 2): an output that breaks its manifest's contract is withheld
//! and the run fails with the reason; an output reaches only its audience.

mod common;

use common::*;
use insitu::contract::{Viewer, output_for};
use insitu::meter::{FailureReason, Outcome};
use insitu::package::{Audience, Manifest, OutputKind};
use insitu::store::TimeRange;

async fn run_probe(f: &Fixture, edit: impl FnOnce(&mut Manifest)) -> insitu::meter::RunRecord {
    let p = f.person_with_transactions("alice");
    let d = f.install_edited(insitu_plugins::PROBE, edit);
    let g = f.grant(p, &d, &["amount"], TimeRange::ALL);
    f.run(p, g.id, &d, &[], None).await
}

#[tokio::test]
async fn an_output_of_another_kind_is_withheld() {
    let f = Fixture::new();
    let run = run_probe(&f, |m| m.output.kind = OutputKind::Findings).await;
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::Contract, "{msg}");
    assert!(
        msg.contains("returned Table but its contract declares Findings"),
        "{msg}"
    );
    assert!(run.output.is_none());
    let audited = f
        .store
        .audit_log()
        .unwrap()
        .iter()
        .any(|e| format!("{:?}", e.event).contains("failed: contract"));
    assert!(audited, "the withheld output is not in the audit log");
}

#[tokio::test]
async fn an_output_with_too_many_items_is_withheld() {
    let f = Fixture::new();
    let run = run_probe(&f, |m| m.output.max_items = 0).await;
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::Contract, "{msg}");
    assert!(msg.contains("over the contract's 0"), "{msg}");
}

#[tokio::test]
async fn an_output_over_the_contracts_size_is_withheld() {
    let f = Fixture::new();
    let run = run_probe(&f, |m| m.output.max_bytes = 16).await;
    assert_eq!(failure(&run).0, FailureReason::OutputTooLarge);
    assert!(run.output.is_none());
}

#[tokio::test]
async fn an_aggregate_only_output_never_leaves_for_one_person() {
    let f = Fixture::new();
    let run = run_probe(&f, |m| {
        m.output.audience = Audience::Aggregate;
        m.output.min_cohort = Some(10);
    })
    .await;
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::Contract, "{msg}");
    assert!(run.output.is_none());
}

#[tokio::test]
async fn an_output_reaches_its_audience_and_nobody_else() {
    let f = Fixture::new();
    let alice = f.person_with_transactions("alice");
    let bob = f.person_with_transactions("bob");
    let d = f.install(insitu_plugins::PROBE);
    let g = f.grant(alice, &d, &["amount"], TimeRange::ALL);
    let run = f.run(alice, g.id, &d, &[], None).await;
    assert_eq!(run.outcome, Outcome::Succeeded);
    assert!(output_for(f.store.as_ref(), run.id, &Viewer::Person(alice)).is_ok());
    for viewer in [
        Viewer::Person(bob),
        Viewer::Requester("ACME".into()),
        Viewer::Operator,
    ] {
        let err = output_for(f.store.as_ref(), run.id, &viewer)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("run {} has no output for you", run.id),
            "{viewer:?}"
        );
    }
    // A run that does not exist gets the same answer: no oracle.
    let err = output_for(f.store.as_ref(), 9999, &Viewer::Person(alice))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "run 9999 has no output for you");
}
