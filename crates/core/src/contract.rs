//! Output contracts (invariant 2): after every run the host checks the output against the
//! manifest's contract before anything is released, and outputs reach only their audience.
//!
//! The size cap is enforced inside the sandbox (`Limits::output_bytes`, lowered to the
//! contract's `max_bytes`); kind, item count and audience are checked here.
//!
//! May touch: the store (to read a run for a viewer).

pub use insitu_model::manifest::limits_from;

use crate::output::{Metric, PluginOutput, Scalar};
use crate::package::{Audience, Manifest, OutputContract, OutputKind, PluginUse};
use crate::store::{PersonId, Store, StoreError};

/// The longest texts a finding may carry, in bytes, whatever its contract: a member who
/// releases a finding releases every byte of it, so each text must be short enough to be read
/// on the invitation, not a place to pack a person's history. The SDK has the same constants
/// and `fit` to cut a label to them.
pub const MAX_RULE_BYTES: usize = 64;
pub const MAX_LABEL_BYTES: usize = 256;
pub const MAX_REASON_BYTES: usize = 512;
/// The most records one finding may cite.
pub const MAX_EVIDENCE: usize = 16;

/// Checks every finding's texts against the caps above, and its currencies (three capital
/// letters, as ISO 4217).
fn check_findings(findings: &[crate::output::Finding]) -> Result<(), String> {
    let withheld = |n: usize, what: String| {
        Err(format!(
            "finding {n}: {what}; the output was withheld (a member who joins a campaign releases every byte of a finding)"
        ))
    };
    let currency_ok = |m: &Option<crate::output::Money>| {
        m.as_ref().is_none_or(|m| {
            m.currency.len() == 3 && m.currency.bytes().all(|b| b.is_ascii_uppercase())
        })
    };
    for (n, f) in findings.iter().enumerate() {
        for (field, text, max) in [
            ("rule", &f.rule, MAX_RULE_BYTES),
            ("label", &f.label, MAX_LABEL_BYTES),
            ("reason", &f.reason, MAX_REASON_BYTES),
        ] {
            if text.len() > max {
                return withheld(
                    n,
                    format!("its {field} has {} bytes, over {max}", text.len()),
                );
            }
        }
        if !currency_ok(&f.amount) || !currency_ok(&f.loss) {
            return withheld(n, "a currency is not three capital letters".into());
        }
        if f.evidence.len() > MAX_EVIDENCE {
            return withheld(
                n,
                format!("it cites {} records, over {MAX_EVIDENCE}", f.evidence.len()),
            );
        }
    }
    Ok(())
}

/// The stored records behind every evidence id the output's findings cite. Each must be a
/// record this run was given, in the collection the finding names; otherwise the output is
/// withheld: an id the run did not read is either made up or a way to smuggle data out.
pub fn resolve_evidence(
    out: &PluginOutput,
    delivered: &crate::sandbox::pseudonym::Delivered,
) -> Result<Vec<crate::meter::EvidenceRef>, String> {
    let PluginOutput::Findings { findings, .. } = out else {
        return Ok(Vec::new());
    };
    let mut refs = Vec::new();
    for (n, f) in findings.iter().enumerate() {
        for e in &f.evidence {
            match delivered.get(e.id) {
                Some(r) if r.collection == e.collection => {
                    refs.push(crate::meter::EvidenceRef {
                        collection: e.collection.clone(),
                        id: e.id,
                        stored: r.id,
                        time: r.time,
                    });
                }
                _ => {
                    return Err(format!(
                        "finding {n} cites record {} of `{}`, which this run did not read; the output was withheld",
                        e.id, e.collection
                    ));
                }
            }
        }
    }
    Ok(refs)
}

/// An output's kind and how many items it holds (findings, metrics or rows), as the contract
/// counts them against `max_items`.
pub fn kind_and_items(out: &PluginOutput) -> (OutputKind, usize) {
    match out {
        PluginOutput::Findings { findings, .. } => (OutputKind::Findings, findings.len()),
        PluginOutput::Metrics { metrics } => (OutputKind::Metrics, metrics.len()),
        PluginOutput::Table { rows, .. } => (OutputKind::Table, rows.len()),
    }
}

/// Passes `out` if it fits `contract`; otherwise the reason it is withheld.
pub fn check(contract: &OutputContract, out: PluginOutput) -> Result<PluginOutput, String> {
    let (kind, items) = kind_and_items(&out);
    if kind != contract.kind {
        return Err(format!(
            "the plugin returned {kind:?} but its contract declares {:?}; the output was withheld",
            contract.kind
        ));
    }
    if items > contract.max_items as usize {
        return Err(format!(
            "the output has {items} items, over the contract's {}; it was withheld",
            contract.max_items
        ));
    }
    if contract.audience == Audience::Aggregate {
        return Err("this plugin's output may only leave combined with other members' (a campaign or study); it was withheld".into());
    }
    if let PluginOutput::Findings { findings, .. } = &out {
        check_findings(findings)?;
    }
    Ok(out)
}

