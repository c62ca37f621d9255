//! Which protocol a run uses: one name, spelled one way everywhere.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The protocols this crate runs. The CLI's `--protocol`, the server's
/// `protocol` field and model names, the web page's menu and the bench all
/// read this enum (through [`ProtocolKind::ALL`], [`FromStr`] and
/// [`fmt::Display`]), so a new protocol is a module and a variant here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProtocolKind {
    /// The remote model chats with one local model that holds the whole
    /// context.
    Minion,
    /// The remote model plans jobs that local models run in parallel over
    /// chunks; Rust aggregates; the remote model synthesizes.
    #[default]
    Minions,
}

impl ProtocolKind {
    /// Every protocol, in the order menus show them.
    pub const ALL: [ProtocolKind; 2] = [ProtocolKind::Minion, ProtocolKind::Minions];

    /// The one spelling: lowercase, as users type it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolKind::Minion => "minion",
            ProtocolKind::Minions => "minions",
        }
    }

    /// One line for help texts and menus.
    pub fn describe(self) -> &'static str {
        match self {
            ProtocolKind::Minion => {
                "the remote model chats with one local model that holds the whole context"
            }
            ProtocolKind::Minions => {
                "the remote model plans jobs that local models run in parallel over chunks"
            }
        }
    }

    /// A short label for menus.
    pub fn label(self) -> &'static str {
        match self {
            ProtocolKind::Minion => "Minion (one local chat)",
            ProtocolKind::Minions => "Minions (parallel jobs)",
        }
    }
}

impl fmt::Display for ProtocolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol `{0}`: use {list}", list = known())]
pub struct UnknownProtocol(pub String);

fn known() -> String {
    ProtocolKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

impl FromStr for ProtocolKind {
    type Err = UnknownProtocol;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase();
        ProtocolKind::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| UnknownProtocol(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_everywhere() {
        for kind in ProtocolKind::ALL {
            assert_eq!(kind.as_str().parse::<ProtocolKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::Value::String(kind.as_str().into()))
            );
        }
        assert_eq!(" Minion ".parse::<ProtocolKind>(), Ok(ProtocolKind::Minion));
        let error = "minionz"
            .parse::<ProtocolKind>()
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("unknown protocol `minionz`: use minion or minions")
        );
    }
}
