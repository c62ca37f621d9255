//! Windows measured in tokens.

use std::ops::Range;

use minions_tokens::{Encoding, count_tokens};
use rustc_hash::FxHashMap;

use crate::pack::pack_weighted;

/// Offsets where a unit starts: whitespace right after a non-whitespace
/// character. Each unit is the whitespace before a word plus the word, which
/// is how the tokenizer groups them (`" quick"` is one token), so per-unit
/// counts add up to nearly the count of the whole text.
fn word_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut previous_space = true;
    for (offset, ch) in text.char_indices() {
        let space = ch.is_whitespace();
        if space && !previous_space && offset > 0 {
            starts.push(offset);
        }
        previous_space = space;
    }
    starts
}

/// Windows of whole words of at most `size` tokens (a single word longer than
/// that is a chunk of its own), with about `overlap` tokens of whole words
/// repeated. Token counts per distinct word are cached, so repeated
/// vocabulary is tokenized once.
pub(crate) fn token_windows(text: &str, size: usize, overlap: usize) -> Vec<Range<usize>> {
    let starts = word_starts(text);
    let bounds: Vec<usize> = starts
        .iter()
        .copied()
        .chain(std::iter::once(text.len()))
        .collect();
    let mut cache: FxHashMap<&str, usize> = FxHashMap::default();
    let weights: Vec<usize> = bounds
        .windows(2)
        .map(|w| {
            let word = &text[w[0]..w[1]];
            *cache
                .entry(word)
                .or_insert_with(|| count_tokens(word, Encoding::O200kBase).max(1))
        })
        .collect();
    // A word heavier than `size` is indivisible: it becomes a chunk alone.
    pack_weighted(&bounds, &weights, size, overlap, |from, to| {
        std::iter::once(from..to).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_hold_at_most_size_tokens() {
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(40);
        let ranges = token_windows(&text, 50, 10);
        assert!(ranges.len() > 5);
        for range in &ranges[..ranges.len() - 1] {
            let tokens = count_tokens(&text[range.clone()], Encoding::O200kBase);
            assert!((35..=50).contains(&tokens), "{tokens}");
        }
        assert_eq!(ranges.last().unwrap().end, text.len());
    }
}
