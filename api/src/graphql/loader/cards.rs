//! The parts of a customer card read with a page of customers.
//!
//! A list of customers (or one customer) looks ahead at what its nodes
//! select and asks the domain for those parts in the page's own statement
//! ([`selected_by_nodes`], [`selected_by_customer`]);
//! the values then prime the loaders the card's resolvers read
//! ([`prime`]), so those resolvers answer without a batch. What is not
//! covered here (`totalCount`, pages after a cursor, a second alias with
//! another page size, referrals, churn history) goes through the loaders as
//! before; authorisation stays in each field's resolver.

use std::collections::HashMap;

use async_graphql::context::SelectionField;
use async_graphql::{Context, Lookahead, Value};
use domain::customers::{CardParts, Cards};
use domain::feedback::ResponseDetail;
use domain::pagination::Page;

use super::first_page::{FirstPage, InteractionsPageLoader, PurchasesPageLoader};
use super::latest_responses::{LatestResponses, LatestResponsesLoader};
use super::loyalty::MembershipsByCustomer;
use super::purchase_stats::PurchaseStatsLoader;
use super::Loader;
use crate::graphql::context::ContextExt;
use crate::graphql::error::ApiResult;
use crate::graphql::object::customer::nested_request;
use crate::graphql::object::survey::MAX_LATEST_RESPONSES;

/// The `Customer` fields answered by the purchase figures.
const PURCHASE_STATS_FIELDS: [&str; 4] = [
    "totalRevenue",
    "purchaseCount",
    "isRepeatCustomer",
    "isLoyal",
];

/// What a page's selection asks of its cards: the parts to read, and the
/// page sizes of the latest-responses selections to answer from them.
pub struct Selected {
    pub parts: CardParts,
    latest_limits: Vec<u64>,
}

/// The card parts a connection's nodes (`edges { node }` and `nodes`)
/// select and the actor may read.
pub fn selected_by_nodes(ctx: &Context<'_>) -> ApiResult<Selected> {
    let connection = ctx.look_ahead();
    selected(
        ctx,
        &[
            connection.field("edges").field("node"),
            connection.field("nodes"),
        ],
    )
}

/// The card parts a single customer's selection names and the actor may
/// read.
pub fn selected_by_customer(ctx: &Context<'_>) -> ApiResult<Selected> {
    selected(ctx, &[ctx.look_ahead()])
}

fn selected(ctx: &Context<'_>, nodes: &[Lookahead<'_>]) -> ApiResult<Selected> {
    let selects = |name: &str| nodes.iter().any(|node| node.field(name).exists());
    let actor = ctx.actor()?;
    let services = ctx.services()?;
    let mut parts = CardParts {
        purchase_stats: PURCHASE_STATS_FIELDS.iter().any(|name| selects(name)),
        ..CardParts::default()
    };
    if selects("memberships") && services.loyalty.authorize_member_read(actor).is_ok() {
        parts.memberships = true;
    }
    let mut latest_limits = Vec::new();
    if services.surveys.authorize_response_read(actor).is_ok() {
        for node in nodes {
            latest_limits.extend(
                node.field("latestSurveyResponses")
                    .selection_fields()
                    .iter()
                    .filter_map(latest_responses_limit),
            );
        }
        if selects("csi") {
            latest_limits.push(MAX_LATEST_RESPONSES as u64);
        }
        if let Some(limit) = latest_limits.iter().max() {
            let answers = nodes.iter().any(|node| {
                node.field("latestSurveyResponses")
                    .field("answers")
                    .exists()
            });
            let detail = if answers {
                ResponseDetail::WithAnswers
            } else {
                ResponseDetail::Summary
            };
            parts.latest_responses = Some((*limit, detail));
        }
    }
    parts.interactions = nodes
        .iter()
        .find_map(|node| first_page_limit(node, "interactions"));
    parts.purchases = nodes
        .iter()
        .find_map(|node| first_page_limit(node, "purchases"));
    Ok(Selected {
        parts,
        latest_limits,
    })
}

