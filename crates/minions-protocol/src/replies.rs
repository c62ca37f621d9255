//! What the remote model replies, as Rust types, and the JSON schemas we
//! send for them, side by side so they cannot drift apart.
//!
//! A schema only offers replies we can use: fields we need are required and
//! non-empty, and the last round's schemas offer the final decision only.
//! Reading is lenient where leniency is safe (a reply that carries a usable
//! answer is taken whatever its `decision` says on the last round) and
//! strict where it is not (text copied from our own prompt is refused).

use serde_json::{Value, json};

use crate::descriptions::copies_prompt;

/// A text field, trimmed; numbers and booleans become text.
fn text(value: &Value, field: &str) -> Option<String> {
    match value.get(field)? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Null => None,
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
    .filter(|s| !s.is_empty())
}

/// An optional text field: a copy of our description or a loop is the same
/// as leaving it out, and is not worth a re-ask.
fn optional_text(value: &Value, field: &str) -> Option<String> {
    own_text(value, field).ok().flatten()
}

/// A text field that must be the model's own words: present, non-empty and
/// not a copy of our prompt's descriptions.
fn own_text(value: &Value, field: &str) -> Result<Option<String>, String> {
    match text(value, field) {
        Some(found) if copies_prompt(&found) => Err(format!(
            "`{field}` repeats the description from the instructions ({found:?}) instead of your own words"
        )),
        Some(found) if repeats_itself(&found) => Err(format!(
            "`{field}` repeats the same words over and over; write it once, briefly"
        )),
        Some(answer) if describes_the_documents(&answer) => Err(format!(
            "`answer` ({answer:?}) describes the documents instead of answering; write what they say (the value, name or passage asked for, in a sentence), or say that the documents do not say"
        )),
        other => Ok(other),
    }
}

/// Whether a text is a loop of the same few words, as small models write
/// when they cannot stop ("The answer is: The answer is: ...").
pub fn repeats_itself(text: &str) -> bool {
    let words: Vec<String> = text.split_whitespace().map(|w| w.to_lowercase()).collect();
    if words.len() < 24 {
        return false;
    }
    let distinct: std::collections::HashSet<&String> = words.iter().collect();
    distinct.len() * 5 < words.len()
}

fn decision(value: &Value) -> String {
    text(value, "decision")
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// A required text field. `maxLength` matters: servers that enforce the
/// schema with a grammar (llama.cpp, Ollama) then close the string, where a
/// small model would otherwise ramble until the token limit cuts the JSON.
fn string_field(description: &str, max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "description": description})
}

/// An optional-content text field (may be empty), bounded the same way.
fn free_field(description: &str, max: usize) -> Value {
    json!({"type": "string", "maxLength": max, "description": description})
}

/// Bounds of the remote model's text fields, in characters.
const REASONING_CHARS: usize = 400;
const MESSAGE_CHARS: usize = 500;
const ANSWER_CHARS: usize = 2000;
const FEEDBACK_CHARS: usize = 500;
const SCRATCHPAD_CHARS: usize = 1500;

fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

/// The schema fields' descriptions (in their own module, which the
/// prompts' copy check reads too).
pub use crate::descriptions as describe;

/// The last round's schema, for either protocol: the final decision with
/// an answer, and nothing else to choose.
fn final_only_schema() -> Value {
    object(
        json!({
            "reasoning": free_field(describe::REASONING, REASONING_CHARS),
            "decision": {"type": "string", "enum": ["final"], "description": describe::DECISION_FINAL},
            "answer": string_field(describe::ANSWER, ANSWER_CHARS),
        }),
        &["reasoning", "decision", "answer"],
    )
}

/// The answer of a last-round reply, whatever its `decision` says.
fn last_round_answer(value: &Value) -> Result<String, String> {
    final_answer(value)?
        .ok_or_else(|| "this is the last round: give your final answer in `answer`".into())
}

/// Words that only a comment on the collaboration uses, never an answer to
/// the user's task ("The small model answered the question correctly.").
const ABOUT_THE_COLLABORATION: &[&str] = &[
    "small model",
    "local model",
    "small language model",
    "the worker",
    "the workers",
    "answered the question correctly",
    "answered correctly",
    "the model's answer",
    "the model answered",
    // Our local prompt's own opening, echoed back as an answer (seen with
    // Qwen2.5-Coder 1.5B: "The supervisor is working on this task: ...").
    "supervisor is working on",
];

/// Whether an answer talks about the small model instead of answering.
pub fn comments_on_the_collaboration(answer: &str) -> bool {
    let lower = answer.to_lowercase();
    ABOUT_THE_COLLABORATION.iter().any(|p| lower.contains(p))
}

