//! Evidence: the document's own words around a worker's answer.
//!
//! A small worker often finds the right answer and then invents the
//! sentence it cites: on pyenv's README the 0.5B model answered "Bats" and
//! cited "Bats is a command-line test framework that is easy to use", a
//! line the README does not have, while the line that does answer ("Tests
//! are executed using [Bats]") sat in its chunk. Its answer went to the
//! remote model as unverified beside "tox", whose chunk only says tox helps
//! "test across Python versions", and the remote model chose tox (run 28).
//!
//! When the answer itself is in the chunk, the sentence around it is
//! evidence we can check without trusting the worker: it is quoted as the
//! citation, and the task's words in its paragraph say how well it answers
//! the task, which orders the answers the remote model sees.

use std::collections::HashSet;
use std::ops::Range;

use crate::grounding::{COMMON_WORDS, FILLER_WORDS, reference_digits, words};

/// The longest quote taken as evidence, in normalised characters. It stays
/// under the window the verbatim bound matches at its default limit (91 of
/// 120 characters), so the bound never cuts it: a quote of a sentence is a
/// short finding, not the document.
const EVIDENCE_CHARS: usize = 90;

/// Answers of more words than this are sentences a worker wrote, not a
/// name or a figure to look for in the chunk.
const MAX_ANSWER_WORDS: usize = 8;

/// The document's own words for an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Evidence {
    /// The sentence that holds the answer, cut around the answer to at most
    /// [`EVIDENCE_CHARS`] characters.
    pub quote: String,
    /// How many of the task's distinctive words (those not in the answer
    /// itself, and not in most of the chunk's paragraphs) the answer's
    /// paragraph holds.
    pub support: usize,
}

/// The evidence for `answer` in `chunk`, when the answer is there as
/// written (ignoring case and spacing, at word boundaries); of several
/// places, the one whose paragraph holds the most of the task's words.
pub(crate) fn evidence(answer: &str, chunk: &str, task: &str) -> Option<Evidence> {
    let needle: Vec<char> = normalised(
        answer
            .trim()
            .trim_matches(['"', '\'', '`', '*'])
            .trim_end_matches('.'),
    )
    .into_iter()
    .map(|(c, _)| c)
    .collect();
    let spaces = needle.iter().filter(|c| **c == ' ').count();
    if needle.is_empty() || spaces >= MAX_ANSWER_WORDS || needle.len() > EVIDENCE_CHARS {
        return None;
    }
    // Most answers judged are not in their chunk as written: nothing more
    // is read for them.
    let places = places(chunk, &needle);
    if places.is_empty() {
        return None;
    }
    let (paragraphs, said) = paragraphs_with_words(chunk);
    let stems = distinctive_stems(task, answer, &said);
    let mut best: Option<Evidence> = None;
    for Range {
        start: from,
        end: to,
    } in places
    {
        let (paragraph, support) = match paragraphs.iter().position(|p| p.contains(&from)) {
            Some(at) => (paragraphs[at].clone(), support(&said[at], &stems)),
            None => {
                let whole: Vec<String> = words(chunk).collect();
                (0..chunk.len(), support(&whole, &stems))
            }
        };
        if best.as_ref().is_none_or(|b| support > b.support) {
            best = Some(Evidence {
                quote: quote(chunk, paragraph, from..to),
                support,
            });
        }
    }
    best
}

/// The characters an answer is matched in a chunk by: lowercase, and any
/// run of whitespace as one space, so an answer that rewraps lines still
/// matches. Each comes with the byte offset it started at in the text.
fn normalised(text: &str) -> Vec<(char, usize)> {
    crate::verbatim::folded(text, char::is_whitespace)
}

/// Where `needle` (normalised, see [`normalised`]) occurs in `chunk` at
/// word boundaries, as byte ranges of the chunk as it spells them.
fn places(chunk: &str, needle: &[char]) -> Vec<Range<usize>> {
    if needle.is_empty() {
        return Vec::new();
    }
    let hay = normalised(chunk);
    let chars: Vec<char> = hay.iter().map(|(c, _)| *c).collect();
    occurrences(&chars, needle)
        .into_iter()
        .map(|start| {
            let from = hay[start].1;
            // The end of the last matched character as the chunk spells it
            // (its lowercase may be longer or shorter).
            let last_at = hay[start + needle.len() - 1].1;
            from..last_at + chunk[last_at..].chars().next().map_or(0, char::len_utf8)
        })
        .collect()
}

/// Whether `text` holds `figure` as written (ignoring case and spacing, at
/// word boundaries): "393216 bytes" holds "393216", "1393216" does not.
pub(crate) fn holds(text: &str, figure: &str) -> bool {
    figure_finder(figure).is_some_and(|finder| figure_places(&finder, text).next().is_some())
}

