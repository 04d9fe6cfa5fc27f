//! The import page in the person's language: what the file's parser noted, and the collection
//! it went into, are said in French on a French page, with the names the file holds shown as
//! they are.

use super::*;

/// Uploads `file` (named `name`) from Alice's page, her browser asking for `lang`; the page.
async fn upload(site: &Site, session: &str, lang: &str, name: &str, file: &str) -> String {
    let token = csrf(
        &site
            .send_in(lang, "GET", "/", Some(session), None)
            .await
            .body,
    );
    let (content_type, body) = common::import_form(&token, name, file);
    let cookie = format!("insitu_session={session}");
    let headers = [("accept-language", lang), ("cookie", cookie.as_str())];
    let (status, _, bytes) = common::answer(
        &site.app,
        common::request(
            "POST",
            "/import",
            &headers,
            Some((content_type, body.into_bytes())),
        ),
    )
    .await;
    let page = String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

#[tokio::test]
async fn an_imports_notes_are_said_in_the_persons_language() {
    let site = Site::new();
    person(&site, "alice");
    let session = site.sign_in("alice").await;
    // A statement whose bank gave one FITID to two different transactions: both are imported,
    // and the parser notes it.
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../formats/tests/fixtures/ofx/jan-fitid-reused.ofx"
    ))
    .unwrap();
    let parsed = insitu_formats::ofx::parse(file.as_bytes(), &Default::default()).unwrap();
    let [note] = parsed.notes.as_slice() else {
        panic!("one note: {:?}", parsed.notes);
    };
    let insitu_formats::Note::ReusedKey { key, .. } = note else {
        panic!("{note:?}");
    };

    let fr = upload(&site, &session, "fr", "janvier.ofx", &file).await;
    assert!(fr.contains("<html lang=\"fr\">"), "{fr}");
    assert!(
        fr.contains("la banque a donné le même identifiant"),
        "the note is not in French: {fr}"
    );
    // The collection by its French name, the file's name as it is.
    assert!(
        fr.contains(
            "<span lang=\"\" translate=\"no\">janvier.ofx</span> (OFX) dans Opérations bancaires"
        ),
        "{fr}"
    );
    // The key the bank wrote is shown as it is, marked as no language's words.
    assert!(
        fr.contains(&format!(r#"<span lang="" translate="no">{key}</span>"#)),
        "{fr}"
    );
    // Not the command line's English.
    assert!(!fr.contains(&note.to_string()), "{fr}");
    assert!(!fr.contains("is used by different transactions"), "{fr}");

    // The same upload again, in English: nothing new is added, and the note is said again.
    let en = upload(&site, &session, "en", "janvier.ofx", &file).await;
    assert!(
        en.contains("the bank gave the same identifier"),
        "the note is not in English: {en}"
    );
    assert_eq!(
        insitu_server::pages::locale::missing_messages()
            .into_iter()
            .filter(|m| m.contains("note-"))
            .collect::<Vec<_>>(),
        Vec::<String>::new()
    );
}
