//! Fields as a person reads them: every place a page shows a field's name (the records'
//! columns, the consent screen, grants and their pictures) goes through [`label`] or [`name`].
//! The standard collections' fields have labels in the catalogues (`locales/*/fields.ftl`,
//! looked up by [`L10n::field_label`]); a field without one (a CSV's own header, an
//! organisation's collection) is shown as it is, and in markup marked as no language's words.
//!
//! May touch: nothing but the catalogues.

use maud::{Markup, html};

use super::locale::L10n;

/// The field's label in `l`'s language, or its name when it has none.
pub fn label(l: &L10n, collection: &str, field: &str) -> String {
    l.field_label(collection, field)
        .unwrap_or_else(|| field.to_string())
}

/// The field as markup: its label, or its name [`verbatim`].
pub fn name(l: &L10n, collection: &str, field: &str) -> Markup {
    match l.field_label(collection, field) {
        Some(label) => html! { (label) },
        None => verbatim(field),
    }
}

/// Words of no language (a name a file or an organisation wrote: a CSV's header, an account
/// number), shown as they are, escaped, and marked `lang=""` (a screen reader does not read
/// them as the page's language) and `translate="no"`.
pub fn verbatim(text: &str) -> Markup {
    html! { span lang="" translate="no" { (text) } }
}

/// `fields` as [`label`]s, joined by `, ` (for a sentence).
pub fn labels(l: &L10n, collection: &str, fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| label(l, collection, f))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::locale::Lang;
    use insitu_formats::schema::{STANDARD, Schema};

    #[test]
    fn every_field_of_every_standard_collection_has_a_label_in_both_languages() {
        for lang in Lang::ALL {
            let l = L10n { lang };
            for collection in STANDARD {
                let schema = Schema::standard(collection).unwrap();
                let mut seen = std::collections::BTreeSet::new();
                for f in &schema.fields {
                    let Some(label) = l.field_label(collection, &f.name) else {
                        panic!("{lang:?}: no label for {collection}'s `{}`", f.name);
                    };
                    assert!(!label.is_empty() && label != f.name, "{lang:?}: {label:?}");
                    // A person tells a collection's fields apart (the consent screen's boxes).
                    assert!(
                        seen.insert(label.clone()),
                        "{lang:?}: {collection} has two fields labelled {label:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_field_without_a_label_is_shown_as_it_is_and_marked_as_no_language() {
        let fr = L10n { lang: Lang::Fr };
        assert_eq!(label(&fr, "bank.transactions", "amount"), "Montant");
        // The same name means another thing in another collection.
        assert_eq!(
            label(&fr, "usage.events", "product"),
            "Produit ou appareil utilisé"
        );
        assert_eq!(label(&fr, "receipts.items", "product"), "Produit");
        assert_eq!(label(&fr, "my.csv", "Montant TTC"), "Montant TTC");
        assert_eq!(name(&fr, "bank.transactions", "amount").0, "Montant");
        assert_eq!(
            name(&fr, "my.csv", "<b>").0,
            r#"<span lang="" translate="no">&lt;b&gt;</span>"#
        );
    }
}
