//! The upgrade rule's comparison (invariant 4): whether a new version of a plugin shows, on the
//! consent screen ([`Manifest::describe`]), only what is equal to or narrower than the version a
//! person consented to. `request::upgrade` carries a grant over only then.
//!
//! What "narrower" means, field by field:
//!
//! | Field | Carried when the new version's is |
//! | --- | --- |
//! | `id`, `publisher` | equal (otherwise it is another plugin) |
//! | `version` | anything (a new version is the point) |
//! | `description` | equal: free text cannot be compared, so any change asks again |
//! | `data` | for each collection: asked before, fields a subset, window no longer (all time is the longest), purpose equal; a collection dropped is narrower |
//! | `use` | equal (a run, a campaign scanner and a study are different consents) |
//! | `output.kind` | equal |
//! | `output.audience` | equal, or the person alone (the narrowest: they see their own data) |
//! | `output.max_items`, `output.max_bytes` | not larger |
//! | `output.min_cohort` | not smaller (none counts as 0) |
//! | `aggregate` | each metric declared before, same description, bounds inside the old ones; a metric dropped is narrower |
//! | `pricing` | same currency (another currency is not comparable); each part not larger |
//! | `limits` | fuel, memory and deadline, as declared or defaulted, each not larger |
//! | `imports` | a subset |
//!
//! May touch: nothing; two manifests in, the first widening out.

use std::collections::BTreeSet;

use super::{
    AggregateField, DataRequest, Manifest, OutputContract, Pricing, RequestedLimits,
    audience_words, use_words, window_words,
};
use crate::manifest::limits_from;

/// The first thing a new version shows on the consent screen that is neither equal to nor
/// narrower than what the person consented to, in plain words for the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {change}")]
pub struct Widening {
    /// The manifest field, e.g. `output.audience` or `data[bank.transactions].fields`.
    pub field: String,
    /// What changed, e.g. "the output would go to the organisation that asked, not to you alone".
    pub change: String,
}

fn widens(field: impl Into<String>, change: impl Into<String>) -> Result<(), Widening> {
    Err(Widening {
        field: field.into(),
        change: change.into(),
    })
}

/// `Ok` if everything `new` shows on the consent screen is equal to or narrower than what
/// `old` showed; otherwise the first field that widens. Every field of the manifest is listed
/// (a field added to the manifest does not compile here until its rule is decided).
pub fn narrows(old: &Manifest, new: &Manifest) -> Result<(), Widening> {
    let Manifest {
        id,
        version: _, // a new version is the point of an upgrade
        publisher,
        description,
        data,
        output,
        limits: _, // compared as a run gets them, below
        pricing,
        imports,
        usage,
        aggregate,
        // The release spends the study's ε whatever the bound: it only decides which member
        // is withheld and the noise's scale.
        aggregate_l1: _,
    } = new;
    if *id != old.id {
        return widens("id", format!("{id} is another plugin than {}", old.id));
    }
    if *publisher != old.publisher {
        return widens(
            "publisher",
            format!("it is published by {publisher}, not {}", old.publisher),
        );
    }
    if *description != old.description {
        return widens("description", "the plugin describes itself differently");
    }
    for d in data {
        narrows_data(&old.data, d)?;
    }
    if *usage != old.usage {
        return widens(
            "use",
            format!(
                "{} could run it, where you agreed to {}",
                use_words(*usage),
                use_words(old.usage)
            ),
        );
    }
    narrows_output(&old.output, output)?;
    for a in aggregate {
        narrows_aggregate(&old.aggregate, a)?;
    }
    narrows_pricing(&old.pricing, pricing)?;
    narrows_limits(old, new)?;
    let before: BTreeSet<&String> = old.imports.iter().collect();
    if let Some(i) = imports.iter().find(|i| !before.contains(i)) {
        return widens(
            "imports",
            format!("it would use the host interface {i}, which it did not use"),
        );
    }
    Ok(())
}

fn narrows_data(old: &[DataRequest], new: &DataRequest) -> Result<(), Widening> {
    let DataRequest {
        collection,
        fields,
        months,
        purpose,
    } = new;
    let field = |what: &str| format!("data[{collection}].{what}");
    let missing = Widening {
        field: field("collection"),
        change: format!("it would read {collection}, which it did not read"),
    };
    let same = old.iter().filter(|o| o.collection == *collection);
    narrows_one(same, missing, |o| {
        if let Some(f) = fields.iter().find(|f| !o.fields.contains(f)) {
            return widens(
                field("fields"),
                format!("it would read {f} of {collection}, which it did not read"),
            );
        }
        let longer = match (o.months, months) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(a), Some(b)) => b > &a,
        };
        if longer {
            return widens(
                field("months"),
                format!(
                    "it would read {collection} over {}, where you agreed to {}",
                    window_words(*months),
                    window_words(o.months)
                ),
            );
        }
        if *purpose != o.purpose {
            return widens(
                field("purpose"),
                format!("the purpose for {collection} is now: {purpose}"),
            );
        }
        Ok(())
    })
}

