//! `usage-analytics`: a study plugin. For one member, counts the events of `usage.events` and
//! returns them as integer metrics; a study runs it for each consenting member and the host
//! combines the results.
//!
//! Parameters:
//! - `product` (text, default empty = every product): only events whose `product` contains
//!   it, case-insensitively.
//!
//! Output: metrics, all integers, exactly these (each declared in the manifest's `aggregate`
//! with its bounds):
//! - `events`: events counted;
//! - `minutes`: the sum of `duration_s` over them, in whole minutes, rounded down at the end
//!   (events without a duration, or with a negative one, add nothing);
//! - `active-days`: distinct UTC days with an event;
//! - `night`, `morning`, `afternoon`, `evening`: events by `time_of_day` (events without one
//!   are in none of the four);
//! - `at-home`, `at-office`, `in-car`, `elsewhere`: events by `place_kind` (`home`, `office`,
//!   `car`; any other value or none: `elsewhere`). If the member did not grant `place_kind`,
//!   all four are 0.
//!
//! The plugin does not clip: it returns the member's true counts, and the host clips each to
//! its declared bounds, sums them across members and adds differential-privacy noise before
//! anything is released, and only for a cohort of at least `min_cohort` members.

pub mod scan;

use insitu_sdk::{Metric, Output, Params, Plugin, PluginError, Query, Scalar};
use scan::{Counts, Event};

/// The collection read.
pub const COLLECTION: &str = "usage.events";
/// The fields the counting reads (the event's time comes as the record time).
pub const FIELDS: [&str; 4] = ["product", "place_kind", "time_of_day", "duration_s"];

/// The fields of `FIELDS` the person granted: the others may have been narrowed away at
/// consent, and asking for them would fail the query.
fn granted_fields() -> Vec<&'static str> {
    let granted: Vec<String> = insitu_sdk::collections()
        .into_iter()
        .find(|c| c.name == COLLECTION)
        .map(|c| c.fields.into_iter().map(|f| f.name).collect())
        .unwrap_or_default();
    FIELDS
        .iter()
        .copied()
        .filter(|f| granted.iter().any(|g| g == f))
        .collect()
}

struct UsageAnalytics;

impl Plugin for UsageAnalytics {
    fn run(params: Params) -> Result<Output, PluginError> {
        let product = params.text_or("product", "")?;
        let fields = granted_fields();
        if !product.trim().is_empty() && !fields.contains(&"product") {
            return Err(PluginError::Data(
                "`product` must be granted to count the events of one product".into(),
            ));
        }
        let mut counts = Counts::new(&product, fields.contains(&"place_kind"));
        let mut rows = Query::new(COLLECTION).fields(&fields).open()?;
        while let Some(batch) = rows.next_batch()? {
            for row in batch.rows() {
                counts.push(Event {
                    time: row.time(),
                    product: row.text("product"),
                    place_kind: row.text("place_kind"),
                    time_of_day: row.text("time_of_day"),
                    duration_s: row.integer("duration_s"),
                });
            }
        }
        Ok(Output::Metrics(
            counts
                .metrics()
                .into_iter()
                .map(|(name, value)| Metric {
                    name: name.into(),
                    value: Scalar::Integer(value),
                })
                .collect(),
        ))
    }
}

insitu_sdk::export_plugin!(UsageAnalytics);
