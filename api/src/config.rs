//! Settings: every one has an environment variable and a matching flag, and
//! flags win. Doc comments here are the `--help` text.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use crate::http::client::TrustedProxies;
use crate::http::form::branding::{self, Accent, Branding};

/// Where the server runs: `production` refuses weak settings and turns off
/// introspection, field suggestions and (unless `RAPPORT_GRAPHIQL=true`)
/// GraphiQL.
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

    /// How long after a refresh token is spent the same token may be sent
    /// again and answered with the same new pair (two tabs refreshing at
    /// once); later reuse revokes the session family. `0s` turns it off; at
    /// most 5 minutes.
    #[arg(long, env = "RAPPORT_REFRESH_REUSE_INTERVAL", default_value = "30s", value_parser = parse_duration, global = true)]
    pub refresh_reuse_interval: Duration,

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
    #[arg(long, env = "RAPPORT_MAX_RESPONSE_BYTES", default_value_t = crate::graphql::gate::DEFAULT_MAX_RESPONSE_BYTES, global = true)]
    pub max_response_bytes: usize,

    /// Proxies whose forwarding headers are believed: CIDRs or addresses,
    /// comma-separated (e.g. `127.0.0.1/32,10.0.0.0/8`). Empty: the socket
    /// peer is always the client and `X-Forwarded-For`/`Forwarded` are ignored.
    #[arg(
        long,
        env = "RAPPORT_TRUSTED_PROXIES",
        default_value = "",
        global = true
    )]
    pub trusted_proxies: TrustedProxies,

    /// How long a WebSocket may wait for `connection_init` before it is closed
    /// with 4408.
    #[arg(long, env = "RAPPORT_WS_INIT_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true)]
    pub ws_init_timeout: Duration,

    /// Most WebSockets open at once from one client address (more are refused
    /// with 429 before the upgrade).
    #[arg(
        long,
        env = "RAPPORT_WS_MAX_PER_CLIENT",
        default_value_t = 20,
        global = true
    )]
    pub ws_max_per_client: usize,

    /// How often the server pings each WebSocket and re-reads its user (a
    /// deactivated user's socket closes, a changed role ends subscriptions);
    /// a client silent for three heartbeats is disconnected.
    #[arg(long, env = "RAPPORT_WS_HEARTBEAT", default_value = "15s", value_parser = parse_duration, global = true)]
    pub ws_heartbeat: Duration,

    /// Most operations running at once on one WebSocket.
    #[arg(
        long,
        env = "RAPPORT_WS_MAX_OPERATIONS",
        default_value_t = 20,
        global = true
    )]
    pub ws_max_operations: usize,

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

    /// How often each process checks for due scheduled jobs (the daily
    /// loyalty job); the first check is one tick after start-up. Any number of
    /// processes may tick: a due run is claimed once (docs/DEPLOY.md).
    #[arg(long, env = "RAPPORT_JOB_TICK", default_value = "5m", value_parser = parse_duration, global = true)]
    pub job_tick: Duration,

    /// How often each process checks the outbox for due e-mails and webhook
    /// deliveries when none was due at the last check.
    #[arg(long, env = "RAPPORT_OUTBOX_POLL", default_value = "1s", value_parser = parse_duration, global = true)]
    pub outbox_poll: Duration,

    /// How long a process holds a message it is delivering; a message whose
    /// process died mid-delivery is delivered again after it.
    #[arg(long, env = "RAPPORT_OUTBOX_LEASE", default_value = "2m", value_parser = parse_duration, global = true)]
    pub outbox_lease: Duration,

    /// SMTP server for invitation and reminder e-mails, e.g.
    /// `smtp://user:pass@mail.example.com:587?tls=starttls`,
    /// `smtps://user:pass@mail.example.com` (implicit TLS) or
    /// `smtp://127.0.0.1:2525?tls=none` (no TLS; loopback only). Unset: no
    /// e-mail is sent and `inviteToSurvey(delivery: EMAIL)` is refused.
    #[arg(long, env = "RAPPORT_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<SecretString>,

    /// Sender of e-mails, `address` or `Name <address>`; required with
    /// `RAPPORT_SMTP_URL`.
    #[arg(long, env = "RAPPORT_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,

    /// How long a "day" of `intervalDays` between reminders lasts (tests
    /// shorten it).
    #[arg(long, env = "RAPPORT_REMINDER_DAY", default_value = "1d", value_parser = parse_duration, global = true)]
    pub reminder_day: Duration,

    /// Wait after a failed e-mail attempt, doubled after each further one
    /// (at most 6 h; 12 attempts in all).
    #[arg(long, env = "RAPPORT_SMTP_RETRY", default_value = "30s", value_parser = parse_duration, global = true)]
    pub smtp_retry: Duration,

    /// Let webhook endpoints be on loopback, private, link-local and other
    /// non-public addresses (and use plain `http` in production). Off by
    /// default in every environment: a delivery to such an address is
    /// refused (docs/webhooks.md, "SSRF").
    #[arg(
        long,
        env = "RAPPORT_WEBHOOK_ALLOW_PRIVATE",
        value_name = "BOOL",
        default_value_t = false,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub webhook_allow_private: bool,

    /// How long one webhook delivery may take (connect, send, response).
    #[arg(long, env = "RAPPORT_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true)]
    pub webhook_timeout: Duration,

    /// Wait after a webhook delivery's first failed attempt; doubled after
    /// each further one, at most 6 h apart, 12 attempts in all.
    #[arg(long, env = "RAPPORT_WEBHOOK_RETRY_DELAY", default_value = "30s", value_parser = parse_duration, global = true)]
    pub webhook_retry_delay: Duration,

    /// An endpoint whose deliveries have all failed for this long is
    /// disabled.
    #[arg(long, env = "RAPPORT_WEBHOOK_DISABLE_AFTER", default_value = "5d", value_parser = parse_duration, global = true)]
    pub webhook_disable_after: Duration,

    /// How long a CSV export's download link (from `createExport`) works.
    #[arg(long, env = "RAPPORT_EXPORT_LINK_TTL", default_value = "5m", value_parser = parse_duration, global = true)]
    pub export_link_ttl: Duration,

    /// Serve Prometheus metrics at `/metrics` on the main port
    /// (unauthenticated: expose it only to your monitoring network).
    #[arg(long, env = "RAPPORT_METRICS", default_value_t = false, global = true)]
    pub metrics: bool,

    /// Serve GraphiQL at `/graphiql` (and to browsers at `GET /graphql`):
    /// `true` or `false` [default: on in development, off in production].
    #[arg(
        long,
        env = "RAPPORT_GRAPHIQL",
        value_name = "BOOL",
        action = clap::ArgAction::Set,
        global = true
    )]
    pub graphiql: Option<bool>,

    /// Organisation name on the survey form ("Sent by …"), at most 100
    /// characters.
    #[arg(long, env = "RAPPORT_ORG_NAME", value_parser = branding::parse_org_name, global = true)]
    pub org_name: Option<String>,

    /// Logo on the survey form: an `https://` URL (its origin is allowed as
    /// an image source) or a path on this server.
    #[arg(long, env = "RAPPORT_ORG_LOGO_URL", value_parser = branding::parse_url, global = true)]
    pub org_logo_url: Option<String>,

    /// Accent colour of the survey form, `#rrggbb` or `#rgb` [default:
    /// #2457c5]; text on it is black or white, whichever contrasts more.
    #[arg(long, env = "RAPPORT_ORG_ACCENT", value_parser = branding::parse_accent, global = true)]
    pub org_accent: Option<Accent>,

    /// Privacy notice linked from the survey form: an `https://` URL or a
    /// path on this server.
    #[arg(long, env = "RAPPORT_PRIVACY_URL", value_parser = branding::parse_url, global = true)]
    pub privacy_url: Option<String>,
}

