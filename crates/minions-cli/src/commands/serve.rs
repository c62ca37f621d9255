//! `minions serve`.

use minions_server::{ServerConfig, ServerModels};

use crate::cli::ServeArgs;
use crate::error::{CliError, code};
use crate::settings::Effective;
use crate::setup;

#[allow(clippy::print_stderr)]
pub(crate) async fn serve(args: ServeArgs, settings: Effective) -> Result<u8, CliError> {
    let config = ServerConfig {
        bind: args.bind,
        token: args.token.filter(|t| !t.trim().is_empty()),
        max_body_bytes: args.max_body_bytes,
        max_concurrent_runs: args.max_runs.max(1),
    };
    config.check().map_err(CliError::usage)?;
    let models = setup::models(&settings)?;
    let server_models = ServerModels {
        local: models.local,
        remote: models.remote,
        pricing: setup::pricing(&settings)?,
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
