//! Chunks and how to ask for them.

use std::ops::{Range, RangeInclusive};

use serde::{Deserialize, Serialize};

use crate::{headings, pack, units};

/// What a chunk's size and overlap are measured in, and where it may end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChunkUnit {
    /// Windows of `size` characters, ending at whitespace where possible;
    /// `overlap` characters repeated.
    Chars,
    /// Windows of `size` tokens (o200k_base) made of whole words; about
    /// `overlap` tokens of whole words repeated.
    Tokens,
    /// Whole paragraphs (separated by blank lines) packed up to `size`
    /// characters.
    Paragraphs,
    /// Whole pages (separated by form feeds, as PDF ingestion writes them)
    /// packed up to `size` characters.
    Pages,
    /// Whole sections (each starting at a Markdown or underlined heading) packed up to
    /// `size` characters.
    Sections,
    /// Whole code items (top-level functions, classes, blocks, found by
    /// indentation and braces) packed up to `size` characters.
    Code,
}

/// How to cut a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkSpec {
    /// The unit.
    pub unit: ChunkUnit,
    /// The largest chunk: characters, or tokens for [`ChunkUnit::Tokens`].
    pub size: usize,
    /// How much of the end of one chunk starts the next, in the same measure.
    /// For the structural units, the whole units at the end of a chunk that
    /// fit in `overlap` characters are repeated.
    #[serde(default)]
    pub overlap: usize,
}

impl ChunkSpec {
    /// A spec.
    pub fn new(unit: ChunkUnit, size: usize, overlap: usize) -> Self {
        Self {
            unit,
            size,
            overlap,
        }
    }

    /// Checks that the spec makes sense: a positive size and an overlap of at
    /// most half of it (more would repeat most of the text).
    pub fn validate(&self) -> Result<(), ChunkError> {
        if self.size == 0 {
            return Err(ChunkError::ZeroSize);
        }
        if self.overlap > self.size / 2 {
            return Err(ChunkError::OverlapTooLarge {
                size: self.size,
                overlap: self.overlap,
            });
        }
        Ok(())
    }
}

/// Why a spec cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    /// `size` was 0.
    #[error("chunk size must be at least 1")]
    ZeroSize,
    /// `overlap` more than half of `size`.
    #[error("chunk overlap {overlap} is more than half the chunk size {size}; use at most {}", size / 2)]
    OverlapTooLarge {
        /// The size asked for.
        size: usize,
        /// The overlap asked for.
        overlap: usize,
    },
}

/// One piece of a text: a byte range of it, never splitting a character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// Position in the list of chunks, from 0.
    pub index: usize,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The pages it spans (1-based), when the text has page breaks.
    pub pages: Option<RangeInclusive<u32>>,
}

impl Chunk {
    /// The chunk's text within the text it was cut from.
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.start..self.end).unwrap_or_default()
    }

    /// The byte range.
    pub fn byte_range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the chunk is empty (only for an empty text, which has none).
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// Cuts `text` as `spec` says. An empty text has no chunks; otherwise every
/// byte is in at least one chunk, and no chunk splits a character.
pub fn chunk(text: &str, spec: &ChunkSpec) -> Result<Vec<Chunk>, ChunkError> {
    spec.validate()?;
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let ranges = match spec.unit {
        ChunkUnit::Chars => pack::char_windows(text, 0, text.len(), spec.size, spec.overlap),
        ChunkUnit::Tokens => crate::token_chunks::token_windows(text, spec.size, spec.overlap),
        ChunkUnit::Paragraphs => pack::pack_units(
            text,
            &units::paragraph_starts(text),
            spec.size,
            spec.overlap,
        ),
        ChunkUnit::Pages => {
            pack::pack_units(text, &units::page_starts(text), spec.size, spec.overlap)
        }
        ChunkUnit::Sections => pack::pack_units(
            text,
            &headings::section_starts(text),
            spec.size,
            spec.overlap,
        ),
        ChunkUnit::Code => pack::pack_units(
            text,
            &units::code_item_starts(text),
            spec.size,
            spec.overlap,
        ),
    };
    let pages = PageMap::new(text);
    Ok(ranges
        .into_iter()
        .enumerate()
        .map(|(index, range)| Chunk {
            index,
            pages: pages.span(range.start, range.end),
            start: range.start,
            end: range.end,
        })
        .collect())
}

/// Where the form feeds (page breaks) are.
struct PageMap {
    breaks: Vec<usize>,
}

impl PageMap {
    fn new(text: &str) -> Self {
        Self {
            breaks: text
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\x0c')
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The 1-based page of a byte: one more than the breaks before it.
    fn page_of(&self, byte: usize) -> u32 {
        u32::try_from(self.breaks.partition_point(|&b| b < byte))
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    fn span(&self, start: usize, end: usize) -> Option<RangeInclusive<u32>> {
        if self.breaks.is_empty() || end <= start {
            return None;
        }
        Some(self.page_of(start)..=self.page_of(end - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_validated() {
        assert_eq!(
            ChunkSpec::new(ChunkUnit::Chars, 0, 0).validate(),
            Err(ChunkError::ZeroSize)
        );
        let error = ChunkSpec::new(ChunkUnit::Chars, 100, 60)
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("at most 50"), "{error}");
        assert!(
            chunk("", &ChunkSpec::new(ChunkUnit::Chars, 10, 0))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn chunks_know_their_pages() {
        let text = "page one\x0cpage two\x0cpage three";
        let chunks = chunk(text, &ChunkSpec::new(ChunkUnit::Pages, 10, 0)).unwrap();
        let pages: Vec<_> = chunks.iter().map(|c| c.pages.clone().unwrap()).collect();
        assert_eq!(pages, vec![1..=1, 2..=2, 3..=3]);
        let whole = chunk(text, &ChunkSpec::new(ChunkUnit::Chars, 1000, 0)).unwrap();
        assert_eq!(whole[0].pages, Some(1..=3));
        let plain = chunk("no pages here", &ChunkSpec::new(ChunkUnit::Chars, 1000, 0)).unwrap();
        assert_eq!(plain[0].pages, None);
    }
}
