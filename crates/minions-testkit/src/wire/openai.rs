//! OpenAI Chat Completions, embeddings and model list.

use bytes::Bytes;
use serde_json::{Value, json};

use super::{CREATED, Next, Rendered, StreamPlan, model_for, usage_for};
use crate::RecordedRequest;
use crate::reply::ChatReply;

fn usage_json(usage: &minions_core::Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens(),
        "prompt_tokens_details": {"cached_tokens": usage.cached_prompt_tokens, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}
    })
}

/// An answer, as JSON or as SSE chunks ending with `data: [DONE]`.
pub(crate) fn chat(reply: &ChatReply, request: &RecordedRequest) -> Rendered {
    let body = request.json().unwrap_or(Value::Null);
    let model = model_for(reply, request);
    let usage = usage_for(reply, request);
    let id = "chatcmpl-testkit";
    if !request.wants_stream() {
        let response = json!({
            "id": id,
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": reply.content, "refusal": null, "annotations": []},
                "logprobs": null,
                "finish_reason": reply.finish_reason.as_str(),
            }],
            "usage": usage_json(&usage),
            "service_tier": "default",
            "system_fingerprint": "fp_testkit",
        });
        return if reply.drop_after_chunks.is_some() {
            Rendered::json_dropped_halfway(&response)
        } else {
            Rendered::json(200, &response)
        };
    }

    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let chunk = |delta: Value, finish: Value| {
        let mut chunk = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_testkit",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if include_usage {
            chunk["usage"] = Value::Null;
        }
        sse_data(&chunk)
    };
    let mut plan = StreamPlan::new(reply);
    plan.send(chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    ));
    let pieces = reply.chunks();
    for (index, text) in pieces.iter().enumerate() {
        match plan.send_chunk(
            index,
            pieces.len(),
            chunk(json!({"content": text}), Value::Null),
        ) {
            Next::Continue => {}
            Next::Dropped => return Rendered::stream("text/event-stream", plan.finish()),
            Next::InBandError(message) => {
                plan.send(sse_data(&error_body(500, &message)));
                return Rendered::stream("text/event-stream", plan.finish());
            }
        }
    }
    plan.send(chunk(json!({}), json!(reply.finish_reason.as_str())));
    if include_usage {
        plan.send(sse_data(&json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_testkit",
            "choices": [],
            "usage": usage_json(&usage),
        })));
    }
    if !reply.omit_stream_end {
        plan.send(Bytes::from_static(b"data: [DONE]\n\n"));
    }
    Rendered::stream("text/event-stream", plan.finish())
}

fn sse_data(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// OpenAI's error body.
pub(crate) fn error_body(status: u16, message: &str) -> Value {
    let (kind, code) = match status {
        400 | 404 | 413 | 422 => ("invalid_request_error", Value::Null),
        401 => ("invalid_request_error", json!("invalid_api_key")),
        403 => ("permission_denied", Value::Null),
        429 => ("requests", json!("rate_limit_exceeded")),
        _ => ("server_error", Value::Null),
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// llama.cpp's answer to a `json_schema` response format.
pub(crate) fn json_schema_rejected() -> Value {
    json!({"error": {
        "code": 400,
        "message": "response_format type must be one of \"text\" or \"json_object\", but got: json_schema",
        "type": "invalid_request_error"
    }})
}

/// An embeddings answer.
pub(crate) fn embeddings(
    vectors: &[Vec<f32>],
    request: &RecordedRequest,
    inputs: &[String],
) -> Rendered {
    let tokens: usize = inputs.iter().map(|t| t.chars().count().div_ceil(4)).sum();
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| json!({"object": "embedding", "index": index, "embedding": vector}))
        .collect();
    Rendered::json(
        200,
        &json!({
            "object": "list",
            "data": data,
            "model": request.model().unwrap_or_else(|| "text-embedding-3-small".into()),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }),
    )
}

/// `GET /v1/models`.
pub(crate) fn models(names: &[String]) -> Rendered {
    let data: Vec<Value> = names
        .iter()
        .map(|name| json!({"id": name, "object": "model", "created": CREATED, "owned_by": "testkit"}))
        .collect();
    Rendered::json(200, &json!({"object": "list", "data": data}))
}
