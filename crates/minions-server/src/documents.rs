//! Documents in requests: text, or uploads read as the CLI reads files.

use base64::Engine;
use minions::ContextDocument;
use serde::Deserialize;

use crate::ApiError;

/// A document in a request: text, or a file's bytes in base64 (PDF, HTML,
/// any text encoding), read as the CLI reads files.
#[derive(Debug, Clone, Deserialize)]
pub struct DocumentInput {
    /// A name for it.
    #[serde(default)]
    pub name: Option<String>,
    /// Its text.
    #[serde(default)]
    pub text: Option<String>,
    /// Or its bytes, base64-encoded (an upload).
    #[serde(default)]
    pub content_base64: Option<String>,
}

/// Turns request documents into context documents (uploads are decoded and
/// read like files: PDF pages, HTML text, any common encoding).
pub(crate) fn read_documents(inputs: Vec<DocumentInput>) -> Result<Vec<ContextDocument>, ApiError> {
    let mut documents = Vec::new();
    for (index, input) in inputs.into_iter().enumerate() {
        let name = input
            .name
            .unwrap_or_else(|| format!("document-{}", index + 1));
        match (input.text, input.content_base64) {
            (Some(text), _) => documents.push(ContextDocument::new(name, text)),
            (None, Some(encoded)) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|e| {
                        ApiError::bad_request(format!(
                            "document `{name}`: content_base64 is not valid base64 ({e})"
                        ))
                    })?;
                let kind = name
                    .rsplit_once('.')
                    .and_then(|(_, ext)| minions_ingest::DocumentKind::from_extension(ext));
                let document = minions_ingest::from_bytes(&name, &bytes, kind)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                documents.push(ContextDocument {
                    name,
                    ..ContextDocument::from(document)
                });
            }
            (None, None) => {
                return Err(ApiError::bad_request(format!(
                    "document `{name}` has neither text nor content_base64"
                )));
            }
        }
    }
    Ok(documents)
}
