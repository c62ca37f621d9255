//! Exact token counts with OpenAI's vocabularies (`o200k_base`,
//! `cl100k_base`), through `bpe-openai`, which counts what `tiktoken` counts
//! and loads faster. For other vendors' models the counts are a close
//! estimate, which is all a cost estimate needs.
//!
//! The vocabulary is built the first time a count is asked for, never at
//! start-up: commands that count nothing pay nothing. For a free
//! approximation, see `minions_core::tokens::approx_tokens`.

use minions_core::Message;
pub use minions_core::tokens::approx_tokens;

/// A tokenizer vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// GPT-4o, GPT-4.1, GPT-5, o-series; our default for everything else too.
    #[default]
    O200kBase,
    /// GPT-4, GPT-3.5 and the `text-embedding-3` models.
    Cl100kBase,
}

impl Encoding {
    /// The vocabulary a model uses. Non-OpenAI models get `o200k_base`, the
    /// closest modern stand-in.
    pub fn for_model(model: &str) -> Self {
        let model = model
            .rsplit('/')
            .next()
            .unwrap_or(model)
            .to_ascii_lowercase();
        let cl100k = model.starts_with("gpt-3.5")
            || model.starts_with("text-embedding")
            || (model.starts_with("gpt-4")
                && !model.starts_with("gpt-4o")
                && !model.starts_with("gpt-4.1"));
        if cl100k {
            Encoding::Cl100kBase
        } else {
            Encoding::O200kBase
        }
    }

    fn bpe(self) -> &'static bpe_openai::Tokenizer {
        match self {
            Encoding::O200kBase => bpe_openai::o200k_base(),
            Encoding::Cl100kBase => bpe_openai::cl100k_base(),
        }
    }
}

/// Runs of text without whitespace longer than this are cut before they reach
/// the tokenizer. Byte-pair merging is quadratic in the length of one
/// pre-tokenized piece, so a megabyte of base64 would otherwise take minutes;
/// cutting costs at most one token of accuracy per cut.
const MAX_RUN_BYTES: usize = 1024;

/// Counts tokens exactly with the given vocabulary.
pub fn count_tokens(text: &str, encoding: Encoding) -> usize {
    let bpe = encoding.bpe();
    bounded_segments(text)
        .map(|segment| bpe.count(segment))
        .sum()
}

/// Counts the tokens of a chat, with OpenAI's per-message framing overhead
/// (about 4 tokens a message and 3 to prime the answer).
pub fn count_message_tokens(messages: &[Message], encoding: Encoding) -> usize {
    let content: usize = messages
        .iter()
        .map(|m| count_tokens(&m.content, encoding) + 4)
        .sum();
    content + 3
}

/// Splits `text` into pieces that keep every whitespace-free run at most
/// [`MAX_RUN_BYTES`] long (cuts land on character boundaries), and groups
/// ordinary text into segments of a few kilobytes.
fn bounded_segments(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut cut = rest.len();
        let mut run_start = 0;
        for (index, ch) in rest.char_indices() {
            if ch.is_whitespace() {
                run_start = index + ch.len_utf8();
                // Ordinary prose: end the segment at a whitespace once it is
                // a comfortable size, so that memory stays flat.
                if index >= 16 * MAX_RUN_BYTES {
                    cut = index;
                    break;
                }
            } else if index - run_start >= MAX_RUN_BYTES {
                cut = index;
                break;
            }
        }
        let (segment, tail) = rest.split_at(cut);
        rest = tail;
        Some(segment)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_known_strings() {
        assert_eq!(count_tokens("hello world", Encoding::O200kBase), 2);
        assert_eq!(count_tokens("hello world", Encoding::Cl100kBase), 2);
        assert_eq!(count_tokens("", Encoding::O200kBase), 0);
    }

    #[test]
    fn picks_the_vocabulary_by_model() {
        assert_eq!(Encoding::for_model("gpt-4o-mini"), Encoding::O200kBase);
        assert_eq!(Encoding::for_model("gpt-4.1"), Encoding::O200kBase);
        assert_eq!(Encoding::for_model("gpt-4-turbo"), Encoding::Cl100kBase);
        assert_eq!(
            Encoding::for_model("openai/gpt-3.5-turbo"),
            Encoding::Cl100kBase
        );
        assert_eq!(
            Encoding::for_model("claude-sonnet-4-5"),
            Encoding::O200kBase
        );
    }

    #[test]
    fn segments_cover_the_text_exactly() {
        let text = format!("{} tail é {}", "x".repeat(5000), "word ".repeat(10_000));
        let joined: String = bounded_segments(&text).collect();
        assert_eq!(joined, text);
        assert!(bounded_segments(&text).all(|s| !s.is_empty()));
    }

    #[test]
    fn long_unbroken_runs_stay_tractable_and_close_to_exact() {
        // Without the run cap this takes minutes; with it, milliseconds.
        let blob = "QUJD".repeat(250_000);
        let tokens = count_tokens(&blob, Encoding::O200kBase);
        assert!(tokens > 100_000 && tokens < 1_000_000, "{tokens}");
        let prose = "The quick brown fox jumps over the lazy dog. ".repeat(2_000);
        let whole = tiktoken_rs::o200k_base_singleton()
            .encode_ordinary(&prose)
            .len();
        assert_eq!(count_tokens(&prose, Encoding::O200kBase), whole);
    }

    #[test]
    fn approximation_is_in_the_right_ballpark() {
        let prose = "The quick brown fox jumps over the lazy dog. ".repeat(100);
        let exact = count_tokens(&prose, Encoding::O200kBase) as f64;
        let approx = approx_tokens(&prose) as f64;
        assert!((approx / exact - 1.0).abs() < 0.35, "{approx} vs {exact}");
    }

    #[test]
    fn counts_are_tiktoken_counts_in_many_languages() {
        let corpus = [
            "The quick brown fox jumps over the lazy dog, 42 times; isn't it?",
            "Le café coûte 3,50 € — déjà vu, naïve façade.",
            "東京は日本の首都です。人口は約1400万人。",
            "Привет, мир! Как дела? Всё хорошо.",
            "مرحبا بالعالم، كيف حالك؟",
            "def f(x):\n    return x ** 2  # squares\n\tfn main() { println!(\"{}\", 1); }",
            "emoji 🙂🙂 👩‍👩‍👧 and   spaces\n\n\nnewlines\r\n tabs\t\t",
            "A1B2C3 0x7fff_ffff 3.14159e-10 ISO-8601 2026-11-25T14:00:00Z",
        ];
        let text = corpus.join("\n").repeat(50);
        for (encoding, reference) in [
            (Encoding::O200kBase, tiktoken_rs::o200k_base_singleton()),
            (Encoding::Cl100kBase, tiktoken_rs::cl100k_base_singleton()),
        ] {
            for piece in corpus.iter().copied().chain([text.as_str()]) {
                assert_eq!(
                    count_tokens(piece, encoding),
                    reference.encode_ordinary(piece).len(),
                    "{encoding:?}: {piece:?}"
                );
            }
        }
    }

    #[test]
    fn message_overhead_is_added() {
        let messages = [Message::system("hello world"), Message::user("hello world")];
        assert_eq!(
            count_message_tokens(&messages, Encoding::O200kBase),
            2 + 4 + 2 + 4 + 3
        );
    }
}
