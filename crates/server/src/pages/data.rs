//! A person browses their own data: one collection as a table, a page at a time, with a text
//! search, a date range and an amount range, and for each record the grants that can read it
//! (the grant's plugin, who asked, and the fields).
//!
//! Records come from the store's scan, oldest first within the dates asked; a page is the next
//! [`PAGE`] matching records after a cursor (`after=TIME.ID`). A search reads at most
//! [`SCANNED`] records per page and says so when it stops there, so a broad search over a large
//! collection never holds a request long.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;

use super::locale::{Arg, L10n};
use super::{AppState, PageError, PageQuery, PageResult, Path, Session, page};
use crate::auth::Action;
use insitu_core::consent::Grant;
use insitu_core::store::{Schema, TimeRange, Value};

/// Records a page shows.
pub const PAGE: usize = 50;
/// Records a page reads at most while searching.
pub const SCANNED: usize = 100_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// Text the record must contain, in any text field (case-insensitive).
    q: Option<String>,
    /// From this day (`YYYY-MM-DD`), included.
    from: Option<String>,
    /// To this day, included.
    to: Option<String>,
    /// Amounts (of the first money field) at least this, in the currency's units (`-20.50`).
    min: Option<String>,
    /// ... and at most this.
    max: Option<String>,
    /// The last record of the previous page: `TIME.ID`.
    after: Option<String>,
}

/// `what` is the key of the form's label for the value, which the error names.
fn day(raw: &Option<String>, what: &str) -> Result<Option<i64>, PageError> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(d) => insitu_formats::time::parse_time(d).map(Some).map_err(|_| {
            PageError::say_with(
                StatusCode::BAD_REQUEST,
                "data-bad-date",
                &[
                    ("value", d.into()),
                    ("field", L10n::current().t(what).as_str().into()),
                ],
            )
        }),
    }
}

fn amount(raw: &Option<String>, what: &str, exponent: u32) -> Result<Option<i64>, PageError> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(a) => insitu_formats::money::parse_decimal(&a.replace(',', "."), exponent, '.')
            .map(Some)
            .map_err(|_| {
                PageError::say_with(
                    StatusCode::BAD_REQUEST,
                    "data-bad-amount",
                    &[
                        ("value", a.into()),
                        ("field", L10n::current().t(what).as_str().into()),
                    ],
                )
            }),
    }
}

/// The cursor `TIME.ID`.
fn cursor(raw: &Option<String>) -> Result<Option<(i64, u64)>, PageError> {
    let Some(raw) = raw.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    raw.split_once('.')
        .and_then(|(t, i)| Some((t.parse().ok()?, i.parse().ok()?)))
        .map(Some)
        .ok_or_else(|| PageError::say(StatusCode::BAD_REQUEST, "data-bad-cursor"))
}

/// A record as the page shows it.
struct Row {
    id: u64,
    time: i64,
    values: Vec<Value>,
    seen_by: Vec<String>,
}

/// The grants that can read a record of `collection` at `time`, each as "plugin for whom
/// (fields)".
fn seen_by(l: &L10n, grants: &[(Grant, String)], collection: &str, time: i64) -> Vec<String> {
    grants
        .iter()
        .filter(|(g, _)| g.window.contains(time))
        .filter_map(|(g, name)| {
            let c = g.collections.iter().find(|c| c.name == collection)?;
            let whom = g
                .origin
                .as_ref()
                .map(|o| format!(" · {}", o.requester))
                .unwrap_or_default();
            let fields = super::fields::labels(l, collection, &c.fields);
            Some(format!("{name}{whom} ({fields})"))
        })
        .collect()
}

fn text_matches(values: &[Value], q: &str) -> bool {
    values.iter().any(|v| match v {
        Value::Text(t) => t.to_lowercase().contains(q),
        _ => false,
    })
}

fn shown(l: &L10n, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Text(t) => t.clone(),
        Value::Integer(i) => l.number(*i),
        Value::Float(f) => f.to_string(),
        Value::Money { minor, currency } => l.money(*minor, currency),
        Value::Timestamp(t) => l.date(*t),
        Value::Boolean(b) => l.t(if *b { "data-yes" } else { "data-no" }),
    }
}

