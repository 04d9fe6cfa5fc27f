//! `exfiltrate`: a plugin whose author wants one bit of a person's data per run, and knows its
//! output goes to the person only. The bit is "some transaction's label or counterparty
//! contains the `needle` parameter"; the `channel` parameter picks how it tries to get that bit
//! to the organisation that started the run, through everything but the output:
//!
//! - `outcome`: fails when the bit is set, succeeds otherwise;
//! - `message`: fails with an error text that carries every label it read;
//! - `panic`: panics with the first matching label;
//! - `fuel`: burns about a billion instructions when the bit is set (fuel, price, timing);
//! - `records`: reads one record, or every record when the bit is set;
//! - `memory`: grows its memory by 32 MiB when the bit is set;
//! - `output-size`: returns more items than its contract allows when the bit is set (a
//!   refusal that quotes the size);
//! - `log`: logs every label;
//! - `host-calls`: calls the host a hundred thousand times when the bit is set.
//!
//! Installed with a findings contract instead (a campaign scanner), it tries what a member
//! who joins a campaign would release with a finding:
//! - `forged-evidence`: cites a record id it never read;
//! - `packed-label`: packs every label it read into one finding's label;
//! - `packed-currency`: hides text in a finding's currency;
//! - `real-evidence`: a well-formed finding citing the first record it read (the control).
//!
//! The noninterference tests run each channel on two stores that differ only in that bit, and
//! check that the organisation sees exactly the same thing from both.

use std::hint::black_box;

use insitu_sdk::{
    Evidence, Finding, FindingsReport, Level, Metric, Money, Output, Params, Plugin, PluginError,
    Query, Scalar,
};

/// Every label and counterparty the grant shows, as read.
fn labels(all: bool) -> Result<Vec<String>, PluginError> {
    let mut rows = Query::new("bank.transactions").open()?;
    let mut out = Vec::new();
    while let Some(b) = rows.next_batch()? {
        for r in b.rows() {
            for f in ["label", "counterparty"] {
                if let Some(t) = r.text(f) {
                    out.push(t.to_string());
                }
            }
            if !all {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

fn bit(labels: &[String], needle: &str) -> bool {
    labels.iter().any(|l| l.contains(needle))
}

fn metric(name: &str, v: i64) -> Metric {
    Metric {
        name: name.into(),
        value: Scalar::Integer(v),
    }
}

/// The findings channels: one finding built to smuggle data through a campaign release.
fn findings(channel: &str) -> Result<Option<Output>, PluginError> {
    let mut rows = Query::new("bank.transactions").open()?;
    let (mut first, mut all) = (None, Vec::new());
    while let Some(b) = rows.next_batch()? {
        for r in b.rows() {
            first.get_or_insert((r.id(), r.time()));
            all.extend(r.text("label").map(str::to_string));
        }
    }
    let (id, time) = first.unwrap_or((0, 0));
    let finding = |label: String, currency: &str, evidence: u64| Finding {
        rule: "fees".into(),
        time,
        amount: Some(Money {
            minor: -100,
            currency: currency.into(),
        }),
        loss: None,
        label,
        reason: "looks like a fee".into(),
        evidence: vec![Evidence {
            collection: "bank.transactions".into(),
            id: evidence,
        }],
    };
    let f = match channel {
        "forged-evidence" => finding("fee".into(), "EUR", id ^ 0x5eed),
        "packed-label" => finding(all.join(" | ").repeat(8), "EUR", id),
        "packed-currency" => finding("fee".into(), &all.join("|"), id),
        "real-evidence" => finding("fee".into(), "EUR", id),
        _ => return Ok(None),
    };
    Ok(Some(Output::Findings(FindingsReport {
        findings: vec![f],
        summary: Vec::new(),
    })))
}

struct Exfiltrate;

impl Plugin for Exfiltrate {
    fn run(params: Params) -> Result<Output, PluginError> {
        let needle = params.text("needle")?;
        let channel = params.text("channel")?;
        if channel == "records" {
            // Read everything only when the first record already tells the bit is set.
            let first = labels(false)?;
            let n = if bit(&first, &needle) {
                labels(true)?.len()
            } else {
                first.len()
            };
            return Ok(Output::Metrics(vec![metric("read", n as i64)]));
        }
        if let Some(out) = findings(&channel)? {
            return Ok(out);
        }
        let all = labels(true)?;
        let set = bit(&all, &needle);
        match channel.as_str() {
            "outcome" if set => Err(PluginError::Failed("1".into())),
            "message" => Err(PluginError::Failed(all.join(" | "))),
            "panic" => {
                let first = all.iter().find(|l| l.contains(&needle));
                panic!("found: {}", first.map(String::as_str).unwrap_or("nothing"))
            }
            "fuel" if set => {
                let mut x = 0u64;
                for i in 0..100_000_000u64 {
                    x = black_box(x.wrapping_mul(31).wrapping_add(i));
                }
                Ok(Output::Metrics(vec![metric("x", (x & 1) as i64)]))
            }
            "memory" if set => {
                let hoard = black_box(vec![1u8; 32 << 20]);
                Ok(Output::Metrics(vec![metric("x", hoard[7] as i64)]))
            }
            "output-size" if set => Ok(Output::Metrics(
                (0..all.len().max(5))
                    .map(|i| metric(&format!("m{i}"), i as i64))
                    .collect(),
            )),
            "log" => {
                for l in &all {
                    insitu_sdk::log(Level::Info, l);
                    println!("{l}");
                }
                Ok(Output::Metrics(Vec::new()))
            }
            "host-calls" if set => {
                let mut n = 0;
                for _ in 0..100_000 {
                    n += black_box(insitu_sdk::collections()).len();
                }
                Ok(Output::Metrics(vec![metric("n", n as i64)]))
            }
            "outcome" | "fuel" | "memory" | "output-size" | "host-calls" => {
                Ok(Output::Metrics(vec![metric("x", 0)]))
            }
            other => Err(PluginError::InvalidParams(format!(
                "unknown channel `{other}`"
            ))),
        }
    }
}

insitu_sdk::export_plugin!(Exfiltrate);