impl Config {
    /// The survey form's branding.
    pub fn branding(&self) -> Branding {
        Branding {
            org_name: self.org_name.clone(),
            logo_url: self.org_logo_url.clone(),
            accent: self.org_accent.clone(),
            privacy_url: self.privacy_url.clone(),
        }
    }

    /// Whether GraphiQL is served: as set, or in development only.
    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql
            .unwrap_or(self.environment == Environment::Development)
    }

    /// The base URL for links the server hands out.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The JWT key: the configured one, or in development a generated key
    /// kept in the data directory (mode 0600) so tokens survive restarts.
    ///
    /// # Errors
    /// When no key, a key under 32 bytes, or (in production) a guessable key
    /// is configured (see [`weak_secret`]); when the development key file
    /// cannot be read or written.
    pub fn jwt_key(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(secret) = &self.jwt_secret {
            let bytes = secret.expose_secret().as_bytes().to_vec();
            if bytes.len() < 32 {
                bail!("RAPPORT_JWT_SECRET must be at least 32 bytes");
            }
            if self.environment == Environment::Production {
                if let Some(why) = weak_secret(secret.expose_secret()) {
                    bail!(
                        "RAPPORT_JWT_SECRET is too guessable for production: {why}; \
                         generate one with `openssl rand -base64 48`"
                    );
                }
            }
            return Ok(bytes);
        }
        if self.environment == Environment::Production {
            bail!("RAPPORT_JWT_SECRET is required when RAPPORT_ENV=production");
        }
        let path = self.data_dir.join(".rapport-jwt-secret");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            if existing.trim().len() >= 32 {
                // A key file written by an older version may be world-readable.
                restrict_to_owner(&path)?;
                return Ok(existing.trim().as_bytes().to_vec());
            }
        }
        let key = hex_key();
        std::fs::create_dir_all(&self.data_dir).ok();
        write_private(&path, key.as_bytes())
            .with_context(|| format!("Failed to write {}", path.display()))?;
        Ok(key.into_bytes())
    }

    /// The secret of the refresh-token successor derivation: derived from the
    /// JWT key (HMAC-SHA256 with a fixed label), so it needs no setting of its own.
    ///
    /// # Errors
    /// As [`Self::jwt_key`].
    pub fn successor_key(&self) -> anyhow::Result<[u8; 32]> {
        use hmac::Mac as _;
        let mut mac = <hmac::Hmac<sha2::Sha256>>::new_from_slice(&self.jwt_key()?)
            .map_err(|e| anyhow::anyhow!("successor key: {e}"))?;
        mac.update(b"rapport refresh-token successor key v1");
        Ok(mac.finalize().into_bytes().into())
    }

    /// The key that signs export download links: derived from the JWT key
    /// (HMAC-SHA256 with a fixed label), like [`Self::successor_key`].
    ///
    /// # Errors
    /// As [`Self::jwt_key`].
    pub fn export_link_key(&self) -> anyhow::Result<[u8; 32]> {
        use hmac::Mac as _;
        let mut mac = <hmac::Hmac<sha2::Sha256>>::new_from_slice(&self.jwt_key()?)
            .map_err(|e| anyhow::anyhow!("export link key: {e}"))?;
        mac.update(b"rapport export-link key v1");
        Ok(mac.finalize().into_bytes().into())
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
        if self.ws_init_timeout.is_zero()
            || self.ws_heartbeat.is_zero()
            || self.ws_max_per_client == 0
            || self.ws_max_operations == 0
        {
            bail!("the RAPPORT_WS_* settings must be positive");
        }
        if self.job_tick.is_zero() {
            bail!("RAPPORT_JOB_TICK must be positive");
        }
        if self.outbox_poll.is_zero() || self.outbox_lease < Duration::from_secs(1) {
            bail!("RAPPORT_OUTBOX_POLL must be positive and RAPPORT_OUTBOX_LEASE at least 1s");
        }
        if self.smtp_url.is_some() {
            crate::delivery::email::EmailDeliverer::check(self)?;
        }
        if self.reminder_day.is_zero() || self.smtp_retry.is_zero() {
            bail!("RAPPORT_REMINDER_DAY and RAPPORT_SMTP_RETRY must be positive");
        }
        if self.export_link_ttl < Duration::from_secs(1) {
            bail!("RAPPORT_EXPORT_LINK_TTL must be at least 1s");
        }
        if self.refresh_reuse_interval > MAX_REFRESH_REUSE_INTERVAL {
            bail!("RAPPORT_REFRESH_REUSE_INTERVAL must be at most 5m");
        }
        if self.environment == Environment::Production && self.demo {
            bail!("RAPPORT_DEMO (--demo) is refused when RAPPORT_ENV=production: it seeds accounts and prints their passwords");
        }
        Ok(())
    }
}

