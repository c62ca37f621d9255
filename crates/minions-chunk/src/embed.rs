//! Retrieval by meaning: embeddings and cosine similarity.

use async_trait::async_trait;
use minions_core::{Embedder, Embeddings, Error, ModelId, Result, Usage};

use crate::bm25::{Hit, for_each_term};

/// A deterministic embedder that needs no model: each word is hashed to a
/// dimension with a sign, and the vector is normalised. Texts that share
/// words point the same way. Good for tests, and as a stand-in when no
/// embedding model is configured (it is a bag of words, not meaning).
#[derive(Debug, Clone)]
pub struct HashingEmbedder {
    id: ModelId,
    dimensions: usize,
}

impl HashingEmbedder {
    /// An embedder with this many dimensions (at least 1).
    pub fn new(dimensions: usize) -> Self {
        Self {
            id: ModelId::new("hashing", format!("bow-{dimensions}")),
            dimensions: dimensions.max(1),
        }
    }

    /// The vector of one text.
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut vector = vec![0.0f32; self.dimensions];
        for_each_term(text, |term| {
            let hash = term.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            let slot = (hash % self.dimensions as u64) as usize;
            vector[slot] += if hash >> 63 == 0 { 1.0 } else { -1.0 };
        });
        normalise(&mut vector);
        vector
    }
}

impl Default for HashingEmbedder {
    fn default() -> Self {
        Self::new(256)
    }
}

#[async_trait]
impl Embedder for HashingEmbedder {
    async fn embed(&self, inputs: &[String]) -> Result<Embeddings> {
        Ok(Embeddings {
            vectors: inputs.iter().map(|t| self.vector(t)).collect(),
            usage: Usage::default(),
        })
    }

    fn max_batch(&self) -> usize {
        1024
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}

fn normalise(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Cosine similarity; 0 when either vector is zero or their lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norms =
        a.iter().map(|x| x * x).sum::<f32>().sqrt() * b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norms > 0.0 { dot / norms } else { 0.0 }
}

/// Vectors for a list of texts, searchable by cosine similarity.
#[derive(Debug, Clone, Default)]
pub struct EmbeddingIndex {
    vectors: Vec<Vec<f32>>,
    /// Tokens the embedding model reported for building the index.
    pub usage: Usage,
}

impl EmbeddingIndex {
    /// Embeds the texts in batches of the embedder's `max_batch`.
    pub async fn build(embedder: &dyn Embedder, texts: &[&str]) -> Result<Self> {
        let mut index = Self::default();
        let batch = embedder.max_batch().max(1);
        for slice in texts.chunks(batch) {
            let owned: Vec<String> = slice.iter().map(|t| t.to_string()).collect();
            let embeddings = embedder.embed(&owned).await?;
            if embeddings.vectors.len() != slice.len() {
                return Err(Error::decode(
                    embedder.id().provider.clone(),
                    format!(
                        "asked for {} embeddings, got {}",
                        slice.len(),
                        embeddings.vectors.len()
                    ),
                    "",
                ));
            }
            index.usage += embeddings.usage;
            for mut vector in embeddings.vectors {
                normalise(&mut vector);
                index.vectors.push(vector);
            }
        }
        Ok(index)
    }

    /// The number of indexed texts.
    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// The `k` texts closest to a query vector.
    pub fn search_vector(&self, query: &[f32], k: usize) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self
            .vectors
            .iter()
            .enumerate()
            .map(|(index, vector)| Hit {
                index,
                score: cosine(query, vector),
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
        hits.truncate(k);
        hits
    }

    /// Embeds the query and returns the `k` closest texts.
    pub async fn search(&self, embedder: &dyn Embedder, query: &str, k: usize) -> Result<Vec<Hit>> {
        let embeddings = embedder.embed(&[query.to_string()]).await?;
        let Some(vector) = embeddings.vectors.into_iter().next() else {
            return Err(Error::decode(
                embedder.id().provider.clone(),
                "no embedding for the query",
                "",
            ));
        };
        Ok(self.search_vector(&vector, k))
    }
}

/// Reciprocal rank fusion: merges rankings (BM25 and embeddings, say) by
/// summing `1 / (c + rank)` over the lists each item appears in, with the
/// usual `c = 60`. Returns the top `k`.
pub fn reciprocal_rank_fusion(rankings: &[&[Hit]], k: usize) -> Vec<Hit> {
    const C: f32 = 60.0;
    let mut scores: std::collections::BTreeMap<usize, f32> = std::collections::BTreeMap::new();
    for ranking in rankings {
        for (rank, hit) in ranking.iter().enumerate() {
            *scores.entry(hit.index).or_default() += 1.0 / (C + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<Hit> = scores
        .into_iter()
        .map(|(index, score)| Hit { index, score })
        .collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    fused.truncate(k);
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashing_embedder_finds_texts_that_share_words() {
        let embedder = HashingEmbedder::default();
        let texts = [
            "blood pressure was 160/100",
            "the ldl cholesterol is 170",
            "garden party on sunday",
        ];
        let index = EmbeddingIndex::build(&embedder, &texts).await.unwrap();
        let hits = index
            .search(&embedder, "what was the blood pressure", 2)
            .await
            .unwrap();
        assert_eq!(hits[0].index, 0);
        assert!(hits[0].score > hits[1].score);
        assert_eq!(embedder.vector("same words"), embedder.vector("Same WORDS"));
        assert!((cosine(&embedder.vector("x y"), &embedder.vector("x y")) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn fusion_rewards_agreement() {
        let bm25 = [
            Hit {
                index: 1,
                score: 9.0,
            },
            Hit {
                index: 2,
                score: 5.0,
            },
        ];
        let dense = [
            Hit {
                index: 2,
                score: 0.9,
            },
            Hit {
                index: 3,
                score: 0.8,
            },
        ];
        let fused = reciprocal_rank_fusion(&[&bm25, &dense], 3);
        assert_eq!(fused[0].index, 2);
        assert_eq!(fused.len(), 3);
    }
}
