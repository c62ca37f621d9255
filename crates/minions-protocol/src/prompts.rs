//! Every prompt and every JSON schema the protocols use, in one place.
//!
//! The remote model never sees the documents: its prompts carry the task,
//! the documents' names and sizes, and what the local model found.

use serde_json::{Value, json};

use crate::DocumentMetadata;
use crate::descriptions as describe;

fn documents(metadata: &[DocumentMetadata]) -> String {
    metadata
        .iter()
        .map(DocumentMetadata::describe)
        .collect::<Vec<_>>()
        .join("\n")
}

fn earlier(history: &str) -> String {
    if history.is_empty() {
        String::new()
    } else {
        format!("\n\nEarlier in this conversation (for follow-up questions):\n{history}")
    }
}

/// Sent back when a remote answer was not the JSON asked for.
pub fn json_retry(reason: &str) -> String {
    format!(
        "Your last reply could not be used: {reason}\nReply again with only the JSON object described above, with every required field, and nothing else."
    )
}

// ---------------------------------------------------------------- Minion --

/// The remote model's role in Minion.
pub const MINION_REMOTE_SYSTEM: &str = "\
You are the supervisor in a collaboration with a small language model that runs on the user's machine. \
The small model has the user's documents; you do not, and you will not see them. \
You answer the user's task by asking the small model questions about the documents, one at a time. \
The small model is capable but literal and easily confused: ask short, specific questions, one fact or one step at a time, \
and ask it for the few words of the documents it relies on. Check its answers for consistency; ask again, differently, when they look wrong. \
Always reply with a single JSON object and nothing else.";

/// The opening of the remote model's first message in Minion: the task and
/// what the small model holds. The small model has already been asked the
/// task as written; its answer follows (see [`minion_after_answer`]).
pub fn minion_opening(task: &str, metadata: &[DocumentMetadata], history: &str) -> String {
    format!(
        "Task: {task}\n\nDocuments the small model holds (you only see their names and sizes):\n{}{}\n\n\
The small model was first asked the task as written.",
        documents(metadata),
        earlier(history),
    )
}

/// The fixed part of the local model's system prompt in Minion.
pub const MINION_LOCAL_INSTRUCTIONS: &str = "Answer only from the documents. Quote the few exact words you rely on, not whole passages. \
If the documents do not say, answer that they do not say; never guess. Answer in one to three sentences.";

/// The local model's system prompt in Minion: the whole context, then the
/// task, so that the long shared part comes first for prefix caches.
pub fn minion_local_system(context: &str, task: &str) -> String {
    format!(
        "You are a careful assistant who answers questions about the documents below.\n\n\
=== DOCUMENTS ===\n{context}\n=== END OF DOCUMENTS ===\n\n\
A supervisor is working on this task: {task}\n{MINION_LOCAL_INSTRUCTIONS}"
    )
}

/// The local model's system prompt in Minion when the documents exceed its
/// window: the passages that best match the current question.
pub fn minion_local_excerpts(excerpts: &str, task: &str) -> String {
    format!(
        "You are a careful assistant who answers questions about the documents below. \
The documents are too long to show whole: these are the passages that best match the question, in order.\n\n\
=== PASSAGES ===\n{excerpts}\n=== END OF PASSAGES ===\n\n\
A supervisor is working on this task: {task}\n{MINION_LOCAL_INSTRUCTIONS}"
    )
}

/// The remote message after a local answer in Minion.
pub fn minion_after_answer(answer: &str, round: u32, max_rounds: u32) -> String {
    let last = round >= max_rounds;
    let rule = if last {
        format!(
            "That was the last question you may ask. Reply with one JSON object with the fields reasoning ({}), \
decision (always \"final\") and answer ({}). If the documents do not answer the task, say so in the answer.",
            describe::REASONING,
            describe::ANSWER
        )
    } else {
        format!(
            "If you can now answer the task, decide \"final\"; otherwise decide \"ask\" and write your next question. \
Reply with one JSON object with the fields reasoning ({}), decision ({}), answer ({}) and message ({}).",
            describe::REASONING,
            describe::DECISION_ASK,
            describe::ANSWER,
            describe::MESSAGE
        )
    };
    format!(
        "The small model answered (question {round} of at most {max_rounds}):\n\"\"\"\n{answer}\n\"\"\"\n\n{rule}"
    )
}

