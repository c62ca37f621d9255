//! The MCP server: the `ask` and `estimate` tools.

use std::sync::Arc;
use std::time::Duration;

use minions::protocol::{Event, ReadingEstimate, RunFailure};
use minions::{ContextDocument, Engine, ProtocolKind, RunOptions};
use minions_ingest::IngestOptions;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ProgressNotificationParam, ProgressToken,
    RequestMetaObject, ServerCapabilities, ServerConfig,
};
use rmcp::{ErrorData, Peer, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::progress::describe;
use crate::roots::AllowedRoots;

/// What the tools run with: the same engine as the CLI (models, prices,
/// the run options every call starts from, the run history's observer),
/// plus the directories documents may be read from.
pub struct McpSettings {
    /// The models, prices and run options (a call's `options` go over
    /// them), and who is told when a run ends.
    pub engine: Engine,
    /// Directories documents may be read from (`--allow-dir`); the
    /// client's declared roots are added per call.
    pub roots: AllowedRoots,
    /// Size limits for reading documents (the CLI's).
    pub ingest: IngestOptions,
    /// Why runs cannot start yet (a model that could not be built: a
    /// missing key), told in the server's instructions; `ask` fails with it
    /// at its preflight, before anything is spent.
    pub unusable: Option<String>,
}

/// A document given as text.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InlineDocument {
    /// A name for the document, used in citations (for example `notes.md`).
    pub name: String,
    /// The document's text.
    pub text: String,
}

/// The `ask` tool's arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskArgs {
    /// The question to answer from the documents.
    pub question: String,
    /// Files or directories on this machine to read, as absolute paths (or
    /// relative to the first allowed directory). Only paths under the
    /// allowed directories are read.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Documents given as text instead of paths.
    #[serde(default)]
    pub documents: Vec<InlineDocument>,
    /// `minions` (default: the remote model plans small jobs that the local
    /// model runs over chunks in parallel; best for long documents) or
    /// `minion` (the remote model chats with the local model, which holds
    /// the documents).
    pub protocol: Option<ProtocolKind>,
    /// Run options, with the names, defaults and bounds of the CLI's flags
    /// (`max_rounds`, `budget_usd`, `max_cost_ratio`, ...). Unknown names
    /// are refused.
    #[schemars(with = "Option<RunOptions>")]
    pub options: Option<Map<String, Value>>,
}

/// The `estimate` tool's arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateArgs {
    /// Files or directories on this machine to read (as for `ask`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Documents given as text.
    #[serde(default)]
    pub documents: Vec<InlineDocument>,
}

/// The MCP server. Cloning is cheap: the settings are shared.
#[derive(Clone)]
pub struct MinionsMcp {
    settings: Arc<McpSettings>,
    tool_router: ToolRouter<Self>,
}

/// How long a client gets to list its roots.
const ROOTS_WAIT: Duration = Duration::from_secs(5);

#[tool_router]
impl MinionsMcp {
    /// A server with these settings.
    pub fn new(settings: McpSettings) -> Self {
        Self {
            settings: Arc::new(settings),
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Answer a question over long documents without reading them yourself: a local model reads the documents, a remote model plans and concludes, and only short findings reach the remote model. Give the documents as paths on this machine (files or directories, under the allowed directories) or as text. Returns the answer, and as structured content the usage, cost, savings against reading everything remotely, and job statistics. Takes from seconds to minutes; progress is reported."
    )]
    async fn ask(
        &self,
        Parameters(args): Parameters<AskArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        cancel: CancellationToken,
    ) -> Result<CallToolResult, ErrorData> {
        let question = args.question.trim();
        if question.is_empty() {
            return Ok(tool_error("the question is empty"));
        }
        let mut options = match args.options {
            Some(object) => match RunOptions::from_json_object(object, &[]) {
                Ok(given) => given,
                Err(message) => return Ok(tool_error(&message)),
            },
            None => RunOptions::default(),
        };
        if let Some(protocol) = args.protocol {
            options = options.protocol(protocol);
        }
        let spec = match self.settings.engine.spec(options) {
            Ok(spec) => spec.with_cancel(cancel.child_token()),
            Err(error) => return Ok(tool_error(&error.to_string())),
        };
        let context = match self.documents(&args.paths, args.documents, &peer).await {
            Ok(context) => context,
            Err(message) => return Ok(tool_error(&message)),
        };
        let (events, forwarder) = match meta.get_progress_token() {
            Some(token) => {
                let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
                let forwarder = tokio::spawn(forward_progress(receiver, peer.clone(), token));
                (Some(sender), Some(forwarder))
            }
            None => (None, None),
        };
        let outcome = self
            .settings
            .engine
            .run(question, &context, &spec, events)
            .await;
        if let Some(forwarder) = forwarder {
            // The run dropped its sender, so the forwarder ends after the
            // last event.
            let _ = forwarder.await;
        }
        Ok(match outcome {
            Ok(transcript) => {
                let result = &transcript.result;
                let text = format!("{}\n\n{}", result.answer, result.summary());
                let mut reply = CallToolResult::structured(result.report(None));
                reply.content = vec![ContentBlock::text(text)];
                reply
            }
            Err(RunFailure { error, transcript }) => {
                let message = error.to_string();
                let result = &transcript.result;
                // The run failed, but what it spent is still reported.
                let text = format!("{message}\n\n{}", result.summary());
                let mut reply = CallToolResult::structured_error(result.report(Some(&message)));
                reply.content = vec![ContentBlock::text(text)];
                reply
            }
        })
    }

