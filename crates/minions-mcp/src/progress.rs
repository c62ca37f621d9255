//! A run's events as MCP progress notifications: one short line per event
//! an agent (or its user) would want to see while it waits.

use minions::protocol::Event;

/// The progress line for an event, or `None` for events that say nothing
/// new (usage ticks, job starts, the answer itself).
pub(crate) fn describe(event: &Event) -> Option<String> {
    Some(match event {
        Event::RunStarted {
            protocol,
            documents,
            remote,
            local,
            ..
        } => format!(
            "{protocol}: {} document(s), remote {remote}, local {local}",
            documents.len()
        ),
        Event::RemoteMessage { round, step, .. } => format!("round {round}: remote {step}"),
        Event::LocalMessage { round, .. } => format!("round {round}: the local model answered"),
        Event::Plan { round, jobs, .. } => format!("round {round}: {jobs} local job(s) planned"),
        Event::PlanRejected { round, reason } => format!("round {round}: plan refused: {reason}"),
        Event::PlanNarrowed { round, reason } => format!("round {round}: {reason}"),
        Event::JobFinished {
            round, job, error, ..
        } => match error {
            Some(error) => format!("round {round}: job {job} failed: {error}"),
            None => format!("round {round}: job {job} done"),
        },
        Event::RoundFinished { round, .. } => format!("round {round} finished"),
        Event::BudgetStop { reason } => format!("stopped by the budget: {reason}"),
        Event::Fallback { reason } => format!("answering from the local findings: {reason}"),
        Event::Failed { error } => format!("failed: {error}"),
        _ => return None,
    })
}