// --------------------------------------------------------------- Minions --

/// The remote model's role when planning in Minions.
pub const MINIONS_PLAN_SYSTEM: &str = "\
You are the planner in a collaboration with many copies of a small language model that run on the user's machine. \
The documents are split into chunks; each copy reads one chunk and carries out one simple task on it, and you get back what they found. \
You never see the documents. Plan small, concrete extraction tasks (find a value, quote a clause, list the mentions of X) rather than \
reasoning tasks: the small models are literal, read one chunk at a time, and cannot see the rest of the document. \
You combine and reason over their findings afterwards. Always reply with a single JSON object and nothing else.";

/// What a plan may ask for, told to the planner so that plans fit.
#[derive(Debug, Clone)]
pub struct PlanLimits {
    /// Tasks per plan.
    pub max_tasks: usize,
    /// Jobs per round.
    pub max_jobs: usize,
    /// Chunk size bounds in characters.
    pub chunk_chars: (usize, usize),
    /// Suggested chunking.
    pub default_chunking: (String, usize, usize),
    /// Chunks the suggested chunking makes.
    pub default_chunks: usize,
    /// Samples per job.
    pub max_samples: u32,
    /// Whether embedding selection is available.
    pub embeddings: bool,
    /// Whether retrieval (bm25) is offered at all.
    pub retrieval: bool,
    /// Task ids of earlier rounds that found answers (for `answered_by`).
    pub answered_ids: Vec<String>,
}

/// The planning message of a Minions round.
#[allow(clippy::too_many_arguments)]
pub fn minions_plan(
    task: &str,
    metadata: &[DocumentMetadata],
    round: u32,
    max_rounds: u32,
    limits: &PlanLimits,
    scratchpad: &str,
    feedback: &str,
    earlier_plans: &str,
    history: &str,
) -> String {
    let (unit, size, overlap) = &limits.default_chunking;
    let mut selects = vec!["\"all\" (every chunk)".to_string()];
    if limits.retrieval {
        selects.push(
            "{\"bm25\": {\"top_k\": N}} (the N chunks that best match each task's query, by keywords)"
                .to_string(),
        );
    }
    if limits.embeddings {
        selects.push("{\"embedding\": {\"top_k\": N}} (the N chunks closest in meaning to each task's query)".into());
    }
    // What changes from round to round comes last, after the task, the
    // documents and the rules, so that the prompts of a run share one long
    // prefix that providers' prompt caches can reuse.
    let mut state = String::new();
    if !limits.answered_ids.is_empty() {
        state.push_str(&format!(
            "\n\nThis round, select may also be {{\"answered_by\": \"ID\"}} (only the chunks where an earlier task found answers; ids: {}).",
            limits.answered_ids.join(", ")
        ));
    }
    if !earlier_plans.is_empty() {
        state.push_str(&format!("\n\nEarlier rounds:\n{earlier_plans}"));
    }
    if !scratchpad.is_empty() {
        state.push_str(&format!("\n\nYour notes so far:\n{scratchpad}"));
    }
    if !feedback.is_empty() {
        state.push_str(&format!("\n\nWhat you said to look for next:\n{feedback}"));
    }
    format!(
        "Task: {task}\n\nDocuments (you only see their names and sizes):\n{docs}{history}\n\n\
Rules:\n\
- At most {max_tasks} tasks; ids are short, lowercase, unique (letters, digits, _ or -).\n\
- Each task has an instruction for the small model, advice on what to watch for, and a keyword query used for retrieval.\n\
- Chunking: unit is one of chars, tokens, paragraphs, pages, sections, code; size in characters between {min} and {max} \
(tokens: at most {max_tokens}); overlap at most half the size. Suggested: {unit}, size {size}, overlap {overlap}, which makes {chunks} chunks.\n\
- select is one of: {selects}.\n\
- samples is how many times each job runs (1 to {max_samples}); use 1 unless answers are likely to be noisy.\n\
- Jobs = tasks x selected chunks x samples, at most {max_jobs}. With all chunks selected that is {chunks} per task per sample; \
more jobs than that are narrowed to each task's best-matching chunks by keyword retrieval on its query.\n\n\
Reply with one JSON object with the fields tasks (a list; each task has id, instruction, advice and query), \
chunking (unit, size, overlap), select, and samples. Write your own tasks for this task and these documents.{state}\n\n\
This is round {round} of at most {max_rounds}. Plan this round's work.",
        docs = documents(metadata),
        history = earlier(history),
        max_tasks = limits.max_tasks,
        min = limits.chunk_chars.0,
        max = limits.chunk_chars.1,
        max_tokens = limits.chunk_chars.1 / 4,
        chunks = limits.default_chunks,
        selects = selects.join("; "),
        max_samples = limits.max_samples,
        max_jobs = limits.max_jobs,
    )
}

