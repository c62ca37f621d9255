//! The chunking invariants, by property tests over texts mixing words,
//! multi-byte characters, blank lines, page breaks, headings and code.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use minions_chunk::{Chunk, ChunkSpec, ChunkUnit, chunk};
use minions_tokens::{Encoding, count_tokens};
use proptest::prelude::*;

const FRAGMENTS: &[&str] = &[
    "word",
    "mot\u{e9}",
    "\u{4e2d}\u{6587}",
    "\u{1F600}",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\x0c",
    "# Head\n",
    "## Sub\n",
    "fn x() {\n",
    "}\n",
    "    body;\n",
    "```\n",
    ".",
    "160/100",
    "\t",
    "long_identifier_without_breaks",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..120).prop_map(|parts| parts.concat())
}

fn unit() -> impl Strategy<Value = ChunkUnit> {
    prop::sample::select(vec![
        ChunkUnit::Chars,
        ChunkUnit::Paragraphs,
        ChunkUnit::Pages,
        ChunkUnit::Sections,
        ChunkUnit::Code,
        ChunkUnit::Tokens,
    ])
}

fn chars(text: &str, from: usize, to: usize) -> usize {
    text[from..to].chars().count()
}

fn check(text: &str, spec: ChunkSpec, chunks: &[Chunk]) -> Result<(), TestCaseError> {
    if text.is_empty() {
        prop_assert!(chunks.is_empty());
        return Ok(());
    }
    prop_assert_eq!(chunks[0].start, 0, "starts at the beginning");
    prop_assert_eq!(chunks.last().unwrap().end, text.len(), "ends at the end");
    for (i, c) in chunks.iter().enumerate() {
        prop_assert_eq!(c.index, i);
        prop_assert!(c.start < c.end, "no empty chunk");
        prop_assert!(
            text.is_char_boundary(c.start) && text.is_char_boundary(c.end),
            "splits a character"
        );
        let size = match spec.unit {
            ChunkUnit::Tokens => count_tokens(c.text(text), Encoding::O200kBase),
            _ => chars(text, c.start, c.end),
        };
        let single_word = !c.text(text).trim().contains(char::is_whitespace);
        match spec.unit {
            // Token counts are summed per word; the whole text can differ by
            // a token where punctuation meets a line break.
            ChunkUnit::Tokens => prop_assert!(
                size <= spec.size + spec.size / 10 + 2 || single_word,
                "{} tokens > {}",
                size,
                spec.size
            ),
            _ => prop_assert!(size <= spec.size, "{} chars > {}", size, spec.size),
        }
    }
    for pair in chunks.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        prop_assert!(next.start > prev.start, "progress");
        prop_assert!(next.start <= prev.end, "no gap between chunks");
        let overlap = chars(text, next.start, prev.end);
        match spec.unit {
            ChunkUnit::Chars => prop_assert!(
                overlap <= spec.overlap && overlap >= spec.overlap - spec.overlap / 5,
                "character overlap {} not within four fifths of {}",
                overlap,
                spec.overlap
            ),
            ChunkUnit::Tokens => {
                let tokens = count_tokens(&text[next.start..prev.end], Encoding::O200kBase);
                prop_assert!(
                    tokens <= spec.overlap + 2,
                    "token overlap {} > {}",
                    tokens,
                    spec.overlap
                );
            }
            _ => prop_assert!(
                overlap <= spec.overlap,
                "unit overlap {} > {}",
                overlap,
                spec.overlap
            ),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_chunker_keeps_the_invariants(text in text(), unit in unit(), size in 1usize..120, overlap_share in 0.0f64..=0.5) {
        let size = if unit == ChunkUnit::Tokens { size.min(40) } else { size };
        let overlap = ((size as f64) * overlap_share) as usize;
        let spec = ChunkSpec::new(unit, size, overlap.min(size / 2));
        let chunks = chunk(&text, &spec).unwrap();
        check(&text, spec, &chunks)?;
    }

    #[test]
    fn arbitrary_unicode_never_panics_or_splits(text in any::<String>(), size in 1usize..50) {
        for unit in [ChunkUnit::Chars, ChunkUnit::Paragraphs, ChunkUnit::Sections, ChunkUnit::Code, ChunkUnit::Pages] {
            let spec = ChunkSpec::new(unit, size, size / 3);
            let chunks = chunk(&text, &spec).unwrap();
            check(&text, spec, &chunks)?;
        }
    }
}
