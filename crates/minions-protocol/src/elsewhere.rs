//! Figures from elsewhere: a Minion local answer that restates the task
//! around a figure the documents hold, but only in passages about
//! something else.
//!
//! Asked the JVM's default maximum heap size (the JDK's configuration never
//! says it), Qwen2.5-Coder 0.5B answered "The JVM uses a default maximum
//! heap size of 393216 bytes.", a figure real in the documents but said of
//! the HTTP client's largest header; asked which QEMU release brought zstd
//! compression for qcow2, it answered "In QEMU 1.1, zstd compression was
//! introduced for qcow2.", from a sentence on format extensions. Both
//! figures pass every check on made-up figures, and the remote model passed
//! both on in every run from 24 to 47. Minions drops the same figures from
//! its workers with [`figure_off_topic`](crate::evidence::figure_off_topic);
//! this is that check for an answer a sentence long, with the documents in
//! place of a worker's chunk.

use std::collections::HashSet;

use crate::ContextDocument;
use crate::evidence::{
    about, calendar_year, occurrences, quotes_around, sentence_ends, stem, topic_stems,
};
use crate::grounding::{FILLER_WORDS, about_numbering, words};

/// The figures that some sentence of `answer` states, restating the task
/// around them, and that the documents hold only in passages about
/// something else (see [`sentence_from_elsewhere`]). A local answer often
/// goes on after its claim: "... for qcow2 was 10.0.2. This version
/// introduced zstd compression for qcow2 in order to improve performance
/// ..." (run 50). Replayed over every Minion answer and local reply of runs
/// 15 to 50 (2026-12-01), it names seven figures, all in answers to
/// questions the documents do not answer or in wrong ones, and none in a
/// right one.
pub(crate) fn figures_from_elsewhere(
    answer: &str,
    documents: &[ContextDocument],
    task: &str,
) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut from = 0;
    let ends = sentence_ends(answer);
    for end in ends.into_iter().chain([answer.len()]) {
        for figure in sentence_from_elsewhere(&answer[from..end], documents, task) {
            if !found.contains(&figure) {
                found.push(figure);
            }
        }
        from = end;
    }
    found
}

/// The figures of `sentence` that the documents hold only in passages
/// about something else, when the sentence is the task's own words around
/// them: every place a document holds each such figure is quoted as
/// Minions quotes a worker's answer (its sentence, at most 90 characters
/// around the figure), and not one quote holds a word the task asks about
/// ([`topic_stems`]; the documents' names and words such as "default" do
/// not count). Empty when any figure has such a quote, when the sentence
/// says more than the task's words, its figures and their units (see
/// [`restated_figures`]), when a figure is a year (a date seldom sits
/// beside what it dates), when the task or the sentence is about the
/// documents' numbering (sections, articles, items), and for a figure the
/// documents lack (that one is made up, which other checks say).
fn sentence_from_elsewhere(
    sentence: &str,
    documents: &[ContextDocument],
    task: &str,
) -> Vec<String> {
    let names = documents
        .iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let topic = topic_stems(task, &names);
    let Some(figures) = restated_figures(sentence, task, &names, documents) else {
        return Vec::new();
    };
    // A figure that numbers a part of the documents ("It is in section
    // 40.") locates what the task asks about; its own sentence is a
    // heading, which need not name it.
    let numbering = about_numbering(task) || about_numbering(sentence);
    if topic.is_empty() || numbering || figures.iter().any(|f| calendar_year(f)) {
        return Vec::new();
    }
    let mut present = Vec::new();
    for figure in figures {
        let mut quotes: Vec<String> = Vec::new();
        for document in documents {
            match quotes_around(&figure, &document.text, MAX_PLACES - quotes.len()) {
                Some(more) => quotes.extend(more),
                // Held everywhere, a figure says nothing of where it came
                // from.
                None => return Vec::new(),
            }
        }
        if quotes.iter().any(|q| about(q, &topic)) {
            return Vec::new();
        }
        if !quotes.is_empty() {
            present.push(figure);
        }
    }
    present
}

