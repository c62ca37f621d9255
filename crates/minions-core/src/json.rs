//! Pulling JSON out of what models actually write.
//!
//! Models asked for JSON still wrap it in prose, code fences or
//! `<think>` blocks, use typographic quotes, or leave a trailing comma. The
//! functions here find the JSON anyway, repair only what can be repaired
//! without guessing, and otherwise return a [`JsonError`] that says what was
//! wrong and shows the start of the text, so the caller can ask the model
//! again with the reason.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::excerpt;

/// At most this many `{` / `[` positions are tried, so that a pathological
/// answer (`{{{{...`) costs linear time, not quadratic.
const MAX_SCAN_STARTS: usize = 64;

/// What kind of failure a [`JsonError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// The text was empty (or only a `<think>` block).
    Empty,
    /// No `{` or `[` anywhere.
    NoJson,
    /// A JSON value starts but never ends: the answer was probably cut off by
    /// the token limit.
    Truncated,
    /// Something JSON-like is there but does not parse.
    Invalid,
    /// JSON parses but does not have the expected fields or types.
    Shape,
}

/// Why no JSON could be extracted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (model output starts: {excerpt:?})")]
pub struct JsonError {
    /// The kind of failure.
    pub kind: JsonErrorKind,
    /// What was wrong, in words a model can act on when it is asked again.
    pub reason: String,
    /// The first characters of the text.
    pub excerpt: String,
}

impl JsonError {
    fn new(kind: JsonErrorKind, reason: impl Into<String>, text: &str) -> Self {
        Self {
            kind,
            reason: reason.into(),
            excerpt: excerpt(text.trim(), 200),
        }
    }
}

/// Extracts the first JSON value from model text. Objects found in the text
/// are preferred to arrays, so that `see [1]` in prose does not hide the
/// object after it.
pub fn extract_json(text: &str) -> Result<Value, JsonError> {
    extract_with(text, Ok)
}

/// The complete part of a JSON object cut off mid-way (a reply that hit its
/// token limit): the object up to its last complete member, closed. Returns
/// `None` when no prefix closes into an object. Only whole members survive,
/// never half a string, so what comes back is what the model did finish.
pub fn salvage_truncated(text: &str) -> Option<Value> {
    let start = text.find('{')?;
    let body = &text[start..];
    // Cut after a complete member: at a comma, or after a closing quote,
    // bracket or brace, or a digit; then close whatever is still open.
    let cuts: Vec<usize> = body
        .char_indices()
        .filter(|(_, c)| matches!(c, ',' | '"' | '}' | ']') || c.is_ascii_digit())
        .map(|(i, c)| if c == ',' { i } else { i + c.len_utf8() })
        .collect();
    for &cut in cuts.iter().rev().take(400) {
        let prefix = &body[..cut];
        let Some(closers) = closers_for(prefix) else {
            continue;
        };
        if let Ok(value @ Value::Object(_)) =
            serde_json::from_str::<Value>(&format!("{prefix}{closers}"))
        {
            return Some(value);
        }
    }
    None
}

/// The brackets that close what `prefix` left open, or `None` when it
/// ends inside a string.
fn closers_for(prefix: &str) -> Option<String> {
    let mut open = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in prefix.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => open.push('}'),
            '[' => open.push(']'),
            '}' | ']' => {
                open.pop();
            }
            _ => {}
        }
    }
    (!in_string).then(|| open.iter().rev().collect())
}

/// Extracts the first JSON value in the text that deserializes into `T`.
///
/// When several candidates parse as JSON but none has `T`'s shape, the error
/// is of kind [`JsonErrorKind::Shape`] and names the first mismatch
/// (`missing field "answer"`), which is what a model needs to be told.
pub fn extract_as<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    extract_with(text, |value| {
        serde_json::from_value::<T>(value).map_err(|e| e.to_string())
    })
}

fn extract_with<T>(
    text: &str,
    mut accept: impl FnMut(Value) -> Result<T, String>,
) -> Result<T, JsonError> {
    let body = strip_think_blocks(text);
    let body = body.trim();
    if body.is_empty() {
        return Err(JsonError::new(
            JsonErrorKind::Empty,
            "the answer is empty",
            text,
        ));
    }

    let scan = scan_balanced(body);
    let mut first_parse_error: Option<String> = None;
    let mut first_shape_error: Option<String> = None;
    let candidates = std::iter::once(body)
        .chain(fenced_blocks(body))
        .chain(scan.objects.iter().copied())
        .chain(scan.arrays.iter().copied());
    for candidate in candidates {
        match parse_lenient(candidate) {
            Ok(value) => match accept(value) {
                Ok(found) => return Ok(found),
                Err(shape) => {
                    first_shape_error.get_or_insert(shape);
                }
            },
            Err(parse) => {
                first_parse_error.get_or_insert(parse);
            }
        }
    }

    if let Some(shape) = first_shape_error {
        return Err(JsonError::new(
            JsonErrorKind::Shape,
            format!("the JSON does not have the expected fields: {shape}"),
            text,
        ));
    }
    if scan.truncated {
        return Err(JsonError::new(
            JsonErrorKind::Truncated,
            "the JSON starts but never ends; the answer was probably cut off by the token limit",
            text,
        ));
    }
    if !body.contains(['{', '[']) {
        return Err(JsonError::new(
            JsonErrorKind::NoJson,
            "the answer contains no JSON object",
            text,
        ));
    }
    let detail = first_parse_error.unwrap_or_else(|| "no complete JSON value".into());
    Err(JsonError::new(
        JsonErrorKind::Invalid,
        format!("the JSON does not parse: {detail}"),
        text,
    ))
}

