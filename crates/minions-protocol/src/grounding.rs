//! Grounding: whether what a model says could have come from what it read.
//!
//! Small local models asked about a chunk that does not hold the answer
//! often make one up, and a remote model that never sees the documents can
//! only know their facts through what the local side told it. Both checks
//! here are cheap and literal: numbers and identifiers must occur in the
//! text the claim is about.

use std::collections::HashSet;

use crate::exact_tokens::exact_tokens_in;

/// The numbers in a text as digit strings, without leading zeros, with
/// thousands separators removed ("50,000" and "50000" are one number).
fn numbers(text: &str) -> Vec<String> {
    without_thousands_separators(text)
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .map(|n| {
            let trimmed = n.trim_start_matches('0');
            if trimmed.is_empty() { "0" } else { trimmed }.to_string()
        })
        .collect()
}

/// The text with the commas between digits removed ("50,000" as "50000").
fn without_thousands_separators(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .filter(|&(i, &c)| {
            !(c == ','
                && i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        })
        .map(|(_, c)| *c)
        .collect()
}

/// Words too common to show that an answer came from its chunk.
pub(crate) const COMMON_WORDS: &[&str] = &[
    "about",
    "also",
    "because",
    "been",
    "between",
    "both",
    "does",
    "document",
    "each",
    "excerpt",
    "from",
    "have",
    "into",
    "more",
    "most",
    "only",
    "other",
    "over",
    "same",
    "some",
    "such",
    "than",
    "that",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "under",
    "very",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "will",
    "with",
    "would",
    "your",
    "answer",
    "text",
    "states",
    "stated",
    "mentioned",
    "according",
];

/// Number words up to ninety, as digit strings: a document that says
/// "three years" grounds an answer of "3 years", and an answer of "ten
/// years" names a number.
const NUMBER_WORDS: &[(&str, &str)] = &[
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("thirteen", "13"),
    ("fourteen", "14"),
    ("fifteen", "15"),
    ("sixteen", "16"),
    ("seventeen", "17"),
    ("eighteen", "18"),
    ("nineteen", "19"),
    ("twenty", "20"),
    ("thirty", "30"),
    ("forty", "40"),
    ("fifty", "50"),
    ("sixty", "60"),
    ("seventy", "70"),
    ("eighty", "80"),
    ("ninety", "90"),
];

/// The digits a lower-cased number word stands for ("three" is "3"), from
/// [`NUMBER_WORDS`].
fn number_word(word: &str) -> Option<&'static str> {
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, digits)| *digits)
}

/// A whitespace token with its punctuation trimmed, lower-cased.
fn bare(token: &str) -> String {
    token
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

/// The one- and two-digit numbers an answer states, leaving out those that
/// are part of a date (a day or month beside a month name, or in
/// "2007-06-29", "06/29/2007", "29.06.2007"): a model may rewrite a date in
/// any of those forms. Number words count ("ten" is 10). 0 and 1 are left
/// out: answers say "1" for "a" and "0" for "no".
fn small_numbers(answer: &str) -> Vec<String> {
    let tokens: Vec<&str> = answer.split_whitespace().collect();
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let word = bare(token);
        if let Some(digits) = number_word(&word) {
            found.push(digits.to_string());
            continue;
        }
        let runs = numbers(token);
        let dated = runs.iter().any(|n| n.len() == 4) && runs.len() > 1
            || [i.checked_sub(1), Some(i + 1)]
                .into_iter()
                .flatten()
                .filter_map(|j| tokens.get(j))
                .any(|t| month_number(&bare(t)).is_some());
        if dated {
            continue;
        }
        found.extend(
            runs.into_iter()
                .filter(|n| n.len() <= 2 && n != "0" && n != "1"),
        );
    }
    found
}

/// Month names as dates write them: in full or as the usual abbreviation.
const MONTH_NAMES: &[(&str, &str)] = &[
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may", "may"),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
];

fn month_number(word: &str) -> Option<u32> {
    let word = word.to_lowercase();
    MONTH_NAMES
        .iter()
        .position(|(full, short)| {
            word == *full || word == *short || (word == "sept" && *short == "sep")
        })
        .map(|i| i as u32 + 1)
}

/// A day or month number: one or two digits, "29th" as 29.
fn small_number(token: &str) -> Option<u32> {
    let digits = token.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h']);
    (!digits.is_empty() && digits.len() <= 2 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

fn year(token: &str) -> Option<u32> {
    (token.len() == 4 && token.bytes().all(|b| b.is_ascii_digit()))
        .then(|| token.parse().ok())
        .flatten()
}

/// The calendar dates a text writes in full, each as the (year, month,
/// day) readings it allows: "2023-10-02", "2 October 2023", "October 2,
/// 2023" have one, "10/02/2023" two (month first or day first).
fn full_dates(text: &str) -> Vec<Vec<(u32, u32, u32)>> {
    let tokens: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let valid =
        |(y, m, d): (u32, u32, u32)| (1..=12).contains(&m) && (1..=31).contains(&d) && y > 0;
    let mut dates = Vec::new();
    // Each token as a year, a day or month number, and a month name.
    let read = |t: &str| (year(t), small_number(t), month_number(t));
    for window in tokens.windows(3) {
        let readings = match (read(window[0]), read(window[1]), read(window[2])) {
            ((Some(y), ..), (_, Some(m), _), (_, Some(d), _)) => vec![(y, m, d)],
            ((_, Some(d), _), (.., Some(m)), (Some(y), ..)) => vec![(y, m, d)],
            ((.., Some(m)), (_, Some(d), _), (Some(y), ..)) => vec![(y, m, d)],
            ((_, Some(a), _), (_, Some(b), _), (Some(y), ..)) => vec![(y, a, b), (y, b, a)],
            _ => Vec::new(),
        };
        let readings: Vec<_> = readings.into_iter().filter(|r| valid(*r)).collect();
        if !readings.is_empty() {
            dates.push(readings);
        }
    }
    dates
}

/// The numbers a chunk holds, in digits or as number words.
fn chunk_numbers(chunk: &str) -> HashSet<String> {
    let mut known: HashSet<String> = numbers(chunk).into_iter().collect();
    for word in chunk
        .split(|c: char| !c.is_alphabetic())
        .map(str::to_lowercase)
    {
        if let Some(digits) = number_word(&word) {
            known.insert(digits.to_string());
        }
    }
    known
}

/// Units a quantity is counted in. A count of one or none is not a claim
/// on its own ("1" may stand for "a"), but with a unit it is: asked for
/// pyenv's RAM needs, which its README never states, the 0.5B model
/// answered "1GB".
const UNITS: &[&str] = &[
    "b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "byte", "bit", "core", "cpu",
    "thread", "ghz", "mhz", "ms", "sec", "second", "min", "minute", "hour", "day", "week", "month",
    "year",
];

/// A word as the unit it names, singular and lower-cased, if it is one.
fn unit(word: &str) -> Option<String> {
    let word = word.to_lowercase();
    let singular = match word.strip_suffix('s') {
        Some(stem) if word.len() >= 4 => stem,
        _ => word.as_str(),
    };
    UNITS.contains(&singular).then(|| singular.to_string())
}

/// The quantities a text states, as "NUMBER UNIT": "1GB", "1 GB" and "one
/// gigabyte"'s spelled-out count are all read ("one" counts here, though
/// not as a number on its own).
fn quantities(text: &str) -> Vec<String> {
    let text = without_thousands_separators(text);
    // A dot between digits stays in its token, so that a decimal ("2.0
    // GB") is not read as a count of 0; decimals are checked whole
    // elsewhere.
    let tokens: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '.'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| !t.is_empty())
        .collect();
    let count = |token: &str| -> Option<String> {
        let word = token.to_lowercase();
        match word.as_str() {
            "one" => Some("1".into()),
            "zero" => Some("0".into()),
            _ => number_word(&word).map(str::to_string).or_else(|| {
                token
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| numbers(token).concat())
            }),
        }
    };
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let digits_end = token
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(token.len());
        let (digits, rest) = token.split_at(digits_end);
        if digits.contains('.') {
            continue;
        }
        if !digits.is_empty() && !rest.is_empty() {
            if let Some(unit) = unit(rest) {
                found.push(format!("{} {unit}", numbers(digits).concat()));
            }
        } else if let (Some(n), Some(unit)) =
            (count(token), tokens.get(i + 1).and_then(|t| unit(t)))
        {
            found.push(format!("{n} {unit}"));
        }
    }
    found
}

