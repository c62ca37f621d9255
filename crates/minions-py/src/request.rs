//! What a Python call asks for, as JSON, and the run it becomes.

use std::sync::Arc;
use std::time::Duration;

use minions::{
    ApiKey, ChatModel, ConnectionOverrides, ContextDocument, Engine, ModelSettings, ModelSpec,
    Pricing, ProtocolKind, RetryPolicy, RunModels, RunOptions, RunSpec, chat_model,
};
use serde::Deserialize;

/// How long a local server may stay away mid-run before the run gives up,
/// as the CLI's `--local-retry-secs` default.
const LOCAL_RETRY_WINDOW: Duration = Duration::from_secs(30);

/// One model as a Python client describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// `ollama`, `openai`, `anthropic`, `azure`, ... (see `minions providers`).
    pub provider: String,
    /// The provider's model name.
    pub model: String,
    /// The API key; the provider's variable when absent.
    #[serde(default)]
    pub api_key: Option<String>,
    /// The base URL; the provider's variable or default when absent.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Azure OpenAI's API version.
    #[serde(default)]
    pub api_version: Option<String>,
}

impl ClientSpec {
    /// `provider/model`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.provider, self.model)
    }

    /// The model, configured from the environment and what the client set.
    /// A local model waits out a restarting server, as in the CLI.
    pub fn model(&self, local: bool) -> Result<Arc<dyn ChatModel>, String> {
        let spec: ModelSpec = self
            .name()
            .parse()
            .map_err(|e| format!("model `{}`: {e}", self.name()))?;
        let settings = ModelSettings {
            connection: ConnectionOverrides {
                base_url: self.base_url.clone(),
                api_key: self.api_key.clone().map(ApiKey::new),
                api_version: self.api_version.clone(),
                retry: local.then(|| RetryPolicy::for_local_server(LOCAL_RETRY_WINDOW)),
                http: None,
            },
            ..ModelSettings::default()
        };
        chat_model(&spec, &settings).map_err(|e| e.to_string())
    }
}

/// One run, as the Python package sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// `minion` or `minions`.
    pub protocol: String,
    /// The question or task.
    pub task: String,
    /// The documents' texts.
    pub context: Vec<String>,
    /// What the documents are ("Medical Report"): their name for the remote
    /// model, which never reads them.
    #[serde(default)]
    pub doc_metadata: Option<String>,
    /// The model that reads.
    pub local: ClientSpec,
    /// The model that thinks.
    pub remote: ClientSpec,
    /// Run options, as `minions serve` takes them (`max_rounds`,
    /// `budget_usd`, ...).
    #[serde(default)]
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// A request checked and turned into what [`minions::run`] takes.
pub struct PreparedRun {
    /// The two models, priced at the built-in prices.
    pub engine: Engine,
    /// The task.
    pub task: String,
    /// The documents.
    pub documents: Vec<ContextDocument>,
    /// The options, checked.
    pub spec: RunSpec,
}

impl RunRequest {
    /// Checks the request and builds its models and spec. Errors say what
    /// to change: an unknown option lists the known ones, a missing key
    /// names its variable.
    pub fn prepare(self) -> Result<PreparedRun, String> {
        let protocol: ProtocolKind = self
            .protocol
            .parse()
            .map_err(|e| format!("protocol: {e}"))?;
        if self.task.trim().is_empty() {
            return Err("`task` is empty: say what to find or answer".into());
        }
        if self.context.iter().all(|text| text.trim().is_empty()) {
            return Err(
                "`context` holds no text: pass the documents' texts as a list of strings".into(),
            );
        }
        let options = RunOptions::from_json_object(self.options, &[])?.protocol(protocol);
        let local = self
            .local
            .model(true)
            .map_err(|e| format!("local client: {e}"))?;
        let remote = self
            .remote
            .model(false)
            .map_err(|e| format!("remote client: {e}"))?;
        let base = self
            .doc_metadata
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| "document".to_string());
        let several = self.context.len() > 1;
        let documents = self
            .context
            .into_iter()
            .enumerate()
            .filter(|(_, text)| !text.trim().is_empty())
            .map(|(n, text)| {
                let name = if several {
                    format!("{base} ({})", n + 1)
                } else {
                    base.clone()
                };
                ContextDocument::new(name, text)
            })
            .collect();
        let engine = Engine::new(RunModels::new(remote, local), Pricing::builtin(), options);
        let spec = engine
            .spec(RunOptions::default())
            .map_err(|e| e.to_string())?;
        Ok(PreparedRun {
            engine,
            task: self.task,
            documents,
            spec,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(options: serde_json::Value) -> RunRequest {
        serde_json::from_value(serde_json::json!({
            "protocol": "minion",
            "task": "What is the LDL?",
            "context": ["LDL 170 mg/dL", "HDL 45 mg/dL"],
            "doc_metadata": "Medical Report",
            "local": {"provider": "ollama", "model": "llama3.2", "base_url": "http://127.0.0.1:9"},
            "remote": {"provider": "openai", "model": "gpt-4o", "api_key": "sk-test", "base_url": "http://127.0.0.1:9/v1"},
            "options": options,
        }))
        .unwrap_or_else(|e| panic!("request: {e}"))
    }

    #[test]
    fn a_request_becomes_named_documents_and_a_spec() {
        let prepared = request(serde_json::json!({"max_rounds": 2}))
            .prepare()
            .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = prepared.documents.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["Medical Report (1)", "Medical Report (2)"]);
        assert_eq!(prepared.spec.protocol(), ProtocolKind::Minion);
        assert_eq!(
            prepared.engine.models().remote.id().to_string(),
            "openai/gpt-4o"
        );
    }

    #[test]
    fn bad_requests_say_what_to_change() {
        let error = request(serde_json::json!({"max_round": 2})).prepare().err();
        assert!(error.is_some_and(|e| e.contains("unknown option `max_round`")));
        let error = request(serde_json::json!({"max_rounds": 0}))
            .prepare()
            .err();
        assert!(error.is_some_and(|e| e.contains("max_rounds must be between 1 and 20")));
        let mut unknown = request(serde_json::json!({}));
        unknown.remote.provider = "openia".into();
        let error = unknown.prepare().err();
        assert!(error.is_some_and(|e| e.starts_with("remote client:") && e.contains("openai")));
        let mut empty = request(serde_json::json!({}));
        empty.context = vec![" ".into()];
        assert!(
            empty
                .prepare()
                .is_err_and(|e| e.contains("`context` holds no text"))
        );
    }
}
