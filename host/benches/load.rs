//! HTTP load on loopback with real load generators from Debian: `hey` at a fixed 1,000
//! requests/s (p50 and p99 at that rate, the target), and `wrk` flat out (maximum throughput),
//! against the release `insitu serve`. Endpoints: the grant check (`GET /api/grants/{id}`),
//! the consent page (`GET /requests/{id}`, HTML, session cookie) and run start
//! (`POST /api/runs`, which runs fee-scanner over 3 records and commits the run). Baseline in
//! the same run: `GET /healthz`, which touches neither the token nor the store.
//!
//! The same on two nodes over PostgreSQL (issue #17): two `insitu --store URL serve` processes,
//! each with a data directory of its own, over one store in the test database
//! (`scripts/pg-start`); the load is spread evenly over both (a `hey` per node at half the rate,
//! their latencies merged; a `wrk` per node flat out, their rates added).
//!
//! `scripts/bench-deps` installs wrk and hey; run with `cargo bench -p insitu --bench load`.
//! `LOAD_SECONDS` sets each measurement's length (default 10); `BACKENDS=redb` (one node) or
//! `BACKENDS=postgres` (two nodes) for one of them (default both).

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

/// `hey` at `rate` requests/s in all, over `secs`, spread evenly over `sites` (a `hey` each, at
/// the same time), with `path` on each: the rate achieved, and p50 and p99 over every request.
fn hey(
    sites: &[String],
    path: &str,
    headers: &[String],
    post: Option<&str>,
    rate: u32,
    secs: u32,
) -> Load {
    // 10 workers in all, each at its share of the rate.
    let workers = (10 / sites.len()).max(1) as u32;
    let per_worker = rate / (workers * sites.len() as u32);
    let children: Vec<Child> = sites
        .iter()
        .map(|site| {
            let mut cmd = Command::new("hey");
            cmd.args(["-z", &format!("{secs}s"), "-c", &workers.to_string()])
                .args(["-q", &per_worker.to_string(), "-o", "csv"]);
            for h in headers {
                cmd.args(["-H", h]);
            }
            if let Some(body) = post {
                cmd.args(["-m", "POST", "-T", "application/json", "-d", body]);
            }
            cmd.arg(format!("{site}{path}"))
                .stdout(Stdio::piped())
                .spawn()
                .expect("hey")
        })
        .collect();
    // One line per request: response-time (s), DNS+dialup, DNS, request-write, response-delay,
    // response-read, status code, offset.
    let mut times = Vec::new();
    let mut statuses = std::collections::BTreeMap::<String, u64>::new();
    for child in children {
        let out = child.wait_with_output().expect("hey");
        for line in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() < 7 {
                continue;
            }
            if let Ok(t) = fields[0].parse::<f64>() {
                times.push(t * 1000.0);
            }
            *statuses.entry(fields[6].to_string()).or_default() += 1;
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if times.is_empty() {
            return f64::NAN;
        }
        times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1]
    };
    Load {
        rps: times.len() as f64 / secs as f64,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        errors: statuses
            .iter()
            .map(|(code, n)| format!("[{code}] {n}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// `wrk` flat out over `sites` at once (2 threads and 32 connections in all), `path` on each,
/// over `secs`: the rates added, and the highest p50 and p99 of the nodes.
fn wrk(
    sites: &[String],
    path: &str,
    headers: &[String],
    post: Option<&str>,
    secs: u32,
    dir: &std::path::Path,
) -> Load {
    let threads = (2 / sites.len()).max(1);
    let conns = 32 / sites.len();
    let each: Vec<std::thread::JoinHandle<Load>> = sites
        .iter()
        .map(|site| {
            let url = format!("{site}{path}");
            let (headers, post, dir) = (
                headers.to_vec(),
                post.map(str::to_string),
                dir.to_path_buf(),
            );
            std::thread::spawn(move || {
                wrk_one(&url, &headers, post.as_deref(), threads, conns, secs, &dir)
            })
        })
        .collect();
    let each: Vec<Load> = each.into_iter().map(|h| h.join().expect("wrk")).collect();
    Load {
        rps: each.iter().map(|l| l.rps).sum(),
        p50_ms: each.iter().map(|l| l.p50_ms).fold(f64::NAN, f64::max),
        p99_ms: each.iter().map(|l| l.p99_ms).fold(f64::NAN, f64::max),
        errors: each
            .iter()
            .map(|l| l.errors.as_str())
            .filter(|e| !e.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// One `wrk` flat out on `url`.
fn wrk_one(
    url: &str,
    headers: &[String],
    post: Option<&str>,
    threads: usize,
    conns: usize,
    secs: u32,
    dir: &std::path::Path,
) -> Load {
    let mut cmd = Command::new("wrk");
    cmd.args([
        &format!("-t{threads}"),
        &format!("-c{conns}"),
        &format!("-d{secs}s"),
        "--latency",
    ]);
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
    let backends = std::env::var("BACKENDS").unwrap_or_else(|_| "redb,postgres".into());
    for backend in backends.split(',') {
        let dir = tempfile::tempdir().expect("tempdir");
        match backend {
            "redb" => {
                let fx = fixture(dir.path(), None);
                let (_server, site) = serve(dir.path(), None);
                measure("one node over redb", &[site], &fx, secs, dir.path());
            }
            "postgres" => {
                // A schema of this run's own in the test database, dropped at the end.
                let schemas = insitu_store_pg::testing::Schemas::new("bench_load");
                let schema = schemas.fresh();
                drop(insitu_store_pg::testing::connect(
                    &schema,
                    insitu_core::clock::SystemClock::shared(),
                ));
                let base = insitu_store_pg::testing::url();
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
                let fx = fixture(dir.path(), Some(&url));
                // Two nodes, each with a data directory of its own.
                let dirs = [
                    tempfile::tempdir().expect("tempdir"),
                    tempfile::tempdir().expect("tempdir"),
                ];
                let nodes: Vec<(Reaped, String)> =
                    dirs.iter().map(|d| serve(d.path(), Some(&url))).collect();
                let sites: Vec<String> = nodes.iter().map(|(_, s)| s.clone()).collect();
                measure("two nodes over PostgreSQL", &sites, &fx, secs, dir.path());
                drop(nodes);
            }
            other => panic!("BACKENDS: unknown backend {other}"),
        }
    }
}

/// What the load needs, made in a store: a grant to check, a pending request to show, and the
/// person's and the organisation's tokens.
struct Fixture {
    grant: u64,
    request: u64,
    person_token: String,
    org_token: String,
}

/// Makes a store with a plugin, a person, a statement, an approved request and two tokens: the
/// redb file in `dir`, or the PostgreSQL store at `store`.
fn fixture(dir: &std::path::Path, store: Option<&str>) -> Fixture {
    {
        let (pds, plugin) = match store {
            None => insitu_testkit::pds_with_fee_scanner(dir),
            Some(url) => insitu_testkit::pds_with_fee_scanner_over(
                dir,
                std::sync::Arc::new(insitu_store_pg::PgStore::connect(url).expect("PostgreSQL")),
            ),
        };
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
        Fixture {
            grant: grant.id,
            request: pending.id,
            person_token: pt,
            org_token: ot,
        }
    }
}

/// Starts `insitu serve` on `dir` (over `store`, a PostgreSQL URL, else the redb file in it);
/// the process, reaped on drop, and its site.
fn serve(dir: &std::path::Path, store: Option<&str>) -> (Reaped, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_insitu"));
    cmd.arg("--data-dir").arg(dir);
    if let Some(url) = store {
        cmd.args(["--store", url]);
    }
    let mut server = cmd
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
    let site = first
        .strip_prefix("listening on ")
        .expect("listening on ...")
        .to_string();
    (Reaped(server), site)
}

/// The load on `sites` (one node, or several over one store), as a table.
fn measure(label: &str, sites: &[String], fx: &Fixture, secs: u32, dir: &std::path::Path) {
    let Fixture {
        grant,
        request,
        person_token,
        org_token,
    } = fx;

    let bearer = |t: &str| vec![format!("Authorization: Bearer {t}")];
    let run_body = format!(
        "{{\"grant\": {grant}, \"params\": {{\"rule\": \"agency-fee\", \"pattern\": \"frais de gestion\", \"agreed\": \"30.00 EUR\"}}}}"
    );
    let cases: Vec<(&str, String, Vec<String>, Option<String>)> = vec![
        (
            "GET /healthz (baseline)",
            "/healthz".to_string(),
            vec![],
            None,
        ),
        (
            "GET /api/grants/{id} (grant check)",
            format!("/api/grants/{grant}"),
            bearer(org_token),
            None,
        ),
        (
            "GET /requests/{id} (consent page)",
            format!("/requests/{request}"),
            vec![format!("Cookie: insitu_session={person_token}")],
            None,
        ),
        (
            "POST /api/runs (run start)",
            "/api/runs".to_string(),
            // The person's own run (an organisation's run under a campaign grant is refused).
            bearer(person_token),
            Some(run_body),
        ),
    ];
    println!(
        "{label}: each measurement {secs} s; servers, load generators and database share the machine's cores\n"
    );
    println!(
        "| endpoint | hey at 1,000 req/s: achieved | p50 | p99 | wrk flat out (2 threads, 32 conns): req/s | p50 | p99 | non-2xx |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, path, headers, post) in &cases {
        let fixed = hey(sites, path, headers, post.as_deref(), 1000, secs);
        let mut wrk_headers = headers.clone();
        if post.is_some() {
            // wrk's Lua script sets the method, body and content type; the token stays a -H.
            wrk_headers.retain(|h| h.starts_with("Authorization"));
        }
        let max = wrk(sites, path, &wrk_headers, post.as_deref(), secs, dir);
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
    println!();
}
