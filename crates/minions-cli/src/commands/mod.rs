//! One module per subcommand.

pub(crate) mod ask;
pub(crate) mod chat;
pub(crate) mod config;
pub(crate) mod demo;
pub(crate) mod estimate;
pub(crate) mod mcp;
pub(crate) mod providers;
pub(crate) mod serve;
