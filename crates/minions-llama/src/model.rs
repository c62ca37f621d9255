//! [`EmbeddedModel`]: a GGUF model in this process, as a [`ChatModel`].

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::time::Instant;

use async_trait::async_trait;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use minions_core::{
    Capabilities, ChatModel, ChatRequest, ChatResponse, Error, ModelId, Probe, ResponseFormat,
    Result, Usage,
};
use minions_http::wire_messages;
use tokio::sync::{OnceCell, oneshot};

use crate::backend::backend;
use crate::engine::{self, Job};
use crate::hub::{self, Hub, HubModel};
use crate::{LlamaSettings, PROVIDER};

/// Where the GGUF file comes from.
#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    /// Downloaded into the cache on first use (or found there).
    Hub(HubModel),
}

/// A model that is loaded and decoding.
struct Loaded {
    model: Arc<LlamaModel>,
    template: Option<LlamaChatTemplate>,
    jobs: Sender<Job>,
    /// Tokens one sequence holds.
    context: u32,
    load_seconds: f64,
    /// The most sequences one decode call has carried.
    peak: Arc<AtomicUsize>,
}

/// A GGUF model run in-process by llama.cpp. It loads on first use (or on
/// [`ChatModel::probe`], which runs call before anything else), then
/// decodes up to [`LlamaSettings::sequences`] requests together.
pub struct EmbeddedModel {
    id: ModelId,
    source: Source,
    settings: LlamaSettings,
    loaded: OnceCell<std::result::Result<Arc<Loaded>, String>>,
}

impl std::fmt::Debug for EmbeddedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedModel")
            .field("source", &self.source)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Checks that `path` is a GGUF file, with an error that says what is wrong.
pub fn check_gguf(path: &Path) -> Result<()> {
    let shown = path.display();
    let mut file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::config(format!(
            "no model file at {shown}: give the path to a .gguf file (gguf/PATH), for example gguf/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        )),
        _ => Error::config(format!("cannot read the model file {shown}: {e}")),
    })?;
    if path.is_dir() {
        return Err(Error::config(format!(
            "{shown} is a directory: give the path to a .gguf file inside it"
        )));
    }
    let mut magic = [0u8; 4];
    let read = file.read(&mut magic).unwrap_or(0);
    if read < 4 || &magic != b"GGUF" {
        return Err(Error::config(format!(
            "{shown} is not a GGUF model file (it does not start with `GGUF`): give a .gguf file, as llama.cpp and Ollama use"
        )));
    }
    Ok(())
}

impl EmbeddedModel {
    /// A model for the GGUF file at `path`. The file is checked now (it
    /// exists and is a GGUF); it is loaded on first use.
    pub fn new(path: impl Into<PathBuf>, settings: LlamaSettings) -> Result<Self> {
        let path = path.into();
        check_gguf(&path)?;
        Ok(Self {
            id: ModelId::new(PROVIDER, path.display().to_string()),
            source: Source::File(path),
            settings,
            loaded: OnceCell::new(),
        })
    }

    /// A model on the Hugging Face hub: downloaded into the cache
    /// ([`hub::cache_dir`]) on first use, or found there.
    pub fn from_hub(model: HubModel, settings: LlamaSettings) -> Self {
        Self {
            id: ModelId::new(PROVIDER, model.to_string()),
            source: Source::Hub(model),
            settings,
            loaded: OnceCell::new(),
        }
    }

    /// The GGUF file, downloading it first for a hub model.
    async fn file(&self) -> std::result::Result<PathBuf, String> {
        match &self.source {
            Source::File(path) => Ok(path.clone()),
            Source::Hub(model) => {
                let hub = Hub::from_env().map_err(|e| e.to_string())?;
                let mut told = 0;
                let path = hub
                    .fetch(model, &hub::cache_dir(), |done, total| {
                        let percent = (done * 100).checked_div(total).unwrap_or(0);
                        if percent >= told + 10 {
                            told = percent;
                            tracing::info!("downloading {model}: {percent}%");
                        }
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                check_gguf(&path).map_err(|e| e.to_string())?;
                Ok(path)
            }
        }
    }

    /// The settings in use.
    pub fn settings(&self) -> LlamaSettings {
        self.settings
    }

    /// The most requests one decode call has carried so far: above 1 when
    /// concurrent requests really ran batched (0 before the first call).
    pub fn peak_batched_sequences(&self) -> usize {
        match self.loaded.get() {
            Some(Ok(loaded)) => loaded.peak.load(Ordering::Relaxed),
            _ => 0,
        }
    }

    /// Seconds the model took to load, once it is loaded.
    pub fn load_seconds(&self) -> Option<f64> {
        match self.loaded.get() {
            Some(Ok(loaded)) => Some(loaded.load_seconds),
            _ => None,
        }
    }

    async fn loaded(&self) -> Result<Arc<Loaded>> {
        let loaded = self
            .loaded
            .get_or_init(|| async {
                let path = match self.file().await {
                    Ok(path) => path,
                    Err(message) => return Err(message),
                };
                let settings = self.settings;
                tokio::task::spawn_blocking(move || load(&path, settings))
                    .await
                    .unwrap_or_else(|e| Err(format!("loading the model stopped: {e}")))
            })
            .await;
        loaded.clone().map_err(Error::config)
    }
}

/// Loads the model and starts its decoding thread.
fn load(path: &Path, settings: LlamaSettings) -> std::result::Result<Arc<Loaded>, String> {
    let began = Instant::now();
    let backend = backend()?;
    let params = LlamaModelParams::default().with_n_gpu_layers(settings.gpu_layers);
    let model = LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
        format!(
            "llama.cpp could not load {}: the file is truncated or damaged, or its architecture is newer than this build of llama.cpp ({e}); run with -v for llama.cpp's own message",
            path.display()
        )
    })?;
    let trained = model.n_ctx_train().max(256);
    let settings = LlamaSettings {
        context_per_sequence: settings.context_per_sequence.min(trained),
        ..settings
    };
    let template = model.chat_template(None).ok();
    if template.is_none() {
        tracing::warn!(path = %path.display(), "the model has no chat template; using a plain one");
    }
    let model = Arc::new(model);
    let (jobs, receiver) = std::sync::mpsc::channel();
    let engine_model = model.clone();
    let peak = Arc::new(AtomicUsize::new(0));
    let engine_peak = peak.clone();
    std::thread::Builder::new()
        .name("minions-llama".into())
        .spawn(move || engine::run(engine_model, settings, receiver, engine_peak))
        .map_err(|e| format!("cannot start the decoding thread: {e}"))?;
    tracing::info!(
        path = %path.display(),
        seconds = began.elapsed().as_secs_f64(),
        context = settings.context_per_sequence,
        sequences = settings.sequences,
        "model loaded"
    );
    Ok(Arc::new(Loaded {
        model,
        template,
        jobs,
        context: settings.context_per_sequence,
        load_seconds: began.elapsed().as_secs_f64(),
        peak,
    }))
}