/// Words that name the text itself, at an answer's start.
const THE_TEXT: &[&str] = &[
    "document",
    "documents",
    "documentation",
    "text",
    "file",
    "readme",
    "readme.md",
    "section",
    "excerpt",
    "passage",
    "chunk",
    "manual",
    "changelog",
];

/// What a sentence about a text says when it describes the text instead of
/// quoting what the text says ("contains information about the
/// environments"): no value, name or passage follows them.
const DESCRIBING: &[&str] = &[
    "information about",
    "information on",
    "information regarding",
    "details about",
    "details on",
    "detailed explanation",
    "explanation of",
    "describes",
    "discusses",
    "talks about",
    "refers to",
    "section that",
    "sections that",
];

/// Whether an answer describes the documents instead of answering from
/// them. Measured with Qwen2.5-Coder (0.5B workers, 1.5B remote) on pyenv's
/// README: "The README.md file contains information about the environments
/// supported by the patches" and "The README.md file provides a detailed
/// explanation of the minimum required RAM" (which it does not) came back
/// as answers. Such a sentence names the text in its first words and says
/// what it is about, not what it says.
pub fn describes_the_documents(answer: &str) -> bool {
    let lower = answer.to_lowercase();
    let opening: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '.'))
        .filter(|w| !w.is_empty())
        .take(5)
        .map(|w| w.trim_end_matches('.'))
        .collect();
    let names_the_text = opening
        .iter()
        .any(|w| THE_TEXT.contains(w) || w.ends_with(".md") || w.ends_with(".txt"));
    // "The README does not provide information about it" is the answer
    // "not in the documents", which is an answer; so is a description
    // followed by what was asked ("The document points to the following
    // files for information on earlier releases: NEWS2x.txt, HISTORY.txt").
    names_the_text
        && !says_not_there(&lower)
        && DESCRIBING.iter().any(|d| lower.contains(d))
        && !names_something_specific(answer)
}

/// Whether an answer says that the documents do not hold what was asked
/// ("The documents do not say.", "No information is given.").
pub(crate) fn says_not_there(answer: &str) -> bool {
    let lower = answer.to_lowercase().replace('\u{2019}', "'");
    NOT_THERE.iter().any(|n| lower.contains(n))
}

/// Whether an answer lists something specific after a colon: a figure, or
/// a file name, address or identifier (a word with a dot, slash,
/// underscore or "@" inside it). Words before the colon do not count: the
/// description may repeat the task's own ("the patches in Python 2.7.18").
fn names_something_specific(answer: &str) -> bool {
    let Some((_, listed)) = answer.split_once(':') else {
        return false;
    };
    listed
        .split_whitespace()
        .map(|token| token.trim_matches(|c: char| !c.is_alphanumeric()))
        .any(|token| token.bytes().any(|b| b.is_ascii_digit()) || is_identifier(token))
}

/// Whether a word (trimmed of punctuation at its ends) is an address, path
/// or identifier: it holds "@", or a slash, underscore or dot inside it
/// ("gpl@fsf.org", "https://fsf.org", "PYENV_DIR", "NEWS2x.txt").
pub(crate) fn is_identifier(token: &str) -> bool {
    let inner = |c: char| {
        token
            .char_indices()
            .any(|(i, x)| x == c && i > 0 && i + 1 < token.len())
    };
    token.contains('@') || inner('/') || inner('_') || inner('.')
}

/// How an answer says the documents do not hold what was asked.
const NOT_THERE: &[&str] = &[
    "not ",
    "n't",
    "no information",
    "no details",
    "nothing",
    "neither",
    "never",
];

/// The `answer` field of a reply that is meant to be final: the model's own
/// words, and an answer to the task rather than a verdict on the small
/// model's reply (which the user never saw).
fn final_answer(value: &Value) -> Result<Option<String>, String> {
    match own_text(value, "answer")? {
        Some(answer) if comments_on_the_collaboration(&answer) => Err(format!(
            "`answer` ({answer:?}) talks about the small model instead of answering the task; the user never sees the small model's replies. Write the answer itself as the user will read it (the value, name or passage asked for, in a sentence), or say that the documents do not say"
        )),
        other => Ok(other),
    }
}

/// Minion's remote replies, after each local answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MinionDecision {
    /// The final answer.
    Final {
        /// The answer.
        answer: String,
    },
    /// Another question, with the best answer so far if one was given.
    Ask {
        /// The question.
        message: String,
        /// The provisional answer.
        provisional: Option<String>,
    },
}

