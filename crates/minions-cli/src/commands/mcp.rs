//! `minions mcp`.

use minions_ingest::IngestOptions;
use minions_mcp::{AllowedRoots, HttpOptions, McpSettings, MinionsMcp};
use tokio_util::sync::CancellationToken;

use minions_history::Source;

use crate::cli::McpArgs;
use crate::commands::serve::bind_address;
use crate::error::{CliError, code};
use crate::history::Recorder;
use crate::settings::Effective;
use crate::setup;

/// Serves the MCP tools until the client hangs up (stdio) or Ctrl-C (HTTP).
/// Nothing but MCP messages goes to stdout: notes go to stderr.
#[allow(clippy::print_stderr)]
pub(crate) async fn mcp(args: McpArgs, settings: Effective) -> Result<u8, CliError> {
    if args.http.is_none() && args.access.token.as_deref().is_some_and(|t| !t.is_empty()) {
        tracing::debug!("--token applies to --http only; stdio needs none");
    }
    let roots = AllowedRoots::new(&args.allow_dirs).map_err(CliError::usage)?;
    setup::fetch_local_model(&settings).await?;
    // A missing key must not stop the server at start: the client would
    // only see "Connection closed". The tools list, and `ask` says what to set.
    let (engine, unusable) = setup::engine_or_reason(&settings)?;
    if let Some(reason) = &unusable {
        eprintln!("minions mcp: runs will fail until this is fixed: {reason}");
    }
    let mut ingest = IngestOptions::default();
    if let Some(bytes) = settings.values.max_input_bytes {
        ingest.max_bytes = bytes;
    }
    // The run options were checked with the engine, so a bad value stopped
    // the server at start-up instead of failing every call.
    let server = MinionsMcp::new(McpSettings {
        engine: engine.with_observer(Recorder::open(&settings, Source::Mcp).observer(None)),
        roots: roots.clone(),
        ingest,
        unusable,
    });
    let allowed = roots.describe();
    match args.http {
        None => {
            eprintln!(
                "minions mcp: serving on stdio (local {}, remote {}; may read: {allowed})",
                settings.local(),
                settings.remote()
            );
            minions_mcp::serve_stdio(server)
                .await
                .map_err(CliError::usage)?;
        }
        Some(address) => {
            let options = HttpOptions {
                bind: bind_address(&address)?,
                token: args.access.token,
            };
            let shutdown = CancellationToken::new();
            let on_ctrl_c = shutdown.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                on_ctrl_c.cancel();
            });
            let (local, remote) = (settings.local().to_string(), settings.remote().to_string());
            minions_mcp::serve_http(server, options, shutdown, |bound| {
                eprintln!(
                    "minions mcp: http://{bound}/mcp (local {local}, remote {remote}; may read: {allowed}); Ctrl-C stops"
                );
            })
            .await
            .map_err(CliError::usage)?;
        }
    }
    Ok(code::OK)
}
