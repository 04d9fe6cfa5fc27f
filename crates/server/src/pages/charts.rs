//! The pages' pictures: SVG drawn on the server with plotters and put inline in the page (no
//! script, no image request), each with its text alternative in the page's language.
//!
//! - Every picture is a `figure`: the `svg` (`role="img"`, named by its `<title>` through
//!   `aria-labelledby`, described by the caption), a caption that says the main figures in a
//!   sentence, and, where the picture has more to say than a sentence, a `details` table with
//!   every figure drawn. A screen reader gets the same figures as an eye.
//! - Words in a picture come from the catalogues; numbers, money and months are written by
//!   [`L10n`], so the picture speaks the page's language.
//! - An empty series draws no picture: it says "no data yet" in a sentence.
//! - The functions take plain data (months and amounts, rows, events), never the store: the
//!   pages read and aggregate, these draw. Each is unit-tested on its own.
//!
//! The SVG is the one piece of markup the pages write unescaped (`PreEscaped`): plotters
//! escapes every text and attribute value it writes (`<`, `>`, `&`, quotes), and the tests below
//! check it with a label full of markup.
//!
//! May touch: nothing but the data it is given.

use maud::{Markup, PreEscaped, html};
use plotters::backend::SVGBackend;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::locale::{Arg, L10n};

/// A picture's width in SVG units; the style sheet scales it to the column (`svg.chart`).
const WIDTH: u32 = 560;
const INK: RGBColor = RGBColor(26, 26, 26);
const BLUE: RGBColor = RGBColor(11, 79, 156);
const ORANGE: RGBColor = RGBColor(194, 84, 0);
const RED: RGBColor = RGBColor(138, 28, 28);
const GREEN: RGBColor = RGBColor(27, 110, 58);
const LIGHT: RGBColor = RGBColor(226, 226, 220);
const RULE: RGBColor = RGBColor(190, 190, 190);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Text of `size` px: plotters writes `font-size` as its size divided by 1.24.
fn font(size: i32) -> TextStyle<'static> {
    FontDesc::new(
        FontFamily::SansSerif,
        f64::from(size) * 1.24,
        FontStyle::Normal,
    )
    .color(&INK)
}

/// Categories on an axis (months, lanes, campaigns): category `i` sits at `SLOT * i`, the axis
/// runs half a slot beyond the first and the last, and a label is asked for every half slot
/// (plotters then puts its key points on multiples of `SLOT / 2`), so that one category draws
/// as well as many. Plotters' segmented axis degenerates with a single category.
const SLOT: i32 = 20;

fn categories(n: usize) -> std::ops::Range<i32> {
    -SLOT / 2..SLOT * n as i32 - SLOT / 2
}

/// The category at a key point of a [`categories`] axis, if the point is one's centre.
fn category(v: i32) -> Option<usize> {
    (v >= 0 && v % SLOT == 0).then_some((v / SLOT) as usize)
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Draws a `w`×`h` picture with `draw` and wraps it as an accessible inline `svg`: named by its
/// `<title>` (`title`), described by the caption `{id}-caption`. `None` if plotters failed
/// (logged; the caption and table still say everything).
fn svg(id: &str, title: &str, w: u32, h: u32, draw: impl FnOnce(&Area) -> Drawn) -> Option<Markup> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(Into::into)
            .and_then(|_| draw(&root))
            .and_then(|_| root.present().map_err(Into::into));
        if let Err(e) = drawn {
            tracing::error!(error = %e, picture = id, "a picture could not be drawn");
            return None;
        }
    }
    // plotters' own opening tag carries a fixed size; ours scales and is named.
    let start = buf.find('>').map_or(0, |i| i + 1);
    let end = buf.rfind("</svg>").unwrap_or(buf.len());
    let inner = &buf[start.min(end)..end];
    Some(html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {w} {h}"))
            role="img" aria-labelledby=(format!("{id}-title")) aria-describedby=(format!("{id}-caption")) {
            title id=(format!("{id}-title")) { (title) }
            (PreEscaped(inner))
        }
    })
}

/// A figure: the picture (if drawn), the caption that says its figures, and the table of every
/// figure behind a "the figures" disclosure.
fn figure(
    l: &L10n,
    id: &str,
    title: &str,
    picture: Option<Markup>,
    caption: &str,
    table: Option<Markup>,
) -> Markup {
    html! {
        figure.picture {
            figcaption {
                strong { (title) }
                span id=(format!("{id}-caption")) { (caption) }
            }
            @if let Some(p) = picture { (p) }
            @if let Some(t) = table {
                details {
                    summary { (l.t("chart-figures")) }
                    div.scroll { (t) }
                }
            }
        }
    }
}

fn no_data(l: &L10n, title: &str) -> Markup {
    html! { p.nodata { (title) ": " (l.t("chart-no-data")) } }
}

/// The first day of a month, as milliseconds (UTC).
pub fn month_start(year: i64, month: i64) -> i64 {
    insitu_formats::time::days_from_civil(year, month, 1) * 86_400_000
}

