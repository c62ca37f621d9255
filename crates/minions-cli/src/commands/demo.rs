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

use crate::cli::DemoArgs;
use crate::error::{CliError, code};
use crate::history::Recorder;
use crate::progress::Style;
use crate::run::{Question, run_once};
use crate::settings::{Effective, Settings};

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
#[allow(clippy::print_stdout, clippy::print_stderr)]
pub(crate) async fn demo(args: DemoArgs) -> Result<u8, CliError> {
    let remote_model: Arc<dyn ChatModel> = Arc::new(StandIn {
        id: ModelId::new("openai", "gpt-4o"),
        reply: minions_demo::remote_reply,
    });
    let local_model: Arc<dyn ChatModel> = Arc::new(StandIn {
        id: ModelId::new("ollama", "llama3.2"),
        reply: minions_demo::local_reply,
    });
    let protocol = args.protocol.unwrap_or_default();
    // Scripted stand-ins spend nothing: the demo is kept out of the history.
    let settings = Effective {
        values: Settings {
            history: Some(crate::settings::HISTORY_OFF.to_string()),
            ..Settings::default()
        },
        origins: BTreeMap::new(),
        file: None,
    };
    if !args.json {
        eprintln!(
            "DEMO: scripted stand-in models in this process (no network, no keys, no real model).\n\
             The remote stand-in is priced as openai/gpt-4o. The figures show how tokens flow and what they\n\
             would cost; the answer shows nothing about model quality. Task: {}\n",
            minions_demo::TASK
        );
    }
    let context = [ContextDocument::new(
        "patient-record.txt",
        minions_demo::document(),
    )];
    let style = if args.json {
        Style::Quiet
    } else {
        Style::detect(false)
    };
    let engine = crate::setup::engine_over(&settings, RunModels::new(remote_model, local_model))?;
    let recorder = Recorder::open(&settings, minions_history::Source::Cli);
    let ended = run_once(
        &engine,
        &recorder,
        Question {
            protocol,
            task: minions_demo::TASK,
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
