//! Pure mapping between our types and Anthropic's Messages JSON.

use minions_core::structured::{StructuredLevel, wire_name, with_json_instruction};
use minions_core::{
    ChatRequest, ChatResponse, Error, FinishReason, Message, ResponseFormat, Result, Role, Usage,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The tool name used for structured output.
pub fn tool_name(name: &str) -> String {
    wire_name(name, "respond")
}

/// Builds the body of a `/v1/messages` request.
///
/// System messages become the separate `system` field. Consecutive messages
/// of the same role are merged, and a conversation that starts with the
/// assistant gets a short user turn first, because the API requires
/// alternating turns that start with the user. At the schema level a JSON
/// schema becomes a forced tool call; below it the schema goes into the
/// system prompt.
pub fn messages_body(
    model: &str,
    request: &ChatRequest,
    level: StructuredLevel,
    stream: bool,
    default_max_tokens: u32,
) -> Value {
    let use_tool = level == StructuredLevel::Schema
        && matches!(request.response_format, ResponseFormat::JsonSchema { .. });
    let messages = if request.response_format.wants_json() && !use_tool {
        with_json_instruction(&request.messages, &request.response_format)
    } else {
        request.messages.clone()
    };
    let system: Vec<&str> = messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let mut turns: Vec<Message> = Vec::new();
    for message in messages.iter().filter(|m| m.role != Role::System) {
        match turns.last_mut() {
            Some(last) if last.role == message.role => {
                last.content.push_str("\n\n");
                last.content.push_str(&message.content);
            }
            _ => turns.push(message.clone()),
        }
    }
    if turns.first().is_some_and(|m| m.role == Role::Assistant) {
        turns.insert(0, Message::user("Continue."));
    }

    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert(
        "max_tokens".into(),
        json!(request.max_tokens.unwrap_or(default_max_tokens)),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert(
        "messages".into(),
        Value::Array(
            turns
                .iter()
                .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
                .collect(),
        ),
    );
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if !request.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(request.stop));
    }
    if let (true, ResponseFormat::JsonSchema { name, schema }) =
        (use_tool, &request.response_format)
    {
        let name = tool_name(name);
        body.insert(
            "tools".into(),
            json!([{
                "name": name,
                "description": "Give your answer by calling this tool with arguments that follow its schema.",
                "input_schema": schema,
            }]),
        );
        body.insert("tool_choice".into(), json!({"type": "tool", "name": name}));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    for (key, value) in &request.extra {
        body.insert(key.clone(), value.clone());
    }
    Value::Object(body)
}

/// Anthropic's usage block.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct WireUsage {
    /// Uncached input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// Input tokens written to the cache.
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the cache.
    pub cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Our usage: every input token counts as prompt, cache reads as cached.
    pub fn to_usage(self) -> Usage {
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
pub fn parse_message(provider: &str, body: &[u8]) -> Result<ChatResponse> {
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
pub enum StreamUpdate {
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
pub fn parse_stream_event(provider: &str, event: &str, data: &str) -> Result<StreamUpdate> {
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
    use super::*;

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
        assert_eq!(body["system"], "be brief");
        assert_eq!(body["max_tokens"], 1024);
        let roles: Vec<&str> = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["user", "assistant", "user"]);
        assert_eq!(body["messages"][2]["content"], "a\n\nb");
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
        assert!(prompt["system"].as_str().unwrap().contains("JSON Schema"));
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
