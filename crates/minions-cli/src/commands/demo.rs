//! `minions demo`: a whole run offline, against scripted stand-in models.
//!
//! Two fake servers start on 127.0.0.1: one speaks OpenAI's API (the remote
//! model), one Ollama's (the local model). Their answers are scripted from
//! the prompts they receive: the "local" one really searches the excerpt it
//! is given, the "remote" one plans and concludes from what it is told. Every
//! byte goes through the real clients, protocols, retries and accounting,
//! so the demo shows what a run does and what it costs, without models,
//! keys or a network. It says nothing about answer quality.

use std::collections::BTreeMap;
use std::sync::Arc;

use minions::ollama::OllamaClient;
use minions::openai::OpenAiClient;
use minions::protocol::History;
use minions::{ApiKey, ChatModel, ContextDocument};
use minions_testkit::{FakeServer, RecordedRequest, Reply};
use serde_json::json;

use crate::cli::{DemoArgs, ProtocolChoice};
use crate::error::{CliError, code};
use crate::progress::Style;
use crate::report;
use crate::run::run_once;
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

fn sentence_with<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
    text.split(". ")
        .find(|s| s.to_lowercase().contains(needle))
        .map(str::trim)
}

/// The stand-in local model: answers from the text it was given.
fn local(request: &RecordedRequest) -> Reply {
    let prompt = request.last_user_message();
    if prompt.starts_with("Excerpt from") {
        let needle = if prompt.contains("Task: Find the blood pressure") {
            "blood pressure"
        } else {
            "ldl"
        };
        let excerpt = prompt.split("\"\"\"").nth(1).unwrap_or_default();
        return Reply::json(&match sentence_with(excerpt, needle) {
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
        });
    }
    let prompt = request.prompt_text();
    let document = prompt.split("=== DOCUMENTS ===").nth(1).unwrap_or_default();
    let found: Vec<&str> = ["blood pressure", "ldl"]
        .iter()
        .filter_map(|n| sentence_with(document, n))
        .collect();
    Reply::text(format!("The report says: {}.", found.join(". ")))
}

/// The stand-in remote model: plans, asks and concludes from its prompts.
fn remote(request: &RecordedRequest) -> Reply {
    let prompt = request.last_user_message();
    let conclusion = |evidence: &str| {
        format!(
            "Yes. The record shows {evidence}. Both are above recommended levels (under 130/80 mmHg and under 100 mg/dL), \
             and together with his age and chest discomfort they indicate an increased risk of cardiovascular complications."
        )
    };
    if prompt.contains("Write your first question") {
        return Reply::json(
            &json!({"reasoning": "I need both readings.", "message": "What are the patient's blood pressure and LDL cholesterol readings? Quote the report."}),
        );
    }
    if prompt.contains("The small model answered") {
        return Reply::json(
            &json!({"reasoning": "I have both values.", "decision": "final", "answer": conclusion("a blood pressure of 160/100 mmHg and LDL cholesterol of 170 mg/dL")}),
        );
    }
    if prompt.contains("Plan this round's work") {
        return Reply::json(&json!({
            "tasks": [
                {"id": "bp", "instruction": "Find the blood pressure reading.", "advice": "Values look like 120/80 mmHg.", "query": "blood pressure mmHg"},
                {"id": "ldl", "instruction": "Find the LDL cholesterol level.", "advice": "Values look like 130 mg/dL.", "query": "LDL cholesterol mg/dL"}
            ],
            "chunking": {"unit": "chars", "size": 2000, "overlap": 100},
            "select": {"bm25": {"top_k": 3}},
            "samples": 1
        }));
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
    Reply::json(
        &json!({"reasoning": "The findings agree.", "decision": "final",
        "answer": conclusion(&format!("a blood pressure of {} and LDL cholesterol of {}",
            answers.first().map_or("?", String::as_str), answers.get(1).map_or("?", String::as_str)))}),
    )
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
pub(crate) async fn demo(args: DemoArgs) -> Result<u8, CliError> {
    let remote_server = FakeServer::start().await;
    remote_server.respond_with(remote);
    let local_server = FakeServer::start().await;
    local_server.respond_with(local);
    let remote_model: Arc<dyn ChatModel> = Arc::new(
        OpenAiClient::builder("openai", "gpt-4o")?
            .base_url(remote_server.openai_base_url())
            .api_key(ApiKey::new("demo"))
            .build()?,
    );
    let local_model: Arc<dyn ChatModel> = Arc::new(
        OllamaClient::builder("llama3.2")
            .base_url(local_server.url())
            .build()?,
    );
    let models = Models {
        local: local_model,
        remote: remote_model,
        embedder: None,
    };
    let protocol = args.protocol.unwrap_or(ProtocolChoice::Minions);
    let settings = Effective {
        values: Settings {
            protocol: Some(protocol),
            ..Settings::default()
        },
        origins: BTreeMap::new(),
        file: None,
    };
    if !args.json {
        eprintln!(
            "DEMO: scripted stand-in models on 127.0.0.1 (no network, no keys, no real model).\n\
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
    let transcript = run_once(
        &models,
        &settings,
        protocol,
        TASK,
        &context,
        &History::default(),
        style,
    )
    .await?;
    if args.json {
        println!("{}", report::json(&transcript.result));
    } else {
        println!("\n{}", transcript.result.answer);
        eprintln!("\n{}", report::summary(&transcript.result));
        eprintln!("\nWith real models: minions ask \"...\" --context FILE (see the README).");
    }
    Ok(code::OK)
}