/// Units of size and hardware: a quantity in one of them must be stated as
/// such, not only have its number somewhere. Asked for pyenv's RAM needs
/// (the README gives none), a 0.5B worker answered "2GB" from a chunk that
/// has a "2" in another sense, and the remote passed it on (run 25).
const SIZE_UNITS: &[&str] = &[
    "b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "byte", "bit", "core", "cpu",
    "thread", "ghz", "mhz",
];

/// The quantities an answer states that must be found as quantities: those
/// of one or none ("1GB", "0 days"), the counts [`small_numbers`] leaves
/// out, which are claims all the same when a unit comes with them, and
/// any count of a size or hardware unit ("2GB", "16 cores").
fn unit_claims(answer: &str) -> Vec<String> {
    quantities(answer)
        .into_iter()
        .filter(|q| {
            q.starts_with("1 ")
                || q.starts_with("0 ")
                || q.split_once(' ')
                    .is_some_and(|(_, unit)| SIZE_UNITS.contains(&unit))
        })
        .collect()
}

/// The numbers a claim makes: every number of three digits or more, and
/// the small ones that do not date something (see [`small_numbers`]).
fn claimed_numbers(text: &str) -> Vec<String> {
    numbers(text)
        .into_iter()
        .filter(|n| n.len() >= 3)
        .chain(small_numbers(text))
        .collect()
}

/// Whether an answer is in its chunk, as an extraction must be: every
/// number in it occurs in the chunk (in digits or words; a date may be
/// reformatted), and at least half of its longer words do. Small models
/// asked about a chunk that does not hold the answer often make one up
/// ("2021-04-15" for a licence dated 29 June 2007, "10 years" beside a
/// clause that says three); such an answer names numbers and words the
/// chunk does not have. Answers with neither (yes, no, a short name) pass.
pub(crate) fn answer_grounded(answer: &str, chunk: &str, task: &str) -> bool {
    if !figures_grounded(answer, chunk, task) {
        return false;
    }
    let (present, total) = own_words_in(answer, chunk, task);
    present * 2 >= total
}

/// Whether every figure a text states is in the chunk: its addresses,
/// identifiers and decimals as written unless the task states them (see
/// [`exact_tokens_in`]), its
/// numbers (in digits or words; a date may be reformatted), its quantities
/// with units, and its whole dates.
fn figures_grounded(answer: &str, chunk: &str, task: &str) -> bool {
    if !exact_tokens_in(answer, chunk, task) {
        return false;
    }
    let in_chunk = chunk_numbers(chunk);
    if !claimed_numbers(answer).iter().all(|n| in_chunk.contains(n)) {
        return false;
    }
    let claims = unit_claims(answer);
    if !claims.is_empty() {
        let stated: HashSet<String> = quantities(chunk).into_iter().collect();
        if !claims.iter().all(|q| stated.contains(q)) {
            return false;
        }
    }
    // A date's day and month are not numbers the check above looks at (a
    // date may be rewritten in any form), but a whole date must be one the
    // chunk has: a changelog chunk holds years and months of several
    // releases, and a small model combined them into one that none has
    // ("2023-10-24" beside "Released on 2023-10-02").
    let answer_dates = full_dates(answer);
    if !answer_dates.is_empty() {
        let chunk_dates: HashSet<(u32, u32, u32)> =
            full_dates(chunk).into_iter().flatten().collect();
        if !answer_dates
            .iter()
            .all(|readings| readings.iter().any(|r| chunk_dates.contains(r)))
        {
            return false;
        }
    }
    true
}

/// How many of a text's own words (see [`own_words`]) the chunk holds, of
/// how many.
fn own_words_in(text: &str, chunk: &str, task: &str) -> (usize, usize) {
    let chunk_lower = chunk.to_lowercase();
    let words = own_words(text, task);
    let present = words
        .iter()
        .filter(|w| chunk_lower.contains(w.as_str()))
        .count();
    (present, words.len())
}

/// The longer words of `text` (four letters or more, lowercased) that the
/// task does not already hold, common words and month names aside. Words
/// an answer repeats from the task show nothing: "The top item in the Run
/// menu after it was reordered is 'Exit IDLE'" is grounded by "Exit IDLE"
/// or not at all. Month names neither: a date may be rewritten ("October
/// 2, 2023" for "2023-10-02"), and dates are checked on their own.
fn own_words(text: &str, task: &str) -> Vec<String> {
    let task_words: HashSet<String> = task
        .split(|c: char| !c.is_alphabetic())
        .map(str::to_lowercase)
        .collect();
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .filter(|w| {
            !COMMON_WORDS.contains(&w.as_str())
                && !task_words.contains(w)
                && month_number(w).is_none()
        })
        .collect()
}

/// Whether all of a worker's explanation is in its chunk: its figures, as
/// an answer's are checked, and every one of its own longer words (see
/// [`own_words`]), not half. The task's words are left out: an explanation
/// may say the task back in its own words ("The offer must remain valid
/// for at least three years", where the GPL says "valid for at least three
/// years"), and one that only does so is caught by [`only_links`]. The
/// 0.5B model wrote "The tests are executed using the `pytest` framework."
/// beside the answer "Python", on a README that never names pytest, and
/// the remote answered "pytest"; but another's "The offer must remain
/// valid for at least three years ..." was the GPL's own words beside an
/// unusable answer, and the remote answered right from it (run 25).
pub(crate) fn borne_out(text: &str, chunk: &str, task: &str) -> bool {
    if !figures_grounded(text, chunk, task) {
        return false;
    }
    let (present, total) = own_words_in(text, chunk, task);
    present == total
}

/// Whether a worker's explanation only wraps its answer in the task's words
/// ("The excerpt states that the GNU General Public License was published
/// in 2007." beside the answer "2007"): it asserts the very link the remote
/// model has to weigh, and shows nothing of the chunk. Asked for the year of
/// a version 4 that does not exist, the 0.5B worker wrote that beside a
/// "2007" its chunk has only as a patent-licence date (run 31).
pub(crate) fn only_links(explanation: &str, answer: &str, task: &str) -> bool {
    let answer = word_set(answer);
    let rest: Vec<String> = words(explanation).filter(|w| !answer.contains(w)).collect();
    restates(&rest.join(" "), task)
}

/// Whether a citation holds no word but the answer's ("pyenv-virtualenv"
/// cited as "pyenv-virtualenv"): it shows where the answer is, not that it
/// answers.
pub(crate) fn only_the_answer(citation: &str, answer: &str) -> bool {
    let answer = word_set(answer);
    words(citation).all(|w| answer.contains(&w))
}

/// Words that carry no answer: articles, linking verbs, prepositions, the
/// words small models wrap a restated task in ("the file states"), and
/// those of advice given instead of an answer ("you can read the entire
/// document to find the minimum RAM", a worker's answer in run 33 made of
/// its task and advice). Short on purpose: "yes", "no", "both" and "none"
/// are answers.
pub(crate) const FILLER_WORDS: &[&str] = &[
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "it", "its", "of", "for", "to",
    "in", "on", "at", "by", "as", "and", "or", "with", "from", "this", "that", "these", "those",
    "which", "what", "who", "where", "when", "how", "there", "here", "file", "files", "line",
    "excerpt", "document", "text", "states", "stated", "says", "mentions", "answer", "task", "s",
    "you", "your", "we", "can", "could", "should",
];

