//! `minions providers`.

use minions::openai::{PRESETS, Preset};
use minions::{ModelSettings, ModelSpec, chat_model, env};

use crate::cli::ProvidersArgs;
use crate::error::{CliError, code};
use crate::settings::Effective;
use crate::setup;

/// Whether a variable is set, never its value.
fn key_status(var: Option<&str>, required: bool) -> String {
    match var {
        Some(var) if env::read(var).is_some() => format!("{var} set"),
        Some(var) if required => format!("{var} MISSING"),
        Some(var) => format!("{var} not set (optional)"),
        None => "no key needed".to_string(),
    }
}

fn base_url(preset: &Preset) -> String {
    preset
        .base_url_var
        .and_then(env::read)
        .unwrap_or_else(|| preset.default_base_url.to_string())
}

#[allow(clippy::print_stdout)]
pub(crate) async fn providers(args: ProvidersArgs, settings: Effective) -> Result<u8, CliError> {
    println!("{:<12} {:<6} {:<36} base URL", "provider", "where", "key");
    for native in minions::native_providers() {
        let location = (native.location)();
        let location = match native.location_var {
            Some(var) => format!("{location} ({var})"),
            None => location,
        };
        println!(
            "{:<12} {:<6} {:<36} {location}",
            native.name,
            if native.local { "local" } else { "cloud" },
            key_status(native.key_var, native.key_var.is_some()),
        );
    }
    for preset in PRESETS {
        let url = base_url(preset);
        let url = if url.is_empty() {
            "(set it)".to_string()
        } else {
            url
        };
        println!(
            "{:<12} {:<6} {:<36} {url} ({})",
            preset.name,
            if preset.local { "local" } else { "cloud" },
            key_status(preset.key_var, preset.key_required),
            preset.base_url_var.unwrap_or("-")
        );
    }
    if !args.check {
        return Ok(code::OK);
    }
    println!();
    let mut all_ok = true;
    for (role, name) in [("local", settings.local()), ("remote", settings.remote())] {
        let spec = setup::spec(name, role)?;
        match check(&spec).await {
            Ok(message) => println!("{role:<7} {spec}: ok, {message}"),
            Err(message) => {
                all_ok = false;
                println!("{role:<7} {spec}: FAILED, {message}");
            }
        }
    }
    Ok(if all_ok { code::OK } else { code::PROVIDER })
}

/// Contacts a model's endpoint without spending tokens, through the
/// provider's own probe: reachable, key accepted, model pulled or served,
/// and the context window when the server tells.
async fn check(spec: &ModelSpec) -> Result<String, String> {
    let model = chat_model(spec, &ModelSettings::default()).map_err(|e| e.to_string())?;
    let probe = model.probe().await.map_err(|e| e.to_string())?;
    let mut said = probe.checked.join("; ");
    if said.is_empty() {
        said = "nothing to check without a paid call".into();
    }
    if let Some(window) = probe.context_tokens {
        said.push_str(&format!("; {window} tokens per request"));
    }
    Ok(said)
}
