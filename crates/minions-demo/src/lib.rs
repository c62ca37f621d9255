//! The demo: the Python reference README's medical example, and two
//! scripted stand-in models that answer it, as pure functions of the prompt.
//!
//! `minions demo` runs them in process; the test kit's `minions-stand-ins`
//! binary serves them over HTTP (for the Python package's tests and anyone
//! who wants to try a client offline). The "local" stand-in really searches
//! what it is given; the "remote" one plans and concludes from what it is
//! told. They say nothing about answer quality.

use serde_json::json;

/// The README's task.
pub const TASK: &str = "Based on the patient's blood pressure and LDL cholesterol readings in the context, evaluate whether these factors together suggest an increased risk for cardiovascular complications.";

/// The README's medical report.
pub const REPORT: &str = "Patient John Doe is a 60-year-old male with a history of hypertension. In his latest checkup, his blood pressure was recorded at 160/100 mmHg, and he reported occasional chest discomfort during physical activity. Recent laboratory results show that his LDL cholesterol level is elevated at 170 mg/dL, while his HDL remains within the normal range at 45 mg/dL. Other metabolic indicators, including fasting glucose and renal function, are unremarkable.";

/// The sample record: the Python README's report, inside a hundred and sixty
/// routine notes, so that there is something to save on.
pub fn document() -> String {
    let mut text = String::new();
    for visit in 1..=160 {
        text.push_str(&format!(
            "Visit note {visit}. The patient attended a routine appointment. Medication adherence was discussed, \
             diet and exercise advice was repeated, and the next appointment was scheduled. Weight was stable and \
             no new complaints were reported at this visit. Vaccination records were reviewed and found current.\n\n"
        ));
        if visit == 97 {
            text.push_str(REPORT);
            text.push_str("\n\n");
        }
    }
    text
}

/// The clause of `text` that mentions `needle`: what a well-behaved local
/// model quotes (short, as the verbatim bound asks), not a whole sentence.
fn clause_with<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
    text.split(". ")
        .flat_map(|sentence| sentence.split(", "))
        .find(|clause| clause.to_lowercase().contains(needle))
        .map(str::trim)
}

/// The value and unit a clause gives ("160/100 mmHg").
fn reading(clause: &str) -> String {
    clause
        .split_whitespace()
        .skip_while(|w| !w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches([',', '.'])
        .to_string()
}

/// The local stand-in's reply, from the last user message and the whole
/// prompt: a worker searches its excerpt, a chat partner the whole record.
pub fn local_reply(prompt: &str, whole_prompt: &str) -> String {
    if prompt.starts_with("Excerpt from") {
        let excerpt = prompt.split("\"\"\"").nth(1).unwrap_or_default();
        // A planned task asks for one reading; the task as written
        // (Minions' round 1) for both, and a chunk gives those it holds
        // whole (a chunk may end inside the report).
        let needles: &[&str] = if prompt.contains("Task: Find the LDL") {
            &["ldl"]
        } else if prompt.contains("Task: Find the blood pressure") {
            &["blood pressure"]
        } else {
            &["blood pressure", "ldl"]
        };
        let found: Vec<(&str, String)> = needles
            .iter()
            .filter_map(|n| clause_with(excerpt, n))
            .map(|clause| (clause, reading(clause)))
            .filter(|(_, value)| value.contains(' '))
            .collect();
        if found.is_empty() {
            return json!({"explanation": "The excerpt does not mention it.", "citation": null, "answer": null})
                .to_string();
        }
        let citation: Vec<&str> = found.iter().map(|(clause, _)| *clause).collect();
        let answer: Vec<&str> = found.iter().map(|(_, value)| value.as_str()).collect();
        return json!({"explanation": "The excerpt gives the reading.", "citation": citation.join(" ... "), "answer": answer.join(", ")})
            .to_string();
    }
    // The whole record when it is short, else the passages that best match
    // the question (Minion sends those above 1,200 tokens).
    let document = ["=== DOCUMENTS ===", "=== PASSAGES ==="]
        .iter()
        .find_map(|marker| whole_prompt.split(marker).nth(1))
        .unwrap_or_default();
    let found: Vec<&str> = ["blood pressure", "ldl"]
        .iter()
        .filter_map(|n| clause_with(document, n))
        .collect();
    format!("The report says: {}.", found.join(". "))
}

/// The remote stand-in's reply, from the last user message: it plans, asks
/// and concludes from what it is told.
pub fn remote_reply(prompt: &str, _whole_prompt: &str) -> String {
    let conclusion = |evidence: &str| {
        format!(
            "Yes. The record shows {evidence}. Both are above recommended levels, \
             and together with his age and chest discomfort they indicate an increased risk of cardiovascular complications."
        )
    };
    if prompt.contains("The small model answered") {
        return json!({"reasoning": "I have both values.", "decision": "final", "answer": conclusion("a blood pressure of 160/100 mmHg and LDL cholesterol of 170 mg/dL")}).to_string();
    }
    if prompt.contains("Plan this round's work") {
        return json!({
            "tasks": [
                {"id": "bp", "instruction": "Find the blood pressure reading.", "advice": "Values look like 120/80 mmHg.", "query": "blood pressure mmHg"},
                {"id": "ldl", "instruction": "Find the LDL cholesterol level.", "advice": "Values look like 130 mg/dL.", "query": "LDL cholesterol mg/dL"}
            ],
            "chunking": {"unit": "chars", "size": 2000, "overlap": 100},
            "select": {"bm25": {"top_k": 3}},
            "samples": 1
        })
        .to_string();
    }
    // The readings, wherever in the findings they are.
    let answers = findings(prompt).join(", ");
    let bp = answers.split(", ").find(|a| a.ends_with("mmHg"));
    let ldl = answers.split(", ").find(|a| a.ends_with("mg/dL"));
    // A reading missing: ask for a round that looks for each (a round that
    // is not the last offers "continue").
    if (bp.is_none() || ldl.is_none()) && prompt.contains("decide \"continue\"") {
        return json!({"reasoning": "Only one of the two readings was found.", "decision": "continue", "answer": null,
            "feedback": "Look for the blood pressure and the LDL cholesterol separately.",
            "scratchpad": format!("Found so far: {answers}")})
        .to_string();
    }
    json!({"reasoning": "The findings agree.", "decision": "final",
        "answer": conclusion(&format!("a blood pressure of {} and LDL cholesterol of {}",
            bp.unwrap_or("?"), ldl.unwrap_or("?")))})
    .to_string()
}

/// The answers a Minions findings message shows, in order.
fn findings(prompt: &str) -> Vec<String> {
    prompt
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- answer: "))
        .map(|a| {
            a.split(" (from")
                .next()
                .unwrap_or(a)
                .trim_matches('"')
                .to_string()
        })
        .collect()
}
