//! Tables and the cost/accuracy plot.

use std::fmt::Write as _;

use crate::runner::{Protocol, Record};

/// Figures of one protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The protocol.
    pub protocol: Protocol,
    /// The row's name: the protocol's, or `remote-only (prompt cache)`.
    pub label: String,
    /// Items scored: every run that was made (failures count as wrong).
    pub scored: usize,
    /// Items not run (skipped: the context exceeds the remote window).
    pub not_scored: usize,
    /// Runs that ended without an answer they stand by (failed, stopped,
    /// a fallback filled in, or empty); counted as wrong.
    pub no_answer: usize,
    /// Share answered correctly, of the scored ones.
    pub accuracy: f64,
    /// The 95% Wilson score interval of the accuracy.
    pub interval: (f64, f64),
    /// Right answers over scored runs, on questions the documents answer.
    pub answerable: (usize, usize),
    /// Right answers over scored runs, on questions they do not answer.
    pub unanswerable: (usize, usize),
    /// Mean remote dollars per scored item.
    pub remote_usd: f64,
    /// Mean remote tokens per scored item.
    pub remote_tokens: f64,
    /// Mean local tokens per scored item.
    pub local_tokens: f64,
    /// Remote-only's cost over this row's cost (how many times cheaper),
    /// against remote-only read cold.
    pub savings: Option<f64>,
    /// The same against remote-only with its prompt cache.
    pub savings_cached: Option<f64>,
    /// Median latency in seconds.
    pub median_latency: f64,
    /// Mean latency in seconds.
    pub mean_latency: f64,
}

