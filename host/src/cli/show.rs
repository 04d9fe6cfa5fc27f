//! How the command line shows one run in full (`insitu runs show`, `insitu run`, `insitu
//! plugin test`): its output with evidence and loss, the failure and the plugin's first error
//! line, the usage, the log, and the contract's decision (what was released to whom, what was
//! withheld), as text or as one JSON document.
//!
//! The full run is the operator's and the person's view (`view::sees_detail`); an
//! organisation's view is `view::run_view`'s, never this one.

use serde::Serialize;
use serde_json::json;

use insitu_core::import::format_date;
use insitu_core::meter::{FailureReason, Outcome, RunRecord};
use insitu_core::output::PluginOutput;
use insitu_core::package::{Audience, Manifest, OutputKind, PluginUse};
use insitu_core::store::Store;

/// The contract's decision about a run: who may read what of it, and what was withheld.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// `person`, `requester` or `aggregate`.
    pub audience: &'static str,
    /// The output kind the contract declares.
    pub kind: &'static str,
    pub max_items: u32,
    pub max_bytes: u64,
    /// Items (findings, metrics or rows) in the output, when there is one.
    pub items: Option<usize>,
    /// Size of the output's canonical JSON, as the sandbox measured it.
    pub bytes: u64,
    /// Whether the output passed the contract and was kept for its audience.
    pub released: bool,
    /// Why the output was withheld (from everyone), when the contract or a cap stopped it.
    pub withheld: Option<String>,
    /// Each party and what it may read of this run.
    pub parties: Vec<Party>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Party {
    pub who: String,
    pub sees: String,
}

fn audience_name(a: Audience) -> &'static str {
    match a {
        Audience::Person => "person",
        Audience::Requester => "requester",
        Audience::Aggregate => "aggregate",
    }
}

fn kind_name(k: OutputKind) -> &'static str {
    match k {
        OutputKind::Findings => "findings",
        OutputKind::Metrics => "metrics",
        OutputKind::Table => "table",
    }
}

/// The contract's decision about `r`, from the manifest of its plugin.
pub fn decision(r: &RunRecord, m: &Manifest) -> Decision {
    let c = &m.output;
    let withheld = match &r.outcome {
        Outcome::Failed {
            reason: FailureReason::Contract | FailureReason::OutputTooLarge,
            message,
        } => Some(message.clone()),
        _ => None,
    };
    let released = r.output.is_some();
    let output_words = if released {
        "the output"
    } else {
        "the output (none here)"
    };
    let mut parties = vec![Party {
        who: format!("the person (person {})", r.person),
        sees: format!("the whole run: {output_words}, the outcome, the usage and the log"),
    }];
    let org = match (&r.requester, c.audience) {
        (Some(org), Audience::Requester) => Party {
            who: format!("{org}, the organisation that started it"),
            sees: format!(
                "{output_words} from {} (the run's start plus its deadline); never whether it \
                 succeeded, its usage or its log, only that it exists, its limits and its price",
                insitu_formats::time::format_instant(r.release_ms)
            ),
        },
        (Some(org), _) => Party {
            who: format!("{org}, the organisation that started it"),
            sees: "no output; only that the run exists, its limits, its price and its release \
                   time (`insitu runs --as-org`)"
                .into(),
        },
        (None, Audience::Requester) => Party {
            who: "an organisation".into(),
            sees: "nothing of this run, the person's own; of a run it starts under a grant it \
                   obtained, the output from the run's release time, and never the outcome, \
                   usage or log"
                .into(),
        },
        (None, _) => Party {
            who: "an organisation".into(),
            sees: "nothing of this run, the person's own; of a run it starts, no output: only \
                   that it exists, its limits, price and release time"
                .into(),
        },
    };
    parties.push(org);
    match m.usage {
        PluginUse::Run => {}
        PluginUse::Campaign => parties.push(Party {
            who: "a campaign".into(),
            sees: "only whether the person matched, counted with other members and shown from \
                   its threshold k; the findings go to the person alone"
                .into(),
        }),
        PluginUse::Study => parties.push(Party {
            who: "a study".into(),
            sees: format!(
                "only the declared metrics ({}), each clipped to its bounds, summed with other \
                 members' and released with noise for a cohort of at least {}",
                m.aggregate
                    .iter()
                    .map(|a| format!("{} in [{}, {}]", a.name, a.lower, a.upper))
                    .collect::<Vec<_>>()
                    .join(", "),
                c.min_cohort.unwrap_or(0)
            ),
        }),
    }
    parties.push(Party {
        who: "the operator".into(),
        sees: "the outcome, usage and log (`insitu runs`), not the output".into(),
    });
    Decision {
        audience: audience_name(c.audience),
        kind: kind_name(c.kind),
        max_items: c.max_items,
        max_bytes: c.max_bytes,
        items: r
            .output
            .as_ref()
            .map(|o| insitu_core::contract::kind_and_items(o).1),
        bytes: r.usage.output_bytes,
        released,
        withheld,
        parties,
    }
}

