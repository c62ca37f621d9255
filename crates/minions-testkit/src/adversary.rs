//! A model that follows the JSON schema it is sent to the letter and takes
//! the worst option the schema allows: the non-final decision whenever one
//! is offered, the largest numbers, the first alternative (`"all"` for a
//! plan's selection), `null` where null is allowed, and strings that are
//! as short as allowed or copy the schema's own descriptions. A schema that
//! lets this model stall or break a run is a schema bug.

use serde_json::{Map, Value, json};

use crate::{RecordedRequest, Reply};

/// What the adversary writes where a string is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strings {
    /// The field's description from the schema, copied (what small models
    /// do with a prompt's placeholders); `"x"` where there is none.
    Placeholder,
    /// Spaces, as few as `minLength` allows (at least one).
    Blank,
}

/// The worst reply `schema` allows.
pub fn worst(schema: &Value, strings: Strings) -> Value {
    if let Some(options) = schema.get("anyOf").or_else(|| schema.get("oneOf")) {
        return options
            .as_array()
            .and_then(|o| o.first())
            .map(|o| worst(o, strings))
            .unwrap_or(Value::Null);
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
        // Anything but "final" when there is a choice.
        return choices
            .iter()
            .rev()
            .find(|c| c.as_str() != Some("final"))
            .or_else(|| choices.first())
            .cloned()
            .unwrap_or(Value::Null);
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.contains(&"null") {
        return Value::Null;
    }
    match types.first().copied() {
        Some("object") => {
            let mut out = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    out.insert(name.clone(), worst(property, strings));
                }
            }
            Value::Object(out)
        }
        Some("array") => {
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            let count = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            Value::Array((0..count).map(|_| worst(&items, strings)).collect())
        }
        Some("integer") | Some("number") => schema
            .get("maximum")
            .or_else(|| schema.get("minimum"))
            .cloned()
            .unwrap_or(json!(0)),
        Some("boolean") => json!(false),
        Some("string") => {
            let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            match (strings, schema.get("description").and_then(Value::as_str)) {
                (Strings::Placeholder, Some(description)) => json!(description),
                (Strings::Placeholder, None) => json!("x".repeat(min.max(1))),
                (Strings::Blank, _) => json!(" ".repeat(min.max(1))),
            }
        }
        _ => json!("x"),
    }
}

/// A responder for a fake server: the worst reply to the schema the request
/// carries (OpenAI's `response_format`, Ollama's `format`, Anthropic's
/// forced tool), or plain text when it carries none.
pub fn responder(strings: Strings) -> impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static {
    move |request: &RecordedRequest| {
        let body = request.json().unwrap_or(Value::Null);
        let schema = body
            .pointer("/response_format/json_schema/schema")
            .or_else(|| body.get("format").filter(|f| f.is_object()))
            .or_else(|| body.pointer("/tools/0/input_schema"))
            .cloned();
        match schema {
            Some(schema) => Reply::json(&worst(&schema, strings)),
            None => Reply::text(" "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_worst_option() {
        let schema = json!({"type": "object", "properties": {
            "decision": {"type": "string", "enum": ["final", "ask"]},
            "answer": {"type": ["string", "null"]},
            "message": {"type": "string", "minLength": 1, "description": "Your question."},
            "n": {"type": "integer", "minimum": 1, "maximum": 9}
        }});
        let reply = worst(&schema, Strings::Placeholder);
        assert_eq!(
            reply,
            json!({"decision": "ask", "answer": null, "message": "Your question.", "n": 9})
        );
        assert_eq!(worst(&schema, Strings::Blank)["message"], json!(" "));
        let last = json!({"type": "string", "enum": ["final"]});
        assert_eq!(worst(&last, Strings::Blank), json!("final"));
    }
}
