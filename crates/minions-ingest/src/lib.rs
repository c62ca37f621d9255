//! Turning what a user points at into documents.
//!
//! [`load`] takes what a user typed: a file, a directory, `-` for stdin, or
//! an `http(s)://` URL, and returns a [`Document`] with its text and
//! metadata. Text in UTF-8, UTF-16 (with a byte-order mark) or Latin-1;
//! Markdown and source code as they are; PDF with pages separated by form
//! feeds; HTML as readable text; directories recursively, honouring
//! `.gitignore`, skipping binaries and oversized files with a note, each file
//! between begin/end markers with its relative path. Failures are
//! [`IngestError`]s that say what to do.

mod decode;
mod dir;
mod error;
mod kind;
mod pdf;
mod url;

use std::path::Path;

use minions_core::tokens::approx_tokens;
use serde::{Deserialize, Serialize};

pub use error::IngestError;
pub use kind::DocumentKind;

/// Limits on what is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOptions {
    /// The largest input in bytes: a file, a download, stdin, or a whole
    /// directory's text. Default 64 MiB.
    pub max_bytes: u64,
    /// Files in a directory larger than this are skipped with a note.
    /// Default 4 MiB.
    pub max_file_bytes: u64,
    /// Read hidden files and directories (names starting with `.`).
    pub include_hidden: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            max_bytes: 64 << 20,
            max_file_bytes: 4 << 20,
            include_hidden: false,
        }
    }
}

/// A loaded document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// A short name: the file name, the directory, the URL, or `stdin`.
    pub name: String,
    /// Where it came from, as given.
    pub source: String,
    /// What kind of document it was.
    pub kind: DocumentKind,
    /// The text.
    pub text: String,
    /// Pages, for PDFs.
    pub pages: Option<usize>,
    /// Things the user should know: skipped files, encoding fallbacks.
    pub notes: Vec<String>,
}

impl Document {
    /// Size in characters.
    pub fn chars(&self) -> usize {
        self.text.chars().count()
    }

    /// Estimated tokens (about four characters a token).
    pub fn estimated_tokens(&self) -> usize {
        approx_tokens(&self.text)
    }
}

/// Loads what the user typed: `-` is stdin, `http://` and `https://` are
/// fetched, anything else is a path to a file or a directory.
pub async fn load(input: &str, options: &IngestOptions) -> Result<Document, IngestError> {
    if input == "-" {
        let options = options.clone();
        return tokio::task::spawn_blocking(move || {
            load_reader("stdin", std::io::stdin().lock(), &options)
        })
        .await
        .map_err(|e| IngestError::Unreadable {
            path: "stdin".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    if input.starts_with("http://") || input.starts_with("https://") {
        return url::load_url(input, options).await;
    }
    let path = Path::new(input).to_path_buf();
    let options = options.clone();
    tokio::task::spawn_blocking(move || load_path(&path, &options))
        .await
        .map_err(|e| IngestError::Unreadable {
            path: input.to_string(),
            source: std::io::Error::other(e.to_string()),
        })?
}

/// Loads a file or a directory.
pub fn load_path(path: &Path, options: &IngestOptions) -> Result<Document, IngestError> {
    let shown = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => IngestError::NotFound {
            path: shown.clone(),
        },
        _ => IngestError::Unreadable {
            path: shown.clone(),
            source,
        },
    })?;
    if metadata.is_dir() {
        return dir::load_dir(path, options);
    }
    if metadata.len() > options.max_bytes {
        return Err(IngestError::TooLarge {
            path: shown,
            size: metadata.len(),
            limit: options.max_bytes,
        });
    }
    let bytes = std::fs::read(path).map_err(|source| IngestError::Unreadable {
        path: shown.clone(),
        source,
    })?;
    let kind = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(DocumentKind::from_extension);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown.clone());
    let mut document = from_bytes(&name, &bytes, kind)?;
    document.source = shown;
    Ok(document)
}

/// Loads everything from a reader (stdin), up to the size cap.
pub fn load_reader(
    name: &str,
    reader: impl std::io::Read,
    options: &IngestOptions,
) -> Result<Document, IngestError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader
        .take(options.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| IngestError::Unreadable {
            path: name.to_string(),
            source,
        })?;
    if bytes.len() as u64 > options.max_bytes {
        return Err(IngestError::TooLarge {
            path: name.to_string(),
            size: bytes.len() as u64,
            limit: options.max_bytes,
        });
    }
    from_bytes(name, &bytes, None)
}

/// Turns bytes into a document. `kind` comes from an extension or a content
/// type; without one, the bytes are sniffed. Used for uploads too.
pub fn from_bytes(
    name: &str,
    bytes: &[u8],
    kind: Option<DocumentKind>,
) -> Result<Document, IngestError> {
    let kind = kind.unwrap_or_else(|| DocumentKind::sniff(bytes));
    let mut notes = Vec::new();
    let mut pages = None;
    let text = match kind {
        DocumentKind::Pdf => {
            let (text, count) = pdf::pdf_text(name, bytes)?;
            pages = Some(count);
            text
        }
        _ => {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Err(IngestError::Empty {
                    path: name.to_string(),
                });
            }
            if let Some(what) = decode::binary_reason(bytes) {
                return Err(IngestError::Binary {
                    path: name.to_string(),
                    what,
                });
            }
            let (text, decoded) = decode::decode(bytes);
            notes.extend(decoded.note().map(|n| format!("{name}: {n}")));
            if kind == DocumentKind::Html {
                html_text(&text)
            } else {
                text
            }
        }
    };
    if text.trim().is_empty() {
        return Err(IngestError::Empty {
            path: name.to_string(),
        });
    }
    Ok(Document {
        name: name.to_string(),
        source: name.to_string(),
        kind,
        text,
        pages,
        notes,
    })
}

/// HTML as readable text: tags gone, scripts and styles dropped, links and
/// lists kept in a plain form. Lines are not wrapped, so chunkers see whole
/// paragraphs.
fn html_text(html: &str) -> String {
    html2text::from_read(html.as_bytes(), 100_000).unwrap_or_else(|_| html.to_string())
}