/// Schema of a Minions plan, bounded by what this run allows, so a plan
/// that follows it can run.
pub fn plan_schema(limits: &PlanLimits) -> Value {
    let (min, max) = limits.chunk_chars;
    let mut selects = vec![json!({"type": "string", "enum": ["all"]})];
    if limits.retrieval {
        selects.push(json!({"type": "object", "properties": {"bm25": {"type": "object", "properties": {"top_k": {"type": "integer", "minimum": 1, "maximum": limits.max_jobs}}, "required": ["top_k"]}}, "required": ["bm25"]}));
    }
    if limits.embeddings {
        selects.push(json!({"type": "object", "properties": {"embedding": {"type": "object", "properties": {"top_k": {"type": "integer", "minimum": 1, "maximum": limits.max_jobs}}, "required": ["top_k"]}}, "required": ["embedding"]}));
    }
    if !limits.answered_ids.is_empty() {
        selects.push(json!({"type": "object", "properties": {"answered_by": {"type": "string", "enum": limits.answered_ids}}, "required": ["answered_by"]}));
    }
    json!({
        "type": "object",
        "properties": {
            "tasks": {
                "type": "array",
                "minItems": 1,
                "maxItems": limits.max_tasks,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "minLength": 1, "maxLength": 32, "description": "A short lowercase id."},
                        "instruction": {"type": "string", "minLength": 1, "maxLength": 400, "description": "What the small model does with one chunk."},
                        "advice": {"type": "string", "maxLength": 300},
                        "query": {"type": "string", "maxLength": 200, "description": "Keywords for retrieval."}
                    },
                    "required": ["id", "instruction", "advice", "query"]
                }
            },
            "chunking": {
                "type": "object",
                "properties": {
                    "unit": {"type": "string", "enum": ["chars", "tokens", "paragraphs", "pages", "sections", "code"]},
                    "size": {"type": "integer", "minimum": min, "maximum": max},
                    "overlap": {"type": "integer", "minimum": 0, "maximum": min / 2}
                },
                "required": ["unit", "size", "overlap"]
            },
            "select": {"anyOf": selects},
            "samples": {"type": "integer", "minimum": 1, "maximum": limits.max_samples}
        },
        "required": ["tasks", "chunking", "select", "samples"]
    })
}

/// The local worker's role in Minions.
pub const WORKER_SYSTEM: &str = "\
You read one excerpt of a longer document and carry out one task on it. \
Use only the excerpt. If the excerpt does not contain what the task asks for, the answer is null: never guess and never use outside knowledge. \
When the excerpt's section is named, what it says belongs to that section until a heading in the excerpt starts another: \
if the task is about another section (another version, release, chapter or entry), the answer is null. \
Reply with a single JSON object with three fields: explanation (one sentence on what you found), \
citation (words copied exactly from the excerpt that support the answer, or null) and answer (the answer, or null). Keep it short: \
when the answer is null, the explanation is an empty string and the citation is null.";

/// One local job's message.
pub fn worker(
    document: &str,
    section: Option<&str>,
    chunk: &str,
    instruction: &str,
    advice: &str,
) -> String {
    let advice = if advice.trim().is_empty() {
        String::new()
    } else {
        format!("\nAdvice: {advice}")
    };
    let source = match section {
        Some(section) => format!("{document}, starting in the section \"{section}\""),
        None => document.to_string(),
    };
    format!(
        "Excerpt from {source}:\n\"\"\"\n{chunk}\n\"\"\"\n\nTask: {instruction}{advice}\n\n\
Reply with the JSON object: explanation, citation, answer."
    )
}

