//! The customers (SPEC §3's fields, tags joined by `; `). An erased
//! customer keeps only what erasure keeps: ids, stage and type, dates and
//! consent; every personal column is empty.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::csv::Line;
use super::{instant, Page, Record};
use crate::error::DomainResult;
use crate::sql::Sql;
use entity::customers;

pub(crate) fn header() -> Vec<String> {
    [
        "Customer ID",
        "Name",
        "Email",
        "Phone",
        "Birthday",
        "Locale",
        "Tags",
        "Relationship stage",
        "Relationship type",
        "Acquired at",
        "Referred by",
        "Churned at",
        "Churn reason",
        "Churn note",
        "Marketing consent",
        "Erased at",
        "Created at",
        "Updated at",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Writes one page of customers; returns how many and the last id.
pub(crate) async fn page(
    db: &impl ConnectionTrait,
    page: &Page,
    out: &mut Vec<u8>,
) -> DomainResult<(u64, Option<i64>)> {
    let rows = customers::Entity::find()
        .filter(customers::Column::Id.gt(page.after))
        .filter(customers::Column::Id.lte(page.bound))
        .order_by_asc(customers::Column::Id)
        .limit(page.limit)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let mut tags = tags_for(db, &ids).await?;
    let mut line = Line::new();
    for c in &rows {
        let tags = tags.remove(&c.id).unwrap_or_default();
        line.value((page.ids)(Record::Customer, c.id));
        if c.erased_at.is_some() {
            // Name, e-mail, phone, birthday and tags.
            for _ in 0..4 {
                line.value("");
            }
            line.opt_text(c.locale.as_deref()).value("");
        } else {
            line.text(&c.name)
                .opt_text(c.email.as_deref())
                .opt_text(c.phone.as_deref())
                .opt_value(c.birthday)
                .opt_text(c.locale.as_deref())
                .text(&tags.join("; "));
        }
        line.value(&c.relationship_stage)
            .opt_value(c.relationship_type.as_deref())
            .value(instant(c.acquired_at))
            .opt_value(c.referred_by_id.map(|id| (page.ids)(Record::Customer, id)))
            .opt_value(c.churned_at.map(instant))
            .opt_value(c.churn_reason.as_deref());
        if c.erased_at.is_some() {
            line.value("");
        } else {
            line.opt_text(c.churn_note.as_deref());
        }
        line.yes_no(c.marketing_consent)
            .opt_value(c.erased_at.map(instant))
            .value(instant(c.created_at))
            .value(instant(c.updated_at));
        line.end(out);
    }
    Ok((rows.len() as u64, ids.last().copied()))
}

/// The tags of a page of customers, each list sorted.
async fn tags_for(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> DomainResult<HashMap<i64, Vec<String>>> {
    let mut map: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(map);
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT customer_id, tag FROM customer_tags WHERE ")
        .id_in("customer_id", ids)
        .push(" ORDER BY customer_id, tag");
    for row in db.query_all_raw(sql.build()).await? {
        let customer_id: i64 = row.try_get("", "customer_id")?;
        let tag: String = row.try_get("", "tag")?;
        map.entry(customer_id).or_default().push(tag);
    }
    Ok(map)
}
