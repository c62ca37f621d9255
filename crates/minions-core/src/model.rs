//! The traits every provider implements.

use std::pin::Pin;

use async_trait::async_trait;
use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::{ChatRequest, ChatResponse, ModelSpec, Result, Usage};

/// The identity of a model: its provider and name.
pub type ModelId = ModelSpec;

/// What a model endpoint can do. Callers use it to pick the best structured
/// output mechanism and to size prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// Enforces a JSON schema on the answer.
    pub json_schema: bool,
    /// Guarantees some JSON object ("JSON mode").
    pub json_mode: bool,
    /// Streams answers token by token.
    pub streaming: bool,
    /// Reports usage at the end of a stream.
    pub stream_usage: bool,
    /// Context window in tokens, when known.
    pub max_context_tokens: Option<u32>,
}

/// What a cheap health check of a model endpoint found: reachable, the
/// named model served, and the context window it gives one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// What was checked, in words, for `minions providers --check`.
    pub checked: Vec<String>,
    /// Whether the named model is served; `None` when the provider cannot
    /// tell without a paid call.
    pub model_available: Option<bool>,
    /// Tokens one request may hold (prompt and answer), when the server says
    /// (llama.cpp's slot size, Ollama's model context).
    pub context_tokens: Option<u32>,
}

/// One piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// More text.
    Delta(String),
    /// The end: the whole answer with finish reason and usage.
    Done(ChatResponse),
}

/// A streamed answer: deltas, then exactly one [`StreamEvent::Done`]. A
/// stream that breaks off yields an error instead of `Done`.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<StreamEvent>> + Send>>;

/// A chat model: a local server, a cloud API, or a scripted stand-in.
///
/// The trait is object safe, so protocols hold `Arc<dyn ChatModel>` and
/// never care which provider is behind it.
#[async_trait]
pub trait ChatModel: Send + Sync {
    /// Sends one request and waits for the whole answer.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse>;

    /// Streams the answer. The default calls [`ChatModel::chat`] and yields
    /// the answer as one delta, for models that cannot stream.
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream> {
        let response = self.chat(request).await?;
        let events = vec![
            Ok(StreamEvent::Delta(response.content.clone())),
            Ok(StreamEvent::Done(response)),
        ];
        Ok(Box::pin(futures::stream::iter(events)))
    }

    /// What this model can do.
    fn capabilities(&self) -> Capabilities;

    /// Checks, without a paid call, that the endpoint answers, the key is
    /// accepted and the model is served. Runs call it before their first
    /// remote call, so a dead local server costs nothing. An unreachable
    /// server is an error with [`crate::Error::is_unreachable`]; a model the
    /// server does not serve is [`crate::ErrorKind::InvalidRequest`]. The
    /// default checks nothing.
    async fn probe(&self) -> Result<Probe> {
        Ok(Probe::default())
    }

    /// Which model this is.
    fn id(&self) -> &ModelId;
}

/// Vectors for a batch of texts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Embeddings {
    /// One vector per input, in input order.
    pub vectors: Vec<Vec<f32>>,
    /// Tokens spent, when the provider reports them.
    pub usage: Usage,
}

/// A model that turns texts into vectors, for retrieval by meaning.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// Embeds a batch of texts; the result has one vector per input.
    async fn embed(&self, inputs: &[String]) -> Result<Embeddings>;

    /// The largest batch one call should carry. Callers split bigger inputs.
    fn max_batch(&self) -> usize {
        64
    }

    /// Which model this is.
    fn id(&self) -> &ModelId;
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures::StreamExt;

    use super::*;
    use crate::Message;

    struct Echo(ModelId);

    #[async_trait]
    impl ChatModel for Echo {
        async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
            let last = request
                .messages
                .last()
                .map(|m| m.content.clone())
                .unwrap_or_default();
            Ok(ChatResponse::new(last, Usage::new(1, 1), "echo"))
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }
        fn id(&self) -> &ModelId {
            &self.0
        }
    }

    #[tokio::test]
    async fn trait_objects_work_and_default_stream_yields_done() {
        let model: Arc<dyn ChatModel> = Arc::new(Echo(ModelSpec::new("test", "echo")));
        let request = ChatRequest::new(vec![Message::user("hi")]);
        let mut stream = model.chat_stream(&request).await.unwrap();
        assert_eq!(
            stream.next().await.unwrap().unwrap(),
            StreamEvent::Delta("hi".into())
        );
        match stream.next().await.unwrap().unwrap() {
            StreamEvent::Done(done) => assert_eq!(done.content, "hi"),
            other => panic!("expected Done, got {other:?}"),
        }
        assert!(stream.next().await.is_none());
        assert_eq!(model.id().to_string(), "test/echo");
    }
}