/// Whether an answer only restates what it was asked (`asked`: the task,
/// its advice, the document's name): every word of it, filler aside, is
/// one of theirs. Such an answer passes the grounding check (words taken
/// from the task show nothing, and there is nothing else to check) but
/// names nothing: on pyenv's README the 0.5B workers answered "Read the
/// README.md file for the minimum required RAM for pyenv." (their own
/// instruction) in 9 of 11 chunks, and "pyenv" to "With which test
/// framework are pyenv's tests executed?", and the remote model passed
/// them on.
pub(crate) fn restates(answer: &str, asked: &str) -> bool {
    let asked = word_set(asked);
    let said: HashSet<String> = words(answer)
        .filter(|w| !FILLER_WORDS.contains(&w.as_str()))
        .collect();
    if said.is_empty() || !said.iter().all(|w| asked.contains(w)) {
        return false;
    }
    // A figure is the answer's own even when the task or the document's
    // name has it ("3" beside "gpl-3.txt"): whether it is right is the
    // grounding check's to say. Not in an answer of five words or more,
    // all of them the task's: that is the question said back ("For Python
    // 2.7.18, the user-provided patches add support for which
    // environments?", run 25).
    said.len() >= ECHO_WORDS || !said.iter().any(|w| w.bytes().any(|b| b.is_ascii_digit()))
}

/// How many distinct words of the task an answer must repeat, and nothing
/// else, to be the question said back even with a figure in it.
const ECHO_WORDS: usize = 5;

/// Whether an answer is only a figure of the task itself, with nothing
/// but the task's words around it: asked which license section 13 allows
/// combining with, a worker answered "13" (its citation, a real line of
/// the GPL, named section 13), and it was shown first (run 31). A figure
/// only the document's name holds ("3" beside `gpl-3.txt`) is not one:
/// whether it is right is the grounding check's to say (see [`restates`]).
pub(crate) fn figure_of_the_task(answer: &str, task: &str) -> bool {
    let asked = word_set(task);
    let said: Vec<String> = words(answer)
        .filter(|w| !FILLER_WORDS.contains(&w.as_str()))
        .collect();
    said.iter().any(|w| w.bytes().any(|b| b.is_ascii_digit()))
        && said.iter().all(|w| asked.contains(w))
}

/// Whether an answer only names the document it was read in ("GPL-3" from
/// `gpl-3.txt`): asked which treaty the GPL refers to, most 0.5B workers
/// answered "GPL-3", which names no treaty. Case, punctuation and the file
/// extension do not matter.
pub(crate) fn names_the_document(answer: &str, document: &str) -> bool {
    let key = |text: &str| -> String {
        text.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let file = document.rsplit(['/', '\\']).next().unwrap_or(document);
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let answer = key(answer.trim().trim_end_matches('.'));
    !answer.is_empty() && (answer == key(stem) || answer == key(file))
}

/// What a task asks for that an answer must have the form of: an email
/// address holds "@", a web address "://" or "www.". `None` when the answer
/// has the form, or the task asks for neither. Asked for the address to
/// report GPL violations to (the licence gives none), a worker answered
/// with a web page of its chunk, and the remote model passed it on as the
/// email address.
pub(crate) fn wrong_form(answer: &str, task: &str) -> Option<&'static str> {
    let words: Vec<String> = task
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .map(str::to_lowercase)
        .collect();
    let asks = |names: &[&str]| words.iter().any(|w| names.contains(&w.as_str()));
    let lower = answer.to_lowercase();
    if asks(&["email", "e-mail", "emails", "e-mails"]) && !lower.contains('@') {
        return Some("an email address");
    }
    if asks(&["url", "urls", "website", "webpage"])
        && !(lower.contains("://") || lower.contains("www."))
    {
        return Some("a web address");
    }
    let how_much = words
        .windows(2)
        .any(|w| w[0] == "how" && (w[1] == "many" || w[1] == "much"));
    if how_much && !states_an_amount(&lower) {
        return Some("an amount");
    }
    None
}

/// Whether a (lower-case) answer states an amount: a digit, a number word
/// ("one", "ten", "hundred"), or none at all ("no", "zero", "unlimited").
/// Asked how much disk space each Python version takes (pyenv's README
/// never says), Minion's remote model passed on "The disk space used by
/// each Python version is determined by the size of the corresponding
/// executable file." (runs 33 to 43); of every answer to a "how many" or
/// "how much" question in runs 15 to 45, those without an amount were
/// wrong or said the documents do not say.
fn states_an_amount(answer: &str) -> bool {
    answer.bytes().any(|b| b.is_ascii_digit())
        || words(answer).any(|w| {
            number_word(&w).is_some()
                || matches!(
                    w.as_str(),
                    "one"
                        | "zero"
                        | "no"
                        | "none"
                        | "hundred"
                        | "thousand"
                        | "million"
                        | "unlimited"
                )
        })
}

/// Refuses a final answer that lacks the form its task asks for (see
/// [`wrong_form`]), unless it says the documents do not give one. Asked
/// for the email address to report GPL violations to (the licence gives
/// none), Minion's remote model passed on the Free Software Foundation's
/// web page as the answer.
pub(crate) fn in_the_asked_form(answer: &str, task: &str) -> Result<(), String> {
    match wrong_form(answer, task) {
        Some(form) if !crate::replies::says_not_there(answer) => Err(format!(
            "the task asks for {form}, and the answer gives none. Answer with the one the small model reported; if it reported none, say that the documents do not say"
        )),
        _ => Ok(()),
    }
}

/// The versions a text names: digits joined by dots ("3.12.0", "2.7.18",
/// "1.5"), as written, and a number right after the word "version" ("4"
/// of "version 4 of the GNU General Public License").
fn versions(text: &str) -> Vec<&str> {
    let is_version = |token: &str| {
        token
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    };
    let dotted = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|token| token.trim_matches('.'))
        .filter(|token| token.contains('.') && is_version(token));
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '.'))
        .map(|token| token.trim_matches('.'))
        .filter(|token| !token.is_empty())
        .collect();
    let numbered = words
        .windows(2)
        .filter(|pair| pair[0].eq_ignore_ascii_case("version") && is_version(pair[1]))
        .map(|pair| pair[1]);
    dotted.chain(numbered).collect()
}

