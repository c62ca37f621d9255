//! The verbatim bound: no long run of the documents' own characters reaches
//! the remote model through what the local model says.
//!
//! A local model asked to quote its evidence may copy whole paragraphs into
//! its answer, and everything it says goes to the remote model. Before that
//! happens, runs of text that also occur in the documents are found and
//! cut after their first words and the rest replaced by `[...]`, so the
//! remote sees short quotes at most.
//!
//! How runs are found: the documents are indexed by hashes of windows of
//! `w` compared characters (see [`compared`]) taken every
//! `s` characters; every window of the local text is looked up. A copied run
//! of `w + s - 1` characters or more always contains an indexed window, so
//! with `w + s - 1 = limit` nothing longer than `limit` characters survives,
//! while the index stays small (one hash every `s` characters) even for a
//! hundred megabytes of documents. Shorter quotes, which a citation needs,
//! mostly pass untouched.

use std::collections::HashSet;

use crate::ContextDocument;

/// The marker that stands for an elided run.
pub(crate) const ELIDED: &str = "[...]";

const BASE: u64 = 0x100_0000_01b3;

/// The documents' window hashes, built once per run.
pub(crate) struct VerbatimGuard {
    window: usize,
    hashes: HashSet<u64>,
}

/// The characters the bound compares: letters and digits in lowercase, and
/// any run of other characters (spaces, line breaks, punctuation) as one
/// space (see [`folded`]). Punctuation is not compared because a copy need
/// not keep it: asked the JVM's heap size, the 0.5B model copied five
/// lines of a comment in the JDK's net.properties without their "# " line
/// markers (run 50), and with the markers compared no run of the copy was
/// longer than a line.
fn compared(text: &str) -> Vec<(char, usize)> {
    folded(text, |c| !c.is_alphanumeric())
}

/// `text` in lowercase with any run of characters `separator` picks out
/// as one space (none at the start), each character with the byte offset
/// it started at in `text`, so a match can be mapped back.
pub(crate) fn folded(text: &str, separator: impl Fn(char) -> bool) -> Vec<(char, usize)> {
    let mut out = Vec::with_capacity(text.len());
    let mut space = false;
    for (at, c) in text.char_indices() {
        if separator(c) {
            if !space && !out.is_empty() {
                out.push((' ', at));
            }
            space = true;
            continue;
        }
        space = false;
        for lower in c.to_lowercase() {
            out.push((lower, at));
        }
    }
    out
}

/// Rolling hashes of every `window`-character window of `chars`, by start.
fn window_hashes(chars: &[(char, usize)], window: usize) -> Vec<u64> {
    if chars.len() < window || window == 0 {
        return Vec::new();
    }
    let top = (1..window).fold(1u64, |p, _| p.wrapping_mul(BASE));
    let mut hash = 0u64;
    for &(c, _) in &chars[..window] {
        hash = hash.wrapping_mul(BASE).wrapping_add(c as u64);
    }
    let mut hashes = Vec::with_capacity(chars.len() - window + 1);
    hashes.push(hash);
    for i in window..chars.len() {
        hash = hash
            .wrapping_sub((chars[i - window].0 as u64).wrapping_mul(top))
            .wrapping_mul(BASE)
            .wrapping_add(chars[i].0 as u64);
        hashes.push(hash);
    }
    hashes
}

impl VerbatimGuard {
    /// Indexes the documents so that no run longer than `limit` characters
    /// passes [`VerbatimGuard::bound`]; `None` when `limit` is 0 (off).
    pub(crate) fn new(documents: &[ContextDocument], limit: usize) -> Option<Self> {
        if limit == 0 {
            return None;
        }
        // w + s - 1 = limit, with the stride a third of the window.
        let stride = ((limit + 1) / 4).max(1);
        let window = (limit + 1 - stride).max(1);
        let mut hashes = HashSet::new();
        for document in documents {
            let chars = compared(&document.text);
            for hash in window_hashes(&chars, window).into_iter().step_by(stride) {
                hashes.insert(hash);
            }
        }
        Some(Self { window, hashes })
    }

    /// Where a covered run's cut starts: after as many of its first whole
    /// words as keep the run within the limit. A copied run starts at most
    /// `stride - 1` characters before the first window that matched it,
    /// and `stride - 1 + window` is the limit, so a head of `window`
    /// characters stays within it. Keeping the head matters: an answer
    /// that quoted the GPL's "article 11 of the WIPO copyright treaty ..."
    /// at length reached the remote model as "article 11 of the [...]",
    /// and the remote named another treaty (run 26).
    fn head(&self, chars: &[(char, usize)], start: usize, end: usize) -> usize {
        let limit = (start + self.window).min(end);
        if limit >= end {
            return start;
        }
        // Back to the last space inside the head, so no word is cut.
        (start + 1..=limit)
            .rev()
            .find(|&i| chars.get(i).is_some_and(|&(c, _)| c == ' '))
            .unwrap_or(start)
    }

