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

/// The field as markup: its label, or its name with `lang=""` (no language: a screen reader
/// does not read it as the page's) and `translate="no"`.
pub fn name(l: &L10n, collection: &str, field: &str) -> Markup {
    match l.field_label(collection, field) {
        Some(label) => html! { (label) },
        None => html! { span lang="" translate="no" { (field) } },
    }
}

/// `fields` as [`label`]s, joined by `, ` (for a sentence).
pub fn labels(l: &L10n, collection: &str, fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| label(l, collection, f))
        .collect::<Vec<_>>()
        .join(", ")
}
