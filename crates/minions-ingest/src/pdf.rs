//! PDF text with page boundaries.

use crate::IngestError;

/// The text of each page, joined with form feeds (which the page chunker
/// splits on), and the page count.
pub(crate) fn pdf_text(name: &str, bytes: &[u8]) -> Result<(String, usize), IngestError> {
    // The parser is pure Rust but can panic on malformed files; a bad PDF
    // must be an error for the user, not a crash.
    let pages = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .map_err(|_| IngestError::BadPdf {
            path: name.to_string(),
            detail: "the PDF parser failed on this file".into(),
        })?
        .map_err(|e| IngestError::BadPdf {
            path: name.to_string(),
            detail: e.to_string(),
        })?;
    if pages.iter().all(|page| page.trim().is_empty()) {
        return Err(IngestError::ScannedPdf {
            path: name.to_string(),
            pages: pages.len(),
        });
    }
    let count = pages.len();
    let text = pages
        .iter()
        .map(|page| page.trim_matches('\x0c'))
        .collect::<Vec<_>>()
        .join("\x0c");
    Ok((text, count))
}
