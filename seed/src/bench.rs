//! The benchmark data set behind `rapport seed-bench`: the demo data (staff,
//! loyalty programme, published CSI factor sets) plus a large, deterministic
//! volume — customers with purchases, touchpoints, costs and memberships with
//! ledger entries, closed surveys holding the requested number of responses
//! with their answers and CSI ratings, and empty `ACTIVE` surveys for the
//! submission-throughput scenario.
//!
//! Rows are written with explicit ids in multi-row INSERTs of bound values
//! (thousands of rows per statement) inside large transactions, so a million
//! responses load in minutes. The same seed always yields the same rows.

use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Alias, Expr, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Statement, TransactionTrait, Value,
};
use serde::Serialize;

use domain::auth::Role;
use domain::csi::compute::{self, Scale};
use domain::error::{DomainError, DomainResult};
use domain::users::UserService;
use entity::{csi_factor_sets, csi_factors, loyalty_programs};

/// How much to generate.
#[derive(Clone, Debug)]
pub struct BenchSizes {
    /// Customers (each with purchases, touchpoints and a membership).
    pub customers: u64,
    /// Survey responses in total, spread over closed surveys (each customer
    /// answers a survey at most once).
    pub responses: u64,
    /// Empty `ACTIVE` surveys for submission runs (one per run).
    pub load_surveys: u64,
    /// Password of the `bench@rapport.dev` admin.
    pub admin_password: String,
}

/// A question of a load survey, for building submissions.
#[derive(Clone, Debug, Serialize)]
pub struct BenchQuestion {
    pub id: i64,
    pub factor_key: String,
}

/// What `seed` made, printed as JSON for the scenario runner.
#[derive(Clone, Debug, Serialize)]
pub struct BenchSeeded {
    pub admin_email: String,
    pub first_customer_id: i64,
    pub last_customer_id: i64,
    pub customers: u64,
    pub responses: u64,
    pub ratings: u64,
    pub rows: u64,
    pub factor_set_id: i64,
    pub scale_min: i32,
    pub scale_max: i32,
    pub load_survey_ids: Vec<i64>,
    pub load_questions: Vec<Vec<BenchQuestion>>,
    /// A customer with ≥ 20 purchases, ≥ 20 interactions and responses.
    pub card_customer_id: i64,
    /// The instant all generated history ends at.
    pub anchor: DateTime<Utc>,
}

/// E-mail of the benchmark admin.
pub const ADMIN_EMAIL: &str = "bench@rapport.dev";
/// Most bound values in one statement (below SQLite's 32 766 and PostgreSQL's 65 535).
const MAX_PARAMS: usize = 30_000;
/// Responses generated and written per transaction.
const RESPONSE_BATCH: usize = 20_000;

const FIRST: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Katherine",
    "Ken",
    "Margaret",
    "Niklaus",
    "Radia",
    "Tim",
    "Vint",
    "Hedy",
    "Linus",
    "Sophie",
    "Claude",
    "Lynn",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "McCarthy",
    "Johnson",
    "Thompson",
    "Hamilton",
    "Wirth",
    "Perlman",
    "Berners-Lee",
    "Cerf",
    "Lamarr",
    "Torvalds",
    "Wilson",
    "Shannon",
    "Conway",
];
const STAGES: &[&str] = &[
    "AWARENESS",
    "EXPLORATION",
    "EXPANSION",
    "COMMITMENT",
    "COMMITMENT",
    "COMMITMENT",
];
const TYPES: &[&str] = &[
    "PERSONAL_ASSISTANCE",
    "DEDICATED_PERSONAL_ASSISTANCE",
    "SELF_SERVICE",
    "AUTOMATED_SERVICE",
    "COMMUNITY",
    "CO_CREATION",
];
const CHANNELS: &[&str] = &[
    "EMAIL",
    "SMS",
    "PHONE",
    "SOCIAL",
    "IN_PERSON",
    "WEB",
    "CHAT",
];
const CHURN_REASONS: &[&str] = &[
    "CHANGED_REQUIREMENTS",
    "SUPERIOR_ALTERNATIVE",
    "DISSATISFACTION",
    "OTHER",
];

/// Collects rows of one table and writes them in multi-row INSERTs.
struct Bulk {
    table: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Value>>,
    written: u64,
}

