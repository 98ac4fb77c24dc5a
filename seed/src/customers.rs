//! Demo data for the customers area: a few hundred customers acquired over the
//! last two years, with stages, types, tags, referrals, touchpoints (some that
//! helped), purchases (mostly EUR, some USD), churn with reasons (some won
//! back) and acquisition and care costs.
//!
//! The generator is seeded, so every run produces the same shape (dates are
//! relative to now). Everything is inserted in batches in one transaction.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use entity::{churn_events, costs, customer_tags, customers, interactions, purchases};

use domain::customers::{Channel, ChurnReason, CostKind, RelationshipStage, RelationshipType};
use domain::error::DomainResult;

/// How many customers the demo creates.
pub const DEMO_CUSTOMERS: usize = 300;
const SEED: u64 = 0x5EED_C0FFEE;
const CHUNK: usize = 400;

const FIRST: &[&str] = &[
    "Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Karin",
    "Luca", "Mia", "Noah", "Olga", "Paul", "Rosa", "Sami", "Tara", "Umut", "Vera", "Wim", "Yara",
    "Zoe", "Amir", "Lena", "Marco", "Nora", "Omar", "Pia",
];
const LAST: &[&str] = &[
    "Schmidt", "Rossi", "Novak", "García", "Dubois", "Jansen", "Kowalski", "Berg", "Costa",
    "Müller", "Horvat", "Nielsen", "Moreau", "Silva", "Wagner", "Fischer", "Lind", "Popescu",
    "Weber", "Keller",
];
const TAGS: &[&str] = &[
    "vip",
    "newsletter",
    "b2b",
    "wholesale",
    "event-2025",
    "online",
    "walk-in",
    "student",
];
const LOCALES: &[&str] = &[
    "de-DE", "de-AT", "en-GB", "fr-FR", "it-IT", "nl-NL", "es-ES",
];
const SUMMARIES: &[&str] = &[
    "Asked about delivery times",
    "Product advice on the phone",
    "Complaint about a late parcel, resolved",
    "Visited the store for a fitting",
    "Chat about a return",
    "Newsletter reply with a question",
    "Follow-up after purchase",
];

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

fn between(rng: &mut StdRng, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let span = (to - from).num_seconds().max(1);
    from + Duration::seconds(rng.random_range(0..span))
}

