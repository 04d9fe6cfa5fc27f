//! `coaching-trends`: a study plugin for trend reports on the coaching service's outcomes.
//! For one member, it runs the `coaching` plugin's method on the same granted records and
//! returns which SOC major group its best suggestion falls in, one-hot: metric `soc-NN` is 1
//! for that group and 0 for every other. A study runs it for each consenting member; the host
//! sums the metrics and releases them with differential-privacy noise, so an organisation
//! learns how often each group is suggested first across the cohort (for example this term,
//! in its region), never one member's.
//!
//! The manifest declares `aggregate_l1: 1` (a member adds 1 to one group at most), so the
//! noise is calibrated to one member's single vote rather than to the sum of 22 bounds.
//!
//! The method's code is `coaching`'s, compiled into this component from the same files (not
//! as a crate dependency: both are components exporting `run`).
//!
//! Parameters: none. A member whose granted records give no suggestion contributes zeros
//! (the run succeeds with every metric 0), so that failing tells nothing more than succeeding.

#[path = "../../coaching/src/catalogue.rs"]
pub mod catalogue;
#[path = "../../coaching/src/person.rs"]
pub mod person;
#[path = "../../coaching/src/read.rs"]
pub mod read;
#[path = "../../coaching/src/riasec.rs"]
pub mod riasec;
#[path = "../../coaching/src/suggest.rs"]
pub mod suggest;
#[path = "../../coaching/src/text.rs"]
pub mod text;

use insitu_sdk::{Metric, Output, Params, Plugin, PluginError, Scalar};

/// The SOC 2018 major groups, by their two-digit code.
pub const GROUPS: [&str; 22] = [
    "11", "13", "15", "17", "19", "21", "23", "25", "27", "29", "31", "33", "35", "37", "39", "41",
    "43", "45", "47", "49", "51", "53",
];

/// The metrics for a best suggestion with O*NET-SOC `code` (none: all zero).
pub fn one_hot(code: Option<&str>) -> Vec<(String, i64)> {
    let group = code.and_then(|c| c.get(..2));
    GROUPS
        .iter()
        .map(|g| (format!("soc-{g}"), i64::from(group == Some(*g))))
        .collect()
}

/// The best suggestion's code: the highest score, ties by code.
pub fn best(report: &suggest::Report) -> Option<&str> {
    report
        .suggestions
        .iter()
        .max_by(|a, b| a.score.cmp(&b.score).then_with(|| b.code.cmp(&a.code)))
        .map(|s| s.code.as_str())
}

struct CoachingTrends;

impl Plugin for CoachingTrends {
    fn run(_params: Params) -> Result<Output, PluginError> {
        let catalogue = catalogue::Catalogue::embedded().map_err(PluginError::Failed)?;
        let (person, _missing) = read::read_person()?;
        let report = suggest::suggest(&person, &catalogue, &suggest::Options::default()).ok();
        let metrics = one_hot(report.as_ref().and_then(best))
            .into_iter()
            .map(|(name, value)| Metric {
                name,
                value: Scalar::Integer(value),
            })
            .collect();
        Ok(Output::Metrics(metrics))
    }
}

insitu_sdk::export_plugin!(CoachingTrends);

#[cfg(test)]
mod trends_tests {
    use super::*;

    #[test]
    fn one_group_is_one_and_the_rest_zero() {
        let m = one_hot(Some("29-1051.00"));
        assert_eq!(m.len(), 22);
        assert_eq!(m.iter().map(|(_, v)| v).sum::<i64>(), 1);
        assert!(m.contains(&("soc-29".into(), 1)));
        assert!(one_hot(None).iter().all(|(_, v)| *v == 0));
        assert!(one_hot(Some("99-0000.00")).iter().all(|(_, v)| *v == 0));
    }
}
