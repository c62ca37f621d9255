//! Pure mapping between our types and OpenAI's JSON. No sockets here.

use minions_core::structured::{StructuredLevel, wire_name};
use minions_core::{ChatRequest, ChatResponse, Error, FinishReason, ResponseFormat, Result, Usage};
use minions_http::{ExtraFields, WireMessage, wire_messages};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Preset;

/// Whether a model is a reasoning model that takes `max_completion_tokens`
/// and rejects a custom `temperature` (o1, o3, o4, GPT-5 families).
pub(crate) fn is_reasoning_model(model: &str) -> bool {
    let model = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    ["o1", "o3", "o4", "gpt-5"]
        .iter()
        .any(|prefix| model == *prefix || model.starts_with(&format!("{prefix}-")))
}

/// A schema name OpenAI accepts.
fn schema_name(name: &str) -> String {
    wire_name(name, "response")
}

/// The body of a `/chat/completions` request. It borrows the messages and
/// the schema from the [`ChatRequest`]: the document is not copied.
#[derive(Debug, Serialize)]
pub(crate) struct ChatBody<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<WireFormat<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
    #[serde(flatten)]
    extra: ExtraFields<'a>,
}

/// `response_format`: a JSON schema, or JSON mode (with the schema where the
/// server takes one there).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireFormat<'a> {
    JsonSchema {
        json_schema: NamedSchema<'a>,
    },
    JsonObject {
        #[serde(skip_serializing_if = "Option::is_none")]
        schema: Option<&'a Value>,
    },
}

#[derive(Debug, Serialize)]
struct NamedSchema<'a> {
    name: String,
    schema: &'a Value,
    strict: bool,
}

#[derive(Debug, Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// The fields [`ChatBody`] always sets, which a request's `extra` can't
/// override.
const BODY_FIELDS: &[&str] = &["model", "messages"];

impl<'a> ChatBody<'a> {
    /// The body for `request`. `level` says how structured output is asked
    /// for when the request wants JSON: the schema as `response_format`,
    /// JSON mode plus the schema in the prompt, or the prompt alone.
    pub(crate) fn new(
        model: &'a str,
        request: &'a ChatRequest,
        preset: &Preset,
        level: StructuredLevel,
        stream: bool,
    ) -> Self {
        let wants_json = request.response_format.wants_json();
        let reasoning = preset.reasoning_params && is_reasoning_model(model);
        if reasoning && request.temperature.is_some() {
            tracing::debug!(
                model,
                "reasoning models take no temperature; not sending it"
            );
        }
        let response_format = match (wants_json, level, &request.response_format) {
            (false, _, _) | (true, StructuredLevel::Prompt, _) => None,
            (true, StructuredLevel::Schema, ResponseFormat::JsonSchema { name, schema }) => {
                Some(WireFormat::JsonSchema {
                    json_schema: NamedSchema {
                        name: schema_name(name),
                        schema,
                        strict: false,
                    },
                })
            }
            (true, _, format) => Some(WireFormat::JsonObject {
                schema: match format {
                    ResponseFormat::JsonSchema { schema, .. } if preset.json_object_schema => {
                        Some(schema)
                    }
                    _ => None,
                },
            }),
        };
        let temperature = request.temperature.filter(|_| !reasoning);
        let max_tokens = request.max_tokens.filter(|_| !reasoning);
        let max_completion_tokens = request.max_tokens.filter(|_| reasoning);
        let stream_options = (stream && preset.stream_usage).then_some(StreamOptions {
            include_usage: true,
        });
        let extra = ExtraFields::new(&request.extra, BODY_FIELDS)
            .taken_if("temperature", temperature.is_some())
            .taken_if("seed", request.seed.is_some())
            .taken_if("max_tokens", max_tokens.is_some())
            .taken_if("max_completion_tokens", max_completion_tokens.is_some())
            .taken_if("stop", !request.stop.is_empty())
            .taken_if("response_format", response_format.is_some())
            .taken_if("stream", stream)
            .taken_if("stream_options", stream_options.is_some());
        Self {
            model,
            messages: wire_messages(request, wants_json && level < StructuredLevel::Schema),
            temperature,
            seed: request.seed,
            max_tokens,
            max_completion_tokens,
            stop: &request.stop,
            response_format,
            stream,
            stream_options,
            extra,
        }
    }
}

