//! A page of customers with the parts of their card a screen shows —
//! purchase figures, loyalty memberships, latest survey responses, the first
//! page of interactions and of purchases — read in the page's own statement:
//! each part is a correlated subquery per customer returning JSON
//! (`sql::push_json_rows`). The caller names the parts it needs (the API
//! reads them from the GraphQL selection); the rest of a card is read on
//! demand by the batch functions of each area.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, QueryResult};

use super::batch::{
    interactions_from_rows, purchases_from_rows, push_first_rows_column, FirstRowsTable,
};
use super::list::PageColumns;
use super::types::{CurrencyAmount, Interaction, Purchase, PurchaseStats};
use crate::auth::{Actor, Capability};
use crate::error::DomainResult;
use crate::feedback::customers::{
    push_latest_responses_column, responses_from_rows, LatestResponseRow,
};
use crate::feedback::{ResponseDetail, SurveyResponse};
use crate::loyalty::programs::{memberships_from_rows, push_memberships_column, MembershipRow};
use crate::loyalty::Membership;
use crate::money::stored_to_decimal;
use crate::pagination::Page;
use crate::sql::{json_rows, push_json_rows, Sql};

/// Which parts of each customer's card to read with a page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CardParts {
    /// Purchase count and revenue per currency.
    pub purchase_stats: bool,
    /// Loyalty memberships with their programmes.
    pub memberships: bool,
    /// The newest `n` survey responses, with or without their answers.
    pub latest_responses: Option<(u64, ResponseDetail)>,
    /// The first page of `n` interactions, newest first.
    pub interactions: Option<u64>,
    /// The first page of `n` purchases, newest first.
    pub purchases: Option<u64>,
}

impl CardParts {
    /// Checks that `actor` may read customers and every part asked for.
    ///
    /// # Errors
    /// `FORBIDDEN`.
    pub(crate) fn authorize(&self, actor: &Actor) -> DomainResult<()> {
        actor.require(Capability::ReadCustomers)?;
        if self.latest_responses.is_some() {
            actor.require(Capability::ReadSurveys)?;
        }
        Ok(())
    }
}

/// The parts read with a page, keyed by customer id: every customer of the
/// page has an entry in each part that was asked for.
#[derive(Debug, Default)]
pub struct Cards {
    pub purchase_stats: HashMap<i64, PurchaseStats>,
    pub memberships: HashMap<i64, Vec<Membership>>,
    pub latest_responses: HashMap<i64, Vec<SurveyResponse>>,
    pub interactions: HashMap<i64, Page<Interaction>>,
    pub purchases: HashMap<i64, Page<Purchase>>,
}

/// One customer's parts as read from the page's row.
pub(crate) struct CardRow {
    purchase_stats: Option<PurchaseStats>,
    memberships: Option<Vec<MembershipRow>>,
    latest_responses: Option<Vec<LatestResponseRow>>,
    interactions: Option<Page<Interaction>>,
    purchases: Option<Page<Purchase>>,
}

/// The row of the page statement (`page.id` is the customer's id).
const CUSTOMER_ID: &str = "page.id";

impl PageColumns for CardParts {
    type Row = CardRow;

    fn push(&self, sql: &mut Sql) {
        if self.purchase_stats {
            sql.push(", ");
            push_json_rows(
                sql,
                "p.currency, p.n, p.total",
                |sql| {
                    sql.push(&format!(
                        "FROM (SELECT currency, COUNT(*) AS n, \
                         CAST(SUM(amount_minor) AS BIGINT) AS total FROM purchases \
                         WHERE customer_id = {CUSTOMER_ID} GROUP BY currency) p"
                    ));
                },
                "p.currency",
            );
            sql.push(" AS card_purchase_stats");
        }
        if self.memberships {
            sql.push(", ");
            push_memberships_column(sql, CUSTOMER_ID);
            sql.push(" AS card_memberships");
        }
        if let Some((limit, _)) = self.latest_responses {
            sql.push(", ");
            push_latest_responses_column(sql, CUSTOMER_ID, limit);
            sql.push(" AS card_latest_responses");
        }
        if let Some(limit) = self.interactions {
            sql.push(", ");
            push_first_rows_column(sql, FirstRowsTable::Interactions, CUSTOMER_ID, limit);
            sql.push(" AS card_interactions");
        }
        if let Some(limit) = self.purchases {
            sql.push(", ");
            push_first_rows_column(sql, FirstRowsTable::Purchases, CUSTOMER_ID, limit);
            sql.push(" AS card_purchases");
        }
    }

    fn read(&self, row: &QueryResult) -> DomainResult<CardRow> {
        let column = |name: &str| -> DomainResult<Option<String>> {
            Ok(row.try_get::<Option<String>>("", name)?)
        };
        let purchase_stats = if self.purchase_stats {
            let rows: Vec<(String, i64, i64)> =
                json_rows(column("card_purchase_stats")?.as_deref())?;
            let mut stats = PurchaseStats::default();
            for (currency, n, total) in rows {
                stats.count += n;
                stats.revenue.push(CurrencyAmount {
                    amount: stored_to_decimal(total, &currency)?,
                    currency,
                });
            }
            Some(stats)
        } else {
            None
        };
        let memberships = if self.memberships {
            Some(json_rows(column("card_memberships")?.as_deref())?)
        } else {
            None
        };
        let latest_responses = match self.latest_responses {
            Some(_) => Some(json_rows(column("card_latest_responses")?.as_deref())?),
            None => None,
        };
        let interactions = match self.interactions {
            Some(limit) => Some(interactions_from_rows(
                json_rows(column("card_interactions")?.as_deref())?,
                limit,
            )?),
            None => None,
        };
        let purchases = match self.purchases {
            Some(limit) => Some(purchases_from_rows(
                json_rows(column("card_purchases")?.as_deref())?,
                limit,
            )?),
            None => None,
        };
        Ok(CardRow {
            purchase_stats,
            memberships,
            latest_responses,
            interactions,
            purchases,
        })
    }
}

/// Gathers a page's card rows into [`Cards`], reading the memberships'
/// programmes (one statement for the whole page) and, when asked, the
/// responses' answers (one).
pub(crate) async fn gather(
    db: &impl ConnectionTrait,
    parts: &CardParts,
    rows: Vec<(i64, CardRow)>,
) -> DomainResult<Cards> {
    let mut cards = Cards::default();
    let mut memberships = Vec::new();
    let mut responses = Vec::new();
    for (id, row) in rows {
        if let Some(stats) = row.purchase_stats {
            cards.purchase_stats.insert(id, stats);
        }
        if let Some(list) = row.memberships {
            cards.memberships.insert(id, Vec::new());
            memberships.extend(list);
        }
        if let Some(list) = row.latest_responses {
            cards.latest_responses.insert(id, Vec::new());
            responses.extend(list);
        }
        if let Some(page) = row.interactions {
            cards.interactions.insert(id, page);
        }
        if let Some(page) = row.purchases {
            cards.purchases.insert(id, page);
        }
    }
    if let Some((_, detail)) = parts.latest_responses {
        for response in responses_from_rows(db, responses, detail).await? {
            cards
                .latest_responses
                .entry(response.customer_id)
                .or_default()
                .push(response);
        }
    }
    if !memberships.is_empty() {
        for membership in memberships_from_rows(db, memberships).await? {
            cards
                .memberships
                .entry(membership.customer_id)
                .or_default()
                .push(membership);
        }
    }
    Ok(cards)
}
