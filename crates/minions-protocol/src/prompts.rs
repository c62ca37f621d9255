//! Every prompt and every JSON schema the protocols use, in one place.
//!
//! The remote model never sees the documents: its prompts carry the task,
//! the documents' names and sizes, and what the local model found.

use serde_json::{Value, json};

use crate::DocumentMetadata;

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
and ask it to quote the passage it relies on. Check its answers for consistency; ask again, differently, when they look wrong. \
Always reply with a single JSON object and nothing else.";

/// The first remote message of Minion.
pub fn minion_first(task: &str, metadata: &[DocumentMetadata], history: &str) -> String {
    format!(
        "Task: {task}\n\nDocuments the small model holds (you only see their names and sizes):\n{}{}\n\n\
Write your first question for the small model. Reply with JSON:\n\
{{\"reasoning\": \"what you need to find out first, briefly\", \"message\": \"your question to the small model\"}}",
        documents(metadata),
        earlier(history)
    )
}

/// The local model's system prompt in Minion: the whole context and the task.
pub fn minion_local_system(context: &str, task: &str) -> String {
    format!(
        "You are a careful assistant who answers questions about the documents below for a supervisor working on this task: {task}\n\n\
Answer only from the documents. Quote the exact passage you rely on. If the documents do not say, answer that they do not say; never guess.\n\n\
=== DOCUMENTS ===\n{context}\n=== END OF DOCUMENTS ==="
    )
}

/// The remote message after a local answer in Minion.
pub fn minion_after_answer(answer: &str, round: u32, max_rounds: u32) -> String {
    let last = round >= max_rounds;
    let rule = if last {
        "This was the last question you may ask: your decision must be \"final\", with your best answer from what you have learned."
    } else {
        "If you can now answer the task, decide \"final\" and give the answer. Otherwise decide \"ask\" and write your next question."
    };
    format!(
        "The small model answered (question {round} of at most {max_rounds}):\n\"\"\"\n{answer}\n\"\"\"\n\n{rule}\n\
Reply with JSON:\n{{\"reasoning\": \"brief\", \"decision\": \"final\" or \"ask\", \"answer\": \"the answer to the task, when final\", \"message\": \"your next question, when ask\"}}"
    )
}

/// Schema of Minion's first remote reply.
pub fn minion_question_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"reasoning": {"type": "string"}, "message": {"type": "string"}},
        "required": ["reasoning", "message"]
    })
}

/// Schema of Minion's later remote replies.
pub fn minion_decision_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "decision": {"type": "string", "enum": ["final", "ask"]},
            "answer": {"type": ["string", "null"]},
            "message": {"type": ["string", "null"]}
        },
        "required": ["reasoning", "decision"]
    })
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
    let mut selects = vec![
        "\"all\" (every chunk)".to_string(),
        "{\"bm25\": {\"top_k\": N}} (the N chunks that best match each task's query, by keywords)"
            .to_string(),
    ];
    if limits.embeddings {
        selects.push("{\"embedding\": {\"top_k\": N}} (the N chunks closest in meaning to each task's query)".into());
    }
    if !limits.answered_ids.is_empty() {
        selects.push(format!(
            "{{\"answered_by\": \"ID\"}} (only the chunks where an earlier task found answers; ids: {})",
            limits.answered_ids.join(", ")
        ));
    }
    let mut state = String::new();
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
        "Task: {task}\n\nDocuments (you only see their names and sizes):\n{docs}{history}{state}\n\n\
This is round {round} of at most {max_rounds}. Plan this round's work.\n\n\
Rules:\n\
- At most {max_tasks} tasks; ids are short, lowercase, unique (letters, digits, _ or -).\n\
- Each task has an instruction for the small model, advice on what to watch for, and a keyword query used for retrieval.\n\
- Chunking: unit is one of chars, tokens, paragraphs, pages, sections, code; size in characters between {min} and {max} \
(tokens: at most {max_tokens}); overlap at most half the size. Suggested: {unit}, size {size}, overlap {overlap}, which makes {chunks} chunks.\n\
- select is one of: {selects}.\n\
- samples is how many times each job runs (1 to {max_samples}); use 1 unless answers are likely to be noisy.\n\
- Jobs = tasks x selected chunks x samples, at most {max_jobs}. With all chunks selected that is {chunks} per task per sample.\n\n\
Reply with JSON:\n\
{{\"tasks\": [{{\"id\": \"bp\", \"instruction\": \"Find the patient's blood pressure readings.\", \"advice\": \"Values look like 120/80 mmHg.\", \"query\": \"blood pressure mmHg\"}}],\n\
 \"chunking\": {{\"unit\": \"{unit}\", \"size\": {size}, \"overlap\": {overlap}}},\n\
 \"select\": \"all\",\n\
 \"samples\": 1}}",
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