/// Longest accepted [`Config::refresh_reuse_interval`].
pub const MAX_REFRESH_REUSE_INTERVAL: Duration = Duration::from_secs(300);
/// Least estimated entropy of a production JWT secret, in bits.
pub const MIN_SECRET_BITS: f64 = 128.0;
/// Fewest distinct bytes in a production JWT secret.
pub const MIN_SECRET_DISTINCT_BYTES: usize = 10;
/// Characters per zxcvbn estimate of a secret.
const ZXCVBN_PIECE: usize = 16;

/// Why `secret` is too guessable to sign production tokens, if it is.
///
/// Two estimates must each reach [`MIN_SECRET_BITS`]: the Shannon entropy of
/// the byte distribution times the length, and zxcvbn's guess count (which
/// sees words, repeats, sequences, keyboard runs and dates) summed over
/// 16-character pieces. It also needs [`MIN_SECRET_DISTINCT_BYTES`] distinct
/// bytes and no placeholder word such as `changeme`.
pub fn weak_secret(secret: &str) -> Option<String> {
    let bits = shannon_bits(secret.as_bytes());
    if bits < MIN_SECRET_BITS {
        return Some(format!(
            "about {bits:.0} bits of entropy, at least {MIN_SECRET_BITS:.0} needed"
        ));
    }
    let mut seen = [false; 256];
    for b in secret.as_bytes() {
        seen[usize::from(*b)] = true;
    }
    let distinct = seen.iter().filter(|s| **s).count();
    if distinct < MIN_SECRET_DISTINCT_BYTES {
        return Some(format!(
            "only {distinct} distinct characters, at least {MIN_SECRET_DISTINCT_BYTES} needed"
        ));
    }
    let lower = secret.to_ascii_lowercase();
    for placeholder in [
        "changeme",
        "change-me",
        "change_me",
        "replaceme",
        "example",
        "placeholder",
    ] {
        if lower.contains(placeholder) {
            return Some(format!("it contains the placeholder {placeholder:?}"));
        }
    }
    // zxcvbn's estimate saturates near 10^19 guesses, so it is taken over
    // 16-character pieces and summed (in log space).
    let chars: Vec<char> = secret.chars().collect();
    let guess_bits: f64 = chars
        .chunks(ZXCVBN_PIECE)
        .map(|piece| {
            let piece: String = piece.iter().collect();
            zxcvbn::zxcvbn(&piece, &["rapport", "jwt", "secret"]).guesses_log10()
                * std::f64::consts::LOG2_10
        })
        .sum();
    if guess_bits < MIN_SECRET_BITS {
        return Some(format!(
            "it is built from words, repeats or sequences (about 2^{guess_bits:.0} guesses, \
             at least 2^{MIN_SECRET_BITS:.0} needed)"
        ));
    }
    None
}

