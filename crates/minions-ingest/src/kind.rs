//! What kind of document a file is.

use serde::{Deserialize, Serialize};

/// The kind of a loaded document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// Plain text (also CSV, JSON, logs...).
    Text,
    /// Markdown.
    Markdown,
    /// Source code.
    Code,
    /// A PDF; pages are separated by form feeds.
    Pdf,
    /// HTML, converted to readable text.
    Html,
    /// A directory, its files joined with begin/end markers.
    Directory,
}

const MARKDOWN: &[&str] = &["md", "markdown", "mdx", "mdown"];
const CODE: &[&str] = &[
    "rs", "py", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "java", "c", "h", "cc", "cpp", "cxx",
    "hpp", "cs", "rb", "php", "swift", "kt", "kts", "scala", "sh", "bash", "zsh", "fish", "sql",
    "r", "lua", "pl", "hs", "ex", "exs", "erl", "clj", "dart", "vue", "svelte", "css", "scss", "m",
    "mm", "zig", "nim", "jl", "ml", "fs", "proto", "tf",
];

impl DocumentKind {
    /// The kind by file extension, if the extension says.
    pub fn from_extension(extension: &str) -> Option<Self> {
        let extension = extension.to_ascii_lowercase();
        let extension = extension.as_str();
        Some(match extension {
            "pdf" => DocumentKind::Pdf,
            "html" | "htm" | "xhtml" => DocumentKind::Html,
            e if MARKDOWN.contains(&e) => DocumentKind::Markdown,
            e if CODE.contains(&e) => DocumentKind::Code,
            "txt" | "text" | "log" | "csv" | "tsv" | "json" | "jsonl" | "yaml" | "yml" | "toml"
            | "xml" | "rst" | "adoc" | "org" | "ini" | "cfg" | "conf" | "tex" => DocumentKind::Text,
            _ => return None,
        })
    }

    /// The kind from an HTTP `Content-Type`, if it says.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        Some(match mime.as_str() {
            "application/pdf" => DocumentKind::Pdf,
            "text/html" | "application/xhtml+xml" => DocumentKind::Html,
            "text/markdown" | "text/x-markdown" => DocumentKind::Markdown,
            m if m.starts_with("text/") || m == "application/json" || m == "application/xml" => {
                DocumentKind::Text
            }
            _ => return None,
        })
    }

    /// The kind by looking at the bytes: PDF and HTML have telltale starts.
    pub fn sniff(bytes: &[u8]) -> Self {
        if bytes.starts_with(b"%PDF-") {
            return DocumentKind::Pdf;
        }
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
        let head = head.trim_start();
        if head.starts_with("<!doctype html") || head.starts_with("<html") {
            DocumentKind::Html
        } else {
            DocumentKind::Text
        }
    }
}
