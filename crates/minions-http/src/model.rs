//! One chat model for every provider: a provider's adapter over the shared
//! [`ProviderClient`], with [`ChatModel`] (and [`Embedder`]) written once.
//!
//! What differs between providers beyond the wire format is IO: how the
//! endpoint is probed, and facts a request needs that only the server knows
//! (Ollama's context length, for `num_ctx`). Those are the adapter's
//! [`ModelHooks`], given the shared client to send with; everything else a
//! chat model does is here, so a provider crate holds its adapter, its hooks
//! and its builder, and no `ChatModel` code of its own.

use async_trait::async_trait;
use minions_core::structured::StructuredLevel;
use minions_core::{
    Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, Embedder, Embeddings, ModelId,
    Probe, Result,
};

use crate::{HttpClient, ProviderAdapter, ProviderClient};

/// The IO a provider does beyond sending chats. Hooks are associated
/// functions that receive the shared client, so state they learn (a
/// context length) is cached in the adapter.
#[async_trait]
pub trait ModelHooks: ProviderAdapter + Sized {
    /// The health check behind [`ChatModel::probe`]. The default checks
    /// nothing beyond what the first request will.
    async fn probe(client: &ProviderClient<Self>) -> Result<Probe> {
        let _ = client;
        Ok(Probe::default())
    }

    /// The context `request` is sent with (see [`ProviderAdapter::Context`]).
    async fn context(client: &ProviderClient<Self>, request: &ChatRequest)
    -> Result<Self::Context>;

    /// The context window the server reported so far, which stands over
    /// the configured one in [`ChatModel::capabilities`]. None by default.
    fn learned_context_tokens(&self) -> Option<u32> {
        None
    }
}

/// Embeddings, for a provider that serves them.
#[async_trait]
pub trait EmbeddingHooks: ModelHooks {
    /// The vectors of `inputs` (never empty) from `model`, in order.
    async fn embed(
        client: &ProviderClient<Self>,
        model: &str,
        inputs: &[String],
    ) -> Result<Embeddings>;
}

/// A provider's model: its adapter sent through the shared client. Each
/// provider crate names it (`OpenAiClient`, `AnthropicClient`,
/// `OllamaClient`) and builds it with its own builder.
pub struct ProviderModel<A> {
    id: ModelId,
    client: ProviderClient<A>,
    capabilities: Capabilities,
}

impl<A: ProviderAdapter + std::fmt::Debug> std::fmt::Debug for ProviderModel<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Adapters hold keys only as `ApiKey`, whose Debug hides them.
        f.debug_struct("ProviderModel")
            .field("id", &self.id)
            .field("adapter", self.client.adapter())
            .finish_non_exhaustive()
    }
}

impl<A: ModelHooks> ProviderModel<A> {
    /// The model `id`, speaking through `adapter` with `http`, starting at
    /// the structured-output level `capabilities` allow.
    pub fn new(id: ModelId, adapter: A, http: HttpClient, capabilities: Capabilities) -> Self {
        Self {
            client: ProviderClient::new(adapter, http, &capabilities),
            id,
            capabilities,
        }
    }

    /// The shared client, for a provider's own requests.
    pub fn client(&self) -> &ProviderClient<A> {
        &self.client
    }

    /// The provider's adapter.
    pub fn adapter(&self) -> &A {
        self.client.adapter()
    }

    /// The structured-output level in use now (it drops when the server
    /// rejects a level, and stays dropped).
    pub fn structured_level(&self) -> StructuredLevel {
        self.client.structured_level()
    }
}

#[async_trait]
impl<A> ChatModel for ProviderModel<A>
where
    A: ModelHooks,
    A::Context: Send,
{
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let context = A::context(&self.client, request).await?;
        self.client.chat(request, &context).await
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream> {
        let context = A::context(&self.client, request).await?;
        self.client
            .chat_stream(request, &context, &self.id.model)
            .await
    }

    /// The provider's probe; a context window it did not learn is the
    /// configured one.
    async fn probe(&self) -> Result<Probe> {
        let mut probe = A::probe(&self.client).await?;
        if probe.context_tokens.is_none() {
            probe.context_tokens = self.capabilities().max_context_tokens;
        }
        Ok(probe)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_context_tokens: self
                .adapter()
                .learned_context_tokens()
                .or(self.capabilities.max_context_tokens),
            ..self.capabilities
        }
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}

#[async_trait]
impl<A> Embedder for ProviderModel<A>
where
    A: EmbeddingHooks,
    A::Context: Send,
{
    async fn embed(&self, inputs: &[String]) -> Result<Embeddings> {
        if inputs.is_empty() {
            return Ok(Embeddings::default());
        }
        A::embed(&self.client, &self.id.model, inputs).await
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}