impl Bulk {
    fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Self {
            table,
            columns,
            rows: Vec::new(),
            written: 0,
        }
    }

    fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    async fn flush(&mut self, db: &impl ConnectionTrait) -> DomainResult<()> {
        let per_statement = (MAX_PARAMS / self.columns.len()).max(1);
        let rows = std::mem::take(&mut self.rows);
        for chunk in rows.chunks(per_statement) {
            let mut insert = Query::insert();
            insert
                .into_table(Alias::new(self.table))
                .columns(self.columns.iter().map(|c| Alias::new(*c)));
            for row in chunk {
                insert
                    .values(row.iter().cloned().map(Expr::val))
                    .map_err(|e| DomainError::Internal(anyhow::anyhow!("bulk row: {e}")))?;
            }
            db.execute(&insert).await?;
            self.written += chunk.len() as u64;
        }
        Ok(())
    }
}

fn v<T: Into<Value>>(x: T) -> Value {
    x.into()
}

async fn max_id(db: &impl ConnectionTrait, table: &'static str) -> DomainResult<i64> {
    let query = Query::select()
        .expr_as(
            Func::coalesce([
                Func::max(Expr::col(Alias::new("id"))).into(),
                Expr::val(0i64),
            ]),
            Alias::new("m"),
        )
        .from(Alias::new(table))
        .to_owned();
    let row = db
        .query_one(&query)
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("no MAX(id) row")))?;
    Ok(row.try_get::<i64>("", "m")?)
}

