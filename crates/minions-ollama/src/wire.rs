//! Pure mapping between our types and Ollama's JSON, and `num_ctx` sizing.

use minions_core::structured::StructuredLevel;
use minions_core::tokens::approx_tokens;
use minions_core::{ChatRequest, ChatResponse, Error, FinishReason, ResponseFormat, Result, Usage};
use minions_http::{ExtraFields, WireMessage, wire_messages};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Answer tokens assumed when a request sets no `max_tokens`.
pub(crate) const DEFAULT_ANSWER_TOKENS: u32 = 1024;
/// `num_ctx` is rounded up to a multiple of this.
const NUM_CTX_STEP: u32 = 1024;
/// Never ask for less than this (Ollama's own default is 2048 to 4096).
const MIN_NUM_CTX: u32 = 2048;

/// Options that only Ollama has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OllamaOptions {
    /// How long the model stays loaded after a request (`"5m"`, `"1h"`,
    /// `"-1"` for ever).
    pub keep_alive: Option<String>,
    /// Whether thinking models think (Ollama's `think`).
    pub think: Option<bool>,
}

/// How many tokens a request needs: an estimate of the prompt (about four
/// characters a token, plus framing per message and the schema) and the room
/// reserved for the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContextNeed {
    /// Estimated prompt tokens.
    pub(crate) prompt: u32,
    /// Tokens reserved for the answer.
    pub(crate) answer: u32,
}

impl ContextNeed {
    /// Estimates the need of a request.
    pub(crate) fn of(request: &ChatRequest) -> Self {
        let messages: usize = request
            .messages
            .iter()
            .map(|m| approx_tokens(&m.content) + 4)
            .sum();
        let schema = match &request.response_format {
            ResponseFormat::JsonSchema { schema, .. } => approx_tokens(&schema.to_string()),
            _ => 0,
        };
        Self {
            prompt: u32::try_from(messages + schema).unwrap_or(u32::MAX),
            answer: request.max_tokens.unwrap_or(DEFAULT_ANSWER_TOKENS),
        }
    }

    /// Prompt plus answer.
    pub(crate) fn total(&self) -> u32 {
        self.prompt.saturating_add(self.answer)
    }

    /// The `num_ctx` to ask for: the total plus a margin for the estimate's
    /// error (10% and 256 tokens), rounded up, at least [`MIN_NUM_CTX`], and
    /// never beyond the model's context when that is known.
    ///
    /// Fails when even the bare total does not fit the model's context: a
    /// prompt Ollama would silently truncate.
    pub(crate) fn num_ctx(&self, model: &str, context_length: Option<u32>) -> Result<u32> {
        let total = self.total();
        let with_margin = total.saturating_add(total / 10).saturating_add(256);
        let rounded = with_margin
            .div_ceil(NUM_CTX_STEP)
            .saturating_mul(NUM_CTX_STEP)
            .max(MIN_NUM_CTX);
        match context_length {
            Some(limit) if total > limit => Err(Error::invalid_request(
                "ollama",
                format!(
                    "the prompt needs about {total} tokens ({} for the prompt and {} for the answer) but {model}'s context window is {limit} tokens; use smaller chunks, a shorter context, or a model with a longer context",
                    self.prompt, self.answer
                ),
            )),
            Some(limit) => Ok(rounded.min(limit)),
            None => Ok(rounded),
        }
    }
}

/// The body of an `/api/chat` request, borrowing from the [`ChatRequest`].
#[derive(Debug, Serialize)]
pub(crate) struct ChatBody<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<Format<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_alive: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    think: Option<bool>,
    options: ModelOptions<'a>,
    #[serde(flatten)]
    extra: ExtraFields<'a>,
}

/// `format`: a JSON schema, or `"json"`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Format<'a> {
    Schema(&'a Value),
    Json(&'static str),
}

/// Ollama's `options`. A request's `extra.options` adds to them; what we
/// computed (`num_ctx` above all) stays.
#[derive(Debug, Serialize)]
struct ModelOptions<'a> {
    num_ctx: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    num_predict: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(flatten)]
    more: ExtraFields<'a>,
}

/// The fields [`ChatBody`] always sets.
const BODY_FIELDS: &[&str] = &["model", "messages", "stream", "options"];

