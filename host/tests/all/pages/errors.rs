//! Error pages in French and English: every error a page can meet is said in the visitor's
//! language, from the catalogues; the domain's English shows only as a technical detail marked
//! `lang="en"`; and what does not exist and what is not the visitor's give the same page.

use super::*;

/// The text of an error page's alert.
fn alert(body: &str) -> &str {
    let start = body
        .find("<p role=\"alert\">")
        .unwrap_or_else(|| panic!("not an error page: {body}"))
        + "<p role=\"alert\">".len();
    let end = start + body[start..].find("</p>").unwrap();
    &body[start..end]
}

/// The technical detail of an error page, if it has one: in English, and marked so.
fn detail(body: &str) -> Option<&str> {
    let start = body.find("<details")?;
    let within = &body[start..];
    let text = within
        .find("<p lang=\"en\">")
        .expect("a detail marked as English")
        + 13;
    let end = text + within[text..].find("</p>").unwrap();
    Some(&within[text..end])
}

/// One error a page can meet.
struct Case {
    who: &'static str,
    method: &'static str,
    path: String,
    /// The form, `{csrf}` standing for the visitor's token.
    form: Option<String>,
    status: StatusCode,
    fr: String,
    en: String,
    /// The domain's English words for it (the API's message): never the French alert's.
    english: String,
    /// Words of the technical detail, when the page adds the domain's as one.
    detail: Option<&'static str>,
}

