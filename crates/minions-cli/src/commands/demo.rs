//! `minions demo`: a whole run offline, against scripted stand-in models.
//!
//! Two in-process stand-ins play the models: the "local" one really searches
//! the excerpt it is given, the "remote" one plans and concludes from what
//! it is told. Their token counts come from the real tokenizer (the one
//! `minions estimate` uses), and everything else is the real protocol with
//! its real accounting, so the demo shows what a run does and what it
//! costs, without models, keys, servers or a network. It says nothing about
//! answer quality. No test fake is linked into the binary for it.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use minions::protocol::History;
use minions::tokens::{Encoding, count_message_tokens, count_tokens};
use minions::{
    Capabilities, ChatModel, ChatRequest, ChatResponse, ContextDocument, ModelId, Role, RunModels,
    Usage,
};
use serde_json::json;

use crate::cli::DemoArgs;
use crate::error::{CliError, code};
use crate::history::Recorder;
use crate::progress::Style;
use crate::run::{Question, run_once};
use crate::settings::{Effective, Settings};
use crate::setup::Models;

const TASK: &str = "Based on the patient's blood pressure and LDL cholesterol readings in the context, evaluate whether these factors together suggest an increased risk for cardiovascular complications.";

const REPORT: &str = "Patient John Doe is a 60-year-old male with a history of hypertension. In his latest checkup, his blood pressure was recorded at 160/100 mmHg, and he reported occasional chest discomfort during physical activity. Recent laboratory results show that his LDL cholesterol level is elevated at 170 mg/dL, while his HDL remains within the normal range at 45 mg/dL. Other metabolic indicators, including fasting glucose and renal function, are unremarkable.";