/// `Ok` if `new` narrows one of the `same` entries of the old manifest (a valid manifest has
/// at most one per collection or metric); otherwise the widening against the first, or
/// `missing` when there is none.
fn narrows_one<'a, T: 'a>(
    same: impl Iterator<Item = &'a T>,
    missing: Widening,
    check: impl Fn(&T) -> Result<(), Widening>,
) -> Result<(), Widening> {
    let mut first = None;
    for o in same {
        match check(o) {
            Ok(()) => return Ok(()),
            Err(w) => {
                first.get_or_insert(w);
            }
        }
    }
    Err(first.unwrap_or(missing))
}

fn narrows_output(old: &OutputContract, new: &OutputContract) -> Result<(), Widening> {
    let OutputContract {
        audience,
        kind,
        max_bytes,
        max_items,
        min_cohort,
    } = new;
    if *kind != old.kind {
        return widens(
            "output.kind",
            format!("it would return {kind:?}, where it returned {:?}", old.kind),
        );
    }
    if *audience != old.audience && *audience != super::Audience::Person {
        return widens(
            "output.audience",
            format!(
                "the output would go {}, not {}",
                audience_words(new),
                audience_words(old)
            ),
        );
    }
    for (field, n, o, unit) in [
        (
            "output.max_items",
            u64::from(*max_items),
            u64::from(old.max_items),
            "items",
        ),
        ("output.max_bytes", *max_bytes, old.max_bytes, "bytes"),
    ] {
        if n > o {
            return widens(
                field,
                format!("the output could hold {n} {unit}, where you agreed to {o}"),
            );
        }
    }
    let (k, was) = (min_cohort.unwrap_or(0), old.min_cohort.unwrap_or(0));
    if k < was {
        return widens(
            "output.min_cohort",
            format!("results could be released for groups of {k}, where you agreed to {was}"),
        );
    }
    Ok(())
}

fn narrows_aggregate(old: &[AggregateField], new: &AggregateField) -> Result<(), Widening> {
    let AggregateField {
        name,
        description,
        lower,
        upper,
    } = new;
    let field = |what: &str| format!("aggregate[{name}].{what}");
    let missing = Widening {
        field: field("name"),
        change: format!("{name} would leave too, which did not"),
    };
    narrows_one(old.iter().filter(|o| o.name == *name), missing, |o| {
        if *description != o.description {
            return widens(
                field("description"),
                format!("{name} is now: {description}"),
            );
        }
        for (what, wider) in [("lower", *lower < o.lower), ("upper", *upper > o.upper)] {
            if wider {
                return widens(
                    field(what),
                    format!(
                        "{name} could range over {lower} to {upper}, where you agreed to {} to {}",
                        o.lower, o.upper
                    ),
                );
            }
        }
        Ok(())
    })
}

fn narrows_pricing(old: &Pricing, new: &Pricing) -> Result<(), Widening> {
    let Pricing {
        currency,
        per_run,
        per_million_fuel,
        per_thousand_records,
    } = new;
    if *currency != old.currency {
        return widens(
            "pricing.currency",
            format!(
                "it would charge in {currency:?}, where it charged in {:?}",
                old.currency
            ),
        );
    }
    for (field, n, o, per) in [
        ("pricing.per_run", per_run, old.per_run, "per run"),
        (
            "pricing.per_million_fuel",
            per_million_fuel,
            old.per_million_fuel,
            "per million fuel",
        ),
        (
            "pricing.per_thousand_records",
            per_thousand_records,
            old.per_thousand_records,
            "per thousand records",
        ),
    ] {
        if *n > o {
            return widens(
                field,
                format!("it would cost {n} {per}, where it cost {o} ({currency} minor units)"),
            );
        }
    }
    Ok(())
}

