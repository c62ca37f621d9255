//! Scoring predictions against gold answers.

use crate::Scoring;

/// Lowercase, punctuation to spaces, articles dropped, spaces collapsed.
pub fn normalise(text: &str) -> String {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                ' '
            }
        })
        .collect();
    cleaned
        .split_whitespace()
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty() && !matches!(*w, "a" | "an" | "the"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Numbers in a text (commas as thousands separators are ignored).
pub fn numbers(text: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, out: &mut Vec<f64>| {
        let trimmed = current.trim_end_matches('.');
        if let Ok(n) = trimmed.parse::<f64>() {
            out.push(n);
        }
        current.clear();
    };
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next_is_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit()
            || (c == '.' && next_is_digit)
            || (c == '-' && current.is_empty() && next_is_digit)
        {
            current.push(c);
        } else if c == ',' && !current.is_empty() && next_is_digit {
            continue;
        } else if !current.is_empty() {
            flush(&mut current, &mut out);
        }
    }
    if !current.is_empty() {
        flush(&mut current, &mut out);
    }
    out
}

/// The multiple-choice letter a prediction gives: `(B)`, `B)`, `Answer: B`,
/// or a lone `B`.
pub fn choice_letter(prediction: &str) -> Option<char> {
    let upper = prediction.trim().to_uppercase();
    let bytes: Vec<char> = upper.chars().collect();
    for (i, &c) in bytes.iter().enumerate() {
        if !('A'..='E').contains(&c) {
            continue;
        }
        let before = if i == 0 { ' ' } else { bytes[i - 1] };
        let after = bytes.get(i + 1).copied().unwrap_or(' ');
        let isolated = !before.is_alphanumeric() && !after.is_alphanumeric();
        if isolated
            && (before == '('
                || after == ')'
                || i == 0
                || upper[..upper.char_indices().nth(i).map_or(0, |(b, _)| b)]
                    .trim_end()
                    .ends_with(':'))
        {
            return Some(c);
        }
    }
    None
}

/// Phrases that say the document does not answer.
const NOT_FOUND: &[&str] = &[
    "not in the document",
    "does not mention",
    "doesn't mention",
    "not mentioned",
    "does not say",
    "doesn't say",
    "no information",
    "not specified",
    "not stated",
    "does not contain",
    "doesn't contain",
    "not provided",
    "cannot be determined",
    "not found",
    "does not specify",
    "not available",
    "unknown",
    // The plural forms, for answers about "the documents".
    "do not mention",
    "do not say",
    "do not specify",
    "do not contain",
    "do not provide",
    "do not state",
    "does not provide",
    "does not state",
    "no mention",
    "not given",
];

/// Whether `prediction` is right.
pub fn is_correct(prediction: &str, gold: &[String], scoring: &Scoring) -> bool {
    match scoring {
        Scoring::Text => {
            let predicted = normalise(prediction);
            gold.iter()
                .map(|g| normalise(g))
                .any(|g| !g.is_empty() && (predicted == g || contains_words(&predicted, &g)))
        }
        Scoring::Numeric { tolerance } => {
            let predicted = numbers(prediction);
            gold.iter().flat_map(|g| numbers(g)).any(|g| {
                predicted.iter().any(|p| {
                    let scale = g.abs().max(1e-9);
                    ((p - g).abs() / scale) <= *tolerance + 1e-9
                })
            })
        }
        Scoring::Pick { options } => {
            let predicted = normalise(prediction);
            let first = options
                .iter()
                .filter_map(|o| {
                    let option = normalise(o);
                    (!option.is_empty())
                        .then(|| first_place(&predicted, &option).map(|at| (at, option)))
                        .flatten()
                })
                .min_by_key(|(at, _)| *at);
            first.is_some_and(|(_, option)| gold.iter().any(|g| normalise(g) == option))
        }
        Scoring::Choice => {
            let Some(letter) = choice_letter(prediction) else {
                return false;
            };
            gold.iter()
                .any(|g| g.trim().to_uppercase().starts_with(letter))
        }
        Scoring::NotInDocument => {
            let lower = prediction.to_lowercase();
            NOT_FOUND.iter().any(|p| lower.contains(p))
        }
    }
}

