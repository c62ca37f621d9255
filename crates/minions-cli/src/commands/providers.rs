//! `minions providers`.

use minions::http::{HttpClient, secret_header};
use minions::ollama::OllamaClient;
use minions::openai::{AuthStyle, PRESETS, Preset};
use minions::{ApiKey, ModelSpec, env};
use serde_json::Value;

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
    let ollama = env::read(env::OLLAMA_HOST)
        .map(|h| minions::ollama::wire::base_url_from_host(&h))
        .unwrap_or_else(|| minions::ollama::DEFAULT_BASE_URL.to_string());
    println!(
        "{:<12} {:<6} {:<36} {ollama} ({})",
        "ollama",
        "local",
        key_status(None, false),
        env::OLLAMA_HOST
    );
    let anthropic = env::read(env::ANTHROPIC_BASE_URL)
        .unwrap_or_else(|| minions::anthropic::DEFAULT_BASE_URL.to_string());
    println!(
        "{:<12} {:<6} {:<36} {anthropic} ({})",
        "anthropic",
        "cloud",
        key_status(Some(env::ANTHROPIC_API_KEY), true),
        env::ANTHROPIC_BASE_URL
    );
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

/// Contacts a model's endpoint without spending tokens: Ollama's model list
/// (is the model pulled?), or the `/models` list of the others.
async fn check(spec: &ModelSpec) -> Result<String, String> {
    match spec.provider.as_str() {
        "ollama" => {
            let client = OllamaClient::from_env(spec.model.clone()).map_err(|e| e.to_string())?;
            let installed = client.list_models().await.map_err(|e| e.to_string())?;
            let wanted = if spec.model.contains(':') {
                spec.model.clone()
            } else {
                format!("{}:latest", spec.model)
            };
            if installed.iter().any(|m| *m == wanted || *m == spec.model) {
                Ok(format!("{} is pulled ({})", spec.model, client.base_url()))
            } else {
                Err(format!(
                    "{} is not pulled at {}: run `ollama pull {}`",
                    spec.model,
                    client.base_url(),
                    spec.model
                ))
            }
        }
        "anthropic" => {
            let key =
                ApiKey::from_env(env::ANTHROPIC_API_KEY).ok_or("ANTHROPIC_API_KEY is not set")?;
            let base = env::read(env::ANTHROPIC_BASE_URL)
                .unwrap_or_else(|| minions::anthropic::DEFAULT_BASE_URL.into());
            let url = format!("{}/v1/models", base.trim_end_matches('/'));
            list_models(&url, "anthropic", &[("x-api-key", &key, "")]).await
        }
        provider => {
            let preset = minions::openai::preset(provider).ok_or_else(|| {
                format!("unknown provider `{provider}`; `minions providers` lists them")
            })?;
            let key = preset.key_var.and_then(ApiKey::from_env);
            if preset.key_required && key.is_none() {
                return Err(format!(
                    "{} is not set",
                    preset.key_var.unwrap_or("the key")
                ));
            }
            let base = base_url(preset);
            if base.is_empty() {
                return Err(format!(
                    "{} is not set",
                    preset.base_url_var.unwrap_or("the base URL")
                ));
            }
            let url = if preset.name == "azure" {
                let version = env::read(env::AZURE_OPENAI_API_VERSION)
                    .unwrap_or_else(|| minions::openai::AZURE_DEFAULT_API_VERSION.into());
                format!(
                    "{}/openai/models?api-version={version}",
                    base.trim_end_matches('/')
                )
            } else {
                format!("{}/models", base.trim_end_matches('/'))
            };
            let headers: Vec<(&str, &ApiKey, &str)> = match (&key, preset.auth) {
                (Some(key), AuthStyle::Bearer) => vec![("authorization", key, "Bearer ")],
                (Some(key), AuthStyle::AzureApiKey) => vec![("api-key", key, "")],
                (None, _) => Vec::new(),
            };
            list_models(&url, preset.name, &headers).await
        }
    }
}

async fn list_models(
    url: &str,
    provider: &str,
    headers: &[(&str, &ApiKey, &str)],
) -> Result<String, String> {
    let client = HttpClient::builder(provider)
        .retry(minions::RetryPolicy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut request = client.reqwest().get(url);
    for (name, key, prefix) in headers {
        request = request.header(
            *name,
            secret_header(key, prefix).map_err(|e| e.to_string())?,
        );
    }
    if provider == "anthropic" {
        request = request.header("anthropic-version", minions::anthropic::API_VERSION);
    }
    let request = request.build().map_err(|e| e.to_string())?;
    let body: Value = client.send_json(request).await.map_err(|e| e.to_string())?;
    let count = body
        .get("data")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    Ok(format!(
        "{count} model(s) listed at {}",
        minions_http_url(url)
    ))
}

fn minions_http_url(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}
