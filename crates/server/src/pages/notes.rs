//! An import's notes as a person reads them: each [`Note`] variant is a message of
//! `locales/*/imports.ftl`, chosen by an exhaustive `match` (a new variant does not build until
//! the page can say it), its numbers, money and dates written the language's way, and the names
//! the file holds (an account, a transaction's key, a file, a currency) shown as they are,
//! marked as no language's words ([`fields::verbatim`]). The English of [`Note`]'s `Display`
//! stays the command line's and the API's.
//!
//! May touch: nothing but the catalogues.

use maud::{Markup, html};

use super::fields::verbatim;
use super::locale::{Arg, L10n, Lang};
use insitu_core::import::Note;
use insitu_formats::note::{Holder, Imbalance, NoBalance, Skipped, Statement, joined};

/// The note as a paragraph in `l`'s language. Where a note carries a reason only English words
/// give (a balance the parser could not read), the paragraph says it in general and the
/// English follows under the error pages' "technical detail".
pub fn say(l: &L10n, note: &Note) -> Markup {
    let (text, detail) = sentence(l, note);
    html! {
        p { (text) }
        @if let Some(detail) = detail {
            details.detail {
                summary { (l.t("error-detail")) }
                p lang="en" { (detail) }
            }
        }
    }
}

fn count(n: impl TryInto<i64>) -> Arg<'static> {
    Arg::Count(n.try_into().unwrap_or(i64::MAX))
}

/// A count of lines from `first` to `last`, to choose "line" or "lines".
fn span(first: u64, last: u64) -> Arg<'static> {
    count(last.saturating_sub(first).saturating_add(1))
}

