//! Who may talk to a server of ours: the loopback and bearer-token rule
//! shared by `minions serve` and `minions mcp --http`. It lives here, in the
//! HTTP layer both servers depend on, so that neither server depends on the
//! other for it.

use std::net::SocketAddr;

use reqwest::header::{self, HeaderMap};

/// Refuses to listen beyond loopback without a token: anyone on the network
/// could spend the user's API keys.
pub fn check_exposure(bind: SocketAddr, token: Option<&str>) -> Result<(), String> {
    if !bind.ip().is_loopback() && token.is_none_or(|t| t.trim().is_empty()) {
        return Err(format!(
            "refusing to listen on {bind} without a token: anyone on the network could spend your API keys; set --token (or MINIONS_SERVER_TOKEN), or bind 127.0.0.1"
        ));
    }
    Ok(())
}

/// Whether the request carries `Authorization: Bearer TOKEN`. The
/// comparison takes the same time whatever the inputs share, so the token
/// can't be guessed byte by byte from response times.
pub fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    same_secret(given.as_bytes(), token.as_bytes())
}

fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_needs_no_token_and_the_network_does() {
        assert!(check_exposure("127.0.0.1:1".parse().unwrap(), None).is_ok());
        assert!(check_exposure("0.0.0.0:1".parse().unwrap(), Some(" ")).is_err());
        assert!(check_exposure("0.0.0.0:1".parse().unwrap(), Some("t")).is_ok());
        let mut headers = HeaderMap::new();
        assert!(!bearer_matches(&headers, "t"));
        headers.insert(header::AUTHORIZATION, "Bearer t".parse().unwrap());
        assert!(bearer_matches(&headers, "t") && !bearer_matches(&headers, "u"));
    }
}