impl<'a> ChatBody<'a> {
    /// The body for `request` with the context window `num_ctx`.
    pub(crate) fn new(
        model: &'a str,
        request: &'a ChatRequest,
        num_ctx: u32,
        level: StructuredLevel,
        stream: bool,
        options: &'a OllamaOptions,
    ) -> Self {
        let wants_json = request.response_format.wants_json();
        let format = match (wants_json, level, &request.response_format) {
            (false, _, _) | (true, StructuredLevel::Prompt, _) => None,
            (true, StructuredLevel::Schema, ResponseFormat::JsonSchema { schema, .. }) => {
                Some(Format::Schema(schema))
            }
            (true, _, _) => Some(Format::Json("json")),
        };
        let more = match request.extra.get("options") {
            Some(Value::Object(more)) => ExtraFields::new(more, &["num_ctx"])
                .taken_if("temperature", request.temperature.is_some())
                .taken_if("num_predict", request.max_tokens.is_some())
                .taken_if("seed", request.seed.is_some())
                .taken_if("stop", !request.stop.is_empty()),
            _ => ExtraFields::none(),
        };
        let extra = ExtraFields::new(&request.extra, BODY_FIELDS)
            .taken_if("format", format.is_some())
            .taken_if("keep_alive", options.keep_alive.is_some())
            .taken_if("think", options.think.is_some());
        Self {
            model,
            messages: wire_messages(request, wants_json && level < StructuredLevel::Schema),
            stream,
            format,
            keep_alive: options.keep_alive.as_deref(),
            think: options.think,
            options: ModelOptions {
                num_ctx,
                temperature: request.temperature,
                num_predict: request.max_tokens,
                seed: request.seed,
                stop: &request.stop,
                more,
            },
            extra,
        }
    }
}

/// One `/api/chat` answer, or one line of a streamed one.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ChatLine {
    /// The model.
    pub(crate) model: Option<String>,
    message: Option<LineMessage>,
    /// Whether this is the last line.
    pub(crate) done: bool,
    done_reason: Option<FinishReason>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
    /// An in-band error.
    pub(crate) error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LineMessage {
    content: String,
}

impl ChatLine {
    /// The text of this line.
    pub(crate) fn text(&self) -> &str {
        self.message
            .as_ref()
            .map(|m| m.content.as_str())
            .unwrap_or_default()
    }

    /// Token counts (on the last line).
    pub(crate) fn usage(&self) -> Usage {
        Usage::new(
            self.prompt_eval_count.unwrap_or(0),
            self.eval_count.unwrap_or(0),
        )
    }

    /// Why generation stopped (on the last line).
    pub(crate) fn finish_reason(&self) -> Option<FinishReason> {
        self.done_reason.clone()
    }
}

/// Parses a non-streamed `/api/chat` answer.
pub(crate) fn parse_chat(body: &[u8], requested_model: &str) -> Result<ChatResponse> {
    let line: ChatLine = serde_json::from_slice(body).map_err(|e| {
        Error::decode(
            "ollama",
            format!("not a chat answer ({e})"),
            String::from_utf8_lossy(body),
        )
    })?;
    if let Some(error) = &line.error {
        return Err(Error::invalid_request("ollama", error.clone()));
    }
    Ok(ChatResponse {
        content: line.text().to_string(),
        finish_reason: line.finish_reason(),
        usage: line.usage(),
        model: line
            .model
            .clone()
            .unwrap_or_else(|| requested_model.to_string()),
    })
}

/// The context length in `/api/show`'s `model_info`
/// (`llama.context_length`, `qwen2.context_length`, ...).
pub(crate) fn context_length(show: &Value) -> Option<u32> {
    let info = show.get("model_info")?.as_object()?;
    info.iter()
        .find(|(key, _)| key.ends_with(".context_length"))
        .and_then(|(_, value)| value.as_u64())
        .and_then(|n| u32::try_from(n).ok())
}

