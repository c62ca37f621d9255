//! Ollama's native API.

use bytes::Bytes;
use minions_core::FinishReason;
use serde_json::{Value, json};

use super::{Next, Rendered, StreamPlan, model_for, usage_for};
use crate::RecordedRequest;
use crate::reply::ChatReply;

const CREATED_AT: &str = "2025-06-15T12:00:00.000000Z";

fn done_reason(reason: &FinishReason) -> &str {
    match reason {
        FinishReason::Length => "length",
        FinishReason::Stop => "stop",
        other => other.as_str(),
    }
}

/// An answer to `/api/chat`: one JSON object, or NDJSON lines ending with
/// `"done": true` and the token counts.
pub(crate) fn chat(reply: &ChatReply, request: &RecordedRequest) -> Rendered {
    let model = model_for(reply, request);
    let usage = usage_for(reply, request);
    let final_fields = |content: &str| {
        json!({
            "model": model,
            "created_at": CREATED_AT,
            "message": {"role": "assistant", "content": content},
            "done": true,
            "done_reason": done_reason(&reply.finish_reason),
            "total_duration": 1_000_000u64,
            "load_duration": 100_000u64,
            "prompt_eval_count": usage.prompt_tokens,
            "prompt_eval_duration": 400_000u64,
            "eval_count": usage.completion_tokens,
            "eval_duration": 500_000u64,
        })
    };
    if !request.wants_stream() {
        let response = final_fields(&reply.content);
        return if reply.drop_after_chunks.is_some() {
            Rendered::json_dropped_halfway(&response)
        } else {
            Rendered::json(200, &response)
        };
    }

    let mut plan = StreamPlan::new(reply);
    let pieces = reply.chunks();
    for (index, text) in pieces.iter().enumerate() {
        let line = json!({
            "model": model,
            "created_at": CREATED_AT,
            "message": {"role": "assistant", "content": text},
            "done": false,
        });
        match plan.send_chunk(index, pieces.len(), ndjson(&line)) {
            Next::Continue => {}
            Next::Dropped => return Rendered::stream("application/x-ndjson", plan.finish()),
            Next::InBandError(message) => {
                plan.send(ndjson(&json!({"error": message})));
                return Rendered::stream("application/x-ndjson", plan.finish());
            }
        }
    }
    if !reply.omit_stream_end {
        plan.send(ndjson(&final_fields("")));
    }
    Rendered::stream("application/x-ndjson", plan.finish())
}

fn ndjson(value: &Value) -> Bytes {
    Bytes::from(format!("{value}\n"))
}

/// Ollama's error body.
pub(crate) fn error_body(message: &str) -> Value {
    json!({"error": message})
}

/// The error for a model that is not pulled, worded as Ollama words it.
pub(crate) fn model_not_found(model: &str) -> Rendered {
    Rendered::json(
        404,
        &error_body(&format!(
            "model \"{model}\" not found, try pulling it first"
        )),
    )
}

/// `/api/embed`.
pub(crate) fn embed(
    vectors: &[Vec<f32>],
    request: &RecordedRequest,
    inputs: &[String],
) -> Rendered {
    let tokens: usize = inputs.iter().map(|t| t.chars().count().div_ceil(4)).sum();
    Rendered::json(
        200,
        &json!({
            "model": request.model().unwrap_or_else(|| "nomic-embed-text".into()),
            "embeddings": vectors,
            "total_duration": 1_000_000u64,
            "load_duration": 100_000u64,
            "prompt_eval_count": tokens,
        }),
    )
}

/// `/api/show` for a known model.
pub(crate) fn show(model: &str, context_length: u32) -> Rendered {
    Rendered::json(
        200,
        &json!({
            "modelfile": format!("FROM {model}\n"),
            "parameters": "stop \"<|eot_id|>\"",
            "template": "{{ .Prompt }}",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "llama",
                "families": ["llama"],
                "parameter_size": "3.2B",
                "quantization_level": "Q4_K_M"
            },
            "model_info": {
                "general.architecture": "llama",
                "general.parameter_count": 3_212_749_888u64,
                "llama.context_length": context_length,
                "llama.embedding_length": 3072
            },
            "capabilities": ["completion", "tools"],
            "modified_at": CREATED_AT
        }),
    )
}

/// `/api/tags`.
pub(crate) fn tags(models: &[(String, u32)]) -> Rendered {
    let list: Vec<Value> = models
        .iter()
        .map(|(name, _)| {
            let tagged = if name.contains(':') { name.clone() } else { format!("{name}:latest") };
            json!({
                "name": tagged,
                "model": tagged,
                "modified_at": CREATED_AT,
                "size": 2_019_393_189u64,
                "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}
            })
        })
        .collect();
    Rendered::json(200, &json!({"models": list}))
}
