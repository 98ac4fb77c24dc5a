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
    match users.find(user_id).await? {
        Some(user) if user.active => Ok(Some(Actor {
            user_id: user.id,
            role: user.role,
        })),
        _ => Err(DomainError::Unauthenticated),
    }
}
