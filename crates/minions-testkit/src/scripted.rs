//! A scripted in-process model, for unit tests that need no HTTP.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use minions_core::tokens::approx_tokens;
use minions_core::{
    Capabilities, ChatModel, ChatRequest, ChatResponse, Error, FinishReason, ModelId, Result, Usage,
};

type Step = Box<dyn FnOnce(&ChatRequest) -> Result<ChatResponse> + Send>;
type Responder = Box<dyn Fn(&ChatRequest) -> Result<ChatResponse> + Send + Sync>;

/// A [`ChatModel`] that answers from a script and records what it was asked.
///
/// Replies come from the queue first, then from the responder; with neither,
/// a call fails with a [`Error::Config`] that says nothing was scripted.
pub struct ScriptedModel {
    id: ModelId,
    capabilities: Capabilities,
    delay: Option<Duration>,
    queue: Mutex<VecDeque<Step>>,
    responder: Option<Responder>,
    requests: Mutex<Vec<ChatRequest>>,
}

impl std::fmt::Debug for ScriptedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedModel")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl ScriptedModel {
    /// A model named `scripted/NAME` that supports JSON schemas and streaming.
    pub fn new(name: &str) -> Self {
        Self {
            id: ModelId::new("scripted", name),
            capabilities: Capabilities {
                json_schema: true,
                json_mode: true,
                streaming: true,
                stream_usage: true,
                max_context_tokens: Some(131_072),
            },
            delay: None,
            queue: Mutex::new(VecDeque::new()),
            responder: None,
            requests: Mutex::new(Vec::new()),
        }
    }

    /// Uses this identity instead (for pricing tests: `openai/gpt-4o`).
    pub fn with_id(mut self, id: ModelId) -> Self {
        self.id = id;
        self
    }

    /// Reports these capabilities.
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Waits this long (tokio time) before each answer.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Answers every unqueued request with this function.
    pub fn with_responder(
        mut self,
        responder: impl Fn(&ChatRequest) -> Result<ChatResponse> + Send + Sync + 'static,
    ) -> Self {
        self.responder = Some(Box::new(responder));
        self
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Step>> {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues an answer with this text (usage estimated from the text).
    pub fn push_text(&self, content: impl Into<String>) -> &Self {
        let content = content.into();
        let model = self.id.model.clone();
        self.queue().push_back(Box::new(move |request| {
            Ok(text_response(request, content, &model))
        }));
        self
    }

    /// Queues an answer with this text that was cut off by the token limit.
    pub fn push_truncated(&self, content: impl Into<String>) -> &Self {
        let content = content.into();
        let model = self.id.model.clone();
        self.queue().push_back(Box::new(move |request| {
            let mut response = text_response(request, content, &model);
            response.finish_reason = Some(FinishReason::Length);
            Ok(response)
        }));
        self
    }

    /// Queues a complete response.
    pub fn push_response(&self, response: ChatResponse) -> &Self {
        self.queue().push_back(Box::new(move |_| Ok(response)));
        self
    }

    /// Queues an error.
    pub fn push_error(&self, error: Error) -> &Self {
        self.queue().push_back(Box::new(move |_| Err(error)));
        self
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replies still queued.
    pub fn pending(&self) -> usize {
        self.queue().len()
    }
}

/// A response with the given text and usage estimated at four characters a
/// token.
pub fn text_response(request: &ChatRequest, content: String, model: &str) -> ChatResponse {
    let prompt: usize = request
        .messages
        .iter()
        .map(|m| approx_tokens(&m.content))
        .sum();
    let usage = Usage::new(prompt as u64, approx_tokens(&content) as u64);
    ChatResponse::new(content, usage, model)
}

#[async_trait]
impl ChatModel for ScriptedModel {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let number = {
            let mut requests = self
                .requests
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            requests.push(request.clone());
            requests.len()
        };
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        let step = self.queue().pop_front();
        match (step, &self.responder) {
            (Some(step), _) => step(request),
            (None, Some(responder)) => responder(request),
            (None, None) => Err(Error::config(format!(
                "ScriptedModel {}: no reply scripted for request #{number}",
                self.id
            ))),
        }
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use minions_core::Message;

    use super::*;

    #[tokio::test]
    async fn answers_from_queue_then_responder_then_fails() {
        let model = ScriptedModel::new("m").with_responder(|request| {
            Ok(text_response(
                request,
                format!("echo {}", request.messages.len()),
                "m",
            ))
        });
        model.push_text("first").push_error(Error::Cancelled);
        let request = ChatRequest::new(vec![Message::user("hello there")]);
        assert_eq!(model.chat(&request).await.unwrap().content, "first");
        assert!(matches!(model.chat(&request).await, Err(Error::Cancelled)));
        assert_eq!(model.chat(&request).await.unwrap().content, "echo 1");
        assert_eq!(model.requests().len(), 3);

        let bare = ScriptedModel::new("bare");
        let err = bare.chat(&request).await.unwrap_err();
        assert!(
            err.to_string().contains("no reply scripted for request #1"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn truncated_replies_say_so() {
        let model = ScriptedModel::new("m");
        model.push_truncated("{\"answer\": \"cut");
        let response = model.chat(&ChatRequest::default()).await.unwrap();
        assert!(response.is_truncated());
    }
}
