//! Documents from `http(s)://` URLs.

use futures::StreamExt;
use minions_http::{HttpClient, redact_url, reqwest};

use crate::{Document, DocumentKind, IngestError, IngestOptions, from_bytes};

/// Fetches a URL (with the HTTP layer's timeouts and retries), up to the
/// size cap, and reads it by its content type, then its extension, then its
/// bytes.
pub(crate) async fn load_url(url: &str, options: &IngestOptions) -> Result<Document, IngestError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| IngestError::Url {
        url: url.to_string(),
        detail: format!("not a valid URL ({e})"),
    })?;
    let shown = redact_url(&parsed);
    let failed = |detail: String| IngestError::Url {
        url: shown.clone(),
        detail,
    };
    let client = HttpClient::new("web").map_err(|e| failed(e.to_string()))?;
    let request = client
        .reqwest()
        .get(parsed.clone())
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let response = client
        .send(request)
        .await
        .map_err(|e| failed(e.to_string()))?;
    if let Some(length) = response.content_length()
        && length > options.max_bytes
    {
        return Err(IngestError::TooLarge {
            path: shown,
            size: length,
            limit: options.max_bytes,
        });
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| failed(client.broken_body(&e).to_string()))?;
        body.extend_from_slice(&chunk);
        if body.len() as u64 > options.max_bytes {
            return Err(IngestError::TooLarge {
                path: shown,
                size: body.len() as u64,
                limit: options.max_bytes,
            });
        }
    }
    let extension = parsed
        .path_segments()
        .and_then(|mut segments| segments.next_back().map(str::to_string))
        .and_then(|last| last.rsplit_once('.').map(|(_, e)| e.to_string()));
    let kind = content_type
        .as_deref()
        .and_then(DocumentKind::from_content_type)
        .or_else(|| extension.as_deref().and_then(DocumentKind::from_extension));
    let mut document = from_bytes(&shown, &body, kind)?;
    document.source = shown;
    Ok(document)
}
