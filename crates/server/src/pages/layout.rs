//! The one layout every page shares, and its one style sheet.
//!
//! - Header: the name of the service, the navigation of the visitor's role, who is signed in
//!   and the sign-out button, and the language switch (plain links: no JavaScript anywhere).
//! - `main`: the page's own content, reached first by the "skip to the content" link.
//! - Footer: what Insitu is, in one line.
//!
//! The style sheet is written inline in every page, and the Content-Security-Policy allows it
//! by its SHA-256 (`headers::content_security_policy`) and allows nothing else: no script, no
//! other style, no font or picture from elsewhere. It is laid out for a 360 px phone first: the
//! header wraps, tables scroll inside their own box, long words break, so the page itself never
//! scrolls sideways. The pictures (`charts.rs`) scale to the column's width.
//!
//! May touch: nothing but the markup it is given.

use axum::response::Html;
use maud::{Markup, PreEscaped, html};

use super::Session;
use super::locale::{Arg, L10n, Lang, context};
use insitu_core::account::Role;

/// The pages' one style sheet.
pub const STYLE: &str = "\
*,*::before,*::after{box-sizing:border-box}\
html{-webkit-text-size-adjust:100%}\
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fafaf7;overflow-wrap:anywhere}\
a{color:#0b4f9c}a:hover{color:#062f5f}\
:focus-visible{outline:3px solid #c25400;outline-offset:2px}\
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem}.skip:focus{left:.5rem}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
header{background:#0b3d6b;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}\
header a{color:#fff}header a:hover{color:#dce9f7}\
.brand{font-weight:700;font-size:1.2rem;margin:0}\
header ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}\
header [aria-current]{font-weight:700;text-decoration-thickness:3px}\
.account{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-left:auto}\
.account form{margin:0}\
.switch{display:flex;gap:.75rem}\
main{max-width:60rem;margin:0 auto;padding:1rem}\
footer{max-width:60rem;margin:2rem auto 0;padding:1rem;border-top:1px solid #ccc;color:#444;font-size:.9rem}\
section{margin:1.5rem 0}\
.scroll{overflow-x:auto;max-width:100%}\
td.num{white-space:nowrap}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}\
.card,.screen{background:#fff;border:1px solid #bbb;border-radius:.5rem;padding:1rem;margin:1rem 0}\
.screen{border:2px solid #1a1a1a}\
.screen dt{font-weight:700;margin-top:.75rem}.screen dd{margin:0}.screen dd p{margin:.2rem 0}\
blockquote{margin:.3rem 0;padding-left:.75rem;border-left:3px solid #999;color:#333}\
button{font:inherit;padding:.4rem .9rem;border-radius:.3rem;border:1px solid #0b3d6b;background:#0b3d6b;color:#fff;cursor:pointer}\
button.secondary{background:#fff;color:#0b3d6b}\
header button{background:#fff;color:#0b3d6b;border-color:#fff}\
input,textarea{font:inherit;max-width:100%;padding:.3rem;border:1px solid #555;border-radius:.2rem}\
label{display:inline-block;margin:.2rem 0}\
fieldset{margin:.5rem 0;border:1px solid #999;border-radius:.3rem;min-width:0}\
pre{white-space:pre-wrap;background:#fff;border:1px solid #ccc;padding:.5rem}\
[role=alert]{color:#8a1c1c;font-weight:600}\
.actions{display:flex;flex-wrap:wrap;gap:.5rem}\
.actions form{margin:0}\
figure.picture{margin:1rem 0}figcaption strong{display:block}\
svg.chart{display:block;width:100%;max-width:40rem;height:auto;margin:.5rem 0;background:#fff;border:1px solid #ddd}\
svg.chart text{font-family:system-ui,sans-serif}\
summary{cursor:pointer;color:#0b4f9c}\
.detail p{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.9rem;color:#333}";

/// The links of a role's navigation: (path, message key).
fn navigation(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Person => &[
            ("/", "nav-home-person"),
            ("/history", "nav-history"),
            ("/proposals", "nav-proposals"),
        ],
        Role::Organisation => &[
            ("/", "nav-home-organisation"),
            ("/proposals", "nav-org-proposals"),
        ],
        Role::Officer => &[
            ("/", "nav-home"),
            ("/reviews", "nav-reviews"),
            ("/proposals", "nav-all-proposals"),
        ],
        Role::Operator => &[("/", "nav-home"), ("/proposals", "nav-all-proposals")],
        Role::Developer => &[("/", "nav-home")],
    }
}

/// Percent-encodes a path for the switch's `back` parameter, or a query value.
pub(super) fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The language switch: a link to each language, the current one marked.
fn switch(l: &L10n, path: &str) -> Markup {
    html! {
        nav.switch aria-label=(l.t("language-switch")) {
            @for lang in Lang::ALL {
                @let name = l.t(match lang { Lang::Fr => "language-fr", Lang::En => "language-en" });
                @if lang == l.lang {
                    a href=(format!("/language/{}?back={}", lang.tag(), encode(path))) lang=(lang.tag()) hreflang=(lang.tag()) aria-current="true" { (name) }
                } @else {
                    a href=(format!("/language/{}?back={}", lang.tag(), encode(path))) lang=(lang.tag()) hreflang=(lang.tag()) { (name) }
                }
            }
        }
    }
}

/// A whole page: `title` in the tab, the layout around `body`.
pub fn page(title: &str, session: Option<&Session>, body: Markup) -> Html<String> {
    let l = L10n::current();
    let path = context().path;
    let current = path.split('?').next().unwrap_or("/").to_string();
    let markup = html! {
        (PreEscaped("<!doctype html>"))
        html lang=(l.lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) " · Insitu" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                a.skip href="#main" { (l.t("skip-to-content")) }
                header {
                    p.brand { a href="/" { "Insitu" } }
                    @if let Some(s) = session {
                        nav aria-label=(l.t("nav-label")) {
                            ul {
                                @for (href, key) in navigation(s.account.role) {
                                    li {
                                        @if current == *href {
                                            a href=(href) aria-current="page" { (l.t(key)) }
                                        } @else {
                                            a href=(href) { (l.t(key)) }
                                        }
                                    }
                                }
                            }
                        }
                        div.account {
                            span { (l.ta("signed-in-as", &[("name", Arg::Text(&s.account.name))])) }
                            form method="post" action="/logout" {
                                (s.csrf_field())
                                button type="submit" { (l.t("sign-out")) }
                            }
                        }
                    }
                    (switch(&l, &path))
                }
                main id="main" { (body) }
                footer { p { (l.t("footer")) } }
            }
        }
    };
    Html(markup.into_string())
}