/// Seeds the demo data, then the benchmark volume (see the module docs).
/// Needs an empty, migrated database.
///
/// # Errors
/// Database failures; a database that already has users.
pub async fn seed(
    db: &DatabaseConnection,
    users: &UserService,
    sizes: &BenchSizes,
) -> DomainResult<BenchSeeded> {
    if sizes.customers == 0 {
        return Err(DomainError::validation("customers", "must be at least 1"));
    }
    crate::seed(db, users).await?;
    users
        .create_user(None, ADMIN_EMAIL, sizes.admin_password.clone(), Role::Admin)
        .await?;
    let anchor = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("bad anchor")))?;
    let mut rng = StdRng::seed_from_u64(20_261_123);

    let program = loyalty_programs::Entity::find()
        .order_by_asc(loyalty_programs::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("the demo made no programme")))?;
    // The four-factor airline set, by name: the demo's other published sets
    // (ACSI, the German shop set) would change the rating count per response.
    let set = csi_factor_sets::Entity::find()
        .filter(csi_factor_sets::Column::Status.eq("PUBLISHED"))
        .filter(csi_factor_sets::Column::Name.eq(crate::csi::AIRLINE_SET_NAME))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("no published airline set")))?;
    let factors = csi_factors::Entity::find()
        .filter(csi_factors::Column::FactorSetId.eq(set.id))
        .order_by_asc(csi_factors::Column::Position)
        .all(db)
        .await?;
    let weights = factors
        .iter()
        .map(|f| Decimal::from_str(&f.weight))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("bad weight: {e}")))?;
    let scale = Scale {
        min: set.scale_min,
        max: set.scale_max,
    };

    let mut rows = 0u64;
    let customers = customers_and_card(db, &mut rng, sizes.customers, anchor, &program).await?;
    rows += customers.rows;
    let (first_customer, last_customer) = (customers.first_id, customers.last_id);
    let n = sizes.customers;

    // Surveys: closed ones holding the history, then empty active ones.
    let hist_surveys = sizes.responses.div_ceil(n);
    let mut survey_id = max_id(db, "surveys").await?;
    let mut question_id = max_id(db, "survey_questions").await?;
    let mut invitation_id = max_id(db, "survey_invitations").await?;
    let mut response_id = max_id(db, "survey_responses").await?;
    let mut answer_id = max_id(db, "survey_answers").await?;
    let mut rating_id = max_id(db, "csi_ratings").await?;
    let mut load_survey_ids = Vec::new();
    let mut load_questions = Vec::new();
    let mut remaining = sizes.responses;
    let mut ratings_written = 0u64;
    let txn = db.begin().await?;
    let mut survey_rows = Bulk::new(
        "surveys",
        &[
            "id",
            "title",
            "description",
            "locale",
            "status",
            "opens_at",
            "closes_at",
            "factor_set_id",
            "program_id",
            "incentive_points",
            "helpful_bonus_points",
            "csi_threshold",
            "created_at",
            "updated_at",
        ],
    );
    let mut question_rows = Bulk::new(
        "survey_questions",
        &[
            "id",
            "survey_id",
            "position",
            "text",
            "required",
            "kind",
            "factor_key",
            "overall_satisfaction",
        ],
    );
    // (survey, factor questions, overall question, opening time).
    let mut plans: Vec<(i64, Vec<i64>, i64, DateTime<Utc>)> = Vec::new();
    for s in 0..hist_surveys + sizes.load_surveys {
        survey_id += 1;
        let history = s < hist_surveys;
        // History surveys tile the two years before the anchor.
        let span = Duration::days(730);
        let opens = if history {
            anchor - span
                + Duration::seconds((span.num_seconds() * s as i64) / hist_surveys.max(1) as i64)
        } else {
            anchor
        };
        let (title, status) = if history {
            (format!("Bench history survey {}", s + 1), "CLOSED")
        } else {
            (
                format!("Bench load survey {}", s - hist_surveys + 1),
                "ACTIVE",
            )
        };
        survey_rows.push(vec![
            v(survey_id),
            v(title),
            v(Some("Generated by rapport seed-bench.".to_owned())),
            v(Some("en".to_owned())),
            v(status.to_owned()),
            v(None::<DateTime<Utc>>),
            v(None::<DateTime<Utc>>),
            v(Some(set.id)),
            v(Some(program.id)),
            v(10i64),
            v(5i64),
            v(Some("60".to_owned())),
            v(opens - Duration::days(1)),
            v(opens - Duration::days(1)),
        ]);
        let mut qs = Vec::new();
        let mut bench_qs = Vec::new();
        for (position, f) in factors.iter().enumerate() {
            question_id += 1;
            question_rows.push(vec![
                v(question_id),
                v(survey_id),
                v(position as i32 + 1),
                v(format!("How satisfied are you with: {}?", f.label)),
                v(true),
                v("CSI_FACTOR".to_owned()),
                v(Some(f.key.clone())),
                v(false),
            ]);
            qs.push(question_id);
            bench_qs.push(BenchQuestion {
                id: question_id,
                factor_key: f.key.clone(),
            });
        }
        if history {
            // The overall satisfaction question the key-driver analysis
            // regresses on (load surveys have none: submissions answer the
            // factors only).
            question_id += 1;
            question_rows.push(vec![
                v(question_id),
                v(survey_id),
                v(factors.len() as i32 + 1),
                v("Overall, how satisfied are you?".to_owned()),
                v(true),
                v("RATING".to_owned()),
                v(None::<String>),
                v(true),
            ]);
            plans.push((survey_id, qs, question_id, opens));
        } else {
            load_survey_ids.push(survey_id);
            load_questions.push(bench_qs);
        }
    }
    survey_rows.flush(&txn).await?;
    question_rows.flush(&txn).await?;
    rows += survey_rows.written + question_rows.written;
    txn.commit().await?;

    let window = Duration::days(730) / hist_surveys.max(1) as i32;
    for (survey, questions, overall_question, opens) in plans {
        let count = remaining.min(n);
        remaining -= count;
        let mut done = 0u64;
        while done < count {
            let batch = (count - done).min(RESPONSE_BATCH as u64);
            let txn = db.begin().await?;
            let mut inv = Bulk::new(
                "survey_invitations",
                &[
                    "id",
                    "survey_id",
                    "customer_id",
                    "token_hash",
                    "expires_at",
                    "created_at",
                    "used_at",
                ],
            );
            let mut resp = Bulk::new(
                "survey_responses",
                &[
                    "id",
                    "survey_id",
                    "invitation_id",
                    "customer_id",
                    "submitted_at",
                    "csi",
                    "weighted_mean",
                    "factor_set_id",
                ],
            );
            let mut ans = Bulk::new(
                "survey_answers",
                &["id", "response_id", "question_id", "rating"],
            );
            let mut rat = Bulk::new(
                "csi_ratings",
                &[
                    "id",
                    "factor_set_id",
                    "factor_id",
                    "response_id",
                    "customer_id",
                    "rating",
                    "rated_at",
                ],
            );
            for k in done..done + batch {
                let customer = first_customer + k as i64;
                let at =
                    opens + Duration::seconds(rng.random_range(0..window.num_seconds().max(1)));
                invitation_id += 1;
                response_id += 1;
                inv.push(vec![
                    v(invitation_id),
                    v(survey),
                    v(customer),
                    v(format!("bench:{survey}:{customer}")),
                    v(at + Duration::days(30)),
                    v(at - Duration::hours(20)),
                    v(Some(at)),
                ]);
                // Satisfaction drifts up over the two years, with noise per customer.
                let age = (anchor - at).num_days() as f64 / 730.0;
                let mood = 4.2 - 0.8 * age + f64::from(rng.random_range(-12..=12)) / 10.0;
                let mut pairs = Vec::with_capacity(factors.len());
                for ((f, q), w) in factors.iter().zip(&questions).zip(&weights) {
                    let jitter = f64::from(rng.random_range(-8..=8)) / 10.0;
                    let scaled = f64::from(scale.min)
                        + (mood + jitter - 1.0) / 4.0 * f64::from(scale.max - scale.min);
                    let r = (scaled.round() as i32).clamp(scale.min, scale.max);
                    answer_id += 1;
                    ans.push(vec![v(answer_id), v(response_id), v(*q), v(Some(r))]);
                    rating_id += 1;
                    rat.push(vec![
                        v(rating_id),
                        v(set.id),
                        v(f.id),
                        v(Some(response_id)),
                        v(Some(customer)),
                        v(r),
                        v(at),
                    ]);
                    pairs.push((*w, Some(Decimal::from(r))));
                }
                let csi = compute::index(scale, &pairs);
                // Overall satisfaction follows the response's index (1..5),
                // with deterministic noise from the response id so the random
                // stream of the other rows stays as it was.
                let index = csi
                    .and_then(|c| rust_decimal::prelude::ToPrimitive::to_f64(&c.index))
                    .unwrap_or(50.0);
                let noise = ((response_id * 7919) % 13 - 6) as f64 / 10.0;
                let overall = ((1.0 + index / 25.0 + noise).round() as i32).clamp(1, 5);
                answer_id += 1;
                ans.push(vec![
                    v(answer_id),
                    v(response_id),
                    v(overall_question),
                    v(Some(overall)),
                ]);
                resp.push(vec![
                    v(response_id),
                    v(survey),
                    v(invitation_id),
                    v(customer),
                    v(at),
                    v(csi.map(|c| c.index.to_string())),
                    v(csi.map(|c| c.weighted_mean.to_string())),
                    v(Some(set.id)),
                ]);
            }
            inv.flush(&txn).await?;
            resp.flush(&txn).await?;
            ans.flush(&txn).await?;
            rat.flush(&txn).await?;
            txn.commit().await?;
            rows += inv.written + resp.written + ans.written + rat.written;
            ratings_written += rat.written;
            done += batch;
        }
    }
    finish(db).await?;
    Ok(BenchSeeded {
        admin_email: ADMIN_EMAIL.to_owned(),
        first_customer_id: first_customer,
        last_customer_id: last_customer,
        customers: n,
        responses: sizes.responses,
        ratings: ratings_written,
        rows,
        factor_set_id: set.id,
        scale_min: scale.min,
        scale_max: scale.max,
        load_survey_ids,
        load_questions,
        card_customer_id: customers.card_id,
        anchor,
    })
}