/// The quote (see [`quote`]) around each place `text` holds `figure` as
/// written (ignoring case and spacing, at word boundaries), or `None` when
/// it holds it more than `max` times (or the figure is empty). Each quote
/// is read from the text within [`NEAR_BYTES`] of its place, so a document
/// of a hundred megabytes is searched, never copied or normalised whole.
pub(crate) fn quotes_around(figure: &str, text: &str, max: usize) -> Option<Vec<String>> {
    let finder = figure_finder(figure)?;
    let mut quotes = Vec::new();
    for at in figure_places(&finder, text) {
        if quotes.len() == max {
            return None;
        }
        let from = (0..=at.start.saturating_sub(NEAR_BYTES))
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let to = ((at.end + NEAR_BYTES).min(text.len())..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        let near = &text[from..to];
        let at = at.start - from..at.end - from;
        let paragraph = paragraphs(near)
            .into_iter()
            .find(|p| p.contains(&at.start))
            .unwrap_or(0..near.len());
        quotes.push(quote(near, paragraph, at));
    }
    Some(quotes)
}

/// A search for `figure` as written, case and spacing aside; `None` for an
/// empty one.
fn figure_finder(figure: &str) -> Option<regex::Regex> {
    let pattern = figure
        .split_whitespace()
        .map(regex::escape)
        .collect::<Vec<_>>()
        .join(r"\s+");
    if pattern.is_empty() {
        return None;
    }
    regex::RegexBuilder::new(&pattern)
        .case_insensitive(true)
        .build()
        .ok()
}

/// The byte ranges where `finder` matches `text` with no letter or digit
/// either side.
fn figure_places<'a>(
    finder: &'a regex::Regex,
    text: &'a str,
) -> impl Iterator<Item = Range<usize>> + 'a {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    finder
        .find_iter(text)
        .map(|found| found.range())
        .filter(move |at| {
            !word(text[..at.start].chars().next_back()) && !word(text[at.end..].chars().next())
        })
}

/// Bytes each side of a place that its quote is read from: far more than
/// the [`EVIDENCE_CHARS`] a quote keeps, so the quote is the one the whole
/// text would give.
const NEAR_BYTES: usize = 1_000;

/// The entry a change reference labels, for a worker that answered with
/// only the reference. Asked which item went to the top of IDLE's Run
/// menu, the 0.5B worker answered "bpo-37748" from the entry "bpo-37748:
/// Reorder the Run menu. Put the most common choice, Run Module, at the
/// top."; a reference cannot answer that task and was dropped, and the
/// remote model answered from a made-up finding instead (run 35). The
/// worker had pointed at the right entry: its text is the finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LabelledEntry {
    /// The entry's text after the reference, at most [`EVIDENCE_CHARS`]
    /// characters.
    pub answer: String,
    /// The entry from its start, reference included, as long at most.
    pub quote: String,
    /// How many of the task's distinctive words the entry holds (see
    /// [`Evidence::support`]).
    pub support: usize,
}

/// The entry that `reference` (an answer such as "bpo-37748", "#27821" or
/// "37748") labels in `chunk`, when that entry holds at least two of the
/// task's distinctive words and half of them or more: an entry that is not
/// about the task is no answer either.
pub(crate) fn labelled_entry(reference: &str, chunk: &str, task: &str) -> Option<LabelledEntry> {
    let digits = reference_digits(reference)?;
    let (paragraphs, said) = paragraphs_with_words(chunk);
    let stems = distinctive_stems(task, "", &said);
    let mut best: Option<LabelledEntry> = None;
    for (at, _) in chunk.match_indices(digits) {
        let end = at + digits.len();
        let digit_beside = chunk[..at].ends_with(|c: char| c.is_ascii_digit())
            || chunk[end..].starts_with(|c: char| c.is_ascii_digit());
        let Some(p) = paragraphs.iter().position(|p| p.contains(&at)) else {
            continue;
        };
        if digit_beside {
            continue;
        }
        let support = support(&said[p], &stems);
        let text = chunk[end..paragraphs[p].end].trim_start_matches(|c: char| {
            matches!(c, ':' | ')' | ']' | ',' | '-') || c.is_whitespace()
        });
        if text.is_empty() || support < 2 || support * 2 < stems.len() {
            continue;
        }
        if best.as_ref().is_none_or(|b| support > b.support) {
            let entry_start = chunk[paragraphs[p].start..at]
                .find(|c: char| !(c.is_whitespace() || c == '-' || c == '*'))
                .map_or(at, |i| paragraphs[p].start + i);
            best = Some(LabelledEntry {
                answer: cut_to_words(text, EVIDENCE_CHARS),
                quote: cut_to_words(&chunk[entry_start..paragraphs[p].end], EVIDENCE_CHARS),
                support,
            });
        }
    }
    best
}