/// The start of the month of `ms`, and of the `back` months before it, oldest first: the frame
/// the monthly pictures are drawn on (`months(now, 24)`: the last two years, this month last).
pub fn months(ms: i64, count: usize) -> Vec<i64> {
    let (y, m, _) = insitu_formats::time::civil_from_days(ms.div_euclid(86_400_000));
    let index = y * 12 + (m - 1);
    (0..count as i64)
        .rev()
        .map(|back| {
            let i = index - back;
            month_start(i.div_euclid(12), i.rem_euclid(12) + 1)
        })
        .collect()
}

/// Which of `frame`'s months (starts, oldest first) `ms` falls in.
pub fn month_index(frame: &[i64], ms: i64) -> Option<usize> {
    let first = *frame.first()?;
    if ms < first {
        return None;
    }
    let i = frame.partition_point(|&start| start <= ms);
    let (y, m, _) = insitu_formats::time::civil_from_days(frame[i - 1].div_euclid(86_400_000));
    let next = if m == 12 {
        month_start(y + 1, 1)
    } else {
        month_start(y, m + 1)
    };
    (ms < next).then_some(i - 1)
}

/// Sums dated amounts (`(at, minor units, currency)`) by month of `frame` (what falls outside is
/// left out): one series per currency, (month start, sum) for every month, the largest total
/// first. One pass, memory by currency and month only.
pub fn by_month<'a>(
    frame: &[i64],
    amounts: impl Iterator<Item = (i64, i64, &'a str)>,
) -> Vec<(String, Vec<(i64, i64)>)> {
    let mut sums: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
    for (at, minor, currency) in amounts {
        if let Some(m) = month_index(frame, at) {
            sums.entry(currency).or_insert_with(|| vec![0; frame.len()])[m] += minor;
        }
    }
    let mut out: Vec<(String, Vec<(i64, i64)>)> = sums
        .into_iter()
        .map(|(c, v)| (c.to_string(), frame.iter().copied().zip(v).collect()))
        .collect();
    out.sort_by_key(|(_, v)| -v.iter().map(|(_, x)| x).sum::<i64>());
    out
}

/// An amount per month in one currency as vertical bars (spending, earnings, an organisation's
/// invoices): `values` are (month start, minor units), oldest first. The caption gives the total
/// and the highest month; the table every month.
pub fn month_bars(
    l: &L10n,
    id: &str,
    title: &str,
    values: &[(i64, i64)],
    currency: &str,
) -> Markup {
    if values.iter().all(|(_, v)| *v == 0) {
        return no_data(l, title);
    }
    let total: i64 = values.iter().map(|(_, v)| v).sum();
    let (top_month, top) = values
        .iter()
        .copied()
        .max_by_key(|(m, v)| (*v, -m))
        .unwrap_or_default();
    let caption = l.ta(
        "chart-months-summary",
        &[
            ("total", l.money(total, currency).as_str().into()),
            ("months", Arg::Count(values.len() as i64)),
            ("top", l.month(top_month).as_str().into()),
            ("top_amount", l.money(top, currency).as_str().into()),
        ],
    );
    let step = (values.len() / 4).max(1);
    let max = values.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let picture = svg(id, title, WIDTH, 260, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(92)
            .build_cartesian_2d(categories(values.len()), 0i64..max + max / 10)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RULE)
            .axis_style(INK)
            .set_tick_mark_size(LabelAreaPosition::Bottom, 4)
            .x_labels(2 * values.len() + 1)
            .x_label_formatter(&|v| match category(*v) {
                Some(i) if i.is_multiple_of(step) => {
                    values.get(i).map(|(m, _)| l.month(*m)).unwrap_or_default()
                }
                _ => String::new(),
            })
            .y_labels(5)
            .y_label_formatter(&|v| l.money(*v, currency))
            .label_style(font(14))
            .draw()?;
        chart.draw_series(values.iter().enumerate().map(|(i, (_, v))| {
            let x = SLOT * i as i32;
            Rectangle::new(
                [(x - SLOT * 2 / 5, 0), (x + SLOT * 2 / 5, (*v).max(0))],
                BLUE.filled(),
            )
        }))?;
        Ok(())
    });
    let table = html! {
        table {
            caption.sr { (title) }
            thead { tr { th scope="col" { (l.t("chart-month")) } th scope="col" { (l.t("chart-amount")) } } }
            tbody {
                @for (m, v) in values {
                    tr { td { (l.month(*m)) } td { (l.money(*v, currency)) } }
                }
            }
        }
    };
    figure(l, id, title, picture, &caption, Some(table))
}

/// A charge that comes back: to whom, in how many months, and how much a month on average.
#[derive(Debug, Clone, PartialEq)]
pub struct Recurring {
    pub label: String,
    pub months: u32,
    pub average: i64,
    pub currency: String,
}

