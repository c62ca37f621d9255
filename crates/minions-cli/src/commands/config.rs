//! `minions config`.

use crate::cli::ConfigArgs;
use crate::error::{CliError, code};
use crate::settings::{Effective, Origin};

fn key_line(spec: &str) -> String {
    let provider = spec.split('/').next().unwrap_or_default();
    match minions::key_var(provider) {
        None => "no key needed".into(),
        Some(var) if minions::env::read(var).is_some() => format!("set (from {var}; value hidden)"),
        Some(var) => format!("not set ({var})"),
    }
}

#[allow(clippy::print_stdout)]
pub(crate) fn show(_args: ConfigArgs, settings: Effective) -> Result<u8, CliError> {
    match &settings.file {
        Some(path) => println!("config file: {}", path.display()),
        None => {
            println!("config file: none (looked for ./minions.toml and the user config directory)")
        }
    }
    let values = serde_json::to_value(&settings.values).unwrap_or_default();
    let defaults = [
        ("local", "ollama/llama3.2"),
        ("remote", "openai/gpt-4o"),
        ("protocol", "minions"),
    ];
    println!("{:<20} {:<32} from", "setting", "value");
    for (key, origin) in &settings.origins {
        let value = match values.get(key.as_str()) {
            Some(serde_json::Value::Null) | None => {
                match (origin, defaults.iter().find(|(k, _)| k == key)) {
                    (Origin::Default, Some((_, default))) => (*default).to_string(),
                    _ => "(protocol default)".to_string(),
                }
            }
            Some(serde_json::Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        };
        println!("{key:<20} {value:<32} {origin}");
    }
    println!("{:<20} {}", "local key", key_line(settings.local()));
    println!("{:<20} {}", "remote key", key_line(settings.remote()));
    Ok(code::OK)
}
