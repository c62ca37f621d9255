//! The names a task asks about, which an excerpt that answers it mentions.
//!
//! A small worker answers from whatever its chunk holds. Asked for the
//! background of the "IDLE Dark" theme, the 0.5B model answered "gray"
//! from an entry about another widget ("the background is a contrasting
//! gray"), in a chunk that never says "IDLE Dark"; the remote model took
//! it over "cobalt blue" from the entry that adds the theme (runs 33 and
//! 35). Asked for the access code of an entity the document never names,
//! every model gave the one code the document has, another entity's. An
//! answer from an excerpt that names none of what the task asks about
//! answers another question.

use crate::ContextDocument;

/// The first of the task's names (see [`names`]) that `excerpt` (a chunk
/// with its section heading) does not mention, ignoring case, spaces and punctuation; `None` when
/// it mentions them all. A task offering alternatives ("the Orion fund or
/// Trial ZX-4") needs only one of them: each fact is in its own place.
/// Names the document's own name holds ("README" in `pyenv-README.md`)
/// are not asked about: a chunk seldom names its own document.
pub(crate) fn missing_name(excerpt: &str, task: &str, document: &str) -> Option<String> {
    let document = document.to_lowercase();
    let asked: Vec<String> = names(task)
        .into_iter()
        .filter(|name| !document.contains(&name.to_lowercase()))
        .collect();
    if asked.is_empty() {
        return None;
    }
    let excerpt = crate::grounding::squashed(excerpt);
    let mentioned = |name: &String| excerpt.contains(&crate::grounding::squashed(name));
    let alternatives = task.contains(" or ");
    if alternatives {
        return (!asked.iter().any(mentioned)).then(|| asked.join(" or "));
    }
    asked.into_iter().find(|name| !mentioned(name))
}

/// The first name the task asks about that none of the documents
/// mentions anywhere (see [`missing_name`]): the documents cannot answer
/// a question about something they never name. Asked for the access code
/// of "the Delta plant", which the document never names, Minion's models
/// gave another entity's code (runs 36 and 40); asked which IDLE release
/// added support for "Jupyter" notebooks, the 0.5B model said "The IDLE
/// release added support for Jupyter notebooks." (run 39), and Minions
/// read all 104 parts of a 300,000-character document to find nothing.
pub(crate) fn unmentioned(
    documents: &[ContextDocument],
    joined: &str,
    task: &str,
) -> Option<String> {
    let titles: Vec<&str> = documents.iter().map(|d| d.name.as_str()).collect();
    missing_name(joined, task, &titles.join(" "))
}

/// The names a task asks about: runs of capitalised words ("IDLE Dark",
/// "GNU General Public License", "Trial ZX-4", "Delta"), not counting a
/// sentence's first word, which any sentence capitalises. A run of acronyms
/// alone ("IDLE", "URL", "PEP", "UTF-8") is no name: acronyms are as often
/// common nouns of the field ("which URL") as names, and a changelog names
/// its program in its headings, not in every entry.
pub(crate) fn names(task: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let mut close = |run: &mut Vec<&str>| {
        if run.iter().any(|w| !acronym(w)) {
            found.push(run.join(" "));
        }
        run.clear();
    };
    // A sentence's first word is capitalised whatever it is ("What is the
    // launch code? Answer with the number only").
    let mut sentence_start = true;
    for raw in task.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let word = word
            .strip_suffix("'s")
            .or_else(|| word.strip_suffix("’s"))
            .unwrap_or(word);
        let capitalised = word.chars().next().is_some_and(char::is_uppercase);
        if capitalised && !sentence_start {
            run.push(word);
        } else {
            close(&mut run);
        }
        sentence_start = raw.ends_with(['.', '?', '!', ':']);
        // Punctuation after a word ends its name: "the Orion fund, Ward 7".
        if raw.ends_with([',', ';', ':', '?', '.', '!', '\'', '"']) {
            close(&mut run);
        }
    }
    close(&mut run);
    found
}