/// `text` with its whitespace collapsed, cut after a word to at most `max`
/// characters (an ellipsis marks the cut).
fn cut_to_words(text: &str, max: usize) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        let room = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if room + 1 > max {
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether an answer is the task's own words around figures that nothing
/// in the chunk ties to those words: asked which IDLE release added support
/// for Jupyter notebooks (the changelog never mentions them), a worker
/// answered "IDLE 3.4.0 added support for Jupyter notebooks." with a
/// citation of another entry; "3.4.0" is in its chunk, every other word is
/// the task's, and the remote model passed it on (run 35). A figure is tied
/// when a paragraph of the chunk that holds it also holds half or more of
/// the answer's other words: "IDLE 3.12.0 was released on 2023-10-02"
/// stands on "What's New in IDLE 3.12.0 / Released on 2023-10-02". Meant
/// for answers no citation verified.
pub(crate) fn untied_figures(answer: &str, chunk: &str, task: &str) -> bool {
    let Some((figures, claim)) = figure_claim(answer, task) else {
        return false;
    };
    // Each paragraph read once, whatever the number of figures.
    let (paragraphs, said) = paragraphs_with_words(chunk);
    let texts: Vec<String> = paragraphs
        .into_iter()
        .map(|p| chunk[p].to_lowercase())
        .collect();
    let tied = |figure: String| {
        texts.iter().zip(&said).any(|(text, said)| {
            text.contains(figure.as_str()) && support(said, &claim) * 2 >= claim.len()
        })
    };
    !figures.iter().map(|f| f.to_lowercase()).any(tied)
}

/// Whether an answer that is a figure takes it from a quote about
/// something else: the quote (the worker's verified citation, or the
/// chunk's sentence that stands in for it) holds the answer's figures but
/// not one word the task asks with (`asked`: the task, its advice and the
/// user's question; words of three letters or more, by stem, neither
/// filler nor common, nor words of the document's name). The answer's
/// other words must all be the task's, filler or the document's name's:
/// "qemu 1.1" is a figure, "20 December 1996" is not; a year is left to
/// the other checks (see [`calendar_year`]). Seen on the QEMU
/// manual and the JDK configuration (runs 29 and 43): "393216" for the
/// JVM's default heap from `jdk.http.maxHeaderSize=393216`, "10.0.2" for
/// an NBD port from the manual's page header "QEMU 10.0.2", "4" for a
/// sparse size from an exit-code list, "qemu 1.1" for when zstd came from
/// a sentence on format extensions. Replayed over every Minions
/// transcript of runs 15 to 43, it drops nine answers like these (and a
/// tenth, "1996" for the GPL's version 4, but for its year) and no right
/// one.
pub(crate) fn figure_off_topic(answer: &str, quote: &str, asked: &str, document: &str) -> bool {
    // The document's name counts as asked: "qemu" in "qemu 1.1".
    let Some((figures, _)) = figure_claim(answer, &format!("{asked}\n{document}")) else {
        return false;
    };
    // A date seldom sits beside the words "date" or "year" ("Version 3,
    // 29 June 2007" answers "Find the year mentioned in the text."): years
    // are left to the other checks.
    let dated = figures.iter().any(|f| calendar_year(f));
    if dated || !figures.iter().all(|f| quote.contains(f.as_str())) {
        return false;
    }
    let topic = topic_stems(asked, document);
    // A task with no word to look for ("q") rules nothing out.
    !topic.is_empty() && !about(quote, &topic)
}

/// The stems of what a task asks about (`asked`: the task, its advice and
/// the user's question): its words of three letters or more, neither
/// filler nor common, nor words of the document's name (`document`), nor
/// [`SETTING_WORDS`]. Empty when the task has no such word.
pub(crate) fn topic_stems(asked: &str, document: &str) -> HashSet<String> {
    let named: HashSet<String> = words(document).map(|w| stem(&w)).collect();
    content_stems(asked)
        .filter(|s| !named.contains(s) && !SETTING_WORDS.iter().any(|w| stem(w) == *s))
        .collect()
}

/// Whether a quote holds a word of the topic (see [`topic_stems`]).
pub(crate) fn about(quote: &str, topic: &HashSet<String>) -> bool {
    words(quote).any(|w| topic.contains(&stem(&w)))
}

/// Whether an answer that is a figure takes it from inside a longer name
/// in its quote: wherever the quote holds the figure, a name joins it from
/// the left by ".", "-" or "_" (`security.provider.11`, `AES-128`), and
/// that name has a word the task, its advice, the user's question and the
/// document's name (`asked`, `document`) never use. Such a figure numbers
/// an entry of a list or is part of something else's name; it does not
/// count, measure or date what the task asks about. Seen on the JDK
/// configuration (runs 43 and 45): "11" for the JDK version that first
/// shipped SunPKCS11, from `security.provider.11=JdkSASL`, and "128" for
/// the JVM's default heap, from `"AES-128"`. A name of the task's own
/// words stands ("AES-128" for AES's key size), and so does any figure
/// when the task asks about positions or numbering. Replayed over every
/// Minions transcript of runs 15 to 45, it drops those three answers and
/// none of the 42 right ones that are figures.
pub(crate) fn figure_in_a_name(answer: &str, quote: &str, asked: &str, document: &str) -> bool {
    let asked = format!("{asked}\n{document}");
    let Some((figures, _)) = figure_claim(answer, &asked) else {
        return false;
    };
    if crate::grounding::about_numbering(&asked) {
        return false;
    }
    let asked: HashSet<String> = words(&asked).map(|w| stem(&w)).collect();
    let foreign = |name: String| {
        words(&name)
            .filter(|w| !w.bytes().all(|b| b.is_ascii_digit()))
            .any(|w| !asked.contains(&stem(&w)))
    };
    let quote: Vec<char> = quote.chars().collect();
    figures.iter().all(|figure| {
        let needle: Vec<char> = figure.chars().collect();
        let places = occurrences(&quote, &needle);
        !places.is_empty()
            && places
                .iter()
                .all(|&at| name_before(&quote[..at]).is_some_and(&foreign))
    })
}

/// The name that the figure just after `before` ends: the run of letters,
/// digits, ".", "-" and "_" before it, when that run ends in one of those
/// three and holds a letter ("security.provider." but not "10-" or " -").
fn name_before(before: &[char]) -> Option<String> {
    let joiner = |c: char| matches!(c, '.' | '-' | '_');
    if !before.last().is_some_and(|&c| joiner(c)) {
        return None;
    }
    let start = before
        .iter()
        .rposition(|&c| !(c.is_alphanumeric() || joiner(c)))
        .map_or(0, |i| i + 1);
    let name: String = before[start..].iter().collect();
    name.chars().any(char::is_alphabetic).then_some(name)
}

/// Words that say a figure is some setting's value, not which setting:
/// asked the JVM's default heap size, workers quoted "# a default of
/// 200000 is used." (a keystore filter's limit) and `default "AES-128"`,
/// whose one word of the task was "default" (run 45). A task of only such
/// words rules nothing out.
const SETTING_WORDS: &[&str] = &["default", "value", "setting", "option"];

/// Whether a figure is or holds a year of the calendar ("2007",
/// "2023-10-02"): four digits from 1900 to 2099.
pub(crate) fn calendar_year(figure: &str) -> bool {
    figure
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| part.len() == 4)
        .filter_map(|part| part.parse::<u32>().ok())
        .any(|year| (1900..2100).contains(&year))
}

