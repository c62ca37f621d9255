//! BM25 (Okapi) over word tokens.
//!
//! The Python reference ranks characters by accident; we rank words: maximal
//! runs of letters and digits (Unicode-aware), lowercased. Numbers are words
//! too, so `160/100 mmHg` indexes `160`, `100` and `mmhg`. A dot between two
//! digits does not end a word, so that a version or a decimal is one word:
//! `3.12.0` is `3.12.0`, not the `3`, `12` and `0` of every other release
//! (a question about IDLE 3.12.0 ranked its changelog entry sixth).

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Words longer than this are not indexed (base64 blobs, hashes).
const MAX_TERM_BYTES: usize = 64;

/// Calls `emit` with each word of `text`, lowercased. Allocation-free apart
/// from one reused buffer.
pub fn for_each_term(text: &str, mut emit: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut word = String::with_capacity(32);
    let mut flush = |word: &mut String| {
        if !word.is_empty() {
            if word.len() <= MAX_TERM_BYTES {
                emit(word);
            }
            word.clear();
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte < 0x80 {
            let inside_number = byte == b'.'
                && word.ends_with(|c: char| c.is_ascii_digit())
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            if byte.is_ascii_alphanumeric() || inside_number {
                word.push(char::from(byte.to_ascii_lowercase()));
            } else {
                flush(&mut word);
            }
            i += 1;
            continue;
        }
        let Some(ch) = text[i..].chars().next() else {
            break;
        };
        if ch.is_alphanumeric() {
            word.extend(ch.to_lowercase());
        } else {
            flush(&mut word);
        }
        i += ch.len_utf8();
    }
    flush(&mut word);
}

/// The words of `text`, lowercased.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_term(text, |t| out.push(t.to_string()));
    out
}

/// A ranked document.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The document's position in the indexed list.
    pub index: usize,
    /// Its score; higher is better.
    pub score: f32,
}

/// BM25's two knobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bm25Params {
    /// Term-frequency saturation (1.2 is the usual choice).
    pub k1: f32,
    /// Length normalisation, from 0 (none) to 1 (full); 0.75 is usual.
    pub b: f32,
}

impl Default for Bm25Params {
    fn default() -> Self {
        Self { k1: 1.2, b: 0.75 }
    }
}

#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: u32,
    tf: u32,
}

/// An inverted index for BM25 ranking.
#[derive(Debug, Clone)]
pub struct Bm25Index {
    dictionary: FxHashMap<Box<str>, u32>,
    postings: Vec<Vec<Posting>>,
    doc_lengths: Vec<u32>,
    average_length: f32,
    params: Bm25Params,
}

/// One partition's share of the work.
#[derive(Default)]
struct Partial {
    dictionary: FxHashMap<Box<str>, u32>,
    postings: Vec<Vec<Posting>>,
    doc_lengths: Vec<u32>,
}

impl Partial {
    fn index(docs: &[&str], first_doc: usize) -> Self {
        let mut partial = Partial::default();
        let mut ids: Vec<u32> = Vec::new();
        for (offset, text) in docs.iter().enumerate() {
            ids.clear();
            let Partial {
                dictionary,
                postings,
                ..
            } = &mut partial;
            for_each_term(text, |term| {
                let id = match dictionary.get(term) {
                    Some(id) => *id,
                    None => {
                        let id = u32::try_from(postings.len()).unwrap_or(u32::MAX);
                        dictionary.insert(term.into(), id);
                        postings.push(Vec::new());
                        id
                    }
                };
                ids.push(id);
            });
            partial
                .doc_lengths
                .push(u32::try_from(ids.len()).unwrap_or(u32::MAX));
            ids.sort_unstable();
            let doc = u32::try_from(first_doc + offset).unwrap_or(u32::MAX);
            for run in ids.chunk_by(|a, b| a == b) {
                let tf = u32::try_from(run.len()).unwrap_or(u32::MAX);
                partial.postings[run[0] as usize].push(Posting { doc, tf });
            }
        }
        partial
    }