/// The figures of an answer made of the task's words (a plural of one
/// counts: "uses" for "use"), filler, the documents' names, figures, a
/// figure's unit (the word just after it, when a document writes that
/// word just after it too: "393216 bytes") and at most one other word
/// ([`OTHER_WORDS`]). A figure the task itself names ("qcow2") is one of
/// its words. `None` for any other answer, or one without figures.
fn restated_figures(
    answer: &str,
    task: &str,
    names: &str,
    documents: &[ContextDocument],
) -> Option<Vec<String>> {
    let asked: HashSet<String> = words(&format!("{task}\n{names}"))
        .map(|w| stem(&w))
        .collect();
    let task_chars: Vec<char> = task.to_lowercase().chars().collect();
    let in_task = |token: &str| {
        let needle: Vec<char> = token.to_lowercase().chars().collect();
        !occurrences(&task_chars, &needle).is_empty()
    };
    let known = |word: &str| {
        FILLER_WORDS.contains(&word)
            || asked.contains(&stem(word))
            || word
                .strip_suffix('s')
                .is_some_and(|w| asked.contains(&stem(w)))
    };
    let mut figures: Vec<String> = Vec::new();
    let mut unit_of: Option<String> = None;
    let mut others = 0;
    for token in answer.split_whitespace() {
        let token = token.trim_matches(|c: char| !c.is_alphanumeric());
        if token.is_empty() {
            continue;
        }
        let after = unit_of.take();
        if token.chars().any(|c| c.is_ascii_digit()) {
            if !in_task(token) {
                figures.push(token.to_string());
                unit_of = Some(token.to_string());
            }
            continue;
        }
        for word in words(token) {
            let unit = || {
                after
                    .as_deref()
                    .is_some_and(|figure| written_after(figure, &word, documents))
            };
            if !known(&word) && !unit() {
                others += 1;
                if others > OTHER_WORDS {
                    return None;
                }
            }
        }
    }
    (!figures.is_empty()).then_some(figures)
}

/// The most places of one figure that are read; a figure the documents
/// hold more often is not judged (the quotes of a common "1" would be read
/// all over a long document, to say nothing).
const MAX_PLACES: usize = 200;

/// Words an answer may hold besides the task's and still restate it: a
/// synonym ("The version of QEMU that introduced zstd compression for
/// qcow2 was 10.0.2." to "In which QEMU release ...", run 50). Two more
/// would let in claims of their own ("The user-provided patches add
/// support for XCode 13.3, MacOS 11+ and Apple Silicon.", right in runs
/// 18 to 23); in the replays one let in no right answer.
const OTHER_WORDS: usize = 1;

