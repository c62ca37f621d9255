//! Structured output that degrades instead of failing.
//!
//! Providers offer up to three ways to get JSON: a schema the server enforces,
//! a JSON mode that only guarantees *some* JSON object, and nothing at all,
//! where we can only ask in the prompt. Clients start at the best level their
//! capability flags allow, step down when a server rejects a level, and
//! remember the step for that endpoint ([`StructuredLevel`] and
//! [`DowngradeMemory`]). Whatever the level, the caller gets text and parses
//! it with [`crate::json`].

use std::sync::atomic::{AtomicU8, Ordering};

use crate::{Capabilities, Error, ResponseFormat};

/// How a client asks for JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StructuredLevel {
    /// Only the prompt asks for JSON.
    Prompt = 0,
    /// The server's JSON mode, plus the schema in the prompt.
    JsonMode = 1,
    /// The server enforces the schema.
    Schema = 2,
}

impl StructuredLevel {
    /// The best level a set of capabilities allows.
    pub fn best_for(capabilities: &Capabilities) -> Self {
        if capabilities.json_schema {
            StructuredLevel::Schema
        } else if capabilities.json_mode {
            StructuredLevel::JsonMode
        } else {
            StructuredLevel::Prompt
        }
    }

    /// One level down, or `None` at the bottom.
    pub fn lower(self) -> Option<Self> {
        match self {
            StructuredLevel::Schema => Some(StructuredLevel::JsonMode),
            StructuredLevel::JsonMode => Some(StructuredLevel::Prompt),
            StructuredLevel::Prompt => None,
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            2 => StructuredLevel::Schema,
            1 => StructuredLevel::JsonMode,
            _ => StructuredLevel::Prompt,
        }
    }
}

/// The structured level an endpoint has shown it accepts. Starts at the
/// capability flags' best and only ever goes down, shared by all requests to
/// that endpoint, so a rejection costs one extra request once, not on every
/// call.
#[derive(Debug)]
pub struct DowngradeMemory {
    level: AtomicU8,
    /// Whether the endpoint has a JSON mode at all; without one, a rejected
    /// schema goes straight to the prompt.
    json_mode: bool,
}

impl DowngradeMemory {
    /// Memory starting at `level`, with every lower level available.
    pub fn new(level: StructuredLevel) -> Self {
        Self {
            level: AtomicU8::new(level as u8),
            json_mode: true,
        }
    }

    /// Memory starting at the best level the capabilities allow, skipping
    /// JSON mode on the way down when the endpoint has none.
    pub fn for_capabilities(capabilities: &Capabilities) -> Self {
        Self {
            level: AtomicU8::new(StructuredLevel::best_for(capabilities) as u8),
            json_mode: capabilities.json_mode,
        }
    }

    /// The level to use now.
    pub fn current(&self) -> StructuredLevel {
        StructuredLevel::from_u8(self.level.load(Ordering::Relaxed))
    }

    /// Records that `rejected` did not work; returns the level to try next,
    /// or `None` if there is nothing lower.
    pub fn downgrade_from(&self, rejected: StructuredLevel) -> Option<StructuredLevel> {
        let mut next = rejected.lower()?;
        if next == StructuredLevel::JsonMode && !self.json_mode {
            next = StructuredLevel::Prompt;
        }
        // `fetch_min` keeps the lowest level when requests race.
        self.level.fetch_min(next as u8, Ordering::Relaxed);
        Some(next)
    }
}

/// Sends a request at the remembered level and steps down while the server
/// rejects the way JSON was asked for. Requests that do not want JSON are
/// sent once, as they are.
pub async fn send_with_downgrades<T, F, Fut>(
    memory: &DowngradeMemory,
    format: &ResponseFormat,
    provider: &str,
    mut send: F,
) -> Result<T, Error>
where
    F: FnMut(StructuredLevel) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    if !format.wants_json() {
        return send(StructuredLevel::Schema).await;
    }
    let mut level = memory.current();
    loop {
        match send(level).await {
            Err(error) if is_format_rejection(&error) => match memory.downgrade_from(level) {
                Some(next) => {
                    tracing::warn!(provider, from = ?level, to = ?next, %error, "structured output rejected; stepping down");
                    level = next;
                }
                None => return Err(error),
            },
            other => return other,
        }
    }
}