    /// Appends a later partition (its documents come after ours).
    fn absorb(&mut self, other: Partial) {
        let mut other_postings: Vec<Option<Vec<Posting>>> =
            other.postings.into_iter().map(Some).collect();
        for (term, other_id) in other.dictionary {
            let Some(list) = other_postings
                .get_mut(other_id as usize)
                .and_then(Option::take)
            else {
                continue;
            };
            match self.dictionary.get(&term) {
                Some(&id) => self.postings[id as usize].extend(list),
                None => {
                    let id = u32::try_from(self.postings.len()).unwrap_or(u32::MAX);
                    self.dictionary.insert(term, id);
                    self.postings.push(list);
                }
            }
        }
        self.doc_lengths.extend(other.doc_lengths);
    }
}

impl Bm25Index {
    /// Indexes documents with the usual parameters, on all cores.
    pub fn build(docs: &[&str]) -> Self {
        Self::build_with(docs, Bm25Params::default())
    }

    /// Indexes documents. Large inputs are split over the available cores
    /// and the partial indexes merged.
    pub fn build_with(docs: &[&str], params: Bm25Params) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let total_bytes: usize = docs.iter().map(|d| d.len()).sum();
        let partial = if threads > 1 && total_bytes > 4 << 20 && docs.len() >= threads {
            let per = docs.len().div_ceil(threads);
            let mut parts: Vec<Partial> = std::thread::scope(|scope| {
                let handles: Vec<_> = docs
                    .chunks(per)
                    .enumerate()
                    .map(|(n, slice)| scope.spawn(move || Partial::index(slice, n * per)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_default())
                    .collect()
            });
            let mut first = parts.remove(0);
            for part in parts {
                first.absorb(part);
            }
            first
        } else {
            Partial::index(docs, 0)
        };
        Self::from_partial(partial, params)
    }

    fn from_partial(partial: Partial, params: Bm25Params) -> Self {
        let total: u64 = partial.doc_lengths.iter().map(|&l| u64::from(l)).sum();
        let average_length = if partial.doc_lengths.is_empty() {
            0.0
        } else {
            total as f32 / partial.doc_lengths.len() as f32
        };
        Self {
            dictionary: partial.dictionary,
            postings: partial.postings,
            doc_lengths: partial.doc_lengths,
            average_length,
            params,
        }
    }

    /// The number of indexed documents.
    pub fn len(&self) -> usize {
        self.doc_lengths.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.doc_lengths.is_empty()
    }

    /// The number of distinct words.
    pub fn vocabulary(&self) -> usize {
        self.dictionary.len()
    }

    /// Inverse document frequency, `ln(1 + (N - n + 0.5) / (n + 0.5))`,
    /// which is never negative. 0 for unknown words.
    pub fn idf(&self, term: &str) -> f32 {
        let Some(&id) = self.dictionary.get(term) else {
            return 0.0;
        };
        let n = self.postings[id as usize].len() as f32;
        let total = self.len() as f32;
        (1.0 + (total - n + 0.5) / (n + 0.5)).ln()
    }

    /// Ranks documents for a free-text query; a word repeated in the query
    /// counts that many times.
    pub fn search(&self, query: &str, k: usize) -> Vec<Hit> {
        let weighted: Vec<(String, f32)> = terms(query).into_iter().map(|t| (t, 1.0)).collect();
        self.rank(&weighted, k)
    }

    /// Ranks documents for weighted keywords. A keyword of several words
    /// (`"blood pressure"`) gives each word the keyword's weight.
    pub fn search_weighted(&self, keywords: &[(&str, f32)], k: usize) -> Vec<Hit> {
        let mut weighted = Vec::new();
        for (keyword, weight) in keywords {
            for_each_term(keyword, |t| weighted.push((t.to_string(), *weight)));
        }
        self.rank(&weighted, k)
    }