/// Seeds the customers demo data.
///
/// # Errors
/// Database failures; nothing is written then.
pub async fn seed(db: &DatabaseConnection) -> DomainResult<()> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let now = Utc::now();
    let start = now - Duration::days(730);
    let txn = db.begin().await?;
    let first_id = customers::Entity::find()
        .order_by_desc(customers::Column::Id)
        .one(&txn)
        .await?
        .map_or(0, |c| c.id);

    // Customers, oldest first, so referrers precede the customers they refer.
    let mut acquired: Vec<DateTime<Utc>> = (0..DEMO_CUSTOMERS)
        .map(|_| between(&mut rng, start, now - Duration::days(3)))
        .collect();
    acquired.sort();
    struct Plan {
        acquired_at: DateTime<Utc>,
        churn: Option<(DateTime<Utc>, ChurnReason, Option<DateTime<Utc>>)>,
        stage: RelationshipStage,
    }
    let mut plans = Vec::with_capacity(DEMO_CUSTOMERS);
    let mut rows = Vec::with_capacity(DEMO_CUSTOMERS);
    for (i, acquired_at) in acquired.iter().copied().enumerate() {
        let first = pick(&mut rng, FIRST);
        let last = pick(&mut rng, LAST);
        let churn = rng.random_bool(0.18).then(|| {
            let at = between(&mut rng, acquired_at + Duration::days(20), now)
                .min(now - Duration::hours(1))
                .max(acquired_at);
            let reason = ChurnReason::ALL[rng.random_range(0..ChurnReason::ALL.len())];
            let back = rng
                .random_bool(0.2)
                .then(|| between(&mut rng, at, now).min(now - Duration::minutes(1)))
                .filter(|b| *b > at);
            (at, reason, back)
        });
        let still_churned = churn.is_some_and(|(_, _, back)| back.is_none());
        let age_days = (now - acquired_at).num_days();
        let stage = if still_churned {
            RelationshipStage::Dissolution
        } else if age_days < 60 {
            [RelationshipStage::Awareness, RelationshipStage::Exploration][rng.random_range(0..2)]
        } else if age_days < 300 {
            [RelationshipStage::Exploration, RelationshipStage::Expansion][rng.random_range(0..2)]
        } else {
            [RelationshipStage::Expansion, RelationshipStage::Commitment][rng.random_range(0..2)]
        };
        let kind = RelationshipType::ALL[rng.random_range(0..RelationshipType::ALL.len())];
        let birthday = rng.random_bool(0.7).then(|| {
            let years = rng.random_range(18..75);
            (now - Duration::days(365 * years + rng.random_range(0..365))).date_naive()
        });
        let (churned_at, churn_reason, churn_note) = match churn {
            Some((at, reason, None)) => (
                Some(at),
                Some(reason.as_str().to_owned()),
                (reason == ChurnReason::Other).then(|| "Moved away".to_owned()),
            ),
            _ => (None, None, None),
        };
        rows.push(customers::ActiveModel {
            name: Set(format!("{first} {last}")),
            email: Set(Some(format!(
                "{}.{}.{i}@demo.example",
                first.to_lowercase(),
                last.to_lowercase()
            ))),
            phone: Set(rng
                .random_bool(0.6)
                .then(|| format!("+4930{:07}", rng.random_range(0..10_000_000)))),
            birthday: Set(birthday),
            locale: Set(Some(pick(&mut rng, LOCALES).to_owned())),
            relationship_stage: Set(stage.as_str().to_owned()),
            relationship_type: Set(Some(kind.as_str().to_owned())),
            acquired_at: Set(acquired_at),
            referred_by_id: Set(None),
            churned_at: Set(churned_at),
            churn_reason: Set(churn_reason),
            churn_note: Set(churn_note),
            marketing_consent: Set(rng.random_bool(0.55)),
            erased_at: Set(None),
            erased_by: Set(None),
            created_at: Set(acquired_at),
            updated_at: Set(acquired_at),
            ..Default::default()
        });
        plans.push(Plan {
            acquired_at,
            churn,
            stage,
        });
    }
    for chunk in chunks(rows) {
        customers::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    let ids: Vec<i64> = customers::Entity::find()
        .select_only()
        .column(customers::Column::Id)
        .filter(customers::Column::Id.gt(first_id))
        .order_by_asc(customers::Column::Id)
        .into_tuple()
        .all(&txn)
        .await?;

    let mut tags = Vec::new();
    let mut churns = Vec::new();
    let mut touchpoints = Vec::new();
    let mut sales = Vec::new();
    let mut spend = Vec::new();
    for (i, (id, plan)) in ids.iter().copied().zip(&plans).enumerate() {
        // Referrals: about a fifth of customers came through an earlier one.
        if i > 5 && rng.random_bool(0.2) {
            let referrer = ids[rng.random_range(0..i)];
            customers::Entity::update_many()
                .col_expr(customers::Column::ReferredById, Expr::value(referrer))
                .filter(customers::Column::Id.eq(id))
                .exec(&txn)
                .await?;
        }
        let mut own: Vec<&str> = (0..rng.random_range(0..3))
            .map(|_| pick(&mut rng, TAGS))
            .collect();
        own.sort_unstable();
        own.dedup();
        tags.extend(own.into_iter().map(|tag| customer_tags::ActiveModel {
            customer_id: Set(id),
            tag: Set(tag.to_owned()),
        }));
        let active_until = plan
            .churn
            .map_or(now, |(at, _, back)| if back.is_some() { now } else { at });
        if let Some((at, reason, back)) = plan.churn {
            churns.push(churn_events::ActiveModel {
                customer_id: Set(id),
                churned_at: Set(at),
                reason: Set(reason.as_str().to_owned()),
                note: Set((reason == ChurnReason::Other).then(|| "Moved away".to_owned())),
                reactivated_at: Set(back),
                created_at: Set(at),
                ..Default::default()
            });
        }
        for _ in 0..rng.random_range(0..7) {
            let at = between(&mut rng, plan.acquired_at, active_until);
            touchpoints.push(interactions::ActiveModel {
                customer_id: Set(id),
                channel: Set(Channel::ALL[rng.random_range(0..Channel::ALL.len())]
                    .as_str()
                    .to_owned()),
                occurred_at: Set(at),
                summary: Set(Some(pick(&mut rng, SUMMARIES).to_owned())),
                helped: Set(rng.random_bool(0.45)),
                recorded_by: Set(None),
                created_at: Set(at),
                ..Default::default()
            });
        }
        let committed = matches!(
            plan.stage,
            RelationshipStage::Commitment | RelationshipStage::Expansion
        );
        let purchases_n = if committed {
            rng.random_range(2..12)
        } else {
            rng.random_range(0..4)
        };
        let usd = rng.random_bool(0.12);
        for n in 0..purchases_n {
            let at = between(&mut rng, plan.acquired_at, active_until);
            sales.push(purchases::ActiveModel {
                customer_id: Set(id),
                amount_minor: Set(rng.random_range(990..25_000)),
                currency: Set(if usd { "USD" } else { "EUR" }.to_owned()),
                occurred_at: Set(at),
                external_ref: Set(format!("DEMO-{id}-{n}")),
                created_at: Set(at),
                ..Default::default()
            });
        }
        spend.push(costs::ActiveModel {
            customer_id: Set(Some(id)),
            kind: Set(CostKind::Acquisition.as_str().to_owned()),
            amount_minor: Set(rng.random_range(1_000..8_000)),
            currency: Set("EUR".to_owned()),
            incurred_on: Set(plan.acquired_at.date_naive()),
            note: Set(Some("Onboarding offer".to_owned())),
            created_at: Set(plan.acquired_at),
            ..Default::default()
        });
        if rng.random_bool(0.35) {
            let at = between(&mut rng, plan.acquired_at, active_until);
            spend.push(costs::ActiveModel {
                customer_id: Set(Some(id)),
                kind: Set(CostKind::Care.as_str().to_owned()),
                amount_minor: Set(rng.random_range(500..4_000)),
                currency: Set("EUR".to_owned()),
                incurred_on: Set(at.date_naive()),
                note: Set(Some("Support time".to_owned())),
                created_at: Set(at),
                ..Default::default()
            });
        }
    }
    // Campaign costs not tied to one customer, one per month.
    for month in 0..24 {
        let day = start + Duration::days(30 * month + 1);
        spend.push(costs::ActiveModel {
            customer_id: Set(None),
            kind: Set(CostKind::Acquisition.as_str().to_owned()),
            amount_minor: Set(rng.random_range(20_000..90_000)),
            currency: Set("EUR".to_owned()),
            incurred_on: Set(day.date_naive()),
            note: Set(Some("Online ads campaign".to_owned())),
            created_at: Set(day),
            ..Default::default()
        });
    }
    insert_chunks(&txn, tags).await?;
    insert_chunks(&txn, churns).await?;
    insert_chunks(&txn, touchpoints).await?;
    insert_chunks(&txn, sales).await?;
    insert_chunks(&txn, spend).await?;
    txn.commit().await?;
    Ok(())
}

