//! What a fake server received.

use std::time::Instant;

use serde_json::Value;

/// One request as the fake server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Headers with lowercase names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// When it arrived (tokio's clock, so paused-time tests see paused time).
    pub received_at: tokio::time::Instant,
    /// When it arrived by the wall clock.
    pub received_wall: Instant,
}

impl RecordedRequest {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of a header (name is case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The model named in the body.
    pub fn model(&self) -> Option<String> {
        self.json()?.get("model")?.as_str().map(str::to_string)
    }

    /// Whether the request asked for a streamed answer. Ollama streams unless
    /// told not to; the others only when asked.
    pub fn wants_stream(&self) -> bool {
        let default = self.path.starts_with("/api/");
        self.json()
            .and_then(|body| body.get("stream").and_then(Value::as_bool))
            .unwrap_or(default)
    }

    /// The text of the last `user` message of a chat request (empty when
    /// there is none). Scripted responders decide on it.
    pub fn last_user_message(&self) -> String {
        let body = self.json().unwrap_or_default();
        body["messages"]
            .as_array()
            .and_then(|messages| messages.iter().rev().find(|m| m["role"] == "user"))
            .map(|m| match &m["content"] {
                Value::String(text) => text.clone(),
                other => {
                    let mut parts = Vec::new();
                    collect_strings(other, &mut parts);
                    parts.join("\n")
                }
            })
            .unwrap_or_default()
    }

    /// Every piece of text the request carried as messages or system prompt,
    /// joined with newlines. Use it to assert what a model saw (for example
    /// that the remote model never received the document).
    pub fn prompt_text(&self) -> String {
        let mut out = Vec::new();
        if let Some(body) = self.json() {
            for key in ["system", "messages", "prompt", "input"] {
                if let Some(value) = body.get(key) {
                    collect_strings(value, &mut out);
                }
            }
        }
        out.join("\n")
    }
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| collect_strings(item, out)),
        Value::Object(map) => {
            for (key, item) in map {
                // Roles and part types are labels, not content.
                if key != "role" && key != "type" {
                    collect_strings(item, out);
                }
            }
        }
        _ => {}
    }
}
