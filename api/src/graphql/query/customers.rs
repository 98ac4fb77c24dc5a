//! Queries about customers.

use async_graphql::{Context, Json, Object, ID};
use domain::customers::CustomerCursor;
use domain::pagination::PageRequest;
use domain::FoundExt;

use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::input::customer::{CustomerFilter, CustomerOrder};
use crate::graphql::loader::cards;
use crate::graphql::object::connection::{counted, CountedConnection};
use crate::graphql::object::customer::{Customer, UpcomingBirthday};
use crate::graphql::scalar::{parse_id, NodeType};

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// Customers as a Relay connection, filtered and ordered (default: most
    /// recently acquired first). Cursors stay valid when customers are added.
    #[allow(clippy::too_many_arguments)]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size from the start (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to read after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to read before.")] before: Option<String>,
        #[graphql(desc = "Which customers to list.")] filter: Option<CustomerFilter>,
        #[graphql(desc = "Sort order; cursors belong to the order they were issued for.")]
        order_by: Option<CustomerOrder>,
    ) -> ApiResult<CountedConnection<Customer>> {
        let actor = ctx.actor()?;
        let services = ctx.services()?;
        let filter: domain::customers::CustomerFilter = filter.unwrap_or_default().into();
        let page = PageRequest::<CustomerCursor>::parse(first, after, last, before)?;
        let selected = cards::selected_by_nodes(ctx)?;
        let (page, cards) = services
            .customers
            .list(
                actor,
                page,
                filter.clone(),
                order_by.map(Into::into).unwrap_or_default(),
                selected.parts,
            )
            .await?;
        cards::prime(ctx, &selected, cards)?;
        let (customers, actor) = (services.customers.clone(), actor.clone());
        Ok(counted(page, Customer::new, move || {
            let (customers, actor, filter) = (customers.clone(), actor.clone(), filter.clone());
            async move { Ok(customers.count(&actor, filter).await?) }
        }))
    }

    /// How many customers match `filter` (all customers without one).
    async fn customer_count(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which customers to count.")] filter: Option<CustomerFilter>,
    ) -> ApiResult<i64> {
        let actor = ctx.actor()?;
        let count = ctx
            .services()?
            .customers
            .count(actor, filter.unwrap_or_default().into())
            .await?;
        Ok(count)
    }

    /// One customer; null when it does not exist.
    async fn customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
    ) -> ApiResult<Option<Customer>> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &id)?;
        let selected = cards::selected_by_customer(ctx)?;
        let card = ctx
            .services()?
            .customers
            .card(actor, id, selected.parts)
            .await
            .found()?;
        Ok(match card {
            Some((customer, cards)) => {
                cards::prime(ctx, &selected, cards)?;
                Some(Customer::new(customer))
            }
            None => None,
        })
    }

    /// Customers whose birthday falls within the next `days` days (today
    /// included, 0–366), soonest first. 29 February birthdays are celebrated
    /// on 28 February in common years.
    async fn upcoming_birthdays(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Window length in days (0 = today only).", default = 30)] days: i32,
    ) -> ApiResult<Vec<UpcomingBirthday>> {
        let actor = ctx.actor()?;
        let list = ctx
            .services()?
            .customers
            .upcoming_birthdays(actor, days, None)
            .await?;
        Ok(list.into_iter().map(UpcomingBirthday).collect())
    }

    /// Everything stored about a customer, as JSON (MANAGER and ADMIN): the
    /// customer row, tags, interactions, purchases, costs, churn events,
    /// memberships and ledger entries, survey invitations (without token
    /// hashes), responses and answers, follow-ups and erasures.
    async fn export_customer_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
    ) -> ApiResult<Json<serde_json::Value>> {
        let actor = ctx.actor()?;
        let id = parse_id(NodeType::Customer, "id", &id)?;
        let data = ctx.services()?.customers.export(actor, id).await?;
        Ok(Json(data))
    }
}