/// A failed run's reason, its message (without the sandbox's "last log line" hint, which is
/// the end of the log, not the error) and the plugin's first error line when the log has one
/// that the message does not already say.
pub fn failure(r: &RunRecord) -> Option<(FailureReason, String, Option<String>)> {
    let Outcome::Failed { reason, message } = &r.outcome else {
        return None;
    };
    let head = message
        .split(insitu_core::sandbox::LAST_LOG_LINE)
        .next()
        .unwrap_or(message)
        .to_string();
    let first = insitu_core::sandbox::first_error_line(&r.log).filter(|l| {
        let said = l.split("panicked at").nth(1).unwrap_or(l).trim();
        !head.contains(said)
    });
    Some((*reason, head, first))
}

/// The error a failed run makes the command exit with: its reason, its message and the
/// plugin's first error line.
pub fn failure_error(r: &RunRecord) -> Option<anyhow::Error> {
    let (reason, head, first) = failure(r)?;
    let first = first
        .map(|l| format!("\nthe plugin's first error line: {l}"))
        .unwrap_or_default();
    Some(anyhow::anyhow!(
        "run {} failed ({}): {head}{first}",
        r.id,
        reason.as_str()
    ))
}

/// A cited record's fields as text, `name: value`, for the person and the operator.
fn evidence_record(
    store: &dyn Store,
    r: &RunRecord,
    e: &insitu_core::meter::EvidenceRef,
) -> Vec<(String, String)> {
    let Ok(schema) = store.collection(&e.collection) else {
        return Vec::new();
    };
    match store.records_at(r.person, &e.collection, &[(e.time, e.stored)]) {
        Ok(mut v) => match v.pop().flatten() {
            Some(rec) => schema
                .fields
                .iter()
                .zip(rec)
                .filter(|(_, v)| *v != insitu_core::store::Value::Null)
                .map(|(f, v)| (f.name.clone(), v.to_text()))
                .collect(),
            None => Vec::new(),
        },
        Err(_) => Vec::new(),
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// The run as one JSON document: everything the person and the operator see.
pub fn run_json(store: &dyn Store, r: &RunRecord) -> serde_json::Value {
    let plugin = store.plugin(&r.plugin_digest).ok();
    let manifest = plugin.as_ref().and_then(|p| p.manifest.clone());
    let failure = failure(r).map(|(reason, message, first)| {
        json!({"reason": reason.as_str(), "message": message, "first_error_line": first})
    });
    let evidence: Vec<serde_json::Value> = r
        .evidence
        .iter()
        .map(|e| {
            let fields: serde_json::Map<String, serde_json::Value> = evidence_record(store, r, e)
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::from(v)))
                .collect();
            json!({"collection": e.collection, "id": e.id, "stored": e.stored,
                   "date": format_date(e.time), "record": fields})
        })
        .collect();
    let view = insitu_core::view::run_view(r, &insitu_core::contract::Viewer::Operator);
    let params: Vec<serde_json::Value> = r
        .params
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v, "text": v.to_string()}))
        .collect();
    json!({
        "id": r.id,
        "person": r.person,
        "grant": r.grant,
        "plugin": {
            "digest": r.plugin_digest,
            "name": plugin.as_ref().map(|p| p.name.clone()),
            "version": manifest.as_ref().map(|m| m.version.clone()),
            "development": plugin.as_ref().map(|p| p.development),
        },
        "requester": r.requester,
        "job": r.job,
        "started": insitu_formats::time::format_instant(r.started_ms),
        "release": insitu_formats::time::format_instant(r.release_ms),
        "params": params,
        "status": r.outcome.status(),
        "failure": failure,
        "output": r.output,
        "evidence": evidence,
        "usage": r.usage,
        "read": r.read,
        "limits": view.as_ref().and_then(|v| v.limits.clone()),
        "price": r.price.as_ref().map(|p| p.to_string()),
        "log": r.log,
        "contract": manifest.as_ref().map(|m| decision(r, m)),
    })
}

