//! Anthropic Messages.

use bytes::Bytes;
use minions_core::FinishReason;
use serde_json::{Value, json};

use super::{Next, Rendered, StreamPlan, model_for, usage_for};
use crate::RecordedRequest;
use crate::reply::ChatReply;

fn stop_reason(reason: &FinishReason, tool: bool) -> String {
    match reason {
        FinishReason::Stop if tool => "tool_use".into(),
        FinishReason::Stop => "end_turn".into(),
        FinishReason::Length => "max_tokens".into(),
        FinishReason::ToolCalls => "tool_use".into(),
        FinishReason::ContentFilter => "refusal".into(),
        FinishReason::Other(other) => other.clone(),
    }
}

/// The tool the request forces (`tool_choice: {"type": "tool", "name": ..}`),
/// which is how Anthropic clients ask for structured output.
fn forced_tool(body: &Value) -> Option<String> {
    let choice = body.get("tool_choice")?;
    (choice.get("type")?.as_str()? == "tool")
        .then(|| choice.get("name")?.as_str().map(str::to_string))?
}

/// An answer, as JSON or as the SSE event sequence from `message_start` to
/// `message_stop`. When a tool is forced and the reply text is JSON, the
/// answer is a `tool_use` block with that input.
pub(crate) fn chat(reply: &ChatReply, request: &RecordedRequest) -> Rendered {
    let body = request.json().unwrap_or(Value::Null);
    let model = model_for(reply, request);
    let usage = usage_for(reply, request);
    let uncached_input = usage
        .prompt_tokens
        .saturating_sub(usage.cached_prompt_tokens);
    let tool = forced_tool(&body).and_then(|name| {
        let input: Value = serde_json::from_str(&reply.content).ok()?;
        input.is_object().then_some((name, input))
    });
    let stop = stop_reason(&reply.finish_reason, tool.is_some());
    let usage_json = json!({
        "input_tokens": uncached_input,
        "output_tokens": usage.completion_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cached_prompt_tokens,
    });

    if !request.wants_stream() {
        let content = match &tool {
            Some((name, input)) => {
                json!([{"type": "tool_use", "id": "toolu_testkit", "name": name, "input": input}])
            }
            None => json!([{"type": "text", "text": reply.content}]),
        };
        let response = json!({
            "id": "msg_testkit",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": null,
            "usage": usage_json,
        });
        return if reply.drop_after_chunks.is_some() {
            Rendered::json_dropped_halfway(&response)
        } else {
            Rendered::json(200, &response)
        };
    }

    let mut plan = StreamPlan::new(reply);
    plan.send(event(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": "msg_testkit", "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": uncached_input, "output_tokens": 1,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": usage.cached_prompt_tokens},
        }}),
    ));
    let block = match &tool {
        Some((name, _)) => {
            json!({"type": "tool_use", "id": "toolu_testkit", "name": name, "input": {}})
        }
        None => json!({"type": "text", "text": ""}),
    };
    plan.send(event(
        "content_block_start",
        &json!({"type": "content_block_start", "index": 0, "content_block": block}),
    ));
    plan.send(event("ping", &json!({"type": "ping"})));
    let pieces = reply.chunks();
    for (index, text) in pieces.iter().enumerate() {
        let delta = if tool.is_some() {
            json!({"type": "input_json_delta", "partial_json": text})
        } else {
            json!({"type": "text_delta", "text": text})
        };
        let data = json!({"type": "content_block_delta", "index": 0, "delta": delta});
        match plan.send_chunk(index, pieces.len(), event("content_block_delta", &data)) {
            Next::Continue => {}
            Next::Dropped => return Rendered::stream("text/event-stream", plan.finish()),
            Next::InBandError(message) => {
                plan.send(event("error", &error_body(529, &message)));
                return Rendered::stream("text/event-stream", plan.finish());
            }
        }
    }
    plan.send(event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    plan.send(event(
        "message_delta",
        &json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
                "usage": {"output_tokens": usage.completion_tokens}}),
    ));
    if !reply.omit_stream_end {
        plan.send(event("message_stop", &json!({"type": "message_stop"})));
    }
    Rendered::stream("text/event-stream", plan.finish())
}

fn event(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// Anthropic's error body.
pub(crate) fn error_body(status: u16, message: &str) -> Value {
    let kind = match status {
        400 | 413 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}
