//! The pages' language: which one a visitor gets, their messages, and numbers, money and dates
//! written their way.
//!
//! - **Which language.** The `insitu_lang` cookie that the switch on every page sets (`/language/
//!   {fr,en}`), else the first of French or English in the browser's `Accept-Language` (by its
//!   `q` weights), else English. A French browser asks for `fr`, so a French person gets French;
//!   the fallback only reaches a visitor whose browser names neither language, and English is
//!   the likelier of the two for them to read. The choice lives in a cookie, so it works signed
//!   out (the sign-in page is the first one a person sees); signed in, the switch also keeps it
//!   on the account (`AccountStore::set_language`), and signing in sets the cookie from it, so
//!   the account's language follows the person to another browser.
//! - **Messages** come from the Fluent catalogues in `crates/server/locales/{fr,en}/*.ftl`,
//!   compiled into the binary. A key missing from the visitor's catalogue shows the key and is
//!   recorded ([`missing_messages`]), so the page walk in the tests turns red on it.
//! - **Numbers, money and dates** through ICU4X's compiled CLDR data: `1 234,56 €` and
//!   `5 janv. 2099` in French, `€1,234.56` and `Jan 5, 2099` in English, with each currency's own
//!   digits (`insitu_formats::money::exponent`: JPY 0, EUR 2, KWD 3). ICU4X's currency formatter
//!   is still in `icu_experimental`; the symbol and its side are [`money`]'s own small table.
//!
//! The language of the request being answered is a task-local set by [`scope`], the pages'
//! outermost layer, so an error page rendered from any handler or extractor speaks it too.
//!
//! May touch: the request's headers (to choose), nothing in the store.

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::middleware::Next;
use axum::response::Response;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use icu_calendar::{Date, Gregorian};
use icu_datetime::FixedCalendarDateTimeFormatter;
use icu_datetime::fieldsets::{YM, YMD};
use icu_datetime::input::{DateTime, Time};
use icu_decimal::DecimalFormatter;
use maud::{Markup, html};

/// The cookie the language switch sets.
pub const COOKIE_NAME: &str = "insitu_lang";

/// The languages the pages speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    /// The BCP 47 tag, as in `<html lang>` and the switch's paths.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    fn index(self) -> usize {
        match self {
            Lang::Fr => 0,
            Lang::En => 1,
        }
    }

    /// The language for a request: the switch's cookie, else `Accept-Language`, else English.
    pub fn negotiate(headers: &HeaderMap) -> Lang {
        let cookie = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("insitu_lang="))
            .and_then(Lang::from_tag);
        cookie
            .or_else(|| {
                headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(from_accept_language)
            })
            .unwrap_or(Lang::En)
    }
}

