//! Pure mapping between our types and Anthropic's Messages JSON.

use std::borrow::Cow;

use minions_core::structured::{StructuredLevel, wire_name};
use minions_core::{
    ChatRequest, ChatResponse, Error, FinishReason, ResponseFormat, Result, Role, Usage,
};
use minions_http::{ExtraFields, wire_messages};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The tool name used for structured output.
pub(crate) fn tool_name(name: &str) -> String {
    wire_name(name, "respond")
}

/// The body of a `/v1/messages` request, borrowing from the
/// [`ChatRequest`].
///
/// System messages become the separate `system` field. Consecutive messages
/// of the same role are merged, and a conversation that starts with the
/// assistant gets a short user turn first, because the API requires
/// alternating turns that start with the user. At the schema level a JSON
/// schema becomes a forced tool call; below it the schema goes into the
/// system prompt.
///
/// Prompt caching: the system prompt is marked with `cache_control`, and so
/// is the last turn of a conversation that already has an assistant turn (a
/// later round of a multi-round run), so that the next round reads the whole
/// earlier conversation from the cache. A first call marks only the system
/// prompt: a cache write costs more than a plain read, and a one-off prompt
/// would pay it for nothing. Prompts under the model's minimum cacheable
/// length are not cached and cost nothing extra.
#[derive(Debug, Serialize)]
pub(crate) struct MessagesBody<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<TextBlock<'a>>,
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoice>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(flatten)]
    extra: ExtraFields<'a>,
}

/// One turn: plain text, or text blocks when it carries a cache mark.
#[derive(Debug, Serialize)]
struct Turn<'a> {
    role: Role,
    content: TurnContent<'a>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum TurnContent<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<TextBlock<'a>>),
}

/// A text block, optionally the end of a cached prefix.
#[derive(Debug, Serialize)]
struct TextBlock<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<CacheControl>,
}

impl<'a> TextBlock<'a> {
    fn cached(text: Cow<'a, str>) -> Self {
        Self {
            kind: "text",
            text,
            cache_control: Some(CacheControl { kind: "ephemeral" }),
        }
    }
}

#[derive(Debug, Serialize)]
struct CacheControl {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
struct Tool<'a> {
    name: String,
    description: &'static str,
    input_schema: &'a Value,
}

#[derive(Debug, Serialize)]
struct ToolChoice {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
}

/// The fields [`MessagesBody`] always sets.
const BODY_FIELDS: &[&str] = &["model", "max_tokens", "messages"];