/// Checks one member's output in a campaign or a study. A campaign scanner's output is checked
/// like any run's (findings, to the person). A study plugin's must be integer metrics, each
/// declared in the manifest's `aggregate`; each value is clipped to its declared bounds here, so
/// the host never holds a contribution larger than the bound its noise is calibrated to.
pub fn check_member(manifest: &Manifest, out: PluginOutput) -> Result<PluginOutput, String> {
    if manifest.usage != PluginUse::Study {
        return check(&manifest.output, out);
    }
    let PluginOutput::Metrics { metrics } = out else {
        return Err("a study plugin must return metrics; the output was withheld".into());
    };
    if metrics.len() > manifest.output.max_items as usize {
        return Err(format!(
            "the output has {} items, over the contract's {}; it was withheld",
            metrics.len(),
            manifest.output.max_items
        ));
    }
    let mut clipped = Vec::with_capacity(metrics.len());
    for m in metrics {
        let Some(field) = manifest.aggregate.iter().find(|f| f.name == m.name) else {
            return Err(format!(
                "metric `{}` is not declared in the manifest's aggregate; the output was withheld",
                m.name
            ));
        };
        let Scalar::Integer(v) = m.value else {
            return Err(format!(
                "metric `{}` is not an integer; the output was withheld",
                m.name
            ));
        };
        if clipped.iter().any(|c: &Metric| c.name == m.name) {
            return Err(format!(
                "metric `{}` appears twice; the output was withheld",
                m.name
            ));
        }
        clipped.push(Metric {
            name: m.name,
            value: Scalar::Integer(v.clamp(field.lower, field.upper)),
        });
    }
    if let Some(l1) = manifest.aggregate_l1 {
        let sum = clipped.iter().fold(0i64, |acc, m| match m.value {
            Scalar::Integer(v) => acc.saturating_add(v.saturating_abs()),
            _ => acc,
        });
        if sum > l1 {
            return Err(format!(
                "the metrics sum to {sum}, over the contract's {l1} per member; the output was withheld"
            ));
        }
    }
    Ok(PluginOutput::Metrics { metrics: clipped })
}

/// Who asks to read a run's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    Person(PersonId),
    /// An organisation, by name.
    Requester(String),
    Operator,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("run {0} has no output for you")]
    NotYours(u64),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// A run's output, only for its audience, and for anyone but the person only from the run's
/// release time (its start plus its deadline: when a result appears must not tell how long the
/// run took). The person whose data the run read may always read what it computed from it.
/// Anyone else gets the same "not yours" answer, whether the run exists, runs, failed or
/// succeeded, so a refusal reveals nothing.
pub fn output_for(store: &dyn Store, run: u64, viewer: &Viewer) -> Result<PluginOutput, ReadError> {
    let r = match store.run(run) {
        Ok(r) => r,
        Err(StoreError::NoRun(_)) => return Err(ReadError::NotYours(run)),
        Err(e) => return Err(e.into()),
    };
    let allowed = match (r.audience, viewer) {
        (_, Viewer::Person(p)) => *p == r.person,
        (Some(Audience::Requester), Viewer::Requester(org)) => {
            r.job.is_none()
                && r.requester.as_deref() == Some(org.as_str())
                && store.now_ms() >= r.release_ms
        }
        _ => false,
    };
    match (allowed, r.output) {
        (true, Some(out)) => Ok(out),
        _ => Err(ReadError::NotYours(run)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Metric;

    fn trends() -> Manifest {
        Manifest::from_file(std::path::Path::new(
            insitu_plugins::COACHING_TRENDS_MANIFEST,
        ))
        .expect("manifest")
    }

    fn metrics(values: &[(&str, i64)]) -> PluginOutput {
        PluginOutput::Metrics {
            metrics: values
                .iter()
                .map(|(n, v)| Metric {
                    name: (*n).into(),
                    value: Scalar::Integer(*v),
                })
                .collect(),
        }
    }

    /// A member whose clipped metrics sum past `aggregate_l1` is withheld whole, so the
    /// release's noise, calibrated to that bound, still hides any one member.
    #[test]
    fn a_member_over_the_l1_bound_is_withheld_and_one_within_it_passes() {
        let m = trends();
        assert_eq!(m.aggregate_l1, Some(1));
        assert!(check_member(&m, metrics(&[("soc-29", 1), ("soc-15", 0)])).is_ok());
        // Each within its own bound [0, 1], but two groups at once: over the L1 bound of 1.
        let err = check_member(&m, metrics(&[("soc-29", 1), ("soc-15", 1)])).unwrap_err();
        assert!(err.contains("over the contract's 1 per member"), "{err}");
        // Clipping comes first: 7 clips to 1, which is within the bound.
        assert!(check_member(&m, metrics(&[("soc-29", 7)])).is_ok());
    }
}
