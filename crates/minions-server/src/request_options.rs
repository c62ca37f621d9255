//! The run options a request may set.

use minions::RunOptions;
use serde::Deserialize;
use serde_json::Value;

/// What a request may set: the run options every front end shares (the
/// same names, bounds and error words as the CLI's flags and
/// `minions.toml`), plus another remote model. Unknown keys are refused.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// A different remote model, as `provider/model` (its key comes from the
    /// server's environment).
    pub remote: Option<String>,
    /// The run options.
    pub run: RunOptions,
}

impl<'de> Deserialize<'de> for RequestOptions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        let remote = match map.remove("remote") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "remote must be a string, not {other}"
                )));
            }
        };
        let run = RunOptions::from_json_object(map, &["remote"]).map_err(D::Error::custom)?;
        Ok(Self { remote, run })
    }
}