impl MinionDecision {
    /// The schema sent for it; on the last round only `final` is offered.
    pub fn schema(last: bool) -> Value {
        if last {
            return final_only_schema();
        }
        object(
            json!({
                "reasoning": free_field(describe::REASONING, REASONING_CHARS),
                "decision": {"type": "string", "enum": ["final", "ask"], "description": describe::DECISION_ASK},
                "answer": string_field(describe::ANSWER, ANSWER_CHARS),
                "message": string_field(describe::MESSAGE, MESSAGE_CHARS),
            }),
            &["reasoning", "decision", "answer", "message"],
        )
    }

    /// Reads a reply. On the last round any usable answer is final; before
    /// it, a `final` without an answer but with a question goes on asking.
    pub fn read(value: &Value, last: bool) -> Result<Self, String> {
        if last {
            return last_round_answer(value).map(|answer| Self::Final { answer });
        }
        // A final decision's message goes nowhere, so a loop or a copy of
        // our prompt there is no reason to refuse its answer: the 1.5B
        // model gave the right access code as final and then a message of
        // forty questions, refused three times over (run 36).
        let message = if decision(value) == "final" {
            optional_text(value, "message")
        } else {
            own_text(value, "message")?
        };
        let answer = if decision(value) == "final" && message.is_none() {
            final_answer(value)?
        } else {
            // A provisional answer that only comments on the small model is
            // no answer at all.
            optional_text(value, "answer")
                .filter(|a| !comments_on_the_collaboration(a) && !describes_the_documents(a))
        };
        match (decision(value).as_str(), answer, message) {
            ("final", Some(answer), _) => Ok(Self::Final { answer }),
            ("ask" | "final", provisional, Some(message)) => Ok(Self::Ask {
                message,
                provisional,
            }),
            ("ask", _, None) => Err("`decision` is \"ask\" but `message` is empty".into()),
            ("final", None, None) => Err("`decision` is \"final\" but `answer` is empty".into()),
            (other, _, _) => Err(format!(
                "`decision` must be \"final\" or \"ask\", not {other:?}"
            )),
        }
    }
}

/// A Minions synthesis reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synthesis {
    /// The final answer.
    Final {
        /// The answer.
        answer: String,
    },
    /// Another round.
    Continue {
        /// The best answer so far, if given.
        provisional: Option<String>,
        /// What to look for next.
        feedback: String,
        /// Notes to keep.
        scratchpad: Option<String>,
    },
}

impl Synthesis {
    /// The schema sent for it; on the last round only `final` is offered.
    pub fn schema(last: bool) -> Value {
        if last {
            return final_only_schema();
        }
        object(
            json!({
                "reasoning": free_field(describe::REASONING, REASONING_CHARS),
                "decision": {"type": "string", "enum": ["final", "continue"], "description": describe::DECISION_CONTINUE},
                "answer": string_field(describe::ANSWER, ANSWER_CHARS),
                "feedback": string_field(describe::FEEDBACK, FEEDBACK_CHARS),
                "scratchpad": free_field(describe::SCRATCHPAD, SCRATCHPAD_CHARS),
            }),
            &["reasoning", "decision", "answer", "feedback", "scratchpad"],
        )
    }

