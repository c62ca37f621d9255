//! Directories, recursively, honouring `.gitignore`.

use std::path::Path;

use crate::{Document, DocumentKind, IngestError, IngestOptions, from_bytes};

/// Joins the readable files of a directory, each between markers naming its
/// path relative to the directory, in path order. Binary, empty, unreadable
/// and oversized files are skipped with a note; `.gitignore`, `.ignore` and
/// hidden files are honoured as git would (hidden files only when asked).
pub(crate) fn load_dir(root: &Path, options: &IngestOptions) -> Result<Document, IngestError> {
    let shown = root.display().to_string();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(!options.include_hidden)
        .git_ignore(true)
        .git_exclude(true)
        .require_git(false)
        .sort_by_file_path(|a, b| a.cmp(b))
        .build();
    let mut text = String::new();
    let mut notes = Vec::new();
    let mut files = 0usize;
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                notes.push(format!("skipped an entry: {error}"));
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let relative = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        if size > options.max_file_bytes {
            notes.push(format!(
                "skipped {relative}: {size} bytes is over the {}-byte file limit",
                options.max_file_bytes
            ));
            continue;
        }
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                notes.push(format!("skipped {relative}: {error}"));
                continue;
            }
        };
        let kind = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(DocumentKind::from_extension);
        let document = match from_bytes(&relative, &bytes, kind) {
            Ok(document) => document,
            Err(error) => {
                notes.push(format!("skipped {relative}: {}", short_reason(&error)));
                continue;
            }
        };
        notes.extend(document.notes);
        text.push_str(&format!("===== BEGIN FILE: {relative} =====\n"));
        text.push_str(document.text.trim_end());
        text.push_str(&format!("\n===== END FILE: {relative} =====\n\n"));
        files += 1;
        if text.len() as u64 > options.max_bytes {
            return Err(IngestError::TooLarge {
                path: shown,
                size: text.len() as u64,
                limit: options.max_bytes,
            });
        }
    }
    if files == 0 {
        return Err(IngestError::EmptyDirectory {
            path: shown,
            skipped: notes,
        });
    }
    tracing::debug!(directory = %shown, files, skipped = notes.len(), "loaded directory");
    let name = root
        .file_name()
        .map(|n| format!("{}/", n.to_string_lossy()))
        .unwrap_or_else(|| shown.clone());
    Ok(Document {
        name,
        source: shown,
        kind: DocumentKind::Directory,
        text,
        pages: None,
        notes,
    })
}

/// The reason in a few words, for the skipped-file notes.
fn short_reason(error: &IngestError) -> String {
    match error {
        IngestError::Empty { .. } => "empty".into(),
        IngestError::Binary { what, .. } => format!("binary ({what})"),
        IngestError::ScannedPdf { .. } => "a PDF without text (probably scanned)".into(),
        other => other.to_string(),
    }
}