/// The output as the person sees it, with each finding's loss and evidence.
pub fn print_output(store: &dyn Store, r: &RunRecord, out: &PluginOutput, indent: &str) {
    match out {
        PluginOutput::Findings { findings, summary } => {
            if findings.is_empty() {
                println!("{indent}no findings");
            }
            for f in findings {
                println!("{}", super::commands::finding_line(f, indent));
                if let Some(loss) = &f.loss {
                    println!("{indent}    loss: {loss}");
                }
                for e in &f.evidence {
                    let cited = r
                        .evidence
                        .iter()
                        .find(|c| c.id == e.id && c.collection == e.collection);
                    let fields = cited
                        .map(|c| evidence_record(store, r, c))
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(_, v)| v)
                        .collect::<Vec<_>>()
                        .join(" | ");
                    match cited {
                        Some(c) => println!(
                            "{indent}    evidence: {} record {} of {}: {fields}",
                            e.collection,
                            c.stored,
                            format_date(c.time)
                        ),
                        None => println!("{indent}    evidence: {} id {}", e.collection, e.id),
                    }
                }
            }
            let s: Vec<String> = summary
                .iter()
                .map(|m| format!("{} = {}", m.name, m.value))
                .collect();
            println!("{indent}summary: {}", s.join(", "));
        }
        other => super::commands::print_output(other, indent),
    }
}

/// The usage on one line.
pub fn usage_line(r: &RunRecord) -> String {
    let u = &r.usage;
    let fuel_cap = r
        .limits
        .map(|l| format!(" of {}", l.fuel))
        .unwrap_or_default();
    format!(
        "fuel {}{fuel_cap}, wall {:.2} ms, {} records read ({}), memory peak {}, {} host calls, \
         output {}, log {} ({} dropped)",
        u.fuel,
        u.wall_us as f64 / 1000.0,
        u.records_read,
        human_bytes(u.bytes_read),
        human_bytes(u.peak_memory),
        u.host_calls,
        human_bytes(u.output_bytes),
        human_bytes(u.log_bytes),
        human_bytes(u.log_dropped)
    )
}

/// The contract's decision in words.
pub fn print_decision(d: &Decision, indent: &str) {
    let items = d
        .items
        .map(|n| format!("{n} of at most {} items", d.max_items))
        .unwrap_or_else(|| format!("at most {} items", d.max_items));
    let verdict = match (&d.withheld, d.released) {
        (Some(why), _) => format!("WITHHELD from everyone: {why}"),
        (None, true) => "released to its audience".to_string(),
        (None, false) => "no output (the run failed)".to_string(),
    };
    println!(
        "{indent}{} for the {} audience; {items}, {} of at most {}: {verdict}",
        d.kind,
        d.audience,
        human_bytes(d.bytes),
        human_bytes(d.max_bytes)
    );
    for p in &d.parties {
        println!("{indent}  {}: {}", p.who, p.sees);
    }
}

