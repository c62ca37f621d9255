//! A model that cannot be used yet, standing in for one that could not be
//! built (a missing key), so that a long-lived front end can start anyway.

use async_trait::async_trait;
use minions_core::{
    Capabilities, ChatModel, ChatRequest, ChatResponse, Error, ModelId, Probe, Result,
};

/// Fails every call, the probe included, with the reason it could not be
/// built. `minions mcp` uses it so that an MCP client sees the server's
/// tools and gets "set OPENAI_API_KEY" as a tool's error, instead of a
/// server that exits at start ("Connection closed"). A run stops at its
/// preflight probe, before anything is spent.
#[derive(Debug, Clone)]
pub struct UnusableModel {
    id: ModelId,
    reason: String,
}

impl UnusableModel {
    /// A stand-in for `id` that fails with `reason`.
    pub fn new(id: ModelId, reason: impl Into<String>) -> Self {
        Self {
            id,
            reason: reason.into(),
        }
    }

    /// Why the model cannot be used.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

#[async_trait]
impl ChatModel for UnusableModel {
    async fn chat(&self, _request: &ChatRequest) -> Result<ChatResponse> {
        Err(Error::config(self.reason.clone()))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    async fn probe(&self) -> Result<Probe> {
        Err(Error::config(self.reason.clone()))
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minions_core::Message;

    #[tokio::test]
    async fn every_call_fails_with_the_reason() {
        let model = UnusableModel::new(
            "openai/gpt-4o".parse::<crate::ModelSpec>().unwrap(),
            "set OPENAI_API_KEY",
        );
        let probe = model.probe().await.unwrap_err().to_string();
        assert!(probe.contains("set OPENAI_API_KEY"), "{probe}");
        let request = ChatRequest::new(vec![Message::user("hi")]);
        let chat = model.chat(&request).await.unwrap_err().to_string();
        assert!(chat.contains("set OPENAI_API_KEY"), "{chat}");
        assert_eq!(model.id().to_string(), "openai/gpt-4o");
    }
}
