//! Queries about staff users.

use async_graphql::{Context, Object};

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::object::connection::{counted, CountedConnection};
use crate::graphql::object::user::User;
use domain::pagination::PageRequest;

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

    /// Staff users, oldest first (ADMIN).
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
    ) -> ApiResult<CountedConnection<User>> {
        let actor = ctx.actor()?.clone();
        let services = ctx.services()?.clone();
        let request = PageRequest::<i64>::parse(first, after, last, before)?;
        let page = services.users.list(&actor, &request).await?;
        Ok(counted(page, User, move || {
            let (services, actor) = (services.clone(), actor.clone());
            async move { services.users.count(&actor).await.map_err(ApiError::from) }
        }))
    }
}
