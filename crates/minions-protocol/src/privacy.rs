//! Redacting personal data before it reaches the remote model.

use std::sync::LazyLock;

use regex::Regex;

/// Patterns of personal data, most specific first so that a card number is
/// not reported as a phone number.
static PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    let table = [
        ("email", r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b"),
        ("card", r"\b(?:\d[ -]?){12,18}\d\b"),
        ("us_ssn", r"\b\d{3}-\d{2}-\d{4}\b"),
        (
            "uk_nino",
            r"(?i)\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b",
        ),
        (
            "iban",
            r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,4})?\b",
        ),
        (
            "ipv4",
            r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b",
        ),
        ("ipv6", r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b"),
        (
            "phone",
            r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\b\d{2,4}[\s.-]\d{3,4}[\s.-]\d{3,4}\b",
        ),
    ];
    table
        .into_iter()
        .filter_map(|(kind, pattern)| Regex::new(pattern).ok().map(|re| (kind, re)))
        .collect()
});

/// Whether a digit string passes the Luhn check card numbers carry.
fn luhn(digits: &str) -> bool {
    let digits: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() < 13 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// What the privacy filter redacts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Privacy {
    /// Emails, phone and card numbers, ids, IP addresses.
    pub enabled: bool,
    /// Further terms, matched without regard to case.
    pub terms: Vec<String>,
}

/// Redacts personal data and the user's terms; returns the text and how many
/// of each kind were replaced. Replacements read `[REDACTED:kind]`.
pub(crate) fn redact(text: &str, privacy: &Privacy) -> (String, Vec<(String, usize)>) {
    let mut out = text.to_string();
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut count = |kind: &str, n: usize| {
        if n > 0 {
            match counts.iter_mut().find(|(k, _)| k == kind) {
                Some((_, total)) => *total += n,
                None => counts.push((kind.to_string(), n)),
            }
        }
    };
    for term in privacy.terms.iter().filter(|t| !t.trim().is_empty()) {
        let Ok(re) = Regex::new(&format!("(?i){}", regex::escape(term.trim()))) else {
            continue;
        };
        let n = re.find_iter(&out).count();
        out = re.replace_all(&out, "[REDACTED:term]").into_owned();
        count("term", n);
    }
    if privacy.enabled {
        for (kind, re) in PATTERNS.iter() {
            let mut n = 0;
            out = re
                .replace_all(&out, |caps: &regex::Captures<'_>| {
                    let found = caps.get(0).map_or("", |m| m.as_str());
                    if *kind == "card" && !luhn(found) {
                        return found.to_string();
                    }
                    n += 1;
                    format!("[REDACTED:{kind}]")
                })
                .into_owned();
            count(kind, n);
        }
    }
    (out, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> Privacy {
        Privacy {
            enabled: true,
            terms: vec!["John Doe".into()],
        }
    }

    #[test]
    fn redacts_each_kind() {
        let text = "Patient john doe (john.doe@example.com, +1 415-555-0132) paid with 4111 1111 1111 1111; \
                    SSN 123-45-6789, NI QQ 12 34 56 C, from 192.168.1.20. BP 160/100 on 2024-03-05.";
        let (clean, counts) = redact(text, &on());
        for secret in [
            "john doe",
            "john.doe@example.com",
            "555-0132",
            "4111 1111",
            "123-45-6789",
            "QQ 12",
            "192.168.1.20",
        ] {
            assert!(
                !clean.to_lowercase().contains(&secret.to_lowercase()),
                "{secret} survived: {clean}"
            );
        }
        assert!(
            clean.contains("BP 160/100 on 2024-03-05"),
            "medical values and dates stay: {clean}"
        );
        let kinds: Vec<&str> = counts.iter().map(|(k, _)| k.as_str()).collect();
        for kind in [
            "term", "email", "card", "us_ssn", "uk_nino", "ipv4", "phone",
        ] {
            assert!(kinds.contains(&kind), "{kind} missing from {counts:?}");
        }
    }

    #[test]
    fn card_numbers_need_a_valid_checksum() {
        // Not a card (the checksum fails); the filter may still take a run
        // of digit groups for a phone number, erring on the side of caution.
        let (_, counts) = redact("order 1234 5678 9012 3456 shipped", &on());
        assert!(!counts.iter().any(|(kind, _)| kind == "card"), "{counts:?}");
        let (_, counts) = redact("card 4242424242424242", &on());
        assert_eq!(counts, vec![("card".to_string(), 1)]);
    }

    #[test]
    fn off_means_only_terms() {
        let privacy = Privacy {
            enabled: false,
            terms: vec!["Acme".into()],
        };
        let (clean, counts) = redact("ACME mail: a@b.co", &privacy);
        assert_eq!(clean, "[REDACTED:term] mail: a@b.co");
        assert_eq!(counts, vec![("term".to_string(), 1)]);
    }
}
