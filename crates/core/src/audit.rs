//! The audit log's events, entries and chain are data (`insitu_model::audit`); this module adds
//! what needs the store: an event in words with its import source's name.

pub use insitu_model::audit::*;

/// The event in plain words, with the import source's name looked up beside the chain.
pub fn describe_in(store: &dyn crate::store::Store, e: &AuditEvent) -> String {
    if let AuditEvent::RecordsImported { person, source, .. } = e
        && let Some(digest) = source.strip_prefix("sha256:")
    {
        let name = store
            .source_name(*person, digest)
            .ok()
            .flatten()
            .unwrap_or_else(|| "an erased source".into());
        let mut named = e.clone();
        if let AuditEvent::RecordsImported { source, .. } = &mut named {
            *source = name;
        }
        return named.describe();
    }
    e.describe()
}