/// The sentence, and the English detail when there is one.
fn sentence(l: &L10n, note: &Note) -> (Markup, Option<String>) {
    let v = verbatim;
    let say =
        |key: &str, args: &[(&str, Arg)], parts: &[(&str, Markup)]| l.ta_markup(key, args, parts);
    let text = match note {
        Note::Investment {
            line,
            account,
            cash,
            trades,
            trade_kinds,
            positions,
            open_orders,
            balances,
        } => {
            let line = line.to_string();
            let mut left: Vec<Markup> = Vec::new();
            if *trades > 0 {
                let kinds = v(&trade_kinds.join(", "));
                left.push(say(
                    "note-investment-trades",
                    &[("count", count(*trades))],
                    &[("kinds", kinds)],
                ));
            }
            if *positions > 0 {
                left.push(say(
                    "note-investment-positions",
                    &[("count", count(*positions))],
                    &[],
                ));
            }
            if *open_orders {
                left.push(html! { (l.t("note-investment-open-orders")) });
            }
            if *balances {
                left.push(html! { (l.t("note-investment-balances")) });
            }
            let took = say(
                "note-investment",
                &[("line", Arg::Text(&line)), ("cash", count(*cash))],
                &[("account", v(account))],
            );
            html! {
                (took)
                @if !left.is_empty() {
                    " "
                    (say("note-investment-left", &[], &[("items", html! {
                        @for (i, item) in left.iter().enumerate() {
                            @if i > 0 { ", " }
                            (item)
                        }
                    })]))
                }
            }
        }
        Note::NoRunningBalances { account, why } => {
            let account = [("account", v(account))];
            return no_balance(l, &account, why);
        }
        Note::Pending { line, lines } => say(
            "note-pending",
            &[
                ("line", Arg::Text(&line.to_string())),
                ("count", count(lines.len())),
                ("lines", Arg::Text(&joined(lines))),
            ],
            &[],
        ),
        Note::RepeatedKey {
            account,
            key,
            lines,
        } => say(
            "note-repeated-key",
            &[
                ("count", count(lines.len())),
                ("lines", Arg::Text(&joined(lines))),
                (
                    "left",
                    Arg::Text(&joined(lines.get(1..).unwrap_or_default())),
                ),
            ],
            &[("account", v(account)), ("key", v(key))],
        ),
        Note::ReusedKey {
            account,
            key,
            lines,
        } => say(
            "note-reused-key",
            &[("lines", Arg::Text(&joined(lines)))],
            &[("account", v(account)), ("key", v(key))],
        ),
        Note::UnknownEncoding { label } => {
            say("note-unknown-encoding", &[], &[("label", v(label))])
        }
        Note::Padded { lines } => say(
            "note-padded",
            &[
                ("count", count(lines.len())),
                ("lines", Arg::Text(&joined(lines))),
            ],
            &[],
        ),
        Note::Unchecked { statement, unread } => {
            let key = match statement {
                Statement::Cfonb { .. } => "note-unchecked-cfonb",
                Statement::Camt { .. } => "note-unchecked-camt",
            };
            say(
                key,
                &[("count", count(*unread))],
                &statement_parts(statement),
            )
        }
        Note::Unbalanced {
            line,
            statement,
            why,
            movements,
        } => {
            let key = match statement {
                Statement::Cfonb { .. } => "note-unbalanced-cfonb",
                Statement::Camt { .. } => "note-unbalanced-camt",
            };
            let mut parts = statement_parts(statement);
            parts.push(("why", imbalance(l, why)));
            say(
                key,
                &[
                    ("line", Arg::Text(&line.to_string())),
                    ("count", count(*movements)),
                ],
                &parts,
            )
        }
        Note::NotBooked { status, lines } => {
            // The statuses ISO 20022 defines have their own sentence; another code is named.
            let key = match status.as_str() {
                "PDNG" => "note-not-booked-pending",
                "FUTR" => "note-not-booked-future",
                "INFO" => "note-not-booked-info",
                _ => "note-not-booked-other",
            };
            say(
                key,
                &[
                    ("count", count(lines.len())),
                    ("lines", Arg::Text(&joined(lines))),
                ],
                &[("status", v(status))],
            )
        }
        Note::Footer { first, last, rows } => {
            let lines = if first == last {
                first.to_string()
            } else {
                format!("{first}–{last}")
            };
            say(
                "note-footer",
                &[
                    ("rows", count(*rows)),
                    ("span", span(*first, *last)),
                    ("lines", Arg::Text(&lines)),
                ],
                &[],
            )
        }
        Note::SkippedSection {
            line,
            header,
            why,
            records,
        } => {
            let why = l.t(match why {
                Skipped::Investment => "note-section-investment",
                Skipped::Categories => "note-section-categories",
                Skipped::Memorized => "note-section-memorized",
                Skipped::NoBankTransactions => "note-section-no-bank-transactions",
            });
            say(
                "note-skipped-section",
                &[
                    ("line", Arg::Text(&line.to_string())),
                    ("count", count(*records)),
                    ("why", Arg::Text(&why)),
                ],
                &[("header", v(header))],
            )
        }
        Note::Comments { line, count: n } => say(
            "note-comments",
            &[("line", Arg::Text(&line.to_string())), ("count", count(*n))],
            &[],
        ),
        Note::Rounded {
            element,
            item,
            quantity,
            unit_price,
            exact,
            currency,
            total,
        } => {
            // The exact product has more digits than the currency: written as a decimal of
            // the language, with the currency's code.
            let exact = match l.lang {
                Lang::Fr => exact.replace('.', ","),
                Lang::En => exact.clone(),
            };
            say(
                "note-rounded",
                &[
                    ("item", count(item.saturating_add(1))),
                    ("price", Arg::Text(&l.money(*unit_price, currency))),
                    ("total", Arg::Text(&l.money(*total, currency))),
                ],
                &[
                    ("receipt", v(element)),
                    ("quantity", v(quantity)),
                    ("exact", html! { (exact) "\u{a0}" (v(currency)) }),
                ],
            )
        }
        Note::Clash { file, line, key } => say(
            "note-clash",
            &[("line", Arg::Text(&line.to_string()))],
            &[("file", v(file)), ("key", v(key))],
        ),
    };
    (text, None)
}

