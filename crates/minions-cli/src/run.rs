//! Running one question with progress and Ctrl-C handling.

use minions::protocol::History;
use minions::{ContextDocument, Transcript, run_minion, run_minions};

use crate::cli::ProtocolChoice;
use crate::error::CliError;
use crate::progress::{self, Style};
use crate::settings::Effective;
use crate::setup::{self, Models};

/// Runs one question. Ctrl-C drops the run (which cancels every call in
/// flight) and returns an "interrupted" error.
pub(crate) async fn run_once(
    models: &Models,
    settings: &Effective,
    protocol: ProtocolChoice,
    task: &str,
    context: &[ContextDocument],
    history: &History,
    style: Style,
) -> Result<Transcript, CliError> {
    let (events, drawer) = progress::start(style);
    let run = async {
        match protocol {
            ProtocolChoice::Minion => {
                let mut options = setup::minion_options(settings)?;
                options.common.history = history.clone();
                Ok(run_minion(
                    models.remote.as_ref(),
                    models.local.as_ref(),
                    task,
                    context,
                    &options,
                    Some(events),
                )
                .await?)
            }
            ProtocolChoice::Minions => {
                let mut options = setup::minions_options(settings, models.embedder.clone())?;
                options.common.history = history.clone();
                Ok(run_minions(
                    models.remote.as_ref(),
                    models.local.as_ref(),
                    task,
                    context,
                    &options,
                    Some(events),
                )
                .await?)
            }
        }
    };
    let outcome = tokio::select! {
        outcome = run => outcome,
        _ = tokio::signal::ctrl_c() => Err(CliError::interrupted()),
    };
    // The run's event sender is gone now, so the drawer finishes.
    let _ = drawer.await;
    outcome
}