/// An answer's figures (as written) and the stems of its other words, when
/// all of those are the task's own words (or filler); `None` for any other
/// answer, or one without figures.
fn figure_claim(answer: &str, task: &str) -> Option<(Vec<String>, Vec<String>)> {
    // Stems, so that "contains" is the task's "contain".
    let asked: HashSet<String> = words(task).map(|w| stem(&w)).collect();
    let mut figures = Vec::new();
    let mut claim: Vec<String> = Vec::new();
    for token in answer.split_whitespace() {
        let token = token.trim_matches(|c: char| !c.is_alphanumeric());
        if token.bytes().any(|b| b.is_ascii_digit()) {
            figures.push(token.to_string());
            continue;
        }
        for word in words(token).filter(|w| !FILLER_WORDS.contains(&w.as_str())) {
            let word = stem(&word);
            if !asked.contains(&word) {
                return None;
            }
            claim.push(word);
        }
    }
    if figures.is_empty() {
        return None;
    }
    claim.sort();
    claim.dedup();
    Some((figures, claim))
}

/// Where `needle` starts in `chars` with no letter or digit either side.
pub(crate) fn occurrences(chars: &[char], needle: &[char]) -> Vec<usize> {
    let word = |i: Option<&char>| i.is_some_and(|c| c.is_alphanumeric());
    (0..chars.len().saturating_sub(needle.len() - 1))
        .filter(|&i| chars[i..i + needle.len()] == *needle)
        .filter(|&i| {
            !word(i.checked_sub(1).and_then(|j| chars.get(j))) && !word(chars.get(i + needle.len()))
        })
        .collect()
}