/// The parts that name a CFONB or CAMT statement in its messages.
fn statement_parts(statement: &Statement) -> Vec<(&'static str, Markup)> {
    match statement {
        Statement::Cfonb { account } => vec![("account", verbatim(account))],
        Statement::Camt {
            element,
            number,
            account,
        } => vec![
            ("element", verbatim(&format!("{element} {number}"))),
            ("account", verbatim(account)),
        ],
    }
}

/// Why the running balances of an OFX account are left empty.
fn no_balance(l: &L10n, account: &[(&str, Markup)], why: &NoBalance) -> (Markup, Option<String>) {
    let say = |key: &str, args: &[(&str, Arg)]| l.ta_markup(key, args, account);
    match why {
        NoBalance::Unread(n) => (
            say("note-no-balances-unread", &[("count", count(*n))]),
            None,
        ),
        NoBalance::SeveralCurrencies => (say("note-no-balances-currencies", &[]), None),
        NoBalance::Amount(e) => (say("note-no-balances-amount", &[]), Some(e.clone())),
        NoBalance::Date(e) => (say("note-no-balances-date", &[]), Some(e.clone())),
        NoBalance::Before { asof, last } => (
            say(
                "note-no-balances-before",
                &[
                    ("asof", Arg::Text(&l.date(*asof))),
                    ("last", Arg::Text(&l.date(*last))),
                ],
            ),
            None,
        ),
        NoBalance::TooLarge => (say("note-no-balances-too-large", &[]), None),
    }
}

