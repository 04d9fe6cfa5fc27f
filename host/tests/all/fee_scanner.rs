//! The first real plugin, end to end: a person's transactions, a grant, a run in the sandbox,
//! findings out, usage metered.

use crate::common;

use common::*;
use insitu_core::meter::Outcome;
use insitu_core::output::{PluginOutput, Scalar};
use insitu_core::store::TimeRange;
use insitu_testkit::*;

#[tokio::test]
async fn fee_scanner_finds_overpriced_agency_fees_and_meters_the_run() {
    let f = TestPds::new();
    let p = f.person_with_transactions("alice");
    let digest = f.install(insitu_plugins::FEE_SCANNER);
    let g = f.grant(
        p,
        &digest,
        &["amount", "label", "counterparty"],
        TimeRange::ALL,
    );
    let params = [
        ("rule", text("agency-fee")),
        ("pattern", text("dupont")),
        ("agreed", eur(3000)),
    ];
    let run = f.run(p, g.id, &digest, &params, None).await;
    assert_eq!(run.outcome, Outcome::Succeeded, "log: {}", run.log);
    let Some(PluginOutput::Findings { findings, summary }) = &run.output else {
        panic!("{:?}", run.output)
    };
    let labels: Vec<&str> = findings.iter().map(|f| f.label.as_str()).collect();
    assert_eq!(labels, ["FRAIS DE GESTION MARS", "FRAIS DE GESTION MAI"]);
    let total = summary
        .iter()
        .find(|m| m.name == "total-overcharge")
        .map(|m| &m.value);
    assert_eq!(total, Some(&eur(1500 + 2200)));
    assert!(
        summary
            .iter()
            .any(|m| m.name == "scanned" && m.value == Scalar::Integer(5))
    );
    assert_eq!(run.usage.records_read, 5);
    assert!(run.usage.fuel > 0 && run.usage.host_calls >= 2 && run.usage.output_bytes > 0);
    assert!(run.usage.peak_memory > 0);
    assert_eq!(
        run.read,
        vec![(
            "bank.transactions".to_string(),
            vec!["amount".into(), "counterparty".into(), "label".into()]
        )]
    );
    // The run is stored with its usage.
    assert_eq!(f.store.run(run.id).unwrap(), run);
}