/// Whether some document writes `word` just after `figure`, case and
/// spaces aside, and ending there: "393216 bytes", not "393216 bytesize".
fn written_after(figure: &str, word: &str, documents: &[ContextDocument]) -> bool {
    let pattern = format!(r"{}\s*{}", regex::escape(figure), regex::escape(word));
    let Ok(finder) = regex::RegexBuilder::new(&pattern)
        .case_insensitive(true)
        .build()
    else {
        return false;
    };
    documents.iter().any(|d| {
        finder
            .find_iter(&d.text)
            .any(|found| !d.text[found.end()..].starts_with(char::is_alphanumeric))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(name: &str, text: &str) -> ContextDocument {
        ContextDocument {
            name: name.into(),
            text: text.into(),
            pages: None,
        }
    }

    /// Shaped like the JDK's net.properties: the one place that holds the
    /// figure is about HTTP headers.
    const NET: &str = "#\n# Maximum HTTP field section size that a client is prepared to accept\n#\n\
# jdk.http.maxHeaderSize=393216\n#\n# This is the maximum header field section size that a client is prepared to accept.\n\
# This is computed as the sum of the size of the uncompressed header name, plus\n\
# the size of the uncompressed header value. A value of zero or a negative\n\
# value means no limit. If left unspecified, the default value is 393216 bytes\n# or 384kB.\n";

    const QEMU: &str = "qcow2\n\nQEMU image format, the most versatile format. It supports optional AES encryption, \
zlib or zstd based compression and multiple VM snapshots.\n\nSupported options:\n\n\
compat Determines the qcow2 version to use. compat=0.10 uses the traditional image format that can be \
read by any QEMU since 0.10. compat=1.1 enables image format extensions that only QEMU 1.1 and newer \
understand (this is the default). Amongst others, this includes zero clusters, which allow efficient \
copy-on-read for sparse images.\n\n\
compression_type This option configures which compression algorithm will be used. For images that use \
compat=0.10, only zlib compression is available. This option can only be enabled if compat=1.1 is specified.\n";

    #[test]
    fn a_figure_said_only_of_something_else_is_named() {
        let docs = [document("jdk17-conf/net.properties", NET)];
        let task = "What maximum heap size does the JVM use by default?";
        assert_eq!(
            figures_from_elsewhere(
                "The JVM uses a default maximum heap size of 393216 bytes.",
                &docs,
                task
            ),
            ["393216"]
        );
        let docs = [document("qemu-img.html", QEMU)];
        let task = "In which QEMU release was zstd compression for qcow2 first introduced?";
        assert_eq!(
            figures_from_elsewhere(
                "In QEMU 1.1, zstd compression was introduced for qcow2.",
                &docs,
                task
            ),
            ["1.1"]
        );
    }

    #[test]
    fn each_sentence_of_a_longer_answer_is_judged() {
        let docs = [document("qemu-img.html", QEMU)];
        let task = "In which QEMU release was zstd compression for qcow2 first introduced?";
        let said = "It came with compat 0.10, which any QEMU reads. In QEMU 1.1, zstd compression \
was introduced for qcow2. This release introduced zstd compression for qcow2 in order to improve \
performance and reduce the amount of data moved.";
        assert_eq!(figures_from_elsewhere(said, &docs, task), ["1.1"]);
    }

    #[test]
    fn a_figure_beside_the_tasks_words_stands() {
        let docs = [document("jdk17-conf/net.properties", NET)];
        let task = "What is the default maximum HTTP header size a client accepts?";
        assert!(
            figures_from_elsewhere(
                "The default maximum HTTP header size a client accepts is 393216 bytes.",
                &docs,
                task
            )
            .is_empty()
        );
        let docs = [document("qemu-img.html", QEMU)];
        let task = "Which compat level must be set to enable compression types?";
        let answer = "Compat level 1.1 must be set to enable compression types.";
        assert_eq!(
            restated_figures(answer, task, "qemu-img.html", &docs),
            Some(vec!["1.1".to_string()])
        );
        assert!(figures_from_elsewhere(answer, &docs, task).is_empty());
    }

    #[test]
    fn only_an_answer_of_the_tasks_words_is_judged() {
        let docs = [document("jdk17-conf/net.properties", NET)];
        let task = "What maximum heap size does the JVM use by default?";
        // Two words neither the task's nor the figure's unit: another
        // claim, left to the other checks. One is a synonym.
        assert!(
            figures_from_elsewhere("The header limit is 393216 bytes.", &docs, task).is_empty()
        );
        assert_eq!(
            figures_from_elsewhere("The JVM heap limit is 393216 bytes.", &docs, task),
            ["393216"]
        );
        // A unit the documents never write after the figure is a word of
        // its own: with one more, the answer says more than the task.
        assert!(
            figures_from_elsewhere("The JVM uses 393216 megabytes of memory.", &docs, task)
                .is_empty()
        );
        // A figure the documents lack is not this check's.
        assert!(figures_from_elsewhere("The JVM uses 512 bytes.", &docs, task).is_empty());
        // Nor is a year.
        let docs = [document(
            "news.txt",
            "Released on 2007-06-29 with new fonts.",
        )];
        assert!(
            figures_from_elsewhere(
                "The JVM heap came in 2007.",
                &docs,
                "When did the JVM heap come?"
            )
            .is_empty()
        );
    }

    #[test]
    fn a_figure_that_numbers_a_part_of_the_documents_stands() {
        let docs = [document(
            "report.txt",
            "Section 40 MARKER-00040.\n\nThe launch code is 7421.",
        )];
        assert!(figures_from_elsewhere("It is in section 40.", &docs, "code?").is_empty());
        assert!(figures_from_elsewhere("40.", &docs, "Which section has the code?").is_empty());
    }

    #[test]
    fn a_unit_must_follow_its_figure_in_the_documents() {
        let docs = [document(
            "d",
            "The limit is 393216 bytes; sizes in bytesize.",
        )];
        assert!(written_after("393216", "bytes", &docs));
        assert!(!written_after("393216", "byte", &docs));
        assert!(!written_after("384", "bytes", &docs));
    }
}