/// Shannon entropy of the byte distribution of `bytes`, times their number.
fn shannon_bits(bytes: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for b in bytes {
        counts[usize::from(*b)] += 1;
    }
    let len = bytes.len() as f64;
    let per_byte: f64 = counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / len;
            -p * p.log2()
        })
        .sum();
    per_byte * len
}

/// Writes `contents` to a new or truncated file readable by its owner only.
fn write_private(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    restrict_to_owner(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Makes `path` readable and writable by its owner only (Unix).
fn restrict_to_owner(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode != 0o600 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
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
    fn production_secrets_need_entropy_and_no_words() {
        for weak in [
            "a".repeat(32),
            "ab".repeat(20),
            "changeme-changeme-changeme-changeme".to_owned(),
            "changeme-Xq9vT2kLp7ZrB4nYc8HdF6sJg1QaE5uV".to_owned(),
            "test-secret-test-secret-test-secret-0123".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
            "correcthorsebatterystaplecorrecthorse".to_owned(),
            "my-very-secret-production-signing-key-2026".to_owned(),
        ] {
            assert!(weak_secret(&weak).is_some(), "{weak} accepted");
        }
        for strong in [
            // `openssl rand -base64 48` and `openssl rand -hex 32` shaped.
            "k3JbM0qW9v+fT2xYpL7nRzC4sD8hUa1GeX5oIw6tVy0QmN3cB9jK2lP7rS4uZ8dE",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ] {
            assert_eq!(weak_secret(strong), None, "{strong}");
        }
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(2_592_000)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