fn chunks<T>(rows: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        out.push(rows.by_ref().take(CHUNK).collect());
    }
    out
}

async fn insert_chunks<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> DomainResult<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    for chunk in chunks(rows) {
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::PaginatorTrait;

    use super::*;
    use domain::db::{connect, DbSettings};

    #[tokio::test]
    async fn seeds_a_realistic_customer_base_quickly() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("demo.db").display());
        let db = connect(&url, &DbSettings::default())
            .await
            .expect("connect");
        Migrator::up(&db, None).await.expect("migrate");

        let started = std::time::Instant::now();
        seed(&db).await.expect("seed");
        let elapsed = started.elapsed();
        assert!(
            elapsed < std::time::Duration::from_secs(2),
            "took {elapsed:?}"
        );

        let count = |n: u64, what: &str| assert!(n > 0, "no {what}");
        assert_eq!(
            customers::Entity::find().count(&db).await.expect("count"),
            DEMO_CUSTOMERS as u64
        );
        let churned = customers::Entity::find()
            .filter(customers::Column::ChurnedAt.is_not_null())
            .count(&db)
            .await
            .expect("churned");
        count(churned, "churned customers");
        let referred = customers::Entity::find()
            .filter(customers::Column::ReferredById.is_not_null())
            .count(&db)
            .await
            .expect("referred");
        count(referred, "referrals");
        let reactivated = churn_events::Entity::find()
            .filter(churn_events::Column::ReactivatedAt.is_not_null())
            .count(&db)
            .await
            .expect("reactivated");
        count(reactivated, "reactivations");
        for currency in ["EUR", "USD"] {
            let n = purchases::Entity::find()
                .filter(purchases::Column::Currency.eq(currency))
                .count(&db)
                .await
                .expect("purchases");
            count(n, currency);
        }
        let helped = interactions::Entity::find()
            .filter(interactions::Column::Helped.eq(true))
            .count(&db)
            .await
            .expect("helped");
        count(helped, "helpful touchpoints");
        for kind in ["ACQUISITION", "CARE"] {
            let n = costs::Entity::find()
                .filter(costs::Column::Kind.eq(kind))
                .count(&db)
                .await
                .expect("costs");
            count(n, kind);
        }
        // Churn history agrees with the customers' current churn fields.
        let open = churn_events::Entity::find()
            .filter(churn_events::Column::ReactivatedAt.is_null())
            .count(&db)
            .await
            .expect("open churns");
        assert_eq!(open, churned);
    }
}