/// The grammar that constrains the answer to the request's JSON, if it asks
/// for JSON and llama.cpp can express the schema.
fn grammar(format: &ResponseFormat) -> Option<String> {
    let schema = match format {
        ResponseFormat::JsonSchema { schema, .. } => schema.to_string(),
        ResponseFormat::Json => r#"{"type": "object"}"#.to_string(),
        _ => return None,
    };
    match llama_cpp_2::json_schema_to_grammar(&schema) {
        Ok(grammar) => Some(grammar),
        Err(error) => {
            tracing::info!(%error, "the schema has no grammar; asking for JSON in the prompt");
            None
        }
    }
}

/// The prompt: the model's chat template over the messages (with the JSON
/// instruction when no grammar enforces the format).
fn prompt(loaded: &Loaded, request: &ChatRequest, instruct_json: bool) -> Result<String> {
    let messages = wire_messages(request, instruct_json);
    let Some(template) = &loaded.template else {
        let mut text: String = messages
            .iter()
            .map(|m| format!("{}: {}\n", m.role.as_str(), m.content))
            .collect();
        text.push_str("assistant: ");
        return Ok(text);
    };
    let chat = messages
        .into_iter()
        .map(|m| LlamaChatMessage::new(m.role.as_str().to_string(), m.content.into_owned()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid_request(PROVIDER, format!("a message cannot be sent: {e}")))?;
    loaded
        .model
        .apply_chat_template(template, &chat, true)
        .map_err(|e| {
            Error::invalid_request(
                PROVIDER,
                format!("the model's chat template could not be applied: {e}"),
            )
        })
}

#[async_trait]
impl ChatModel for EmbeddedModel {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let loaded = self.loaded().await?;
        let grammar = grammar(&request.response_format);
        let instruct = request.response_format.wants_json() && grammar.is_none();
        let text = prompt(&loaded, request, instruct)?;
        let tokenizer = loaded.clone();
        let tokens = tokio::task::spawn_blocking(move || {
            tokenizer
                .model
                .vocab()
                .tokenize(text.as_bytes(), true, true)
        })
        .await
        .map_err(|e| Error::config(format!("tokenizing stopped: {e}")))?;
        let prompt_tokens = tokens.len() as u32;
        let room = loaded.context.saturating_sub(prompt_tokens);
        let max_tokens = request.max_tokens.unwrap_or(room);
        if prompt_tokens.saturating_add(max_tokens) > loaded.context || room == 0 {
            return Err(Error::invalid_request(
                PROVIDER,
                format!(
                    "the prompt needs {prompt_tokens} tokens and the answer up to {max_tokens}, more than the {} tokens one sequence holds; raise MINIONS_LLAMA_CONTEXT (at most the model's training context) or send less",
                    loaded.context
                ),
            ));
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            prompt: tokens,
            max_tokens,
            temperature: request.temperature.unwrap_or(0.0),
            seed: request.seed.map_or(0x5EED, |s| s as u32),
            grammar,
            stop: request.stop.clone(),
            reply,
        };
        loaded
            .jobs
            .send(job)
            .map_err(|_| Error::config("the embedded model's decoding thread has stopped"))?;
        let generated = answer
            .await
            .map_err(|_| Error::config("the embedded model's decoding thread has stopped"))?
            .map_err(|message| Error::invalid_request(PROVIDER, message))?;
        Ok(ChatResponse {
            content: generated.text,
            finish_reason: Some(generated.finish),
            usage: Usage {
                prompt_tokens: generated.prompt_tokens,
                completion_tokens: generated.completion_tokens,
                cached_prompt_tokens: generated.cached_tokens,
            },
            model: self.id.model.clone(),
        })
    }

    /// Loads the model: a damaged file or a context that cannot be made
    /// fails here, before any remote call.
    async fn probe(&self) -> Result<Probe> {
        let loaded = self.loaded().await?;
        Ok(Probe {
            checked: vec![format!(
                "{} loaded in {:.1} s ({} sequences of {} tokens)",
                self.id.model, loaded.load_seconds, self.settings.sequences, loaded.context
            )],
            model_available: Some(true),
            context_tokens: Some(loaded.context),
        })
    }

    fn capabilities(&self) -> Capabilities {
        let context = match self.loaded.get() {
            Some(Ok(loaded)) => loaded.context,
            _ => self.settings.context_per_sequence,
        };
        Capabilities {
            json_schema: true,
            json_mode: true,
            streaming: false,
            stream_usage: false,
            max_context_tokens: Some(context),
        }
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}
