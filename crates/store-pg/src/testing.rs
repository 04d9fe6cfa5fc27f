//! What tests of a PostgreSQL store share: the test database's URL (`$INSITU_TEST_PG`, which
//! `scripts/pg-start` makes), schemas that are dropped when the test ends (a failing test's
//! unwinding included), and a connection that fails the test, never skips it, when the
//! database cannot be reached: CI runs these tests.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::PgStore;

/// The test database when `$INSITU_TEST_PG` is not set.
pub const DEFAULT_URL: &str = "postgres://insitu:insitu@127.0.0.1:5432/insitu_test";

pub fn url() -> String {
    std::env::var("INSITU_TEST_PG").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// Test schemas, dropped (with everything in them) when this is dropped, a failing test's
/// unwinding included.
pub struct Schemas {
    names: Mutex<Vec<String>>,
    n: AtomicU32,
    prefix: String,
}

impl Schemas {
    pub fn new(test: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Schemas {
            names: Mutex::new(Vec::new()),
            n: AtomicU32::new(0),
            prefix: format!("insitu_t_{test}_{}_{nanos}", std::process::id()),
        }
    }

    /// A new schema's name, to be dropped with the others.
    pub fn fresh(&self) -> String {
        let name = format!("{}_{}", self.prefix, self.n.fetch_add(1, Ordering::Relaxed));
        self.names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(name.clone());
        name
    }

    /// How many schemas [`Schemas::fresh`] has named.
    pub fn count(&self) -> usize {
        self.n.load(Ordering::Relaxed) as usize
    }
}

impl Drop for Schemas {
    fn drop(&mut self) {
        let names = std::mem::take(&mut *self.names.lock().unwrap_or_else(|e| e.into_inner()));
        if names.is_empty() {
            return;
        }
        let dropped = on_own_thread(|client| async move {
            for name in names {
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await
                    .map_err(|e| format!("dropping schema {name}: {e}"))?;
            }
            Ok(())
        });
        if let Err(e) = dropped {
            eprintln!("the test schemas were not all dropped: {e}");
        }
    }
}

/// A store in `schema` (created if missing), on `clock`; a PostgreSQL that cannot be reached fails the test.
pub fn connect(schema: &str, clock: Arc<dyn insitu_model::clock::Clock>) -> PgStore {
    PgStore::connect_in_schema(&url(), schema, clock).unwrap_or_else(|e| {
        panic!(
            "cannot reach the test PostgreSQL ({e}): run scripts/pg-start, or set INSITU_TEST_PG \
             to a database URL (default {DEFAULT_URL})"
        )
    })
}

/// A task of a job's work queue as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedTask {
    pub run: u64,
    pub person: u64,
    /// The node that claimed it last (`Runner::node`), empty while nobody has.
    pub node: String,
    /// How many times it was claimed.
    pub attempt: u32,
}

/// The open tasks of `job` in `schema`, read from the table itself (a task is deleted when its
/// member's result commits): for tests that watch which node holds what, which the store's
/// API does not show. A PostgreSQL that cannot be reached fails the test.
pub fn open_tasks(schema: &str, job: u64) -> Vec<QueuedTask> {
    let sql = format!(
        "SELECT run, person, node, attempt FROM {schema}.job_tasks WHERE job = $1 ORDER BY run"
    );
    let job = i64::try_from(job).expect("a job id within i64");
    on_own_thread(move |client| async move {
        let rows = client
            .query(&sql, &[&job])
            .await
            .map_err(|e| format!("reading job {job}'s tasks: {e}"))?;
        Ok(rows
            .iter()
            .map(|r| QueuedTask {
                run: r.get::<_, i64>(0) as u64,
                person: r.get::<_, i64>(1) as u64,
                node: r.get(2),
                attempt: r.get::<_, i32>(3) as u32,
            })
            .collect())
    })
    .unwrap_or_else(|e| panic!("the test PostgreSQL: {e}"))
}