/// The chunk's paragraphs, as byte ranges: text between blank lines, with
/// each list item, table row and heading on its own (a changelog entry, a
/// README's table row).
pub(crate) fn paragraphs(chunk: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut open: Option<Range<usize>> = None;
    let mut at = 0;
    for line in chunk.split_inclusive('\n') {
        let span = at..at + line.len();
        at += line.len();
        let trimmed = line.trim();
        let item = ["- ", "* ", "+ "].iter().any(|m| trimmed.starts_with(m));
        let alone = trimmed.starts_with('#') || trimmed.starts_with('|') || trimmed.contains(" | ");
        if trimmed.is_empty() || item || alone {
            out.extend(open.take());
        }
        if trimmed.is_empty() {
            continue;
        }
        if alone {
            out.push(span);
        } else {
            open = Some(open.map_or(span.clone(), |o| o.start..span.end));
        }
    }
    out.extend(open);
    out
}

/// The chunk's paragraphs (see [`paragraphs`]) and each one's words, read
/// once for the task's stems and the support.
fn paragraphs_with_words(chunk: &str) -> (Vec<Range<usize>>, Vec<Vec<String>>) {
    let paragraphs = paragraphs(chunk);
    let said = paragraphs
        .iter()
        .map(|p| words(&chunk[p.clone()]).collect())
        .collect();
    (paragraphs, said)
}

/// A word's stem for matching: without a plural "s", at most five letters
/// ("executed" matches "execute", "themes" matches "theme").
pub(crate) fn stem(word: &str) -> String {
    let word = match word.strip_suffix('s') {
        Some(singular) if singular.chars().count() >= 4 => singular,
        _ => word,
    };
    word.chars().take(5).collect()
}

/// The stems of a text's content words: three letters or more, neither
/// filler nor common.
fn content_stems(text: &str) -> impl Iterator<Item = String> + '_ {
    words(text)
        .filter(|w| w.chars().count() >= 3)
        .filter(|w| !FILLER_WORDS.contains(&w.as_str()) && !COMMON_WORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
}

/// The stems of the task's distinctive words: not filler or common words,
/// not the answer's own words (an answer supports itself), and not words
/// found in most of the chunk's paragraphs ("IDLE" in IDLE's changelog says
/// nothing about which entry answers).
fn distinctive_stems(task: &str, answer: &str, paragraphs: &[Vec<String>]) -> Vec<String> {
    let answer_stems: HashSet<String> = words(answer).map(|w| stem(&w)).collect();
    let mut stems: Vec<String> = content_stems(task)
        .filter(|s| !answer_stems.contains(s))
        .collect();
    stems.sort();
    stems.dedup();
    if paragraphs.len() >= 4 {
        stems.retain(|s| {
            let holding = paragraphs
                .iter()
                .filter(|said| support(said, std::slice::from_ref(s)) > 0)
                .count();
            holding * 2 <= paragraphs.len()
        });
    }
    stems
}

/// How many of `stems` start some word of `said` (a paragraph's words).
fn support(said: &[String], stems: &[String]) -> usize {
    stems
        .iter()
        .filter(|s| said.iter().any(|w| w.starts_with(s.as_str())))
        .count()
}

/// The sentence of `paragraph` that holds `answer` (byte ranges in
/// `chunk`), whitespace collapsed, cut around the answer at word
/// boundaries to at most [`EVIDENCE_CHARS`] characters.
pub(crate) fn quote(chunk: &str, paragraph: Range<usize>, answer: Range<usize>) -> String {
    let before = &chunk[paragraph.start..answer.start];
    let after = &chunk[answer.end..paragraph.end];
    let start = sentence_ends(before).last().map_or(0, |&end| end);
    let end = sentence_ends(after).first().map_or(after.len(), |&end| end);
    let squash = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let (mut head, found, mut tail) = (
        squash(&before[start..]),
        squash(&chunk[answer]),
        squash(&after[..end]),
    );
    let room = EVIDENCE_CHARS.saturating_sub(found.chars().count());
    let (mut cut_head, mut cut_tail) = (false, false);
    // Two spaces and two ellipses at most go beside the answer.
    while head.chars().count() + tail.chars().count() + 4 > room
        && !(head.is_empty() && tail.is_empty())
    {
        // Trim a word from the longer side, so the answer stays central.
        if head.chars().count() >= tail.chars().count() {
            head = head
                .split_once(' ')
                .map(|(_, r)| r.to_string())
                .unwrap_or_default();
            cut_head = true;
        } else {
            tail = tail
                .rsplit_once(' ')
                .map(|(l, _)| l.to_string())
                .unwrap_or_default();
            cut_tail = true;
        }
    }
    // A space beside the answer only where the chunk has one: "AES-128"
    // quoted as "AES- 128" would hide that the figure ends a name.
    let spaced_before = before[start..].ends_with(char::is_whitespace) && !head.is_empty();
    let spaced_after = after[..end].starts_with(char::is_whitespace) && !tail.is_empty();
    format!(
        "{}{head}{}{found}{}{tail}{}",
        if cut_head { "…" } else { "" },
        if spaced_before { " " } else { "" },
        if spaced_after { " " } else { "" },
        if cut_tail { "…" } else { "" }
    )
}

