//! `minions serve`.

use std::net::{SocketAddr, ToSocketAddrs};

use minions_history::Source;
use minions_server::{RunLimits, ServerConfig, ServerModels};

use crate::cli::ServeArgs;
use crate::error::{CliError, code};
use crate::history::Recorder;
use crate::settings::Effective;
use crate::setup;

#[allow(clippy::print_stderr)]
pub(crate) async fn serve(args: ServeArgs, settings: Effective) -> Result<u8, CliError> {
    let config = ServerConfig {
        bind: bind_address(&args.bind)?,
        token: args.access.token.filter(|t| !t.trim().is_empty()),
        max_body_bytes: args.max_body_bytes,
        runs: RunLimits {
            concurrent: args.max_runs.max(1),
            queue_depth: args.queue_depth,
            queue_wait: std::time::Duration::from_secs(args.queue_wait),
        },
    };
    config.check().map_err(CliError::usage)?;
    setup::fetch_local_model(&settings).await?;
    let engine = setup::engine(&settings)?
        .with_observer(Recorder::open(&settings, Source::Server).observer(None));
    let server_models = ServerModels {
        engine,
        history: crate::history::path_from(settings.values.history.as_deref()),
    };
    eprintln!(
        "minions serve: http://{} (local {}, remote {}); Ctrl-C stops",
        config.bind,
        settings.local(),
        settings.remote()
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("stopping: cancelling runs in progress");
    };
    minions_server::serve(config, server_models, shutdown)
        .await
        .map_err(|e| CliError::usage(format!("cannot serve: {e}")))?;
    Ok(code::OK)
}

/// `HOST:PORT` to an address; a host name such as `localhost` is looked
/// up, and a loopback IPv4 address is preferred when it has several.
pub(crate) fn bind_address(text: &str) -> Result<SocketAddr, CliError> {
    let addresses: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| {
            CliError::usage(format!(
                "--bind {text}: {e}; give HOST:PORT, for example 127.0.0.1:8080 or localhost:8080"
            ))
        })?
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4() && a.ip().is_loopback())
        .or_else(|| addresses.first())
        .copied()
        .ok_or_else(|| CliError::usage(format!("--bind {text}: the name has no address")))
}