    #[tool(
        description = "Estimate what reading documents with the remote model alone would cost: characters, tokens and input cost per document and in total. Reads the documents like `ask` (paths under the allowed directories, or text); calls no model."
    )]
    async fn estimate(
        &self,
        Parameters(args): Parameters<EstimateArgs>,
        peer: Peer<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let context = match self.documents(&args.paths, args.documents, &peer).await {
            Ok(context) => context,
            Err(message) => return Ok(tool_error(&message)),
        };
        let remote = self.settings.engine.models().remote.id().clone();
        let pricing = self.settings.engine.pricing();
        let estimate = ReadingEstimate::of(
            context.iter().map(|d| (d.name.as_str(), d.text.as_ref())),
            &remote,
            pricing,
        );
        let (chars, tokens, count) = (estimate.chars, estimate.tokens, estimate.documents.len());
        let text = match estimate.input_cost_usd {
            Some(cost) => format!(
                "{count} document(s), {chars} characters, {tokens} tokens: reading all of it once with {remote} costs about ${cost:.4} in input tokens (prices of {}).",
                pricing.taken()
            ),
            None => format!(
                "{count} document(s), {chars} characters, {tokens} tokens; no price is known for {remote}."
            ),
        };
        let mut reply = CallToolResult::structured(json!({
            "documents": estimate.documents, "chars": chars, "tokens": tokens, "remote": remote.to_string(),
            "remote_only_input_cost_usd": estimate.input_cost_usd, "prices_taken": pricing.taken()
        }));
        reply.content = vec![ContentBlock::text(text)];
        Ok(reply)
    }
}

impl MinionsMcp {
    /// The directories this call may read: `--allow-dir`, plus the roots
    /// the client declares when it declares any. (SEP-2577 deprecates roots,
    /// but they are what today's clients send.)
    #[allow(deprecated)]
    async fn roots(&self, peer: &Peer<RoleServer>) -> AllowedRoots {
        let declares_roots = peer
            .peer_info()
            .is_some_and(|info| info.capabilities.roots.is_some());
        if !declares_roots {
            return self.settings.roots.clone();
        }
        let listed = tokio::time::timeout(ROOTS_WAIT, peer.list_roots()).await;
        match listed {
            Ok(Ok(result)) => self
                .settings
                .roots
                .with_client_roots(result.roots.iter().map(|r| r.uri.as_str())),
            Ok(Err(error)) => {
                tracing::info!(%error, "the client did not list its roots");
                self.settings.roots.clone()
            }
            Err(_) => {
                tracing::info!("the client did not list its roots in time");
                self.settings.roots.clone()
            }
        }
    }

    /// Reads the documents of a call, within the allowed directories and
    /// the size limit.
    async fn documents(
        &self,
        paths: &[String],
        inline: Vec<InlineDocument>,
        peer: &Peer<RoleServer>,
    ) -> Result<Vec<ContextDocument>, String> {
        if paths.is_empty() && inline.is_empty() {
            return Err(
                "no documents: give `paths` (files or directories) or `documents` (name and text)"
                    .into(),
            );
        }
        let limit = self.settings.ingest.max_bytes;
        let mut total: u64 = 0;
        let mut context = Vec::new();
        let roots = if paths.is_empty() {
            AllowedRoots::default()
        } else {
            self.roots(peer).await
        };
        for input in paths {
            let path = roots.check(input)?;
            let path = path.to_string_lossy();
            let document = minions_ingest::load(&path, &self.settings.ingest)
                .await
                .map_err(|e| e.to_string())?;
            total += document.text.len() as u64;
            context.push(ContextDocument::from(document));
        }
        for document in inline {
            if document.text.trim().is_empty() {
                return Err(format!("document `{}` is empty", document.name));
            }
            total += document.text.len() as u64;
            context.push(ContextDocument::new(document.name, document.text));
        }
        if total > limit {
            return Err(format!(
                "the documents hold {total} bytes, more than the limit of {limit}; give fewer or smaller documents, or raise max_input_bytes in the server's settings"
            ));
        }
        Ok(context)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for MinionsMcp {
    fn get_info(&self) -> ServerConfig {
        let mut instructions = String::from(
            "Use `ask` to answer questions over long documents (files, directories or text) cheaply: a local model reads them and only short findings reach the remote model. Use `estimate` to see what reading them remotely would cost.",
        );
        if let Some(reason) = &self.settings.unusable {
            instructions.push_str(&format!(
                " Note: `ask` cannot run until the server's configuration is fixed: {reason}"
            ));
        }
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("minions", env!("CARGO_PKG_VERSION")))
            .with_instructions(instructions)
    }
}

/// A tool error the agent can read and act on.
fn tool_error(message: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.to_string())])
}

/// Sends one progress notification per event worth telling, until the run
/// drops its sender.
async fn forward_progress(
    mut events: tokio::sync::mpsc::UnboundedReceiver<Event>,
    peer: Peer<RoleServer>,
    token: ProgressToken,
) {
    let mut step = 0.0;
    while let Some(event) = events.recv().await {
        let Some(message) = describe(&event) else {
            continue;
        };
        step += 1.0;
        let notification =
            ProgressNotificationParam::new(token.clone(), step).with_message(message);
        if let Err(error) = peer.notify_progress(notification).await {
            tracing::debug!(%error, "progress notification not delivered");
        }
    }
}
