//! The one place where domain errors become GraphQL errors with an
//! `extensions.code` (SPEC §8, STYLE §5).
//!
//! Resolvers return `Result<T, ApiError>`. `ApiError` has no `Display`, so a
//! stray `?` on a database error cannot compile into a code-less message.

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use domain::DomainError;

/// The `extensions.code` values clients can rely on.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const INSUFFICIENT_POINTS: &str = "INSUFFICIENT_POINTS";
    pub const OUT_OF_STOCK: &str = "OUT_OF_STOCK";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INVALID_TOKEN: &str = "INVALID_TOKEN";
    pub const TOKEN_EXPIRED: &str = "TOKEN_EXPIRED";
    pub const ALREADY_SUBMITTED: &str = "ALREADY_SUBMITTED";
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The document is over a shape or cost limit, or its answer over the
    /// response ceiling: ask for less.
    pub const OPERATION_TOO_COMPLEX: &str = "OPERATION_TOO_COMPLEX";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    /// A persisted query's hash is not known (any more): send the query
    /// with its hash again (Apollo's Automatic Persisted Queries).
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    pub const INTERNAL: &str = "INTERNAL";
}

/// The message of every internal error; the cause goes to the log only.
pub const INTERNAL_MESSAGE: &str = "Internal error. Quote the request id when reporting it.";

/// An error on its way to the client.
#[derive(Clone, Debug)]
pub struct ApiError(Inner);

#[derive(Clone, Debug)]
enum Inner {
    Domain(Arc<DomainError>),
    Graphql(async_graphql::Error),
}

/// Resolver result.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// `UNAUTHENTICATED`.
    pub fn unauthenticated() -> Self {
        DomainError::Unauthenticated.into()
    }

    /// `BAD_USER_INPUT` on `field`.
    pub fn bad_input(field: &str, reason: &str) -> Self {
        DomainError::validation(field, reason).into()
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        Self(Inner::Domain(Arc::new(err)))
    }
}

impl From<Arc<DomainError>> for ApiError {
    fn from(err: Arc<DomainError>) -> Self {
        Self(Inner::Domain(err))
    }
}

impl From<async_graphql::Error> for ApiError {
    fn from(err: async_graphql::Error) -> Self {
        Self(Inner::Graphql(err))
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        match err.0 {
            Inner::Domain(domain) => to_graphql(&domain),
            Inner::Graphql(err) if err.extensions.is_some() => err,
            Inner::Graphql(err) => {
                tracing::error!(error = %err.message, "untyped resolver error");
                internal()
            }
        }
    }
}