/// Parses as is, then after the safe repairs.
fn parse_lenient(candidate: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(candidate) {
        Ok(value) => Ok(value),
        Err(first) => match repair(candidate) {
            Some(repaired) => serde_json::from_str(&repaired).map_err(|_| first.to_string()),
            None => Err(first.to_string()),
        },
    }
}

/// Removes `<think>…</think>` and `<thinking>…</thinking>` blocks. A closing
/// tag with no opening one (some servers strip the opening tag) drops
/// everything before it; an opening tag that is never closed is dropped on
/// its own, keeping what follows.
fn strip_think_blocks(text: &str) -> String {
    let mut out = text.to_string();
    for tag in ["think", "thinking"] {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        loop {
            match (out.find(&open), out.find(&close)) {
                (Some(start), Some(end)) if start < end => {
                    out.replace_range(start..end + close.len(), "");
                }
                (_, Some(end)) => {
                    out.replace_range(..end + close.len(), "");
                }
                (Some(start), None) => {
                    out.replace_range(start..start + open.len(), "");
                }
                (None, None) => break,
            }
        }
    }
    out
}

/// The contents of Markdown code fences, in order. The info string
/// (```` ```json ````) is skipped; an unclosed last fence runs to the end.
fn fenced_blocks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find("```")?;
        let after_ticks = &rest[start + 3..];
        // Skip the info string: everything up to the end of the line.
        let content = match after_ticks.find('\n') {
            Some(newline) => &after_ticks[newline + 1..],
            None => after_ticks,
        };
        match content.find("```") {
            Some(end) => {
                rest = &content[end + 3..];
                Some(&content[..end])
            }
            None => {
                rest = "";
                Some(content)
            }
        }
    })
}

/// What [`scan_balanced`] found.
struct Scan<'a> {
    /// Balanced `{…}` spans, in order of their start.
    objects: Vec<&'a str>,
    /// Balanced `[…]` spans, in order of their start.
    arrays: Vec<&'a str>,
    /// Whether some value started but never closed.
    truncated: bool,
}

/// Finds balanced `{…}` and `[…]` spans, skipping brackets inside JSON
/// strings (with escapes). Stops after [`MAX_SCAN_STARTS`] starts.
fn scan_balanced(text: &str) -> Scan<'_> {
    let bytes = text.as_bytes();
    let mut scan = Scan {
        objects: Vec::new(),
        arrays: Vec::new(),
        truncated: false,
    };
    let starts = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, b'{' | b'['))
        .map(|(i, _)| i)
        .take(MAX_SCAN_STARTS);
    for start in starts {
        match balanced_end(bytes, start) {
            Some(end) => {
                // Brackets are ASCII, so both ends are character boundaries.
                let span = &text[start..=end];
                if bytes[start] == b'{' {
                    scan.objects.push(span);
                } else {
                    scan.arrays.push(span);
                }
            }
            None => scan.truncated = true,
        }
    }
    scan
}

/// The index of the bracket that closes the one at `start`, if any. A
/// mismatched closer ends the attempt.
fn balanced_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut stack: Vec<u8> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &byte) in bytes[start..].iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => stack.push(b'}'),
            b'[' => stack.push(b']'),
            b'}' | b']' => {
                if stack.pop() != Some(byte) {
                    return None;
                }
                if stack.is_empty() {
                    return Some(start + offset);
                }
            }
            _ => {}
        }
    }
    None
}