/// The 95% Wilson score interval for `right` successes in `n` trials.
pub fn wilson(right: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (z, n_f) = (1.96f64, n as f64);
    let p = right as f64 / n_f;
    let denominator = 1.0 + z * z / n_f;
    let centre = (p + z * z / (2.0 * n_f)) / denominator;
    let half = z * (p * (1.0 - p) / n_f + z * z / (4.0 * n_f * n_f)).sqrt() / denominator;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

fn summary(protocol: Protocol, label: String, mine: &[&Record], costs: &[f64]) -> Summary {
    let scored: Vec<(&Record, f64)> = mine
        .iter()
        .zip(costs)
        .filter(|(r, _)| r.skipped.is_none())
        .map(|(r, c)| (*r, *c))
        .collect();
    let n = scored.len().max(1) as f64;
    let right = scored.iter().filter(|(r, _)| r.correct).count();
    let split = |unanswerable: bool| {
        let of: Vec<_> = scored
            .iter()
            .filter(|(r, _)| (r.kind == "not_in_document") == unanswerable)
            .collect();
        (of.iter().filter(|(r, _)| r.correct).count(), of.len())
    };
    let mut latencies: Vec<f64> = scored.iter().map(|(r, _)| r.latency_s).collect();
    latencies.sort_by(f64::total_cmp);
    Summary {
        protocol,
        label,
        scored: scored.len(),
        not_scored: mine.len() - scored.len(),
        no_answer: scored.iter().filter(|(r, _)| r.no_answer).count(),
        accuracy: right as f64 / n,
        interval: wilson(right, scored.len()),
        answerable: split(false),
        unanswerable: split(true),
        remote_usd: scored.iter().map(|(_, c)| c).sum::<f64>() / n,
        remote_tokens: scored
            .iter()
            .map(|(r, _)| r.remote_usage.total_tokens() as f64)
            .sum::<f64>()
            / n,
        local_tokens: scored
            .iter()
            .map(|(r, _)| r.local_usage.total_tokens() as f64)
            .sum::<f64>()
            / n,
        savings: None,
        savings_cached: None,
        median_latency: latencies.get(latencies.len() / 2).copied().unwrap_or(0.0),
        mean_latency: latencies.iter().sum::<f64>() / latencies.len().max(1) as f64,
    }
}

/// Remote-only's cost per record when several questions ask about the same
/// documents: the first (in item order) reads them cold, the others from
/// the prompt cache.
fn cached_costs(records: &[&Record]) -> Vec<f64> {
    let mut first: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for record in records.iter().filter(|r| r.skipped.is_none()) {
        let entry = first
            .entry(record.document.as_str())
            .or_insert(&record.item);
        if record.item.as_str() < *entry {
            *entry = &record.item;
        }
    }
    records
        .iter()
        .map(|r| {
            if first.get(r.document.as_str()) == Some(&r.item.as_str()) {
                r.remote_cost_usd
            } else {
                r.cached_cost_usd.unwrap_or(r.remote_cost_usd)
            }
        })
        .collect()
}

/// Summaries in protocol order, for the protocols with records, and a
/// `remote-only (prompt cache)` row when remote-only answered several
/// questions on the same documents. Savings compare with the remote-only
/// runs' measured cost when remote-only ran, and with the tokenizer
/// estimate of a remote-only call otherwise.
pub fn summarise(records: &[Record]) -> Vec<Summary> {
    let mut summaries = Vec::new();
    for protocol in Protocol::all() {
        let mine: Vec<&Record> = records.iter().filter(|r| r.protocol == protocol).collect();
        if mine.is_empty() {
            continue;
        }
        let costs: Vec<f64> = mine.iter().map(|r| r.remote_cost_usd).collect();
        let mut row = summary(protocol, protocol.name().to_string(), &mine, &costs);
        let scored: Vec<&&Record> = mine.iter().filter(|r| r.skipped.is_none()).collect();
        let estimate =
            scored.iter().map(|r| r.remote_only_cost_usd).sum::<f64>() / scored.len().max(1) as f64;
        row.savings = (row.remote_usd > 0.0 && estimate > 0.0).then(|| estimate / row.remote_usd);
        summaries.push(row);
        let cached = cached_costs(&mine);
        if protocol == Protocol::RemoteOnly
            && mine.iter().any(|r| r.cached_cost_usd.is_some())
            && cached != costs
        {
            summaries.push(summary(
                protocol,
                "remote-only (prompt cache)".into(),
                &mine,
                &cached,
            ));
        }
    }
    let measured = |label: &str| {
        summaries
            .iter()
            .find(|s| s.label == label && s.scored > 0)
            .map(|s| s.remote_usd)
            .filter(|c| *c > 0.0)
    };
    let (cold, warm) = (
        measured("remote-only"),
        measured("remote-only (prompt cache)"),
    );
    for summary in &mut summaries {
        if summary.remote_usd > 0.0 {
            if let Some(cold) = cold {
                summary.savings = Some(cold / summary.remote_usd);
            }
            summary.savings_cached = warm.map(|warm| warm / summary.remote_usd);
        }
    }
    summaries
}

fn ratio(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |x| format!("{x:.1}x"))
}

fn share((right, of): (usize, usize)) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{right}/{of}")
    }
}

/// The markdown table, with the scripted-models warning when it applies.
pub fn markdown(summaries: &[Summary], scripted: bool, title: &str) -> String {
    let mut out = format!("### {title}\n\n");
    if scripted {
        out.push_str("> SCRIPTED MODELS: stand-ins on 127.0.0.1 answered. These figures show token flow, cost structure and overhead, not quality.\n\n");
    }
    out.push_str("| protocol | runs | skipped | no real answer | accuracy (95% CI) | answerable | not in document | remote $/question | remote tokens/question | local tokens/question | savings vs remote-only (cold / cached) | median / mean latency |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for s in summaries {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.1}% ({:.0}-{:.0}%) | {} | {} | ${:.5} | {:.0} | {:.0} | {} / {} | {:.1} / {:.1} s |",
            s.label,
            s.scored,
            s.not_scored,
            s.no_answer,
            100.0 * s.accuracy,
            100.0 * s.interval.0,
            100.0 * s.interval.1,
            share(s.answerable),
            share(s.unanswerable),
            s.remote_usd,
            s.remote_tokens,
            s.local_tokens,
            ratio(s.savings),
            ratio(s.savings_cached),
            s.median_latency,
            s.mean_latency,
        );
    }
    out
}

