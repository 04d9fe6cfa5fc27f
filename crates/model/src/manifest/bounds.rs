//! Bounds on every value a manifest carries: each number within a range that no later
//! arithmetic on it can overflow (windows in `request.rs`, prices in `ledger.rs`, limits in
//! `contract.rs`, sums in `study.rs`), each text within a length and free of control
//! characters (a line break in a purpose would forge a line of the consent screen), each list
//! within a count. [`Manifest::validate`] runs [`check`] at pack and at install.
//!
//! May touch: nothing; a manifest in, the first value out of range out.

use std::fmt::Display;
use std::ops::RangeInclusive;

use super::{AggregateField, DataRequest, Manifest, OutputContract, Pricing, RequestedLimits};
use crate::limits::Limits;

/// Longest id, version, publisher, collection, field, metric or import name, in bytes.
pub const MAX_NAME: usize = 128;
/// Longest description or purpose, in bytes.
pub const MAX_TEXT: usize = 4096;
/// A data request's window: one month to a hundred years.
pub const MONTHS: RangeInclusive<u32> = 1..=1200;
/// Collections one manifest may ask for.
pub const MAX_DATA: usize = 32;
/// Fields one data request may name.
pub const MAX_FIELDS: usize = 128;
/// Metrics a study plugin may declare.
pub const MAX_AGGREGATE: usize = 128;
/// Interfaces a manifest may declare.
pub const MAX_IMPORTS: usize = 64;
/// Most findings, metrics or rows a contract may allow.
pub const MAX_ITEMS: u32 = 1_000_000;
/// A contract's minimum cohort, when it declares one.
pub const COHORT: RangeInclusive<u32> = 1..=1_000_000;
/// Each part of a price, in minor units (100 000.00 in a two-decimal currency). At the
/// operator's maxima (fuel 2·10¹¹, records 5·10⁸) a run's price (`ledger::price`) stays below
/// 10¹³, so the sum of a million such runs fits an `i64`.
pub const PRICE: RangeInclusive<i64> = 0..=10_000_000;
/// A study metric's clipping bounds: a million members' clipped sum fits an `i64`.
pub const BOUND: RangeInclusive<i64> = -1_000_000_000_000..=1_000_000_000_000;
/// Largest manifest section, in bytes (read before it is parsed).
pub const MAX_MANIFEST_BYTES: usize = 256 << 10;

/// A manifest value outside what Insitu accepts: which field, its value, the allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "manifest field `{field}` is {value}, outside what is allowed ({allowed}); correct it in \
     manifest.json and pack again"
)]
pub struct OutOfRange {
    /// Where, e.g. `data[0].months` or `pricing.per_run`.
    pub field: String,
    /// The value; for a text, its length or the offending character.
    pub value: String,
    /// What is allowed.
    pub allowed: String,
}

fn out(field: impl Into<String>, value: impl Display, allowed: impl Display) -> OutOfRange {
    OutOfRange {
        field: field.into(),
        value: value.to_string(),
        allowed: allowed.to_string(),
    }
}

fn within<T: PartialOrd + Display>(
    field: impl Into<String>,
    v: T,
    r: &RangeInclusive<T>,
) -> Result<(), OutOfRange> {
    if r.contains(&v) {
        return Ok(());
    }
    Err(out(field, v, format!("{} to {}", r.start(), r.end())))
}

fn count(field: impl Into<String>, n: usize, r: RangeInclusive<usize>) -> Result<(), OutOfRange> {
    if r.contains(&n) {
        return Ok(());
    }
    Err(out(
        field,
        format!("{n} entries"),
        format!("{} to {} entries", r.start(), r.end()),
    ))
}

/// A text of 1 to `max` bytes (0 to `max` if `may_be_empty`) with no control character.
fn text(
    field: impl Into<String>,
    s: &str,
    max: usize,
    may_be_empty: bool,
) -> Result<(), OutOfRange> {
    let min = usize::from(!may_be_empty);
    let allowed = format!("{min} to {max} bytes, no control characters");
    if s.len() < min || s.len() > max {
        return Err(out(field, format!("a text of {} bytes", s.len()), allowed));
    }
    if let Some((at, c)) = s.char_indices().find(|(_, c)| c.is_control()) {
        return Err(out(
            field,
            format!("a text with {c:?} at byte {at}"),
            allowed,
        ));
    }
    Ok(())
}

