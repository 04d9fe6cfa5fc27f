//! Interests in Holland's RIASEC terms: the questionnaire read from `profile.answers`, the
//! person's profile and three-letter code, and the agreement of two codes.
//!
//! The questionnaire format: rows of `profile.answers` whose `questionnaire` is `riasec`
//! (case and surrounding spaces ignored); `question` is an item id that starts with one of the
//! letters R I A S E C (either case) followed by at least one letter, digit, `-`, `_` or `.`
//! (`R1`, `i3`, `S-12`); `answer` is a whole number from 1 (dislike) to 5 (like very much),
//! written without decimals. Any other row of that questionnaire is ignored and counted. An
//! item answered twice counts once, with its latest answer (rows arrive in time order).

use std::collections::BTreeMap;

/// One of Holland's six interest types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Letter {
    /// Realistic: hands-on work with things, tools, machines, plants or animals.
    R,
    /// Investigative: ideas, research, figuring things out.
    I,
    /// Artistic: self-expression, creating, designing.
    A,
    /// Social: helping, teaching, caring for people.
    S,
    /// Enterprising: leading, persuading, selling, deciding.
    E,
    /// Conventional: data, records, procedures, order.
    C,
}

impl Letter {
    /// The six letters in Holland's order, which also breaks ties.
    pub const ALL: [Letter; 6] = [
        Letter::R,
        Letter::I,
        Letter::A,
        Letter::S,
        Letter::E,
        Letter::C,
    ];

    pub fn from_char(c: char) -> Option<Letter> {
        Some(match c.to_ascii_uppercase() {
            'R' => Letter::R,
            'I' => Letter::I,
            'A' => Letter::A,
            'S' => Letter::S,
            'E' => Letter::E,
            'C' => Letter::C,
            _ => return None,
        })
    }

    pub fn as_char(self) -> char {
        ['R', 'I', 'A', 'S', 'E', 'C'][self as usize]
    }
}

/// Parses an occupation's code: 2 or 3 distinct uppercase letters, strongest first.
pub fn parse_code(s: &str) -> Option<Vec<Letter>> {
    let code: Vec<Letter> = s
        .chars()
        .map(|c| {
            c.is_ascii_uppercase()
                .then(|| Letter::from_char(c))
                .flatten()
        })
        .collect::<Option<_>>()?;
    let distinct = code.iter().enumerate().all(|(i, l)| !code[..i].contains(l));
    ((2..=3).contains(&code.len()) && distinct).then_some(code)
}

/// A code as text: `ICS`.
pub fn code_text(code: &[Letter]) -> String {
    code.iter().map(|l| l.as_char()).collect()
}

/// The `questionnaire` value of the RIASEC answers.
pub const QUESTIONNAIRE: &str = "riasec";

/// The letter of a valid item id, or `None`.
fn item_letter(question: &str) -> Option<Letter> {
    let mut chars = question.chars();
    let letter = Letter::from_char(chars.next()?)?;
    let rest = chars.as_str();
    let valid = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    valid.then_some(letter)
}

/// A Likert answer, 1 to 5, or `None`.
fn likert(answer: &str) -> Option<u32> {
    answer
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|a| (1..=5).contains(a))
}

/// A person's interest profile: the mean answer per letter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    sums: [u32; 6],
    counts: [u32; 6],
    /// Items counted (distinct item ids with a valid answer).
    pub items: usize,
    /// Rows of the RIASEC questionnaire ignored as malformed.
    pub ignored: usize,
}

impl Profile {
    /// The profile from `(questionnaire, question, answer)` rows in time order. Rows of other
    /// questionnaires are skipped without being counted.
    pub fn from_answers<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Self {
        let mut latest: BTreeMap<String, (Letter, u32)> = BTreeMap::new();
        let mut ignored = 0;
        for (questionnaire, question, answer) in rows {
            if !questionnaire.trim().eq_ignore_ascii_case(QUESTIONNAIRE) {
                continue;
            }
            let question = question.trim();
            match (item_letter(question), likert(answer)) {
                (Some(letter), Some(value)) => {
                    latest.insert(question.to_ascii_uppercase(), (letter, value));
                }
                _ => ignored += 1,
            }
        }
        let mut profile = Profile {
            items: latest.len(),
            ignored,
            ..Profile::default()
        };
        for (letter, value) in latest.into_values() {
            profile.sums[letter as usize] += value;
            profile.counts[letter as usize] += 1;
        }
        profile
    }

    /// The mean answer for `letter` (1 to 5), or `None` if no item of it was answered.
    pub fn mean(&self, letter: Letter) -> Option<f64> {
        let i = letter as usize;
        (self.counts[i] > 0).then(|| f64::from(self.sums[i]) / f64::from(self.counts[i]))
    }

    /// The person's code: the (up to) three letters with the highest means, highest first;
    /// equal means keep Holland's order. Empty when nothing was answered.
    pub fn code(&self) -> Vec<Letter> {
        let mut letters: Vec<Letter> = Letter::ALL
            .into_iter()
            .filter(|l| self.counts[*l as usize] > 0)
            .collect();
        // Compares the means as fractions, exactly: a/b > c/d when a·d > c·b.
        letters.sort_by(|x, y| {
            let (a, b) = (self.sums[*x as usize], self.counts[*x as usize]);
            let (c, d) = (self.sums[*y as usize], self.counts[*y as usize]);
            (c * b).cmp(&(a * d)).then(x.cmp(y))
        });
        letters.truncate(3);
        letters
    }
}

