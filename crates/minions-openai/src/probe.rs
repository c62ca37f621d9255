//! The health check of an OpenAI-compatible endpoint: `GET /models` (the
//! key is accepted, the model is served) and, for llama.cpp, `GET /props`
//! (what one slot holds).

use minions_core::{Error, Probe, Result};
use minions_http::WireRequest;
use serde_json::Value;

use minions_http::ProviderClient;

use crate::OpenAiAdapter;

/// The model names a `/models` answer lists.
pub(crate) fn served_models(body: &Value) -> Vec<String> {
    body.get("data")
        .and_then(Value::as_array)
        .map(|models| {
            models
                .iter()
                .filter_map(|m| m.get("id").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Tokens one llama.cpp slot holds, from `/props`.
pub(crate) fn slot_context(props: &Value) -> Option<u32> {
    props
        .pointer("/default_generation_settings/n_ctx")
        .or_else(|| props.pointer("/default_generation_settings/params/n_ctx"))
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
}

async fn get_json(client: &ProviderClient<OpenAiAdapter>, url: &str) -> Result<Option<Value>> {
    match client.send_for_body(WireRequest::get(url)).await {
        Ok(body) => Ok(serde_json::from_slice(&body).ok()),
        // Not every compatible server lists its models (Azure, some
        // proxies): that says nothing against the model.
        Err(error) if matches!(error.status(), Some(404 | 405 | 501)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The probe behind [`minions_core::ChatModel::probe`].
pub(crate) async fn probe_endpoint(client: &ProviderClient<OpenAiAdapter>) -> Result<Probe> {
    let adapter = client.adapter();
    let mut probe = Probe::default();
    let name = adapter.preset.name;
    let model = &adapter.model;
    let base = &adapter.base;
    match get_json(client, &format!("{}/models", base)).await? {
        Some(listing) => {
            let served = served_models(&listing);
            // llama.cpp answers with whatever model it loaded, whatever
            // name a request gives; everyone else serves what it lists.
            let lenient = name == "llamacpp";
            if served.is_empty() || lenient {
                probe.checked.push(format!("{} answers at {}", name, base));
            } else if served.iter().any(|m| m == model) {
                probe.model_available = Some(true);
                probe.checked.push(format!("{model} is served at {}", base));
            } else {
                let mut shown: Vec<&str> = served.iter().map(String::as_str).take(8).collect();
                if served.len() > 8 {
                    shown.push("...");
                }
                return Err(Error::invalid_request(
                    name,
                    format!(
                        "model `{model}` is not served at {}; it serves: {}",
                        base,
                        shown.join(", ")
                    ),
                ));
            }
        }
        None => probe
            .checked
            .push(format!("{} answers at {} (no model list)", name, base)),
    }
    if name == "llamacpp" {
        let root = base.trim_end_matches("/v1");
        if let Some(props) = get_json(client, &format!("{root}/props")).await?
            && let Some(slot) = slot_context(&props)
        {
            let _ = adapter.slot_context.set(slot);
            probe.context_tokens = Some(slot);
            probe
                .checked
                .push(format!("one slot holds {slot} tokens (/props)"));
        }
    }
    Ok(probe)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_model_lists_and_slot_sizes() {
        assert_eq!(
            served_models(&json!({"data": [{"id": "a"}, {"id": "b"}]})),
            ["a", "b"]
        );
        assert!(served_models(&json!({})).is_empty());
        assert_eq!(
            slot_context(&json!({"default_generation_settings": {"n_ctx": 4096}})),
            Some(4096)
        );
        assert_eq!(slot_context(&json!({"total_slots": 4})), None);
    }
}