/// Whether a word is an acronym: capitals, digits and dashes, with four
/// capitals at most ("IDLE", "UTF-8", "ZX-4").
fn acronym(word: &str) -> bool {
    let capitals = word.chars().filter(char::is_ascii_uppercase).count();
    capitals <= 4
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_runs_of_capitalised_words_not_acronyms_alone() {
        assert_eq!(
            names("What colour is the background of the 'IDLE Dark' theme?"),
            ["IDLE Dark"]
        );
        assert_eq!(
            names("In which year was version 4 of the GNU General Public License published?"),
            ["GNU General Public License"]
        );
        assert_eq!(
            names("Which had the larger annual budget, the Orion fund or Trial ZX-4?"),
            ["Orion", "Trial ZX-4"]
        );
        assert_eq!(
            names("Which fork does the README recommend to Windows users?"),
            ["README", "Windows"]
        );
        assert!(
            names("From which URL does the recommended installer download its script?").is_empty()
        );
        assert!(
            names("Who wrote the patch that added scrolling to IDLE's module browser?").is_empty()
        );
        assert!(
            names("Which PEP does the change to always encode source as UTF-8 follow?").is_empty()
        );
        assert!(names("Article 11 of which treaty does the license refer to?").is_empty());
        assert!(
            names("What is the launch code? Answer with the number only: Say which section.")
                .is_empty()
        );
    }

    #[test]
    fn an_excerpt_must_mention_what_the_task_names() {
        let task = "What colour is the background of the 'IDLE Dark' theme?";
        let gray = "What's New in IDLE 3.8.0\nbpo-35771: the foreground is the same as normal text and the background is a contrasting gray.";
        let cobalt = "- Issue #24820: IDLE now has an 'IDLE\n  Dark' built-in text color theme, with a cobalt blue background.";
        assert_eq!(
            missing_name(gray, task, "idle-NEWS3.txt").as_deref(),
            Some("IDLE Dark")
        );
        assert_eq!(missing_name(cobalt, task, "idle-NEWS3.txt"), None);
        // One of the alternatives is enough.
        let task = "Which had the larger annual budget, the Orion fund or Trial ZX-4?";
        assert_eq!(
            missing_name("The annual budget of Trial ZX-4 was 981.", task, "d.md"),
            None
        );
        assert!(missing_name("The annual budget of Ward 7 was 981.", task, "d.md").is_some());
        // The document's own name is not asked of its chunks.
        let task = "Which fork does the README.md recommend to Windows users?";
        assert_eq!(
            missing_name("On Windows, use pyenv-win.", task, "pyenv-README.md"),
            None
        );
        // Spaces, hyphens and line breaks do not part a name from its
        // mention.
        let task = "What does the Pyenv Win fork do?";
        assert_eq!(missing_name("Use pyenv-win.", task, "README.md"), None);
        assert_eq!(
            missing_name("IDLE\n  Dark is a theme.", "What is IDLE Dark?", "n.txt"),
            None
        );
        // No names, nothing to miss.
        assert_eq!(
            missing_name("anything", "How many days?", "gpl-3.txt"),
            None
        );
    }

    #[test]
    fn a_name_no_document_mentions_is_unmentioned() {
        let documents = [
            ContextDocument::new("plants.txt", "The Orion fund's access code is TR-1886."),
            ContextDocument::new("notes.txt", "Nothing else."),
        ];
        let joined = "The Orion fund's access code is TR-1886.\nNothing else.";
        assert_eq!(
            unmentioned(
                &documents,
                joined,
                "What is the access code of the Delta plant?"
            )
            .as_deref(),
            Some("Delta")
        );
        assert_eq!(
            unmentioned(
                &documents,
                joined,
                "What is the access code of the Orion fund?"
            ),
            None
        );
        // Words of the documents' own names are not asked about.
        assert_eq!(
            unmentioned(&documents, joined, "What do the Notes say of the code?"),
            None
        );
    }
}
