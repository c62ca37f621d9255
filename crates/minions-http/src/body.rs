//! Pieces of typed, borrowing request bodies that every provider shares:
//! messages that point into the [`ChatRequest`] instead of copying the
//! document, and the request's `extra` fields merged without overriding
//! what the provider computed.

use std::borrow::Cow;

use minions_core::structured::schema_instruction;
use minions_core::{ChatRequest, ResponseFormat, Role};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

/// One chat message as providers take it: `{"role": ..., "content": ...}`.
/// The content borrows from the request unless it had to be changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WireMessage<'a> {
    /// `system`, `user` or `assistant`.
    pub role: Role,
    /// The text.
    pub content: Cow<'a, str>,
}

/// The request's messages, borrowed. With `instruct_json`, the instruction
/// to answer with JSON (and the schema, if there is one) is appended to the
/// system message, or sent as a new first system message: that is how JSON
/// is asked for from a server that takes no schema.
pub fn wire_messages(request: &ChatRequest, instruct_json: bool) -> Vec<WireMessage<'_>> {
    let mut messages: Vec<WireMessage<'_>> = request
        .messages
        .iter()
        .map(|m| WireMessage {
            role: m.role,
            content: Cow::Borrowed(m.content.as_str()),
        })
        .collect();
    if !instruct_json {
        return messages;
    }
    let schema = match &request.response_format {
        ResponseFormat::JsonSchema { schema, .. } => Some(schema),
        _ => None,
    };
    let instruction = schema_instruction(schema);
    match messages.iter_mut().find(|m| m.role == Role::System) {
        Some(system) => {
            let content = system.content.to_mut();
            content.push_str("\n\n");
            content.push_str(&instruction);
        }
        None => messages.insert(
            0,
            WireMessage {
                role: Role::System,
                content: Cow::Owned(instruction),
            },
        ),
    }
    messages
}

/// A request's `extra` fields, flattened into a typed body with
/// `#[serde(flatten)]`. A key the body already sets is left out (and logged):
/// what the provider computed, such as Ollama's `num_ctx` or the structured
/// output format, is never overridden by accident.
#[derive(Debug, Clone)]
pub struct ExtraFields<'a> {
    fields: Option<&'a Map<String, Value>>,
    taken: Vec<&'static str>,
}

impl<'a> ExtraFields<'a> {
    /// The fields of `fields` except those named in `taken` (the fields the
    /// body always sets).
    pub fn new(fields: &'a Map<String, Value>, taken: &[&'static str]) -> Self {
        Self {
            fields: Some(fields),
            taken: taken.to_vec(),
        }
    }

    /// Also leaves out `name` when the body sets it this time (an optional
    /// field such as `temperature`).
    pub fn taken_if(mut self, name: &'static str, set: bool) -> Self {
        if set {
            self.taken.push(name);
        }
        self
    }

    /// No extra fields.
    pub fn none() -> Self {
        Self {
            fields: None,
            taken: Vec::new(),
        }
    }
}

impl Serialize for ExtraFields<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.fields.into_iter().flatten() {
            if self.taken.contains(&key.as_str()) {
                tracing::debug!(key, "extra field ignored: the request body already sets it");
                continue;
            }
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use minions_core::Message;
    use serde_json::json;

    use super::*;

    #[test]
    fn messages_borrow_unless_the_instruction_is_added() {
        let mut request = ChatRequest::new(vec![
            Message::system("be brief"),
            Message::user("a long document"),
        ]);
        let plain = wire_messages(&request, false);
        assert!(plain.iter().all(|m| matches!(m.content, Cow::Borrowed(_))));
        request.response_format = ResponseFormat::JsonSchema {
            name: "x".into(),
            schema: json!({"type": "object"}),
        };
        let instructed = wire_messages(&request, true);
        assert!(instructed[0].content.starts_with("be brief\n\n"));
        assert!(instructed[0].content.contains("JSON Schema"));
        assert!(matches!(instructed[1].content, Cow::Borrowed(_)));

        let no_system = ChatRequest::new(vec![Message::user("q")]);
        let added = wire_messages(&no_system, true);
        assert_eq!(added.len(), 2);
        assert_eq!(added[0].role, Role::System);
    }

    #[test]
    fn extra_fields_never_override_computed_ones() {
        #[derive(Serialize)]
        struct Body<'a> {
            model: &'a str,
            #[serde(flatten)]
            extra: ExtraFields<'a>,
        }
        let mut extra = Map::new();
        extra.insert("model".into(), json!("other"));
        extra.insert("top_p".into(), json!(0.5));
        extra.insert("seed".into(), json!(7));
        let body = |seed_set| Body {
            model: "m",
            extra: ExtraFields::new(&extra, &["model"]).taken_if("seed", seed_set),
        };
        assert_eq!(
            serde_json::to_value(body(true)).unwrap(),
            json!({"model": "m", "top_p": 0.5})
        );
        assert_eq!(
            serde_json::to_value(body(false)).unwrap(),
            json!({"model": "m", "top_p": 0.5, "seed": 7})
        );
    }
}