/// Model names from `/api/tags`.
pub(crate) fn tag_names(tags: &Value) -> Vec<String> {
    tags.get("models")
        .and_then(Value::as_array)
        .map(|models| {
            models
                .iter()
                .filter_map(|m| m.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Vectors from `/api/embed`.
pub(crate) fn parse_embed(body: &[u8], expected: usize) -> Result<minions_core::Embeddings> {
    #[derive(Deserialize)]
    struct Embed {
        embeddings: Vec<Vec<f32>>,
        #[serde(default)]
        prompt_eval_count: u64,
    }
    let embed: Embed = serde_json::from_slice(body).map_err(|e| {
        Error::decode(
            "ollama",
            format!("not an embed answer ({e})"),
            String::from_utf8_lossy(body),
        )
    })?;
    if embed.embeddings.len() != expected {
        return Err(Error::decode(
            "ollama",
            format!(
                "asked for {expected} embeddings, got {}",
                embed.embeddings.len()
            ),
            String::from_utf8_lossy(body),
        ));
    }
    Ok(minions_core::Embeddings {
        vectors: embed.embeddings,
        usage: Usage::new(embed.prompt_eval_count, 0),
    })
}

/// The base URL for an `OLLAMA_HOST` value, which the Ollama CLI accepts as
/// `host`, `host:port` or a URL. `0.0.0.0` (a bind address) means this
/// machine.
pub(crate) fn base_url_from_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    let (scheme, rest) = match host.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => ("http", host),
    };
    let rest = if rest.is_empty() { "127.0.0.1" } else { rest };
    let rest = rest.replacen("0.0.0.0", "127.0.0.1", 1);
    let has_port = rest
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.chars().all(|c| c.is_ascii_digit()) && !port.is_empty());
    if has_port || host.contains("://") {
        format!("{scheme}://{rest}")
    } else {
        format!("{scheme}://{rest}:11434")
    }
}

#[cfg(test)]
mod tests {
    use minions_core::Message;
    use serde_json::json;

    use super::*;

    fn chat_body(
        model: &str,
        request: &ChatRequest,
        num_ctx: u32,
        level: StructuredLevel,
        stream: bool,
        options: &OllamaOptions,
    ) -> Value {
        serde_json::to_value(ChatBody::new(
            model, request, num_ctx, level, stream, options,
        ))
        .unwrap()
    }

    #[test]
    fn num_ctx_grows_with_the_prompt_and_respects_the_model() {
        let short = ChatRequest::new(vec![Message::user("hi")]);
        assert_eq!(
            ContextNeed::of(&short).num_ctx("m", Some(8192)).unwrap(),
            2048
        );
        let long =
            ChatRequest::new(vec![Message::user("word ".repeat(40_000))]).with_max_tokens(500);
        let need = ContextNeed::of(&long);
        assert_eq!(need.prompt, 50_004);
        let num_ctx = need.num_ctx("m", Some(131_072)).unwrap();
        assert!(
            num_ctx >= need.total() && num_ctx.is_multiple_of(1024),
            "{num_ctx}"
        );
        // The margin is clipped to the model's window rather than failing.
        assert_eq!(need.num_ctx("m", Some(51_000)).unwrap(), 51_000);
        let error = need.num_ctx("llama3.2", Some(32_768)).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("50504") && text.contains("32768") && text.contains("llama3.2"),
            "{text}"
        );
    }

    #[test]
    fn body_carries_num_ctx_format_and_options() {
        let request = ChatRequest::new(vec![Message::user("q")])
            .with_temperature(0.0)
            .with_max_tokens(64)
            .with_response_format(ResponseFormat::json_schema("s", json!({"type": "object"})));
        let options = OllamaOptions {
            keep_alive: Some("10m".into()),
            think: Some(false),
        };
        let body = chat_body(
            "llama3.2",
            &request,
            4096,
            StructuredLevel::Schema,
            false,
            &options,
        );
        assert_eq!(body["options"]["num_ctx"], 4096);
        assert_eq!(body["options"]["num_predict"], 64);
        assert_eq!(body["format"], json!({"type": "object"}));
        assert_eq!(body["keep_alive"], "10m");
        assert_eq!(body["think"], false);
        assert_eq!(body["stream"], false);
        let json_mode = chat_body(
            "m",
            &request,
            4096,
            StructuredLevel::JsonMode,
            true,
            &OllamaOptions::default(),
        );
        assert_eq!(json_mode["format"], "json");
        assert!(
            json_mode["messages"][0]["content"]
                .as_str()
                .unwrap()
                .contains("JSON Schema")
        );
    }

    #[test]
    fn extra_options_merge_with_num_ctx() {
        let mut request = ChatRequest::new(vec![Message::user("q")]);
        request.extra.insert("options".into(), json!({"seed": 7}));
        let body = chat_body(
            "m",
            &request,
            2048,
            StructuredLevel::Schema,
            false,
            &OllamaOptions::default(),
        );
        assert_eq!(body["options"], json!({"num_ctx": 2048, "seed": 7}));
    }

    #[test]
    fn parses_answers_show_and_tags() {
        let answer = br#"{"model":"llama3.2","message":{"role":"assistant","content":"hi"},"done":true,"done_reason":"length","prompt_eval_count":12,"eval_count":3,"new":1}"#;
        let response = parse_chat(answer, "x").unwrap();
        assert_eq!(
            (response.content.as_str(), response.usage),
            ("hi", Usage::new(12, 3))
        );
        assert_eq!(response.finish_reason, Some(FinishReason::Length));
        assert_eq!(
            context_length(&json!({"model_info": {"qwen2.context_length": 32768}})),
            Some(32768)
        );
        assert_eq!(context_length(&json!({"details": {}})), None);
        assert_eq!(
            tag_names(&json!({"models": [{"name": "a:latest"}, {"name": "b:7b"}]})),
            ["a:latest", "b:7b"]
        );
    }

    #[test]
    fn ollama_host_in_every_spelling() {
        assert_eq!(
            base_url_from_host("127.0.0.1:11434"),
            "http://127.0.0.1:11434"
        );
        assert_eq!(base_url_from_host("0.0.0.0"), "http://127.0.0.1:11434");
        assert_eq!(base_url_from_host("0.0.0.0:9999"), "http://127.0.0.1:9999");
        assert_eq!(base_url_from_host("gpu-box"), "http://gpu-box:11434");
        assert_eq!(
            base_url_from_host("https://ollama.example.com/"),
            "https://ollama.example.com"
        );
        assert_eq!(
            base_url_from_host("http://[::1]:11434"),
            "http://[::1]:11434"
        );
    }
}
