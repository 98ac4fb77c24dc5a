//! Settings: every one has an environment variable and a matching flag, and
//! flags win. Doc comments here are the `--help` text.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

/// Where the server runs: `production` refuses weak settings and turns off
/// GraphiQL, introspection and field suggestions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Shared settings of every command.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "RAPPORT_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// SQLite or PostgreSQL URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://rapport.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// HMAC key for access tokens (at least 32 bytes). In development a key is
    /// generated and kept in the data directory when none is given.
    #[arg(
        long,
        env = "RAPPORT_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<SecretString>,

    /// `development` or `production`.
    #[arg(
        long = "env",
        env = "RAPPORT_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub environment: Environment,

    /// Access token lifetime, e.g. `15m`, `1h`.
    #[arg(long, env = "RAPPORT_ACCESS_TOKEN_TTL", default_value = "15m", value_parser = parse_duration, global = true)]
    pub access_token_ttl: Duration,

    /// Refresh token lifetime, e.g. `30d`.
    #[arg(long, env = "RAPPORT_REFRESH_TOKEN_TTL", default_value = "30d", value_parser = parse_duration, global = true)]
    pub refresh_token_ttl: Duration,

    /// Log filter (tracing `EnvFilter` syntax).
    #[arg(long, env = "RAPPORT_LOG", default_value = "info", global = true)]
    pub log: String,

    /// `text` or `json` log lines.
    #[arg(
        long,
        env = "RAPPORT_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Directory for generated development files (the JWT key).
    #[arg(long, env = "RAPPORT_DATA_DIR", default_value = ".", global = true)]
    pub data_dir: PathBuf,

    /// Public base URL used in invitation links; defaults to `http://{bind}`.
    #[arg(long, env = "RAPPORT_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Most database connections in the pool [default: PostgreSQL 16; SQLite
    /// two per core, 4 to 16].
    #[arg(long, env = "RAPPORT_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,

    /// How long a GraphQL request may run before it is cut off with `TIMEOUT`.
    #[arg(long, env = "RAPPORT_REQUEST_TIMEOUT", default_value = "15s", value_parser = parse_duration, global = true)]
    pub request_timeout: Duration,

    /// Largest accepted request body in bytes.
    #[arg(long, env = "RAPPORT_MAX_BODY_BYTES", default_value_t = 256 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Largest GraphQL answer in bytes (JSON); a larger one is replaced by an
    /// `OPERATION_TOO_COMPLEX` error.
    #[arg(long, env = "RAPPORT_MAX_RESPONSE_BYTES", default_value_t = crate::graphql::extension::DEFAULT_MAX_RESPONSE_BYTES, global = true)]
    pub max_response_bytes: usize,

    /// Origins whose browser pages may call the API (CORS), exact and
    /// comma-separated, e.g. `https://app.example.com,http://localhost:5173`;
    /// `*` for any (refused in production) [default: development
    /// `http://localhost:*` and `http://127.0.0.1:*`; production none].
    #[arg(
        long = "cors-origin",
        env = "RAPPORT_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,

    /// Seed the demo data set on start when the database has no users.
    #[arg(long, env = "RAPPORT_DEMO", default_value_t = false, global = true)]
    pub demo: bool,

    /// Benchmarks only: answer every GraphQL request with an
    /// `x-sql-statements` header holding the number of SQL statements the
    /// server sent while it ran (exact when one request is in flight).
    #[arg(
        long,
        env = "RAPPORT_DEBUG_STATEMENT_COUNT",
        default_value_t = false,
        global = true
    )]
    pub debug_statement_count: bool,
}

impl Config {
    /// The base URL for links the server hands out.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The JWT key: the configured one, or in development a generated key
    /// kept in the data directory so tokens survive restarts.
    ///
    /// # Errors
    /// In production when no key or a key under 32 bytes is configured; when the
    /// development key file cannot be read or written.
    pub fn jwt_key(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(secret) = &self.jwt_secret {
            let bytes = secret.expose_secret().as_bytes().to_vec();
            if bytes.len() < 32 {
                bail!("RAPPORT_JWT_SECRET must be at least 32 bytes");
            }
            return Ok(bytes);
        }
        if self.environment == Environment::Production {
            bail!("RAPPORT_JWT_SECRET is required when RAPPORT_ENV=production");
        }
        let path = self.data_dir.join(".rapport-jwt-secret");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            if existing.trim().len() >= 32 {
                return Ok(existing.trim().as_bytes().to_vec());
            }
        }
        let key = hex_key();
        std::fs::create_dir_all(&self.data_dir).ok();
        std::fs::write(&path, &key)
            .with_context(|| format!("Failed to write {}", path.display()))?;
        Ok(key.into_bytes())
    }

    /// Refuses settings that are unsafe in production.
    ///
    /// # Errors
    /// Names the first unsafe setting.
    pub fn check(&self) -> anyhow::Result<()> {
        self.jwt_key().map(|_| ())?;
        if self.access_token_ttl.is_zero() || self.refresh_token_ttl <= self.access_token_ttl {
            bail!("token lifetimes must be positive and the refresh lifetime longer than the access lifetime");
        }
        Ok(())
    }
}

fn hex_key() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses `90s`, `15m`, `12h`, `30d` (or plain seconds).
///
/// # Errors
/// On anything else.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (number, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {raw:?}; use e.g. 15m, 12h, 30d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(format!(
                "invalid duration unit in {raw:?}; use s, m, h or d"
            ))
        }
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(2_592_000)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