/// Limits compare as the run gets them (`contract::limits_from`): declared, or the default
/// when not declared.
fn narrows_limits(old: &Manifest, new: &Manifest) -> Result<(), Widening> {
    let RequestedLimits {
        fuel: _,
        memory_mib: _,
        deadline_ms: _,
    } = &new.limits;
    let (o, n) = (limits_from(old), limits_from(new));
    for (field, n, o, unit) in [
        ("limits.fuel", n.fuel, o.fuel, "instructions"),
        (
            "limits.memory_mib",
            n.memory >> 20,
            o.memory >> 20,
            "MiB of memory",
        ),
        (
            "limits.deadline_ms",
            u64::try_from(n.deadline.as_millis()).unwrap_or(u64::MAX),
            u64::try_from(o.deadline.as_millis()).unwrap_or(u64::MAX),
            "ms",
        ),
    ] {
        if n > o {
            return widens(
                field,
                format!("a run could take up to {n} {unit}, where you agreed to {o}"),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;
    use crate::manifest::{Audience, OutputKind, PluginUse};

    /// A single-run plugin that returns findings to the person.
    fn run() -> Manifest {
        let data = |collection: &str, fields: &[&str], months, purpose: &str| DataRequest {
            collection: collection.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            months,
            purpose: purpose.into(),
        };
        Manifest {
            id: "scanner".into(),
            version: "1.0.0".into(),
            publisher: "insitu-examples".into(),
            description: "Finds fees.".into(),
            data: vec![
                data(
                    "bank.transactions",
                    &["amount", "label"],
                    Some(24),
                    "Find fees.",
                ),
                data("receipts.items", &["shop"], Some(12), "Match receipts."),
            ],
            output: OutputContract {
                audience: Audience::Person,
                kind: OutputKind::Findings,
                max_bytes: 4096,
                max_items: 50,
                min_cohort: None,
            },
            limits: RequestedLimits {
                fuel: Some(1_000_000),
                memory_mib: Some(64),
                deadline_ms: Some(10_000),
            },
            pricing: Pricing {
                currency: "EUR".into(),
                per_run: 10,
                per_million_fuel: 2,
                per_thousand_records: 3,
            },
            imports: vec!["insitu:plugin".into(), "wasi:io".into(), "wasi:cli".into()],
            usage: PluginUse::Run,
            aggregate: vec![],
            aggregate_l1: None,
        }
    }

    /// A study plugin: metrics, aggregate audience, a cohort and bounds.
    fn study() -> Manifest {
        let metric = |name: &str, upper| AggregateField {
            name: name.into(),
            description: format!("{name} in the month"),
            lower: 0,
            upper,
        };
        Manifest {
            usage: PluginUse::Study,
            output: OutputContract {
                audience: Audience::Aggregate,
                kind: OutputKind::Metrics,
                min_cohort: Some(10),
                ..run().output
            },
            aggregate: vec![metric("events", 60), metric("minutes", 300)],
            aggregate_l1: None,
            ..run()
        }
    }

    fn requester() -> Manifest {
        let mut m = run();
        m.output.audience = Audience::Requester;
        m
    }

    type Edit = fn(&mut Manifest);
    /// (field or what, the manifest to start from, the change).
    type Case = (&'static str, fn() -> Manifest, Edit);

    /// Each field of the consent screen widened alone: (field, base, edit).
    const WIDENED: &[Case] = &[
        ("id", run, |m| m.id = "other".into()),
        ("publisher", run, |m| m.publisher = "someone-else".into()),
        ("description", run, |m| {
            m.description = "Finds fees, and more.".into()
        }),
        ("data.collection", run, |m| {
            m.data.push(DataRequest {
                collection: "career.positions".into(),
                ..m.data[0].clone()
            })
        }),
        ("data.fields", run, |m| {
            m.data[0].fields.push("counterparty".into())
        }),
        ("data.months", run, |m| m.data[0].months = Some(36)),
        ("data.months", run, |m| m.data[1].months = None),
        ("data.purpose", run, |m| {
            m.data[0].purpose = "Sell your data.".into()
        }),
        ("use", run, |m| m.usage = PluginUse::Campaign),
        ("use", study, |m| m.usage = PluginUse::Run),
        ("output.kind", run, |m| m.output.kind = OutputKind::Table),
        ("output.audience", run, |m| {
            m.output.audience = Audience::Requester
        }),
        ("output.audience", run, |m| {
            m.output.audience = Audience::Aggregate
        }),
        ("output.audience", requester, |m| {
            m.output.audience = Audience::Aggregate
        }),
        ("output.max_items", run, |m| m.output.max_items += 1),
        ("output.max_bytes", run, |m| m.output.max_bytes += 1),
        ("output.min_cohort", study, |m| {
            m.output.min_cohort = Some(9)
        }),
        ("output.min_cohort", study, |m| m.output.min_cohort = None),
        ("aggregate.name", study, |m| {
            m.aggregate.push(AggregateField {
                name: "salary".into(),
                ..m.aggregate[0].clone()
            })
        }),
        ("aggregate.description", study, |m| {
            m.aggregate[0].description = "Something else".into()
        }),
        ("aggregate.lower", study, |m| m.aggregate[0].lower = -1),
        ("aggregate.upper", study, |m| m.aggregate[1].upper = 301),
        ("pricing.currency", run, |m| {
            m.pricing.currency = "USD".into()
        }),
        ("pricing.currency", run, |m| {
            m.pricing.currency = String::new()
        }),
        ("pricing.per_run", run, |m| m.pricing.per_run += 1),
        ("pricing.per_million_fuel", run, |m| {
            m.pricing.per_million_fuel += 1
        }),
        ("pricing.per_thousand_records", run, |m| {
            m.pricing.per_thousand_records += 1
        }),
        ("limits.fuel", run, |m| m.limits.fuel = Some(1_000_001)),
        // Undeclared means the default, which is above what was declared.
        ("limits.fuel", run, |m| m.limits.fuel = None),
        ("limits.memory_mib", run, |m| m.limits.memory_mib = Some(65)),
        ("limits.deadline_ms", run, |m| {
            m.limits.deadline_ms = Some(10_001)
        }),
        ("imports", run, |m| m.imports.push("wasi:random".into())),
    ];

    /// Each field kept equal or narrowed alone: (what, base, edit).
    const NARROWED: &[Case] = &[
        ("nothing changed", run, |_| {}),
        ("nothing changed in a study", study, |_| {}),
        ("version", run, |m| m.version = "2.0.0".into()),
        ("a collection dropped", run, |m| {
            m.data.pop();
        }),
        ("a field dropped", run, |m| {
            m.data[0].fields.pop();
        }),
        ("a shorter window", run, |m| m.data[0].months = Some(6)),
        ("audience to the person", requester, |m| {
            m.output.audience = Audience::Person
        }),
        ("fewer items", run, |m| m.output.max_items -= 1),
        ("fewer bytes", run, |m| m.output.max_bytes -= 1),
        ("a larger cohort", study, |m| m.output.min_cohort = Some(11)),
        ("a metric dropped", study, |m| {
            m.aggregate.pop();
        }),
        ("tighter bounds", study, |m| {
            m.aggregate[0].lower = 1;
            m.aggregate[0].upper = 59;
        }),
        ("cheaper", run, |m| {
            m.pricing.per_run -= 1;
            m.pricing.per_million_fuel -= 1;
            m.pricing.per_thousand_records -= 1;
        }),
        ("smaller limits", run, |m| {
            m.limits.fuel = Some(999_999);
            m.limits.memory_mib = Some(63);
            m.limits.deadline_ms = Some(9_999);
        }),
        ("an import dropped", run, |m| {
            m.imports.pop();
        }),
    ];

    /// `data[bank.transactions].months` -> `data.months`.
    fn path(w: &Widening) -> String {
        let mut out = String::new();
        let mut depth = 0;
        for c in w.field.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                c if depth == 0 => out.push(c),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn each_field_widened_alone_is_named() {
        for (field, base, edit) in WIDENED {
            let old = base();
            let mut new = base();
            edit(&mut new);
            let w = narrows(&old, &new).expect_err(field);
            assert_eq!(path(&w), *field, "{w}");
            assert!(!w.change.is_empty());
        }
    }

    #[test]
    fn each_field_kept_or_narrowed_alone_is_carried() {
        for (what, base, edit) in NARROWED {
            let old = base();
            let mut new = base();
            edit(&mut new);
            assert_eq!(narrows(&old, &new), Ok(()), "{what}");
        }
        // All time narrowed to a window.
        let mut old = run();
        old.data[0].months = None;
        assert_eq!(narrows(&old, &run()), Ok(()));
    }

    #[test]
    fn the_audience_rule_words_the_change_for_the_person() {
        let mut new = run();
        new.output.audience = Audience::Requester;
        let w = narrows(&run(), &new).unwrap_err();
        assert_eq!(
            w.to_string(),
            "output.audience: the output would go to the organisation that asked, not to you alone"
        );
    }

    /// Every field the manifest serialises has a widening case, except the version.
    #[test]
    fn every_manifest_field_has_a_widening_case() {
        fn keys(prefix: &str, v: &serde_json::Value, out: &mut BTreeSet<String>) {
            match v {
                serde_json::Value::Object(o) => {
                    for (k, v) in o {
                        let p = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        };
                        if v.is_object() || v.as_array().is_some_and(|a| a[0].is_object()) {
                            keys(&p, v, out);
                        } else {
                            out.insert(p);
                        }
                    }
                }
                serde_json::Value::Array(a) => keys(prefix, &a[0], out),
                _ => {}
            }
        }
        let mut all = BTreeSet::new();
        keys("", &serde_json::to_value(study()).unwrap(), &mut all);
        let covered: BTreeSet<String> = WIDENED.iter().map(|(f, _, _)| f.to_string()).collect();
        let missing: Vec<_> = all
            .iter()
            .filter(|k| *k != "version" && !covered.contains(*k))
            .collect();
        assert!(missing.is_empty(), "no widening case for {missing:?}");
    }

    proptest! {
        #[test]
        fn a_manifest_always_narrows_itself(m in crate::manifest::arb::manifest()) {
            prop_assert_eq!(narrows(&m, &m), Ok(()));
        }
    }
}
