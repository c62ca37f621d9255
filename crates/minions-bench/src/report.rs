//! Tables and the cost/accuracy plot.

use std::fmt::Write as _;

use crate::runner::{Protocol, Record};

/// Figures of one protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The protocol.
    pub protocol: Protocol,
    /// Items scored (not skipped).
    pub scored: usize,
    /// Items skipped or failed.
    pub not_scored: usize,
    /// Share answered correctly, of the scored ones.
    pub accuracy: f64,
    /// Mean remote dollars per scored item.
    pub remote_usd: f64,
    /// Mean remote tokens per scored item.
    pub remote_tokens: f64,
    /// Mean remote-only cost over mean cost (how many times cheaper).
    pub savings: Option<f64>,
    /// Median latency in seconds.
    pub median_latency: f64,
}

/// Summaries in protocol order, for the protocols with records. Savings
/// compare with the remote-only runs' measured cost when remote-only ran,
/// and with the tokenizer estimate of a remote-only call otherwise.
pub fn summarise(records: &[Record]) -> Vec<Summary> {
    let mut summaries: Vec<Summary> = Protocol::all()
        .into_iter()
        .filter_map(|protocol| {
            let mine: Vec<&Record> = records.iter().filter(|r| r.protocol == protocol).collect();
            if mine.is_empty() {
                return None;
            }
            let scored: Vec<&&Record> = mine
                .iter()
                .filter(|r| r.skipped.is_none() && r.error.is_none())
                .collect();
            let n = scored.len().max(1) as f64;
            let remote_usd = scored.iter().map(|r| r.remote_cost_usd).sum::<f64>() / n;
            let remote_only = scored.iter().map(|r| r.remote_only_cost_usd).sum::<f64>() / n;
            let mut latencies: Vec<f64> = scored.iter().map(|r| r.latency_s).collect();
            latencies.sort_by(f64::total_cmp);
            Some(Summary {
                protocol,
                scored: scored.len(),
                not_scored: mine.len() - scored.len(),
                accuracy: scored.iter().filter(|r| r.correct).count() as f64 / n,
                remote_usd,
                remote_tokens: scored
                    .iter()
                    .map(|r| r.remote_usage.total_tokens() as f64)
                    .sum::<f64>()
                    / n,
                savings: (remote_usd > 0.0 && remote_only > 0.0).then(|| remote_only / remote_usd),
                median_latency: latencies.get(latencies.len() / 2).copied().unwrap_or(0.0),
            })
        })
        .collect();
    let measured = summaries
        .iter()
        .find(|s| s.protocol == Protocol::RemoteOnly && s.scored > 0)
        .map(|s| s.remote_usd);
    if let Some(remote_only) = measured.filter(|c| *c > 0.0) {
        for summary in &mut summaries {
            summary.savings = (summary.remote_usd > 0.0).then(|| remote_only / summary.remote_usd);
        }
    }
    summaries
}

/// The markdown table, with the scripted-models warning when it applies.
pub fn markdown(summaries: &[Summary], scripted: bool, title: &str) -> String {
    let mut out = format!("### {title}\n\n");
    if scripted {
        out.push_str("> SCRIPTED MODELS: stand-ins on 127.0.0.1 answered. These figures show token flow, cost structure and overhead, not quality.\n\n");
    }
    out.push_str("| protocol | scored | skipped/failed | accuracy | remote $/question | remote tokens/question | savings vs remote-only | median latency |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for s in summaries {
        let savings = s.savings.map_or("-".to_string(), |x| format!("{x:.1}x"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1}% | ${:.5} | {:.0} | {savings} | {:.2} s |",
            s.protocol.name(),
            s.scored,
            s.not_scored,
            100.0 * s.accuracy,
            s.remote_usd,
            s.remote_tokens,
            s.median_latency
        );
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
            escape(s.protocol.name())
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
        }
    }

    #[test]
    fn summaries_and_tables() {
        let records = vec![
            record(Protocol::RemoteOnly, true, 0.01),
            record(Protocol::RemoteOnly, false, 0.01),
            record(Protocol::MINIONS, true, 0.002),
        ];
        let summaries = summarise(&records);
        assert_eq!(summaries.len(), 2);
        assert_eq!(summaries[0].accuracy, 0.5);
        assert_eq!(
            summaries[1].savings.map(|s| (s * 10.0).round() / 10.0),
            Some(5.0)
        );
        let table = markdown(&summaries, true, "t");
        assert!(
            table.contains("SCRIPTED MODELS") && table.contains("| minions | 1 | 0 | 100.0% |"),
            "{table}"
        );
        let plot = svg(&summaries, false);
        assert!(
            plot.starts_with("<svg") && plot.contains("remote-only") && plot.contains("<circle")
        );
    }
}
