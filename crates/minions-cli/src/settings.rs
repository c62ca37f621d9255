//! Settings in the usual precedence: flags > environment > config file >
//! defaults, with where each value came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::{ModelArgs, ProtocolChoice, Retrieval, RunArgs};
use crate::error::CliError;

/// Every setting; `None` means "not set at this layer".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Settings {
    pub local: Option<String>,
    pub remote: Option<String>,
    pub protocol: Option<ProtocolChoice>,
    pub max_rounds: Option<u32>,
    pub local_concurrency: Option<usize>,
    pub max_jobs_per_round: Option<usize>,
    pub chunk_size: Option<usize>,
    pub retrieval: Option<Retrieval>,
    pub embedding_model: Option<String>,
    pub budget_usd: Option<f64>,
    pub budget_tokens: Option<u64>,
    pub privacy: Option<bool>,
    pub redact: Option<Vec<String>>,
    pub local_endpoints: Option<Vec<String>>,
    pub remote_temperature: Option<f32>,
    pub remote_max_tokens: Option<u32>,
    pub local_temperature: Option<f32>,
    pub local_max_tokens: Option<u32>,
    pub pricing: Option<String>,
    pub max_input_bytes: Option<u64>,
}

/// The keys a config file may use (the field names above).
const KEYS: &[&str] = &[
    "local",
    "remote",
    "protocol",
    "max_rounds",
    "local_concurrency",
    "max_jobs_per_round",
    "chunk_size",
    "retrieval",
    "embedding_model",
    "budget_usd",
    "budget_tokens",
    "privacy",
    "redact",
    "local_endpoints",
    "remote_temperature",
    "remote_max_tokens",
    "local_temperature",
    "local_max_tokens",
    "pricing",
    "max_input_bytes",
];

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    Flag,
    Env(String),
    File(PathBuf),
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => f.write_str("command line"),
            Origin::Env(var) => write!(f, "environment ({var})"),
            Origin::File(path) => write!(f, "config file ({})", path.display()),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// The settings in force, with their origins.
#[derive(Debug, Clone)]
pub(crate) struct Effective {
    pub values: Settings,
    pub origins: BTreeMap<&'static str, Origin>,
    pub file: Option<PathBuf>,
}

impl Effective {
    pub(crate) fn local(&self) -> &str {
        self.values.local.as_deref().unwrap_or("ollama/llama3.2")
    }

    pub(crate) fn remote(&self) -> &str {
        self.values.remote.as_deref().unwrap_or("openai/gpt-4o")
    }

    pub(crate) fn protocol(&self) -> ProtocolChoice {
        self.values.protocol.unwrap_or(ProtocolChoice::Minions)
    }
}

/// The settings the command line gives.
pub(crate) fn from_flags(models: &ModelArgs, run: &RunArgs) -> Settings {
    Settings {
        local: models.local.clone(),
        remote: models.remote.clone(),
        local_endpoints: models.local_endpoints.clone(),
        protocol: run.protocol,
        max_rounds: run.max_rounds,
        local_concurrency: run.local_concurrency,
        max_jobs_per_round: run.max_jobs_per_round,
        chunk_size: run.chunk_size,
        retrieval: run.retrieval,
        embedding_model: run.embedding_model.clone(),
        budget_usd: run.budget_usd,
        budget_tokens: run.budget_tokens,
        privacy: run.privacy.then_some(true),
        redact: (!run.redact.is_empty()).then(|| run.redact.clone()),
        remote_temperature: run.remote_temperature,
        remote_max_tokens: run.remote_max_tokens,
        local_temperature: run.local_temperature,
        local_max_tokens: run.local_max_tokens,
        ..Settings::default()
    }
}

/// The config file to read: `--config`, else `MINIONS_CONFIG`, else
/// `./minions.toml`, else `minions/minions.toml` in the user config
/// directory. A file named explicitly must exist.
fn config_file(explicit: Option<&Path>) -> Result<Option<PathBuf>, CliError> {
    let named = explicit
        .map(Path::to_path_buf)
        .or_else(|| minions::env::read(minions::env::MINIONS_CONFIG).map(PathBuf::from));
    if let Some(path) = named {
        if !path.is_file() {
            return Err(CliError::usage(format!(
                "config file {} does not exist",
                path.display()
            )));
        }
        return Ok(Some(path));
    }
    let local = PathBuf::from("minions.toml");
    if local.is_file() {
        return Ok(Some(local));
    }
    Ok(dirs::config_dir()
        .map(|dir| dir.join("minions").join("minions.toml"))
        .filter(|path| path.is_file()))
}

fn load_file(path: &Path) -> Result<Settings, CliError> {
    let bad =
        |message: String| CliError::usage(format!("config file {}: {message}", path.display()));
    let loaded = config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Toml))
        .build()
        .map_err(|e| bad(e.to_string()))?;
    // Unknown keys are typos: say so rather than ignore them.
    let keys = loaded
        .clone()
        .try_deserialize::<BTreeMap<String, serde_json::Value>>()
        .map_err(|e| bad(e.to_string()))?;
    if let Some(key) = keys.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown setting `{key}`; known settings: {}",
            KEYS.join(", ")
        )));
    }
    loaded
        .try_deserialize::<Settings>()
        .map_err(|e| bad(e.to_string()))
}

/// `MINIONS_*` variables (`MINIONS_MAX_ROUNDS=5`, `MINIONS_REDACT=a,b`).
fn load_env() -> Result<Settings, CliError> {
    config::Config::builder()
        .add_source(
            config::Environment::with_prefix("MINIONS")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("redact")
                .with_list_parse_key("local_endpoints"),
        )
        .build()
        .and_then(config::Config::try_deserialize::<Settings>)
        .map_err(|e| CliError::usage(format!("invalid MINIONS_* environment variable: {e}")))
}

/// Resolves every setting.
pub(crate) fn resolve(
    flags: Settings,
    explicit_file: Option<&Path>,
) -> Result<Effective, CliError> {
    let file_path = config_file(explicit_file)?;
    let file = match &file_path {
        Some(path) => load_file(path)?,
        None => Settings::default(),
    };
    let env = load_env()?;
    let mut origins = BTreeMap::new();
    let mut values = Settings::default();
    macro_rules! pick {
        ($($field:ident),* $(,)?) => {$(
            let key = stringify!($field);
            let env_var = format!("MINIONS_{}", key.to_ascii_uppercase());
            let (value, origin) = if flags.$field.is_some() {
                (flags.$field.clone(), Origin::Flag)
            } else if env.$field.is_some() {
                (env.$field.clone(), Origin::Env(env_var))
            } else if file.$field.is_some() {
                (file.$field.clone(), Origin::File(file_path.clone().unwrap_or_default()))
            } else {
                (None, Origin::Default)
            };
            values.$field = value;
            origins.insert(key, origin);
        )*};
    }
    pick!(
        local,
        remote,
        protocol,
        max_rounds,
        local_concurrency,
        max_jobs_per_round,
        chunk_size,
        retrieval,
        embedding_model,
        budget_usd,
        budget_tokens,
        privacy,
        redact,
        local_endpoints,
        remote_temperature,
        remote_max_tokens,
        local_temperature,
        local_max_tokens,
        pricing,
        max_input_bytes,
    );
    Ok(Effective {
        values,
        origins,
        file: file_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_a_known_key() {
        let json = serde_json::to_value(Settings::default()).unwrap();
        let fields: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(fields.len(), KEYS.len());
        for field in fields {
            assert!(KEYS.contains(&field.as_str()), "{field}");
        }
    }
}
