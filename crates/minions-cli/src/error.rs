//! Errors as one clear line and an exit code.

use minions::protocol::ProtocolError;
use minions::{Error, ErrorKind};

/// Exit codes, as documented in the README.
pub(crate) mod code {
    /// Answered.
    pub(crate) const OK: u8 = 0;
    /// Bad usage or input: unknown provider, missing key, unreadable or empty context.
    pub(crate) const USAGE: u8 = 2;
    /// A provider failed after retries.
    pub(crate) const PROVIDER: u8 = 3;
    /// A budget cap stopped the run.
    pub(crate) const BUDGET: u8 = 4;
    /// Interrupted (Ctrl-C).
    pub(crate) const INTERRUPTED: u8 = 130;
}

/// A failure of the command: what to print, and the exit code.
#[derive(Debug)]
pub(crate) struct CliError {
    pub code: u8,
    pub message: String,
    /// More detail, shown with -v.
    pub detail: Option<String>,
}

impl CliError {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: code::USAGE,
            message: message.into(),
            detail: None,
        }
    }
}

/// The exit code for a model error: configuration and requests that cannot
/// succeed are the user's to fix (2); everything else is the provider (3).
fn model_code(error: &Error) -> u8 {
    match error.kind() {
        ErrorKind::Config | ErrorKind::InvalidRequest => code::USAGE,
        ErrorKind::Cancelled => code::INTERRUPTED,
        _ => code::PROVIDER,
    }
}

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        Self {
            code: model_code(&error),
            message: error.to_string(),
            detail: Some(format!("{error:?}")),
        }
    }
}

impl From<ProtocolError> for CliError {
    fn from(error: ProtocolError) -> Self {
        let code = match &error {
            ProtocolError::EmptyContext
            | ProtocolError::EmptyTask
            | ProtocolError::ContextTooLarge { .. } => code::USAGE,
            ProtocolError::Remote(e)
            | ProtocolError::Local(e)
            | ProtocolError::LocalUnreachable(e)
            | ProtocolError::Preflight { error: e, .. } => model_code(e),
            ProtocolError::Cancelled => code::INTERRUPTED,
            _ => code::PROVIDER,
        };
        let message = match &error {
            ProtocolError::Cancelled => "interrupted".to_string(),
            other => other.to_string(),
        };
        Self {
            code,
            message,
            detail: Some(format!("{error:?}")),
        }
    }
}

impl From<minions_ingest::IngestError> for CliError {
    fn from(error: minions_ingest::IngestError) -> Self {
        Self::usage(error.to_string())
    }
}
