//! Why an input could not be loaded, in words that say what to do.

/// Everything that can go wrong loading an input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The path does not exist.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The path as given.
        path: String,
    },
    /// The path exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The path as given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The input holds no text.
    #[error("{path} is empty: there is nothing to read")]
    Empty {
        /// The input.
        path: String,
    },
    /// A binary file was given directly.
    #[error(
        "{path} looks like a binary file ({what}), not text; give a text, Markdown, code, HTML or PDF file"
    )]
    Binary {
        /// The input.
        path: String,
        /// What gave it away.
        what: String,
    },
    /// A PDF without any text layer.
    #[error(
        "{path} has no extractable text on its {pages} page(s): it is probably scanned images; run OCR on it first (for example `ocrmypdf in.pdf out.pdf`)"
    )]
    ScannedPdf {
        /// The input.
        path: String,
        /// Its page count.
        pages: usize,
    },
    /// A PDF the parser could not read.
    #[error(
        "cannot read the PDF {path}: {detail}; if it opens elsewhere, export it to text or re-save it as PDF"
    )]
    BadPdf {
        /// The input.
        path: String,
        /// What the parser said.
        detail: String,
    },
    /// The input is larger than the configured cap.
    #[error(
        "{path} is {size} bytes, over the {limit}-byte limit; raise the limit or point at something smaller"
    )]
    TooLarge {
        /// The input.
        path: String,
        /// Its size (or the size read so far).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A directory with no file worth reading.
    #[error("{path} has no readable text files{}", if skipped.is_empty() { String::new() } else { format!(" (skipped: {})", skipped.join("; ")) })]
    EmptyDirectory {
        /// The directory.
        path: String,
        /// Why each file was skipped.
        skipped: Vec<String>,
    },
    /// A URL could not be fetched.
    #[error("cannot fetch {url}: {detail}")]
    Url {
        /// The URL (without query string).
        url: String,
        /// What went wrong.
        detail: String,
    },
}
