//! Cross-origin requests (CORS) for browser apps on other origins.
//!
//! Allowed origins come from `RAPPORT_CORS_ORIGINS` / `--cors-origin`: a list
//! of exact origins (`https://app.example.com`, `http://localhost:5173`), or
//! `*` for any origin (development only). When none is set, development
//! allows `http://localhost:<any port>` and `http://127.0.0.1:<any port>`,
//! production allows none. Pre-flights are answered for `GET` and `POST` with
//! the `authorization` and `content-type` headers and a max-age; credentials
//! are never allowed (tokens travel in the `Authorization` header, not in
//! cookies). A request from another origin is served without
//! `Access-Control-Allow-Origin`, so the browser keeps the answer from the
//! page; a pre-flight from another origin is refused with 400.

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::http::header;
use anyhow::bail;

use crate::config::{Config, Environment};

/// How long browsers may cache a pre-flight answer, in seconds.
pub const MAX_AGE_SECS: usize = 600;

/// Which origins may call the API from a browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Any origin (`*`, development only).
    Any,
    /// `http://localhost:*` and `http://127.0.0.1:*` (the development default).
    Loopback,
    /// Exactly these origins (lower-case); empty allows none.
    Exact(Arc<[String]>),
}

impl Policy {
    /// The policy the settings ask for.
    ///
    /// # Errors
    /// `*` in production; an entry that is not an origin (`scheme://host[:port]`
    /// with `http` or `https`, no path).
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let production = config.environment == Environment::Production;
        let entries: Vec<&str> = config
            .cors_origins
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        if entries.is_empty() {
            return Ok(if production {
                Self::Exact(Arc::from(Vec::new()))
            } else {
                Self::Loopback
            });
        }
        if entries.contains(&"*") {
            if production {
                bail!("RAPPORT_CORS_ORIGINS=* is refused in production: list the exact origins");
            }
            return Ok(Self::Any);
        }
        let mut origins = Vec::with_capacity(entries.len());
        for entry in entries {
            if !is_origin(entry) {
                bail!(
                    "RAPPORT_CORS_ORIGINS: {entry:?} is not an origin; write it like https://app.example.com or http://localhost:5173"
                );
            }
            origins.push(entry.to_ascii_lowercase());
        }
        Ok(Self::Exact(origins.into()))
    }

    /// Whether a request with this `Origin` header may read the answer.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Loopback => ["http://localhost", "http://127.0.0.1"]
                .iter()
                .any(|host| loopback_port(origin, host)),
            Self::Exact(origins) => origins.iter().any(|o| o.eq_ignore_ascii_case(origin)),
        }
    }

    /// The actix middleware enforcing this policy (one per worker).
    pub fn middleware(&self) -> Cors {
        let policy = self.clone();
        Cors::default()
            .allowed_origin_fn(move |origin, _| {
                origin.to_str().is_ok_and(|origin| policy.allows(origin))
            })
            .allowed_methods(["GET", "POST"])
            .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(MAX_AGE_SECS)
    }
}

/// `{host}` or `{host}:{port}` with a decimal port.
fn loopback_port(origin: &str, host: &str) -> bool {
    match origin.strip_prefix(host) {
        Some("") => true,
        Some(rest) => rest.strip_prefix(':').is_some_and(|port| {
            !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
        }),
        None => false,
    }
}

/// `http(s)://host[:port]`: what browsers send in `Origin`.
fn is_origin(entry: &str) -> bool {
    let Some(rest) = entry
        .strip_prefix("https://")
        .or_else(|| entry.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = if rest.starts_with('[') {
        match rest.split_once(']') {
            Some((ip, "")) => (ip, None),
            Some((ip, tail)) => match tail.strip_prefix(':') {
                Some(port) => (ip, Some(port)),
                None => return false,
            },
            None => return false,
        }
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b':'));
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn policy(args: &[&str]) -> anyhow::Result<Policy> {
        let mut all = vec!["rapport"];
        all.extend_from_slice(args);
        let cli = crate::cli::Cli::try_parse_from(all).expect("arguments");
        Policy::from_config(&cli.config)
    }

    #[test]
    fn development_defaults_to_loopback_on_any_port() {
        let p = policy(&[]).expect("policy");
        assert_eq!(p, Policy::Loopback);
        for ok in [
            "http://localhost:5173",
            "http://127.0.0.1:3000",
            "http://localhost",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for no in [
            "https://localhost:5173",
            "http://localhost.evil.com",
            "http://localhost:5173.evil.com",
            "http://127.0.0.1.nip.io:80",
            "http://127.0.0.2:80",
            "http://localhost:",
            "null",
        ] {
            assert!(!p.allows(no), "{no}");
        }
    }

    #[test]
    fn production_allows_none_unless_set_and_refuses_the_wildcard() {
        let p = policy(&["--env", "production"]).expect("policy");
        assert!(!p.allows("http://localhost:5173"));
        let err = policy(&["--env", "production", "--cors-origin", "*"]).expect_err("refused");
        assert!(err.to_string().contains("refused in production"), "{err}");
        let p = policy(&[
            "--env",
            "production",
            "--cors-origin",
            "https://App.example.com,http://localhost:5173",
        ])
        .expect("policy");
        assert!(p.allows("https://app.example.com"));
        assert!(p.allows("http://localhost:5173"));
        assert!(!p.allows("http://localhost:5174"));
        assert!(!p.allows("http://app.example.com"));
        assert_eq!(
            policy(&["--cors-origin", "*"]).expect("development"),
            Policy::Any
        );
    }

    #[test]
    fn entries_must_be_origins() {
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "ftp://app.example.com",
            "https://user@app.example.com",
            "https://app.example.com:80x",
            "http://localhost:*",
        ] {
            assert!(policy(&["--cors-origin", bad]).is_err(), "{bad}");
        }
        assert!(policy(&["--cors-origin", "http://[::1]:8080"]).is_ok());
    }
}