struct CustomersMade {
    first_id: i64,
    last_id: i64,
    card_id: i64,
    rows: u64,
}

/// Customers, purchases, touchpoints, costs, churn events, memberships and
/// their ledger, in one transaction.
async fn customers_and_card(
    db: &DatabaseConnection,
    rng: &mut StdRng,
    n: u64,
    anchor: DateTime<Utc>,
    program: &loyalty_programs::Model,
) -> DomainResult<CustomersMade> {
    let txn = db.begin().await?;
    let mut customer_id = max_id(&txn, "customers").await?;
    let mut purchase_id = max_id(&txn, "purchases").await?;
    let mut interaction_id = max_id(&txn, "interactions").await?;
    let mut cost_id = max_id(&txn, "costs").await?;
    let mut churn_id = max_id(&txn, "churn_events").await?;
    let mut membership_id = max_id(&txn, "memberships").await?;
    let mut ledger_id = max_id(&txn, "ledger_entries").await?;
    let first_id = customer_id + 1;
    let mut cust = Bulk::new(
        "customers",
        &[
            "id",
            "name",
            "email",
            "locale",
            "relationship_stage",
            "relationship_type",
            "acquired_at",
            "churned_at",
            "churn_reason",
            "marketing_consent",
            "created_at",
            "updated_at",
        ],
    );
    let mut purch = Bulk::new(
        "purchases",
        &[
            "id",
            "customer_id",
            "amount_minor",
            "currency",
            "occurred_at",
            "external_ref",
            "created_at",
        ],
    );
    let mut inter = Bulk::new(
        "interactions",
        &[
            "id",
            "customer_id",
            "channel",
            "occurred_at",
            "summary",
            "helped",
            "created_at",
        ],
    );
    let mut costs = Bulk::new(
        "costs",
        &[
            "id",
            "customer_id",
            "kind",
            "amount_minor",
            "currency",
            "incurred_on",
            "note",
            "created_at",
        ],
    );
    let mut churns = Bulk::new(
        "churn_events",
        &["id", "customer_id", "churned_at", "reason", "created_at"],
    );
    let mut members = Bulk::new(
        "memberships",
        &[
            "id",
            "program_id",
            "customer_id",
            "balance",
            "lifetime_points",
            "enrolled_at",
        ],
    );
    // Credits and debits go in separate statements: PostgreSQL runs the
    // balance triggers after each statement, so one membership may appear
    // only once per statement.
    const LEDGER: &[&str] = &[
        "id",
        "membership_id",
        "delta",
        "reason",
        "source_key",
        "occurred_at",
        "created_at",
    ];
    let mut ledger = Bulk::new("ledger_entries", LEDGER);
    let mut debits = Bulk::new("ledger_entries", LEDGER);
    let currency = program.currency.clone();
    let mut card_id = None;
    for i in 0..n {
        customer_id += 1;
        let acquired = anchor - Duration::minutes(rng.random_range(0..3 * 365 * 24 * 60));
        let churned = rng.random_range(0..100) < 8;
        let churned_at = churned.then(|| {
            acquired
                + Duration::seconds(rng.random_range(0..(anchor - acquired).num_seconds().max(1)))
        });
        let name = format!(
            "{} {} {}",
            FIRST[rng.random_range(0..FIRST.len())],
            LAST[rng.random_range(0..LAST.len())],
            i + 1
        );
        let churn_reason =
            churned.then(|| CHURN_REASONS[rng.random_range(0..CHURN_REASONS.len())].to_owned());
        cust.push(vec![
            v(customer_id),
            v(name),
            v(Some(format!("bench{}@example.com", i + 1))),
            v(Some("en".to_owned())),
            v(STAGES[rng.random_range(0..STAGES.len())].to_owned()),
            v((rng.random_range(0..7) > 0)
                .then(|| TYPES[rng.random_range(0..TYPES.len())].to_owned())),
            v(acquired),
            v(churned_at),
            v(churn_reason.clone()),
            v(rng.random_range(0..3) > 0),
            v(acquired),
            v(churned_at.unwrap_or(acquired)),
        ]);
        if let (Some(at), Some(reason)) = (churned_at, churn_reason) {
            churn_id += 1;
            churns.push(vec![v(churn_id), v(customer_id), v(at), v(reason), v(at)]);
        }
        let end = churned_at.unwrap_or(anchor);
        let life = (end - acquired).num_seconds().max(1);
        let purchases = rng.random_range(5..=35);
        let mut points = 0i64;
        for j in 0..purchases {
            purchase_id += 1;
            let at = acquired + Duration::seconds(rng.random_range(0..life));
            let amount: i64 = rng.random_range(500..50_000);
            points += amount / 100;
            purch.push(vec![
                v(purchase_id),
                v(customer_id),
                v(amount),
                v(currency.clone()),
                v(at),
                v(format!("B{}-{j}", i + 1)),
                v(at),
            ]);
        }
        let touches = rng.random_range(5..=35);
        for _ in 0..touches {
            interaction_id += 1;
            let at = acquired + Duration::seconds(rng.random_range(0..life));
            inter.push(vec![
                v(interaction_id),
                v(customer_id),
                v(CHANNELS[rng.random_range(0..CHANNELS.len())].to_owned()),
                v(at),
                v(Some("Benchmark touchpoint".to_owned())),
                v(rng.random_range(0..4) > 0),
                v(at),
            ]);
        }
        if purchases >= 20 && touches >= 20 && card_id.is_none() {
            card_id = Some(customer_id);
        }
        cost_id += 1;
        let acquired_on: NaiveDate = acquired.date_naive();
        costs.push(vec![
            v(cost_id),
            v(Some(customer_id)),
            v("ACQUISITION".to_owned()),
            v(rng.random_range(1_000..20_000i64)),
            v(currency.clone()),
            v(acquired_on),
            v(None::<String>),
            v(acquired),
        ]);
        if rng.random_range(0..3) == 0 {
            cost_id += 1;
            let at = acquired + Duration::seconds(rng.random_range(0..life));
            costs.push(vec![
                v(cost_id),
                v(Some(customer_id)),
                v("CARE".to_owned()),
                v(rng.random_range(500..5_000i64)),
                v(currency.clone()),
                v(at.date_naive()),
                v(Some("Support call".to_owned())),
                v(at),
            ]);
        }
        membership_id += 1;
        members.push(vec![
            v(membership_id),
            v(program.id),
            v(customer_id),
            v(0i64),
            v(0i64),
            v(acquired),
        ]);
        let credited = points.max(1);
        ledger_id += 1;
        ledger.push(vec![
            v(ledger_id),
            v(membership_id),
            v(credited),
            v("PURCHASE".to_owned()),
            v(format!("bench-purchases:{customer_id}")),
            v(end),
            v(end),
        ]);
        if credited > 10 && rng.random_range(0..2) == 0 {
            ledger_id += 1;
            debits.push(vec![
                v(ledger_id),
                v(membership_id),
                v(-(credited / 3).max(1)),
                v("ADJUSTMENT".to_owned()),
                v(format!("bench-adjustment:{customer_id}")),
                v(end),
                v(end),
            ]);
        }
    }
    cust.flush(&txn).await?;
    churns.flush(&txn).await?;
    purch.flush(&txn).await?;
    inter.flush(&txn).await?;
    costs.flush(&txn).await?;
    members.flush(&txn).await?;
    ledger.flush(&txn).await?;
    debits.flush(&txn).await?;
    txn.commit().await?;
    Ok(CustomersMade {
        first_id,
        last_id: customer_id,
        card_id: card_id.unwrap_or(first_id),
        rows: cust.written
            + churns.written
            + purch.written
            + inter.written
            + costs.written
            + members.written
            + ledger.written
            + debits.written,
    })
}