/// The first of French or English by weight in an `Accept-Language` value (`fr-CH, en;q=0.8`);
/// a language at `q=0` is refused, not chosen.
fn from_accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(u16, Lang)> = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::from_tag) else {
            continue;
        };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .map_or(1000, |q| {
                q.trim()
                    .parse::<f32>()
                    .map_or(0, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
            });
        if q > 0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

/// What a page needs to know of the request it answers.
#[derive(Debug, Clone)]
pub struct Context {
    pub lang: Lang,
    /// The path (and query) shown, for the language switch to come back to.
    pub path: String,
}

tokio::task_local! {
    static CONTEXT: Context;
}

/// The pages' outermost layer: chooses the language and keeps it for the request.
pub async fn scope(req: Request, next: Next) -> Response {
    let lang = Lang::negotiate(req.headers());
    let path = req
        .uri()
        .path_and_query()
        .map_or("/".to_string(), |p| p.as_str().to_string());
    // After a form's POST the switch should lead to a page that can be opened again.
    let path = if req.method() == axum::http::Method::GET {
        path
    } else {
        "/".to_string()
    };
    CONTEXT.scope(Context { lang, path }, next.run(req)).await
}

/// The request's context; outside [`scope`] (a test, a background task), English at `/`.
pub fn context() -> Context {
    CONTEXT.try_with(Clone::clone).unwrap_or(Context {
        lang: Lang::En,
        path: "/".into(),
    })
}

/// The catalogues, in [`Lang::index`] order: each language's files, concatenated.
pub const CATALOGUES: [(Lang, &[&str]); 2] = [
    (
        Lang::Fr,
        &[
            include_str!("../../locales/fr/common.ftl"),
            include_str!("../../locales/fr/person.ftl"),
            include_str!("../../locales/fr/organisation.ftl"),
            include_str!("../../locales/fr/consent.ftl"),
            include_str!("../../locales/fr/charts.ftl"),
            include_str!("../../locales/fr/history.ftl"),
            include_str!("../../locales/fr/codesign.ftl"),
            include_str!("../../locales/fr/errors.ftl"),
            include_str!("../../locales/fr/fields.ftl"),
            include_str!("../../locales/fr/imports.ftl"),
            include_str!("../../locales/fr/collections.ftl"),
        ],
    ),
    (
        Lang::En,
        &[
            include_str!("../../locales/en/common.ftl"),
            include_str!("../../locales/en/person.ftl"),
            include_str!("../../locales/en/organisation.ftl"),
            include_str!("../../locales/en/consent.ftl"),
            include_str!("../../locales/en/charts.ftl"),
            include_str!("../../locales/en/history.ftl"),
            include_str!("../../locales/en/codesign.ftl"),
            include_str!("../../locales/en/errors.ftl"),
            include_str!("../../locales/en/fields.ftl"),
            include_str!("../../locales/en/imports.ftl"),
            include_str!("../../locales/en/collections.ftl"),
        ],
    ),
];

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static [Bundle; 2] {
    static BUNDLES: OnceLock<[Bundle; 2]> = OnceLock::new();
    BUNDLES.get_or_init(|| CATALOGUES.map(|(lang, files)| bundle(lang, files)))
}

fn bundle(lang: Lang, files: &[&str]) -> Bundle {
    let id: unic_langid::LanguageIdentifier = lang.tag().parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: the pages are left to right, and the marks
    // would sit inside every name and number.
    b.set_use_isolating(false);
    // Counts in messages are grouped the language's way too (`12 345`, `12,345`).
    b.set_formatter(Some(match lang {
        Lang::Fr => |v, _| count(Lang::Fr, v),
        Lang::En => |v, _| count(Lang::En, v),
    }));
    for text in files {
        let resource = FluentResource::try_new(text.to_string()).unwrap_or_else(|(r, errors)| {
            record(format!("{}: catalogue syntax: {errors:?}", lang.tag()));
            r
        });
        if let Err(errors) = b.add_resource(resource) {
            record(format!("{}: duplicate messages: {errors:?}", lang.tag()));
        }
    }
    b
}

/// An integral count in a message, grouped; other values as Fluent writes them.
fn count(lang: Lang, value: &FluentValue) -> Option<String> {
    match value {
        FluentValue::Number(n) if n.value.fract() == 0.0 && n.value.abs() < 1e15 => {
            Some(L10n { lang }.number(n.value as i64))
        }
        _ => None,
    }
}

fn misses() -> &'static Mutex<BTreeSet<String>> {
    static MISSES: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    MISSES.get_or_init(Default::default)
}

fn record(what: String) {
    tracing::error!(%what, "a page message is missing or broken");
    if let Ok(mut m) = misses().lock() {
        m.insert(what);
    }
}

/// Every message a page asked for and a catalogue lacked (or could not format) since the process
/// started: empty in a correct build.
pub fn missing_messages() -> Vec<String> {
    misses()
        .lock()
        .map(|m| m.iter().cloned().collect())
        .unwrap_or_default()
}

/// The message ids of `lang`'s catalogue.
pub fn keys(lang: Lang) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for text in CATALOGUES[lang.index()].1 {
        let resource = match FluentResource::try_new(text.to_string()) {
            Ok(r) | Err((r, _)) => r,
        };
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(m) = entry {
                out.insert(m.id.name.to_string());
            }
        }
    }
    out
}

/// An argument of a message: text (already formatted, escaped by the template that shows the
/// message) or a count (which chooses a plural form).
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Text(&'a str),
    Count(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Text(s)
    }
}

/// An argument kept for later, owned: an error's, said when its page is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    Text(String),
    Count(i64),
}

impl Owned {
    pub fn arg(&self) -> Arg<'_> {
        match self {
            Owned::Text(s) => Arg::Text(s),
            Owned::Count(n) => Arg::Count(*n),
        }
    }
}

/// The messages and formats of one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L10n {
    pub lang: Lang,
}

impl L10n {
    /// The language of the request being answered.
    pub fn current() -> L10n {
        L10n {
            lang: context().lang,
        }
    }

    /// The message `key`, without arguments.
    pub fn t(&self, key: &str) -> String {
        self.ta(key, &[])
    }

    /// The message `key` with its arguments; a missing key shows itself and is recorded.
    pub fn ta(&self, key: &str, args: &[(&str, Arg)]) -> String {
        match self.try_ta(key, args) {
            Ok(text) => text,
            Err((text, what)) => {
                record(what);
                text
            }
        }
    }

