//! The TLS crypto provider.

/// Installs ring as rustls' process-wide crypto provider.
///
/// reqwest is built with `rustls-no-provider` so that we ship ring (small,
/// quick to build) instead of aws-lc (a large C build). reqwest then takes the
/// process default, which must exist before the first client is built.
/// Idempotent: if the host application installed a provider first, that one
/// stays.
pub fn install_crypto_provider() {
    // `Err` only means a provider is already installed, which is the goal.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
