//! `minions estimate`.

use minions::protocol::ReadingEstimate;
use serde_json::json;

use crate::cli::EstimateArgs;
use crate::error::{CliError, code};
use crate::settings::Effective;
use crate::setup;

#[allow(clippy::print_stdout)]
pub(crate) async fn estimate(args: EstimateArgs, settings: Effective) -> Result<u8, CliError> {
    let remote = setup::spec(
        args.remote.as_deref().unwrap_or(settings.remote()),
        "remote",
    )?;
    let pricing = setup::pricing(&settings)?;
    let documents = setup::documents(&args.context.context, &settings).await?;
    let estimate = ReadingEstimate::of(
        documents.iter().map(|d| (d.name.as_str(), d.text.as_str())),
        &remote,
        &pricing,
    );
    let rows: Vec<(String, String, usize, usize, Option<usize>)> = documents
        .iter()
        .zip(&estimate.documents)
        .map(|(d, size)| {
            (
                d.name.clone(),
                format!("{:?}", d.kind).to_lowercase(),
                size.chars,
                size.tokens,
                d.pages,
            )
        })
        .collect();
    let (chars, tokens) = (estimate.chars, estimate.tokens);
    let price = pricing.price(&remote);
    let cost = estimate.input_cost_usd;
    if args.json {
        let docs: Vec<_> = rows
            .iter()
            .map(|(name, kind, chars, tokens, pages)| json!({"name": name, "kind": kind, "chars": chars, "tokens": tokens, "pages": pages}))
            .collect();
        println!(
            "{}",
            json!({"documents": docs, "chars": chars, "tokens": tokens, "remote": remote.to_string(),
                   "remote_only_input_cost_usd": cost, "prices_taken": pricing.taken()})
        );
        return Ok(code::OK);
    }
    println!(
        "{:<40} {:>10} {:>12} {:>10} {:>6}",
        "document", "kind", "characters", "tokens", "pages"
    );
    for (name, kind, chars, tokens, pages) in &rows {
        let pages = pages.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
        println!("{name:<40} {kind:>10} {chars:>12} {tokens:>10} {pages:>6}");
    }
    println!("{:<40} {:>10} {chars:>12} {tokens:>10}", "total", "");
    match (price, cost) {
        (Some(price), Some(cost)) => println!(
            "\nReading all of it once with {remote} costs about ${cost:.4} in input tokens (${}/M, prices of {}).",
            price.input,
            pricing.taken()
        ),
        _ => println!(
            "\nNo price is known for {remote}; add one in a price file (see docs/pricing.md)."
        ),
    }
    Ok(code::OK)
}
