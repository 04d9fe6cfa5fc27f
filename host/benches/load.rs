//! HTTP load on loopback with real load generators from Debian: `hey` at a fixed 1,000
//! requests/s (p50 and p99 at that rate, the target), and `wrk` flat out (maximum throughput),
//! against the release `insitu serve`. Endpoints: the grant check (`GET /api/grants/{id}`),
//! the consent page (`GET /requests/{id}`, HTML, session cookie) and run start
//! (`POST /api/runs`, which runs fee-scanner over 3 records and commits the run). Baseline in
//! the same run: `GET /healthz`, which touches neither the token nor the store.
//!
//! `scripts/bench-deps` installs wrk and hey; run with `cargo bench -p insitu --bench load`.
//! `LOAD_SECONDS` sets each measurement's length (default 10).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use insitu_core::account::{self, Role};
use insitu_core::request::Narrowing;

struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a load generator reported.
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: String,
}

fn ms(value: &str) -> f64 {
    let v = value.trim();
    let num = |s: &str| s.trim().parse::<f64>().unwrap_or(f64::NAN);
    if let Some(x) = v.strip_suffix("us") {
        num(x) / 1000.0
    } else if let Some(x) = v.strip_suffix("ms") {
        num(x)
    } else if let Some(x) = v.strip_suffix("secs") {
        num(x) * 1000.0
    } else if let Some(x) = v.strip_suffix('s') {
        num(x) * 1000.0
    } else {
        f64::NAN
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("load generator");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `hey` at `rate` requests/s in all, over `secs`.
fn hey(url: &str, headers: &[String], post: Option<&str>, rate: u32, secs: u32) -> Load {
    let workers = 10;
    let mut cmd = Command::new("hey");
    cmd.args(["-z", &format!("{secs}s"), "-c", &workers.to_string()])
        .args(["-q", &(rate / workers).to_string()]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(body) = post {
        cmd.args(["-m", "POST", "-T", "application/json", "-d", body]);
    }
    let text = run(cmd.arg(url));
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let statuses: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("Status code distribution"))
        .skip(1)
        .map(str::trim)
        .filter(|l| l.starts_with('['))
        .map(str::to_string)
        .collect();
    Load {
        rps: field("Requests/sec:").parse().unwrap_or(f64::NAN),
        p50_ms: ms(&field("50% in")),
        p99_ms: ms(&field("99% in")),
        errors: statuses.join(" "),
    }
}

/// `wrk` flat out: 2 threads, 32 connections, over `secs`.
fn wrk(
    url: &str,
    headers: &[String],
    post: Option<&str>,
    secs: u32,
    dir: &std::path::Path,
) -> Load {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c32", &format!("-d{secs}s"), "--latency"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(body) = post {
        let script = dir.join("post.lua");
        std::fs::write(
            &script,
            format!(
                "wrk.method = \"POST\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
            ),
        )
        .expect("lua script");
        cmd.arg("-s").arg(&script);
    }
    let text = run(cmd.arg(url));
    let pct = |p: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(p))
            .map(ms)
            .unwrap_or(f64::NAN)
    };
    let non2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .map(|l| l.trim().to_string())
        .unwrap_or_default();
    Load {
        rps: text
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(f64::NAN),
        p50_ms: pct("50%"),
        p99_ms: pct("99%"),
        errors: non2xx,
    }
}