/// Per document, each protocol's right answers (runs without a real answer
/// count as wrong) and remote tokens per question, with those tokens as a
/// share of remote-only's on the same document: how the saving grows with
/// the document's size.
pub fn by_document(records: &[Record]) -> String {
    let mut documents: Vec<&str> = Vec::new();
    for record in records {
        if !documents.contains(&record.document.as_str()) {
            documents.push(&record.document);
        }
    }
    let protocols: Vec<Protocol> = Protocol::all()
        .into_iter()
        .filter(|p| records.iter().any(|r| r.protocol == *p))
        .collect();
    let mut out = String::from("| document |");
    for protocol in &protocols {
        let _ = write!(out, " {} |", protocol.name());
    }
    out.push_str("\n| --- |");
    out.push_str(&" --- |".repeat(protocols.len()));
    out.push('\n');
    for document in documents {
        let mine = |protocol: Protocol| -> Vec<&Record> {
            records
                .iter()
                .filter(|r| r.document == document && r.protocol == protocol && r.skipped.is_none())
                .collect()
        };
        let tokens = |rows: &[&Record]| -> f64 {
            rows.iter()
                .map(|r| (r.remote_usage.prompt_tokens + r.remote_usage.completion_tokens) as f64)
                .sum::<f64>()
                / rows.len().max(1) as f64
        };
        let remote_only = tokens(&mine(Protocol::RemoteOnly));
        let _ = write!(out, "| {document} |");
        for protocol in &protocols {
            let rows = mine(*protocol);
            if rows.is_empty() {
                out.push_str(" - |");
                continue;
            }
            let right = rows.iter().filter(|r| r.correct && !r.no_answer).count();
            let spent = tokens(&rows);
            let share = if *protocol != Protocol::RemoteOnly && remote_only > 0.0 && spent > 0.0 {
                format!(" ({:.0}%)", 100.0 * spent / remote_only)
            } else {
                String::new()
            };
            let _ = write!(out, " {right}/{}, {spent:.0} tok{share} |", rows.len());
        }
        out.push('\n');
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG scatter plot of remote cost per question (x) against accuracy
/// (y). Written by hand: plotters lays out text with a font backend, which
/// a headless build machine does not have.
pub fn svg(summaries: &[Summary], scripted: bool) -> String {
    let (width, height, left, bottom, top, right) = (640.0, 420.0, 70.0, 60.0, 40.0, 30.0);
    let max_cost = summaries
        .iter()
        .map(|s| s.remote_usd)
        .fold(0.0f64, f64::max)
        .max(1e-6)
        * 1.15;
    let x = |cost: f64| left + (width - left - right) * cost / max_cost;
    let y = |accuracy: f64| height - bottom - (height - bottom - top) * accuracy;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">Accuracy against remote cost per question{}</text>",
        width / 2.0,
        if scripted { " (SCRIPTED MODELS)" } else { "" }
    );
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>",
        height - bottom,
        width - right,
        height - bottom
    );
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"black\"/>",
        height - bottom
    );
    for tick in 0..=4 {
        let accuracy = tick as f64 / 4.0;
        let cost = max_cost * tick as f64 / 4.0;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.0}%</text>",
            left - 6.0,
            y(accuracy) + 4.0,
            accuracy * 100.0
        );
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">${cost:.4}</text>",
            x(cost),
            height - bottom + 18.0
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">remote $ per question</text>",
        width / 2.0,
        height - 12.0
    );
    let colours = ["#d1495b", "#66a182", "#2e4057", "#edae49"];
    for (i, s) in summaries.iter().enumerate() {
        let (px, py) = (x(s.remote_usd), y(s.accuracy));
        let colour = colours[i % colours.len()];
        let _ = writeln!(
            out,
            "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"7\" fill=\"{colour}\"/>"
        );
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            px + 10.0,
            py - 8.0,
            escape(&s.label)
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use minions::Usage;

    use super::*;

    fn record(protocol: Protocol, correct: bool, cost: f64) -> Record {
        Record {
            item: "i".into(),
            kind: "k".into(),
            protocol,
            answer: String::new(),
            correct,
            skipped: None,
            error: None,
            remote_usage: Usage::new(100, 10),
            local_usage: Usage::default(),
            remote_cost_usd: cost,
            remote_only_cost_usd: 0.01,
            latency_s: 1.0,
            scripted: false,
            no_answer: false,
            stop: "answered".into(),
            document: "d".into(),
            cached_cost_usd: Some(cost / 2.0),
        }
    }

    #[test]
    fn per_document_rows_give_tokens_as_a_share_of_remote_only() {
        let mut rows = vec![
            record(Protocol::RemoteOnly, true, 0.02),
            record(Protocol::Run(minions::ProtocolKind::Minions), true, 0.01),
            record(Protocol::Run(minions::ProtocolKind::Minions), false, 0.01),
        ];
        rows[0].remote_usage = minions::Usage::new(9000, 0);
        rows[1].remote_usage = minions::Usage::new(2000, 0);
        rows[2].remote_usage = minions::Usage::new(1000, 0);
        rows[2].document = "e".into();
        let table = by_document(&rows);
        assert!(
            table.starts_with("| document | remote-only | minions |"),
            "{table}"
        );
        assert!(
            table.contains("| d | 1/1, 9000 tok | 1/1, 2000 tok (22%) |"),
            "{table}"
        );
        // No remote-only run on `e`: no share to give.
        assert!(table.contains("| e | - | 0/1, 1000 tok |"), "{table}");
    }

    #[test]
    fn wilson_intervals() {
        let (low, high) = wilson(8, 10);
        assert!(
            (low - 0.490).abs() < 0.01 && (high - 0.943).abs() < 0.01,
            "{low} {high}"
        );
        assert_eq!(wilson(0, 0), (0.0, 1.0));
        let (low, high) = wilson(10, 10);
        assert!(high > 0.999 && low > 0.69);
    }

    #[test]
    fn runs_without_a_real_answer_count_as_wrong() {
        let mut failed = record(Protocol::MINION, true, 0.001);
        failed.correct = false;
        failed.no_answer = true;
        failed.error = Some("boom".into());
        let summaries = summarise(&[failed, record(Protocol::MINION, true, 0.001)]);
        assert_eq!((summaries[0].scored, summaries[0].no_answer), (2, 1));
        assert_eq!(summaries[0].accuracy, 0.5);
    }

    #[test]
    fn summaries_and_tables() {
        let records = vec![
            record(Protocol::RemoteOnly, true, 0.01),
            record(Protocol::RemoteOnly, false, 0.01),
            record(Protocol::MINIONS, true, 0.002),
        ];
        let mut records = records;
        records[1].item = "j".into();
        let summaries = summarise(&records);
        assert_eq!(summaries.len(), 3, "{summaries:?}");
        assert_eq!(summaries[0].accuracy, 0.5);
        // The second question on the same document reads it from cache.
        assert_eq!(summaries[1].label, "remote-only (prompt cache)");
        assert!((summaries[1].remote_usd - 0.0075).abs() < 1e-9);
        assert_eq!(
            summaries[2].savings.map(|s| (s * 10.0).round() / 10.0),
            Some(5.0)
        );
        assert_eq!(
            summaries[2]
                .savings_cached
                .map(|s| (s * 100.0).round() / 100.0),
            Some(3.75)
        );
        let table = markdown(&summaries, true, "t");
        assert!(
            table.contains("SCRIPTED MODELS")
                && table.contains("| minions | 1 | 0 | 0 | 100.0% (21-100%) |"),
            "{table}"
        );
        let plot = svg(&summaries, false);
        assert!(
            plot.starts_with("<svg") && plot.contains("remote-only") && plot.contains("<circle")
        );
    }
}
