//! Progress on stderr, drawn from the run's events.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use minions::excerpt;
use minions::protocol::Event;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Nothing.
    Quiet,
    /// Plain lines (stderr is not a terminal, or NO_COLOR is set).
    Plain,
    /// Lines and a progress bar for local jobs.
    Bars,
}

impl Style {
    /// Bars on a terminal without NO_COLOR, plain lines otherwise.
    pub(crate) fn detect(quiet: bool) -> Self {
        if quiet {
            Style::Quiet
        } else if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
            Style::Bars
        } else {
            Style::Plain
        }
    }
}

/// Starts a task that draws events; returns where to send them and the
/// task, which ends when the sender is dropped.
pub(crate) fn start(style: Style) -> (UnboundedSender<Event>, JoinHandle<()>) {
    let (sender, receiver) = unbounded_channel();
    let handle = tokio::spawn(draw(style, receiver));
    (sender, handle)
}

fn one_line(text: &str, chars: usize) -> String {
    excerpt(
        &text.split_whitespace().collect::<Vec<_>>().join(" "),
        chars,
    )
}

async fn draw(style: Style, mut events: UnboundedReceiver<Event>) {
    let mut bar: Option<ProgressBar> = None;
    let mut failed = 0usize;
    let mut answered = 0usize;
    let mut done = 0usize;
    let mut total = 0usize;
    // Without a bar, a line at most this often keeps a long local phase
    // visibly alive on a pipe or a CI log.
    let mut last_line = std::time::Instant::now();
    let say = |bar: &Option<ProgressBar>, line: String| {
        if style == Style::Quiet {
            return;
        }
        match bar {
            Some(bar) => bar.println(line),
            #[allow(clippy::print_stderr)]
            None => eprintln!("{line}"),
        }
    };
    while let Some(event) = events.recv().await {
        match event {
            Event::RunStarted {
                protocol,
                documents,
                remote,
                local,
                ..
            } => {
                let chars: usize = documents.iter().map(|d| d.chars).sum();
                say(
                    &bar,
                    format!(
                        "{protocol}: remote {remote}, local {local}, {} document(s), {chars} characters",
                        documents.len()
                    ),
                );
            }
            Event::RemoteMessage {
                round,
                step,
                content,
                ..
            } => {
                say(
                    &bar,
                    format!(
                        "  remote {step} (round {round}): {}",
                        one_line(&content, 110)
                    ),
                );
            }
            Event::LocalMessage { round, content, .. } => {
                say(
                    &bar,
                    format!("  local (round {round}): {}", one_line(&content, 110)),
                );
            }
            Event::PlanRejected { reason, .. } => say(
                &bar,
                format!("  plan sent back: {}", one_line(&reason, 110)),
            ),
            Event::Plan { round, plan, jobs } => {
                say(
                    &bar,
                    format!(
                        "  round {round}: {} task(s), {jobs} local job(s)",
                        plan.tasks.len()
                    ),
                );
                failed = 0;
                answered = 0;
                done = 0;
                total = jobs;
                last_line = std::time::Instant::now();
                if style == Style::Bars {
                    let new_bar = ProgressBar::new(jobs as u64);
                    if let Ok(template) = ProgressStyle::with_template(
                        "  jobs [{bar:30}] {pos}/{len} {msg} {elapsed}",
                    ) {
                        new_bar.set_style(template.progress_chars("=> "));
                    }
                    bar = Some(new_bar);
                }
            }
            Event::JobFinished { answer, error, .. } => {
                if error.is_some() {
                    failed += 1;
                }
                if answer.is_some() {
                    answered += 1;
                }
                done += 1;
                if let Some(bar) = &bar {
                    bar.set_message(format!("({answered} answered, {failed} failed)"));
                    bar.inc(1);
                } else if last_line.elapsed() >= std::time::Duration::from_secs(5) && done < total {
                    last_line = std::time::Instant::now();
                    say(
                        &bar,
                        format!(
                            "  jobs: {done}/{total} done ({answered} answered, {failed} failed)"
                        ),
                    );
                }
            }
            Event::RoundFinished { round, findings } => {
                if let Some(done) = bar.take() {
                    done.finish_and_clear();
                }
                let jobs: usize = findings.tasks.iter().map(|t| t.jobs).sum();
                say(
                    &bar,
                    format!(
                        "  round {round}: {jobs} job(s) done, {answered} answered, {failed} failed"
                    ),
                );
            }
            Event::Redacted { counts, .. } => {
                let total: usize = counts.iter().map(|(_, n)| n).sum();
                say(
                    &bar,
                    format!("  redacted {total} item(s) before sending to the remote model"),
                );
            }
            Event::BudgetStop { reason } => say(&bar, format!("  budget: {reason}")),
            Event::PlanNarrowed { reason, .. } => {
                say(&bar, format!("  plan narrowed: {}", one_line(&reason, 160)))
            }
            Event::Fallback { reason } => say(
                &bar,
                format!(
                    "  no usable final answer from the remote model ({}); answering from the local findings",
                    one_line(&reason, 120)
                ),
            ),
            _ => {}
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