/// Why a statement does not add up, as a clause of [`Note::Unbalanced`]'s sentence.
fn imbalance(l: &L10n, why: &Imbalance) -> Markup {
    match why {
        Imbalance::Totals {
            opening,
            movements,
            end,
            closing,
            currency,
        } => {
            let m = |minor: &i64| l.money(*minor, currency);
            let (opening, movements, end, closing) = (m(opening), m(movements), m(end), m(closing));
            l.ta_markup(
                "note-imbalance-totals",
                &[
                    ("opening", Arg::Text(&opening)),
                    ("movements", Arg::Text(&movements)),
                    ("end", Arg::Text(&end)),
                    ("closing", Arg::Text(&closing)),
                ],
                &[],
            )
        }
        Imbalance::TooLarge => html! { (l.t("note-imbalance-too-large")) },
        Imbalance::Currencies {
            first,
            first_currency,
            other,
            other_currency,
        } => {
            let holder = |h: &Holder| match h {
                Holder::Balance => "balance",
                Holder::Entry => "entry",
            };
            l.ta_markup(
                "note-imbalance-currencies",
                &[
                    ("first", Arg::Text(holder(first))),
                    ("other", Arg::Text(holder(other))),
                ],
                &[
                    ("first_currency", verbatim(first_currency)),
                    ("other_currency", verbatim(other_currency)),
                ],
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::locale::missing_messages;

    /// The variant's name: a `match` without a wildcard, so that a new variant does not build
    /// until [`cases`] names it too.
    fn variant(n: &Note) -> &'static str {
        match n {
            Note::Investment { .. } => "Investment",
            Note::NoRunningBalances { .. } => "NoRunningBalances",
            Note::Pending { .. } => "Pending",
            Note::RepeatedKey { .. } => "RepeatedKey",
            Note::ReusedKey { .. } => "ReusedKey",
            Note::UnknownEncoding { .. } => "UnknownEncoding",
            Note::Padded { .. } => "Padded",
            Note::Unchecked { .. } => "Unchecked",
            Note::Unbalanced { .. } => "Unbalanced",
            Note::NotBooked { .. } => "NotBooked",
            Note::Footer { .. } => "Footer",
            Note::SkippedSection { .. } => "SkippedSection",
            Note::Comments { .. } => "Comments",
            Note::Rounded { .. } => "Rounded",
            Note::Clash { .. } => "Clash",
        }
    }

    const VARIANTS: [&str; 15] = [
        "Investment",
        "NoRunningBalances",
        "Pending",
        "RepeatedKey",
        "ReusedKey",
        "UnknownEncoding",
        "Padded",
        "Unchecked",
        "Unbalanced",
        "NotBooked",
        "Footer",
        "SkippedSection",
        "Comments",
        "Rounded",
        "Clash",
    ];

    /// An account number as a file could hold it: markup, which the page must escape.
    const ACCOUNT: &str = "FR76<b>1</b>";

    /// Every variant, and every reason, statement and status each can carry.
    fn cases() -> Vec<Note> {
        let account = || ACCOUNT.to_string();
        let day = |d| insitu_formats::time::days_from_civil(2024, 2, d) * 86_400_000;
        let mut cases = vec![
            Note::Investment {
                line: 15,
                account: account(),
                cash: 2,
                trades: 3,
                trade_kinds: vec!["BUYSTOCK".into(), "SELLMF".into()],
                positions: 4,
                open_orders: true,
                balances: true,
            },
            Note::Investment {
                line: 15,
                account: account(),
                cash: 0,
                trades: 0,
                trade_kinds: vec![],
                positions: 0,
                open_orders: false,
                balances: false,
            },
            Note::Pending {
                line: 3,
                lines: vec![40, 52],
            },
            Note::RepeatedKey {
                account: account(),
                key: "CB24".into(),
                lines: vec![12, 30],
            },
            Note::ReusedKey {
                account: account(),
                key: "CB24".into(),
                lines: vec![12, 30],
            },
            Note::UnknownEncoding {
                label: "KLINGON".into(),
            },
            Note::Padded {
                lines: vec![2, 3, 5],
            },
            Note::Footer {
                first: 6,
                last: 7,
                rows: 2,
            },
            Note::Footer {
                first: 6,
                last: 6,
                rows: 1,
            },
            Note::Comments { line: 1, count: 2 },
            Note::Rounded {
                element: "receipt 1".into(),
                item: 0,
                quantity: "2.675".into(),
                unit_price: 100,
                exact: "2.675".into(),
                currency: "EUR".into(),
                total: 268,
            },
            Note::Clash {
                file: "releve.ofx".into(),
                line: 21,
                key: "FR76/CB24".into(),
            },
        ];
        for why in [
            NoBalance::Unread(1),
            NoBalance::SeveralCurrencies,
            NoBalance::Amount("`x` is not an amount".into()),
            NoBalance::Date("`x` is not a date (YYYYMMDD)".into()),
            NoBalance::Before {
                asof: day(29),
                last: day(4) + 30 * 86_400_000,
            },
            NoBalance::TooLarge,
        ] {
            cases.push(Note::NoRunningBalances {
                account: account(),
                why,
            });
        }
        let statements = [
            Statement::Cfonb { account: account() },
            Statement::Camt {
                element: "Stmt".into(),
                number: 1,
                account: account(),
            },
        ];
        let imbalances = [
            Imbalance::Totals {
                opening: 10_000,
                movements: -2_500,
                end: 7_500,
                closing: 8_000,
                currency: "EUR".into(),
            },
            Imbalance::TooLarge,
            Imbalance::Currencies {
                first: Holder::Balance,
                first_currency: "EUR".into(),
                other: Holder::Entry,
                other_currency: "USD".into(),
            },
            Imbalance::Currencies {
                first: Holder::Entry,
                first_currency: "EUR".into(),
                other: Holder::Balance,
                other_currency: "USD".into(),
            },
        ];
        for statement in statements {
            for unread in [1, 3] {
                cases.push(Note::Unchecked {
                    statement: statement.clone(),
                    unread,
                });
            }
            for why in imbalances.clone() {
                cases.push(Note::Unbalanced {
                    line: 9,
                    statement: statement.clone(),
                    why,
                    movements: 4,
                });
            }
        }
        for status in ["PDNG", "FUTR", "INFO", "XXXX"] {
            for lines in [vec![7], vec![7, 9]] {
                cases.push(Note::NotBooked {
                    status: status.into(),
                    lines,
                });
            }
        }
        for why in [
            Skipped::Investment,
            Skipped::Categories,
            Skipped::Memorized,
            Skipped::NoBankTransactions,
        ] {
            cases.push(Note::SkippedSection {
                line: 4,
                header: "!Type:Invst".into(),
                why,
                records: 2,
            });
        }
        cases
    }

    #[test]
    fn every_note_is_said_in_both_languages_with_the_files_names_as_data() {
        let cases = cases();
        let covered: std::collections::BTreeSet<&str> = cases.iter().map(variant).collect();
        assert_eq!(
            covered,
            VARIANTS.into_iter().collect(),
            "a variant has no case"
        );
        let (fr, en) = (L10n { lang: Lang::Fr }, L10n { lang: Lang::En });
        for note in &cases {
            let (said_fr, said_en) = (say(&fr, note).into_string(), say(&en, note).into_string());
            for (lang, said) in [("fr", &said_fr), ("en", &said_en)] {
                // A missing message shows its key; a missing argument shows `{$name}`.
                assert!(
                    !said.contains("note-") && !said.contains("{$") && !said.contains('\u{e000}'),
                    "{lang}: {note:?}: {said}"
                );
            }
            assert_ne!(said_fr, said_en, "{note:?}: French is its own sentence");
            // Not the English of the command line.
            assert!(!said_fr.contains(&note.to_string()), "{note:?}");
            // What the file holds is shown as it is, escaped and marked as no language's.
            let shown = r#"<span lang="" translate="no">FR76&lt;b&gt;1&lt;/b&gt;</span>"#;
            if note.to_string().contains(ACCOUNT) {
                assert!(
                    said_fr.contains(shown) && said_en.contains(shown),
                    "{note:?}: {said_fr}"
                );
            }
            assert!(
                !said_fr.contains("<b>") && !said_en.contains("<b>"),
                "{said_fr}"
            );
        }
        let missing: Vec<String> = missing_messages()
            .into_iter()
            .filter(|m| m.contains("note-"))
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn numbers_money_and_dates_in_a_note_are_the_languages() {
        let fr = L10n { lang: Lang::Fr };
        let said = |n: &Note| say(&fr, n).into_string();
        let rounded = cases()
            .into_iter()
            .find(|n| variant(n) == "Rounded")
            .unwrap();
        assert!(said(&rounded).contains("1,00\u{a0}€"), "{}", said(&rounded));
        assert!(said(&rounded).contains("2,68\u{a0}€"), "{}", said(&rounded));
        let before = Note::NoRunningBalances {
            account: "A".into(),
            why: NoBalance::Before {
                asof: insitu_formats::time::days_from_civil(2024, 2, 29) * 86_400_000,
                last: insitu_formats::time::days_from_civil(2024, 3, 4) * 86_400_000,
            },
        };
        assert!(said(&before).contains("29 févr. 2024"), "{}", said(&before));
        // A reason only English words give is the technical detail, marked as English.
        let amount = Note::NoRunningBalances {
            account: "A".into(),
            why: NoBalance::Amount("`x` is not an amount".into()),
        };
        assert!(
            said(&amount).contains(r#"<p lang="en">`x` is not an amount</p>"#),
            "{}",
            said(&amount)
        );
    }

    #[test]
    fn every_message_of_the_imports_catalogue_is_one_a_note_can_say() {
        let source = include_str!("notes.rs");
        let code = source.split("#[cfg(test)]").next().unwrap_or("");
        let catalogue = include_str!("../../locales/en/imports.ftl");
        let unused: Vec<&str> = catalogue
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k))
            .filter(|k| !code.contains(&format!("\"{k}\"")))
            .collect();
        assert!(unused.is_empty(), "never said: {unused:?}");
    }
}
