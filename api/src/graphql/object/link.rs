//! Following a link from one record to another: each function checks the
//! reader's capability with the linked type's own rule (the domain's
//! `authorize_*`, the same rule as the type's root query) and then asks the
//! request's batch loader, so a list of rows costs one batch per link.

use async_graphql::Context;

use crate::graphql::context::ContextExt;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::loader::customer::CustomerLoader;
use crate::graphql::loader::links::{
    FactorSetLoader, ProgramLoader, PurchaseLoader, ResponseLoader, SurveyLoader, UserLoader,
};
use crate::graphql::loader::{BatchLoad, Loader};
use crate::graphql::object::csi::CsiFactorSet;
use crate::graphql::object::customer::{Customer, Purchase};
use crate::graphql::object::loyalty::LoyaltyProgram;
use crate::graphql::object::survey::{Survey, SurveyResponse};
use crate::graphql::object::user::User;

async fn load<L: BatchLoad<Key = i64>>(
    ctx: &Context<'_>,
    id: Option<i64>,
) -> ApiResult<Option<L::Value>> {
    let Some(id) = id else {
        return Ok(None);
    };
    ctx.data::<Loader<L>>()?
        .load_one(id)
        .await
        .map_err(ApiError::from)
}

/// The customer `id` (who can read customers).
pub async fn customer(ctx: &Context<'_>, id: Option<i64>) -> ApiResult<Option<Customer>> {
    ctx.services()?.customers.authorize_read(ctx.actor()?)?;
    Ok(load::<CustomerLoader>(ctx, id).await?.map(Customer::new))
}

/// The purchase `id` (who can read customers).
pub async fn purchase(ctx: &Context<'_>, id: Option<i64>) -> ApiResult<Option<Purchase>> {
    ctx.services()?.customers.authorize_read(ctx.actor()?)?;
    Ok(load::<PurchaseLoader>(ctx, id).await?.map(Purchase))
}

/// The survey `id` (who can read surveys).
pub async fn survey(ctx: &Context<'_>, id: Option<i64>) -> ApiResult<Option<Survey>> {
    ctx.services()?
        .surveys
        .authorize_survey_read(ctx.actor()?)?;
    Ok(load::<SurveyLoader>(ctx, id).await?.map(Survey))
}

/// The survey response `id` (who can read responses).
pub async fn response(ctx: &Context<'_>, id: Option<i64>) -> ApiResult<Option<SurveyResponse>> {
    ctx.services()?
        .surveys
        .authorize_response_read(ctx.actor()?)?;
    Ok(load::<ResponseLoader>(ctx, id)
        .await?
        .map(SurveyResponse::from))
}

/// The loyalty programme `id` (who can read loyalty configuration).
pub async fn loyalty_program(
    ctx: &Context<'_>,
    id: Option<i64>,
) -> ApiResult<Option<LoyaltyProgram>> {
    ctx.services()?
        .loyalty
        .authorize_configuration_read(ctx.actor()?)?;
    Ok(load::<ProgramLoader>(ctx, id).await?.map(LoyaltyProgram))
}

/// The CSI factor-set version `id` (who can read factor sets).
pub async fn factor_set(ctx: &Context<'_>, id: Option<i64>) -> ApiResult<Option<CsiFactorSet>> {
    ctx.services()?.csi.authorize_read(ctx.actor()?)?;
    Ok(load::<FactorSetLoader>(ctx, id).await?.map(CsiFactorSet))
}

/// The staff user `id` (who can list users: ADMIN; others get `FORBIDDEN`
/// on the field, as `users` answers them).
pub async fn user(ctx: &Context<'_>, id: Option<i64>) -> ApiResult<Option<User>> {
    ctx.services()?.users.authorize_user_read(ctx.actor()?)?;
    Ok(load::<UserLoader>(ctx, id).await?.map(User))
}