/// `/data/{collection}`: the person's records of one collection, filtered, a page at a time.
pub async fn browse(
    State(s): State<AppState>,
    session: Session,
    Path(collection): Path<String>,
    PageQuery(f): PageQuery<Filters>,
) -> PageResult {
    session.may(Action::PersonPages)?;
    let p = super::own_person(&session)?;
    let l = L10n::current();
    let store = s.pds.store.as_ref();
    let schema: Schema = store
        .collection(&collection)
        .map_err(|_| PageError::not_found())?;
    // Checked here with three decimals (the most any currency has); compared below in each
    // record's own currency's minor units.
    amount(&f.min, "data-min", 3)?;
    amount(&f.max, "data-max", 3)?;
    let bound = |raw: &Option<String>, currency: &str| {
        amount(raw, "", insitu_formats::money::exponent(currency))
            .ok()
            .flatten()
    };
    let filtered = [&f.min, &f.max]
        .iter()
        .any(|v| v.as_deref().is_some_and(|x| !x.trim().is_empty()));
    let (from, to) = (day(&f.from, "data-from")?, day(&f.to, "data-to")?);
    let after = cursor(&f.after)?;
    let q =
        f.q.as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase);
    let since = match (from, after) {
        (Some(a), Some((t, _))) => Some(a.max(t)),
        (a, c) => a.or(c.map(|c| c.0)),
    };
    let range = TimeRange {
        since,
        until: to.map(|t| t.saturating_add(DAY_MS)),
    };
    let now = s.now_ms();
    let mut names = super::history::Names::new(store);
    let grants: Vec<(Grant, String)> = store
        .grants(Some(p))?
        .into_iter()
        .filter(|g| g.check_live(now).is_ok() && g.collections.iter().any(|c| c.name == collection))
        .map(|g| {
            let name = names.plugin(&g.plugin_digest);
            (g, name)
        })
        .collect();
    // Every field but the one that orders records, shown as the date.
    let fields: Vec<String> = schema
        .fields
        .iter()
        .map(|x| x.name.clone())
        .filter(|n| schema.time_field.as_ref() != Some(n))
        .collect();
    let money_field = fields.iter().position(|n| {
        schema
            .fields
            .iter()
            .any(|x| x.name == *n && x.ty == insitu_core::store::FieldType::Money)
    });
    let mut rows = Vec::new();
    let (mut scanned, mut capped) = (0usize, false);
    let mut cursor = store.scan(p, &collection, range, &fields)?;
    'scan: while let Some((batch, _)) = cursor.next_batch(1_000)? {
        for i in 0..batch.len() {
            scanned += 1;
            if scanned > SCANNED {
                capped = true;
                break 'scan;
            }
            let (time, id) = (batch.times[i], batch.ids[i]);
            if after.is_some_and(|c| (time, id) <= c) {
                continue;
            }
            let values: Vec<Value> = batch.columns.iter().map(|c| c.value(i)).collect();
            if q.as_deref().is_some_and(|q| !text_matches(&values, q)) {
                continue;
            }
            if filtered {
                let Some(Value::Money { minor, currency }) = money_field.map(|m| &values[m]) else {
                    continue;
                };
                let (min, max) = (bound(&f.min, currency), bound(&f.max, currency));
                if min.is_some_and(|m| *minor < m) || max.is_some_and(|m| *minor > m) {
                    continue;
                }
            }
            rows.push(Row {
                id,
                time,
                seen_by: seen_by(&l, &grants, &collection, time),
                values,
            });
            if rows.len() > PAGE {
                break 'scan;
            }
        }
    }
    let more = rows.len() > PAGE;
    rows.truncate(PAGE);
    let next = more
        .then(|| rows.last().map(|r| format!("{}.{}", r.time, r.id)))
        .flatten();
    let keep = |name: &str, v: &Option<String>| {
        v.as_deref()
            .filter(|x| !x.is_empty())
            .map(|x| format!("&{name}={}", super::layout::encode(x)))
            .unwrap_or_default()
    };
    let filters = [
        keep("q", &f.q),
        keep("from", &f.from),
        keep("to", &f.to),
        keep("min", &f.min),
        keep("max", &f.max),
    ]
    .concat();
    // The page's title and the table's label are text; the heading marks a collection that has
    // no name of its own as data.
    let title = l.ta(
        "data-browse-title",
        &[(
            "collection",
            super::collections::label(&l, &collection).as_str().into(),
        )],
    );
    let heading = l.ta_markup(
        "data-browse-title",
        &[],
        &[("collection", super::collections::name(&l, &collection))],
    );
    let body = html! {
        h1 { (heading) }
        p { (l.t("data-browse-intro")) }
        form.card method="get" action=(format!("/data/{collection}")) role="search" {
            p {
                label for="q" { (l.t("data-search")) } " "
                input id="q" name="q" type="search" value=(f.q.clone().unwrap_or_default());
            }
            p {
                label for="from" { (l.t("data-from")) } " "
                input id="from" name="from" type="date" value=(f.from.clone().unwrap_or_default());
                " "
                label for="to" { (l.t("data-to")) } " "
                input id="to" name="to" type="date" value=(f.to.clone().unwrap_or_default());
            }
            @if money_field.is_some() {
                p {
                    label for="min" { (l.t("data-min")) } " "
                    input id="min" name="min" inputmode="decimal" value=(f.min.clone().unwrap_or_default());
                    " "
                    label for="max" { (l.t("data-max")) } " "
                    input id="max" name="max" inputmode="decimal" value=(f.max.clone().unwrap_or_default());
                }
            }
            p { button type="submit" { (l.t("data-filter")) } }
        }
        @if capped {
            p role="status" { (l.ta("data-capped", &[("n", Arg::Count(SCANNED as i64))])) }
        }
        @if rows.is_empty() {
            p { (l.t("data-empty")) }
        } @else {
            // A wide table scrolls on a phone: its box takes the keyboard's focus to scroll.
            div.scroll tabindex="0" role="region" aria-label=(title) { table {
                caption.sr { (title) }
                thead { tr {
                    th scope="col" { (l.t("data-when")) }
                    @for x in &fields { th scope="col" { (super::fields::name(&l, &collection, x)) } }
                    th scope="col" { (l.t("data-seen-by")) }
                } }
                tbody {
                    @for r in &rows {
                        tr {
                            td.num { (l.date(r.time)) }
                            @for v in &r.values {
                                @if matches!(v, Value::Money { .. }) {
                                    td.num { (shown(&l, v)) }
                                } @else {
                                    td { (shown(&l, v)) }
                                }
                            }
                            td {
                                @if r.seen_by.is_empty() { (l.t("data-seen-none")) }
                                @else { @for g in &r.seen_by { span.seen { (g) } br; } }
                            }
                        }
                    }
                }
            } }
        }
        @if let Some(n) = &next {
            p { a href=(format!("/data/{collection}?after={n}{filters}")) { (l.t("data-next")) } }
        }
    };
    Ok(page(&title, Some(&session), body).into_response())
}

/// The link from the person's home page to a collection's records, by its name in `l`'s
/// language.
pub fn link(l: &L10n, collection: &str) -> Markup {
    html! { a href=(format!("/data/{collection}")) { (super::collections::name(l, collection)) } }
}
