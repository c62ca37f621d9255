//! Where `cargo xtask models` leaves the real models, for the tests that
//! run them.

use std::path::PathBuf;

/// SmolLM2-135M-Instruct's GGUF (`SMOLLM2_GGUF`, or where `cargo xtask
/// models` puts it), or `None` when it is missing. When
/// `MINIONS_REQUIRE_REAL_MODELS=1` (as in CI) a missing model is a panic
/// that says how to get it, so a test cannot pass by skipping.
pub fn smollm2_gguf() -> Option<PathBuf> {
    let path = std::env::var_os("SMOLLM2_GGUF")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/real-models/weights/SmolLM2-135M-Instruct.Q4_1.gguf")
        });
    if let Ok(path) = path.canonicalize() {
        return Some(path);
    }
    assert!(
        std::env::var("MINIONS_REQUIRE_REAL_MODELS").as_deref() != Ok("1"),
        "MINIONS_REQUIRE_REAL_MODELS=1 but {} is missing: run `cargo xtask models`",
        path.display()
    );
    None
}
