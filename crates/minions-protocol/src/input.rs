//! The contract between the run and a protocol module: what the protocol
//! reads ([`RunInput`]) and the sizing rules both the run's pre-flight check
//! and Minion apply. Here, not in `run.rs`, so that the protocols do not
//! import the module that calls them.

use std::sync::Arc;

use minions_core::Embedder;
use minions_core::tokens::approx_tokens;

use crate::ledger::Ledger;
use crate::{ContextDocument, DocumentMetadata, prompts};

/// What a protocol module reads: the documents and what the run knows of
/// its models.
pub(crate) struct RunInput<'a> {
    pub documents: &'a [ContextDocument],
    pub metadata: Vec<DocumentMetadata>,
    /// The documents joined for Minion's local model (shared with the
    /// documents when there is one).
    pub joined: Arc<str>,
    pub embedder: Option<&'a dyn Embedder>,
}

/// Tokens of margin for the instructions around the context in Minion's
/// local prompt.
const LOCAL_PROMPT_OVERHEAD: usize = 300;

/// The least room for document text that makes a Minion local call worth
/// making.
pub(crate) const MIN_EXCERPT_TOKENS: usize = 500;

/// Tokens a Minion local chat needs besides the documents: instructions,
/// the task, and a question and an answer per round.
pub(crate) fn fixed_local_tokens(ledger: &Ledger<'_>) -> usize {
    approx_tokens(ledger.task)
        + approx_tokens(prompts::MINION_LOCAL_INSTRUCTIONS)
        + LOCAL_PROMPT_OVERHEAD
        + ledger.spec.max_rounds as usize * (ledger.spec.local_max_tokens as usize + 80)
}

/// Tokens the documents take in a Minion local prompt, erring high (a
/// token is about four characters of English, fewer for other text), so a
/// prompt is never cut silently.
pub(crate) fn context_tokens(text: &str) -> usize {
    approx_tokens(text) * 115 / 100
}
