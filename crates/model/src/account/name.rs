//! Account names: the form shown, the key compared, and the names refused.
//!
//! An organisation's account name is also its requester name, which a person reads on the
//! consent screen. So a name must show all that it holds, and two names that read alike must
//! not both exist:
//! - [`normalise`] gives the displayed form: NFKC, trimmed, runs of spaces made one. It refuses
//!   a name that is empty, longer than [`MAX_NAME_CHARS`], holds a control, invisible or
//!   formatting character (NUL, BEL, bidi overrides, zero-width space or joiner, ...) or a
//!   symbol outside ASCII punctuation, or mixes scripts the way UTS #39 calls confusable (Latin
//!   with Cyrillic or Greek; Latin with Han, Kana or Hangul, or with one other script in
//!   current use, stays allowed).
//! - [`key`] is what uniqueness and sign-in compare: the UTS #39 confusable skeleton of the
//!   lower-cased name, so "Acme", "ACME ", fullwidth "ＡＣＭＥ" and an all-Cyrillic "Асме"
//!   are one name.
//!
//! May touch: nothing; pure functions.

use unicode_normalization::UnicodeNormalization;
use unicode_security::{
    GeneralSecurityProfile, RestrictionLevel, RestrictionLevelDetection,
    mixed_script::AugmentedScriptSet, skeleton,
};

/// The longest name, in characters after normalisation. A consent screen shows it whole.
pub const MAX_NAME_CHARS: usize = 64;

/// Input longer than this many bytes is refused before it is normalised (NFKC can expand).
const MAX_INPUT_BYTES: usize = 16 * MAX_NAME_CHARS;

/// The displayed form of `raw`, or why it cannot be a name.
pub fn normalise(raw: &str) -> Result<String, String> {
    if raw.len() > MAX_INPUT_BYTES {
        return Err(format!("it is longer than {MAX_NAME_CHARS} characters"));
    }
    let nfkc: String = raw.nfkc().collect();
    let trimmed = nfkc.trim();
    if trimmed.is_empty() {
        return Err("it is empty or only spaces".into());
    }
    if let Some(c) = trimmed.chars().find(|&c| !allowed(c)) {
        return Err(refused_char(c));
    }
    let mut name = String::with_capacity(trimmed.len());
    for word in trimmed.split(' ').filter(|w| !w.is_empty()) {
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(word);
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "it has {chars} characters; at most {MAX_NAME_CHARS}"
        ));
    }
    // Spaces, digits and punctuation belong to every script: only the others can mix.
    let scripted: String = name
        .chars()
        .filter(|&c| !AugmentedScriptSet::for_char(c).is_all())
        .collect();
    if scripted.as_str().detect_restriction_level() > RestrictionLevel::ModeratelyRestrictive {
        return Err(format!(
            "it mixes scripts ({}) in a way that can pass for another name; use one script",
            scripts(&scripted).join(", ")
        ));
    }
    Ok(name)
}

/// The key two names are compared on: equal keys are the same name. Total, so that it also
/// applies to names stored before names were checked.
///
/// It depends on the upper-cased name only, so that it ignores case whatever the letters
/// (taking the skeleton of the name as typed would map the capital I of "ALICE" to `l`, and
/// not the small i of "alice"). The skeleton is taken of the capitals, so that a capital I
/// and a small L (both prototyped as `l`) meet, then of their lower case, so that the
/// lower-case letters meet their own look-alikes.
pub fn key(name: &str) -> String {
    let nfkc: String = name.nfkc().collect();
    let spaced = nfkc.split_whitespace().collect::<Vec<_>>().join(" ");
    let capitals: String = skeleton(&spaced.to_uppercase()).collect();
    skeleton(&capitals.to_lowercase()).collect()
}

/// Whether `c` may appear in a name: a space, ASCII punctuation or digit, the typographic
/// apostrophe, or a character UTS #39 allows in identifiers, but nothing invisible.
fn allowed(c: char) -> bool {
    !invisible(c) && (c == ' ' || c.is_ascii_graphic() || c == '\u{2019}' || c.identifier_allowed())
}

/// Format characters (general category Cf) and other default-ignorable code points: they
/// render as nothing, or reorder what is around them. UTS #39 allows ZWJ and ZWNJ in
/// identifiers, for the scripts that need them; a name does not.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}'
        | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

fn refused_char(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    if c.is_control() {
        format!("it holds the control character {code}")
    } else if invisible(c) {
        format!("it holds the invisible formatting character {code}")
    } else {
        format!(
            "it holds `{c}` ({code}); a name holds letters and digits of scripts in current \
             use, spaces and ASCII punctuation"
        )
    }
}

/// The scripts of `s`'s characters, each once, in order of first use.
fn scripts(s: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for c in s.chars() {
        let set = AugmentedScriptSet::for_char(c);
        if let Some(script) = set.base.iter().next().map(|s| s.full_name())
            && !out.contains(&script)
        {
            out.push(script);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_displayed_form_is_nfkc_trimmed_with_single_spaces() {
        for (raw, shown) in [
            ("  Acme  ", "Acme"),
            ("\u{FF21}\u{FF23}\u{FF2D}\u{FF25}", "ACME"),
            ("Acme \u{3000} Corp", "Acme Corp"),
            ("Acme\u{A0}Corp", "Acme Corp"),
            ("\u{FB01}nance", "finance"),
            ("Cafe\u{301}", "Caf\u{E9}"),
        ] {
            assert_eq!(normalise(raw).as_deref(), Ok(shown), "{raw:?}");
        }
    }

    #[test]
    fn each_refusal_says_why() {
        for (raw, why) in [
            ("", "empty"),
            (" \t ", "empty"),
            ("ac\u{0}me", "control character U+0000"),
            ("acme\u{7}x", "control character U+0007"),
            ("\u{202E}emca", "invisible formatting character U+202E"),
            ("ac\u{200B}me", "invisible formatting character U+200B"),
            ("ac\u{200D}me", "invisible formatting character U+200D"),
            ("acme \u{2615}", "`\u{2615}` (U+2615)"),
            ("\u{423}FC", "mixes scripts (Cyrillic, Latin)"),
            ("G\u{39F}\u{39F}gle", "mixes scripts (Latin, Greek)"),
        ] {
            let got = normalise(raw).expect_err(raw);
            assert!(got.contains(why), "{raw:?}: {got}");
        }
        let long = "a".repeat(MAX_NAME_CHARS + 1);
        assert!(normalise(&long).unwrap_err().contains("at most 64"));
        assert!(normalise(&"a".repeat(MAX_NAME_CHARS)).is_ok());
    }

    #[test]
    fn names_that_read_alike_share_a_key_and_others_do_not() {
        let same = [
            ("Acme", "acme "),
            ("Acme", "\u{FF21}\u{FF23}\u{FF2D}\u{FF25}"),
            ("TOP", "\u{422}\u{41E}\u{420}"),
            ("coco", "\u{441}\u{43E}\u{441}\u{43E}"),
            ("AIice", "Alice"),
            ("ALICE", "alice"),
            ("Ivan Illich", "ivan illich"),
            ("Acme Corp", "acme  corp"),
            ("YFC", "\u{423}FC"),
        ];
        for (a, b) in same {
            assert_eq!(key(a), key(b), "{a:?} and {b:?}");
        }
        for (a, b) in [("Acme", "Acne"), ("YFC", "UFC"), ("Acme Corp", "AcmeCorp")] {
            assert_ne!(key(a), key(b), "{a:?} and {b:?}");
        }
    }
}