/// Where the words of `needle` first appear, in order and adjacent, in
/// `haystack`, as a word index.
fn first_place(haystack: &str, needle: &str) -> Option<usize> {
    let hay: Vec<&str> = haystack.split(' ').collect();
    let pin: Vec<&str> = needle.split(' ').collect();
    if pin.is_empty() {
        return None;
    }
    hay.windows(pin.len()).position(|w| w == pin.as_slice())
}

/// Whether the words of `needle` appear, in order and adjacent, in `haystack`.
fn contains_words(haystack: &str, needle: &str) -> bool {
    let hay: Vec<&str> = haystack.split(' ').collect();
    let pin: Vec<&str> = needle.split(' ').collect();
    !pin.is_empty() && hay.windows(pin.len()).any(|w| w == pin.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gold(answers: &[&str]) -> Vec<String> {
        answers.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn a_pick_is_the_option_named_first() {
        let pick = Scoring::Pick {
            options: gold(&["the Orion fund", "Trial ZX-4"]),
        };
        let right = gold(&["Trial ZX-4"]);
        assert!(is_correct(
            "Trial ZX-4 had the larger budget.",
            &right,
            &pick
        ));
        assert!(is_correct(
            "Trial ZX-4 (981 thousand euros) beat the Orion fund.",
            &right,
            &pick
        ));
        // Naming the right option after the wrong one is the wrong pick,
        // though the gold is in the answer.
        assert!(!is_correct(
            "The Orion fund had the larger annual budget, 852 thousand euros, compared to Trial ZX-4 with 981.",
            &right,
            &pick
        ));
        assert!(!is_correct("The documents do not say.", &right, &pick));
    }

    #[test]
    fn text_matches_normalised_or_contained() {
        assert!(is_correct(
            "The code is KX-4521.",
            &gold(&["KX-4521"]),
            &Scoring::Text
        ));
        assert!(is_correct(
            "  the Harbor Clinic ",
            &gold(&["Harbor clinic"]),
            &Scoring::Text
        ));
        assert!(is_correct(
            "It was Northwind Ltd.",
            &gold(&["nope", "northwind ltd"]),
            &Scoring::Text
        ));
        assert!(!is_correct("KX-4522", &gold(&["KX-4521"]), &Scoring::Text));
        assert!(!is_correct(
            "harbor",
            &gold(&["Harbor clinic"]),
            &Scoring::Text
        ));
    }

    #[test]
    fn numbers_within_tolerance() {
        assert_eq!(
            numbers("1,234 units and -5.5% then 7."),
            vec![1234.0, -5.5, 7.0]
        );
        let exact = Scoring::Numeric { tolerance: 0.0 };
        assert!(is_correct(
            "In total 1,134 units.",
            &gold(&["1134"]),
            &exact
        ));
        assert!(!is_correct("1135", &gold(&["1134"]), &exact));
        let loose = Scoring::Numeric { tolerance: 0.01 };
        assert!(is_correct(
            "$8.7 billion",
            &gold(&["$8.738 billion"]),
            &loose
        ));
        assert!(!is_correct(
            "$9.0 billion",
            &gold(&["$8.738 billion"]),
            &loose
        ));
    }

    #[test]
    fn choice_letters() {
        assert_eq!(choice_letter("(B) hypertension"), Some('B'));
        assert_eq!(choice_letter("Answer: c"), Some('C'));
        assert_eq!(choice_letter("D) none"), Some('D'));
        assert_eq!(choice_letter("A"), Some('A'));
        assert_eq!(choice_letter("Because of diabetes"), None);
        assert!(is_correct(
            "The answer is (C).",
            &gold(&["C"]),
            &Scoring::Choice
        ));
        assert!(!is_correct("(A)", &gold(&["C"]), &Scoring::Choice));
    }

    #[test]
    fn not_in_document() {
        assert!(is_correct(
            "The document does not mention it.",
            &gold(&["not in the document"]),
            &Scoring::NotInDocument
        ));
        assert!(!is_correct(
            "KX-1234",
            &gold(&["not in the document"]),
            &Scoring::NotInDocument
        ));
    }
}