    fn rank(&self, weighted: &[(String, f32)], k: usize) -> Vec<Hit> {
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        let Bm25Params { k1, b } = self.params;
        let mut scores = vec![0.0f32; self.len()];
        let mut touched = Vec::new();
        for (term, weight) in weighted {
            let Some(&id) = self.dictionary.get(term.as_str()) else {
                continue;
            };
            let idf = self.idf(term);
            for posting in &self.postings[id as usize] {
                let doc = posting.doc as usize;
                let tf = posting.tf as f32;
                let length = self.doc_lengths[doc] as f32;
                let norm = k1 * (1.0 - b + b * length / self.average_length.max(f32::MIN_POSITIVE));
                if scores[doc] == 0.0 {
                    touched.push(doc);
                }
                scores[doc] += weight * idf * tf * (k1 + 1.0) / (tf + norm);
            }
        }
        let mut hits: Vec<Hit> = touched
            .into_iter()
            .filter(|&doc| scores[doc] > 0.0)
            .map(|doc| Hit {
                index: doc,
                score: scores[doc],
            })
            .collect();
        let by_rank = |a: &Hit, b: &Hit| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index));
        if hits.len() > k {
            hits.select_nth_unstable_by(k - 1, by_rank);
            hits.truncate(k);
        }
        hits.sort_by(by_rank);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_not_characters() {
        assert_eq!(
            terms("Blood-pressure: 160/100 mmHg. Caf\u{e9} \u{c9}T\u{c9}"),
            [
                "blood",
                "pressure",
                "160",
                "100",
                "mmhg",
                "caf\u{e9}",
                "\u{e9}t\u{e9}"
            ]
        );
        assert_eq!(
            terms("IDLE 3.12.0 costs 1.5 units. Version 3. Done 2.x"),
            [
                "idle", "3.12.0", "costs", "1.5", "units", "version", "3", "done", "2", "x"
            ]
        );
        assert!(
            terms(&"x".repeat(100)).is_empty(),
            "giant tokens are not indexed"
        );
    }

    /// Scores computed by hand with k1 = 1.2, b = 0.75 on a corpus of three
    /// documents of lengths 4, 2 and 6 (average 4).
    #[test]
    fn scores_match_hand_computation() {
        let docs = [
            "cat sat on mat",
            "dog barked",
            "cat chased dog around the garden",
        ];
        let index = Bm25Index::build(&docs);
        // idf(cat) = ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln(1.6) = 0.470004
        assert!((index.idf("cat") - 0.470_004).abs() < 1e-5);
        // idf(garden) = ln(1 + 2.5 / 1.5) = ln(2.666667) = 0.980829
        assert!((index.idf("garden") - 0.980_829).abs() < 1e-5);
        let hits = index.search("cat", 10);
        // doc 0: 0.470004 * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 4 / 4)) = 0.470004
        // doc 2: 0.470004 * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 6 / 4)) = 0.390192
        assert_eq!(hits.iter().map(|h| h.index).collect::<Vec<_>>(), [0, 2]);
        assert!((hits[0].score - 0.470_004).abs() < 1e-5, "{hits:?}");
        assert!((hits[1].score - 0.390_192).abs() < 1e-5, "{hits:?}");
        // "dog garden": doc 2 = dog 0.390192 + garden 0.980829 * 2.2 / 2.65 = 1.204465;
        // doc 1 = 0.470004 * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / 4)) = 0.590862
        let hits = index.search("dog garden", 10);
        assert_eq!(hits[0].index, 2);
        assert!((hits[0].score - 1.204_465).abs() < 1e-5, "{hits:?}");
        assert!((hits[1].score - 0.590_862).abs() < 1e-5, "{hits:?}");
    }

    #[test]
    fn weighted_keywords_and_top_k() {
        let docs = [
            "blood pressure 160/100",
            "ldl cholesterol 170",
            "blood test normal",
            "pressure washer",
        ];
        let index = Bm25Index::build(&docs);
        let hits = index.search_weighted(&[("blood pressure", 2.0), ("mmhg", 1.0)], 2);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].index, 0);
        assert!(index.search("nothing matches", 5).is_empty());
        assert!(index.search("blood", 0).is_empty());
    }

    #[test]
    fn parallel_build_matches_serial_build() {
        let words = ["alpha", "beta", "gamma", "delta", "epsilon"];
        let docs: Vec<String> = (0..4000)
            .map(|i| {
                (0..300)
                    .map(|j| words[(i * 7 + j * 3) % 5])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let parallel = Bm25Index::build(&refs);
        let serial = Bm25Index::from_partial(Partial::index(&refs, 0), Bm25Params::default());
        for query in ["alpha", "beta gamma", "epsilon delta alpha"] {
            assert_eq!(
                parallel.search(query, 20),
                serial.search(query, 20),
                "{query}"
            );
        }
    }
}