/// Moves PostgreSQL's id sequences past the explicit ids and refreshes the
/// planners' statistics on both engines.
async fn finish(db: &DatabaseConnection) -> DomainResult<()> {
    let backend = db.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        for table in [
            "customers",
            "purchases",
            "interactions",
            "costs",
            "churn_events",
            "memberships",
            "ledger_entries",
            "surveys",
            "survey_questions",
            "survey_invitations",
            "survey_responses",
            "survey_answers",
            "csi_ratings",
        ] {
            // SELECT setval(pg_get_serial_sequence(<table>, 'id'), (SELECT MAX(id) FROM <table>))
            let max = Query::select()
                .expr(Func::max(Expr::col(Alias::new("id"))))
                .from(Alias::new(table))
                .to_owned();
            let setval = Query::select()
                .expr(
                    Func::cust(Alias::new("setval"))
                        .arg(
                            Func::cust(Alias::new("pg_get_serial_sequence"))
                                .arg(Expr::val(table))
                                .arg(Expr::val("id")),
                        )
                        .arg(max),
                )
                .to_owned();
            db.query_one(&setval).await?;
        }
    }
    // On PostgreSQL a bulk load is followed by VACUUM as well: it sets the
    // visibility map, without which index-only scans visit every heap page
    // until autovacuum gets round to the new rows.
    let finish = match backend {
        DatabaseBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_raw(Statement::from_string(backend, finish.to_owned()))
        .await?;
    Ok(())
}