    /// Reads a reply, as leniently as [`MinionDecision::read`].
    pub fn read(value: &Value, last: bool) -> Result<Self, String> {
        if last {
            return last_round_answer(value).map(|answer| Self::Final { answer });
        }
        let answer = if decision(value) == "final" {
            final_answer(value)?
        } else {
            optional_text(value, "answer")
                .filter(|a| !comments_on_the_collaboration(a) && !describes_the_documents(a))
        };
        let feedback = optional_text(value, "feedback");
        let scratchpad = optional_text(value, "scratchpad");
        match (decision(value).as_str(), answer) {
            ("final", Some(answer)) => Ok(Self::Final { answer }),
            ("continue" | "final", provisional) => Ok(Self::Continue {
                provisional,
                feedback: feedback.unwrap_or_default(),
                scratchpad,
            }),
            (other, _) => Err(format!(
                "`decision` must be \"final\" or \"continue\", not {other:?}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_that_describes_the_documents_is_not_an_answer() {
        for meta in [
            "The README.md file contains information about the environments supported by the patches in Python 2.7.18.",
            "The README.md file provides a detailed explanation of the minimum required RAM for pyenv.",
            "The section that lists the disk space information for each Python version installed by pyenv.",
            "The document discusses the notice period.",
            "This excerpt refers to the license terms.",
            "The document refers to: the license terms.",
        ] {
            assert!(describes_the_documents(meta), "{meta}");
        }
        for answer in [
            "The notice period is 30 days.",
            "The document says the notice period is 30 days.",
            "The documents do not say.",
            "The section 8 termination clause gives 30 days.",
            "pyenv-win",
            "It describes how to install pyenv on Windows with pyenv-win.",
            "The MIT License",
            // "Not in the documents" is an answer.
            "The README.md file does not provide information about the minimum required RAM.",
            "The document doesn't give details about disk space.",
            "The documents contain no information about RAM.",
            // A description followed by what was asked.
            "The document points to the following files for information on earlier releases: NEWS2x.txt, HISTORY.txt",
        ] {
            assert!(!describes_the_documents(answer), "{answer}");
        }
    }

    #[test]
    fn a_verdict_on_the_small_model_is_not_an_answer() {
        let verdict = json!({"reasoning": "", "decision": "final", "answer": "The small model answered the question correctly."});
        for last in [true, false] {
            let refused = MinionDecision::read(&verdict, last).unwrap_err();
            assert!(
                refused.contains("answer the task") || refused.contains("answering the task"),
                "{refused}"
            );
            assert!(Synthesis::read(&verdict, last).is_err());
        }
        // With a question beside it, the run goes on asking.
        let asking = json!({"decision": "final", "answer": "The local model is right.", "message": "Quote the clause."});
        assert_eq!(
            MinionDecision::read(&asking, false),
            Ok(MinionDecision::Ask {
                message: "Quote the clause.".into(),
                provisional: None
            })
        );
        let answer = json!({"decision": "final", "answer": "The notice period is 30 days."});
        assert!(MinionDecision::read(&answer, true).is_ok());
    }

    #[test]
    fn the_last_round_takes_any_usable_answer() {
        let looping = "What is the address of the office? ".repeat(12);
        let reply = json!({"decision": "final", "answer": "VL-3018", "message": looping});
        assert_eq!(
            MinionDecision::read(&reply, false),
            Ok(MinionDecision::Final {
                answer: "VL-3018".into()
            }),
            "a final answer stands whatever its message says"
        );
        let reply = json!({"decision": "ask", "answer": "", "message": looping});
        assert!(
            MinionDecision::read(&reply, false).is_err(),
            "a looping question is refused"
        );
        let reply = json!({"decision": "ask", "answer": "130 mg/dL", "message": "more?"});
        assert_eq!(
            MinionDecision::read(&reply, true),
            Ok(MinionDecision::Final {
                answer: "130 mg/dL".into()
            })
        );
        let reply =
            json!({"decision": "continue", "answer": "7421", "feedback": "x", "scratchpad": ""});
        assert_eq!(
            Synthesis::read(&reply, true),
            Ok(Synthesis::Final {
                answer: "7421".into()
            })
        );
    }

    #[test]
    fn a_final_without_an_answer_goes_on_before_the_last_round() {
        let reply = json!({"decision": "final", "answer": "", "message": "What is the LDL?"});
        assert!(matches!(
            MinionDecision::read(&reply, false),
            Ok(MinionDecision::Ask { .. })
        ));
        let reply =
            json!({"decision": "final", "answer": " ", "feedback": "look", "scratchpad": ""});
        assert!(matches!(
            Synthesis::read(&reply, false),
            Ok(Synthesis::Continue { .. })
        ));
    }

    #[test]
    fn copied_descriptions_are_refused() {
        let reply = json!({"decision": "final", "answer": describe::ANSWER});
        let error = MinionDecision::read(&reply, true).err().unwrap_or_default();
        assert!(error.contains("repeats the description"), "{error}");
        let reply = json!({"decision": "ask", "message": describe::MESSAGE.to_lowercase()});
        assert!(MinionDecision::read(&reply, false).is_err());
    }

    #[test]
    fn copied_optional_fields_are_dropped_not_refused() {
        let reply = json!({"decision": "continue", "answer": "141 mg/dL", "feedback": describe::FEEDBACK, "scratchpad": describe::SCRATCHPAD});
        assert_eq!(
            Synthesis::read(&reply, false),
            Ok(Synthesis::Continue {
                provisional: Some("141 mg/dL".into()),
                feedback: String::new(),
                scratchpad: None
            })
        );
    }

    #[test]
    fn loops_are_refused_and_lists_are_not() {
        let looping = "The answer is: ".repeat(30);
        assert!(repeats_itself(&looping));
        let reply = json!({"decision": "final", "answer": looping});
        assert!(MinionDecision::read(&reply, true).is_err());
        let list = "LDL 141 mg/dL, HDL 48 mg/dL, total 212 mg/dL, triglycerides 115 mg/dL, measured fasting in March at the clinic on the second visit of the year";
        assert!(!repeats_itself(list));
    }

    #[test]
    fn last_round_schemas_offer_only_final() {
        for schema in [MinionDecision::schema(true), Synthesis::schema(true)] {
            assert_eq!(schema["properties"]["decision"]["enum"], json!(["final"]));
            assert_eq!(schema["properties"]["answer"]["minLength"], json!(1));
        }
    }
}