/// Schema of a Minions plan.
pub fn plan_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "tasks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "instruction": {"type": "string"},
                        "advice": {"type": "string"},
                        "query": {"type": "string"}
                    },
                    "required": ["id", "instruction"]
                }
            },
            "chunking": {
                "type": "object",
                "properties": {
                    "unit": {"type": "string", "enum": ["chars", "tokens", "paragraphs", "pages", "sections", "code"]},
                    "size": {"type": "integer"},
                    "overlap": {"type": "integer"}
                },
                "required": ["unit", "size"]
            },
            "select": {},
            "samples": {"type": "integer"}
        },
        "required": ["tasks"]
    })
}

/// The local worker's role in Minions.
pub const WORKER_SYSTEM: &str = "\
You read one excerpt of a longer document and carry out one task on it. \
Use only the excerpt. If the excerpt does not contain what the task asks for, the answer is null: never guess and never use outside knowledge. \
Reply with a single JSON object: {\"explanation\": \"one or two sentences on what you found\", \"citation\": \"the exact words from the excerpt that support the answer, or null\", \"answer\": \"the answer, or null\"}.";

/// One local job's message.
pub fn worker(document: &str, chunk: &str, instruction: &str, advice: &str) -> String {
    let advice = if advice.trim().is_empty() {
        String::new()
    } else {
        format!("\nAdvice: {advice}")
    };
    format!(
        "Excerpt from {document}:\n\"\"\"\n{chunk}\n\"\"\"\n\nTask: {instruction}{advice}\n\n\
Reply with JSON: {{\"explanation\": \"...\", \"citation\": \"exact words or null\", \"answer\": \"... or null\"}}"
    )
}

/// Sent back once when a job's output could not be used.
pub fn worker_repair(reason: &str) -> String {
    format!(
        "Your reply could not be used: {reason}\nReply again with only the JSON object {{\"explanation\": ..., \"citation\": ..., \"answer\": ...}}. Keep the explanation to one sentence."
    )
}

/// Schema of a worker's reply.
pub fn worker_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "explanation": {"type": "string"},
            "citation": {"type": ["string", "null"]},
            "answer": {"type": ["string", "null"]}
        },
        "required": ["explanation", "citation", "answer"]
    })
}

/// The remote model's role when synthesizing in Minions.
pub const MINIONS_SYNTH_SYSTEM: &str = "\
You are the planner in a collaboration with small language models that read the user's documents chunk by chunk. \
You now read what they found. Their findings can be wrong, partial or contradictory: weigh them, prefer answers that several chunks \
support and that come with a citation, and say when the documents do not answer the task. \
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
        "This is the last round: your decision must be \"final\", with your best answer from the findings (say so if the documents do not answer the task)."
    } else {
        "If the findings answer the task, decide \"final\". Otherwise decide \"continue\" and say in feedback what the next round should look for; \
keep what you have learned in the scratchpad, because you will not see these findings again."
    };
    let notes = if scratchpad.is_empty() {
        String::new()
    } else {
        format!("\n\nYour notes from earlier rounds:\n{scratchpad}")
    };
    format!(
        "Task: {task}{notes}\n\nFindings of round {round} of at most {max_rounds}:\n{findings}\n\n{rule}\n\
Reply with JSON:\n{{\"reasoning\": \"brief\", \"decision\": \"final\" or \"continue\", \"answer\": \"the answer to the task, when final\", \
\"feedback\": \"what to look for next, when continue\", \"scratchpad\": \"what you have learned so far\"}}"
    )
}

/// Schema of a synthesis reply.
pub fn synthesis_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "decision": {"type": "string", "enum": ["final", "continue"]},
            "answer": {"type": ["string", "null"]},
            "feedback": {"type": ["string", "null"]},
            "scratchpad": {"type": ["string", "null"]}
        },
        "required": ["reasoning", "decision"]
    })
}
