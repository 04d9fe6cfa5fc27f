//! Output contracts (invariant 2): an output that breaks its manifest's contract is withheld
//! and the run fails with the reason; an output reaches only its audience.

use crate::common;

use common::*;
use insitu_core::contract::{Viewer, output_for};
use insitu_core::meter::{FailureReason, Outcome};
use insitu_core::package::{Audience, Manifest, OutputKind};
use insitu_core::store::TimeRange;
use insitu_testkit::*;

async fn run_probe(f: &TestPds, edit: impl FnOnce(&mut Manifest)) -> insitu_core::meter::RunRecord {
    let p = f.person_with_transactions("alice");
    let d = f.install_edited(insitu_plugins::PROBE, edit);
    let g = f.grant(p, &d, &["amount"], TimeRange::ALL);
    f.run(p, g.id, &d, &[], None).await
}

#[tokio::test]
async fn an_output_of_another_kind_is_withheld() {
    let f = TestPds::new();
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
    let f = TestPds::new();
    let run = run_probe(&f, |m| m.output.max_items = 0).await;
    let (reason, msg) = failure(&run);
    assert_eq!(reason, FailureReason::Contract, "{msg}");
    assert!(msg.contains("over the contract's 0"), "{msg}");
}

#[tokio::test]
async fn an_output_over_the_contracts_size_is_withheld() {
    let f = TestPds::new();
    let run = run_probe(&f, |m| m.output.max_bytes = 16).await;
    assert_eq!(failure(&run).0, FailureReason::OutputTooLarge);
    assert!(run.output.is_none());
}

#[tokio::test]
async fn an_aggregate_only_output_never_leaves_for_one_person() {
    let f = TestPds::new();
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
    let f = TestPds::new();
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

/// An output addressed to the organisation that started the run reaches it only from the run's
/// release time (its start plus its deadline), so when it appears says nothing of how long the
/// run took; the person reads it at once; another organisation never.
#[tokio::test]
async fn an_output_for_the_requester_waits_for_the_release_time() {
    let clock = insitu_core::clock::ManualClock::at(insitu_testkit::now_ms());
    let f = TestPds::with_clock(clock.clone());
    let alice = f.person_with_transactions("alice");
    let d = f.install_edited(insitu_plugins::PROBE, |m| {
        m.output.audience = Audience::Requester
    });
    let g = insitu_testkit::grant_to(f.store.as_ref(), alice, &d, "ACME");
    let limits = insitu_core::sandbox::Limits {
        deadline: std::time::Duration::from_secs(3),
        ..Default::default()
    };
    let run = f
        .runner
        .run(insitu_core::run::RunRequest {
            person: alice,
            grant: g,
            digest: d.clone(),
            params: Vec::new(),
            limits: Some(limits),
            requester: Some("ACME".into()),
            as_of: None,
        })
        .await
        .unwrap();
    assert_eq!(run.outcome, Outcome::Succeeded);
    assert_eq!(
        run.release_ms,
        run.started_ms + 3_000 + insitu_core::run::RELEASE_MARGIN_MS
    );
    let acme = Viewer::Requester("ACME".into());
    assert!(output_for(f.store.as_ref(), run.id, &acme).is_err());
    assert!(output_for(f.store.as_ref(), run.id, &Viewer::Person(alice)).is_ok());
    clock.set(run.release_ms - 1);
    assert!(output_for(f.store.as_ref(), run.id, &acme).is_err());
    clock.set(run.release_ms);
    assert!(output_for(f.store.as_ref(), run.id, &acme).is_ok());
    assert!(output_for(f.store.as_ref(), run.id, &Viewer::Requester("Other".into())).is_err());
}

/// A member who joins a campaign releases every byte of the findings they tick. So a finding's
/// texts are capped, its currencies are codes, and every record it cites is one the run read
/// (the host checks the id against what it delivered); otherwise the output is withheld. A
/// well-formed finding passes, and the host keeps the stored record behind each id it cites.
#[tokio::test]
async fn a_finding_cites_only_records_the_run_read_and_hides_no_packed_text() {
    let f = TestPds::new();
    let p = f.person_with_transactions("alice");
    let d = f.install_edited(insitu_plugins::EXFILTRATE, |m| {
        m.output.kind = OutputKind::Findings
    });
    let g = f.grant(p, &d, &["amount", "label", "counterparty"], TimeRange::ALL);
    let run = |channel: &'static str| {
        let (f, d) = (&f, &d);
        async move {
            f.run(
                p,
                g.id,
                d,
                &[
                    ("channel", insitu_core::output::Scalar::Text(channel.into())),
                    ("needle", insitu_core::output::Scalar::Text("x".into())),
                ],
                None,
            )
            .await
        }
    };
    for (channel, why) in [
        ("forged-evidence", "which this run did not read"),
        ("packed-label", "its label has"),
        ("packed-currency", "a currency is not three capital letters"),
    ] {
        let r = run(channel).await;
        let (reason, msg) = failure(&r);
        assert_eq!(reason, FailureReason::Contract, "{channel}: {msg}");
        assert!(msg.contains(why), "{channel}: {msg}");
        assert!(r.output.is_none() && r.evidence.is_empty(), "{channel}");
    }
    let ok = run("real-evidence").await;
    assert_eq!(ok.outcome, Outcome::Succeeded, "{:?}", ok.outcome);
    let Some(insitu_core::output::PluginOutput::Findings { findings, .. }) = &ok.output else {
        panic!("findings: {:?}", ok.output)
    };
    let cited = &findings[0].evidence[0];
    assert_eq!(ok.evidence.len(), 1);
    assert_eq!(
        (ok.evidence[0].id, ok.evidence[0].collection.as_str()),
        (cited.id, cited.collection.as_str())
    );
    assert_ne!(
        ok.evidence[0].stored, cited.id,
        "the plugin saw a pseudonym"
    );
}
