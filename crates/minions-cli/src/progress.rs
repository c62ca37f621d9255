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
    let mut drawer = Drawer {
        style,
        bar: None,
        failed: 0,
        answered: 0,
        done: 0,
        total: 0,
        last_line: std::time::Instant::now(),
    };
    while let Some(event) = events.recv().await {
        drawer.handle(event);
    }
    if let Some(bar) = drawer.bar {
        bar.finish_and_clear();
    }
}

/// What the progress display keeps between events: the jobs bar of the
/// round in progress and its counts.
struct Drawer {
    style: Style,
    bar: Option<ProgressBar>,
    failed: usize,
    answered: usize,
    done: usize,
    total: usize,
    /// Without a bar, a line at most this often keeps a long local phase
    /// visibly alive on a pipe or a CI log.
    last_line: std::time::Instant,
}

impl Drawer {
    /// Prints a line above the bar, or on stderr without one.
    fn say(&self, line: String) {
        if self.style == Style::Quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(line),
            #[allow(clippy::print_stderr)]
            None => eprintln!("{line}"),
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Plan { round, plan, jobs } => self.round_planned(round, plan.tasks.len(), jobs),
            Event::JobFinished { answer, error, .. } => {
                self.job_finished(answer.is_some(), error.is_some())
            }
            Event::RoundFinished { round, findings } => {
                if let Some(done) = self.bar.take() {
                    done.finish_and_clear();
                }
                let jobs: usize = findings.tasks.iter().map(|t| t.jobs).sum();
                self.say(format!(
                    "  round {round}: {jobs} job(s) done, {} answered, {} failed",
                    self.answered, self.failed
                ));
            }
            other => {
                if let Some(line) = line_for(&other) {
                    self.say(line);
                }
            }
        }
    }

    fn round_planned(&mut self, round: u32, tasks: usize, jobs: usize) {
        self.say(format!(
            "  round {round}: {tasks} task(s), {jobs} local job(s)"
        ));
        self.failed = 0;
        self.answered = 0;
        self.done = 0;
        self.total = jobs;
        self.last_line = std::time::Instant::now();
        if self.style == Style::Bars {
            let bar = ProgressBar::new(jobs as u64);
            if let Ok(template) =
                ProgressStyle::with_template("  jobs [{bar:30}] {pos}/{len} {msg} {elapsed}")
            {
                bar.set_style(template.progress_chars("=> "));
            }
            self.bar = Some(bar);
        }
    }

    fn job_finished(&mut self, answered: bool, failed: bool) {
        self.failed += usize::from(failed);
        self.answered += usize::from(answered);
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "({} answered, {} failed)",
                self.answered, self.failed
            ));
            bar.inc(1);
        } else if self.last_line.elapsed() >= std::time::Duration::from_secs(5)
            && self.done < self.total
        {
            self.last_line = std::time::Instant::now();
            self.say(format!(
                "  jobs: {}/{} done ({} answered, {} failed)",
                self.done, self.total, self.answered, self.failed
            ));
        }
    }
}

/// The line an event that keeps no count prints, if any.
fn line_for(event: &Event) -> Option<String> {
    Some(match event {
        Event::RunStarted {
            protocol,
            documents,
            remote,
            local,
            ..
        } => {
            let chars: usize = documents.iter().map(|d| d.chars).sum();
            format!(
                "{protocol}: remote {remote}, local {local}, {} document(s), {chars} characters",
                documents.len()
            )
        }
        Event::RemoteMessage {
            round,
            step,
            content,
            ..
        } => format!(
            "  remote {step} (round {round}): {}",
            one_line(content, 110)
        ),
        Event::LocalMessage { round, content, .. } => {
            format!("  local (round {round}): {}", one_line(content, 110))
        }
        Event::PlanRejected { reason, .. } => {
            format!("  plan sent back: {}", one_line(reason, 110))
        }
        Event::Redacted { counts, .. } => {
            let total: usize = counts.iter().map(|(_, n)| n).sum();
            format!("  redacted {total} item(s) before sending to the remote model")
        }
        Event::BudgetStop { reason } => format!("  budget: {reason}"),
        Event::PlanNarrowed { reason, .. } => {
            format!("  plan narrowed: {}", one_line(reason, 160))
        }
        Event::Fallback { reason } => format!(
            "  no usable final answer from the remote model ({}); answering from the local findings",
            one_line(reason, 120)
        ),
        _ => return None,
    })
}