/// The charges that come back most months as horizontal bars, largest first: the bar is the
/// average per month, the text beside it that average and the number of months.
pub fn recurring(l: &L10n, id: &str, title: &str, rows: &[Recurring]) -> Markup {
    if rows.is_empty() {
        return html! { p.nodata { (title) ": " (l.t("recurring-none")) } };
    }
    let listed: Vec<String> = rows
        .iter()
        .map(|r| {
            l.ta(
                "recurring-item",
                &[
                    ("label", (&r.label).into()),
                    ("average", l.money(r.average, &r.currency).as_str().into()),
                    ("months", Arg::Count(i64::from(r.months))),
                ],
            )
        })
        .collect();
    let caption = l.ta(
        "recurring-summary",
        &[
            ("count", Arg::Count(rows.len() as i64)),
            ("list", listed.join("; ").as_str().into()),
        ],
    );
    let row_h = 30;
    let h = rows.len() as u32 * row_h as u32 + 12;
    let max = rows.iter().map(|r| r.average).max().unwrap_or(1).max(1);
    let (label_w, value_w) = (180, 210);
    let bar_w = WIDTH as i32 - label_w - value_w - 16;
    let picture = svg(id, title, WIDTH, h, |root| {
        for (i, r) in rows.iter().enumerate() {
            let y = 6 + i as i32 * row_h;
            root.draw(&Text::new(clip(&r.label, 22), (4, y + 7), font(14)))?;
            let w = ((r.average.max(0) as i128 * bar_w as i128) / max as i128) as i32;
            root.draw(&Rectangle::new(
                [(label_w, y + 4), (label_w + w.max(2), y + row_h - 6)],
                ORANGE.filled(),
            ))?;
            let value = l.ta(
                "recurring-bar",
                &[
                    ("average", l.money(r.average, &r.currency).as_str().into()),
                    ("months", Arg::Count(i64::from(r.months))),
                ],
            );
            root.draw(&Text::new(value, (label_w + w.max(2) + 6, y + 7), font(13)))?;
        }
        Ok(())
    });
    let table = html! {
        table {
            caption.sr { (title) }
            thead { tr {
                th scope="col" { (l.t("recurring-who")) }
                th scope="col" { (l.t("recurring-months")) }
                th scope="col" { (l.t("recurring-average")) }
            } }
            tbody {
                @for r in rows {
                    tr { td { (r.label) } td { (l.number(i64::from(r.months))) } td { (l.money(r.average, &r.currency)) } }
                }
            }
        }
    };
    figure(l, id, title, picture, &caption, Some(table))
}

/// One row of a grant's picture: a field the person keeps (or the grant names), and whether
/// the grant lets its program read it.
#[derive(Debug, Clone, PartialEq)]
pub struct GridRow {
    pub collection: String,
    /// The field as the person reads it (`fields::label`).
    pub field: String,
    pub granted: bool,
}

/// Whether the window `[since, until)` (either end open) overlaps the month starting at
/// `frame[i]`.
fn window_covers(frame: &[i64], i: usize, since: Option<i64>, until: Option<i64>) -> bool {
    let start = frame[i];
    let end = frame.get(i + 1).copied().unwrap_or_else(|| {
        let (y, m, _) = insitu_formats::time::civil_from_days(start.div_euclid(86_400_000));
        if m == 12 {
            month_start(y + 1, 1)
        } else {
            month_start(y, m + 1)
        }
    });
    since.is_none_or(|s| s < end) && until.is_none_or(|u| u > start)
}