/// Iachan's (1984) weights for a letter at position `[person][occupation]` of two codes.
const IACHAN: [[u32; 3]; 3] = [[22, 10, 4], [10, 5, 2], [4, 2, 1]];

/// How well an occupation's code agrees with the person's, from 0 to 1: Iachan's M index
/// (the weights of the letters the codes share, by their positions in each), divided by the
/// M of the person's code with itself (22 for one letter, 27 for two, 28 for three). Against
/// a person's `ICS`: `ICS` is 1, `IC` 27/28, `CI` 20/28, any code starting with `I` at least
/// 22/28, `RIA` 10/28.
pub fn agreement(person: &[Letter], occupation: &[Letter]) -> f64 {
    let person = &person[..person.len().min(3)];
    let mut m = 0;
    for (p, letter) in person.iter().enumerate() {
        if let Some(o) = occupation.iter().take(3).position(|l| l == letter) {
            m += IACHAN[p][o];
        }
    }
    let max: u32 = (0..person.len()).map(|k| IACHAN[k][k]).sum();
    if max == 0 {
        0.0
    } else {
        f64::from(m) / f64::from(max)
    }
}

/// The letters of the person's code that the occupation's code also has, in the person's
/// order.
pub fn shared(person: &[Letter], occupation: &[Letter]) -> Vec<Letter> {
    person
        .iter()
        .copied()
        .filter(|l| occupation.contains(l))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Letter::*;

    fn profile(rows: &[(&str, &str, &str)]) -> Profile {
        Profile::from_answers(rows.iter().copied())
    }

    #[test]
    fn the_profile_is_the_mean_per_letter_and_the_code_its_top_three() {
        let p = profile(&[
            ("riasec", "R1", "5"),
            ("riasec", "R2", "4"),
            ("riasec", "I1", "5"),
            ("riasec", "I2", "5"),
            ("riasec", "A1", "2"),
            ("riasec", "S1", "3"),
            ("riasec", "E1", "1"),
            ("riasec", "C1", "4"),
        ]);
        assert_eq!(p.mean(R), Some(4.5));
        assert_eq!(p.mean(I), Some(5.0));
        assert_eq!(p.code(), [I, R, C]);
        assert_eq!((p.items, p.ignored), (8, 0));
    }

    #[test]
    fn malformed_answers_are_ignored_and_counted() {
        let p = profile(&[
            (" RIASEC ", "s1", " 4 "),
            ("riasec", "X1", "5"),     // not a RIASEC letter
            ("riasec", "", "5"),       // no item id
            ("riasec", "S", "5"),      // no item number
            ("riasec", "S 2", "5"),    // a space in the id
            ("riasec", "S2", "6"),     // out of the scale
            ("riasec", "S3", "0"),     // out of the scale
            ("riasec", "S4", "3.5"),   // not a whole number
            ("riasec", "S5", "maybe"), // not a number
            ("riasec", "S6", ""),      // no answer
            ("big-five", "O1", "5"),   // another questionnaire: skipped, not counted
        ]);
        assert_eq!(p.mean(S), Some(4.0));
        assert_eq!(p.code(), [S]);
        assert_eq!((p.items, p.ignored), (1, 9));
    }

    #[test]
    fn an_item_answered_twice_counts_once_with_its_latest_answer() {
        let p = profile(&[
            ("riasec", "E1", "1"),
            ("riasec", "e1", "5"),
            ("riasec", "E2", "4"),
        ]);
        assert_eq!(p.mean(E), Some(4.5));
        assert_eq!(p.items, 2);
    }

    #[test]
    fn equal_means_keep_hollands_order_and_nothing_answered_gives_no_code() {
        let p = profile(&[
            ("riasec", "C1", "4"),
            ("riasec", "A1", "4"),
            ("riasec", "S1", "4"),
            ("riasec", "R1", "4"),
        ]);
        assert_eq!(p.code(), [R, A, S]);
        assert!(profile(&[]).code().is_empty());
    }

    #[test]
    fn agreement_weighs_shared_letters_by_position() {
        assert_eq!(agreement(&[I, C, S], &[I, C, S]), 1.0);
        assert_eq!(agreement(&[I, C, S], &[I, C]), 27.0 / 28.0);
        assert_eq!(agreement(&[I, C, S], &[C, I]), 20.0 / 28.0);
        assert_eq!(agreement(&[I, C, S], &[I, R, A]), 22.0 / 28.0);
        assert_eq!(agreement(&[I], &[I, R, A]), 1.0);
        assert_eq!(agreement(&[I, C, S], &[R, I, A]), 10.0 / 28.0);
        assert_eq!(agreement(&[I, C, S], &[R, E, A]), 0.0);
        assert_eq!(agreement(&[], &[R, E]), 0.0);
        assert_eq!(shared(&[I, C, S], &[S, I]), [I, S]);
    }

    #[test]
    fn occupation_codes_are_two_or_three_distinct_uppercase_letters() {
        assert_eq!(parse_code("ICR"), Some(vec![I, C, R]));
        assert_eq!(parse_code("EC"), Some(vec![E, C]));
        for bad in ["", "I", "ICRS", "IIC", "icr", "IXC"] {
            assert_eq!(parse_code(bad), None, "{bad:?}");
        }
        assert_eq!(code_text(&[S, E, A]), "SEA");
    }
}