/// Sends a file to `/import` as `cookie`'s visitor, in `lang`.
async fn upload(site: &Site, lang: &str, cookie: &str, token: &str, file: &str) -> Reply {
    let body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\n\r\n\
         \u{1}\u{2}\u{3} not a statement\r\n--XyZ--\r\n"
    );
    let cookie = format!("insitu_session={cookie}");
    let req = crate::common::request(
        "POST",
        "/import",
        &[("accept-language", lang), ("cookie", &cookie)],
        Some(("multipart/form-data; boundary=XyZ", body.into_bytes())),
    );
    let (status, _, bytes) = crate::common::answer(&site.app, req).await;
    Reply {
        status,
        location: String::new(),
        cookie: String::new(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_a_page_meets_is_said_in_french_and_english() {
    use insitu_server::pages::locale;
    let site = Site::new();
    let store = site.pds.store.as_ref();
    let alice = person(&site, "alice");
    person(&site, "bob");
    account::create(store, "ufc", PASSWORD, Role::Organisation).unwrap();
    account::create(store, "olga", PASSWORD, Role::Officer).unwrap();
    let ask = || {
        insitu_core::request::ask(store, "ufc", alice, &site.plugin, "study", 30)
            .unwrap()
            .id
    };
    let (pending, decided) = (ask(), ask());
    insitu_core::request::deny(store, decided).unwrap();
    let (public, in_review) = proposals(store, "ufc");
    let mut cookies = std::collections::BTreeMap::new();
    let mut tokens = std::collections::BTreeMap::new();
    for who in ["alice", "bob", "ufc", "olga"] {
        let cookie = site.sign_in(who).await;
        tokens.insert(
            who,
            csrf(&site.send("GET", "/", Some(&cookie), None).await.body),
        );
        cookies.insert(who, cookie);
    }
    let case = |who, method, path: String, form: Option<&str>, status, fr: &str, en: &str| Case {
        who,
        method,
        path,
        form: form.map(str::to_string),
        status,
        fr: fr.to_string(),
        en: en.to_string(),
        english: String::new(),
        detail: None,
    };
    let cases = vec![
        Case {
            english: "no request 999999".into(),
            ..case(
                "alice",
                "GET",
                "/requests/999999".into(),
                None,
                StatusCode::NOT_FOUND,
                "Vous n'avez pas de demande n° 999999.",
                "There is no request 999999 for you.",
            )
        },
        // Alice's request, to Bob: the same page as one that does not exist (checked below).
        Case {
            english: format!("no request {pending}"),
            ..case(
                "bob",
                "GET",
                format!("/requests/{pending}"),
                None,
                StatusCode::NOT_FOUND,
                &format!("Vous n'avez pas de demande n° {pending}."),
                &format!("There is no request {pending} for you."),
            )
        },
        Case {
            english: "a Organisation account cannot do this".into(),
            ..case(
                "ufc",
                "GET",
                "/history".into(),
                None,
                StatusCode::FORBIDDEN,
                "Le rôle de votre compte ne le permet pas.",
                "Your account's role does not allow this.",
            )
        },
        Case {
            english: format!("request {decided} was already decided"),
            ..case(
                "alice",
                "POST",
                format!("/requests/{decided}/deny"),
                Some("csrf={csrf}"),
                StatusCode::CONFLICT,
                &format!("Vous avez déjà répondu à la demande n° {decided} ; rien n'a changé."),
                &format!("Request {decided} was already answered; nothing was changed."),
            )
        },
        case(
            "alice",
            "POST",
            format!("/requests/{pending}/deny"),
            Some("csrf=forged"),
            StatusCode::FORBIDDEN,
            "Ce formulaire est périmé ou ne vient pas d'Insitu.",
            "This form is stale or did not come from Insitu.",
        ),
        Case {
            english: format!("proposal {public} is not waiting for a review"),
            ..case(
                "olga",
                "POST",
                format!("/proposals/{public}/review"),
                Some("csrf={csrf}&decision=approve"),
                StatusCode::CONFLICT,
                &format!("Le projet n° {public} n'attend pas d'examen."),
                &format!("Proposal {public} is not waiting for a review."),
            )
        },
        Case {
            english: "7 is not a choice of".into(),
            ..case(
                "alice",
                "POST",
                format!("/proposals/{public}/vote"),
                Some("csrf={csrf}&choice=7"),
                StatusCode::CONFLICT,
                "Le choix n° 7 ne fait pas partie de ce vote.",
                "Choice 7 is not one of this vote's choices.",
            )
        },
        Case {
            english: "the text must not be empty".into(),
            ..case(
                "alice",
                "POST",
                format!("/proposals/{public}/contributions"),
                Some("csrf={csrf}&kind=comment&text=+"),
                StatusCode::BAD_REQUEST,
                "Le texte ne peut pas être vide.",
                "The text must not be empty.",
            )
        },
        Case {
            english: format!("no proposal {in_review}"),
            ..case(
                "alice",
                "GET",
                format!("/proposals/{in_review}"),
                None,
                StatusCode::NOT_FOUND,
                &format!("Vous n'avez pas accès à un projet n° {in_review}."),
                &format!("There is no proposal {in_review} for you."),
            )
        },
        // Known only by the API's words (axum's): a general sentence, the words as the detail.
        Case {
            english: "Cannot parse `abc`".into(),
            detail: Some("Cannot parse `abc`"),
            ..case(
                "alice",
                "GET",
                "/runs/abc".into(),
                None,
                StatusCode::BAD_REQUEST,
                "Cette demande ne peut pas être faite telle qu'elle a été envoyée.",
                "This request cannot be carried out as it was sent.",
            )
        },
        // A file that is none of the formats: `/import` below.
        Case {
            english: "cannot tell the format of junk.bin".into(),
            detail: Some("not QIF: line 1"),
            ..case(
                "alice",
                "POST",
                "/import".into(),
                None,
                StatusCode::BAD_REQUEST,
                "Nous n'avons pas reconnu le type du fichier « junk.bin » : rien n'a été importé.",
                "We could not tell what kind of file “junk.bin” is, so nothing was imported.",
            )
        },
    ];
    let mut bodies = std::collections::BTreeMap::new();
    for c in &cases {
        let cookie = &cookies[c.who];
        for lang in ["fr", "en"] {
            let at = format!("{} {} as {} in {lang}", c.method, c.path, c.who);
            let r = if c.path == "/import" {
                upload(&site, lang, cookie, &tokens[c.who], "junk.bin").await
            } else {
                let form = c.form.as_ref().map(|f| f.replace("{csrf}", &tokens[c.who]));
                site.send_in(lang, c.method, &c.path, Some(cookie), form)
                    .await
            };
            assert_eq!(r.status, c.status, "{at}: {}", r.body);
            assert!(r.body.contains(&format!("<html lang=\"{lang}\">")), "{at}");
            let said = alert(&r.body);
            let want = if lang == "fr" { &c.fr } else { &c.en };
            assert!(said.contains(want.as_str()), "{at}: {said:?}, not {want:?}");
            if lang == "fr" && !c.english.is_empty() {
                assert!(
                    !said.contains(&c.english),
                    "{at}: the French page says the English {:?}",
                    c.english
                );
            }
            match (detail(&r.body), c.detail) {
                (Some(d), Some(words)) => assert!(d.contains(words), "{at}: {d:?}"),
                (None, None) => {}
                (d, _) => panic!("{at}: the detail is {d:?}, not {:?}", c.detail),
            }
            bodies.insert((c.path.clone(), c.who, lang), r.body);
        }
    }
    // What is not the visitor's answers the page of what does not exist, word for word.
    for lang in ["fr", "en"] {
        let theirs = &bodies[&(format!("/requests/{pending}"), "bob", lang)];
        let none = site
            .send_in(
                lang,
                "GET",
                &format!("/requests/{}", pending + 1000),
                Some(&cookies["bob"]),
                None,
            )
            .await
            .body;
        let anonymous = |body: &str, id: u64| {
            body.replace(&format!("/requests/{id}\""), "/requests/N\"")
                .replace(&format!("n° {id}."), "n° N.")
                .replace(&format!("request {id} for"), "request N for")
        };
        assert_eq!(
            anonymous(theirs, pending),
            anonymous(&none, pending + 1000),
            "{lang}"
        );
        assert!(
            anonymous(&none, pending + 1000).contains("/requests/N\""),
            "{none}"
        );
    }
    // The sign-in form, out of guesses for a name: the wait in the visitor's words too.
    let guess = "name=alice&password=wrong+horse+battery".to_string();
    for _ in 0..10 {
        let r = site.send("POST", "/login", None, Some(guess.clone())).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    for (lang, want) in [
        ("fr", "Trop de tentatives de connexion. Réessayez dans "),
        ("en", "Too many sign-in attempts. Try again in "),
    ] {
        let r = site
            .send_in(lang, "POST", "/login", None, Some(guess.clone()))
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        let said = alert(&r.body);
        assert!(said.starts_with(want), "{lang}: {said:?}");
        assert!(
            !said.contains("too many sign-in attempts"),
            "{lang}: {said:?}"
        );
    }
    assert_eq!(locale::missing_messages(), Vec::<String>::new());
}
