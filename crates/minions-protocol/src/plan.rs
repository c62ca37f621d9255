//! The plan the remote model writes (Minions). Shared by the protocol and
//! the events, so neither imports the other.

use minions_chunk::ChunkUnit;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One task of a plan: what every selected chunk's worker is asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTask {
    /// A short id (`bp`), used in findings and by `answered_by`.
    pub id: String,
    /// What the worker should do.
    pub instruction: String,
    /// What to watch for.
    #[serde(default)]
    pub advice: String,
    /// Keywords for retrieval; the instruction when empty.
    #[serde(default)]
    pub query: String,
}

/// How to cut the documents this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChunking {
    /// The unit.
    pub unit: ChunkUnit,
    /// The size (characters; tokens for `tokens`).
    pub size: usize,
    /// The overlap.
    #[serde(default)]
    pub overlap: usize,
}

impl Default for PlanChunking {
    /// Characters, 3,000, overlap 100: what the planner is offered first.
    fn default() -> Self {
        Self {
            unit: ChunkUnit::Chars,
            size: 3000,
            overlap: 100,
        }
    }
}

/// Which chunks each task runs on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection {
    /// Every chunk.
    #[default]
    All,
    /// The `top_k` chunks that best match the task's query by BM25.
    Bm25 {
        /// How many.
        top_k: usize,
    },
    /// The `top_k` chunks closest to the task's query by embeddings.
    Embedding {
        /// How many.
        top_k: usize,
    },
    /// The chunks where an earlier task (by id) found answers.
    AnsweredBy(String),
}

/// Retrieval's default `top_k` when a plan names the method without one.
const DEFAULT_TOP_K: usize = 8;

#[derive(Serialize, Deserialize)]
struct TopK {
    #[serde(default = "default_top_k")]
    top_k: usize,
}

fn default_top_k() -> usize {
    DEFAULT_TOP_K
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum SelectionWire {
    Name(String),
    Bm25 { bm25: TopK },
    Embedding { embedding: TopK },
    AnsweredBy { answered_by: String },
}

impl Serialize for Selection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wire = match self {
            Selection::All => SelectionWire::Name("all".into()),
            Selection::Bm25 { top_k } => SelectionWire::Bm25 {
                bm25: TopK { top_k: *top_k },
            },
            Selection::Embedding { top_k } => SelectionWire::Embedding {
                embedding: TopK { top_k: *top_k },
            },
            Selection::AnsweredBy(id) => SelectionWire::AnsweredBy {
                answered_by: id.clone(),
            },
        };
        wire.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Selection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match SelectionWire::deserialize(deserializer)? {
            SelectionWire::Name(name) => match name.to_ascii_lowercase().as_str() {
                "all" => Selection::All,
                "bm25" => Selection::Bm25 {
                    top_k: DEFAULT_TOP_K,
                },
                "embedding" | "embeddings" => Selection::Embedding {
                    top_k: DEFAULT_TOP_K,
                },
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "unknown select {other:?}: use \"all\", {{\"bm25\": {{\"top_k\": N}}}} or {{\"answered_by\": \"ID\"}}"
                    )));
                }
            },
            SelectionWire::Bm25 { bm25 } => Selection::Bm25 { top_k: bm25.top_k },
            SelectionWire::Embedding { embedding } => Selection::Embedding {
                top_k: embedding.top_k,
            },
            SelectionWire::AnsweredBy { answered_by } => Selection::AnsweredBy(answered_by),
        })
    }
}

fn one() -> u32 {
    1
}

/// A round's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The tasks.
    pub tasks: Vec<PlanTask>,
    /// How to cut the documents; the suggested chunking when absent.
    #[serde(default)]
    pub chunking: Option<PlanChunking>,
    /// Which chunks the tasks run on.
    #[serde(default)]
    pub select: Selection,
    /// Runs per job.
    #[serde(default = "one")]
    pub samples: u32,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn selections_in_every_spelling() {
        let parse = |v: serde_json::Value| serde_json::from_value::<Selection>(v);
        assert_eq!(parse(json!("all")).unwrap(), Selection::All);
        assert_eq!(
            parse(json!({"bm25": {"top_k": 5}})).unwrap(),
            Selection::Bm25 { top_k: 5 }
        );
        assert_eq!(
            parse(json!({"bm25": {}})).unwrap(),
            Selection::Bm25 { top_k: 8 }
        );
        assert_eq!(parse(json!("bm25")).unwrap(), Selection::Bm25 { top_k: 8 });
        assert_eq!(
            parse(json!({"answered_by": "bp"})).unwrap(),
            Selection::AnsweredBy("bp".into())
        );
        assert!(parse(json!("everything")).is_err());
        let plan: Plan =
            serde_json::from_value(json!({"tasks": [{"id": "a", "instruction": "x"}]})).unwrap();
        assert_eq!(
            (plan.select, plan.samples, plan.chunking),
            (Selection::All, 1, None)
        );
        assert_eq!(
            serde_json::to_value(Selection::Bm25 { top_k: 3 }).unwrap(),
            json!({"bm25": {"top_k": 3}})
        );
    }
}
