//! The answer, the summary and the JSON output.

use minions::RunResult;
use minions::protocol::StopReason;
use serde_json::{Value, json};

/// The summary printed on stderr after the answer.
pub(crate) fn summary(result: &RunResult) -> String {
    let remote = format!(
        "remote {}: {} call(s), {} tokens ({} in, {} out), ${:.4}",
        result.remote_model,
        result.remote_calls,
        result.remote_usage.total_tokens(),
        result.remote_usage.prompt_tokens,
        result.remote_usage.completion_tokens,
        result.remote_cost.total_usd()
    );
    let local = format!(
        "local {}: {} call(s), {} tokens",
        result.local_model,
        result.local_calls,
        result.local_usage.total_tokens()
    );
    let savings = match result.savings_ratio {
        Some(ratio) => format!("{ratio:.1}x cheaper"),
        None => "no price known to compare".to_string(),
    };
    let estimate = format!(
        "remote-only estimate: {} prompt tokens, ${:.4} ({savings})",
        result.remote_only.prompt_tokens, result.remote_only.cost_usd
    );
    let timing = format!(
        "time: {:.1}s (remote {:.1}s, local {:.1}s, other {:.2}s)",
        result.timing.total.as_secs_f64(),
        result.timing.remote.as_secs_f64(),
        result.timing.local.as_secs_f64(),
        result.timing.overhead.as_secs_f64()
    );
    let mut lines = vec![remote, local, estimate, timing];
    if result.jobs.total > 0 {
        lines.insert(
            2,
            format!(
                "jobs: {} ({} answered, {} unverified, {} found nothing, {} failed)",
                result.jobs.total,
                result.jobs.answered,
                result.jobs.unverified,
                result.jobs.empty,
                result.jobs.failed
            ),
        );
    }
    match &result.stop {
        StopReason::Budget { reason } => lines.push(format!("stopped by the budget: {reason}")),
        StopReason::Fallback { reason } => {
            lines.push(format!("answer built from the local findings: {reason}"))
        }
        StopReason::Failed { error } => lines.push(format!("failed: {error}")),
        StopReason::Cancelled => lines.push("cancelled".into()),
        StopReason::Answered | StopReason::MaxRounds => {}
    }
    if result.remote_reasks > 0 {
        lines.push(format!(
            "remote replies asked for again: {}",
            result.remote_reasks
        ));
    }
    lines.join("\n")
}

/// The `--json` object: the result plus the total remote cost, and the
/// error when the run failed.
pub(crate) fn json(result: &RunResult, error: Option<&str>) -> Value {
    let mut value =
        serde_json::to_value(result).unwrap_or_else(|e| json!({"error": e.to_string()}));
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "remote_cost_usd".into(),
            json!(result.remote_cost.total_usd()),
        );
        object.insert("error".into(), json!(error));
    }
    value
}
