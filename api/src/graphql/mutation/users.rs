//! Sign-in, sessions and user administration.

use async_graphql::{Context, Object};
use domain::users::IssuedSession;

use crate::graphql::context::{ClientAddr, ContextExt};
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::input::user::{
    CreateUserInput, DeactivateUserInput, LoginInput, LogoutInput, RefreshSessionInput,
    UpdateUserRoleInput,
};
use crate::graphql::object::user::User;
use crate::graphql::payload::users::{
    CreateUserPayload, DeactivateUserPayload, LoginPayload, LogoutPayload, RefreshSessionPayload,
    Session, UpdateUserRolePayload,
};
use crate::graphql::scalar::{parse_id, NodeType};
use crate::state::Services;

#[derive(Default)]
pub struct UserMutation;

fn session(
    services: &Services,
    user: domain::users::User,
    session: IssuedSession,
) -> ApiResult<Session> {
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
    Ok(Session {
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
        #[graphql(desc = "E-mail and password.")] input: LoginInput,
    ) -> ApiResult<LoginPayload> {
        let services = ctx.services()?;
        let client = ctx
            .data_opt::<ClientAddr>()
            .map_or("unknown", |c| c.0.as_str());
        let (user, issued) = services
            .users
            .login(&input.email, input.password, client)
            .await?;
        Ok(LoginPayload::new(
            input.client_mutation_id,
            session(services, user, issued)?,
        ))
    }

    /// Exchanges a refresh token for a new session. The token is spent; sent
    /// again within the reuse interval (default 30 s) it answers the same new
    /// pair, and after it, it revokes every session descended from the same
    /// login.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token.")] input: RefreshSessionInput,
    ) -> ApiResult<RefreshSessionPayload> {
        let services = ctx.services()?;
        let (user, issued) = services.users.refresh(&input.refresh_token).await?;
        Ok(RefreshSessionPayload::new(
            input.client_mutation_id,
            session(services, user, issued)?,
        ))
    }

    /// Ends the session the refresh token belongs to.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token.")] input: LogoutInput,
    ) -> ApiResult<LogoutPayload> {
        ctx.services()?.users.logout(&input.refresh_token).await?;
        Ok(LogoutPayload {
            client_mutation_id: input.client_mutation_id,
            logged_out: true,
        })
    }

    /// Creates a staff account (ADMIN). Passwords need at least 12 characters
    /// and a zxcvbn strength of at least 3 of 4.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "E-mail, password and role.")] input: CreateUserInput,
    ) -> ApiResult<CreateUserPayload> {
        let actor = ctx.actor()?;
        let user = ctx
            .services()?
            .users
            .create_user(Some(actor), &input.email, input.password, input.role.into())
            .await?;
        Ok(CreateUserPayload {
            client_mutation_id: input.client_mutation_id,
            user: User(user),
        })
    }

    /// Changes a user's role (ADMIN); effective on their next request.
    async fn update_user_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id and the new role.")] input: UpdateUserRoleInput,
    ) -> ApiResult<UpdateUserRolePayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::User, "id", &input.id)?;
        let user = ctx
            .services()?
            .users
            .update_role(actor, id, input.role.into())
            .await?;
        Ok(UpdateUserRolePayload {
            client_mutation_id: input.client_mutation_id,
            user: User(user),
        })
    }

    /// Deactivates a user (ADMIN) and revokes their sessions; effective on
    /// their next request.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] input: DeactivateUserInput,
    ) -> ApiResult<DeactivateUserPayload> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::User, "id", &input.id)?;
        let user = ctx.services()?.users.deactivate(actor, id).await?;
        Ok(DeactivateUserPayload {
            client_mutation_id: input.client_mutation_id,
            user: User(user),
        })
    }
}