/// `VACUUM (ANALYZE)` of every table of `schema`, then a `CHECKPOINT`: what an operator runs
/// after a bulk load, so that a benchmark after its set-up does not measure the autovacuum of
/// the set-up's rows (nor the first reads setting their hint bits), nor the set-up's (and the
/// vacuum's) dirty pages being written out, which a checkpoint spread over minutes
/// (`checkpoint_completion_target`) would do during the measurement. The redb file a
/// benchmark compares with is already on disk: each of its commits is durable. The
/// `CHECKPOINT` needs the role `pg_checkpoint`, which `scripts/pg-start` grants.
pub fn settle(schema: &str) -> Result<(), String> {
    let schema = schema.to_string();
    on_own_thread(move |client| async move {
        let tables = client
            .query(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1",
                &[&schema],
            )
            .await
            .map_err(|e| format!("listing {schema}'s tables: {e}"))?;
        for t in tables {
            let table: String = t.get(0);
            client
                .batch_execute(&format!("VACUUM (ANALYZE) {schema}.{table}"))
                .await
                .map_err(|e| format!("vacuuming {schema}.{table}: {e}"))?;
        }
        client
            .batch_execute("CHECKPOINT")
            .await
            .map_err(|e| format!("CHECKPOINT (run scripts/pg-start to grant it): {e}"))
    })
}

/// A transaction of a connection of its own that ran some statements (holding the locks they
/// took) and stays open until this is dropped: for tests that show what does not wait for
/// those locks.
pub struct Held {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Begins a transaction in `schema`, runs `sql` in it and holds it open (see [`Held`]). A
/// PostgreSQL that cannot be reached, or a statement that fails, fails the test.
pub fn hold(schema: &str, sql: &str) -> Held {
    let (url, sql) = (url(), format!("SET search_path TO {schema}; BEGIN; {sql}"));
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (ready, is_ready) = std::sync::mpsc::channel::<Result<(), String>>();
    let thread = std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => return drop(ready.send(Err(e.to_string()))),
        };
        rt.block_on(async move {
            let client = match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                Ok((client, conn)) => {
                    tokio::spawn(conn);
                    client
                }
                Err(e) => return drop(ready.send(Err(e.to_string()))),
            };
            let ran = client.batch_execute(&sql).await.map_err(|e| e.to_string());
            let ok = ran.is_ok();
            drop(ready.send(ran));
            if ok {
                // Until dropped (the sender gone). The connection's task is not polled
                // meanwhile, which it need not be: the server keeps the transaction open while
                // the socket is.
                let _ = released.recv();
            }
            drop(client);
        })
    });
    match is_ready.recv() {
        Ok(Ok(())) => Held {
            release: Some(release),
            thread: Some(thread),
        },
        Ok(Err(e)) => panic!("holding a transaction in the test PostgreSQL: {e}"),
        Err(_) => panic!("the thread holding a transaction ended"),
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            drop(t.join());
        }
    }
}

/// The statement a claim reads its tasks with, for tests of its plan ([`explain`]).
pub const CLAIM_SQL: &str = crate::jobs::CLAIM_SQL;

/// Runs `setup` (statements separated by `;`) in `schema`, then `EXPLAIN (ANALYZE, FORMAT JSON)`
/// of `statement` prepared as the store prepares it, executed with `params` (SQL literals for
/// `$1`, `$2`...), in a transaction rolled back after; the plan's root node. The plan is the
/// one for these values, as for a statement's first executions on a connection, or with
/// `generic` the generic plan PostgreSQL may keep once it ran five times. For tests of what a
/// statement reads, which its results do not show. A PostgreSQL that cannot be reached, or a
/// statement that fails, fails the test.
pub fn explain(
    schema: &str,
    setup: &str,
    statement: &str,
    params: &[&str],
    generic: bool,
) -> serde_json::Value {
    let mode = match generic {
        true => "force_generic_plan",
        false => "force_custom_plan",
    };
    let batch = format!(
        "SET search_path TO {schema}; {setup}; BEGIN; SET LOCAL plan_cache_mode = {mode}; \
         PREPARE explained AS {statement}; \
         EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE explained({}); ROLLBACK; DEALLOCATE explained",
        params.join(", ")
    );
    let text = on_own_thread(move |client| async move {
        let messages = client
            .simple_query(&batch)
            .await
            .map_err(|e| format!("explaining a statement: {e}"))?;
        messages
            .iter()
            .find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                _ => None,
            })
            .ok_or_else(|| "EXPLAIN returned no plan".to_string())
    })
    .unwrap_or_else(|e| panic!("the test PostgreSQL: {e}"));
    let plan: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("EXPLAIN's JSON: {e}: {text}"));
    plan[0]["Plan"].clone()
}

/// `f` on a connection of its own to the test database, on a thread of its own (the caller may
/// be inside a runtime, a test's drop included).
fn on_own_thread<T, F, Fut>(f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(tokio_postgres::Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let url = url();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("cannot reach the test PostgreSQL: {e}"))?;
            tokio::spawn(conn);
            f(client).await
        })
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}