/// Sent back once when a job's output could not be used.
pub fn worker_repair(reason: &str) -> String {
    format!(
        "Your reply could not be used: {reason}\nReply again with only the JSON object {{\"explanation\": ..., \"citation\": ..., \"answer\": ...}}. Keep the explanation to one sentence."
    )
}

/// Sends a worker's dropped guess back for one more reading of its
/// excerpt, with why it was dropped.
pub fn worker_recheck(why: &str) -> String {
    format!(
        "That answer cannot be used: {why}. Read the excerpt again. If it holds what the task asks for, \
reply with the answer in words copied from the excerpt and quote the line that holds it as the citation; \
if it does not, the answer is null. Reply with only the JSON object."
    )
}

/// Schema of a worker's reply.
pub fn worker_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "explanation": {"type": "string", "maxLength": 120},
            "citation": {"type": ["string", "null"], "maxLength": 120},
            "answer": {"type": ["string", "null"], "maxLength": 200}
        },
        "required": ["explanation", "citation", "answer"]
    })
}

/// The remote model's role when synthesizing in Minions.
pub const MINIONS_SYNTH_SYSTEM: &str = "\
You are the planner in a collaboration with small language models that read the user's documents chunk by chunk. \
You now read what they found. Their findings can be wrong, partial or contradictory: weigh them, prefer answers that several chunks \
support and that come with a citation, and say when the documents do not answer the task. \
A citation is the document's own sentence around the answer: an answer answers the task only if its citation is about what the task \
asks (a date cited from a sentence about something else is not the date asked for). \
Always reply with a single JSON object and nothing else.";

/// The synthesis message of a Minions round.
pub fn minions_synthesize(
    task: &str,
    round: u32,
    max_rounds: u32,
    findings: &str,
    scratchpad: &str,
) -> String {
    let last = round >= max_rounds;
    let rule = if last {
        format!(
            "This is the last round. Reply with one JSON object with the fields reasoning ({}), decision (always \"final\") \
and answer ({}). Give your best answer from the findings; if the documents do not answer the task, say so plainly in the answer.",
            describe::REASONING,
            describe::ANSWER
        )
    } else {
        format!(
            "If the findings answer the task, decide \"final\". Otherwise decide \"continue\": say in feedback what the next round \
should look for, and keep what you have learned in the scratchpad, because you will not see these findings again. \
Reply with one JSON object with the fields reasoning ({}), decision ({}), answer ({}), feedback ({}) and scratchpad ({}).",
            describe::REASONING,
            describe::DECISION_CONTINUE,
            describe::ANSWER,
            describe::FEEDBACK,
            describe::SCRATCHPAD
        )
    };
    let notes = if scratchpad.is_empty() {
        String::new()
    } else {
        format!("\n\nYour notes from earlier rounds:\n{scratchpad}")
    };
    format!(
        "Task: {task}{notes}\n\nFindings of round {round} of at most {max_rounds}:\n{findings}\n\n{rule}"
    )
}

pub use crate::descriptions::copies_prompt;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ContextDocument;

    #[test]
    fn later_plan_prompts_extend_the_first_ones_prefix() {
        let limits = |answered: &[&str]| PlanLimits {
            max_tasks: 4,
            max_jobs: 128,
            chunk_chars: (500, 12_000),
            default_chunking: ("paragraphs".into(), 3000, 0),
            default_chunks: 12,
            max_samples: 3,
            embeddings: false,
            retrieval: true,
            answered_ids: answered.iter().map(|s| s.to_string()).collect(),
        };
        let docs = [ContextDocument::new("a.txt", "text").metadata()];
        let first = minions_plan("Find X.", &docs, 1, 3, &limits(&[]), "", "", "", "");
        let second = minions_plan(
            "Find X.",
            &docs,
            2,
            3,
            &limits(&["dose"]),
            "notes",
            "look at page 2",
            "round 1: ...",
            "",
        );
        let shared = first
            .rsplit_once("\n\nThis is round 1")
            .map(|(head, _)| head)
            .unwrap();
        assert!(
            second.starts_with(shared),
            "round 2 must extend round 1's prefix"
        );
        assert!(second.ends_with("This is round 2 of at most 3. Plan this round's work."));
        assert!(second.contains("answered_by") && !first.contains("answered_by"));
    }
}