fn name(field: impl Into<String>, s: &str) -> Result<(), OutOfRange> {
    text(field, s, MAX_NAME, false)
}

/// The first value of `m` outside its bounds, if any. Every field is listed (a field added to
/// the manifest does not compile here until its bounds are decided).
pub fn check(m: &Manifest) -> Result<(), OutOfRange> {
    let Manifest {
        id,
        version,
        publisher,
        description,
        data,
        output,
        limits,
        pricing,
        imports,
        usage: _, // an enum: serde admits only its variants
        aggregate,
        aggregate_l1,
    } = m;
    name("id", id)?;
    name("version", version)?;
    name("publisher", publisher)?;
    text("description", description, MAX_TEXT, false)?;
    count("data", data.len(), 0..=MAX_DATA)?;
    for (i, d) in data.iter().enumerate() {
        check_data(i, d)?;
    }
    check_output(output)?;
    check_limits(limits)?;
    check_pricing(pricing)?;
    count("imports", imports.len(), 0..=MAX_IMPORTS)?;
    for (i, s) in imports.iter().enumerate() {
        name(format!("imports[{i}]"), s)?;
    }
    count("aggregate", aggregate.len(), 0..=MAX_AGGREGATE)?;
    for (i, a) in aggregate.iter().enumerate() {
        check_aggregate(i, a)?;
    }
    if let Some(l1) = aggregate_l1 {
        within("aggregate_l1", *l1, &(1..=*BOUND.end()))?;
    }
    Ok(())
}

fn check_data(i: usize, d: &DataRequest) -> Result<(), OutOfRange> {
    let DataRequest {
        collection,
        fields,
        months,
        purpose,
    } = d;
    name(format!("data[{i}].collection"), collection)?;
    count(format!("data[{i}].fields"), fields.len(), 1..=MAX_FIELDS)?;
    for (j, f) in fields.iter().enumerate() {
        name(format!("data[{i}].fields[{j}]"), f)?;
    }
    if let Some(v) = months {
        within(format!("data[{i}].months"), *v, &MONTHS)?;
    }
    text(format!("data[{i}].purpose"), purpose, MAX_TEXT, false)
}

fn check_output(o: &OutputContract) -> Result<(), OutOfRange> {
    let OutputContract {
        audience: _,
        kind: _,
        max_bytes,
        max_items,
        min_cohort,
    } = o;
    within(
        "output.max_bytes",
        *max_bytes,
        &(0..=Limits::operator_max().output_bytes),
    )?;
    within("output.max_items", *max_items, &(0..=MAX_ITEMS))?;
    if let Some(k) = min_cohort {
        within("output.min_cohort", *k, &COHORT)?;
    }
    Ok(())
}

/// Requested limits, each within the operator's maxima (`sandbox/limits.rs`).
fn check_limits(l: &RequestedLimits) -> Result<(), OutOfRange> {
    let RequestedLimits {
        fuel,
        memory_mib,
        deadline_ms,
    } = l;
    let max = Limits::operator_max();
    let max_deadline = u64::try_from(max.deadline.as_millis()).unwrap_or(u64::MAX);
    for (field, v, hi) in [
        ("limits.fuel", fuel, max.fuel),
        ("limits.memory_mib", memory_mib, max.memory >> 20),
        ("limits.deadline_ms", deadline_ms, max_deadline),
    ] {
        if let Some(v) = v {
            within(field, *v, &(1..=hi))?;
        }
    }
    Ok(())
}

fn check_pricing(p: &Pricing) -> Result<(), OutOfRange> {
    let Pricing {
        currency,
        per_run,
        per_million_fuel,
        per_thousand_records,
    } = p;
    for (field, v) in [
        ("pricing.per_run", per_run),
        ("pricing.per_million_fuel", per_million_fuel),
        ("pricing.per_thousand_records", per_thousand_records),
    ] {
        within(field, *v, &PRICE)?;
    }
    let priced = [per_run, per_million_fuel, per_thousand_records]
        .iter()
        .any(|v| **v != 0);
    let code = currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase());
    // An empty currency is a free plugin; a price without a currency would not be shown.
    if code || (currency.is_empty() && !priced) {
        return Ok(());
    }
    Err(out(
        "pricing.currency",
        format!("{currency:?}"),
        "an ISO 4217 code of three capital letters, or empty when every price is 0",
    ))
}