/// Applies the repairs that cannot change meaning: typographic double quotes
/// used as JSON delimiters (outside real strings) become `"`, and commas
/// right before `}` or `]` (outside strings) are dropped. Returns `None` when
/// nothing was changed.
fn repair(candidate: &str) -> Option<String> {
    let mut out = String::with_capacity(candidate.len());
    let mut changed = false;
    let mut in_string = false;
    // A string opened by a typographic quote is closed by one, too.
    let mut smart_string = false;
    let mut escaped = false;
    // The comma we are holding back until we see what follows it.
    let mut pending_comma: Option<String> = None;
    for ch in candidate.chars() {
        let is_smart = matches!(ch, '\u{201C}' | '\u{201D}');
        if in_string {
            if smart_string && is_smart && !escaped {
                out.push('"');
                in_string = false;
                continue;
            }
            out.push(ch);
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        smart_string = is_smart;
        let ch = if is_smart {
            changed = true;
            '"'
        } else {
            ch
        };
        if let Some(held) = pending_comma.as_mut() {
            if ch.is_whitespace() {
                held.push(ch);
                continue;
            }
            let held = pending_comma.take().unwrap_or_default();
            if ch == '}' || ch == ']' {
                // Drop the comma, keep the whitespace after it.
                changed = true;
                out.push_str(&held[1..]);
            } else {
                out.push_str(&held);
            }
        }
        match ch {
            ',' => pending_comma = Some(String::from(",")),
            '"' => {
                in_string = true;
                out.push(ch);
            }
            other => out.push(other),
        }
    }
    if let Some(held) = pending_comma {
        out.push_str(&held);
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Decision {
        decision: String,
        answer: Option<String>,
    }

    #[test]
    fn plain_json() {
        assert_eq!(extract_json(r#" {"a": 1} "#).unwrap(), json!({"a": 1}));
    }

    #[test]
    fn fenced_with_prose_around() {
        let text = "Sure! Here is the plan:\n```json\n{\"tasks\": [1, 2]}\n```\nLet me know.";
        assert_eq!(extract_json(text).unwrap(), json!({"tasks": [1, 2]}));
    }

    #[test]
    fn first_balanced_object_in_prose() {
        let text = r#"As noted in [1], the answer is {"decision": "final", "answer": "42 {braces} in string"} and more {"x": 2}"#;
        let value: Decision = extract_as(text).unwrap();
        assert_eq!(value.answer.as_deref(), Some("42 {braces} in string"));
        assert_eq!(extract_json(text).unwrap()["decision"], "final");
    }

    #[test]
    fn think_blocks_are_ignored() {
        let text = "<think>Maybe {\"decision\": \"ask\"}? No.</think>\n{\"decision\": \"final\", \"answer\": \"yes\"}";
        let value: Decision = extract_as(text).unwrap();
        assert_eq!(value.decision, "final");
        let stripped_open =
            "reasoning with {\"decision\": \"wrong\"}</think>{\"decision\": \"final\"}";
        let value: Decision = extract_as(stripped_open).unwrap();
        assert_eq!(value.decision, "final");
    }

    #[test]
    fn smart_quotes_and_trailing_commas_are_repaired() {
        let text = "{\u{201C}decision\u{201D}: \u{201C}final\u{201D}, \"answer\": \"she said \u{201C}hi\u{201D}\",}";
        let value: Decision = extract_as(text).unwrap();
        assert_eq!(value.answer.as_deref(), Some("she said \u{201C}hi\u{201D}"));
        assert_eq!(extract_json("[1, 2, ]").unwrap(), json!([1, 2]));
        assert_eq!(
            extract_json("{\"a\": \"x,}\", }").unwrap(),
            json!({"a": "x,}"})
        );
    }

    #[test]
    fn typed_extraction_skips_objects_of_the_wrong_shape() {
        let text = r#"Context: {"note": 1}. Answer: {"decision": "final", "answer": null}"#;
        let value: Decision = extract_as(text).unwrap();
        assert_eq!(
            value,
            Decision {
                decision: "final".into(),
                answer: None
            }
        );
    }

    #[test]
    fn errors_say_what_went_wrong() {
        assert_eq!(extract_json("").unwrap_err().kind, JsonErrorKind::Empty);
        assert_eq!(
            extract_json("<think>hmm</think>").unwrap_err().kind,
            JsonErrorKind::Empty
        );
        assert_eq!(
            extract_json("no json here").unwrap_err().kind,
            JsonErrorKind::NoJson
        );
        let cut = extract_json(r#"{"decision": "final", "answer": "the patient"#).unwrap_err();
        assert_eq!(cut.kind, JsonErrorKind::Truncated);
        assert!(cut.to_string().contains("token limit"), "{cut}");
        let invalid = extract_json("{decision: final}").unwrap_err();
        assert_eq!(invalid.kind, JsonErrorKind::Invalid);
        let shape = extract_as::<Decision>(r#"{"answer": "x"}"#).unwrap_err();
        assert_eq!(shape.kind, JsonErrorKind::Shape);
        assert!(shape.reason.contains("decision"), "{shape}");
    }

    #[test]
    fn excerpt_is_bounded() {
        let long = "x".repeat(10_000);
        let err = extract_json(&long).unwrap_err();
        assert!(err.excerpt.chars().count() <= 201);
    }

    #[test]
    fn salvages_the_complete_members_of_a_cut_reply() {
        let cut = "{\n \"answer\": \"2.1\",\n \"decision\": \"final\",\n \"scratchpad\": \"What you } } } }";
        let value = salvage_truncated(cut).unwrap();
        assert_eq!(value["answer"], "2.1");
        assert_eq!(value["decision"], "final");
        assert!(
            value.get("scratchpad").is_none(),
            "half a string is dropped"
        );
        let plan =
            "{\"tasks\": [{\"id\": \"a\", \"instruction\": \"find it\"}, {\"id\": \"b\", \"instr";
        let value = salvage_truncated(plan).unwrap();
        assert_eq!(value["tasks"][0]["id"], "a");
        assert!(salvage_truncated("no json here").is_none());
    }
}
