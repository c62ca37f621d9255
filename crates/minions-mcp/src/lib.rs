//! minions-rs as an MCP server: the protocols as tools for any Model
//! Context Protocol client (Claude Desktop and Claude Code, Cursor, VS Code,
//! Zed, ...), built on the official Rust SDK, `rmcp`.
//!
//! - [`MinionsMcp`]: the tools `ask` (run a protocol over documents, with
//!   progress notifications and cancellation) and `estimate` (what a
//!   remote-only read would cost).
//! - [`serve_stdio`]: over stdin and stdout, as desktop clients spawn it.
//! - [`serve_http`]: over streamable HTTP, with the same loopback and
//!   bearer-token rule as `minions serve`.
//!
//! Documents are read from disk only under the allowed directories
//! ([`AllowedRoots`]): those given at start-up and the roots the client
//! declares.

mod http;
mod progress;
mod roots;
mod server;

pub use http::{HttpOptions, serve_http};
pub use roots::AllowedRoots;
pub use server::{AskArgs, EstimateArgs, InlineDocument, McpSettings, MinionsMcp};

/// Serves the tools over stdin and stdout until the client closes them.
pub async fn serve_stdio(server: MinionsMcp) -> Result<(), String> {
    use rmcp::ServiceExt;
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("the MCP client did not start a session: {e}"))?;
    running
        .waiting()
        .await
        .map_err(|e| format!("the MCP session ended with an error: {e}"))?;
    Ok(())
}