fn check_aggregate(i: usize, a: &AggregateField) -> Result<(), OutOfRange> {
    let AggregateField {
        name: metric,
        description,
        lower,
        upper,
    } = a;
    name(format!("aggregate[{i}].name"), metric)?;
    text(
        format!("aggregate[{i}].description"),
        description,
        MAX_TEXT,
        false,
    )?;
    within(format!("aggregate[{i}].lower"), *lower, &BOUND)?;
    within(format!("aggregate[{i}].upper"), *upper, &BOUND)?;
    if lower > upper {
        return Err(out(
            format!("aggregate[{i}].lower"),
            lower,
            format!("at most upper ({upper})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fee_scanner() -> Manifest {
        Manifest::from_file(std::path::Path::new(insitu_plugins::FEE_SCANNER_MANIFEST))
            .expect("fee-scanner's manifest")
    }

    #[test]
    fn every_shipped_manifest_is_within_bounds() {
        for (_, path) in insitu_plugins::MANIFESTS {
            let m = Manifest::from_file(std::path::Path::new(path));
            assert!(m.is_ok(), "{path}: {m:?}");
        }
    }

    #[test]
    fn the_edges_of_each_range_are_allowed_and_one_past_is_not() {
        let max = Limits::operator_max();
        let at_edges: &[fn(&mut Manifest)] = &[
            |m| m.data[0].months = Some(*MONTHS.start()),
            |m| m.data[0].months = Some(*MONTHS.end()),
            |m| m.limits.fuel = Some(Limits::operator_max().fuel),
            |m| m.limits.memory_mib = Some(Limits::operator_max().memory >> 20),
            |m| m.limits.deadline_ms = Some(300_000),
            |m| m.pricing.per_run = *PRICE.end(),
            |m| m.pricing.per_run = 0,
            |m| m.output.max_items = MAX_ITEMS,
            |m| m.description = "d".repeat(MAX_TEXT),
            |m| m.id = "i".repeat(MAX_NAME),
        ];
        for (i, edit) in at_edges.iter().enumerate() {
            let mut m = fee_scanner();
            edit(&mut m);
            assert_eq!(check(&m), Ok(()), "edge case {i}");
        }
        let mut m = fee_scanner();
        m.data[0].months = Some(MONTHS.end() + 1);
        let err = check(&m).unwrap_err();
        assert_eq!(
            err.to_string(),
            "manifest field `data[0].months` is 1201, outside what is allowed (1 to 1200); \
             correct it in manifest.json and pack again"
        );
        let mut m = fee_scanner();
        m.limits.fuel = Some(max.fuel + 1);
        assert_eq!(check(&m).unwrap_err().field, "limits.fuel");
    }

    /// `ledger::price` is per run + per million fuel + per thousand records, each rounded up.
    #[test]
    fn the_largest_prices_at_the_operators_maxima_stay_far_from_overflow() {
        let max = Limits::operator_max();
        let p = i128::from(*PRICE.end());
        let worst = p
            + p * i128::from(max.fuel.div_ceil(1_000_000))
            + p * i128::from(max.records.div_ceil(1_000));
        assert!(worst < 10_000_000_000_000, "{worst}");
        assert!(
            worst * 1_000_000 < i128::from(i64::MAX),
            "a million runs overflow"
        );
    }

    #[test]
    fn a_line_break_in_a_text_cannot_forge_a_line_of_the_consent_screen() {
        let mut m = fee_scanner();
        m.data[0].purpose =
            "Find fees.\nreturns Findings (at most 1 items, 1 bytes) to you alone".into();
        let err = check(&m).unwrap_err();
        assert_eq!(err.field, "data[0].purpose");
        assert!(err.value.contains("'\\n' at byte 10"), "{err}");
    }
}
