//! Cost/quality comparisons and overhead figures, run by `cargo xtask bench`.
//!
//! - Quality: every item of a dataset through `remote-only`, `local-only`,
//!   `minion` and `minions`, scored, with a markdown table per run, one JSON
//!   line per item and protocol (appended as results arrive, so a paid run
//!   that stops resumes where it stopped), and an SVG plot of cost against
//!   accuracy. Without configured models, scripted stand-ins on loopback
//!   answer, and every table says so.
//! - Overhead: how close a Minions round gets to its ideal wall time against
//!   a fake local model with a fixed latency, and the CPU and memory it uses.

mod dataset;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod overhead;
pub mod prefix;
pub mod report;
pub mod runner;
pub mod score;
pub mod scripted;

pub use dataset::{
    DatasetError, Item, SHARED_QUESTIONS_MAX, Scoring, load_document_set, load_financebench,
    load_jsonl, load_longhealth, load_qasper, real_documents_dir, synthetic, synthetic_shared,
};