/// The whole run as text.
pub fn print_run(store: &dyn Store, r: &RunRecord) {
    let plugin = store.plugin(&r.plugin_digest).ok();
    let manifest = plugin.as_ref().and_then(|p| p.manifest.clone());
    let name = match (&plugin, &manifest) {
        (Some(p), Some(m)) => format!(
            "{} {}{}",
            p.name,
            m.version,
            if p.development { ", development" } else { "" }
        ),
        (Some(p), None) => p.name.clone(),
        _ => "a plugin no longer installed".into(),
    };
    println!(
        "run {}  person {}  grant {}  {name} ({})",
        r.id,
        r.person,
        r.grant,
        r.plugin_digest.get(..12).unwrap_or(&r.plugin_digest)
    );
    let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "started {}{}{}",
        insitu_formats::time::format_instant(r.started_ms),
        r.requester
            .as_ref()
            .map(|o| format!(" for {o}"))
            .unwrap_or_default(),
        if params.is_empty() {
            String::new()
        } else {
            format!("  params: {}", params.join(", "))
        }
    );
    match failure(r) {
        Some((reason, head, first)) => {
            println!("status: FAILED ({}): {head}", reason.as_str());
            if let Some(l) = first {
                println!("  the plugin's first error line: {l}");
            }
        }
        None => println!("status: {}", r.outcome.status()),
    }
    if let Some(out) = &r.output {
        println!("output (as the person sees it):");
        print_output(store, r, out, "  ");
    }
    println!("usage: {}", usage_line(r));
    for (c, fields) in &r.read {
        println!("read: {c} ({})", fields.join(", "));
    }
    if r.log.trim().is_empty() {
        println!("log: (empty)");
    } else {
        println!("log:");
        for l in r.log.lines() {
            println!("  {l}");
        }
    }
    if let Some(m) = &manifest {
        println!("contract:");
        print_decision(&decision(r, m), "  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(message: &str, log: &str) -> RunRecord {
        let mut r = RunRecord::new(1, 1, "abc", 0).fail(FailureReason::Trap, message.into());
        r.log = log.into();
        r
    }

    #[test]
    fn a_failure_shows_the_first_error_line_not_the_last_log_line() {
        let r = failed(
            "the plugin aborted (a panic or `unreachable`); the plugin's last log line: [info] cleaning up",
            "[info] reading 12 records\n[error] bad amount on record 3\n[error] giving up\n[info] cleaning up\n",
        );
        let (reason, head, first) = failure(&r).unwrap();
        assert_eq!(reason, FailureReason::Trap);
        assert_eq!(head, "the plugin aborted (a panic or `unreachable`)");
        assert_eq!(first.as_deref(), Some("[error] bad amount on record 3"));
        let e = failure_error(&r).unwrap().to_string();
        assert!(
            e.contains("first error line: [error] bad amount on record 3"),
            "{e}"
        );
        assert!(!e.contains("cleaning up"), "{e}");
    }

    #[test]
    fn a_panic_line_comes_with_its_message_and_is_not_repeated() {
        let log = "[info] start\nthread '<unnamed>' panicked at src/lib.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            insitu_core::sandbox::first_error_line(log).as_deref(),
            Some("thread '<unnamed>' panicked at src/lib.rs:3:5: boom")
        );
        // The sandbox already said it: not shown twice.
        let r = failed("the plugin panicked at src/lib.rs:3:5: boom", log);
        assert_eq!(failure(&r).unwrap().2, None);
        // A Python traceback, a JavaScript error.
        assert_eq!(
            insitu_core::sandbox::first_error_line(
                "ok\nTraceback (most recent call last):\n  File x\nValueError: y\n"
            )
            .as_deref(),
            Some("ValueError: y")
        );
        assert_eq!(
            insitu_core::sandbox::first_error_line("Uncaught TypeError: x is undefined\n")
                .as_deref(),
            Some("Uncaught TypeError: x is undefined")
        );
        assert_eq!(
            insitu_core::sandbox::first_error_line("[info] all good\n"),
            None
        );
    }
}