fn main() {
    for tool in ["wrk", "hey"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(found, "{tool} is missing: run scripts/bench-deps");
    }
    let secs: u32 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().expect("tempdir");
    // A store with a plugin, a person, a statement, an approved request and two tokens.
    let (grant, request, person_token, org_token) = {
        let (pds, plugin) = insitu_testkit::pds_with_fee_scanner(dir.path());
        let store = pds.store.as_ref();
        let alice = account::create(store, "alice", "correct horse battery", Role::Person)
            .expect("account");
        let org = account::create(
            store,
            "UFC Que Choisir",
            "correct horse battery",
            Role::Organisation,
        )
        .expect("account");
        let person = alice.person.expect("person");
        let statement = "account,booked,amount,counterparty,label\n\
            FR76,2099-01-05,-45.00 EUR,Agence Dupont,FRAIS DE GESTION\n\
            FR76,2099-02-05,-30.00 EUR,Agence Dupont,FRAIS DE GESTION\n\
            FR76,2099-02-07,2450.00 EUR,ACME,SALAIRE\n";
        let opts = insitu_core::import::ImportOptions {
            collection: Some("bank.transactions".into()),
            ..Default::default()
        };
        insitu_core::import::import_bytes(
            store,
            person,
            "releve.csv",
            statement.as_bytes(),
            &opts,
            &mut |_, _| {},
        )
        .expect("import");
        let approved =
            insitu_core::request::ask(store, &org.name, person, &plugin, "load test", 90)
                .expect("ask");
        let grant = insitu_core::request::approve(store, approved.id, &Narrowing::default())
            .expect("approve");
        let pending =
            insitu_core::request::ask(store, &org.name, person, &plugin, "the consent page", 30)
                .expect("ask");
        let (pt, _) = account::issue_token(store, &alice, &[], "load", None).expect("token");
        let (ot, _) = account::issue_token(store, &org, &[], "load", None).expect("token");
        (grant.id, pending.id, pt, ot)
    };

    let mut server = Command::new(env!("CARGO_BIN_EXE_insitu"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args([
            "--rate-per-token",
            "1000000000",
            "--rate-per-address",
            "1000000000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("insitu serve");
    let first = BufReader::new(server.stdout.take().expect("stdout"))
        .lines()
        .next()
        .expect("a line")
        .expect("a line");
    let _server = Reaped(server);
    let site = first
        .strip_prefix("listening on ")
        .expect("listening on ...")
        .to_string();

    let bearer = |t: &str| vec![format!("Authorization: Bearer {t}")];
    let run_body = format!(
        "{{\"grant\": {grant}, \"params\": {{\"rule\": \"agency-fee\", \"pattern\": \"frais de gestion\", \"agreed\": \"30.00 EUR\"}}}}"
    );
    let cases: Vec<(&str, String, Vec<String>, Option<String>)> = vec![
        (
            "GET /healthz (baseline)",
            format!("{site}/healthz"),
            vec![],
            None,
        ),
        (
            "GET /api/grants/{id} (grant check)",
            format!("{site}/api/grants/{grant}"),
            bearer(&org_token),
            None,
        ),
        (
            "GET /requests/{id} (consent page)",
            format!("{site}/requests/{request}"),
            vec![format!("Cookie: insitu_session={person_token}")],
            None,
        ),
        (
            "POST /api/runs (run start)",
            format!("{site}/api/runs"),
            // The person's own run (an organisation's run under a campaign grant is refused).
            bearer(&person_token),
            Some(run_body),
        ),
    ];
    println!("each measurement {secs} s; server and load generator share the machine's 2 cores\n");
    println!(
        "| endpoint | hey at 1,000 req/s: achieved | p50 | p99 | wrk flat out (2 threads, 32 conns): req/s | p50 | p99 | non-2xx |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, url, headers, post) in &cases {
        let fixed = hey(url, headers, post.as_deref(), 1000, secs);
        let mut wrk_headers = headers.clone();
        if post.is_some() {
            // wrk's Lua script sets the method, body and content type; the token stays a -H.
            wrk_headers.retain(|h| h.starts_with("Authorization"));
        }
        let max = wrk(url, &wrk_headers, post.as_deref(), secs, dir.path());
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {:.0} | {:.2} ms | {:.2} ms | hey: {}; wrk: {} |",
            fixed.rps,
            fixed.p50_ms,
            fixed.p99_ms,
            max.rps,
            max.p50_ms,
            max.p99_ms,
            fixed.errors,
            if max.errors.is_empty() {
                "none"
            } else {
                &max.errors
            }
        );
    }
}
