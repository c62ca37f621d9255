//! What every field of the JSON we ask models for means, in one place:
//! the schemas (`replies`) and the prompts (`prompts`) both say it, and the
//! copy check refuses an answer that is one of these descriptions echoed.

/// Reasoning.
pub const REASONING: &str = "Your reasoning in one or two sentences.";
/// Minion's question.
pub const MESSAGE: &str = "One short, specific question for the small model about the documents.";
/// The answer.
pub const ANSWER: &str = "The answer to the task itself, as the user will read it, or your best answer so far; if the documents do not say, say so.";
/// Minion's decision.
pub const DECISION_ASK: &str =
    "Whether you give your final answer now (final) or ask another question (ask).";
/// Minions' decision.
pub const DECISION_CONTINUE: &str =
    "Whether you give your final answer now (final) or run another round of jobs (continue).";
/// The last round's decision.
pub const DECISION_FINAL: &str = "Always final: this is the last round.";
/// Feedback for the next round.
pub const FEEDBACK: &str = "What the next round's jobs should look for.";
/// The scratchpad.
pub const SCRATCHPAD: &str = "What you have learned so far, for the next round.";
/// Every description, for the copy check.
pub const ALL: &[&str] = &[
    REASONING,
    MESSAGE,
    ANSWER,
    DECISION_ASK,
    DECISION_CONTINUE,
    DECISION_FINAL,
    FEEDBACK,
    SCRATCHPAD,
];

/// Whether a model's text is a copy of one of our prompts' field
/// descriptions (small models echo them back as their answer). Case,
/// spacing and surrounding punctuation do not matter; a text must cover
/// most of a description to count, so an answer that merely shares a few
/// words is not refused.
pub fn copies_prompt(text: &str) -> bool {
    let key = normalise(text);
    if key.len() < 8 {
        return false;
    }
    ALL.iter()
        .chain(WORKER_DESCRIPTIONS)
        .map(|d| normalise(d))
        .any(|d| d == key || (d.contains(&key) && key.len() * 5 >= d.len() * 3) || key.contains(&d))
}

/// The worker prompt's field descriptions, for [`copies_prompt`].
const WORKER_DESCRIPTIONS: &[&str] = &[
    "one sentence on what you found",
    "words copied exactly from the excerpt that support the answer, or null",
    "the answer, or null",
    "exact words or null",
];

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_string()
}
