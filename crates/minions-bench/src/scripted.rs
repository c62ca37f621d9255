//! Stand-in models for runs without configured models: fake servers on
//! 127.0.0.1 whose answers come from simple text search. The numbers they
//! produce show token flow, cost structure and overhead, never quality.

use minions::ollama::OllamaBuilder;
use minions::openai::OpenAiBuilder;
use minions::{ApiKey, ChatModel, ConnectionSettings};
use minions_testkit::{FakeServer, RecordedRequest, Reply};
use serde_json::json;
use std::sync::Arc;

/// The subject of a benchmark question: the words after "for", "to" or
/// "had the larger ... ,".
fn subject(question: &str) -> String {
    let question = question.trim_end_matches('?');
    for marker in [" for ", " to "] {
        if let Some((_, rest)) = question.rsplit_once(marker) {
            return rest
                .split(" contain")
                .next()
                .unwrap_or(rest)
                .trim()
                .to_string();
        }
    }
    question
        .rsplit(", ")
        .next()
        .unwrap_or(question)
        .split(" or ")
        .next()
        .unwrap_or(question)
        .trim()
        .to_string()
}

/// The sentences of `text` that mention `subject`.
fn mentions(text: &str, subject: &str) -> Vec<String> {
    let subject = subject.to_lowercase();
    text.split(['\n', '.'])
        .map(str::trim)
        .filter(|s| !subject.is_empty() && s.to_lowercase().contains(&subject))
        .map(|s| format!("{s}."))
        .collect()
}

fn question_in(prompt: &str) -> String {
    for marker in ["Question:", "Task:"] {
        if let Some((_, rest)) = prompt.rsplit_once(marker) {
            return rest.lines().next().unwrap_or_default().trim().to_string();
        }
    }
    prompt.lines().last().unwrap_or_default().to_string()
}

/// The local stand-in: a worker searches its excerpt; a chat partner
/// searches the whole document.
fn local(request: &RecordedRequest) -> Reply {
    let prompt = request.last_user_message();
    if let Some(excerpt) = prompt
        .strip_prefix("Excerpt from")
        .and_then(|p| p.split("\"\"\"").nth(1))
    {
        let task = question_in(&prompt);
        let found = mentions(excerpt, &subject(&task));
        return Reply::json(&match found.first() {
            Some(sentence) => {
                json!({"explanation": "The excerpt mentions it.", "citation": sentence, "answer": found.join(" ")})
            }
            None => {
                json!({"explanation": "Not in this excerpt.", "citation": null, "answer": null})
            }
        });
    }
    let document = request.prompt_text();
    let found = mentions(&document, &subject(&question_in(&prompt)));
    Reply::text(if found.is_empty() {
        "The document does not mention it.".to_string()
    } else {
        found.join(" ")
    })
}

/// The remote stand-in: plans one task per question, asks one question,
/// and concludes with what it was told.
fn remote(request: &RecordedRequest) -> Reply {
    let prompt = request.last_user_message();
    if prompt.contains("Plan this round's work") {
        let task = question_in(&prompt);
        return Reply::json(
            &json!({"tasks": [{"id": "find", "instruction": task, "query": subject(&task)}], "select": {"bm25": {"top_k": 6}}}),
        );
    }
    if let Some(answer) = prompt
        .split("\"\"\"")
        .nth(1)
        .filter(|_| prompt.contains("The small model answered"))
    {
        return Reply::json(
            &json!({"reasoning": "done", "decision": "final", "answer": answer.trim()}),
        );
    }
    if prompt.contains("Findings of round") {
        let answers: Vec<&str> = prompt
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- answer: "))
            .collect();
        let answer = if answers.is_empty() {
            "The document does not mention it.".to_string()
        } else {
            answers.join(" ").replace('"', "")
        };
        return Reply::json(&json!({"reasoning": "done", "decision": "final", "answer": answer}));
    }
    // Remote-only or local-only style: the whole document is in the prompt.
    let found = mentions(&prompt, &subject(&question_in(&prompt)));
    Reply::text(if found.is_empty() {
        "The document does not mention it.".to_string()
    } else {
        found.join(" ")
    })
}

/// Two fake servers and clients for them, priced as `openai/gpt-4o`
/// (remote) and free (local).
pub struct Scripted {
    /// The remote stand-in's server.
    pub remote_server: FakeServer,
    /// The local stand-in's server.
    pub local_server: FakeServer,
    /// A client of the remote stand-in.
    pub remote: Arc<dyn ChatModel>,
    /// A client of the local stand-in.
    pub local: Arc<dyn ChatModel>,
}

/// Starts the stand-ins on the current runtime.
pub async fn start() -> minions::Result<Scripted> {
    let remote_server = FakeServer::start().await;
    remote_server.respond_with(remote);
    let local_server = FakeServer::start().await;
    local_server.respond_with(local);
    let remote_model: Arc<dyn ChatModel> = Arc::new(
        OpenAiBuilder::new("openai", "gpt-4o")?
            .base_url(remote_server.openai_base_url())
            .api_key(ApiKey::new("scripted"))
            .build()?,
    );
    let local_model: Arc<dyn ChatModel> = Arc::new(
        OllamaBuilder::new("llama3.2")
            .base_url(local_server.url())
            .build()?,
    );
    Ok(Scripted {
        remote_server,
        local_server,
        remote: remote_model,
        local: local_model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_subject_of_each_question_kind() {
        assert_eq!(
            subject("What is the access code for Project Atlas?"),
            "Project Atlas"
        );
        assert_eq!(
            subject("How many units did the two shipments to Ward 7 contain in total?"),
            "Ward 7"
        );
        assert_eq!(
            subject("Which had the larger annual budget, Northwind Ltd or the Delta plant?"),
            "Northwind Ltd"
        );
    }
}