/// What a grant can see, drawn against everything the person keeps: a row per field (of every
/// collection they hold, and of those the grant names), a column per month of `frame`; a cell
/// is dark where the grant can read that field in that month, pale where it cannot. The
/// caption says what it can see, for which months, and what it cannot.
pub fn grant_grid(
    l: &L10n,
    id: &str,
    title: &str,
    rows: &[GridRow],
    frame: &[i64],
    window: (Option<i64>, Option<i64>),
) -> Markup {
    if rows.is_empty() || frame.is_empty() {
        return no_data(l, title);
    }
    // Collections in order of first appearance, each with its shared and kept fields.
    let mut by_collection: Vec<(&str, Vec<&str>, Vec<&str>)> = Vec::new();
    for r in rows {
        let at = match by_collection
            .iter()
            .position(|(c, _, _)| *c == r.collection)
        {
            Some(i) => i,
            None => {
                by_collection.push((&r.collection, vec![], vec![]));
                by_collection.len() - 1
            }
        };
        let entry = &mut by_collection[at];
        if r.granted {
            entry.1.push(&r.field)
        } else {
            entry.2.push(&r.field)
        }
    }
    let list = |shared: bool| -> Vec<String> {
        by_collection
            .iter()
            .filter_map(|(c, yes, no)| {
                let (these, others) = if shared { (yes, no) } else { (no, yes) };
                match (these.is_empty(), others.is_empty()) {
                    (true, _) => None,
                    (false, true) => {
                        Some(l.ta("grant-whole-collection", &[("collection", (*c).into())]))
                    }
                    (false, false) => Some(format!("{c}: {}", these.join(", "))),
                }
            })
            .collect()
    };
    let (shared, kept) = (list(true), list(false));
    // A window opened before the frame (or a saturated "all time") reads as "from the start".
    let since = window.0.filter(|s| *s > frame[0]);
    let until = window.1.filter(|u| *u < i64::MAX / 2);
    let months = match (since, until) {
        (None, None) => l.t("grant-months-all"),
        (Some(s), None) => l.ta(
            "grant-months-since",
            &[("from", l.month(s).as_str().into())],
        ),
        (s, Some(u)) => l.ta(
            "grant-months-between",
            &[
                (
                    "from",
                    s.map_or_else(|| l.t("grant-months-start"), |s| l.month(s))
                        .as_str()
                        .into(),
                ),
                ("until", l.month(u - 1).as_str().into()),
            ],
        ),
    };
    let mut caption = l.ta(
        "grant-sees",
        &[
            ("what", shared.join("; ").as_str().into()),
            ("months", months.as_str().into()),
        ],
    );
    if shared.is_empty() {
        caption = l.t("grant-sees-nothing");
    }
    if !kept.is_empty() {
        caption.push(' ');
        caption.push_str(&l.ta("grant-kept", &[("what", kept.join("; ").as_str().into())]));
    }
    let (label_w, head, row_h, foot) = (210i32, 22i32, 18i32, 30i32);
    let cell_w = (WIDTH as i32 - label_w - 8) / frame.len() as i32;
    let h = (head + rows.len() as i32 * row_h + foot) as u32;
    let step = (frame.len() / 4).max(1);
    let picture = svg(id, title, WIDTH, h, |root| {
        for (c, m) in frame.iter().enumerate() {
            if c % step == 0 {
                root.draw(&Text::new(
                    l.month(*m),
                    (label_w + c as i32 * cell_w, 3),
                    font(13),
                ))?;
            }
        }
        for (r, row) in rows.iter().enumerate() {
            let y = head + r as i32 * row_h;
            let label = clip(&format!("{}: {}", row.collection, row.field), 30);
            root.draw(&Text::new(label, (4, y + 2), font(13)))?;
            for c in 0..frame.len() {
                let x = label_w + c as i32 * cell_w;
                let seen = row.granted && window_covers(frame, c, window.0, window.1);
                let colour = if seen { BLUE } else { LIGHT };
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell_w - 1, y + row_h - 2)],
                    colour.filled(),
                ))?;
            }
        }
        let y = head + rows.len() as i32 * row_h + 10;
        root.draw(&Rectangle::new(
            [(label_w, y), (label_w + 14, y + 14)],
            BLUE.filled(),
        ))?;
        root.draw(&Text::new(
            l.t("grant-legend-shared"),
            (label_w + 20, y),
            font(13),
        ))?;
        root.draw(&Rectangle::new(
            [(label_w + 170, y), (label_w + 184, y + 14)],
            LIGHT.filled(),
        ))?;
        root.draw(&Text::new(
            l.t("grant-legend-kept"),
            (label_w + 190, y),
            font(13),
        ))?;
        Ok(())
    });
    figure(l, id, title, picture, &caption, None)
}

/// What an entry of the access history was, for its mark on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    RunSucceeded,
    RunFailed,
    Asked,
    Granted,
    Revoked,
    Imported,
    Other,
}

impl Mark {
    const ALL: [Mark; 7] = [
        Mark::RunSucceeded,
        Mark::RunFailed,
        Mark::Asked,
        Mark::Granted,
        Mark::Revoked,
        Mark::Imported,
        Mark::Other,
    ];

    fn key(self) -> &'static str {
        match self {
            Mark::RunSucceeded => "timeline-run-ok",
            Mark::RunFailed => "timeline-run-failed",
            Mark::Asked => "timeline-asked",
            Mark::Granted => "timeline-granted",
            Mark::Revoked => "timeline-revoked",
            Mark::Imported => "timeline-imported",
            Mark::Other => "timeline-other",
        }
    }
}

/// One entry of the access history on the timeline: when, on whose line (who acted), and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at_ms: i64,
    pub who: String,
    pub mark: Mark,
}

fn draw_mark<'a>(area: &Area<'a>, mark: Mark, at: (i32, i32)) -> Drawn {
    let (x, y) = at;
    match mark {
        Mark::RunSucceeded => area.draw(&Circle::new(at, 6, BLUE.filled()))?,
        Mark::RunFailed => area.draw(&Cross::new(at, 6, RED.stroke_width(3)))?,
        Mark::Asked => area.draw(&TriangleMarker::new(at, 7, ORANGE.filled()))?,
        Mark::Granted => area.draw(&Rectangle::new(
            [(x - 5, y - 5), (x + 5, y + 5)],
            GREEN.filled(),
        ))?,
        Mark::Revoked => area.draw(&Rectangle::new(
            [(x - 5, y - 5), (x + 5, y + 5)],
            RED.stroke_width(2),
        ))?,
        Mark::Imported => area.draw(&Circle::new(at, 5, INK.stroke_width(2)))?,
        Mark::Other => area.draw(&Circle::new(at, 3, INK.filled()))?,
    }
    Ok(())
}

