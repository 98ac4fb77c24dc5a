//! Staff authentication: access JWTs and turning a bearer header into an actor.

pub mod jwt;

use domain::auth::Actor;
use domain::users::UserService;
use domain::{DomainError, DomainResult};

pub use jwt::JwtKeys;

/// Resolves the `Authorization` header into the acting user.
///
/// No header means an anonymous request (public operations still work). A
/// header that is not a valid access token, or a token whose user has been
/// deactivated, is `UNAUTHENTICATED`. The role comes from the database, so a
/// role change takes effect on the user's next request.
///
/// # Errors
/// `UNAUTHENTICATED` as above; database failures as they are.
pub async fn authenticate(
    header: Option<&str>,
    keys: &JwtKeys,
    users: &UserService,
) -> DomainResult<Option<Actor>> {
    let Some(header) = header else {
        return Ok(None);
    };
    let claims = verify_bearer(header, keys)?;
    current_actor(claims.user_id, users).await.map(Some)
}

/// What a valid access token says: whose it is and until when it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bearer {
    pub user_id: i64,
    /// `exp`, in seconds since the epoch.
    pub expires_at: i64,
}

/// Checks a `Bearer …` header value and its access token.
///
/// # Errors
/// `UNAUTHENTICATED` when it is not a valid access token.
pub fn verify_bearer(header: &str, keys: &JwtKeys) -> DomainResult<Bearer> {
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or(DomainError::Unauthenticated)?
        .trim();
    let claims = keys.verify(token).ok_or(DomainError::Unauthenticated)?;
    let user_id: i64 = claims
        .sub
        .parse()
        .map_err(|_| DomainError::Unauthenticated)?;
    Ok(Bearer {
        user_id,
        expires_at: claims.exp,
    })
}

/// The user as the database has them now: the one check every request (and
/// every WebSocket operation) makes, so a role change or a deactivation
/// applies to the next one.
///
/// # Errors
/// `UNAUTHENTICATED` when the user is gone or deactivated; database
/// failures as they are.
pub async fn current_actor(user_id: i64, users: &UserService) -> DomainResult<Actor> {
    match users.find(user_id).await? {
        Some(user) if user.active => Ok(Actor {
            user_id: user.id,
            role: user.role,
        }),
        _ => Err(DomainError::Unauthenticated),
    }
}