impl<'a> MessagesBody<'a> {
    /// The body for `request` (see the type's documentation).
    pub(crate) fn new(
        model: &'a str,
        request: &'a ChatRequest,
        level: StructuredLevel,
        stream: bool,
        default_max_tokens: u32,
    ) -> Self {
        let use_tool = level == StructuredLevel::Schema
            && matches!(request.response_format, ResponseFormat::JsonSchema { .. });
        let messages = wire_messages(request, request.response_format.wants_json() && !use_tool);
        let mut system: Option<Cow<'a, str>> = None;
        let mut turns: Vec<(Role, Cow<'a, str>)> = Vec::new();
        for message in messages {
            if message.role == Role::System {
                system = Some(match system.take() {
                    None => message.content,
                    Some(mut joined) => {
                        let text = joined.to_mut();
                        text.push_str("\n\n");
                        text.push_str(&message.content);
                        joined
                    }
                });
                continue;
            }
            match turns.last_mut() {
                Some((role, text)) if *role == message.role => {
                    let text = text.to_mut();
                    text.push_str("\n\n");
                    text.push_str(&message.content);
                }
                _ => turns.push((message.role, message.content)),
            }
        }
        if turns
            .first()
            .is_some_and(|(role, _)| *role == Role::Assistant)
        {
            turns.insert(0, (Role::User, Cow::Borrowed("Continue.")));
        }
        let later_round = turns.iter().any(|(role, _)| *role == Role::Assistant);
        let last = turns.len().saturating_sub(1);
        let messages = turns
            .into_iter()
            .enumerate()
            .map(|(index, (role, text))| Turn {
                role,
                content: if later_round && index == last {
                    TurnContent::Blocks(vec![TextBlock::cached(text)])
                } else {
                    TurnContent::Text(text)
                },
            })
            .collect();
        let (tools, tool_choice) = match (use_tool, &request.response_format) {
            (true, ResponseFormat::JsonSchema { name, schema }) => {
                let name = tool_name(name);
                (
                    vec![Tool {
                        name: name.clone(),
                        description: "Give your answer by calling this tool with arguments that follow its schema.",
                        input_schema: schema,
                    }],
                    Some(ToolChoice { kind: "tool", name }),
                )
            }
            _ => (Vec::new(), None),
        };
        let extra = ExtraFields::new(&request.extra, BODY_FIELDS)
            .taken_if("system", system.is_some())
            .taken_if("temperature", request.temperature.is_some())
            .taken_if("stop_sequences", !request.stop.is_empty())
            .taken_if("tools", tool_choice.is_some())
            .taken_if("tool_choice", tool_choice.is_some())
            .taken_if("stream", stream);
        Self {
            model,
            max_tokens: request.max_tokens.unwrap_or(default_max_tokens),
            system: system.map(TextBlock::cached).into_iter().collect(),
            messages,
            temperature: request.temperature,
            stop_sequences: &request.stop,
            tools,
            tool_choice,
            stream,
            extra,
        }
    }
}

/// Anthropic's usage block.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
pub(crate) struct WireUsage {
    /// Uncached input tokens.
    pub(crate) input_tokens: Option<u64>,
    /// Output tokens.
    pub(crate) output_tokens: Option<u64>,
    /// Input tokens written to the cache.
    pub(crate) cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the cache.
    pub(crate) cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Our usage: every input token counts as prompt, cache reads as cached.
    pub(crate) fn to_usage(self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        Usage {
            prompt_tokens: self.input_tokens.unwrap_or(0)
                + self.cache_creation_input_tokens.unwrap_or(0)
                + read,
            completion_tokens: self.output_tokens.unwrap_or(0),
            cached_prompt_tokens: read,
        }
    }
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Vec<Value>,
    stop_reason: Option<FinishReason>,
    #[serde(default)]
    usage: WireUsage,
    #[serde(default)]
    model: String,
}

/// The text of content blocks: text blocks joined, or the input of a
/// `tool_use` block as JSON text (how structured answers arrive).
fn blocks_text(blocks: &[Value]) -> String {
    if let Some(tool) = blocks
        .iter()
        .find(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
    {
        return tool.get("input").map(Value::to_string).unwrap_or_default();
    }
    blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect()
}

/// Parses a `/v1/messages` answer.
pub(crate) fn parse_message(provider: &str, body: &[u8]) -> Result<ChatResponse> {
    let message: WireMessage = serde_json::from_slice(body).map_err(|e| {
        Error::decode(
            provider,
            format!("not a message ({e})"),
            String::from_utf8_lossy(body),
        )
    })?;
    let content = blocks_text(&message.content);
    // A forced tool call ends with `tool_use`; for the caller that is a
    // normal end of the answer.
    let finish_reason = match message.stop_reason {
        Some(FinishReason::ToolCalls) => Some(FinishReason::Stop),
        other => other,
    };
    Ok(ChatResponse {
        content,
        finish_reason,
        usage: message.usage.to_usage(),
        model: message.model,
    })
}

/// What one streamed event means.
#[derive(Debug, PartialEq)]
pub(crate) enum StreamUpdate {
    /// Usage and model from `message_start`.
    Start {
        /// Input-side usage.
        usage: Usage,
        /// The model.
        model: Option<String>,
    },
    /// Text (or partial tool JSON).
    Text(String),
    /// `message_delta`: stop reason and output tokens.
    Delta {
        /// Why generation stopped.
        stop_reason: Option<FinishReason>,
        /// Output tokens so far.
        output_tokens: Option<u64>,
    },
    /// `message_stop`: the end.
    Stop,
    /// Nothing that matters (ping, block start/stop).
    Ignore,
}

/// Parses one SSE event.
pub(crate) fn parse_stream_event(provider: &str, event: &str, data: &str) -> Result<StreamUpdate> {
    let value: Value = serde_json::from_str(data)
        .map_err(|e| Error::decode(provider, format!("invalid stream event ({e})"), data))?;
    let kind = value.get("type").and_then(Value::as_str).unwrap_or(event);
    Ok(match kind {
        "message_start" => {
            let message = value.get("message").cloned().unwrap_or(Value::Null);
            let usage: WireUsage = message
                .get("usage")
                .cloned()
                .and_then(|u| serde_json::from_value(u).ok())
                .unwrap_or_default();
            let mut usage = usage.to_usage();
            // Output counted at start is a placeholder; message_delta has it.
            usage.completion_tokens = 0;
            StreamUpdate::Start {
                usage,
                model: message
                    .get("model")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }
        }
        "content_block_delta" => {
            let delta = value.get("delta").cloned().unwrap_or(Value::Null);
            let text = delta
                .get("text")
                .or_else(|| delta.get("partial_json"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            StreamUpdate::Text(text.to_string())
        }
        "message_delta" => StreamUpdate::Delta {
            stop_reason: value
                .pointer("/delta/stop_reason")
                .and_then(Value::as_str)
                .map(FinishReason::parse)
                .map(|r| {
                    if r == FinishReason::ToolCalls {
                        FinishReason::Stop
                    } else {
                        r
                    }
                }),
            output_tokens: value
                .pointer("/usage/output_tokens")
                .and_then(Value::as_u64),
        },
        "message_stop" => StreamUpdate::Stop,
        "error" => {
            let message = value
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error");
            return Err(Error::stream(
                provider,
                format!("the server reported an error mid-stream: {message}"),
            ));
        }
        _ => StreamUpdate::Ignore,
    })
}

#[cfg(test)]
mod tests {
    use minions_core::Message;
    use serde_json::json;

    use super::*;

    fn messages_body(
        model: &str,
        request: &ChatRequest,
        level: StructuredLevel,
        stream: bool,
        default_max_tokens: u32,
    ) -> Value {
        serde_json::to_value(MessagesBody::new(
            model,
            request,
            level,
            stream,
            default_max_tokens,
        ))
        .unwrap()
    }

    fn request() -> ChatRequest {
        ChatRequest::new(vec![
            Message::system("be brief"),
            Message::assistant("earlier"),
            Message::user("a"),
            Message::user("b"),
        ])
    }

    #[test]
    fn system_is_separate_and_turns_alternate() {
        let body = messages_body("claude", &request(), StructuredLevel::Schema, false, 1024);
        assert_eq!(
            body["system"],
            json!([{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}])
        );
        assert_eq!(body["max_tokens"], 1024);
        let roles: Vec<&str> = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["user", "assistant", "user"]);
        // A later round: the last turn closes the cached prefix.
        assert_eq!(
            body["messages"][2]["content"],
            json!([{"type": "text", "text": "a\n\nb", "cache_control": {"type": "ephemeral"}}])
        );
        assert_eq!(body["messages"][1]["content"], "earlier");
    }

    #[test]
    fn a_first_call_caches_only_the_system_prompt() {
        let request = ChatRequest::new(vec![Message::system("s"), Message::user("q")]);
        let body = messages_body("claude", &request, StructuredLevel::Schema, false, 10);
        assert_eq!(body["messages"][0]["content"], "q");
        assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
    }

    #[test]
    fn schemas_become_a_forced_tool_or_a_prompt() {
        let request = request().with_response_format(ResponseFormat::json_schema(
            "plan v1",
            json!({"type": "object"}),
        ));
        let tool = messages_body("claude", &request, StructuredLevel::Schema, true, 1024);
        assert_eq!(
            tool["tool_choice"],
            json!({"type": "tool", "name": "plan_v1"})
        );
        assert_eq!(tool["tools"][0]["input_schema"], json!({"type": "object"}));
        assert_eq!(tool["stream"], true);
        let prompt = messages_body("claude", &request, StructuredLevel::Prompt, false, 1024);
        assert!(prompt.get("tools").is_none());
        assert!(
            prompt["system"][0]["text"]
                .as_str()
                .unwrap()
                .contains("JSON Schema")
        );
    }

    #[test]
    fn parses_text_tool_use_and_cache_usage() {
        let text = br#"{"content":[{"type":"text","text":"Hi"},{"type":"text","text":"!"}],"stop_reason":"end_turn",
            "usage":{"input_tokens":10,"output_tokens":3,"cache_creation_input_tokens":5,"cache_read_input_tokens":20},"model":"claude","new":1}"#;
        let response = parse_message("anthropic", text).unwrap();
        assert_eq!(response.content, "Hi!");
        assert_eq!(
            response.usage,
            Usage {
                prompt_tokens: 35,
                completion_tokens: 3,
                cached_prompt_tokens: 20
            }
        );
        let tool = br#"{"content":[{"type":"tool_use","id":"t","name":"x","input":{"a":1}}],"stop_reason":"tool_use","usage":{}}"#;
        let response = parse_message("anthropic", tool).unwrap();
        assert_eq!(response.content, r#"{"a":1}"#);
        assert_eq!(response.finish_reason, Some(FinishReason::Stop));
    }

    #[test]
    fn parses_stream_events() {
        let update = parse_stream_event(
            "anthropic",
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"He"}}"#,
        )
        .unwrap();
        assert_eq!(update, StreamUpdate::Text("He".into()));
        let update = parse_stream_event("anthropic", "message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":9}}"#).unwrap();
        assert_eq!(
            update,
            StreamUpdate::Delta {
                stop_reason: Some(FinishReason::Length),
                output_tokens: Some(9)
            }
        );
        let error = parse_stream_event(
            "anthropic",
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        )
        .unwrap_err();
        assert!(error.to_string().contains("Overloaded"));
        assert_eq!(
            parse_stream_event("anthropic", "ping", r#"{"type":"ping"}"#).unwrap(),
            StreamUpdate::Ignore
        );
    }
}