/// OpenAI's usage block, with the spellings compatible servers use.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WireUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
    prompt_tokens_details: Option<PromptDetails>,
    /// DeepSeek's name for cache hits.
    prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(wire: WireUsage) -> Self {
        let cached = wire
            .prompt_tokens_details
            .and_then(|d| d.cached_tokens)
            .or(wire.prompt_cache_hit_tokens)
            .unwrap_or(0);
        Usage {
            prompt_tokens: wire.prompt_tokens,
            completion_tokens: wire.completion_tokens,
            cached_prompt_tokens: cached.min(wire.prompt_tokens),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
    #[serde(default)]
    model: String,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: Option<AnswerMessage>,
    finish_reason: Option<FinishReason>,
}

#[derive(Debug, Deserialize)]
struct AnswerMessage {
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    refusal: Option<String>,
}

/// Message content is a string, or (some servers) a list of text parts.
pub(crate) fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| {
                part.get("text")
                    .and_then(Value::as_str)
                    .or_else(|| part.as_str())
            })
            .collect(),
        _ => String::new(),
    }
}

/// Parses a `/chat/completions` answer.
pub(crate) fn parse_chat(provider: &str, body: &[u8]) -> Result<ChatResponse> {
    let completion: Completion = serde_json::from_slice(body).map_err(|e| {
        Error::decode(
            provider,
            format!("not a chat completion ({e})"),
            String::from_utf8_lossy(body),
        )
    })?;
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err(Error::decode(
            provider,
            "the answer has no choices",
            String::from_utf8_lossy(body),
        ));
    };
    let message = choice.message;
    let content = content_text(message.as_ref().and_then(|m| m.content.as_ref()));
    let refused = message.as_ref().and_then(|m| m.refusal.clone());
    let finish_reason = match (&refused, choice.finish_reason) {
        (Some(_), _) if content.is_empty() => Some(FinishReason::ContentFilter),
        (_, reason) => reason,
    };
    if let Some(refusal) = refused.filter(|_| content.is_empty()) {
        tracing::warn!(provider, %refusal, "the model refused");
    }
    Ok(ChatResponse {
        content,
        finish_reason,
        usage: completion.usage.map(Usage::from).unwrap_or_default(),
        model: completion.model,
    })
}

/// One `data:` payload of a stream.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StreamChunk {
    choices: Vec<StreamChoice>,
    usage: Option<WireUsage>,
    model: Option<String>,
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StreamChoice {
    delta: Option<StreamDelta>,
    finish_reason: Option<FinishReason>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StreamDelta {
    content: Option<Value>,
}

/// What a stream chunk contributes.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ChunkUpdate {
    /// New text.
    pub(crate) text: String,
    /// The finish reason, on the last content chunk.
    pub(crate) finish_reason: Option<FinishReason>,
    /// Usage, on the final chunk when `include_usage` was asked for.
    pub(crate) usage: Option<Usage>,
    /// The model name.
    pub(crate) model: Option<String>,
}

/// Parses one `data:` payload. An in-band `{"error": ...}` becomes an error.
pub(crate) fn parse_stream_chunk(provider: &str, data: &str) -> Result<ChunkUpdate> {
    let chunk: StreamChunk = serde_json::from_str(data)
        .map_err(|e| Error::decode(provider, format!("invalid stream chunk ({e})"), data))?;
    if let Some(error) = chunk.error {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| error.to_string());
        return Err(Error::stream(
            provider,
            format!("the server reported an error mid-stream: {message}"),
        ));
    }
    let mut update = ChunkUpdate {
        usage: chunk.usage.map(Usage::from),
        model: chunk.model,
        ..ChunkUpdate::default()
    };
    for choice in chunk.choices {
        if let Some(delta) = choice.delta {
            update.text.push_str(&content_text(delta.content.as_ref()));
        }
        if choice.finish_reason.is_some() {
            update.finish_reason = choice.finish_reason;
        }
    }
    Ok(update)
}

