//! Tokens a document states exactly or not at all: addresses, paths,
//! identifiers and decimal figures.
//!
//! The grounding check passes an answer when half of its longer words are
//! in its chunk, which suits prose ("a contrasting gray") but not a URL: on
//! pyenv's README the 0.5B model answered
//! "https://github.com/yyuu/pyenv/releases/download/1.2.0/pyenv-1.2.0.sh"
//! for the installer's address, made of words the chunk has ("github",
//! "pyenv", "releases"), and the remote model passed it on; the README's
//! address is `https://pyenv.run` (run 35). Nor does it suit a decimal: "1.5
//! GB" was read as the small numbers 1 and 5, both somewhere in the chunk.
//! Such a token is right only as the document writes it, so it must be in
//! the chunk as written (ignoring case).

/// Whether every exact token of `text` (see [`exact_tokens`]) is in
/// `chunk`, ignoring case. Tokens the task states are not claims: an answer
/// that names the task's `README.md` says nothing about the chunk.
pub(crate) fn exact_tokens_in(text: &str, chunk: &str, task: &str) -> bool {
    let tokens = exact_tokens(text);
    if tokens.is_empty() {
        return true;
    }
    let (chunk, task) = (chunk.to_lowercase(), task.to_lowercase());
    tokens
        .iter()
        .all(|token| stated(&chunk, token) || stated(&task, token))
}

/// The tokens of `text` that must be quoted exactly, lowercased: those with
/// a scheme (`https://`), a path or an identifier's separator (`/`, `_`
/// between characters), a dotted name (`pyenv.run`, `NEWS2x.txt`), and
/// decimal or dotted figures (`1.5`, `2.7.18`). Dates are not among them:
/// a model may rewrite a date in any form, and dates are checked apart.
pub(crate) fn exact_tokens(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|token| {
            token
                .trim_start_matches(wrapping)
                .trim_end_matches(|c: char| wrapping(c) || matches!(c, '.' | '!' | '?'))
        })
        .filter(|token| exact(token))
        .map(str::to_lowercase)
        .collect()
}

/// Quotes, brackets and the punctuation that ends a clause, around a token.
fn wrapping(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '`' | '(' | ')' | '[' | ']' | '<' | '>' | ',' | ';' | ':' | '*'
    )
}

/// Whether one token (wrapping punctuation gone) must be quoted exactly.
fn exact(token: &str) -> bool {
    if token.chars().count() < 3 {
        return false;
    }
    if !token.chars().any(|c| c.is_alphabetic()) {
        return dotted_figure(token);
    }
    if token.contains("://") {
        return true;
    }
    let chars: Vec<char> = token.chars().collect();
    chars.windows(3).any(|w| {
        let inner = w[0].is_alphanumeric() && w[2].is_alphanumeric();
        inner && (w[1] == '_' || w[1] == '/')
    }) || dotted_name(token)
}

/// Digits with dots between them and nothing else ("1.5", "2.7.18"), but
/// not a date ("29.06.2007").
fn dotted_figure(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && !(parts.len() == 3 && parts[2].len() == 4)
}

/// A name with a dot inside it whose sides are two characters or more
/// ("pyenv.run", "NEWS2x.txt"), which "e.g" and "U.S" are not.
fn dotted_name(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| p.chars().count() >= 2 && p.chars().all(|c| c.is_alphanumeric() || c == '-'))
}

/// Whether `chunk` (lowercased) holds `token` with no digit either side,
/// so that "1.5" is not found in "11.5" and "2.7" is found in "2.7.18".
fn stated(chunk: &str, token: &str) -> bool {
    chunk.match_indices(token).any(|(at, _)| {
        let before = chunk[..at].chars().next_back();
        let after = chunk[at + token.len()..].chars().next();
        let figure = token.starts_with(|c: char| c.is_ascii_digit());
        !figure
            || !(before.is_some_and(|c| c.is_ascii_digit())
                || after.is_some_and(|c| c.is_ascii_digit()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_paths_identifiers_and_decimals_are_exact_tokens() {
        assert_eq!(
            exact_tokens("Run `curl https://pyenv.run | bash`, then set PYENV_ROOT."),
            ["https://pyenv.run", "pyenv_root"]
        );
        assert_eq!(
            exact_tokens("See NEWS2x.txt and plugins/python-build (about 1.5 GB)."),
            ["news2x.txt", "plugins/python-build", "1.5"]
        );
        assert_eq!(exact_tokens("Python 2.7.18 on macOS"), ["2.7.18"]);
        // Prose, abbreviations, dates and plain numbers are not.
        assert!(exact_tokens("e.g. the U.S. office, 30 days, a contrasting gray").is_empty());
        assert!(exact_tokens("29.06.2007 or 06/29/2007 or 2023-10-02").is_empty());
    }

    #[test]
    fn an_exact_token_counts_only_as_the_chunk_writes_it() {
        let readme = "Automatic installer:\n\n    curl -fsSL https://pyenv.run | bash\n\n\
                      `PYENV_DIR` | `$PWD` | Directory to start searching.\n\
                      * *2.7.18* : MacOS 10.15+ and Apple Silicon";
        assert!(exact_tokens_in("https://pyenv.run", readme, ""));
        assert!(exact_tokens_in("It downloads from pyenv.run", readme, ""));
        assert!(exact_tokens_in("PYENV_DIR", readme, ""));
        assert!(exact_tokens_in("Python 2.7.18", readme, ""));
        assert!(exact_tokens_in("macOS 10.15 or newer", readme, ""));
        assert!(exact_tokens_in("Apple Silicon", readme, ""));
        // Made of the chunk's words, but not an address it has.
        assert!(!exact_tokens_in(
            "https://github.com/yyuu/pyenv/releases/download/1.2.0/pyenv-1.2.0.sh",
            readme,
            ""
        ));
        assert!(!exact_tokens_in("PYENV_ROOT", readme, ""));
        assert!(!exact_tokens_in("about 1.5 GB", readme, ""));
        // A figure inside a longer one is not the figure.
        assert!(!exact_tokens_in("0.15", readme, ""));
        assert!(!exact_tokens_in("2.7.1", readme, ""));
        // What the task states is no claim about the chunk.
        assert!(exact_tokens_in(
            "Read the README.md file.",
            readme,
            "Read the README.md file for pyenv's RAM needs."
        ));
    }
}
