//! The Python package `minions_rs`, built from this crate with maturin.
//!
//! The Python side (`python/minions_rs`) gives the Python reference's shapes
//! (`Minion(local_client, remote_client)`, `OllamaClient(model_name=...)`)
//! and hands each run to this crate as one JSON request. Everything that can
//! be tested without Python lives here in plain Rust: turning a request into
//! models, a run spec and documents ([`request`]), and running it on a
//! shared runtime that a caller can cancel ([`session`]). The PyO3 bindings
//! (`python` feature, on in maturin builds) only move strings across.

pub mod request;
pub mod session;

#[cfg(feature = "python")]
mod python;
