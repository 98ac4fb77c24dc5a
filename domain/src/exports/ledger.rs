//! One loyalty programme's ledger entries that occurred in a period
//! `[from, to)`, in id order (the order they were written).

use sea_orm::ConnectionTrait;

use super::csv::Line;
use super::{instant, Page, Record};
use crate::error::DomainResult;
use crate::metrics::Period;
use crate::sql::Sql;

pub(crate) fn header() -> Vec<String> {
    [
        "Entry ID",
        "Membership ID",
        "Customer ID",
        "Occurred at",
        "Points",
        "Reason",
        "Reference",
        "Expires at",
        "Note",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Writes one page of entries; returns how many and the last id.
pub(crate) async fn page(
    db: &impl ConnectionTrait,
    program_id: i64,
    period: &Period,
    page: &Page,
    out: &mut Vec<u8>,
) -> DomainResult<(u64, Option<i64>)> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT e.id, e.membership_id, m.customer_id, e.occurred_at, e.delta, e.reason, \
         e.source_key, e.expires_at, e.note \
         FROM ledger_entries e JOIN memberships m ON m.id = e.membership_id \
         WHERE m.program_id = ",
    )
    .bind(program_id)
    .push(" AND e.occurred_at >= ")
    .bind(period.start())
    .push(" AND e.occurred_at < ")
    .bind(period.end())
    .push(" AND e.id > ")
    .bind(page.after)
    .push(" AND e.id <= ")
    .bind(page.bound)
    .push(" ORDER BY e.id LIMIT ")
    .bind_count(page.limit);
    let rows = db.query_all_raw(sql.build()).await?;
    let mut line = Line::new();
    let mut last = None;
    for row in &rows {
        let id: i64 = row.try_get("", "id")?;
        let occurred_at: chrono::DateTime<chrono::Utc> = row.try_get("", "occurred_at")?;
        let expires_at: Option<chrono::DateTime<chrono::Utc>> = row.try_get("", "expires_at")?;
        let reference: String = row.try_get("", "source_key")?;
        let note: Option<String> = row.try_get("", "note")?;
        line.value((page.ids)(Record::LedgerEntry, id))
            .value((page.ids)(
                Record::Membership,
                row.try_get("", "membership_id")?,
            ))
            .value((page.ids)(
                Record::Customer,
                row.try_get("", "customer_id")?,
            ))
            .value(instant(occurred_at))
            .value(row.try_get::<i64>("", "delta")?)
            .value(row.try_get::<String>("", "reason")?)
            .text(&reference)
            .opt_value(expires_at.map(instant))
            .opt_text(note.as_deref());
        line.end(out);
        last = Some(id);
    }
    Ok((rows.len() as u64, last))
}