/// The body of an embeddings request.
#[derive(Debug, Serialize)]
pub(crate) struct EmbeddingsBody<'a> {
    /// The model.
    pub(crate) model: &'a str,
    /// The texts.
    pub(crate) input: &'a [String],
    /// Always `float`.
    pub(crate) encoding_format: &'static str,
}

impl<'a> EmbeddingsBody<'a> {
    /// The body embedding `inputs` with `model`.
    pub(crate) fn new(model: &'a str, input: &'a [String]) -> Self {
        Self {
            model,
            input,
            encoding_format: "float",
        }
    }
}

#[derive(Debug, Deserialize)]
struct EmbeddingList {
    data: Vec<EmbeddingItem>,
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingItem {
    #[serde(default)]
    index: usize,
    embedding: Vec<f32>,
}

/// Parses an embeddings answer, in input order.
pub(crate) fn parse_embeddings(
    provider: &str,
    body: &[u8],
    expected: usize,
) -> Result<minions_core::Embeddings> {
    let list: EmbeddingList = serde_json::from_slice(body).map_err(|e| {
        Error::decode(
            provider,
            format!("not an embeddings list ({e})"),
            String::from_utf8_lossy(body),
        )
    })?;
    let mut items = list.data;
    items.sort_by_key(|item| item.index);
    if items.len() != expected {
        return Err(Error::decode(
            provider,
            format!("asked for {expected} embeddings, got {}", items.len()),
            String::from_utf8_lossy(body),
        ));
    }
    Ok(minions_core::Embeddings {
        vectors: items.into_iter().map(|item| item.embedding).collect(),
        usage: list.usage.map(Usage::from).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use minions_core::Message;

    use serde_json::json;

    use super::*;
    use crate::preset;

    fn chat_body(
        model: &str,
        request: &ChatRequest,
        preset: &Preset,
        level: StructuredLevel,
        stream: bool,
    ) -> Value {
        serde_json::to_value(ChatBody::new(model, request, preset, level, stream)).unwrap()
    }

    fn openai() -> &'static Preset {
        preset("openai").unwrap()
    }

    fn schema_request() -> ChatRequest {
        ChatRequest::new(vec![Message::system("sys"), Message::user("q")])
            .with_response_format(ResponseFormat::json_schema(
                "my schema!",
                json!({"type": "object"}),
            ))
            .with_temperature(0.2)
            .with_max_tokens(100)
    }

    #[test]
    fn schema_level_sends_json_schema() {
        let body = chat_body(
            "gpt-4o",
            &schema_request(),
            openai(),
            StructuredLevel::Schema,
            false,
        );
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["name"], "my_schema_");
        assert_eq!(body["max_tokens"], 100);
        assert!((body["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
        assert_eq!(
            body["messages"][0]["content"], "sys",
            "no prompt instruction at schema level"
        );
    }

    #[test]
    fn lower_levels_instruct_in_the_prompt() {
        let json_mode = chat_body(
            "gpt-4o",
            &schema_request(),
            openai(),
            StructuredLevel::JsonMode,
            false,
        );
        assert_eq!(json_mode["response_format"], json!({"type": "json_object"}));
        assert!(
            json_mode["messages"][0]["content"]
                .as_str()
                .unwrap()
                .contains("JSON Schema")
        );
        let together = preset("together").unwrap();
        let with_schema = chat_body(
            "m",
            &schema_request(),
            together,
            StructuredLevel::JsonMode,
            false,
        );
        assert_eq!(
            with_schema["response_format"]["schema"],
            json!({"type": "object"})
        );
        let prompt = chat_body(
            "gpt-4o",
            &schema_request(),
            openai(),
            StructuredLevel::Prompt,
            false,
        );
        assert!(prompt.get("response_format").is_none());
    }

    #[test]
    fn reasoning_models_get_their_parameters() {
        let body = chat_body(
            "o3-mini",
            &schema_request(),
            openai(),
            StructuredLevel::Schema,
            false,
        );
        assert_eq!(body["max_completion_tokens"], 100);
        assert!(body.get("max_tokens").is_none() && body.get("temperature").is_none());
        // A local server hosting a model called o3 is not OpenAI.
        let vllm = preset("vllm").unwrap();
        let body = chat_body(
            "o3",
            &schema_request(),
            vllm,
            StructuredLevel::Schema,
            false,
        );
        assert_eq!(body["max_tokens"], 100);
        assert!(
            is_reasoning_model("gpt-5-mini")
                && !is_reasoning_model("gpt-4o")
                && !is_reasoning_model("o3x")
        );
    }

    #[test]
    fn streaming_asks_for_usage_where_supported() {
        let body = chat_body(
            "m",
            &ChatRequest::default(),
            openai(),
            StructuredLevel::Schema,
            true,
        );
        assert_eq!(body["stream_options"]["include_usage"], true);
        let mlx = preset("mlx").unwrap();
        let body = chat_body(
            "m",
            &ChatRequest::default(),
            mlx,
            StructuredLevel::Prompt,
            true,
        );
        assert!(body.get("stream_options").is_none());
    }

    #[test]
    fn extra_fields_are_merged() {
        let mut request = ChatRequest::default();
        request.extra.insert("top_p".into(), json!(0.5));
        let body = chat_body("m", &request, openai(), StructuredLevel::Schema, false);
        assert_eq!(body["top_p"], 0.5);
    }

    #[test]
    fn parses_answers_leniently() {
        let body = br#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi","new_field":1},"finish_reason":"brand_new"}],
                        "usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_cache_hit_tokens":4},"model":"m","extra":{"a":1}}"#;
        let response = parse_chat("deepseek", body).unwrap();
        assert_eq!(response.content, "hi");
        assert_eq!(
            response.finish_reason,
            Some(FinishReason::Other("brand_new".into()))
        );
        assert_eq!(
            response.usage,
            Usage {
                prompt_tokens: 10,
                completion_tokens: 3,
                cached_prompt_tokens: 4
            }
        );
        let parts = br#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]}"#;
        assert_eq!(parse_chat("mistral", parts).unwrap().content, "ab");
        let refusal =
            br#"{"choices":[{"message":{"content":null,"refusal":"no"},"finish_reason":"stop"}]}"#;
        assert_eq!(
            parse_chat("openai", refusal).unwrap().finish_reason,
            Some(FinishReason::ContentFilter)
        );
        assert!(parse_chat("openai", br#"{"choices":[]}"#).is_err());
        assert!(parse_chat("openai", b"<html>").is_err());
    }

    #[test]
    fn parses_stream_chunks() {
        let update = parse_stream_chunk(
            "openai",
            r#"{"choices":[{"delta":{"content":"He"},"finish_reason":null}],"usage":null}"#,
        )
        .unwrap();
        assert_eq!(update.text, "He");
        let usage = parse_stream_chunk(
            "openai",
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
        )
        .unwrap();
        assert_eq!(usage.usage, Some(Usage::new(5, 2)));
        let error = parse_stream_chunk("openai", r#"{"error":{"message":"boom"}}"#).unwrap_err();
        assert!(error.to_string().contains("boom"));
    }

    #[test]
    fn embeddings_come_back_in_input_order() {
        let body = br#"{"data":[{"index":1,"embedding":[2.0]},{"index":0,"embedding":[1.0]}],"usage":{"prompt_tokens":3,"total_tokens":3}}"#;
        let embeddings = parse_embeddings("openai", body, 2).unwrap();
        assert_eq!(embeddings.vectors, vec![vec![1.0], vec![2.0]]);
        assert!(parse_embeddings("openai", body, 3).is_err());
    }
}
