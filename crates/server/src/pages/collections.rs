//! Collections as a person reads them: every place a page shows a collection's name (the data
//! table, the consent screen, grants and their pictures, the history, the import report, what
//! an organisation returns) goes through [`label`] or [`name`]. The standard collections have
//! names in the catalogues (`locales/*/collections.ftl`, looked up by
//! [`L10n::collection_label`]); a collection without one (an organisation's own) is shown as
//! it is, and in markup marked as no language's words ([`fields::verbatim`]). Links and form
//! values keep the collection's own name.
//!
//! May touch: nothing but the catalogues.

use maud::{Markup, html};

use super::fields;
use super::locale::L10n;

/// The collection's name in `l`'s language, or its own name when it has none (for text that
/// is not markup: a picture's labels, a caption).
pub fn label(l: &L10n, collection: &str) -> String {
    l.collection_label(collection)
        .unwrap_or_else(|| collection.to_string())
}

/// The collection as markup: its name in `l`'s language, or its own name
/// [`fields::verbatim`].
pub fn name(l: &L10n, collection: &str) -> Markup {
    match l.collection_label(collection) {
        Some(label) => html! { (label) },
        None => fields::verbatim(collection),
    }
}

/// `collections` as [`name`]s, joined by `, ` (for a sentence).
pub fn names(l: &L10n, collections: &[String]) -> Markup {
    html! {
        @for (i, c) in collections.iter().enumerate() {
            @if i > 0 { ", " }
            (name(l, c))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::locale::Lang;
    use insitu_formats::schema::STANDARD;

    #[test]
    fn every_standard_collection_has_its_own_name_in_both_languages() {
        for lang in Lang::ALL {
            let l = L10n { lang };
            let mut seen = std::collections::BTreeMap::new();
            for collection in STANDARD {
                let Some(label) = l.collection_label(collection) else {
                    panic!("{lang:?}: no name for the collection {collection}");
                };
                assert!(
                    !label.is_empty() && label != collection,
                    "{lang:?}: {label:?}"
                );
                // A person tells their collections apart (the data table, a grant's scope).
                if let Some(other) = seen.insert(label.clone(), collection) {
                    panic!("{lang:?}: {other} and {collection} are both called {label:?}");
                }
            }
        }
        // The catalogue names only standard collections.
        let catalogue = include_str!("../../locales/en/collections.ftl");
        let named: Vec<&str> = catalogue
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k))
            .collect();
        assert_eq!(named.len(), STANDARD.len(), "{named:?}");
    }

    #[test]
    fn a_collection_without_a_name_is_shown_as_it_is_and_marked_as_no_language() {
        let fr = L10n { lang: Lang::Fr };
        assert_eq!(label(&fr, "bank.transactions"), "Opérations bancaires");
        assert_eq!(
            label(&L10n { lang: Lang::En }, "bank.transactions"),
            "Bank transactions"
        );
        assert_eq!(label(&fr, "ufc.loyalty"), "ufc.loyalty");
        assert_eq!(name(&fr, "career.skills").0, "Compétences");
        assert_eq!(
            name(&fr, "acme.<b>").0,
            r#"<span lang="" translate="no">acme.&lt;b&gt;</span>"#
        );
        assert_eq!(
            names(&fr, &["career.skills".into(), "ufc.loyalty".into()]).0,
            r#"Compétences, <span lang="" translate="no">ufc.loyalty</span>"#
        );
    }
}