/// A name providers accept for a schema or a tool: `[a-zA-Z0-9_-]{1,64}`,
/// other characters replaced by `_`, `fallback` when nothing is left.
pub fn wire_name(name: &str, fallback: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if clean.is_empty() {
        fallback.to_string()
    } else {
        clean
    }
}

/// The prompt instruction that asks for JSON following `schema`.
pub fn schema_instruction(schema: Option<&serde_json::Value>) -> String {
    match schema {
        Some(schema) => format!(
            "Respond with only a JSON object, without any other text or code fences, that follows this JSON Schema:\n{schema}"
        ),
        None => {
            "Respond with only a JSON object, without any other text or code fences.".to_string()
        }
    }
}

/// Whether an error is a server refusing the way we asked for JSON (a 400 or
/// 422 that mentions the response format, schema or tools), so that stepping
/// down a level may help.
pub fn is_format_rejection(error: &Error) -> bool {
    let Error::Http(http) = error else {
        return false;
    };
    if http.status != 400 && http.status != 422 {
        return false;
    }
    let text = format!("{} {}", http.message, http.body_excerpt).to_ascii_lowercase();
    [
        "response_format",
        "json_schema",
        "json_object",
        "schema",
        "format",
        "tool",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HttpError;

    #[test]
    fn levels_step_down_and_memory_only_goes_down() {
        let memory = DowngradeMemory::new(StructuredLevel::Schema);
        assert_eq!(
            memory.downgrade_from(StructuredLevel::Schema),
            Some(StructuredLevel::JsonMode)
        );
        assert_eq!(memory.current(), StructuredLevel::JsonMode);
        // A late rejection of Schema from a racing request must not raise it.
        memory.downgrade_from(StructuredLevel::Schema);
        assert_eq!(memory.current(), StructuredLevel::JsonMode);
        assert_eq!(
            memory.downgrade_from(StructuredLevel::JsonMode),
            Some(StructuredLevel::Prompt)
        );
        assert_eq!(memory.downgrade_from(StructuredLevel::Prompt), None);
        assert_eq!(memory.current(), StructuredLevel::Prompt);
    }

    #[test]
    fn wire_names_are_safe() {
        assert_eq!(wire_name("plan v1!", "x"), "plan_v1_");
        assert_eq!(wire_name("", "respond"), "respond");
        assert_eq!(wire_name(&"a".repeat(100), "x").len(), 64);
    }

    #[test]
    fn endpoints_without_json_mode_skip_it() {
        let capabilities = Capabilities {
            json_schema: true,
            ..Capabilities::default()
        };
        let memory = DowngradeMemory::for_capabilities(&capabilities);
        assert_eq!(memory.current(), StructuredLevel::Schema);
        assert_eq!(
            memory.downgrade_from(StructuredLevel::Schema),
            Some(StructuredLevel::Prompt)
        );
    }

    #[test]
    fn recognises_format_rejections() {
        let http = |status: u16, message: &str| -> Error {
            HttpError {
                provider: "llamacpp".into(),
                status,
                message: message.into(),
                code: None,
                body_excerpt: String::new(),
                request_id: None,
                retry_after: None,
                hint: None,
            }
            .into()
        };
        assert!(is_format_rejection(&http(
            400,
            "response_format type must be one of \"text\" or \"json_object\""
        )));
        assert!(!is_format_rejection(&http(400, "messages: field required")));
        assert!(!is_format_rejection(&http(500, "response_format broke us")));
        assert!(!is_format_rejection(&Error::Cancelled));
    }
}