/// The versions `task` names when `excerpt` (a chunk with its section's
/// heading) names none of them, or `None`. An excerpt that never mentions
/// the release a task asks about answers another release's question: on
/// IDLE's changelog the 0.5B model, asked for the date of 3.12.0, quoted
/// "Released on 2016-12-23" from the 3.6.0 entry, a real line that the
/// citation check calls verified, and the remote model chose it over the
/// right date. A version counts as mentioned in a longer one ("3.12" in
/// "3.12.0"). A version asked for by number alone ("version 4") rules out
/// only an excerpt that names other versions ("Version 3, 29 June 2007").
pub(crate) fn other_versions(excerpt: &str, task: &str) -> Option<String> {
    let asked = versions(task);
    if asked.is_empty() {
        return None;
    }
    let named = versions(excerpt);
    let mentioned = |asked: &str| {
        named.iter().any(|n| {
            n.strip_prefix(asked)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    };
    // A version asked for by number alone ("version 4") rules out only an
    // excerpt that names another one: every chunk of a licence is about
    // its one version, but few of them say so.
    let numbered_only = asked.iter().all(|a| !a.contains('.'));
    if asked.iter().any(|a| mentioned(a)) || (numbered_only && named.is_empty()) {
        None
    } else {
        Some(asked.join(", "))
    }
}

/// Words that show a task is about issue, bug or change numbers.
const REFERENCE_TOPICS: &[&str] = &[
    "issue", "bug", "ticket", "pull", "pr", "gh", "bpo", "cve", "commit",
];

/// Whether a task asks about the document's own numbering or an entry's
/// position ("which section", "at which position"): then a number that
/// numbers something is what it asks for.
pub(crate) fn about_numbering(task: &str) -> bool {
    mentions_any(task, NUMBERING_TOPICS)
}

/// Whether `task` has one of `topics` as a word, or its plural ("issues").
fn mentions_any(task: &str, topics: &[&str]) -> bool {
    words(task).any(|w| topics.iter().any(|t| w == *t || w == format!("{t}s")))
}

/// Words that show a task is about a document's own numbering.
const NUMBERING_TOPICS: &[&str] = &[
    "section",
    "subsection",
    "article",
    "clause",
    "paragraph",
    "chapter",
    "part",
    "item",
    "step",
    "heading",
    "position",
    "index",
    "rank",
    "order",
];

/// Words after which a number names a part of the document.
const NUMBERING_WORDS: &[&str] = &[
    "section",
    "sections",
    "subsection",
    "article",
    "clause",
    "paragraph",
    "chapter",
];

/// Whether an answer that is only a small number ("6", "Section 10") takes
/// it from the excerpt's own numbering while the task is not about it:
/// every time the excerpt has the number, it numbers a heading or a list
/// item (first on its line, before "." or ")") or follows "section",
/// "article", "clause", "paragraph", "chapter" or "§". Such a number
/// names a part of the text; it does not count, measure or date anything.
/// On the GPL, whose sections are numbered, the 0.5B workers answered "6"
/// to how long a written offer stays valid (section 6 is "Conveying
/// Non-Source Forms"), "10" to how many days a licensee has to cure a
/// violation and "14" to the date of version 3, and the grounding check
/// passed each: the digits are in the chunk. An excerpt that also writes
/// the number as a word ("three years" beside "3. Protecting ...") has it
/// as an amount too, and is left alone.
pub(crate) fn numbering_as_answer(answer: &str, excerpt: &str, task: &str) -> bool {
    let bare = answer.trim().trim_end_matches('.').trim();
    let digits = bare.trim_start_matches(|c: char| c.is_alphabetic() || c == ' ' || c == '§');
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let about_numbering = about_numbering(task);
    let value = digits.trim_start_matches('0');
    let as_word = excerpt
        .split(|c: char| !c.is_alphabetic())
        .map(str::to_lowercase)
        .any(|w| number_word(&w) == Some(value));
    if about_numbering || as_word {
        return false;
    }
    let mut seen = false;
    for (at, _) in excerpt.match_indices(digits) {
        let before = &excerpt[..at];
        let after = &excerpt[at + digits.len()..];
        // Part of a longer number, or of a version or decimal ("3.6").
        if before.ends_with(|c: char| c.is_ascii_digit() || c == '.' || c == ',')
            || after.starts_with(|c: char| c.is_ascii_digit())
            || (after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit()))
        {
            continue;
        }
        seen = true;
        let line_so_far = before.rsplit('\n').next().unwrap_or(before);
        let heading = line_so_far.trim().is_empty() && after.starts_with(['.', ')']);
        let trimmed = before.trim_end();
        let last_word = trimmed
            .rsplit(|c: char| !c.is_alphanumeric())
            .next()
            .map(str::to_lowercase);
        let named = trimmed.ends_with('§')
            || last_word.is_some_and(|w| NUMBERING_WORDS.contains(&w.as_str()));
        if !(heading || named) {
            return false;
        }
    }
    seen
}

/// Whether an answer that is only a number (`32984`, `#32984`,
/// `bpo-32984`) takes it from an issue or change reference in the chunk
/// (`#32984`, `bpo-32984`, `gh-120083`, `issue 21986`) while the task is
/// not about such references. A reference names a change: it does not
/// count, measure or date anything, so it cannot answer "how many lines"
/// or "which PEP". Changelogs are full of them, and a small model asked for
/// a number it cannot find picks one; the plain grounding check passes it
/// because the digits are in the chunk.
pub(crate) fn reference_as_answer(answer: &str, chunk: &str, task: &str) -> bool {
    let Some(digits) = reference_digits(answer) else {
        return false;
    };
    let about_references = mentions_any(task, REFERENCE_TOPICS) || task.contains('#');
    if about_references {
        return false;
    }
    let mut seen = false;
    for (at, _) in chunk.match_indices(digits) {
        let before = &chunk[..at];
        let after = &chunk[at + digits.len()..];
        if before.ends_with(|c: char| c.is_ascii_digit())
            || after.starts_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        seen = true;
        if !is_reference_prefix(before) {
            return false;
        }
    }
    seen
}

/// The number of an answer that is only a number or a reference to one
/// (`32984`, `#32984`, `bpo-32984`), when it has two digits or more.
pub(crate) fn reference_digits(answer: &str) -> Option<&str> {
    let digits = answer
        .trim()
        .trim_end_matches('.')
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .trim_start_matches(['#', '-', ' ']);
    (digits.len() >= 2 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Whether the text just before a number makes it a reference: `#`, a
/// tracker's tag and a dash (`bpo-`, `gh-`, `CVE-`), or "issue "/"bug ".
/// Capitalised tags of issue trackers and advisories, as in `CVE-2024-1`
/// or `JDK-8301234`.
const TRACKER_TAGS: &[&str] = &["cve", "ghsa", "jdk", "bpo", "gh", "pr", "bug", "issue"];

fn is_reference_prefix(before: &str) -> bool {
    if before.ends_with('#') {
        return true;
    }
    if let Some(tag) = before.strip_suffix('-') {
        let start = tag
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .len();
        let tag = &tag[start..];
        // Trackers tag in lower case (`bpo-`, `gh-`); a capitalised tag is
        // a tracker's only when it is a known one: "TR-1886" is an access
        // code, the very answer to "what is the access code", and was
        // dropped as a reference (run 39).
        let lower = tag.chars().all(|c| c.is_ascii_lowercase());
        return tag.len() >= 2
            && (lower || TRACKER_TAGS.contains(&tag.to_ascii_lowercase().as_str()));
    }
    let lower = before.trim_end().to_lowercase();
    let last_word = lower.rsplit(|c: char| !c.is_alphanumeric()).next();
    before.ends_with(' ') && last_word.is_some_and(|w| ["issue", "bug", "pr"].contains(&w))
}

/// The first specific thing in `answer` that `sources` never mention: a
/// number of three digits or more, an email address, a URL or path, a
/// dotted or underscored identifier. A remote model that never reads the
/// documents can only have such things from what it was told (`sources`:
/// the task and the local side's words); one it names anyway is made up.
pub(crate) fn unsupported_specific(answer: &str, sources: &str) -> Option<String> {
    let known_numbers: HashSet<String> = numbers(sources).into_iter().collect();
    if let Some(number) = numbers(answer)
        .into_iter()
        .find(|n| n.len() >= 3 && !known_numbers.contains(n))
    {
        return Some(number);
    }
    let lower_sources = sources.to_lowercase();
    answer
        .split_whitespace()
        .map(|token| {
            token
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|token| {
            !token
                .chars()
                .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
        })
        .find(|token| {
            crate::replies::is_identifier(token) && !lower_sources.contains(token.as_str())
        })
}

/// Month and weekday names, which a remote model may write out when it
/// restates a date it was told in digits ("2023-10-02" as "October 2,
/// 2023"): a name it was not told, but not a made-up one.
const CALENDAR_NAMES: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The first name in `answer` that `sources` never mention: a word that
/// opens with a capital letter inside a sentence ("Affero", "MIT", "WIPO"),
/// not its first word, not a month or weekday. Told that section 13 allows
/// combining with "the GNU Affero General Public License", the 1.5B remote
/// model answered "the MIT license", which the GPL never names. Words are
/// compared whole and without case: "MIT" is not in "submit".
pub(crate) fn unsupported_name(answer: &str, sources: &str) -> Option<String> {
    unknown_name(answer, &word_set(sources))
}

/// The words of a text, lowercased, split at anything not a letter or a
/// digit: what [`unknown_name`] looks names up in.
fn word_set(text: &str) -> HashSet<String> {
    words(text).collect()
}

/// Text as names are compared in it: lower case, letters and digits only,
/// so that "IDLE\n  Dark", "pyenv-win" and "Pyenv Win" read alike. Nothing
/// is lost to a line break, a hyphen or a space the question spells
/// otherwise; a name is then "mentioned" more often, never less.
pub(crate) fn squashed(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A text's words, lowercased, split at anything not a letter or a digit:
/// "In which year?" and "in which year" are the same words.
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The first name in `answer` (see [`unsupported_name`]) whose words are
/// not all in `known`.
fn unknown_name(answer: &str, known: &HashSet<String>) -> Option<String> {
    let mut sentence_start = true;
    for token in answer.split_whitespace() {
        let word = token.trim_matches(|c: char| !c.is_alphanumeric());
        let opens_sentence = sentence_start;
        sentence_start = token.ends_with(['.', ':', '!', '?']);
        let capitalised = word.chars().next().is_some_and(char::is_uppercase);
        // A unit ("GB", "MB") is not a name: its figure is checked instead.
        if opens_sentence || !capitalised || word.chars().count() < 2 || unit(word).is_some() {
            continue;
        }
        // Each part of a joined name ("pyenv-win", "Run-Module") is a word
        // of its own in `known`.
        let found = word
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .all(|w| known.contains(&w) || CALENDAR_NAMES.contains(&w.as_str()));
        if !found {
            return Some(word.to_string());
        }
    }
    None
}

/// Refuses a final answer that names something (a number, an address, an
/// identifier, a name) the remote model was never told: it knows the
/// documents only through the findings, so such a thing is made up.
pub(crate) fn told_only(answer: &str, sources: &str) -> Result<(), String> {
    match unsupported_specific(answer, sources).or_else(|| unsupported_name(answer, sources)) {
        Some(made_up) => Err(format!(
            "`answer` names {made_up:?}, which nothing you were told contains: you know the documents only through what the small models reported, so the answer cannot name anything they did not. If what they reported does not answer the task, say that the documents do not say"
        )),
        None => Ok(()),
    }
}

/// The decimal figures of a text ("1.5" in "1.5GB"), leaving out dotted
/// versions ("3.12.1"), whose parts are not amounts.
fn decimals(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|run| run.trim_matches('.'))
        .filter(|run| run.matches('.').count() == 1)
        .filter(|run| run.split('.').all(|part| !part.is_empty()))
        .map(str::to_string)
        .collect()
}

/// The figures of a run's documents, gathered once so that each local
/// answer of the run is checked against them without reading the
/// documents again.
pub(crate) struct DocumentFigures {
    numbers: HashSet<String>,
    decimals: HashSet<String>,
    /// Quantities ("1 gb"), for the counts of one or none an answer states.
    quantities: HashSet<String>,
    /// Every word, lowercased, for the names an answer states.
    words: HashSet<String>,
    /// The text [`squashed`], for the named figures an answer states.
    squashed: String,
}

impl DocumentFigures {
    /// The numbers (in digits or words) and decimals of `documents`.
    pub(crate) fn of(documents: &str) -> Self {
        Self {
            numbers: chunk_numbers(documents),
            decimals: decimals(documents).into_iter().collect(),
            quantities: quantities(documents).into_iter().collect(),
            words: word_set(documents),
            squashed: squashed(documents),
        }
    }

    /// These figures and those of `more` (the task: a figure the user
    /// wrote is not made up).
    pub(crate) fn and(mut self, more: &str) -> Self {
        self.numbers.extend(chunk_numbers(more));
        self.decimals.extend(decimals(more));
        self.quantities.extend(quantities(more));
        self.words.extend(word_set(more));
        self.squashed.push('\n');
        self.squashed.push_str(&squashed(more));
        self
    }

    /// The figures in what a local model said that the documents never
    /// contain: the numbers a claim makes (see [`claimed_numbers`]),
    /// decimals ("1.5" of "1.5GB") and a name (see [`unsupported_name`]:
    /// "the MIT license" from the GPL, run 20), each looked for anywhere in
    /// the documents. Asked about something the documents do not hold,
    /// Qwen2.5-Coder 0.5B answered "1.5GB" for pyenv's RAM needs and
    /// "1.4 MB" for a file's size; neither figure is in the README.
    pub(crate) fn missing_from(&self, said: &str) -> Vec<String> {
        // A decimal is checked whole, not as two numbers.
        let whole: String = said
            .split_whitespace()
            .filter(|token| decimals(token).is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let mut missing: Vec<String> = claimed_numbers(&whole)
            .into_iter()
            .filter(|n| !self.numbers.contains(n))
            .chain(
                decimals(said)
                    .into_iter()
                    .filter(|d| !self.decimals.contains(d)),
            )
            .chain(
                unit_claims(&whole)
                    .into_iter()
                    .filter(|q| !self.quantities.contains(q)),
            )
            .chain(unknown_name(said, &self.words))
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }

    /// What [`Self::missing_from`] finds, and each figure `said` gives
    /// with a name (see [`named_figures`]) that the documents never write
    /// together, however spaced: asked which JDK version first shipped
    /// SunPKCS11, the 0.5B model answered "Java 8"; the JDK's configuration
    /// has an 8 in many places and "Java" in many others, but never "Java
    /// 8", and the remote model passed it on (runs 24 to 43). Only for
    /// checks against the documents: a remote model may put a name to a
    /// version a local model reported bare, and that is not made up.
    /// Also each count of what `task` counts that the documents never
    /// state (see [`counts_of_the_counted`]).
    pub(crate) fn made_up_in(&self, said: &str, task: &str) -> Vec<String> {
        let mut made_up = self.missing_from(said);
        made_up.extend(
            named_figures(said)
                .into_iter()
                .filter(|named| !self.squashed.contains(&squashed(named))),
        );
        // A count whose number is already named is not named twice
        // ("1000, 1,000 lines").
        let counts: Vec<String> = counts_of_the_counted(said, task)
            .into_iter()
            .filter(|count| {
                count
                    .spelled
                    .iter()
                    .all(|form| !self.squashed.contains(&squashed(form)))
            })
            .filter(|count| !made_up.contains(&count.digits))
            .map(|count| count.said)
            .collect();
        made_up.extend(counts);
        made_up.dedup();
        made_up
    }
}

/// The counts `said` gives of the thing a "how many" task counts, each with
/// the ways the documents could state it: asked how many lines of code
/// idlelib holds (IDLE's changelog never says), the 0.5B model answered
/// "idlelib contains 10 lines of code." in nine runs; the changelog has
/// many a 10 and many a line, never "10 lines". A count is stated when
/// the documents have its number, in digits or in words, right before the
/// counted word ("30 days", "ten lines"; a plural "s" aside, spacing and
/// thousands separators ignored). The counted word is the one after "how
/// many" ("lines" of "How many lines of code").
fn counts_of_the_counted(said: &str, task: &str) -> Vec<Count> {
    let asked: Vec<String> = words(task).collect();
    let Some(counted) = asked
        .windows(3)
        .find(|w| w[0] == "how" && w[1] == "many")
        .map(|w| singular(&w[2]))
        // A word that counts nothing ("how many of the", "how many more").
        .filter(|word| {
            word.len() >= 3
                && !matches!(
                    word.as_str(),
                    "the"
                        | "these"
                        | "those"
                        | "its"
                        | "their"
                        | "your"
                        | "our"
                        | "are"
                        | "was"
                        | "were"
                        | "more"
                        | "other"
                )
        })
    else {
        return Vec::new();
    };
    let tokens: Vec<&str> = said.split_whitespace().collect();
    let mut counts = Vec::new();
    for pair in tokens.windows(2) {
        let (number, noun) = (bare(pair[0]), bare(pair[1]));
        if singular(&noun) != counted {
            continue;
        }
        let digits = match number_word(&number) {
            Some(digits) => digits.to_string(),
            None if number.chars().all(|c| c.is_ascii_digit() || c == ',') => {
                number.replace(',', "")
            }
            None => continue,
        };
        let mut spelled = vec![format!("{digits} {counted}")];
        spelled.extend(
            NUMBER_WORDS
                .iter()
                .filter(|(_, d)| *d == digits)
                .map(|(word, _)| format!("{word} {counted}")),
        );
        counts.push(Count {
            said: format!(
                "{} {noun}",
                pair[0].trim_matches(|c: char| !c.is_alphanumeric())
            ),
            digits,
            spelled,
        });
    }
    counts
}

/// A count an answer gives (see [`counts_of_the_counted`]).
struct Count {
    /// As the answer writes it ("1,000 lines").
    said: String,
    /// Its number in digits ("1000").
    digits: String,
    /// The ways the documents could state it ("1000 line").
    spelled: Vec<String>,
}

/// A word without a plural "s" ("lines" is "line"; "is" stays).
fn singular(word: &str) -> String {
    match word.strip_suffix('s') {
        Some(one) if one.chars().count() >= 3 => one.to_string(),
        _ => word.to_string(),
    }
}

/// The figures `said` gives with a name before them ("Java 8", "QEMU
/// 1.1", "PEP 3120"): a word inside a sentence that opens with a capital
/// letter, is all letters and is no month, weekday or filler, then a
/// number or a version ("8", "3.4.0", "3.13a1").
fn named_figures(said: &str) -> Vec<String> {
    let tokens: Vec<&str> = said.split_whitespace().collect();
    let trim = |token: &str| {
        token
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '.')
            .trim_end_matches('.')
            .to_string()
    };
    let mut named = Vec::new();
    for (i, pair) in tokens.windows(2).enumerate() {
        let opens_sentence = i == 0 || tokens[i - 1].ends_with(['.', ':', '!', '?']);
        let (name, figure) = (trim(pair[0]), trim(pair[1]));
        let lower = name.to_lowercase();
        let a_name = name.chars().next().is_some_and(char::is_uppercase)
            && name.chars().all(char::is_alphabetic)
            && !CALENDAR_NAMES.contains(&lower.as_str())
            && !FILLER_WORDS.contains(&lower.as_str());
        let a_figure = figure.starts_with(|c: char| c.is_ascii_digit())
            && figure
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.')
            && figure.chars().filter(char::is_ascii_alphabetic).count() <= 2;
        if !opens_sentence && a_name && a_figure {
            named.push(format!("{name} {figure}"));
        }
    }
    named
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_named_as_the_documents_never_name_it_is_made_up() {
        let conf = "# Java 17 configuration\nsecurity.provider.8=SunPCSC\nlibrary=java.base\n";
        let figures = DocumentFigures::of(conf).and("Which JDK version shipped SunPKCS11?");
        assert_eq!(
            figures.made_up_in("It first shipped in Java 8.", ""),
            vec!["Java 8".to_string()]
        );
        // Written together in the documents, however spaced, it stands.
        assert!(figures.made_up_in("It shipped in Java 17.", "").is_empty());
        assert!(
            figures
                .made_up_in("It has provider 8, SunPCSC.", "")
                .is_empty()
        );
        // A sentence's first word, a month or filler is no name; the plain
        // figure check still applies to the figure itself.
        assert!(figures.made_up_in("Java 8.", "").is_empty());
        assert!(
            figures
                .made_up_in("Released in June 8 times.", "")
                .is_empty()
        );
        // A count of what a "how many" task counts must be stated as one.
        let task = "How many lines of code does it have?";
        let news = DocumentFigures::of("Fixed 10 bugs in 3 lines.\nRewrote five lines.\n");
        assert_eq!(
            news.made_up_in("It has 10 lines of code.", task),
            ["10 lines"]
        );
        assert!(news.made_up_in("It has 3 lines.", task).is_empty());
        assert!(
            news.made_up_in("It has 10 Lines.", "how many bugs")
                .is_empty()
        );
        assert!(
            news.made_up_in("It has 10 lines.", "What is it?")
                .is_empty()
        );
        // In words, or with a separator, it is the same count.
        assert!(news.made_up_in("It has five lines.", task).is_empty());
        assert!(news.made_up_in("It has 5 lines.", task).is_empty());
        let big = DocumentFigures::of("It has 1,000 lines.");
        assert!(big.made_up_in("It has 1000 lines.", task).is_empty());
        assert_eq!(big.made_up_in("It has 2,000 lines.", task), ["2000"]);
        // Not for what the remote model was told: only `missing_from`.
        assert!(
            figures
                .missing_from("It first shipped in Java 8.")
                .is_empty()
        );
        assert_eq!(
            named_figures("the IDLE 3.4.0 entry and PEP 3120."),
            ["IDLE 3.4.0", "PEP 3120"]
        );
    }

    #[test]
    fn a_final_answer_needs_the_asked_form_or_says_there_is_none() {
        let task = "What email address should GPL violations be reported to?";
        let refused = in_the_asked_form("The Free Software Foundation <https://fsf.org/>", task);
        assert!(refused.is_err_and(|why| why.contains("an email address")));
        assert!(in_the_asked_form("licensing@fsf.org", task).is_ok());
        assert!(in_the_asked_form("The documents do not say.", task).is_ok());
        assert!(in_the_asked_form("An email address is not given.", task).is_ok());
        assert!(in_the_asked_form("The license doesn\u{2019}t mention one.", task).is_ok());
        // "How many" and "how much" ask for an amount.
        let task = "How much disk space does each version take?";
        let refused = in_the_asked_form("It depends on the executable's size.", task);
        assert!(refused.is_err_and(|why| why.contains("an amount")));
        for answer in [
            "About 40 MB.",
            "Forty megabytes? No: ten.",
            "No space at all.",
        ] {
            assert!(in_the_asked_form(answer, task).is_ok(), "{answer}");
        }
        assert!(in_the_asked_form("The documents do not say.", task).is_ok());
        assert_eq!(wrong_form("Many.", "How many lines?"), Some("an amount"));
        assert_eq!(wrong_form("Bats.", "Which framework? Many use it."), None);
        // A task that asks for no particular form takes any answer.
        assert!(in_the_asked_form("The FSF.", "Who publishes the GPL?").is_ok());
    }

    #[test]
    fn a_figure_the_task_states_is_no_answer() {
        let task = "With which other license does section 13 allow a covered work to be combined?";
        assert!(figure_of_the_task("13", task));
        assert!(figure_of_the_task("Section 13", task));
        assert!(!figure_of_the_task(
            "GNU Affero General Public License",
            task
        ));
        assert!(!figure_of_the_task("6", task));
        assert!(!figure_of_the_task(
            "3",
            "What is the date of this license?"
        ));
    }

    #[test]
    fn an_explanation_that_only_wraps_the_answer_in_the_task_is_told_apart() {
        let task = "In which year was version 4 of the GNU General Public License published?";
        assert!(only_links(
            "The excerpt states that the GNU General Public License was published in 2007.",
            "2007",
            task
        ));
        assert!(!only_links(
            "The patent license was granted prior to 28 March 2007.",
            "2007",
            task
        ));
        assert!(
            !only_links("", "2007", task),
            "no explanation links nothing"
        );
    }

    #[test]
    fn figures_a_local_model_made_up_are_named() {
        let readme = "pyenv needs Python 3.12.1 or 3.9 builds; see issue 2048. It takes 2 minutes. \
Sizes are in MB; RAM varies.";
        assert_eq!(
            DocumentFigures::of(readme).missing_from("It needs 1.5GB of RAM."),
            ["1.5"]
        );
        assert_eq!(
            DocumentFigures::of(readme).missing_from("The file is 1.4 MB."),
            ["1.4"]
        );
        assert_eq!(
            DocumentFigures::of(readme).missing_from("About 4096 bytes, 7 times."),
            ["4096", "4096 byte", "7"]
        );
        // One of a unit is a figure; "two minutes" is in the README.
        assert_eq!(
            DocumentFigures::of(readme).missing_from("It needs 1GB of RAM and 1 minute."),
            ["1 gb", "1 minute"]
        );
        // Figures that are there, versions, dates and 0/1 pass.
        assert!(
            DocumentFigures::of(readme)
                .missing_from("Use 3.9, see issue 2048, wait two minutes.")
                .is_empty()
        );
        assert!(
            DocumentFigures::of(readme)
                .missing_from("Install 3.12.1; it takes 2 minutes.")
                .is_empty()
        );
        // A year the documents never mention is a figure too.
        assert_eq!(
            DocumentFigures::of(readme).missing_from("Released 5 June 2024."),
            ["2024"]
        );
        assert!(
            DocumentFigures::of(readme)
                .missing_from("The documents do not say; 1 or 0.")
                .is_empty()
        );
        // A figure the user wrote in the task is not made up.
        assert!(
            DocumentFigures::of(readme)
                .and("Does it build in under 90 seconds?")
                .missing_from("No, not in 90 seconds.")
                .is_empty()
        );
        // A name the documents never mention is made up too.
        let gpl = "You may combine it with version 3 of the GNU Affero General Public License.";
        assert_eq!(
            DocumentFigures::of(gpl).missing_from("The other license is the MIT license."),
            ["MIT"]
        );
        assert!(
            DocumentFigures::of(gpl)
                .missing_from("It is the GNU Affero General Public License.")
                .is_empty()
        );
    }

    #[test]
    fn answers_not_in_their_chunk_are_guesses() {
        let chunk = "GNU GENERAL PUBLIC LICENSE\n   Version 3, 29 June 2007\n\n Copyright (C) 2007 Free Software Foundation, Inc.";
        assert!(answer_grounded("29 June 2007", chunk, ""));
        assert!(answer_grounded("2007-06-29", chunk, ""));
        assert!(answer_grounded(
            "The license is dated 29 June 2007.",
            chunk,
            ""
        ));
        assert!(answer_grounded("Free Software Foundation", chunk, ""));
        assert!(answer_grounded("yes", chunk, ""));
        // Made-up dates and names.
        assert!(!answer_grounded("2021-04-15", chunk, ""));
        assert!(!answer_grounded("April 15, 2021", chunk, ""));
        assert!(!answer_grounded(
            "Richard Stallman at the Massachusetts Institute",
            chunk,
            ""
        ));
        // Words repeated from the task ground nothing.
        let news = "bpo-37748: Reorder the Run menu.  Put the most common choice,\nRun Module, at the top.";
        let task = "Find the top item in the Run menu after it has been reordered.";
        assert!(answer_grounded("The top item is 'Run Module'.", news, task));
        assert!(!answer_grounded(
            "The top item in the Run menu after it has been reordered is 'Exit IDLE'.",
            news,
            task
        ));
        // Leading zeros and thousands separators do not matter.
        assert!(answer_grounded("version 03", chunk, ""));
        assert!(answer_grounded("50,000 bytes", "limit = 50000 bytes", ""));
        assert!(answer_grounded("50000 bytes", "limit = 50,000 bytes", ""));
        assert!(!answer_grounded("60000 bytes", "limit = 50,000 bytes", ""));
    }

    #[test]
    fn small_numbers_must_be_in_the_chunk_unless_they_date_something() {
        let clause =
            "the offer must be valid for at least three years, and you have 30 days to cure it";
        assert!(answer_grounded("3 years", clause, ""));
        assert!(answer_grounded("three years", clause, ""));
        assert!(answer_grounded("within 30 days", clause, ""));
        assert!(!answer_grounded("10 years", clause, ""));
        assert!(!answer_grounded("ten years", clause, ""));
        assert!(!answer_grounded("60 days", clause, ""));
        // A date may be written in any form: its day and month are not checked.
        let dated = "Version 3, 29 June 2007";
        assert!(answer_grounded("2007-06-29", dated, ""));
        assert!(answer_grounded("06/29/2007", dated, ""));
        assert!(answer_grounded("June 29, 2007", dated, ""));
        assert!(answer_grounded("the 29th of June 2007", dated, ""));
        // The year is still checked.
        assert!(!answer_grounded("June 29, 2021", dated, ""));
        // And a whole date must be one the chunk has, not one made of the
        // year of one entry and the day of another.
        let news = "What's New in IDLE 3.12.0\nReleased on 2023-10-02\n=====\n\
What's New in IDLE 3.11.0\nReleased on 2022-10-24\n";
        assert!(answer_grounded("2023-10-02", news, ""));
        assert!(answer_grounded("October 2, 2023", news, ""));
        assert!(answer_grounded("2 Oct 2023", news, ""));
        assert!(answer_grounded("10/02/2023", news, ""));
        assert!(!answer_grounded("2023-10-24", news, ""));
        assert!(!answer_grounded("24 October 2023", news, ""));
        assert!(!answer_grounded("It was released on 2022-10-02.", news, ""));
        // "a" written as 1 is not a claim.
        assert!(answer_grounded("1 copy", "keep a copy of it", ""));
        // But one of a unit is.
        let readme = "pyenv 1.2 needs git; see section 1 for the 2 GB disk cache";
        assert!(!answer_grounded("1GB", readme, ""));
        assert!(!answer_grounded("at least 1 GB of RAM", readme, ""));
        assert!(answer_grounded("2GB", readme, ""));
        let license = "you may keep it for one year, or 1 GiB of logs, with 0 days' notice";
        assert!(answer_grounded("1 year", license, ""));
        assert!(answer_grounded("1GiB", license, ""));
        assert!(answer_grounded("no notice: 0 days", license, ""));
        assert!(!answer_grounded("1 month", license, ""));
        // A size is a claim whatever its count: a "2" elsewhere in the
        // chunk does not ground "2GB".
        assert!(!answer_grounded("2GB", "Step 2: install the shims.", ""));
        assert!(answer_grounded("2 GB", "It needs 2GB of memory.", ""));
        assert!(!answer_grounded("16 cores", "see section 16", ""));
        // Thousands and decimals are not counts of one or none.
        assert!(answer_grounded("2.0 GB", "needs 2.0 GB", ""));
        assert!(answer_grounded("1,000 days", "after 1,000 days", ""));
    }

    #[test]
    fn an_explanation_is_borne_out_only_by_its_chunk() {
        let task = "With which test framework are pyenv's tests executed?";
        let chunk = "Tests are executed using Bats: bats test/init.bats.";
        assert!(!borne_out(
            "The tests are executed using the pytest framework.",
            chunk,
            task
        ));
        assert!(borne_out("The tests are executed using Bats.", chunk, task));
        // The task's words need not be the chunk's ("remain" is not).
        let clause = "a written offer, valid for at least three years and valid for as long as you offer spare parts or customer support";
        assert!(borne_out(
            "The offer must remain valid for at least three years.",
            clause,
            "For at least how long must that offer remain valid?"
        ));
        assert!(!borne_out(
            "The offer must remain valid for at least 10 years.",
            clause,
            ""
        ));
    }

    #[test]
    fn an_answer_made_of_the_question_names_nothing() {
        let task = "Read the README.md file for the minimum required RAM for pyenv.";
        assert!(restates(task, task));
        // Advice made of the task and its advice.
        assert!(restates(
            "To find the minimum amount of RAM that pyenv needs at minimum, you can read the entire document to understand the context and the information provided.",
            "Find the minimum amount of RAM that pyenv needs at minimum.\nRead the entire document to understand the context and the information provided.\npyenv-README.md"
        ));
        assert!(restates(
            "The line that states the environment variable for pyenv.",
            "Find the line that states the environment variable for pyenv."
        ));
        assert!(restates(
            "pyenv",
            "With which test framework are pyenv's tests executed?"
        ));
        // An answer with one word of its own names something.
        assert!(!restates(
            "The MIT License",
            "Under which license is pyenv released?"
        ));
        assert!(!restates("No", "Does pyenv support Windows?"));
        assert!(!restates(
            "Run Module",
            "Which item was put at the top of the Run menu?"
        ));
        assert!(!restates(
            "PYENV_ROOT",
            "Which environment variable sets the root?"
        ));
        assert!(
            !restates("", "anything"),
            "an empty answer is another check's"
        );
        // The question said back keeps its figure and is still only the
        // question; a short answer's figure is its own.
        let task =
            "For Python 2.7.18, the user-provided patches add support for which environments?";
        assert!(restates(task, task));
        assert!(!restates("Python 2.7.18", task));
        assert!(!restates("3", "Which version, 3 or 4, of gpl-3.txt?"));
    }

    #[test]
    fn a_numbered_version_is_a_version() {
        let task = "Find the year version 4 of the GNU General Public License was published.";
        assert_eq!(
            other_versions("GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007", task),
            Some("4".to_string())
        );
        assert_eq!(
            other_versions(
                "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007",
                "Find the date of version 3."
            ),
            None
        );
        // A task that names no version is about none, and an excerpt that
        // names none may be about the one asked for.
        assert_eq!(other_versions("Version 3", "Find the date."), None);
        assert_eq!(other_versions("7. Additional Terms.", task), None);
    }

    #[test]
    fn an_excerpt_without_the_asked_version_answers_another_question() {
        let task = "On what date was IDLE 3.12.0 released?";
        let other = "What's New in IDLE 3.6.0 (since 3.5.0)\nReleased on 2016-12-23";
        assert_eq!(other_versions(other, task).as_deref(), Some("3.12.0"));
        let right = "What's New in IDLE 3.12.0\n(since 3.11.0)\nReleased on 2023-10-02";
        assert_eq!(other_versions(right, task), None);
        // A shorter version is mentioned by a longer one, not by a prefix
        // of its digits.
        assert_eq!(
            other_versions("IDLE 3.12.1 fixes", "What did 3.12 fix?"),
            None
        );
        assert!(other_versions("IDLE 3.1.2 fixes", "What did 3.12 fix?").is_some());
        // One of several asked versions is enough; a task with none, or
        // with a bare number, asks about no version.
        assert_eq!(
            other_versions("2.7.18: Apple Silicon", "2.7.18 or 3.8.0?"),
            None
        );
        assert_eq!(
            other_versions("anything", "What is the date of version 3?"),
            None
        );
        assert_eq!(
            other_versions("anything", "Which PEP is it, in the end."),
            None
        );
    }

    #[test]
    fn an_answer_in_the_wrong_form_or_naming_the_document_is_not_one() {
        assert!(names_the_document("GPL-3", "gpl-3.txt"));
        assert!(names_the_document("gpl-3.txt.", "docs/gpl-3.txt"));
        assert!(!names_the_document("3", "gpl-3.txt"));
        assert!(!names_the_document("the WIPO treaty", "gpl-3.txt"));
        let task = "Find the email address GPL violations are reported to.";
        assert_eq!(
            wrong_form("<https://www.gnu.org/licenses/why-not-lgpl.html>", task),
            Some("an email address")
        );
        assert_eq!(wrong_form("licensing@fsf.org", task), None);
        assert_eq!(
            wrong_form("see https://fsf.org", "Which URL lists the mirrors?"),
            None
        );
        assert_eq!(
            wrong_form("the FSF", "Which website lists the mirrors?"),
            Some("a web address")
        );
        assert_eq!(wrong_form("https://fsf.org", "Who publishes it?"), None);
    }

    #[test]
    fn section_numbers_do_not_answer_other_questions() {
        let excerpt = "  6. Conveying Non-Source Forms.\n\n  You may convey a covered work in object code form under the terms\nof sections 4 and 5, provided that you also convey the source, valid for\nas long as you offer spare parts (see section 10).\n\n  10. Automatic Licensing.";
        let task = "Find how long the written offer must remain valid.";
        assert!(numbering_as_answer("6", excerpt, task));
        assert!(numbering_as_answer("10.", excerpt, task));
        assert!(numbering_as_answer("Section 4", excerpt, task));
        // Asked about the numbering, a section number is the answer.
        assert!(!numbering_as_answer(
            "6",
            excerpt,
            "Which section covers non-source forms?"
        ));
        // A number the excerpt also uses as an amount, or writes as a word.
        let amounts = "  3. Protecting Users.\nThe offer stays valid for 3 years.";
        assert!(!numbering_as_answer("3", amounts, task));
        let words = "  3. Protecting Users.\nThe offer stays valid for three years.";
        assert!(!numbering_as_answer("3", words, task));
        // Not a bare number, or not in the excerpt at all.
        assert!(!numbering_as_answer("6 months", excerpt, task));
        assert!(!numbering_as_answer("7", excerpt, task));
        // Part of a version is not a heading number.
        assert!(!numbering_as_answer(
            "6",
            "  1. Install 3.6\nthen 6 more steps",
            task
        ));
    }

    #[test]
    fn issue_numbers_do_not_answer_other_questions() {
        let news = "bpo-32984: IDLE - set __file__ while running a startup file.\n\
Issue #21986: pickle code objects.\nPEP 3120 source encoding, 350 lines changed.";
        // "How many lines" and "which PEP" are not answered by a reference.
        assert!(reference_as_answer(
            "32984",
            news,
            "How many lines of code?"
        ));
        assert!(reference_as_answer(
            "#21986",
            news,
            "Which PEP does the change to always encode source as UTF-8 follow?"
        ));
        assert!(reference_as_answer("bpo-32984", news, "Which release?"));
        // A capitalised tag is a tracker's only when it is a known one.
        let codes = "The access code for Unit Cobalt is TR-1886. See JDK-8301234.";
        assert!(!reference_as_answer(
            "TR-1886",
            codes,
            "What is the access code?"
        ));
        assert!(reference_as_answer("8301234", codes, "How many lines?"));
        // A task about issues may be answered by one.
        assert!(!reference_as_answer(
            "32984",
            news,
            "Which bpo issue set __file__?"
        ));
        assert!(!reference_as_answer(
            "21986",
            news,
            "Which issue is it? Give the #"
        ));
        // Numbers that occur other than as a reference, and answers that are
        // more than a number, are left to the other checks.
        assert!(!reference_as_answer("3120", news, "Which PEP?"));
        assert!(!reference_as_answer("350", news, "How many lines?"));
        assert!(!reference_as_answer("32984 lines", news, "How many lines?"));
        assert!(!reference_as_answer("99999", news, "How many lines?"));
        // Part of a longer number is not an occurrence.
        assert!(!reference_as_answer("2984", news, "How many lines?"));
    }

    #[test]
    fn a_remote_answer_names_only_what_it_was_told() {
        let heard = "Task: which address? Findings: the FSF is at https://fsf.org/ and the limit is 50,000 bytes.";
        assert_eq!(
            unsupported_specific("Report it to gpl-violations@license.org.", heard),
            Some("gpl-violations@license.org".into())
        );
        assert_eq!(
            unsupported_specific("The limit is 60000 bytes.", heard),
            Some("60000".into())
        );
        assert_eq!(
            unsupported_specific("The limit is 50000 bytes.", heard),
            None
        );
        assert_eq!(unsupported_specific("See https://fsf.org/.", heard), None);
        assert_eq!(
            unsupported_specific("Use java.security settings.", heard),
            Some("java.security".into())
        );
        assert_eq!(
            unsupported_specific(
                "The documents do not say. Version 3.0 of 2007.",
                "dated 2007"
            ),
            None
        );
        assert_eq!(
            unsupported_specific("It is not in the documents.", ""),
            None
        );
    }

    #[test]
    fn a_remote_answer_names_no_one_it_was_not_told_of() {
        let heard = "With which other license may it be combined? Section 13 allows combining with \
version 3 of the GNU Affero General Public License. It was released on 2023-10-02; submit patches.";
        assert_eq!(
            unsupported_name("The other license is the MIT license.", heard),
            Some("MIT".into())
        );
        assert_eq!(
            unsupported_name(
                "The other license is the GNU Affero General Public License.",
                heard
            ),
            None
        );
        // The first word of a sentence, months, and names in other cases.
        assert_eq!(
            unsupported_name(
                "Released on October 2, 2023. Combine it with gnu affero.",
                heard
            ),
            None
        );
        assert_eq!(unsupported_name("Yes. Submit patches.", heard), None);
        assert_eq!(
            unsupported_name("It needs 2 GB, about 2048 MB.", heard),
            None
        );
        assert_eq!(
            unsupported_name("It was Mark Roseman.", heard),
            Some("Mark".into())
        );
        assert!(told_only("It is the MIT license.", heard).is_err_and(|why| why.contains("MIT")));
    }
}
