//! The documents a run reads.

use minions_core::tokens::approx_tokens;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One document of the context. The text is shared (`Arc<str>`): a run,
/// its chunks' jobs and the whole-context prompt of Minion all read the one
/// copy, so a 50 MB file is held once, not once per stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextDocument {
    /// A short name (file name, URL) that models and users see.
    pub name: String,
    /// The text. Page breaks, if any, are form feeds.
    pub text: Arc<str>,
    /// The page count, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<usize>,
}

/// A loaded file, URL or stdin (PDF pages, HTML as text, any encoding) as
/// the protocols read it.
#[cfg(feature = "ingest")]
impl From<minions_ingest::Document> for ContextDocument {
    fn from(document: minions_ingest::Document) -> Self {
        Self {
            name: document.name,
            text: document.text.into(),
            pages: document.pages,
        }
    }
}

impl ContextDocument {
    /// A document with this name and text.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
            pages: None,
        }
    }

    /// What the remote model may know about the document: never its text.
    /// Its tokens are estimated (four characters a token).
    pub fn metadata(&self) -> DocumentMetadata {
        self.metadata_with_tokens(approx_tokens(&self.text))
    }

    /// The metadata with an exact token count (the one `minions estimate`
    /// shows, so the remote model and the user are told the same number).
    pub fn metadata_with_tokens(&self, tokens: usize) -> DocumentMetadata {
        DocumentMetadata {
            name: self.name.clone(),
            chars: self.text.chars().count(),
            estimated_tokens: tokens,
            pages: self.pages,
        }
    }
}

/// Name and size of a document: what the remote model is told about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentMetadata {
    /// The name.
    pub name: String,
    /// Size in characters.
    pub chars: usize,
    /// Estimated tokens.
    pub estimated_tokens: usize,
    /// Pages, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<usize>,
}

impl DocumentMetadata {
    /// One line for a prompt.
    pub fn describe(&self) -> String {
        let pages = self
            .pages
            .map(|p| format!(", {p} pages"))
            .unwrap_or_default();
        format!(
            "- {}: {} characters, {} tokens{pages}",
            self.name, self.chars, self.estimated_tokens
        )
    }
}

/// The whole context of a run: the documents, concatenated for the local
/// model with a header per document. One document is shared, not copied.
pub(crate) fn joined_context(documents: &[ContextDocument]) -> Arc<str> {
    if let [only] = documents {
        return only.text.clone();
    }
    documents
        .iter()
        .map(|d| format!("### Document: {}\n\n{}", d.name, d.text))
        .collect::<Vec<_>>()
        .join("\n\n")
        .into()
}
