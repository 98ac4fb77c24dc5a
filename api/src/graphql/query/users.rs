//! Queries about staff users.

use async_graphql::{Context, Object};

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::object::user::User;

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let actor = ctx.actor()?;
        let user = ctx.services()?.users.find(actor.user_id).await?;
        user.map(User).ok_or_else(ApiError::unauthenticated)
    }

    /// All staff users (ADMIN).
    async fn users(&self, ctx: &Context<'_>) -> ApiResult<Vec<User>> {
        let actor = ctx.actor()?;
        let users = ctx.services()?.users.list(actor).await?;
        Ok(users.into_iter().map(User).collect())
    }
}
