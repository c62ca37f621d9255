//! Running one question with progress and Ctrl-C handling.

use std::sync::Arc;

use minions::protocol::{CancellationToken, History, RunFailure, StopReason};
use minions::{ContextDocument, Engine, ProtocolKind, RunOptions, Transcript};

use crate::error::{CliError, code};
use crate::history::Recorder;
use crate::progress::{self, Style};

/// How a run ended: always a transcript (what it did and spent), and the
/// error when it ended without an answer.
pub(crate) struct Ended {
    pub transcript: Transcript,
    pub error: Option<CliError>,
}

impl Ended {
    /// The exit code, as documented: 0 answered (a fallback answer too), 4
    /// stopped by a budget, the error's code otherwise.
    pub(crate) fn code(&self) -> u8 {
        match (&self.error, &self.transcript.result.stop) {
            (Some(error), _) => error.code,
            (None, StopReason::Budget { .. }) => code::BUDGET,
            (None, _) => code::OK,
        }
    }
}

/// One question to run, and what surrounds it.
pub(crate) struct Question<'a> {
    pub protocol: ProtocolKind,
    pub task: &'a str,
    pub context: &'a [ContextDocument],
    /// The conversation so far (chat's follow-ups).
    pub history: &'a History,
    pub style: Style,
    /// Where the transcript will be written, for the run history.
    pub transcript: Option<&'a std::path::Path>,
}

/// Runs one question. Ctrl-C cancels the run through its token, so the run
/// still reports what it spent; it then ends with exit code 130. However it
/// ends, the run is recorded in the run history.
pub(crate) async fn run_once(
    engine: &Engine,
    recorder: &Arc<Recorder>,
    question: Question<'_>,
) -> Result<Ended, CliError> {
    let Question {
        protocol,
        task,
        context,
        history,
        style,
        transcript,
    } = question;
    let cancel = CancellationToken::new();
    let spec = engine
        .spec(RunOptions::default().protocol(protocol))
        .map_err(|e| CliError::usage(e.to_string()))?
        .with_history(history.clone())
        .with_cancel(cancel.clone());
    let engine = engine
        .clone()
        .with_observer(recorder.observer(transcript.map(std::path::Path::to_path_buf)));
    let (events, drawer) = progress::start(style);
    let run = engine.run(task, context, &spec, Some(events));
    tokio::pin!(run);
    let outcome = tokio::select! {
        outcome = &mut run => outcome,
        _ = tokio::signal::ctrl_c() => {
            cancel.cancel();
            run.await
        }
    };
    // The run's event sender is gone now, so the drawer finishes.
    let _ = drawer.await;
    Ok(match outcome {
        Ok(transcript) => Ended {
            transcript,
            error: None,
        },
        Err(RunFailure { error, transcript }) => Ended {
            transcript: *transcript,
            error: Some(error.into()),
        },
    })
}
