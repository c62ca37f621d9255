//! Settings in the usual precedence: flags > environment > config file >
//! defaults, with where each value came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minions::RunOptions;
use serde::{Deserialize, Serialize};

use crate::cli::{ModelArgs, RunArgs};
use crate::error::CliError;

/// Every setting; `None` means "not set at this layer". The run options are
/// the protocol crate's own [`RunOptions`], so the CLI, `minions.toml`,
/// `MINIONS_*` variables and the server take the same names and bounds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Settings {
    pub local: Option<String>,
    pub remote: Option<String>,
    pub embedding_model: Option<String>,
    pub local_endpoints: Option<Vec<String>>,
    pub local_retry_secs: Option<u64>,
    /// The run history file; `off` keeps none.
    pub history: Option<String>,
    pub pricing: Option<String>,
    pub max_input_bytes: Option<u64>,
    #[serde(flatten)]
    pub run: RunOptions,
}

/// The keys a config file may use: every field above, run options included.
pub(crate) fn keys() -> Vec<String> {
    serde_json::to_value(Settings::default())
        .ok()
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default()
}

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
    pub origins: BTreeMap<String, Origin>,
    pub file: Option<PathBuf>,
}

impl Effective {
    pub(crate) fn local(&self) -> &str {
        self.values.local.as_deref().unwrap_or("ollama/llama3.2")
    }

    pub(crate) fn remote(&self) -> &str {
        self.values.remote.as_deref().unwrap_or("openai/gpt-4o")
    }

    pub(crate) fn protocol(&self) -> minions::ProtocolKind {
        self.values.run.protocol.unwrap_or_default()
    }
}

/// The `history` setting that keeps none (`--no-history`).
pub(crate) const HISTORY_OFF: &str = "off";

/// The settings the command line gives.
pub(crate) fn from_flags(models: &ModelArgs, run: &RunArgs) -> Settings {
    Settings {
        local: models.local.clone(),
        remote: models.remote.clone(),
        local_endpoints: models.local_endpoints.clone(),
        local_retry_secs: models.local_retry_secs,
        history: if models.no_history {
            Some(HISTORY_OFF.to_string())
        } else {
            models.history.clone()
        },
        embedding_model: run.embedding_model.clone(),
        run: run.options(),
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
    let known = self::keys();
    if let Some(key) = keys.keys().find(|k| !known.contains(k)) {
        return Err(bad(format!(
            "unknown setting `{key}`; known settings: {}",
            known.join(", ")
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
    let layers = [
        (as_map(&flags)?, Origin::Flag),
        (as_map(&env)?, Origin::Env(String::new())),
        (
            as_map(&file)?,
            Origin::File(file_path.clone().unwrap_or_default()),
        ),
    ];
    let mut origins = BTreeMap::new();
    let mut merged = serde_json::Map::new();
    for key in keys() {
        let found = layers
            .iter()
            .find_map(|(map, origin)| map.get(&key).map(|value| (value.clone(), origin.clone())));
        let origin = match found {
            Some((value, origin)) => {
                merged.insert(key.clone(), value);
                match origin {
                    Origin::Env(_) => Origin::Env(format!("MINIONS_{}", key.to_ascii_uppercase())),
                    other => other,
                }
            }
            None => Origin::Default,
        };
        origins.insert(key, origin);
    }
    let values: Settings = serde_json::from_value(serde_json::Value::Object(merged))
        .map_err(|e| CliError::usage(format!("invalid setting: {e}")))?;
    // Every run option is checked here, once, with the protocol crate's
    // bounds and words, whichever layer it came from.
    values.run.build().map_err(|e| {
        CliError::usage(format!("{e} (from the {})", origin_of(&origins, e.option)))
    })?;
    Ok(Effective {
        values,
        origins,
        file: file_path,
    })
}

fn origin_of(origins: &BTreeMap<String, Origin>, key: &str) -> String {
    match origins.get(key) {
        Some(Origin::Flag) => format!("flag --{}", key.replace('_', "-")),
        Some(origin) => origin.to_string(),
        None => "settings".into(),
    }
}

/// A layer's settings as a map of the keys it sets.
fn as_map(settings: &Settings) -> Result<serde_json::Map<String, serde_json::Value>, CliError> {
    match serde_json::to_value(settings) {
        Ok(serde_json::Value::Object(map)) => {
            Ok(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        Ok(_) => Ok(serde_json::Map::new()),
        Err(e) => Err(CliError::usage(format!("invalid setting: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_option_is_a_known_key() {
        let known = keys();
        for key in RunOptions::keys() {
            assert!(known.contains(&key), "{key}");
        }
        assert!(known.contains(&"local".to_string()));
    }
}