/// The page size of the first selection of the nested connection `name`
/// when it asks for a plain first page (no cursor, no `last`) of a valid
/// size: the page its loader would read.
fn first_page_limit(node: &Lookahead<'_>, name: &str) -> Option<u64> {
    let selections = node.field(name).selection_fields();
    let arguments = selections.first()?.arguments().ok()?;
    let argument = |key: &str| {
        arguments
            .iter()
            .find(|(name, _)| name.as_str() == key)
            .map(|(_, value)| value.clone())
    };
    let first = match argument("first") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(i32::try_from(n.as_i64()?).ok()?),
        Some(_) => return None,
    };
    let absent = |key: &str| matches!(argument(key), None | Some(Value::Null));
    if !(absent("after") && absent("last") && absent("before")) {
        return None;
    }
    let (request, plain) = nested_request(first, None, None, None).ok()?;
    plain.then_some(request.limit)
}

/// The `first` of a `latestSurveyResponses` selection when it is valid
/// (1..=20; an invalid one is refused by the field itself).
fn latest_responses_limit(field: &SelectionField<'_>) -> Option<u64> {
    let arguments = field.arguments().ok()?;
    let first = match arguments.iter().find(|(name, _)| name.as_str() == "first") {
        Some((_, async_graphql::Value::Number(n))) => n.as_i64()?,
        Some(_) => return None,
        None => 1,
    };
    (1..=i64::from(MAX_LATEST_RESPONSES))
        .contains(&first)
        .then(|| u64::try_from(first).ok())
        .flatten()
}

/// Hands the parts read with the page to the loaders of this request.
pub fn prime(ctx: &Context<'_>, selected: &Selected, cards: Cards) -> ApiResult<()> {
    let parts = selected.parts;
    if parts.purchase_stats {
        ctx.data::<Loader<PurchaseStatsLoader>>()?
            .prime(cards.purchase_stats);
    }
    if parts.memberships {
        ctx.data::<Loader<MembershipsByCustomer>>()?
            .prime(cards.memberships);
    }
    if parts.interactions.is_some() {
        ctx.data::<Loader<InteractionsPageLoader>>()?
            .prime(first_pages(parts.interactions, cards.interactions));
    }
    if parts.purchases.is_some() {
        ctx.data::<Loader<PurchasesPageLoader>>()?
            .prime(first_pages(parts.purchases, cards.purchases));
    }
    if let Some((_, detail)) = parts.latest_responses {
        // Each selection's page size is a prefix of the longest one read;
        // with answers read, both kinds of key are answered.
        let details: &[ResponseDetail] = match detail {
            ResponseDetail::WithAnswers => &[ResponseDetail::Summary, ResponseDetail::WithAnswers],
            ResponseDetail::Summary => &[ResponseDetail::Summary],
        };
        let loader = ctx.data::<Loader<LatestResponsesLoader>>()?;
        for (customer_id, responses) in &cards.latest_responses {
            for limit in &selected.latest_limits {
                let prefix: Vec<_> = responses
                    .iter()
                    .take(usize::try_from(*limit).unwrap_or(usize::MAX))
                    .cloned()
                    .collect();
                loader.prime(details.iter().map(|detail| {
                    let key = LatestResponses {
                        customer_id: *customer_id,
                        limit: *limit,
                        detail: *detail,
                    };
                    (key, prefix.clone())
                }));
            }
        }
    }
    Ok(())
}

/// A part's first pages keyed as its first-page loader keys them.
fn first_pages<T>(
    limit: Option<u64>,
    pages: HashMap<i64, Page<T>>,
) -> impl Iterator<Item = (FirstPage, Page<T>)> {
    pages.into_iter().filter_map(move |(parent_id, page)| {
        limit.map(|limit| (FirstPage { parent_id, limit }, page))
    })
}