fn with_code(message: impl Into<String>, code: &'static str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

fn internal() -> async_graphql::Error {
    with_code(INTERNAL_MESSAGE, code::INTERNAL)
}

/// A value refused by an argument's type before execution (async-graphql's
/// validation says `Invalid value for argument "input.amount", expected type
/// "Decimal"`) names the argument path in `extensions.field`; for a custom
/// scalar the message also says how to write the value, with an example.
pub fn name_invalid_argument(error: &mut async_graphql::ServerError) {
    let Some(rest) = error.message.strip_prefix("Invalid value for argument \"") else {
        return;
    };
    let Some((path, reason)) = rest.split_once("\", ") else {
        return;
    };
    let field = path.to_owned();
    let hint = reason
        .strip_prefix("expected type \"")
        .and_then(|r| r.strip_suffix('"'))
        .and_then(crate::graphql::scalar::hint);
    if let Some(hint) = hint {
        error.message = format!("{}; {hint}", error.message);
    }
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("field").is_none() {
        extensions.set("field", field);
    }
}

/// Maps one domain error to its client-facing form.
pub fn to_graphql(err: &DomainError) -> async_graphql::Error {
    match err {
        DomainError::Validation { field, reason } => {
            async_graphql::Error::new(format!("{field}: {reason}")).extend_with(|_, e| {
                e.set("code", code::BAD_USER_INPUT);
                e.set("field", field.as_str());
            })
        }
        DomainError::NotFound(what) => with_code(format!("{what} not found"), code::NOT_FOUND),
        DomainError::Conflict(reason) => with_code(reason.as_str(), code::CONFLICT),
        DomainError::Forbidden => {
            with_code("Your role does not allow this operation.", code::FORBIDDEN)
        }
        DomainError::Unauthenticated => with_code(
            "Authentication required: sign in and send a valid access token.",
            code::UNAUTHENTICATED,
        ),
        DomainError::RateLimited { retry_after_secs } => {
            let secs = *retry_after_secs;
            async_graphql::Error::new("Too many attempts; try again later.").extend_with(
                move |_, e| {
                    e.set("code", code::RATE_LIMITED);
                    e.set("retryAfterSeconds", secs);
                },
            )
        }
        DomainError::InsufficientPoints { balance, required } => {
            let (balance, required) = (*balance, *required);
            async_graphql::Error::new(format!(
                "Insufficient points: balance {balance}, required {required}."
            ))
            .extend_with(move |_, e| {
                e.set("code", code::INSUFFICIENT_POINTS);
                e.set("balance", balance);
                e.set("required", required);
            })
        }
        DomainError::OutOfStock => with_code("The reward is out of stock.", code::OUT_OF_STOCK),
        DomainError::InvalidToken => {
            with_code("This invitation link is not valid.", code::INVALID_TOKEN)
        }
        DomainError::TokenExpired => with_code("This invitation has expired.", code::TOKEN_EXPIRED),
        DomainError::AlreadySubmitted => with_code(
            "This invitation has already been answered.",
            code::ALREADY_SUBMITTED,
        ),
        DomainError::Unavailable(cause) => {
            tracing::warn!(error = format!("{cause:#}"), "database unavailable");
            with_code(
                "The service is temporarily unavailable; retry shortly.",
                code::SERVICE_UNAVAILABLE,
            )
        }
        DomainError::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "internal error");
            internal()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(err: DomainError) -> String {
        let gql: async_graphql::Error = ApiError::from(err).into();
        let ext = gql.extensions.expect("extensions");
        match ext.get("code") {
            Some(async_graphql::Value::String(s)) => s.clone(),
            other => panic!("no code: {other:?}"),
        }
    }

    #[test]
    fn every_domain_error_has_its_code() {
        let cases = [
            (
                DomainError::validation("email", "bad"),
                code::BAD_USER_INPUT,
            ),
            (DomainError::NotFound("customer"), code::NOT_FOUND),
            (DomainError::conflict("dup"), code::CONFLICT),
            (DomainError::Forbidden, code::FORBIDDEN),
            (DomainError::Unauthenticated, code::UNAUTHENTICATED),
            (
                DomainError::RateLimited {
                    retry_after_secs: 1,
                },
                code::RATE_LIMITED,
            ),
            (
                DomainError::InsufficientPoints {
                    balance: 1,
                    required: 2,
                },
                code::INSUFFICIENT_POINTS,
            ),
            (DomainError::OutOfStock, code::OUT_OF_STOCK),
            (DomainError::InvalidToken, code::INVALID_TOKEN),
            (DomainError::TokenExpired, code::TOKEN_EXPIRED),
            (DomainError::AlreadySubmitted, code::ALREADY_SUBMITTED),
            (
                DomainError::Unavailable(anyhow::anyhow!("io")),
                code::SERVICE_UNAVAILABLE,
            ),
            (
                DomainError::Internal(anyhow::anyhow!("SELECT secret")),
                code::INTERNAL,
            ),
        ];
        for (err, want) in cases {
            let name = format!("{err:?}");
            assert_eq!(code_of(err), want, "{name}");
        }
    }

    /// docs/frontend.md's table is the one list of codes clients read: it
    /// names every code of the `code` module above, and no other.
    #[test]
    fn the_frontend_guide_lists_every_code() {
        let source = include_str!("error.rs");
        let module = source
            .split("pub mod code {")
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .expect("the code module");
        let codes: Vec<&str> = module
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pub const "))
            .filter_map(|l| l.split_once(": &str = \""))
            .map(|(name, _)| name)
            .collect();
        assert!(codes.len() >= 15, "found {codes:?}");
        let guide = include_str!("../../../docs/frontend.md");
        let section = guide
            .split("## Errors by `extensions.code`")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("the errors section of docs/frontend.md");
        let listed: Vec<&str> = section
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once('`'))
            .map(|(code, _)| code)
            .filter(|c| c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
            .collect();
        for code in &codes {
            assert!(
                listed.contains(code),
                "{code} is missing from docs/frontend.md"
            );
        }
        for code in &listed {
            assert!(
                codes.contains(code),
                "docs/frontend.md lists {code}, which the api never sends"
            );
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let gql: async_graphql::Error = ApiError::from(DomainError::Internal(anyhow::anyhow!(
            "SELECT * FROM users"
        )))
        .into();
        assert_eq!(gql.message, INTERNAL_MESSAGE);
    }

    #[test]
    fn validation_errors_name_the_field() {
        let gql: async_graphql::Error =
            ApiError::from(DomainError::validation("email", "bad")).into();
        let ext = gql.extensions.expect("extensions");
        assert_eq!(ext.get("field"), Some(&async_graphql::Value::from("email")));
    }
}
