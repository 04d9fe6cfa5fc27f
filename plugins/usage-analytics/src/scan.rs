//! The counting, independent of the plugin interface, so that it runs natively in tests as it
//! does inside the sandbox.
//!
//! The counts are one member's true values, never clipped here: the host clips each to the
//! bounds the manifest declares, sums across members and adds noise. Clipping in the plugin
//! would hide nothing (the host does it anyway) and would tie the code to the manifest.

use std::collections::BTreeSet;

/// The metrics returned, in order; each is declared in the manifest's `aggregate`.
pub const METRICS: [&str; 11] = [
    "events",
    "minutes",
    "active-days",
    "night",
    "morning",
    "afternoon",
    "evening",
    "at-home",
    "at-office",
    "in-car",
    "elsewhere",
];

const DAY_MS: i64 = 86_400_000;

/// One usage event, as the counting sees it. Fields not granted are `None`, like absent values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Event<'a> {
    /// The record's time (`at`), ms since the epoch, UTC.
    pub time: i64,
    pub product: Option<&'a str>,
    pub place_kind: Option<&'a str>,
    pub time_of_day: Option<&'a str>,
    pub duration_s: Option<i64>,
}

/// One member's counts over the events pushed.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Lowercase; empty counts every product.
    product: String,
    /// Whether `place_kind` was granted: when it was not, the place counts stay at zero
    /// rather than putting every event `elsewhere`.
    places: bool,
    events: i64,
    seconds: i64,
    days: BTreeSet<i64>,
    night: i64,
    morning: i64,
    afternoon: i64,
    evening: i64,
    at_home: i64,
    at_office: i64,
    in_car: i64,
    elsewhere: i64,
}

fn bump(n: &mut i64) {
    *n = n.saturating_add(1);
}

impl Counts {
    /// Counts events whose product contains `product` (case-insensitive; empty for every
    /// product). `places`: whether `place_kind` was granted.
    pub fn new(product: &str, places: bool) -> Self {
        Counts {
            product: product.trim().to_lowercase(),
            places,
            ..Counts::default()
        }
    }

    pub fn push(&mut self, e: Event) {
        if !self.product.is_empty()
            && !e
                .product
                .is_some_and(|p| p.to_lowercase().contains(&self.product))
        {
            return;
        }
        bump(&mut self.events);
        // A negative duration is a recording error: it counts for nothing.
        if let Some(s) = e.duration_s.filter(|s| *s > 0) {
            self.seconds = self.seconds.saturating_add(s);
        }
        self.days.insert(e.time.div_euclid(DAY_MS));
        let label = |v: Option<&str>| v.map(|v| v.trim().to_ascii_lowercase());
        match label(e.time_of_day).as_deref() {
            Some("night") => bump(&mut self.night),
            Some("morning") => bump(&mut self.morning),
            Some("afternoon") => bump(&mut self.afternoon),
            Some("evening") => bump(&mut self.evening),
            _ => {}
        }
        if self.places {
            match label(e.place_kind).as_deref() {
                Some("home") => bump(&mut self.at_home),
                Some("office") => bump(&mut self.at_office),
                Some("car") => bump(&mut self.in_car),
                _ => bump(&mut self.elsewhere),
            }
        }
    }

    /// The metrics, named as in [`METRICS`] and in that order. `minutes` is the total duration
    /// in whole minutes, rounded down once, at the end.
    pub fn metrics(&self) -> [(&'static str, i64); 11] {
        let values = [
            self.events,
            self.seconds / 60,
            i64::try_from(self.days.len()).unwrap_or(i64::MAX),
            self.night,
            self.morning,
            self.afternoon,
            self.evening,
            self.at_home,
            self.at_office,
            self.in_car,
            self.elsewhere,
        ];
        std::array::from_fn(|i| (METRICS[i], values[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(
        hour: i64,
        product: &'static str,
        time_of_day: Option<&'static str>,
        place_kind: Option<&'static str>,
        duration_s: Option<i64>,
    ) -> Event<'static> {
        Event {
            time: hour * 3_600_000,
            product: Some(product),
            place_kind,
            time_of_day,
            duration_s,
        }
    }

    fn metric(c: &Counts, name: &str) -> i64 {
        c.metrics()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .expect("every metric is returned")
    }

    fn count(product: &str, places: bool, events: &[Event]) -> Counts {
        let mut c = Counts::new(product, places);
        events.iter().for_each(|e| c.push(*e));
        c
    }

    #[test]
    fn events_are_counted_by_time_of_day_place_and_utc_day() {
        let events = [
            event(1, "Thermostat Nest", Some("night"), Some("home"), Some(90)),
            event(
                9,
                "Thermostat Nest",
                Some("Morning"),
                Some("office"),
                Some(45),
            ),
            event(15, "Thermostat Nest", Some("afternoon"), Some("car"), None),
            event(
                20,
                "Thermostat Nest",
                Some("evening"),
                Some("gym"),
                Some(100),
            ),
            // The next UTC day.
            event(25, "Thermostat Nest", None, None, Some(-30)),
        ];
        let c = count("", true, &events);
        let got: Vec<(&str, i64)> = c.metrics().to_vec();
        assert_eq!(
            got,
            vec![
                ("events", 5),
                // 235 s: 3 whole minutes, rounded down once at the end (not 1 + 0 + 1).
                ("minutes", 3),
                ("active-days", 2),
                ("night", 1),
                ("morning", 1),
                ("afternoon", 1),
                ("evening", 1),
                ("at-home", 1),
                ("at-office", 1),
                ("in-car", 1),
                ("elsewhere", 2),
            ]
        );
    }

    #[test]
    fn the_product_filter_is_a_case_insensitive_substring() {
        let events = [
            event(1, "Thermostat NEST", Some("night"), Some("home"), Some(60)),
            event(2, "Enceinte Sonos", Some("night"), Some("home"), Some(60)),
        ];
        let c = count("nest", true, &events);
        assert_eq!((metric(&c, "events"), metric(&c, "minutes")), (1, 1));
        assert_eq!(metric(&count("", true, &events), "events"), 2);
        assert_eq!(metric(&count("Philips", true, &events), "events"), 0);
    }

    #[test]
    fn events_before_1970_fall_on_their_own_utc_day() {
        let events = [
            event(-1, "x", None, None, None),
            event(0, "x", None, None, None),
        ];
        assert_eq!(metric(&count("", true, &events), "active-days"), 2);
    }

    #[test]
    fn without_place_kind_granted_no_place_is_counted() {
        let events = [event(1, "x", None, None, None)];
        assert_eq!(metric(&count("", true, &events), "elsewhere"), 1);
        let c = count("", false, &events);
        assert_eq!(metric(&c, "elsewhere"), 0);
        assert_eq!(metric(&c, "events"), 1);
    }

    #[test]
    fn no_events_give_zeros_and_values_are_not_clipped() {
        assert!(Counts::new("", true).metrics().iter().all(|(_, v)| *v == 0));
        let many: Vec<Event> = (0..2000)
            .map(|i| event(i, "x", Some("night"), Some("home"), Some(600)))
            .collect();
        let c = count("", true, &many);
        // Above the manifest's bounds (1000 events, 6000 minutes): the host clips, not us.
        assert_eq!(metric(&c, "events"), 2000);
        assert_eq!(metric(&c, "minutes"), 20_000);
    }
}
