//! Documents in, chunks out, and the chunks that matter found.
//!
//! - [`chunk`] cuts a text by characters, tokens, paragraphs, pages,
//!   sections (under Markdown or underlined headings) or code items
//!   ([`ChunkUnit`]), with a size and an overlap.
//!   Chunks are byte ranges of the text: nothing is copied, no character is
//!   split, and every byte lands in some chunk.
//! - [`Headings`] finds a text's headings, so that a chunk can say which
//!   section it comes from.
//! - [`Bm25Index`] ranks chunks for a query by BM25 over words.
//! - [`EmbeddingIndex`] ranks them by cosine similarity of embeddings from
//!   any [`minions_core::Embedder`]; [`HashingEmbedder`] is a deterministic
//!   stand-in that needs no model; [`reciprocal_rank_fusion`] merges both
//!   rankings.
//!
//! ```
//! use minions_chunk::{Bm25Index, ChunkSpec, ChunkUnit, chunk};
//!
//! let report = "Blood pressure 160/100 mmHg.\n\nLDL cholesterol 170 mg/dL.\n\nHDL 45 mg/dL.";
//! let chunks = chunk(report, &ChunkSpec::new(ChunkUnit::Paragraphs, 40, 0))?;
//! let texts: Vec<&str> = chunks.iter().map(|c| c.text(report)).collect();
//! let index = Bm25Index::build(&texts);
//! let best = index.search("ldl cholesterol", 1);
//! assert_eq!(texts[best[0].index].trim(), "LDL cholesterol 170 mg/dL.");
//! # Ok::<(), minions_chunk::ChunkError>(())
//! ```

mod bm25;
mod chunk;
mod embed;
mod headings;
mod pack;
mod token_chunks;
mod units;

pub use bm25::{Bm25Index, Bm25Params, Hit, for_each_term, terms};
pub use chunk::{Chunk, ChunkError, ChunkSpec, ChunkUnit, chunk};
pub use embed::{EmbeddingIndex, HashingEmbedder, cosine, reciprocal_rank_fusion};
pub use headings::{Heading, Headings};
