//! Sign-in, sessions and user administration.

use async_graphql::{Context, Object, ID};
use domain::users::IssuedSession;

use crate::graphql::context::{ClientAddr, ContextExt};
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::object::user::{AuthPayload, Role, User};
use crate::graphql::scalar::{parse_id, NodeType};
use crate::state::Services;

#[derive(Default)]
pub struct UserMutation;

fn payload(
    services: &Services,
    user: domain::users::User,
    session: IssuedSession,
) -> ApiResult<AuthPayload> {
    // Minted at the session's issue time with an id derived from its refresh
    // token, so a repeated refresh (within the reuse interval) answers the
    // very same pair.
    let (access_token, access_token_expires_at) = services
        .jwt
        .issue_at(
            user.id,
            user.role,
            session.issued_at,
            session.access_token_id(),
        )
        .map_err(|e| ApiError::from(domain::DomainError::Internal(e)))?;
    Ok(AuthPayload {
        access_token,
        access_token_expires_at: access_token_expires_at.into(),
        refresh_token: session.refresh_token,
        refresh_token_expires_at: session.refresh_expires_at.into(),
        user: User(user),
    })
}

#[Object]
impl UserMutation {
    /// Signs in with e-mail and password. Unknown e-mails and wrong passwords
    /// answer the same `UNAUTHENTICATED`; repeated failures from one client
    /// address are `RATE_LIMITED` for that address.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> ApiResult<AuthPayload> {
        let services = ctx.services()?;
        let client = ctx
            .data_opt::<ClientAddr>()
            .map_or("unknown", |c| c.0.as_str());
        let (user, session) = services.users.login(&email, password, client).await?;
        payload(services, user, session)
    }

    /// Exchanges a refresh token for a new session. The token is spent; sent
    /// again within the reuse interval (default 30 s) it answers the same new
    /// pair, and after it, it revokes every session descended from the same
    /// login.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> ApiResult<AuthPayload> {
        let services = ctx.services()?;
        let (user, session) = services.users.refresh(&refresh_token).await?;
        payload(services, user, session)
    }

    /// Ends the session the refresh token belongs to.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> ApiResult<bool> {
        ctx.services()?.users.logout(&refresh_token).await?;
        Ok(true)
    }

    /// Creates a staff account (ADMIN). Passwords need at least 12 characters
    /// and a zxcvbn strength of at least 3 of 4.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        role: Role,
    ) -> ApiResult<User> {
        let actor = ctx.actor()?;
        let user = ctx
            .services()?
            .users
            .create_user(Some(actor), &email, password, role.into())
            .await?;
        Ok(User(user))
    }

    /// Changes a user's role (ADMIN); effective on their next request.
    async fn update_user_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> ApiResult<User> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::User, "userId", &user_id)?;
        let user = ctx
            .services()?
            .users
            .update_role(actor, id, role.into())
            .await?;
        Ok(User(user))
    }

    /// Deactivates a user (ADMIN) and revokes their sessions; effective on
    /// their next request.
    async fn deactivate_user(&self, ctx: &Context<'_>, user_id: ID) -> ApiResult<User> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::User, "userId", &user_id)?;
        let user = ctx.services()?.users.deactivate(actor, id).await?;
        Ok(User(user))
    }
}