    /// The message `key` as markup, with each of `parts` (a name the file or an organisation
    /// wrote, already as markup: see [`super::fields::verbatim`]) put in place of its argument
    /// after the sentence is formatted, so that a part keeps its own markup inside the escaped
    /// sentence; the other arguments as in [`L10n::ta`].
    pub fn ta_markup(&self, key: &str, args: &[(&str, Arg)], parts: &[(&str, Markup)]) -> Markup {
        // Each part's place is held by a private-use mark around its index, and no argument
        // holds such a mark: its own text is never in `args`.
        const MARK: char = '\u{e000}';
        let marks: Vec<String> = (0..parts.len())
            .map(|i| format!("{MARK}{i}{MARK}"))
            .collect();
        let mut all: Vec<(&str, Arg)> = args.to_vec();
        all.extend(
            parts
                .iter()
                .zip(&marks)
                .map(|((name, _), mark)| (*name, Arg::Text(mark))),
        );
        let text = self.ta(key, &all);
        html! {
            @for (i, piece) in text.split(MARK).enumerate() {
                @match (i % 2, piece.parse::<usize>().ok().and_then(|n| parts.get(n))) {
                    (1, Some((_, part))) => (part),
                    _ => (piece),
                }
            }
        }
    }

    /// [`L10n::ta`], saying what went wrong instead of recording it: `Err` holds the text as
    /// [`L10n::ta`] would show it (the key, for a missing message) and why.
    pub fn try_ta(&self, key: &str, args: &[(&str, Arg)]) -> Result<String, (String, String)> {
        let bundle = &bundles()[self.lang.index()];
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            let what = format!("{}: no message `{key}`", self.lang.tag());
            return Err((key.to_string(), what));
        };
        let mut fargs = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(s) => fargs.set(*name, FluentValue::from(*s)),
                Arg::Count(n) => fargs.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = vec![];
        let text = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
        if errors.is_empty() {
            Ok(text.into_owned())
        } else {
            let what = format!("{}: `{key}`: {errors:?}", self.lang.tag());
            Err((text.into_owned(), what))
        }
    }

    /// The label of field `field` of collection `collection` in this language: the message
    /// `field-<collection>-<field>` (the collection's dots as `-`) when a name means something
    /// else in that collection, else `field-<field>`; `None` for a field no catalogue names
    /// (a CSV's own header), which is shown as it is ([`super::fields`]).
    pub fn field_label(&self, collection: &str, field: &str) -> Option<String> {
        let bundle = &bundles()[self.lang.index()];
        let specific = format!("field-{}-{field}", collection.replace('.', "-"));
        [specific, format!("field-{field}")]
            .iter()
            .find(|k| bundle.has_message(k))
            .map(|k| self.t(k))
    }

    /// The name of collection `collection` in this language: the message
    /// `collection-<collection>` (its dots as `-`); `None` for a collection no catalogue names
    /// (an organisation's own), which is shown as it is ([`super::collections`]).
    pub fn collection_label(&self, collection: &str) -> Option<String> {
        let key = format!("collection-{}", collection.replace('.', "-"));
        bundles()[self.lang.index()]
            .has_message(&key)
            .then(|| self.t(&key))
    }

    fn locale(&self) -> icu_locale_core::Locale {
        match self.lang {
            Lang::Fr => icu_locale_core::locale!("fr"),
            Lang::En => icu_locale_core::locale!("en"),
        }
    }

    /// An integer with the language's grouping (`12 345`, `12,345`).
    pub fn number(&self, n: i64) -> String {
        self.decimal(fixed_decimal::Decimal::from(n))
    }

    /// A decimal number of `digits` places (`0,05`, `0.05`).
    pub fn fraction(&self, value: f64, digits: i16) -> String {
        let scaled = (value * 10f64.powi(i32::from(digits))).round() as i64;
        let mut d = fixed_decimal::Decimal::from(scaled);
        d.multiply_pow10(-digits);
        d.absolute.pad_end(-digits);
        self.decimal(d)
    }

    fn decimal(&self, d: fixed_decimal::Decimal) -> String {
        // ICU4X's formatters are not `Sync` without its `sync` feature: one set per thread.
        thread_local! {
            static FORMATTERS: [Option<DecimalFormatter>; 2] = Lang::ALL.map(|lang| {
                DecimalFormatter::try_new(L10n { lang }.locale().into(), Default::default())
                    .inspect_err(|e| record(format!("{}: decimal data: {e}", lang.tag())))
                    .ok()
            });
        }
        FORMATTERS.with(|f| match &f[self.lang.index()] {
            Some(f) => f.format(&d).to_string(),
            None => d.to_string(),
        })
    }

    /// Minor units of `currency` as money, with the currency's own digits: `1 234,56 €`,
    /// `€1,234.56`, `1 200 JPY`/`¥1,200`, `1,250 KWD`/`KWD 1.250`.
    pub fn money(&self, minor: i64, currency: &str) -> String {
        let digits = insitu_formats::money::exponent(currency) as i16;
        let mut d = fixed_decimal::Decimal::from(minor.unsigned_abs());
        d.multiply_pow10(-digits);
        d.absolute.pad_end(-digits);
        d.absolute.pad_start(1);
        let n = self.decimal(d);
        let sign = if minor < 0 { "-" } else { "" };
        // CLDR: French puts the symbol after a no-break space; English before, a code with a
        // no-break space.
        match (self.lang, currency) {
            (Lang::Fr, "EUR") => format!("{sign}{n}\u{a0}€"),
            (Lang::Fr, "USD") => format!("{sign}{n}\u{a0}$US"),
            (Lang::Fr, "GBP") => format!("{sign}{n}\u{a0}£GB"),
            (Lang::Fr, c) => format!("{sign}{n}\u{a0}{c}"),
            (Lang::En, "EUR") => format!("{sign}€{n}"),
            (Lang::En, "USD") => format!("{sign}${n}"),
            (Lang::En, "GBP") => format!("{sign}£{n}"),
            (Lang::En, "JPY") => format!("{sign}¥{n}"),
            (Lang::En, c) => format!("{sign}{c}\u{a0}{n}"),
        }
    }

    /// A day (UTC) the language's way: `5 janv. 2099`, `Jan 5, 2099`.
    pub fn date(&self, ms: i64) -> String {
        let (y, m, d) = insitu_formats::time::civil_from_days(ms.div_euclid(86_400_000));
        let Ok(date) = Date::try_new_gregorian(y as i32, m as u8, d as u8) else {
            return insitu_formats::time::format_date(ms);
        };
        thread_local! {
            static FORMATTERS: [Option<FixedCalendarDateTimeFormatter<Gregorian, YMD>>; 2] =
                Lang::ALL.map(|lang| {
                    FixedCalendarDateTimeFormatter::try_new(L10n { lang }.locale().into(), YMD::medium())
                        .inspect_err(|e| record(format!("{}: date data: {e}", lang.tag())))
                        .ok()
                });
        }
        FORMATTERS.with(|f| match &f[self.lang.index()] {
            Some(f) => f.format(&date).to_string(),
            None => insitu_formats::time::format_date(ms),
        })
    }

    /// The month (UTC) of `ms` the language's way, for the pictures' axes and tables:
    /// `janv. 2099`, `Jan 2099`.
    pub fn month(&self, ms: i64) -> String {
        let (y, m, _) = insitu_formats::time::civil_from_days(ms.div_euclid(86_400_000));
        let Ok(date) = Date::try_new_gregorian(y as i32, m as u8, 1) else {
            return format!("{y}-{m:02}");
        };
        thread_local! {
            static FORMATTERS: [Option<FixedCalendarDateTimeFormatter<Gregorian, YM>>; 2] =
                Lang::ALL.map(|lang| {
                    FixedCalendarDateTimeFormatter::try_new(L10n { lang }.locale().into(), YM::medium())
                        .inspect_err(|e| record(format!("{}: month data: {e}", lang.tag())))
                        .ok()
                });
        }
        FORMATTERS.with(|f| match &f[self.lang.index()] {
            Some(f) => f.format(&date).to_string(),
            None => format!("{y}-{m:02}"),
        })
    }

    /// A moment (UTC, to the minute) the language's way: `5 janv. 2099, 16:09`,
    /// `Jan 5, 2099, 4:09 PM`, followed by `UTC`.
    pub fn instant(&self, ms: i64) -> String {
        let (y, m, d) = insitu_formats::time::civil_from_days(ms.div_euclid(86_400_000));
        let rem = ms.rem_euclid(86_400_000);
        let (Ok(date), Ok(time)) = (
            Date::try_new_gregorian(y as i32, m as u8, d as u8),
            Time::try_new((rem / 3_600_000) as u8, (rem / 60_000 % 60) as u8, 0, 0),
        ) else {
            return insitu_formats::time::format_instant(ms);
        };
        match FixedCalendarDateTimeFormatter::<Gregorian, _>::try_new(
            self.locale().into(),
            YMD::medium().with_time_hm(),
        ) {
            Ok(f) => format!("{} UTC", f.format(&DateTime { date, time })),
            Err(e) => {
                record(format!("{}: time data: {e}", self.lang.tag()));
                insitu_formats::time::format_instant(ms)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_numbers_and_dates_are_written_each_languages_way() {
        let (fr, en) = (L10n { lang: Lang::Fr }, L10n { lang: Lang::En });
        // CLDR's French groups with a narrow no-break space and puts € after a no-break space.
        assert_eq!(fr.money(123_456, "EUR"), "1\u{202f}234,56\u{a0}€");
        assert_eq!(en.money(123_456, "EUR"), "€1,234.56");
        assert_eq!(en.money(-5, "EUR"), "-€0.05");
        assert_eq!(fr.money(1200, "JPY"), "1\u{202f}200\u{a0}JPY");
        assert_eq!(en.money(1200, "JPY"), "¥1,200");
        assert_eq!(en.money(1250, "KWD"), "KWD\u{a0}1.250");
        assert_eq!(en.money(300, "EUR"), "€3.00");
        assert_eq!(en.money(0, "EUR"), "€0.00");
        assert_eq!(fr.number(12_345), "12\u{202f}345");
        assert_eq!(
            fr.ta("invoice-movements", &[("count", Arg::Count(12_345))]),
            "12\u{202f}345 mouvements."
        );
        assert_eq!(en.fraction(0.5, 2), "0.50");
        let day = insitu_formats::time::days_from_civil(2099, 1, 5) * 86_400_000;
        assert_eq!(fr.date(day), "5 janv. 2099");
        assert_eq!(en.date(day), "Jan 5, 2099");
        assert_eq!(fr.month(day), "janv. 2099");
        assert_eq!(en.month(day), "Jan 2099");
        assert_eq!(
            fr.instant(day + 16 * 3_600_000 + 9 * 60_000),
            "5 janv. 2099, 16:09 UTC"
        );
    }

    #[test]
    fn the_language_is_the_switch_then_the_browser_then_english() {
        let headers = |pairs: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            h
        };
        assert_eq!(Lang::negotiate(&headers(&[])), Lang::En);
        assert_eq!(
            Lang::negotiate(&headers(&[("accept-language", "fr-FR,fr;q=0.9,en;q=0.8")])),
            Lang::Fr
        );
        assert_eq!(
            Lang::negotiate(&headers(&[("accept-language", "de, en;q=0.5, fr;q=0.7")])),
            Lang::Fr
        );
        assert_eq!(
            Lang::negotiate(&headers(&[("accept-language", "de, fr;q=0")])),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(&headers(&[
                ("accept-language", "fr"),
                ("cookie", "insitu_session=x; insitu_lang=en")
            ])),
            Lang::En
        );
    }

    /// The string literals in the pages' source that name a message: shaped like a key
    /// (`words-joined-by-hyphens`) and not an attribute's value (`id="erase-password"`).
    fn keys_in_source() -> BTreeSet<String> {
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/pages"
        ))];
        let mut files = Vec::new();
        // The pages' modules, those in subdirectories (`codesign/forms.rs`) too.
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        let mut keys = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(file).unwrap();
            // The pages' code, not their tests.
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            for (i, _) in text.match_indices('"') {
                let rest = &text[i + 1..];
                let Some(end) = rest.find('"') else { continue };
                let literal = &rest[..end];
                let before = text[..i].trim_end();
                let is_key = literal.contains('-')
                    && literal.split('-').all(|w| {
                        !w.is_empty()
                            && w.bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    });
                if is_key && !before.ends_with('=') {
                    keys.insert(literal.to_string());
                }
            }
        }
        keys
    }

    #[test]
    fn both_catalogues_have_the_same_messages_and_every_one_the_pages_use() {
        let (fr, en) = (keys(Lang::Fr), keys(Lang::En));
        let only_fr: Vec<_> = fr.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&fr).collect();
        assert!(
            only_fr.is_empty() && only_en.is_empty(),
            "only in fr: {only_fr:?}; only in en: {only_en:?}"
        );
        let used = keys_in_source();
        // The scan finds the messages (so it can fail).
        assert!(
            used.contains("consent-title") && used.contains("nav-history"),
            "{used:?}"
        );
        let missing: Vec<_> = used.iter().filter(|k| !fr.contains(*k)).collect();
        assert!(
            missing.is_empty(),
            "used by the pages, in neither catalogue: {missing:?}"
        );
        // Every catalogue parses and loads without a duplicate.
        for lang in Lang::ALL {
            let _ = L10n { lang }.t("footer");
        }
        let broken: Vec<_> = missing_messages()
            .into_iter()
            .filter(|m| m.contains("catalogue") || m.contains("duplicate"))
            .collect();
        assert!(broken.is_empty(), "{broken:?}");
    }
}