/// The byte offsets just after each sentence end in `text`: a full stop,
/// question or exclamation mark followed by whitespace and a capital
/// letter (not the dots of "3.12.0" or "e.g. the").
pub(crate) fn sentence_ends(text: &str) -> Vec<usize> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    (0..chars.len())
        .filter(|&i| matches!(chars[i].1, '.' | '?' | '!'))
        .filter(|&i| {
            let rest = &chars[i + 1..];
            rest.first().is_some_and(|(_, c)| c.is_whitespace())
                && rest
                    .iter()
                    .find(|(_, c)| !c.is_whitespace())
                    .is_some_and(|(_, c)| c.is_uppercase())
        })
        .map(|i| chars[i].0 + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "## Features\n\n* Searches for commands from **multiple versions of Python at a time**.\n  \
This may be helpful to test across Python versions with [tox](https://pypi.org/tox).\n\n\
## Development\n\nThe source is on GitHub. It's clean, modular,\nand easy to understand.\n\n\
Tests are executed using [Bats](https://github.com/bats-core/bats-core):\n\n    bats test\n";

    #[test]
    fn the_sentence_that_holds_the_answer_is_quoted() {
        let task = "With which test framework are pyenv's tests executed?";
        let bats = evidence("Bats", README, task).expect("Bats is in the chunk");
        assert_eq!(
            bats.quote,
            "Tests are executed using [Bats](https://github.com/bats-core/bats-core):"
        );
        let tox = evidence("tox", README, task).expect("tox is in the chunk");
        assert!(tox.quote.contains("[tox]"), "{}", tox.quote);
        assert!(
            bats.support > tox.support,
            "the line about executing tests supports Bats more ({} against {})",
            bats.support,
            tox.support
        );
    }

    #[test]
    fn an_answer_not_in_the_chunk_as_written_has_no_evidence() {
        let task = "Which test framework is used?";
        assert_eq!(evidence("pytest", README, task), None);
        // Only at word boundaries: "test" inside "pytest" or "tests" is
        // not the answer "test".
        assert_eq!(evidence("ests", README, task), None);
        assert_eq!(
            evidence(
                "The tests are run by the Bats framework on every commit.",
                README,
                task
            ),
            None,
            "a sentence the worker wrote is not looked for"
        );
    }

    #[test]
    fn every_place_of_a_figure_is_quoted_from_the_text_near_it() {
        let filler = "Nothing to see in this line at all.\n".repeat(100);
        let text = format!(
            "{filler}\nThe header limit is 393216 bytes in all.\n\n{filler}# maxHeaderSize=393216\n{filler}x393216 and 3932160 are other numbers.\n"
        );
        let quotes = quotes_around("393216", &text, 10).unwrap();
        assert_eq!(
            quotes,
            [
                "The header limit is 393216 bytes in all.",
                "# maxHeaderSize=393216"
            ]
        );
        // Case and spacing aside, as `evidence` matches.
        let quotes = quotes_around("393216  BYTES", &text, 10).unwrap();
        assert_eq!(quotes, ["The header limit is 393216 bytes in all."]);
        // Past the most places asked for: no judgement.
        assert_eq!(quotes_around("393216", &text, 1), None);
        assert_eq!(quotes_around("512", &text, 1), Some(vec![]));
    }

    #[test]
    fn a_long_sentence_is_cut_around_the_answer() {
        let chunk = "- Issue #24820: IDLE now has an 'IDLE Dark' built-in text color theme.\n  \
It is more or less IDLE Classic inverted, with a cobalt blue background, and it keeps every other colour of the classic theme as it was before.\n";
        let found = evidence(
            "cobalt blue",
            chunk,
            "What colour is the background of the 'IDLE Dark' theme?",
        )
        .expect("in the chunk");
        assert!(found.quote.contains("cobalt blue"), "{}", found.quote);
        assert!(
            found.quote.chars().count() <= EVIDENCE_CHARS,
            "{}",
            found.quote
        );
        assert!(found.quote.ends_with('…'), "{}", found.quote);
        // The entry names the theme and its background: both are support.
        assert!(found.support >= 2, "{found:?}");
    }

    #[test]
    fn of_two_places_the_one_about_the_task_is_chosen() {
        let chunk = "Version 3, 29 June 2007\n\nCopyright (C) 2007 Free Software Foundation.\n\n\
The date of this version is 29 June 2007, as the heading says.\n";
        let found =
            evidence("29 June 2007", chunk, "What is the date of this version?").expect("found");
        assert!(found.quote.starts_with("The date"), "{}", found.quote);
    }

    const NEWS: &str = "bpo-36419: Refactor autocompete and improve testing.\n\n\
bpo-37748: Reorder the Run menu.  Put the most common choice,\nRun Module, at the top.\n\n\
bpo-37692: Improve highlight config sample with example shell\ninteraction and better labels.\n";

    #[test]
    fn a_reference_answer_gives_way_to_the_entry_it_labels() {
        let task = "Which item was put at the top of the Run menu when it was reordered?";
        let entry = labelled_entry("bpo-37748", NEWS, task).expect("the entry is about the task");
        assert_eq!(
            entry.answer,
            "Reorder the Run menu. Put the most common choice, Run Module, at the top."
        );
        assert!(entry.quote.starts_with("bpo-37748: Reorder"), "{entry:?}");
        assert!(entry.support >= 2, "{entry:?}");
        // The bare number and the issue form find the same entry.
        assert_eq!(labelled_entry("37748", NEWS, task), Some(entry.clone()));
        assert_eq!(labelled_entry("#37748.", NEWS, task), Some(entry));
    }

    #[test]
    fn an_entry_not_about_the_task_is_no_answer() {
        let task = "Which item was put at the top of the Run menu when it was reordered?";
        assert_eq!(labelled_entry("bpo-36419", NEWS, task), None);
        assert_eq!(labelled_entry("bpo-99999", NEWS, task), None);
        assert_eq!(
            labelled_entry("3774", NEWS, task),
            None,
            "a part of a number"
        );
        assert_eq!(
            labelled_entry("Run Module", NEWS, task),
            None,
            "not a reference"
        );
        // A long entry is cut after a word.
        let long = format!("bpo-1234: Reorder the Run menu: {}\n", "word ".repeat(40));
        let cut = labelled_entry("bpo-1234", &long, task);
        assert!(
            cut.is_some_and(
                |e| e.answer.chars().count() <= EVIDENCE_CHARS && e.answer.ends_with('…')
            )
        );
    }

    #[test]
    fn the_tasks_words_around_an_untied_figure_are_no_answer() {
        let task = "Which IDLE release added support for Jupyter notebooks?";
        let news = "What's New in IDLE 3.4.0\n\n- Issue #17625: Close the replace dialog after it is used.\n\n\
- Issue #20577: Configuration of the max line length.\n";
        assert!(untied_figures(
            "IDLE 3.4.0 added support for Jupyter notebooks.",
            news,
            task
        ));
        // A word of its own is more than the task said back.
        assert!(!untied_figures(
            "IDLE 3.4.0 added support for configuring line length.",
            news,
            task
        ));
        // A figure in a paragraph about the task stands.
        let task = "On what date was IDLE 3.12.0 released?";
        let news = "What's New in IDLE 3.12.0\nReleased on 2023-10-02\n=========\n\n\
- gh-104719: Remove IDLE's modification of tokenize.tabsize.\n";
        assert!(!untied_figures(
            "IDLE 3.12.0 was released on 2023-10-02.",
            news,
            task
        ));
        // No figure, nothing to tie.
        assert!(!untied_figures("IDLE was released", news, task));
        // The task's words in another form are still only the task's:
        // "contains" is its "contain" (run 39's "10 lines of code").
        let task = "How many lines of code does idlelib contain?";
        let news = "- bpo-1234: Shorten 10 menu labels.\n\n- bpo-99: idlelib has new code for line numbers.\n";
        assert!(untied_figures(
            "idlelib contains 10 lines of code.",
            news,
            task
        ));
    }

    #[test]
    fn a_figure_quoted_from_a_passage_about_something_else_is_no_answer() {
        let asked = "What maximum heap size does the JVM use by default?";
        let quote = "jdk.http.maxHeaderSize=393216";
        assert!(figure_off_topic("393216", quote, asked, "jdk17-conf"));
        let asked = "Which TCP port does qemu-img use by default to connect to an NBD server?";
        assert!(figure_off_topic(
            "10.0.2",
            "[ QEMU [Logo] ][1] 10.0.2",
            asked,
            "qemu-img.html"
        ));
        let asked = "In which QEMU release was zstd compression for qcow2 first introduced?";
        let quote = "enables image format extensions that only QEMU 1.1 and newer understand";
        assert!(figure_off_topic("qemu 1.1", quote, asked, "qemu-img.html"));
        // A quote with a word of the task stands.
        let asked = "For how many seconds are the results of failed (negative) name service lookups cached?";
        assert!(!figure_off_topic(
            "10",
            "# results for 10 seconds.",
            asked,
            "jdk17-conf"
        ));
        // A quote that does not hold the figure is not its source.
        let asked = "Which PEP does the change to always encode source as UTF-8 follow?";
        assert!(!figure_off_topic(
            "PEP 3120",
            "Issue #4323",
            asked,
            "idle-NEWS3.txt"
        ));
        // An answer with a word of its own is more than a figure.
        let asked = "What is the date of version 3 of this license?";
        let quote = "the WIPO copyright treaty adopted on 20 December 1996";
        assert!(!figure_off_topic(
            "20 December 1996",
            quote,
            asked,
            "gpl-3.txt"
        ));
        // A task with no word to look for rules nothing out.
        assert!(!figure_off_topic(
            "7421",
            "the code is 7421",
            "q",
            "report.txt"
        ));
        // "default" alone does not say which setting's default it is.
        let asked = "What maximum heap size does the JVM use by default?";
        assert!(figure_off_topic(
            "200000",
            "# a default of 200000 is used.",
            asked,
            "conf"
        ));
        assert!(!figure_off_topic(
            "512",
            "the default value is 512",
            "default value?",
            "conf"
        ));
        // A year is left to the other checks.
        assert!(!figure_off_topic("1996", quote, asked, "gpl-3.txt"));
    }

    #[test]
    fn a_figure_that_ends_another_name_is_no_answer() {
        let asked = "Which JDK version first shipped the SunPKCS11 provider?";
        let quote = "…security.provider.11=JdkSASL security.provider.12=SunPKCS11";
        assert!(figure_in_a_name("11", quote, asked, "jdk17-conf"));
        let asked = "What maximum heap size does the JVM use by default?";
        let quote = "# // default \"AES-128\" when using the limited cryptographic";
        assert!(figure_in_a_name("128", quote, asked, "jdk17-conf"));
        assert!(figure_in_a_name(
            "128 bytes",
            quote,
            "heap size in bytes",
            "conf"
        ));
        // The evidence quotes the name as the chunk writes it.
        let chunk = "# The default is \"AES-128\" when using the limited policy.\n";
        let found = evidence("128", chunk, "default key size").expect("in the chunk");
        assert!(found.quote.contains("\"AES-128\" when"), "{}", found.quote);
        assert!(figure_in_a_name("128", &found.quote, asked, "jdk17-conf"));
        // A name of the task's own words stands.
        let asked = "What key size does AES use by default?";
        assert!(!figure_in_a_name("128", quote, asked, "jdk17-conf"));
        // So does a figure of a task about positions.
        let asked = "At which position is SunPKCS11 in the provider list?";
        assert!(!figure_in_a_name(
            "12",
            "security.provider.12=SunPKCS11",
            asked,
            "conf"
        ));
        // A figure standing on its own somewhere in the quote stands.
        let asked = "Which JDK version first shipped the SunPKCS11 provider?";
        assert!(!figure_in_a_name(
            "11",
            "provider.11 came in JDK 11",
            asked,
            "conf"
        ));
        // Ranges, negative values and values after "=" are not names.
        let asked = "How many seconds are lookups cached?";
        assert!(!figure_in_a_name(
            "20",
            "between 10-20 seconds",
            asked,
            "conf"
        ));
        assert!(!figure_in_a_name(
            "1",
            "a value of -1 caches forever",
            asked,
            "conf"
        ));
        assert!(!figure_in_a_name(
            "30",
            "networkaddress.cache.ttl=30",
            asked,
            "conf"
        ));
        // An answer that is not a bare figure is left to the other checks.
        assert!(!figure_in_a_name(
            "SunPKCS11",
            "provider.12=SunPKCS11",
            asked,
            "conf"
        ));
    }

    #[test]
    fn words_in_most_paragraphs_support_nothing() {
        let chunk = "- IDLE gets a dark bar.\n- IDLE gets a gray bar.\n- IDLE gets tabs.\n- IDLE gets a red bar.\n";
        let gray = evidence("gray", chunk, "Which IDLE bar is gray?").expect("found");
        // "bar" and "idle" are in most entries; nothing else of the task is.
        assert_eq!(gray.support, 0, "{gray:?}");
    }
}