/// The access history as a timeline: a line per party who acted (the person themself, each
/// organisation that asked or ran), each entry a mark at its time, its shape and colour saying
/// what it was (a legend below). The caption counts each kind and names who ran programs.
pub fn timeline(l: &L10n, id: &str, title: &str, events: &[Event]) -> Markup {
    if events.is_empty() {
        return no_data(l, title);
    }
    let mut lanes: Vec<&str> = Vec::new();
    for e in events {
        if !lanes.contains(&e.who.as_str()) {
            lanes.push(&e.who);
        }
    }
    let first = events.iter().map(|e| e.at_ms).min().unwrap_or(0);
    let last = events.iter().map(|e| e.at_ms).max().unwrap_or(0);
    // A twentieth of the span either side (a minute at least), so that a mark at either end
    // is not cut and one moment still spans; within two days, the axis and the caption say
    // the time of day, else the day.
    let pad = ((last - first) / 20).max(60_000);
    let (from, until) = (first - pad, last + pad);
    let short = last - first < 2 * 86_400_000;
    let when = |ms: i64| if short { l.instant(ms) } else { l.date(ms) };
    let tick = |ms: i64| {
        if short {
            // The time of day of the language's instant (`4:09 PM UTC`, `16:09 UTC`).
            let i = l.instant(ms);
            i.rsplit(", ").next().unwrap_or(&i).to_string()
        } else {
            l.date(ms)
        }
    };
    let count = |m: Mark| events.iter().filter(|e| e.mark == m).count() as i64;
    let runners: Vec<&str> = lanes
        .iter()
        .copied()
        .filter(|w| {
            events
                .iter()
                .any(|e| e.who == *w && matches!(e.mark, Mark::RunSucceeded | Mark::RunFailed))
        })
        .collect();
    let caption = l.ta(
        "timeline-summary",
        &[
            ("from", when(first).as_str().into()),
            ("until", when(last).as_str().into()),
            (
                "runs",
                Arg::Count(count(Mark::RunSucceeded) + count(Mark::RunFailed)),
            ),
            ("failed", Arg::Count(count(Mark::RunFailed))),
            ("runners", runners.join(", ").as_str().into()),
            ("asked", Arg::Count(count(Mark::Asked))),
            ("granted", Arg::Count(count(Mark::Granted))),
            ("revoked", Arg::Count(count(Mark::Revoked))),
            ("imported", Arg::Count(count(Mark::Imported))),
        ],
    );
    let lane_h = 34;
    let legend_h = 54;
    let h = (lanes.len() as u32 * lane_h + 40 + legend_h).max(150);
    let label_w = lanes
        .iter()
        .map(|w| clip(w, 18).chars().count())
        .max()
        .unwrap_or(4) as u32
        * 8
        + 16;
    let picture = svg(id, title, WIDTH, h, |root| {
        let (plot, legend) = root.split_vertically(h - legend_h);
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            // Room for the last date, centred on the right edge.
            .margin_right(48)
            .x_label_area_size(26)
            .y_label_area_size(label_w.clamp(60, 170))
            .build_cartesian_2d(from..until, categories(lanes.len()))?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RULE)
            .axis_style(INK)
            .x_labels(4)
            .x_label_formatter(&|ms| tick(*ms))
            .set_tick_mark_size(LabelAreaPosition::Left, 6)
            .y_labels(2 * lanes.len() + 1)
            .y_label_formatter(&|v| {
                category(*v)
                    .and_then(|i| lanes.get(i))
                    .map(|w| clip(w, 18))
                    .unwrap_or_default()
            })
            .label_style(font(13))
            .draw()?;
        for e in events {
            let lane = lanes.iter().position(|w| *w == e.who).unwrap_or(0) as i32;
            let at = chart.backend_coord(&(e.at_ms, SLOT * lane));
            draw_mark(&plot, e.mark, at)?;
        }
        // The legend: only the kinds present, in a fixed order.
        let shown: Vec<Mark> = Mark::ALL.into_iter().filter(|m| count(*m) > 0).collect();
        for (i, m) in shown.iter().enumerate() {
            let (col, row) = ((i % 3) as i32, (i / 3) as i32);
            let (x, y) = (12 + col * 180, 10 + row * 22);
            draw_mark(&legend, *m, (x, y + 7))?;
            legend.draw(&Text::new(l.t(m.key()), (x + 12, y), font(13)))?;
        }
        Ok(())
    });
    figure(l, id, title, picture, &caption, None)
}

/// A released count as the organisation sees it: about `n`, fewer than `k`, or withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    About(i64),
    FewerThan(i64),
    Withheld,
}

