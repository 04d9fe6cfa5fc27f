//! Arbitrary manifests for property tests: every field drawn from a wide range, in and out of
//! its bounds, so that validation, narrowing and approval are tried on what a hostile
//! publisher, or a store written before the bounds existed, could hold.

use proptest::prelude::*;

use super::{
    AggregateField, Audience, DataRequest, Manifest, OutputContract, OutputKind, PluginUse,
    Pricing, RequestedLimits,
};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z.]{1,12}", ".{0,40}", "x{120,140}",]
}

fn small_or_any_u32() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..2000, any::<u32>()]
}

fn small_or_any_u64() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..2_000_000, any::<u64>()]
}

fn small_or_any_i64() -> impl Strategy<Value = i64> {
    prop_oneof![-10i64..10_000, any::<i64>()]
}

fn data() -> impl Strategy<Value = DataRequest> {
    (
        prop_oneof![Just("bank.transactions".to_string()), text()],
        prop::collection::vec(prop_oneof![Just("amount".to_string()), text()], 0..4),
        prop::option::of(small_or_any_u32()),
        text(),
    )
        .prop_map(|(collection, fields, months, purpose)| DataRequest {
            collection,
            fields,
            months,
            purpose,
        })
}

fn output() -> impl Strategy<Value = OutputContract> {
    (
        prop_oneof![
            Just(Audience::Person),
            Just(Audience::Requester),
            Just(Audience::Aggregate)
        ],
        prop_oneof![
            Just(OutputKind::Findings),
            Just(OutputKind::Metrics),
            Just(OutputKind::Table)
        ],
        small_or_any_u64(),
        small_or_any_u32(),
        prop::option::of(small_or_any_u32()),
    )
        .prop_map(
            |(audience, kind, max_bytes, max_items, min_cohort)| OutputContract {
                audience,
                kind,
                max_bytes,
                max_items,
                min_cohort,
            },
        )
}

fn aggregate() -> impl Strategy<Value = AggregateField> {
    (text(), text(), small_or_any_i64(), small_or_any_i64()).prop_map(
        |(name, description, lower, upper)| AggregateField {
            name,
            description,
            lower,
            upper,
        },
    )
}

/// A manifest with every field drawn from a wide range.
pub fn manifest() -> impl Strategy<Value = Manifest> {
    let identity = (text(), text(), text(), text());
    let limits = (
        prop::option::of(small_or_any_u64()),
        prop::option::of(small_or_any_u64()),
        prop::option::of(small_or_any_u64()),
    )
        .prop_map(|(fuel, memory_mib, deadline_ms)| RequestedLimits {
            fuel,
            memory_mib,
            deadline_ms,
        });
    let pricing = (
        prop_oneof![Just(String::new()), Just("EUR".to_string()), text()],
        small_or_any_i64(),
        small_or_any_i64(),
        small_or_any_i64(),
    )
        .prop_map(
            |(currency, per_run, per_million_fuel, per_thousand_records)| Pricing {
                currency,
                per_run,
                per_million_fuel,
                per_thousand_records,
            },
        );
    let usage = prop_oneof![
        Just(PluginUse::Run),
        Just(PluginUse::Campaign),
        Just(PluginUse::Study)
    ];
    (
        identity,
        prop::collection::vec(data(), 0..4),
        output(),
        limits,
        pricing,
        prop::collection::vec(text(), 0..4),
        usage,
        prop::collection::vec(aggregate(), 0..3),
    )
        .prop_map(
            |(
                (id, version, publisher, description),
                data,
                output,
                limits,
                pricing,
                imports,
                usage,
                aggregate,
            )| Manifest {
                id,
                version,
                publisher,
                description,
                data,
                output,
                limits,
                pricing,
                imports,
                usage,
                aggregate,
                aggregate_l1: None,
            },
        )
}