/// The sample record: the Python README's report, inside a hundred and sixty
/// routine notes, so that there is something to save on.
fn document() -> String {
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

/// A stand-in model: a function from the request to the reply's text, with
/// usage counted by the real tokenizer.
struct StandIn {
    id: ModelId,
    reply: fn(&str, &str) -> String,
}

#[async_trait]
impl ChatModel for StandIn {
    async fn chat(&self, request: &ChatRequest) -> minions::Result<ChatResponse> {
        let content = (self.reply)(last_user(request), &prompt_text(request));
        let usage = Usage::new(
            count_message_tokens(&request.messages, Encoding::O200kBase) as u64,
            count_tokens(&content, Encoding::O200kBase) as u64,
        );
        Ok(ChatResponse::new(content, usage, self.id.model.clone()))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            json_schema: true,
            json_mode: true,
            max_context_tokens: Some(131_072),
            ..Capabilities::default()
        }
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}

/// The last user message of a request.
fn last_user(request: &ChatRequest) -> &str {
    request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map_or("", |m| m.content.as_str())
}

/// Every message of a request, joined.
fn prompt_text(request: &ChatRequest) -> String {
    request
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The stand-in local model: answers from the text it was given.
/// The local stand-in, from the last user message and the whole prompt.
fn local(prompt: &str, whole_prompt: &str) -> String {
    if prompt.starts_with("Excerpt from") {
        let needle = if prompt.contains("Task: Find the blood pressure") {
            "blood pressure"
        } else {
            "ldl"
        };
        let excerpt = prompt.split("\"\"\"").nth(1).unwrap_or_default();
        return match clause_with(excerpt, needle) {
            Some(sentence) => {
                let value = sentence
                    .split_whitespace()
                    .skip_while(|w| !w.chars().next().is_some_and(|c| c.is_ascii_digit()))
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                json!({"explanation": format!("The excerpt gives the {needle} reading."), "citation": sentence, "answer": value.trim_end_matches([',', '.'])})
            }
            None => {
                json!({"explanation": "The excerpt does not mention it.", "citation": null, "answer": null})
            }
        }
        .to_string();
    }
    let document = whole_prompt
        .split("=== DOCUMENTS ===")
        .nth(1)
        .unwrap_or_default();
    let found: Vec<&str> = ["blood pressure", "ldl"]
        .iter()
        .filter_map(|n| clause_with(document, n))
        .collect();
    format!("The report says: {}.", found.join(". "))
}

/// The stand-in remote model: plans, asks and concludes from its prompts.
/// The remote stand-in, from the last user message.
fn remote(prompt: &str, _whole_prompt: &str) -> String {
    let conclusion = |evidence: &str| {
        format!(
            "Yes. The record shows {evidence}. Both are above recommended levels, \
             and together with his age and chest discomfort they indicate an increased risk of cardiovascular complications."
        )
    };
    if prompt.contains("Write your first question") {
        return json!({"reasoning": "I need both readings.", "message": "What are the patient's blood pressure and LDL cholesterol readings? Quote the report."}).to_string();
    }
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
    let answers: Vec<String> = prompt
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- answer: "))
        .map(|a| {
            a.split(" (from")
                .next()
                .unwrap_or(a)
                .trim_matches('"')
                .to_string()
        })
        .collect();
    json!({"reasoning": "The findings agree.", "decision": "final",
        "answer": conclusion(&format!("a blood pressure of {} and LDL cholesterol of {}",
            answers.first().map_or("?", String::as_str), answers.get(1).map_or("?", String::as_str)))})
    .to_string()
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
pub(crate) async fn demo(args: DemoArgs) -> Result<u8, CliError> {
    if args.serve {
        return serve().await;
    }
    let remote_model: Arc<dyn ChatModel> = Arc::new(StandIn {
        id: ModelId::new("openai", "gpt-4o"),
        reply: remote,
    });
    let local_model: Arc<dyn ChatModel> = Arc::new(StandIn {
        id: ModelId::new("ollama", "llama3.2"),
        reply: local,
    });
    let models = Models {
        run: RunModels::new(remote_model, local_model),
    };
    let protocol = args.protocol.unwrap_or_default();
    // Scripted stand-ins spend nothing: the demo is kept out of the history.
    let settings = Effective {
        values: Settings {
            history: Some(crate::history::OFF.to_string()),
            ..Settings::default()
        },
        origins: BTreeMap::new(),
        file: None,
    };
    if !args.json {
        eprintln!(
            "DEMO: scripted stand-in models in this process (no network, no keys, no real model).\n\
             The remote stand-in is priced as openai/gpt-4o. The figures show how tokens flow and what they\n\
             would cost; the answer shows nothing about model quality. Task: {TASK}\n"
        );
    }
    let context = [ContextDocument::new("patient-record.txt", document())];
    let style = if args.json {
        Style::Quiet
    } else {
        Style::detect(false)
    };
    let recorder = Recorder::open(&settings, minions_history::Source::Cli);
    let ended = run_once(
        &models,
        &settings,
        &recorder,
        Question {
            protocol,
            task: TASK,
            context: &context,
            history: &History::default(),
            style,
            transcript: None,
        },
    )
    .await?;
    if let Some(error) = ended.error {
        return Err(error);
    }
    let transcript = ended.transcript;
    if args.json {
        println!("{}", transcript.result.report(None));
    } else {
        println!("\n{}", transcript.result.answer);
        eprintln!("\n{}", transcript.result.summary());
        eprintln!("\nWith real models: minions ask \"...\" --context FILE (see the README).");
    }
    Ok(code::OK)
}

/// `minions demo --serve`: the same stand-ins as HTTP servers on 127.0.0.1
/// (the remote speaks OpenAI's API, the local Ollama's), so that any client
/// (the Python package, `minions ask`, curl) can run the README's example
/// offline. Runs until interrupted.
#[allow(clippy::print_stdout, clippy::print_stderr)]
async fn serve() -> Result<u8, CliError> {
    use minions_testkit::{FakeServer, RecordedRequest, Reply};
    let answer = |reply: fn(&str, &str) -> String| {
        move |request: &RecordedRequest| {
            Reply::text(reply(&request.last_user_message(), &request.prompt_text()))
        }
    };
    let remote_server = FakeServer::start().await;
    remote_server.respond_with(answer(remote));
    let local_server = FakeServer::start().await;
    local_server.respond_with(answer(local));
    // One line each, flushed at once: a test or script reads them to know
    // where the stand-ins listen.
    println!(
        "export OPENAI_BASE_URL={} OPENAI_API_KEY=demo OLLAMA_HOST={}",
        remote_server.openai_base_url(),
        local_server.url()
    );
    eprintln!(
        "DEMO: scripted stand-ins for openai/gpt-4o and ollama/llama3.2 (they answer the README's example only). Ctrl-C stops them."
    );
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| CliError::usage(format!("cannot wait for Ctrl-C: {e}")))?;
    Ok(code::OK)
}