impl Shown {
    fn text(self, l: &L10n) -> String {
        match self {
            Shown::About(n) => l.ta("campaign-about", &[("count", Arg::Count(n))]),
            Shown::FewerThan(k) => l.ta("campaign-fewer", &[("count", Arg::Count(k))]),
            Shown::Withheld => l.t("campaign-withheld"),
        }
    }
}

/// A campaign on the organisation's picture: what it is, when its counts were (or will be)
/// released, and the counts once released (`None` before).
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub label: String,
    pub release_ms: i64,
    pub counts: Option<(Shown, Shown, i64)>,
}

/// An organisation's campaigns by release time: for each released one, bars for the members
/// scanned, matched and accepted (a "fewer than k" count as an outlined bar up to k); one not
/// released yet shows its release date only. Everything drawn is what the campaigns table
/// already shows the organisation: thresholded noisy counts and release times.
pub fn campaigns(l: &L10n, id: &str, title: &str, rows: &[Campaign]) -> Markup {
    if rows.is_empty() {
        return no_data(l, title);
    }
    let released = rows.iter().filter(|c| c.counts.is_some()).count() as i64;
    let caption = l.ta(
        "campaigns-summary",
        &[
            ("count", Arg::Count(rows.len() as i64)),
            ("released", Arg::Count(released)),
        ],
    );
    let value = |s: Shown| match s {
        Shown::About(n) => n.max(0),
        Shown::FewerThan(k) => k,
        Shown::Withheld => 0,
    };
    let max = rows
        .iter()
        .filter_map(|c| c.counts)
        .map(|(s, m, a)| value(s).max(value(m)).max(a))
        .max()
        .unwrap_or(0)
        .max(1);
    let colours = [BLUE, ORANGE, GREEN];
    let picture = svg(id, title, WIDTH, 290, |root| {
        let (plot, legend) = root.split_vertically(260);
        let mut chart = ChartBuilder::on(&plot)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(50)
            .build_cartesian_2d(categories(rows.len()), 0i64..max + max / 5 + 1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RULE)
            .axis_style(INK)
            .set_tick_mark_size(LabelAreaPosition::Bottom, 4)
            .x_labels(2 * rows.len() + 1)
            .x_label_formatter(&|v| {
                category(*v)
                    .and_then(|i| rows.get(i))
                    .map(|c| l.date(c.release_ms))
                    .unwrap_or_default()
            })
            .y_labels(5)
            .y_label_formatter(&|v| l.number(*v))
            .label_style(font(13))
            .draw()?;
        for (i, c) in rows.iter().enumerate() {
            let Some((scanned, matched, accepted)) = c.counts else {
                continue;
            };
            // Three bars side by side over the middle four fifths of the campaign's slot.
            let centre = SLOT * i as i32;
            let (left, right) = (
                chart.backend_coord(&(centre - SLOT * 2 / 5, 0)),
                chart.backend_coord(&(centre + SLOT * 2 / 5, 0)),
            );
            let slot = (right.0 - left.0) / 3;
            for (j, s) in [scanned, matched, Shown::About(accepted)]
                .iter()
                .enumerate()
            {
                let x0 = left.0 + j as i32 * slot;
                let top = chart.backend_coord(&(centre, value(*s))).1;
                let style = match s {
                    Shown::FewerThan(_) => colours[j].stroke_width(2),
                    _ => colours[j].filled(),
                };
                if !matches!(s, Shown::Withheld) {
                    plot.draw(&Rectangle::new(
                        [(x0 + 1, top), (x0 + slot - 2, left.1)],
                        style,
                    ))?;
                }
            }
        }
        for (j, key) in ["campaign-scanned", "campaign-matched", "campaign-accepted"]
            .iter()
            .enumerate()
        {
            let x = 60 + j as i32 * 160;
            legend.draw(&Rectangle::new([(x, 8), (x + 14, 22)], colours[j].filled()))?;
            legend.draw(&Text::new(l.t(key), (x + 20, 8), font(13)))?;
        }
        Ok(())
    });
    let table = html! {
        table {
            caption.sr { (title) }
            thead { tr {
                th scope="col" { (l.t("campaign")) }
                th scope="col" { (l.t("campaign-release")) }
                th scope="col" { (l.t("campaign-scanned")) }
                th scope="col" { (l.t("campaign-matched")) }
                th scope="col" { (l.t("campaign-accepted")) }
            } }
            tbody {
                @for c in rows {
                    tr {
                        td { (c.label) }
                        td { (l.date(c.release_ms)) }
                        @match c.counts {
                            Some((s, m, a)) => { td { (s.text(l)) } td { (m.text(l)) } td { (l.number(a)) } }
                            None => { td colspan="3" { (l.t("campaign-not-released")) } }
                        }
                    }
                }
            }
        }
    };
    figure(l, id, title, picture, &caption, Some(table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::locale::Lang;

    const FR: L10n = L10n { lang: Lang::Fr };
    const EN: L10n = L10n { lang: Lang::En };

    fn frame() -> Vec<i64> {
        months(month_start(2026, 11) + 5 * 86_400_000, 24)
    }

    #[test]
    fn the_frame_is_the_last_two_years_this_month_last_and_records_fall_in_their_month() {
        let f = frame();
        assert_eq!(f.len(), 24);
        assert_eq!(f[0], month_start(2024, 12));
        assert_eq!(f[23], month_start(2026, 11));
        assert_eq!(month_index(&f, month_start(2025, 3) + 10), Some(3));
        assert_eq!(month_index(&f, month_start(2024, 12) - 1), None);
        assert_eq!(month_index(&f, month_start(2026, 12)), None);
        assert_eq!(month_index(&f, month_start(2026, 12) - 1), Some(23));
    }

    #[test]
    fn amounts_are_summed_by_month_and_currency_the_largest_first() {
        let f = frame();
        let amounts = [
            (f[0] + 1, 500, "EUR"),
            (f[0] + 2, 700, "EUR"),
            (f[23] + 9, 100, "EUR"),
            (f[5], 9_000, "CHF"),
            (f[0] - 1, 1_000_000, "EUR"),
        ];
        let s = by_month(&f, amounts.into_iter());
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].0, "CHF");
        assert_eq!((s[1].1[0], s[1].1[23]), ((f[0], 1_200), (f[23], 100)));
        assert_eq!(
            s[1].1.iter().map(|(_, v)| v).sum::<i64>(),
            1_300,
            "outside the frame: left out"
        );
    }

    #[test]
    fn monthly_bars_draw_each_month_and_their_text_says_the_figures_in_the_language() {
        let f = frame();
        let values: Vec<(i64, i64)> = f
            .iter()
            .enumerate()
            .map(|(i, m)| (*m, (i as i64 + 1) * 10_000))
            .collect();
        let en = month_bars(&EN, "spending", "Spending", &values, "EUR").into_string();
        assert!(
            en.contains("role=\"img\"") && en.contains("aria-labelledby=\"spending-title\""),
            "{en}"
        );
        assert!(
            en.contains("<title id=\"spending-title\">Spending</title>"),
            "{en}"
        );
        // The background and 24 bars, one per month.
        assert_eq!(en.matches("<rect").count(), 1 + 24, "{en}");
        assert!(
            en.contains("€30,000.00 in all over 24 months"),
            "the total: {en}"
        );
        assert!(
            en.contains("the most in Nov 2026: €2,400.00"),
            "the highest month: {en}"
        );
        // Every month in the table.
        assert!(en.contains("<td>Dec 2024</td><td>€100.00</td>"), "{en}");
        let fr = month_bars(&FR, "spending", "Dépenses", &values, "EUR").into_string();
        assert!(
            fr.contains("30\u{202f}000,00\u{a0}€ en tout") && fr.contains("nov. 2026"),
            "{fr}"
        );
        assert!(
            fr.contains("<td>déc. 2024</td><td>100,00\u{a0}€</td>"),
            "{fr}"
        );
    }

    #[test]
    fn an_empty_series_says_no_data_yet_instead_of_drawing() {
        for (l, words) in [(EN, "No data yet"), (FR, "Pas encore de données")] {
            let empty = month_bars(&l, "x", "T", &[], "EUR").into_string();
            assert!(empty.contains(words) && !empty.contains("<svg"), "{empty}");
            let zeros = month_bars(&l, "x", "T", &[(frame()[0], 0)], "EUR").into_string();
            assert!(zeros.contains(words), "{zeros}");
            assert!(timeline(&l, "t", "T", &[]).into_string().contains(words));
            assert!(campaigns(&l, "c", "T", &[]).into_string().contains(words));
            assert!(
                grant_grid(&l, "g", "T", &[], &frame(), (None, None))
                    .into_string()
                    .contains(words)
            );
            assert!(!recurring(&l, "r", "T", &[]).into_string().contains("<svg"));
        }
    }

    #[test]
    fn text_in_a_picture_is_escaped() {
        let rows = [Recurring {
            label: "<script>alert(1)</script> & co".into(),
            months: 12,
            average: 4_500,
            currency: "EUR".into(),
        }];
        let html = recurring(&EN, "r", "Charges", &rows).into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        let events = [Event {
            at_ms: 0,
            who: "<b>org</b>".into(),
            mark: Mark::Asked,
        }];
        let html = timeline(&EN, "t", "History", &events).into_string();
        assert!(!html.contains("<b>org"), "{html}");
    }

    #[test]
    fn recurring_charges_name_each_payee_its_months_and_average() {
        let rows = [
            Recurring {
                label: "EDF".into(),
                months: 23,
                average: 6_250,
                currency: "EUR".into(),
            },
            Recurring {
                label: "Agence Dupont".into(),
                months: 12,
                average: 4_500,
                currency: "EUR".into(),
            },
        ];
        let en = recurring(&EN, "r", "Charges", &rows).into_string();
        assert!(
            en.contains(">\nEDF\n</text>"),
            "the payee in the picture: {en}"
        );
        assert!(en.contains("€62.50 a month, 23 months"), "{en}");
        assert!(en.contains("2 charges come back most months"), "{en}");
        let fr = recurring(&FR, "r", "Prélèvements", &rows).into_string();
        assert!(fr.contains("62,50\u{a0}€ par mois, 23 mois"), "{fr}");
    }

    #[test]
    fn a_grant_grid_darkens_only_the_granted_fields_in_the_granted_months() {
        let f = frame();
        let rows = [
            GridRow {
                collection: "bank.transactions".into(),
                field: "amount".into(),
                granted: true,
            },
            GridRow {
                collection: "bank.transactions".into(),
                field: "counterparty".into(),
                granted: false,
            },
            GridRow {
                collection: "receipts.items".into(),
                field: "total".into(),
                granted: false,
            },
        ];
        // Granted from the 13th month of the frame on.
        let html = grant_grid(&EN, "g1", "Grant 1", &rows, &f, (Some(f[12]), None)).into_string();
        let dark = html.matches("fill=\"#0B4F9C\"").count();
        // 12 months of one field, and the legend's swatch.
        assert_eq!(dark, 12 + 1, "{html}");
        assert!(
            html.contains("Can see bank.transactions: amount, from Dec 2025."),
            "{html}"
        );
        assert!(
            html.contains(
                "Kept from it: bank.transactions: counterparty; receipts.items (all its fields)."
            ),
            "{html}"
        );
        let all = grant_grid(&FR, "g1", "Grant 1", &rows, &f, (None, None)).into_string();
        assert_eq!(all.matches("fill=\"#0B4F9C\"").count(), 24 + 1);
        assert!(all.contains("tous les mois"), "{all}");
    }

    #[test]
    fn the_timeline_puts_each_party_on_its_line_and_counts_what_happened() {
        let day = 86_400_000;
        let events = [
            Event {
                at_ms: 10 * day,
                who: "you".into(),
                mark: Mark::Imported,
            },
            Event {
                at_ms: 11 * day,
                who: "UFC".into(),
                mark: Mark::Asked,
            },
            Event {
                at_ms: 12 * day,
                who: "you".into(),
                mark: Mark::Granted,
            },
            Event {
                at_ms: 13 * day,
                who: "UFC".into(),
                mark: Mark::RunSucceeded,
            },
            Event {
                at_ms: 14 * day,
                who: "UFC".into(),
                mark: Mark::RunFailed,
            },
            Event {
                at_ms: 15 * day,
                who: "you".into(),
                mark: Mark::Revoked,
            },
        ];
        let en = timeline(&EN, "timeline", "History", &events).into_string();
        assert!(
            en.contains(">\nUFC\n</text>") && en.contains(">\nyou\n</text>"),
            "{en}"
        );
        assert!(en.contains("2 runs (1 failed) by UFC"), "{en}");
        assert!(
            en.contains("Jan 11, 1970") && en.contains("Jan 16, 1970"),
            "{en}"
        );
        // The marks: one circle for the success, a cross's two strokes for the failure.
        assert!(en.contains("<circle"), "{en}");
        // Within two days, the axis and the caption say the time of day.
        let close = [
            Event {
                at_ms: 10 * day + 3_600_000,
                who: "UFC".into(),
                mark: Mark::Asked,
            },
            Event {
                at_ms: 10 * day + 5_400_000,
                who: "you".into(),
                mark: Mark::Granted,
            },
        ];
        let short = timeline(&FR, "t", "Historique", &close).into_string();
        assert!(
            short.contains("Du 11 janv. 1970, 01:00 UTC au 11 janv. 1970, 01:30 UTC"),
            "{short}"
        );
        assert!(short.contains("\n01:06 UTC\n</text>"), "{short}");
        let fr = timeline(&FR, "timeline", "Historique", &events).into_string();
        assert!(fr.contains("2 exécutions (1 en échec) par UFC"), "{fr}");
        assert!(fr.contains("11 janv. 1970"), "{fr}");
    }

    #[test]
    fn the_campaigns_picture_draws_released_counts_and_says_what_is_not_released() {
        let rows = [
            Campaign {
                label: "fees".into(),
                release_ms: 0,
                counts: Some((Shown::About(40), Shown::FewerThan(5), 2)),
            },
            Campaign {
                label: "shelf prices".into(),
                release_ms: 86_400_000,
                counts: None,
            },
        ];
        let en = campaigns(&EN, "c", "Campaigns", &rows).into_string();
        assert!(
            en.contains("about 40") && en.contains("fewer than 5"),
            "{en}"
        );
        assert!(en.contains("not released yet"), "{en}");
        assert!(en.contains("2 campaigns, 1 released"), "{en}");
        // The outlined "fewer than" bar.
        assert!(en.contains("fill=\"none\""), "{en}");
    }
}