    /// `text` with every long run copied from the documents replaced by
    /// [`ELIDED`], and how many runs were elided.
    pub(crate) fn bound(&self, text: &str) -> (String, usize) {
        let chars = compared(text);
        let mut covered: Vec<(usize, usize)> = Vec::new();
        for (start, hash) in window_hashes(&chars, self.window).into_iter().enumerate() {
            if !self.hashes.contains(&hash) {
                continue;
            }
            let end = start + self.window;
            match covered.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => covered.push((start, end)),
            }
        }
        if covered.is_empty() {
            return (text.to_string(), 0);
        }
        let mut out = String::with_capacity(text.len());
        let mut from = 0;
        for &(start, end) in &covered {
            let keep = self.head(&chars, start, end);
            let cut_from = chars.get(keep).map_or(text.len(), |&(_, at)| at);
            let cut_to = chars.get(end).map_or(text.len(), |&(_, at)| at);
            out.push_str(&text[from..cut_from]);
            if keep > start {
                out.push(' ');
            }
            out.push_str(ELIDED);
            from = cut_to;
        }
        out.push_str(&text[from..]);
        (out, covered.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "The tenant shall give the landlord written notice of termination no later than ninety (90) days before the end of the then current term, by registered mail to the address stated in Schedule B of this agreement, and the notice shall take effect on the last day of that term.";

    fn guard(limit: usize) -> VerbatimGuard {
        VerbatimGuard::new(&[ContextDocument::new("lease.txt", DOC)], limit).unwrap()
    }

    /// The longest run of `out` that occurs in `DOC`, in compared characters.
    fn longest_copied(out: &str) -> usize {
        longest_copied_from(out, DOC)
    }

    /// The longest run of `out` that occurs in `doc`, in compared characters.
    fn longest_copied_from(out: &str, doc: &str) -> usize {
        let doc: String = compared(doc).iter().map(|(c, _)| c).collect();
        let text: Vec<char> = compared(out).iter().map(|(c, _)| *c).collect();
        let mut best = 0;
        for i in 0..text.len() {
            for j in (i + best + 1)..=text.len() {
                let piece: String = text[i..j].iter().collect();
                if doc.contains(&piece) {
                    best = j - i;
                } else {
                    break;
                }
            }
        }
        best
    }

    #[test]
    fn a_copied_paragraph_is_elided_and_the_rest_kept() {
        let said = format!("The lease says: \"{DOC}\" So the notice period is 90 days.");
        let (out, elided) = guard(120).bound(&said);
        assert_eq!(elided, 1, "{out}");
        assert!(out.starts_with("The lease says:"), "{out}");
        assert!(
            out.contains(ELIDED) && out.ends_with("So the notice period is 90 days."),
            "{out}"
        );
        assert!(longest_copied(&out) <= 120, "{out}");
    }

    #[test]
    fn a_long_copied_answer_keeps_its_first_words() {
        let said = format!("{DOC} That is all.");
        let (out, elided) = guard(120).bound(&said);
        assert_eq!(elided, 1, "{out}");
        assert!(
            out.starts_with("The tenant shall give the landlord written notice"),
            "{out}"
        );
        assert!(out.contains(" [...]"), "{out}");
        assert!(longest_copied(&out) <= 120, "{out}");
    }

    #[test]
    fn rewrapped_and_recased_copies_are_still_copies() {
        let rewrapped = DOC.to_uppercase().replace(' ', "\n  ");
        let (out, elided) = guard(120).bound(&rewrapped);
        assert_eq!(elided, 1);
        assert!(longest_copied(&out) <= 120, "{out}");
    }

    #[test]
    fn a_copy_without_the_documents_punctuation_is_still_a_copy() {
        // A comment block, each line behind "# ", copied as prose (run 50).
        let commented: String = DOC
            .split_inclusive(", ")
            .map(|line| format!("# {line}\n"))
            .collect();
        let g = VerbatimGuard::new(
            &[ContextDocument::new("net.properties", commented.as_str())],
            120,
        )
        .unwrap();
        let (out, elided) = g.bound(&format!("It says: {DOC}"));
        assert_eq!(elided, 1, "{out}");
        assert!(longest_copied_from(&out, &commented) <= 120, "{out}");
        // And the other way: punctuation the copy adds hides nothing.
        let (out, elided) = guard(120).bound(&DOC.replace(' ', " - "));
        assert_eq!(elided, 1, "{out}");
    }

    #[test]
    fn short_quotes_and_own_words_pass_untouched() {
        let said = "It must be given \"no later than ninety (90) days before the end of the then current term\", by registered mail.";
        assert_eq!(guard(120).bound(said), (said.to_string(), 0));
        assert_eq!(
            guard(120).bound("Not in the document."),
            ("Not in the document.".to_string(), 0)
        );
    }

    #[test]
    fn no_run_longer_than_the_limit_survives_at_any_offset() {
        for limit in [40, 80, 120] {
            let g = guard(limit);
            for start in 0..30 {
                let said = format!("x {} y", &DOC[start..]);
                let (out, _) = g.bound(&said);
                assert!(
                    longest_copied(&out) <= limit,
                    "limit {limit}, start {start}: {out}"
                );
            }
        }
    }

    #[test]
    fn a_zero_limit_turns_the_bound_off() {
        assert!(VerbatimGuard::new(&[ContextDocument::new("a", DOC)], 0).is_none());
    }
}
