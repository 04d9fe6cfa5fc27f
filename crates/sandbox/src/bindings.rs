//! Host bindings generated from `wit/plugin.wit`, for its world `host`: the `plugin` world
//! and every optional interface. Each interface is linked by its capability (`cap/`).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "insitu:plugin/host",
    imports: { default: trappable },
    exports: { default: async },
    with: {
        "insitu:plugin/data.query": super::cap::data::QueryCursor,
    },
});

/// A plugin component, linked and ready to instantiate for a run.
/// (bindgen names the world `host`'s pre-instance `Host_Pre`, `Host` being each interface's trait.)
pub type PluginPre<T> = Host_Pre<T>;

use self::insitu::plugin::output as wit;
use self::insitu::plugin::types as t;
use insitu_model::output as host;

impl From<t::Money> for host::Money {
    fn from(m: t::Money) -> Self {
        host::Money {
            minor: m.minor,
            currency: m.currency,
        }
    }
}

impl From<t::Scalar> for host::Scalar {
    fn from(s: t::Scalar) -> Self {
        match s {
            t::Scalar::Text(v) => host::Scalar::Text(v),
            t::Scalar::Integer(v) => host::Scalar::Integer(v),
            t::Scalar::Float(v) => host::Scalar::Float(v),
            t::Scalar::Money(v) => host::Scalar::Money(v.into()),
            t::Scalar::Timestamp(v) => host::Scalar::Timestamp(v),
            t::Scalar::Boolean(v) => host::Scalar::Boolean(v),
        }
    }
}

impl From<host::Scalar> for t::Scalar {
    fn from(s: host::Scalar) -> Self {
        match s {
            host::Scalar::Text(v) => t::Scalar::Text(v),
            host::Scalar::Integer(v) => t::Scalar::Integer(v),
            host::Scalar::Float(v) => t::Scalar::Float(v),
            host::Scalar::Money(m) => t::Scalar::Money(t::Money {
                minor: m.minor,
                currency: m.currency,
            }),
            host::Scalar::Timestamp(v) => t::Scalar::Timestamp(v),
            host::Scalar::Boolean(v) => t::Scalar::Boolean(v),
        }
    }
}

fn metrics(m: Vec<wit::Metric>) -> Vec<host::Metric> {
    m.into_iter()
        .map(|m| host::Metric {
            name: m.name,
            value: m.value.into(),
        })
        .collect()
}

impl From<wit::PluginOutput> for host::PluginOutput {
    fn from(o: wit::PluginOutput) -> Self {
        match o {
            wit::PluginOutput::Findings(r) => host::PluginOutput::Findings {
                findings: r
                    .findings
                    .into_iter()
                    .map(|f| host::Finding {
                        rule: f.rule,
                        time: f.time,
                        amount: f.amount.map(Into::into),
                        loss: f.loss.map(Into::into),
                        label: f.label,
                        reason: f.reason,
                        evidence: f
                            .evidence
                            .into_iter()
                            .map(|e| host::Evidence {
                                collection: e.collection,
                                id: e.id,
                            })
                            .collect(),
                    })
                    .collect(),
                summary: metrics(r.summary),
            },
            wit::PluginOutput::Metrics(m) => host::PluginOutput::Metrics {
                metrics: metrics(m),
            },
            wit::PluginOutput::Table(tb) => host::PluginOutput::Table {
                columns: tb.columns,
                rows: tb
                    .rows
                    .into_iter()
                    .map(|r| r.into_iter().map(Into::into).collect())
                    .collect(),
            },
        }
    }
}
