//! Relationship metrics (SPEC §7) over hand-built data sets: exact values on
//! both engines, bad input and role access.

use chrono::Utc;
use domain::auth::Role;
use entity::{
    churn_events, costs, customers, interactions, ledger_entries, memberships, purchases,
    survey_invitations, survey_responses,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use serde_json::{json, Value};

use crate::fixtures::{
    at, day, CustomerBuilder, ProgramBuilder, PurchaseBuilder, RelationshipType, Stage,
    SurveyBuilder, SurveyStatus,
};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    retention_matches_spec_example_of_95_percent,
    retention_matches_spec_example_of_70_45_percent,
    retention_respects_churn_and_reactivation_history_at_the_boundaries,
    win_backs_count_as_new_so_retention_stays_at_most_100,
    empty_data_gives_zeros_and_null_rates_with_reasons,
    filters_narrow_retention_by_tag_type_and_acquisition,
    return_on_relationship_counts_helped_purchasers_by_hand,
    customer_value_is_per_currency_with_shared_costs,
    most_valuable_customers_rank_by_margin_per_currency,
    loyalty_report_matches_hand_computation,
    bad_inputs_are_rejected_with_their_field,
    every_staff_role_reads_metrics_and_anonymous_is_refused,
    a_two_year_customer_base_gives_consistent_metrics_in_few_statements,
);

// ---------------------------------------------------------------- arranging

/// A customer to insert, acquired at `acquired` (an RFC 3339 timestamp), in
/// the EXPLORATION stage.
fn c(acquired: &str) -> CustomerBuilder {
    CustomerBuilder::new().acquired_at(at(acquired))
}

async fn customer(db: &DatabaseConnection, spec: CustomerBuilder) -> i64 {
    spec.insert(db).await
}

async fn customers_n(db: &DatabaseConnection, n: usize, acquired: &str) -> Vec<i64> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(customer(db, c(acquired)).await);
    }
    ids
}

async fn churn(
    db: &DatabaseConnection,
    customer_id: i64,
    churned: &str,
    reason: &str,
    reactivated: Option<&str>,
) {
    churn_events::ActiveModel {
        customer_id: Set(customer_id),
        churned_at: Set(at(churned)),
        reason: Set(reason.to_owned()),
        reactivated_at: Set(reactivated.map(at)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("churn event");
}

async fn purchase(
    db: &DatabaseConnection,
    customer_id: i64,
    minor: i64,
    currency: &str,
    when: &str,
) {
    PurchaseBuilder::new(customer_id)
        .minor(minor)
        .currency(currency)
        .at(at(when))
        .insert(db)
        .await;
}

async fn cost(
    db: &DatabaseConnection,
    customer_id: Option<i64>,
    kind: &str,
    minor: i64,
    currency: &str,
    on: &str,
) {
    costs::ActiveModel {
        customer_id: Set(customer_id),
        kind: Set(kind.to_owned()),
        amount_minor: Set(minor),
        currency: Set(currency.to_owned()),
        incurred_on: Set(day(on)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("cost");
}

async fn interaction(db: &DatabaseConnection, customer_id: i64, when: &str, helped: bool) {
    interactions::ActiveModel {
        customer_id: Set(customer_id),
        channel: Set("PHONE".to_owned()),
        occurred_at: Set(at(when)),
        helped: Set(helped),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("interaction");
}

// ------------------------------------------------------------------ queries

const RETENTION_FIELDS: &str = "from to customersAtStart customersAtEnd newCustomers lostCustomers churnedCustomers reactivatedCustomers ratePercent reasonCode reason";

async fn retention(app: &TestApp, token: &str, from: &str, to: &str, filter: Value) -> Value {
    let query = format!(
        "query($filter: MetricsFilter) {{ retentionRate(from: \"{from}\", to: \"{to}\", filter: $filter) {{ {RETENTION_FIELDS} }} }}"
    );
    let body = app
        .graphql_as(Some(token), &query, json!({ "filter": filter }))
        .await;
    data(&body)["retentionRate"].clone()
}

async fn ror(app: &TestApp, token: &str, as_of: &str, window: Option<i32>, filter: Value) -> Value {
    let window = window.map_or(String::new(), |w| format!(", windowMonths: {w}"));
    let query = format!(
        "query($filter: MetricsFilter) {{ returnOnRelationship(asOf: \"{as_of}\"{window}, filter: $filter) {{ asOf windowMonths windowStart purchasingCustomers helpedCustomers referralOrRepeatCustomers referredCustomers repeatCustomers rorPercent reasonCode reason }} }}"
    );
    let body = app
        .graphql_as(Some(token), &query, json!({ "filter": filter }))
        .await;
    data(&body)["returnOnRelationship"].clone()
}

async fn value(app: &TestApp, token: &str, from: &str, to: &str, filter: Value) -> Value {
    let query = format!(
        "query($filter: MetricsFilter) {{ customerValue(from: \"{from}\", to: \"{to}\", filter: $filter) {{ currency revenue acquisitionCosts careCosts customerCount revenuePerCustomer costPerCustomer marginPerCustomer revenueToCostRatio }} }}"
    );
    let body = app
        .graphql_as(Some(token), &query, json!({ "filter": filter }))
        .await;
    data(&body)["customerValue"].clone()
}

async fn most_valuable(app: &TestApp, token: &str, args: &str, filter: Value) -> Value {
    let query = format!(
        "query($filter: MetricsFilter) {{ mostValuableCustomers({args}, filter: $filter) {{ rank customerId currency revenue attributedCareCosts sharedCareCosts margin }} }}"
    );
    let body = app
        .graphql_as(Some(token), &query, json!({ "filter": filter }))
        .await;
    data(&body)["mostValuableCustomers"].clone()
}

const LOYALTY_FIELDS: &str = "from to customers purchasingCustomers repeatCustomers loyalCustomers repeatPurchaseRatePercent loyalCustomerSharePercent averageRelationshipDays churnCount churnByReason { reason count sharePercent } customersByStage { stage count } customersByType { relationshipType count } surveyInvitations surveyResponses feedbackParticipationPercent pointsIssued pointsRedeemed pointsExpired";

async fn loyalty(app: &TestApp, token: &str, from: &str, to: &str, filter: Value) -> Value {
    let query = format!(
        "query($filter: MetricsFilter) {{ loyaltyReport(from: \"{from}\", to: \"{to}\", filter: $filter) {{ {LOYALTY_FIELDS} }} }}"
    );
    let body = app
        .graphql_as(Some(token), &query, json!({ "filter": filter }))
        .await;
    data(&body)["loyaltyReport"].clone()
}

/// `{B, N, E, lost}` of a retention result, for compact asserts.
fn bnel(r: &Value) -> [i64; 4] {
    [
        r["customersAtStart"].as_i64().expect("B"),
        r["newCustomers"].as_i64().expect("N"),
        r["customersAtEnd"].as_i64().expect("E"),
        r["lostCustomers"].as_i64().expect("lost"),
    ]
}

// -------------------------------------------------------------------- tests

async fn retention_matches_spec_example_of_95_percent(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let db = app.db();
    let base = customers_n(db, 20, "2024-06-01T09:00:00Z").await;
    customers_n(db, 5, "2025-02-01T09:00:00Z").await;
    churn(db, base[0], "2025-03-01T12:00:00Z", "DISSATISFACTION", None).await;

    // Erasure removes personal data, not history: still a customer.
    let mut erased: customers::ActiveModel = customers::Entity::find_by_id(base[1])
        .one(db)
        .await
        .expect("read")
        .expect("customer")
        .into();
    erased.name = Set("Erased customer".into());
    erased.erased_at = Set(Some(at("2025-02-15T00:00:00Z")));
    erased.update(db).await.expect("erase");

    let before = app.statements();
    let r = retention(&app, &token, "2025-01-01", "2025-04-01", Value::Null).await;
    let used = app.statements() - before;
    assert!(
        used <= 2,
        "one aggregate statement (+ the actor check), took {used}"
    );

    assert_eq!(bnel(&r), [20, 5, 24, 1]);
    assert_eq!(r["ratePercent"], "95");
    assert_eq!(r["reason"], Value::Null);
    assert_eq!(r["reasonCode"], Value::Null);
    assert_eq!(r["from"], "2025-01-01");
    assert_eq!(r["to"], "2025-04-01");
}

async fn retention_matches_spec_example_of_70_45_percent(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let db = app.db();
    let base = customers_n(db, 44, "2024-05-01T09:00:00Z").await;
    let new = customers_n(db, 12, "2025-01-15T09:00:00Z").await;
    for id in &base[..10] {
        churn(
            db,
            *id,
            "2025-02-10T12:00:00Z",
            "SUPERIOR_ALTERNATIVE",
            None,
        )
        .await;
    }
    // Three of the new customers are acquired and lost inside the period.
    for id in &new[..3] {
        churn(
            db,
            *id,
            "2025-03-10T12:00:00Z",
            "CHANGED_REQUIREMENTS",
            None,
        )
        .await;
    }

    let r = retention(&app, &token, "2025-01-01", "2025-04-01", Value::Null).await;

    assert_eq!(bnel(&r), [44, 12, 43, 13]);
    assert_eq!(r["churnedCustomers"], 13);
    assert_eq!(r["ratePercent"], "70.45");
}

async fn retention_respects_churn_and_reactivation_history_at_the_boundaries(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Admin).await;
    let db = app.db();
    let old = "2024-01-01T08:00:00Z";
    // Churned and reactivated inside the period: stays a customer.
    let a = customer(db, c(old)).await;
    churn(
        db,
        a,
        "2025-02-01T00:00:00Z",
        "OTHER",
        Some("2025-03-01T00:00:00Z"),
    )
    .await;
    // Churned before the period, won back inside it.
    let b = customer(db, c(old)).await;
    churn(
        db,
        b,
        "2024-06-01T00:00:00Z",
        "OTHER",
        Some("2025-02-01T00:00:00Z"),
    )
    .await;
    // Churned before the period and never back: not counted anywhere.
    let gone = customer(db, c(old)).await;
    churn(db, gone, "2024-06-01T00:00:00Z", "OTHER", None).await;
    // Churned in the period, reactivated only after it: lost.
    let d = customer(db, c(old)).await;
    churn(
        db,
        d,
        "2025-03-01T00:00:00Z",
        "OTHER",
        Some("2025-08-01T00:00:00Z"),
    )
    .await;
    // Churned exactly at the end boundary: belongs to the next period.
    let e = customer(db, c(old)).await;
    churn(db, e, "2025-07-01T00:00:00Z", "OTHER", None).await;
    // Acquired exactly at the start: new, not at start.
    customer(db, c("2025-01-01T00:00:00Z")).await;
    // Acquired exactly at the end: not in this period.
    customer(db, c("2025-07-01T00:00:00Z")).await;
    // Acquired and lost inside the period.
    let h = customer(db, c("2025-02-01T00:00:00Z")).await;
    churn(db, h, "2025-04-01T00:00:00Z", "OTHER", None).await;
    // Churned exactly at the start: a customer at the start, lost in it.
    let i = customer(db, c(old)).await;
    churn(db, i, "2025-01-01T00:00:00Z", "OTHER", None).await;
    // An earlier churn-and-return, then a final churn inside the period.
    let j = customer(db, c(old)).await;
    churn(
        db,
        j,
        "2024-03-01T00:00:00Z",
        "OTHER",
        Some("2024-04-01T00:00:00Z"),
    )
    .await;
    churn(db, j, "2025-05-01T00:00:00Z", "OTHER", None).await;

    // Sub-second timestamps on either side of the boundaries.
    let k = customer(db, c("2024-12-31T23:59:59.999999Z")).await;
    let l = customer(db, c("2025-06-30T23:59:59.999999Z")).await;
    let m = customer(db, c("2025-01-01T00:00:00.5Z")).await;

    let r = retention(&app, &token, "2025-01-01", "2025-07-01", Value::Null).await;

    // B = a d e i j k; N = b (won back) f h l m; E = a b e f k l m.
    assert_eq!(bnel(&r), [6, 5, 7, 4], "{r} (k={k} l={l} m={m})");
    assert_eq!(r["churnedCustomers"], 4, "d, h, i, j");
    assert_eq!(r["reactivatedCustomers"], 1, "b");
    assert_eq!(r["ratePercent"], "33.33", "(7 - 5) / 6");

    // Consecutive periods chain: E of one is B of the next.
    let next = retention(&app, &token, "2025-07-01", "2026-01-01", Value::Null).await;
    assert_eq!(next["customersAtStart"], r["customersAtEnd"]);
    // e churns at 07-01 (lost), d comes back 08-01 (won back: new), the
    // end-acquired customer is new.
    assert_eq!(bnel(&next), [7, 2, 8, 1], "{next}");
    assert_eq!(next["churnedCustomers"], 1);
    assert_eq!(next["reactivatedCustomers"], 1);
    assert_eq!(next["ratePercent"], "85.71", "(8 - 2) / 7");
}

/// A won-back customer is a customer gained (in N): retention never exceeds
/// 100 % and nobody is lost a negative number of times. The docs/metrics.md
/// example, then one more customer won back twice.
async fn win_backs_count_as_new_so_retention_stays_at_most_100(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let db = app.db();
    let old = "2024-01-01T08:00:00Z";
    customers_n(db, 4, old).await;
    // Churned before the period, back inside it.
    let w = customer(db, c(old)).await;
    churn(
        db,
        w,
        "2024-06-01T00:00:00Z",
        "OTHER",
        Some("2025-02-01T00:00:00Z"),
    )
    .await;
    // Won back, then churned again inside the period: new and lost.
    let x = customer(db, c(old)).await;
    churn(
        db,
        x,
        "2024-06-01T00:00:00Z",
        "OTHER",
        Some("2025-02-01T00:00:00Z"),
    )
    .await;
    churn(db, x, "2025-03-01T00:00:00Z", "PRICE", None).await;

    let r = retention(&app, &token, "2025-01-01", "2025-04-01", Value::Null).await;
    assert_eq!(bnel(&r), [4, 2, 5, 1], "{r}");
    assert_eq!(r["reactivatedCustomers"], 2, "w and x: {r}");
    assert_eq!(r["churnedCustomers"], 1, "x: {r}");
    assert_eq!(r["ratePercent"], "75", "(5 - 2) / 4");

    // Won back, churned, won back again in the same period: new once, not lost.
    let y = customer(db, c(old)).await;
    churn(
        db,
        y,
        "2024-06-01T00:00:00Z",
        "OTHER",
        Some("2025-02-01T00:00:00Z"),
    )
    .await;
    churn(
        db,
        y,
        "2025-02-15T00:00:00Z",
        "OTHER",
        Some("2025-03-01T00:00:00Z"),
    )
    .await;
    let r = retention(&app, &token, "2025-01-01", "2025-04-01", Value::Null).await;
    assert_eq!(bnel(&r), [4, 3, 6, 1], "{r}");
    assert_eq!(r["reactivatedCustomers"], 3, "{r}");
    assert_eq!(r["ratePercent"], "75", "(6 - 3) / 4");

    // Only win-backs and no losses: exactly 100, never above.
    let r = retention(&app, &token, "2025-01-01", "2025-02-15", Value::Null).await;
    assert_eq!(bnel(&r), [4, 3, 7, 0], "{r}");
    assert_eq!(r["ratePercent"], "100");
    assert_eq!(r["lostCustomers"], 0);
}

async fn empty_data_gives_zeros_and_null_rates_with_reasons(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;

    let r = retention(&app, &token, "2025-01-01", "2025-04-01", Value::Null).await;
    assert_eq!(bnel(&r), [0, 0, 0, 0]);
    assert_eq!(r["ratePercent"], Value::Null);
    assert_eq!(r["reasonCode"], "NO_CUSTOMERS_AT_START", "{r}");
    assert_eq!(
        r["reason"], "no customers at the start of the period, so retention is undefined",
        "the code's description"
    );

    let o = ror(&app, &token, "2025-06-30", None, Value::Null).await;
    assert_eq!(o["purchasingCustomers"], 0);
    assert_eq!(o["rorPercent"], Value::Null);
    assert_eq!(o["reasonCode"], "NO_HELPED_CUSTOMERS", "{o}");
    assert_eq!(
        o["reason"],
        "no purchasing customer was helped within the window, so the return is undefined",
        "the code's description"
    );

    assert_eq!(
        value(&app, &token, "2025-01-01", "2025-04-01", Value::Null).await,
        json!([])
    );
    assert_eq!(
        most_valuable(
            &app,
            &token,
            "from: \"2025-01-01\", to: \"2025-04-01\"",
            Value::Null
        )
        .await,
        json!([])
    );
    let l = loyalty(&app, &token, "2025-01-01", "2025-04-01", Value::Null).await;
    assert_eq!(l["customers"], 0);
    assert_eq!(l["repeatPurchaseRatePercent"], Value::Null);
    assert_eq!(l["averageRelationshipDays"], Value::Null);
    assert_eq!(l["feedbackParticipationPercent"], Value::Null);
    assert_eq!(l["pointsIssued"], 0);

    // An empty period with customers: nothing happens, everyone is retained.
    customers_n(app.db(), 2, "2024-01-01T00:00:00Z").await;
    let same = retention(&app, &token, "2025-01-01", "2025-01-01", Value::Null).await;
    assert_eq!(bnel(&same), [2, 0, 2, 0]);
    assert_eq!(same["ratePercent"], "100");
}

async fn filters_narrow_retention_by_tag_type_and_acquisition(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let db = app.db();
    customer(
        db,
        c("2024-03-01T00:00:00Z")
            .kind(RelationshipType::SelfService)
            .tag("vip"),
    )
    .await;
    customer(
        db,
        c("2024-09-01T00:00:00Z").kind(RelationshipType::SelfService),
    )
    .await;
    customer(
        db,
        c("2024-03-01T00:00:00Z")
            .kind(RelationshipType::Community)
            .tag("VIP"),
    )
    .await;
    let p4 = customer(
        db,
        c("2025-05-01T00:00:00Z")
            .kind(RelationshipType::SelfService)
            .tag("vip"),
    )
    .await;
    churn(db, p4, "2025-06-01T00:00:00Z", "OTHER", None).await;
    customer(
        db,
        c("2024-01-01T00:00:00Z").kind(RelationshipType::SelfService),
    )
    .await;

    let cases = [
        (json!(null), [4, 1, 4, 1], "75", "no filter"),
        (json!({ "tag": "vip" }), [2, 1, 2, 1], "50", "tag, any case"),
        (
            json!({ "relationshipType": "SELF_SERVICE" }),
            [3, 1, 3, 1],
            "66.67",
            "type",
        ),
        (
            json!({ "acquiredFrom": "2024-06-01", "acquiredTo": "2025-01-01" }),
            [1, 0, 1, 0],
            "100",
            "acquisition range",
        ),
        (
            json!({ "tag": "Vip", "relationshipType": "COMMUNITY" }),
            [1, 0, 1, 0],
            "100",
            "tag and type",
        ),
        (json!({ "tag": "nobody" }), [0, 0, 0, 0], "", "unused tag"),
    ];
    for (filter, want, rate, why) in cases {
        let r = retention(&app, &token, "2025-01-01", "2026-01-01", filter).await;
        assert_eq!(bnel(&r), want, "{why}: {r}");
        if rate.is_empty() {
            assert_eq!(r["ratePercent"], Value::Null, "{why}");
        } else {
            assert_eq!(r["ratePercent"], rate, "{why}");
        }
    }
}

async fn return_on_relationship_counts_helped_purchasers_by_hand(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let db = app.db();
    let acquired = "2023-01-01T00:00:00Z";
    let x = customer(db, c(acquired)).await;
    // Helped, referred, one purchase.
    let a = customer(db, c(acquired).referred_by(x).tag("vip")).await;
    purchase(db, a, 1000, "EUR", "2025-01-10T10:00:00Z").await;
    interaction(db, a, "2025-03-01T10:00:00Z", true).await;
    // Helped exactly at the window start, repeat customer.
    let b = customer(db, c(acquired)).await;
    purchase(db, b, 1000, "EUR", "2024-02-01T10:00:00Z").await;
    purchase(db, b, 1000, "EUR", "2025-02-01T10:00:00Z").await;
    interaction(db, b, "2024-07-01T00:00:00Z", true).await;
    // Helped and purchased late on the asOf day: counts; neither referred nor repeat.
    let cc = customer(db, c(acquired).tag("vip")).await;
    purchase(db, cc, 1000, "EUR", "2025-06-30T23:00:00Z").await;
    interaction(db, cc, "2025-06-30T23:30:00Z", true).await;
    // Helped just before the window.
    let d = customer(db, c(acquired)).await;
    purchase(db, d, 1000, "EUR", "2024-01-01T10:00:00Z").await;
    interaction(db, d, "2024-06-30T23:59:59Z", true).await;
    // Helped but never purchased.
    let e = customer(db, c(acquired)).await;
    interaction(db, e, "2025-03-01T10:00:00Z", true).await;
    // Purchased only after asOf.
    let f = customer(db, c(acquired)).await;
    purchase(db, f, 1000, "EUR", "2025-07-01T00:00:00Z").await;
    interaction(db, f, "2025-03-01T10:00:00Z", true).await;
    // Purchased, interaction did not help.
    let g = customer(db, c(acquired)).await;
    purchase(db, g, 1000, "EUR", "2025-01-01T10:00:00Z").await;
    interaction(db, g, "2025-03-01T10:00:00Z", false).await;
    // Helped; second purchase only after asOf, so not (yet) a repeat customer.
    let h = customer(db, c(acquired).tag("vip")).await;
    purchase(db, h, 1000, "EUR", "2025-01-01T10:00:00Z").await;
    purchase(db, h, 1000, "EUR", "2025-07-02T10:00:00Z").await;
    interaction(db, h, "2025-04-01T10:00:00Z", true).await;

    let r = ror(&app, &token, "2025-06-30", None, Value::Null).await;
    assert_eq!(r["windowMonths"], 12, "default window");
    assert_eq!(r["windowStart"], "2024-07-01");
    assert_eq!(r["purchasingCustomers"], 6, "a b c d g h: {r}");
    assert_eq!(r["helpedCustomers"], 4, "a b c h");
    assert_eq!(r["referralOrRepeatCustomers"], 2, "a b");
    assert_eq!(r["referredCustomers"], 1);
    assert_eq!(r["repeatCustomers"], 1);
    assert_eq!(r["rorPercent"], "50");
    assert_eq!(r["reason"], Value::Null);

    let wide = ror(&app, &token, "2025-06-30", Some(24), Value::Null).await;
    assert_eq!(wide["helpedCustomers"], 5, "d is helped within 24 months");
    assert_eq!(wide["rorPercent"], "40");

    let vip = ror(&app, &token, "2025-06-30", None, json!({ "tag": "vip" })).await;
    assert_eq!(vip["purchasingCustomers"], 3);
    assert_eq!(vip["helpedCustomers"], 3);
    assert_eq!(vip["rorPercent"], "33.33");

    let before = ror(&app, &token, "2023-12-31", None, Value::Null).await;
    assert_eq!(before["helpedCustomers"], 0);
    assert_eq!(before["rorPercent"], Value::Null);
}

/// Customers and money for the customer-value tests; returns K1..K5 ids.
async fn arrange_value(db: &DatabaseConnection) -> [i64; 5] {
    let k1 = customer(db, c("2024-01-01T00:00:00Z").tag("vip")).await;
    let k2 = customer(db, c("2024-01-01T00:00:00Z")).await;
    let k3 = customer(db, c("2025-03-01T00:00:00Z")).await;
    // Churned long before: inactive, no money.
    let k4 = customer(db, c("2023-01-01T00:00:00Z")).await;
    churn(db, k4, "2024-06-01T00:00:00Z", "OTHER", None).await;
    // Churned long before but purchased in the period: active.
    let k5 = customer(db, c("2023-01-01T00:00:00Z")).await;
    churn(db, k5, "2024-06-01T00:00:00Z", "OTHER", None).await;

    purchase(db, k1, 10_000, "EUR", "2025-01-05T10:00:00Z").await;
    purchase(db, k1, 5_000, "EUR", "2025-06-30T23:59:59Z").await;
    purchase(db, k1, 99_900, "EUR", "2025-07-01T00:00:00Z").await; // after the period
    purchase(db, k2, 3_000, "EUR", "2025-02-01T10:00:00Z").await;
    purchase(db, k2, 100, "EUR", "2024-12-31T23:59:59Z").await; // before the period
    purchase(db, k3, 5_000, "JPY", "2025-04-01T10:00:00Z").await;
    purchase(db, k5, 1_000, "EUR", "2025-03-01T10:00:00Z").await;

    cost(db, Some(k3), "ACQUISITION", 4_000, "EUR", "2025-03-01").await;
    cost(db, None, "ACQUISITION", 2_000, "EUR", "2025-01-01").await;
    cost(db, Some(k1), "CARE", 1_500, "EUR", "2025-02-01").await;
    cost(db, None, "CARE", 800, "EUR", "2025-06-30").await;
    cost(db, None, "CARE", 9_900, "EUR", "2025-07-01").await; // after the period
    cost(db, Some(k2), "CARE", 1_500, "KWD", "2025-02-01").await;
    [k1, k2, k3, k4, k5]
}

async fn customer_value_is_per_currency_with_shared_costs(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    arrange_value(app.db()).await;

    let all = value(&app, &token, "2025-01-01", "2025-07-01", Value::Null).await;
    assert_eq!(
        all,
        json!([
            {
                "currency": "EUR", "revenue": "190.00", "acquisitionCosts": "60.00",
                "careCosts": "23.00", "customerCount": 4, "revenuePerCustomer": "47.50",
                "costPerCustomer": "20.75", "marginPerCustomer": "26.75",
                "revenueToCostRatio": "2.29"
            },
            {
                "currency": "JPY", "revenue": "5000", "acquisitionCosts": "0",
                "careCosts": "0", "customerCount": 4, "revenuePerCustomer": "1250",
                "costPerCustomer": "0", "marginPerCustomer": "1250",
                "revenueToCostRatio": null
            },
            {
                "currency": "KWD", "revenue": "0.000", "acquisitionCosts": "0.000",
                "careCosts": "1.500", "customerCount": 4, "revenuePerCustomer": "0.000",
                "costPerCustomer": "0.375", "marginPerCustomer": "-0.375",
                "revenueToCostRatio": "0"
            }
        ])
    );

    // One of four active customers: a quarter of the unattributed costs.
    let vip = value(
        &app,
        &token,
        "2025-01-01",
        "2025-07-01",
        json!({ "tag": "vip" }),
    )
    .await;
    assert_eq!(
        vip,
        json!([{
            "currency": "EUR", "revenue": "150.00", "acquisitionCosts": "5.00",
            "careCosts": "17.00", "customerCount": 1, "revenuePerCustomer": "150.00",
            "costPerCustomer": "22.00", "marginPerCustomer": "128.00",
            "revenueToCostRatio": "6.82"
        }])
    );
}

async fn most_valuable_customers_rank_by_margin_per_currency(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let [k1, k2, k3, _k4, k5] = arrange_value(app.db()).await;
    let row = |rank: i64, id: i64, cur: &str, rev: &str, att: &str, shared: &str, margin: &str| {
        json!({
            "rank": rank, "customerId": crate::fixtures::api_id("Customer", id), "currency": cur, "revenue": rev,
            "attributedCareCosts": att, "sharedCareCosts": shared, "margin": margin
        })
    };

    let top2 = most_valuable(
        &app,
        &token,
        "from: \"2025-01-01\", to: \"2025-07-01\", first: 2",
        Value::Null,
    )
    .await;
    assert_eq!(
        top2,
        json!([
            row(1, k1, "EUR", "150.00", "15.00", "2.00", "133.00"),
            row(2, k2, "EUR", "30.00", "0.00", "2.00", "28.00"),
            row(1, k3, "JPY", "5000", "0", "0", "5000"),
            row(2, k1, "JPY", "0", "0", "0", "0"),
            row(1, k1, "KWD", "0.000", "0.000", "0.000", "0.000"),
            row(2, k3, "KWD", "0.000", "0.000", "0.000", "0.000"),
        ])
    );

    let eur = most_valuable(
        &app,
        &token,
        "from: \"2025-01-01\", to: \"2025-07-01\", currency: \"eur\"",
        Value::Null,
    )
    .await;
    assert_eq!(
        eur,
        json!([
            row(1, k1, "EUR", "150.00", "15.00", "2.00", "133.00"),
            row(2, k2, "EUR", "30.00", "0.00", "2.00", "28.00"),
            row(3, k5, "EUR", "10.00", "0.00", "2.00", "8.00"),
            row(4, k3, "EUR", "0.00", "0.00", "2.00", "-2.00"),
        ])
    );

    let vip = most_valuable(
        &app,
        &token,
        "from: \"2025-01-01\", to: \"2025-07-01\", currency: \"EUR\"",
        json!({ "tag": "vip" }),
    )
    .await;
    assert_eq!(
        vip,
        json!([row(1, k1, "EUR", "150.00", "15.00", "2.00", "133.00")])
    );
}

async fn loyalty_report_matches_hand_computation(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Admin).await;
    let db = app.db();
    let l1 = customer(
        db,
        c("2024-01-01T00:00:00Z")
            .stage(Stage::Commitment)
            .kind(RelationshipType::SelfService),
    )
    .await;
    for when in [
        "2024-02-01T10:00:00Z",
        "2024-03-01T10:00:00Z",
        "2024-04-01T10:00:00Z",
        "2025-02-01T10:00:00Z",
        "2025-03-01T10:00:00Z",
    ] {
        purchase(db, l1, 1000, "EUR", when).await;
    }
    let l2 = customer(
        db,
        c("2024-07-01T00:00:00Z")
            .stage(Stage::Expansion)
            .kind(RelationshipType::SelfService),
    )
    .await;
    purchase(db, l2, 1000, "EUR", "2024-08-01T10:00:00Z").await;
    purchase(db, l2, 1000, "EUR", "2025-08-01T10:00:00Z").await;
    let l3 = customer(
        db,
        c("2025-03-01T00:00:00Z").kind(RelationshipType::Community),
    )
    .await;
    purchase(db, l3, 1000, "EUR", "2025-04-01T10:00:00Z").await;
    purchase(db, l3, 1000, "EUR", "2026-01-01T00:00:00Z").await; // after the period
    let l4 = customer(db, c("2024-01-01T00:00:00Z").stage(Stage::Dissolution)).await;
    churn(db, l4, "2025-07-01T00:00:00Z", "DISSATISFACTION", None).await;
    let l5 = customer(db, c("2023-01-01T00:00:00Z").stage(Stage::Dissolution)).await;
    churn(db, l5, "2024-01-01T00:00:00Z", "OTHER", None).await;
    let l6 = customer(
        db,
        c("2025-06-01T00:00:00Z").kind(RelationshipType::Community),
    )
    .await;
    churn(
        db,
        l6,
        "2025-09-01T00:00:00Z",
        "SUPERIOR_ALTERNATIVE",
        Some("2025-10-01T00:00:00Z"),
    )
    .await;
    churn(db, l6, "2025-11-01T00:00:00Z", "DISSATISFACTION", None).await;

    // Feedback: four invitations in the period, two answered by its end.
    let now = Utc::now();
    let survey = SurveyBuilder::new("How are we doing?")
        .status(SurveyStatus::Active)
        .insert(db)
        .await;
    for (who, sent, answered) in [
        (l1, "2024-12-01T10:00:00Z", Some("2024-12-02T10:00:00Z")),
        (l1, "2025-02-01T10:00:00Z", Some("2025-02-03T10:00:00Z")),
        (l2, "2025-03-01T10:00:00Z", None),
        (l3, "2025-12-20T10:00:00Z", Some("2026-01-02T10:00:00Z")),
        (l4, "2025-05-01T10:00:00Z", Some("2025-05-02T10:00:00Z")),
    ] {
        let invitation = survey_invitations::ActiveModel {
            survey_id: Set(survey),
            customer_id: Set(who),
            token_hash: Set(uuid::Uuid::new_v4().to_string()),
            expires_at: Set(at("2027-01-01T00:00:00Z")),
            created_at: Set(at(sent)),
            used_at: Set(answered.map(at)),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("invitation");
        if let Some(answered) = answered {
            survey_responses::ActiveModel {
                survey_id: Set(survey),
                invitation_id: Set(invitation.id),
                customer_id: Set(who),
                submitted_at: Set(at(answered)),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("response");
        }
    }

    // Points.
    let program = ProgramBuilder::new("Club").insert(db).await;
    let mut members = Vec::new();
    for who in [l1, l2] {
        let m = memberships::ActiveModel {
            program_id: Set(program),
            customer_id: Set(who),
            balance: Set(0),
            lifetime_points: Set(0),
            enrolled_at: Set(at("2024-01-01T00:00:00Z")),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("membership");
        members.push(m.id);
    }
    // Written in this order; the database keeps each balance = Σ entries ≥ 0,
    // so member 1 first gets an opening credit from before the period.
    let entries = [
        (members[1], 100, "PURCHASE", "2024-12-30T10:00:00Z"), // before the period
        (members[0], 100, "PURCHASE", "2025-02-01T10:00:00Z"),
        (members[0], 50, "REFERRAL", "2025-03-01T10:00:00Z"),
        (members[0], -30, "REDEMPTION", "2025-04-01T10:00:00Z"),
        (members[0], 999, "PURCHASE", "2024-12-31T10:00:00Z"), // before the period
        (members[1], -20, "EXPIRY", "2025-12-31T10:00:00Z"),
        (members[1], 10, "ADJUSTMENT", "2025-05-01T10:00:00Z"),
        (members[1], -5, "ADJUSTMENT", "2025-05-02T10:00:00Z"),
    ];
    let rows = entries
        .iter()
        .enumerate()
        .map(
            |(n, (m, delta, reason, when))| ledger_entries::ActiveModel {
                membership_id: Set(*m),
                delta: Set(*delta),
                reason: Set((*reason).to_owned()),
                source_key: Set(format!("test:{n}")),
                occurred_at: Set(at(when)),
                created_at: Set(now),
                ..Default::default()
            },
        );
    ledger_entries::Entity::insert_many(rows)
        .exec(db)
        .await
        .expect("ledger");

    let r = loyalty(&app, &token, "2025-01-01", "2026-01-01", Value::Null).await;
    let expected = json!({
        "from": "2025-01-01", "to": "2026-01-01",
        "customers": 5, "purchasingCustomers": 3, "repeatCustomers": 2, "loyalCustomers": 1,
        "repeatPurchaseRatePercent": "66.67", "loyalCustomerSharePercent": "20",
        // (731 + 549 + 306 + 547 + 153) / 5
        "averageRelationshipDays": "457.2",
        "churnCount": 3,
        "churnByReason": [
            { "reason": "CHANGED_REQUIREMENTS", "count": 0, "sharePercent": "0" },
            { "reason": "SUPERIOR_ALTERNATIVE", "count": 1, "sharePercent": "33.33" },
            { "reason": "DISSATISFACTION", "count": 2, "sharePercent": "66.67" },
            { "reason": "OTHER", "count": 0, "sharePercent": "0" }
        ],
        "customersByStage": [
            { "stage": "AWARENESS", "count": 0 },
            { "stage": "EXPLORATION", "count": 2 },
            { "stage": "EXPANSION", "count": 1 },
            { "stage": "COMMITMENT", "count": 1 },
            { "stage": "DISSOLUTION", "count": 1 }
        ],
        "customersByType": [
            { "relationshipType": "PERSONAL_ASSISTANCE", "count": 0 },
            { "relationshipType": "DEDICATED_PERSONAL_ASSISTANCE", "count": 0 },
            { "relationshipType": "SELF_SERVICE", "count": 2 },
            { "relationshipType": "AUTOMATED_SERVICE", "count": 0 },
            { "relationshipType": "COMMUNITY", "count": 2 },
            { "relationshipType": "CO_CREATION", "count": 0 },
            { "relationshipType": null, "count": 1 }
        ],
        "surveyInvitations": 4, "surveyResponses": 2, "feedbackParticipationPercent": "50",
        "pointsIssued": 160, "pointsRedeemed": 30, "pointsExpired": 20
    });
    assert_eq!(r, expected);

    let ss = loyalty(
        &app,
        &token,
        "2025-01-01",
        "2026-01-01",
        json!({ "relationshipType": "SELF_SERVICE" }),
    )
    .await;
    assert_eq!(ss["customers"], 2);
    assert_eq!(ss["repeatPurchaseRatePercent"], "100");
    assert_eq!(ss["loyalCustomerSharePercent"], "50");
    assert_eq!(ss["averageRelationshipDays"], "640", "(731 + 549) / 2");
    assert_eq!(ss["churnCount"], 0);
    assert_eq!(ss["churnByReason"][0]["sharePercent"], Value::Null);
    assert_eq!(ss["feedbackParticipationPercent"], "50");
    assert_eq!(ss["pointsIssued"], 160);
    assert_eq!(
        ss["customersByType"].as_array().map(Vec::len),
        Some(6),
        "no untyped row when every customer has a type"
    );
}

async fn bad_inputs_are_rejected_with_their_field(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Admin).await;
    let cases = [
        ("retentionRate(from: \"2025-02-01\", to: \"2025-01-01\") { ratePercent }", "from", "from after to"),
        ("retentionRate(from: \"2010-01-01\", to: \"2025-01-01\") { ratePercent }", "to", "over ten years"),
        ("customerValue(from: \"2025-02-01\", to: \"2025-01-01\") { revenue }", "from", "value: from after to"),
        ("loyaltyReport(from: \"2014-01-01\", to: \"2025-01-01\") { customers }", "to", "report: over ten years"),
        ("returnOnRelationship(asOf: \"2025-01-01\", windowMonths: 0) { rorPercent }", "windowMonths", "zero window"),
        ("returnOnRelationship(asOf: \"2025-01-01\", windowMonths: -3) { rorPercent }", "windowMonths", "negative window"),
        ("returnOnRelationship(asOf: \"2025-01-01\", windowMonths: 121) { rorPercent }", "windowMonths", "window too long"),
        ("mostValuableCustomers(from: \"2025-01-01\", to: \"2025-02-01\", first: 0) { rank }", "first", "first zero"),
        ("mostValuableCustomers(from: \"2025-01-01\", to: \"2025-02-01\", first: 101) { rank }", "first", "first too big"),
        ("mostValuableCustomers(from: \"2025-01-01\", to: \"2025-02-01\", currency: \"EURO\") { rank }", "currency", "bad currency"),
        ("retentionRate(from: \"2025-01-01\", to: \"2025-02-01\", filter: { tag: \"  \" }) { ratePercent }", "filter.tag", "blank tag"),
        (
            "loyaltyReport(from: \"2025-01-01\", to: \"2025-02-01\", filter: { acquiredFrom: \"2025-02-01\", acquiredTo: \"2025-01-01\" }) { customers }",
            "filter.acquiredFrom",
            "inverted acquisition range",
        ),
    ];
    for (field, want, why) in cases {
        let body = app
            .graphql_as(Some(&token), &format!("{{ {field} }}"), json!({}))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], want,
            "{why}: {body}"
        );
    }
    let not_a_date = app
        .graphql_as(
            Some(&token),
            "{ retentionRate(from: \"2025-13-01\", to: \"2025-02-01\") { ratePercent } }",
            json!({}),
        )
        .await;
    assert_eq!(
        error_code(&not_a_date),
        Some("BAD_USER_INPUT"),
        "{not_a_date}"
    );
}

async fn every_staff_role_reads_metrics_and_anonymous_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let all = "{ retentionRate(from: \"2025-01-01\", to: \"2025-02-01\") { ratePercent } \
               returnOnRelationship(asOf: \"2025-01-01\") { rorPercent } \
               customerValue(from: \"2025-01-01\", to: \"2025-02-01\") { revenue } \
               mostValuableCustomers(from: \"2025-01-01\", to: \"2025-02-01\") { rank } \
               loyaltyReport(from: \"2025-01-01\", to: \"2025-02-01\") { customers } }";
    for role in Role::ALL {
        let token = app.login_as(role).await;
        let body = app.graphql_as(Some(&token), all, json!({})).await;
        assert_eq!(data(&body)["loyaltyReport"]["customers"], 0, "{role}");
    }
    let anonymous = app.graphql(all, json!({})).await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
    assert!(anonymous["data"].is_null() || anonymous["data"]["retentionRate"].is_null());
}

/// A deterministic pseudo-random sequence (no extra dependency).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    /// The next number below `n`.
    pub(crate) fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

async fn a_two_year_customer_base_gives_consistent_metrics_in_few_statements(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let db = app.db();
    let mut rng = Lcg(7);
    let start = at("2024-01-01T00:00:00Z");
    let now = Utc::now();
    let kinds = [
        RelationshipType::SelfService,
        RelationshipType::Community,
        RelationshipType::PersonalAssistance,
    ];
    let mut purchases_rows = Vec::new();
    let mut interaction_rows = Vec::new();
    for n in 0..120_u64 {
        let acquired = start + chrono::Duration::days(rng.next(700) as i64);
        let kind = kinds[rng.next(3) as usize];
        let mut row = CustomerBuilder::new()
            .name(format!("Customer {n}"))
            .stage(Stage::Expansion)
            .kind(kind)
            .acquired_at(acquired)
            .marketing_consent(true);
        if n % 5 == 0 && n > 0 {
            row = row.referred_by(1);
        }
        let id = customers::Entity::insert(row.model())
            .exec(db)
            .await
            .expect("customer")
            .last_insert_id;
        if n % 4 == 0 {
            let churned = acquired + chrono::Duration::days(30 + rng.next(300) as i64);
            let back =
                (n % 12 == 0).then(|| churned + chrono::Duration::days(20 + rng.next(90) as i64));
            churn_events::ActiveModel {
                customer_id: Set(id),
                churned_at: Set(churned),
                reason: Set(["DISSATISFACTION", "SUPERIOR_ALTERNATIVE", "OTHER"]
                    [rng.next(3) as usize]
                    .into()),
                reactivated_at: Set(back),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("churn");
        }
        for k in 0..rng.next(7) {
            purchases_rows.push(
                PurchaseBuilder::new(id)
                    .minor(1_000 + rng.next(20_000) as i64)
                    .currency(if n % 10 == 0 { "USD" } else { "EUR" })
                    .at(acquired + chrono::Duration::days(rng.next(365) as i64))
                    .external_ref(format!("{n}-{k}"))
                    .model(),
            );
        }
        interaction_rows.push(interactions::ActiveModel {
            customer_id: Set(id),
            channel: Set("EMAIL".into()),
            occurred_at: Set(acquired + chrono::Duration::days(rng.next(200) as i64)),
            helped: Set(rng.next(3) > 0),
            created_at: Set(now),
            ..Default::default()
        });
    }
    purchases::Entity::insert_many(purchases_rows)
        .exec(db)
        .await
        .expect("purchases");
    interactions::Entity::insert_many(interaction_rows)
        .exec(db)
        .await
        .expect("interactions");
    cost(db, None, "CARE", 500_000, "EUR", "2025-03-01").await;
    cost(db, None, "ACQUISITION", 800_000, "EUR", "2025-01-15").await;

    // Quarters chain, and B + N − lost = E in each.
    let quarters = [
        "2024-01-01",
        "2024-04-01",
        "2024-07-01",
        "2024-10-01",
        "2025-01-01",
        "2025-04-01",
        "2025-07-01",
        "2025-10-01",
        "2026-01-01",
    ];
    let mut previous_end: Option<i64> = None;
    for pair in quarters.windows(2) {
        let r = retention(&app, &token, pair[0], pair[1], Value::Null).await;
        let [b, n, e, lost] = bnel(&r);
        assert_eq!(b + n - lost, e, "{pair:?}: {r}");
        if let Some(prev) = previous_end {
            assert_eq!(b, prev, "{pair:?} starts where the last quarter ended");
            assert!(r["ratePercent"].is_string(), "{pair:?}: {r}");
        }
        previous_end = Some(e);
    }
    let year = retention(&app, &token, "2025-01-01", "2026-01-01", Value::Null).await;
    let rate: f64 = year["ratePercent"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("rate");
    assert!((0.0..=100.0).contains(&rate), "{year}");

    // Each metric is a constant number of statements, whatever the data size.
    let before = app.statements();
    let report = loyalty(&app, &token, "2025-01-01", "2026-01-01", Value::Null).await;
    let used = app.statements() - before;
    assert!(used <= 10, "loyalty report took {used} statements");
    assert!(
        report["customers"].as_i64().is_some_and(|n| n > 50),
        "{report}"
    );
    assert!(report["averageRelationshipDays"].is_string(), "{report}");

    let values = value(&app, &token, "2025-01-01", "2026-01-01", Value::Null).await;
    let currencies: Vec<&str> = values
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|v| v["currency"].as_str())
        .collect();
    assert_eq!(currencies, ["EUR", "USD"]);
    assert!(values[0]["revenueToCostRatio"].is_string(), "{values}");

    let o = ror(&app, &token, "2025-12-31", None, Value::Null).await;
    assert!(o["helpedCustomers"].as_i64().is_some_and(|n| n > 0), "{o}");
    assert!(o["rorPercent"].is_string(), "{o}");
}

// ---------------------------------------------------------------- benchmark

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: cargo test -p tests --test e2e metrics::benchmark -- --ignored --nocapture"]
async fn benchmark_metrics_over_a_large_base_sqlite() {
    benchmark_metrics(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: cargo test -p tests --test e2e metrics::benchmark -- --ignored --nocapture"]
async fn benchmark_metrics_over_a_large_base_postgres() {
    if crate::helpers::postgres_url().is_none() {
        eprintln!("TEST_DATABASE_URL not set; PostgreSQL benchmark skipped");
        return;
    }
    benchmark_metrics(Engine::Postgres).await;
}

/// 20 000 customers over two years with 80 000 purchases, 4 000 churn events
/// and 20 000 interactions; every metric must answer well within a second.
async fn benchmark_metrics(engine: Engine) {
    const CUSTOMERS: u64 = 20_000;
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let db = app.db();
    let mut rng = Lcg(11);
    let start = at("2024-01-01T00:00:00Z");
    let now = Utc::now();
    let kinds = [
        RelationshipType::SelfService,
        RelationshipType::Community,
        RelationshipType::PersonalAssistance,
    ];
    let mut acquired_at = Vec::with_capacity(CUSTOMERS as usize);
    for chunk in 0..CUSTOMERS / 1_000 {
        let rows: Vec<customers::ActiveModel> = (0..1_000)
            .map(|i| {
                let acquired = start + chrono::Duration::minutes(rng.next(700 * 24 * 60) as i64);
                acquired_at.push(acquired);
                CustomerBuilder::new()
                    .name(format!("Customer {chunk}-{i}"))
                    .stage(Stage::Expansion)
                    .kind(kinds[rng.next(3) as usize])
                    .acquired_at(acquired)
                    .marketing_consent(true)
                    .model()
            })
            .collect();
        customers::Entity::insert_many(rows)
            .exec(db)
            .await
            .expect("customers");
    }
    let ids = 1..=CUSTOMERS as i64;
    let mut purchase_rows = Vec::new();
    let mut interaction_rows = Vec::new();
    let mut churn_rows = Vec::new();
    for (id, acquired) in ids.zip(acquired_at.iter().copied()) {
        for k in 0..4 {
            purchase_rows.push(
                PurchaseBuilder::new(id)
                    .minor(500 + rng.next(30_000) as i64)
                    .currency(if id % 10 == 0 { "USD" } else { "EUR" })
                    .at(acquired + chrono::Duration::hours(rng.next(365 * 24) as i64))
                    .external_ref(format!("b-{id}-{k}"))
                    .model(),
            );
        }
        interaction_rows.push(interactions::ActiveModel {
            customer_id: Set(id),
            channel: Set("CHAT".into()),
            occurred_at: Set(acquired + chrono::Duration::hours(rng.next(200 * 24) as i64)),
            helped: Set(rng.next(2) == 0),
            created_at: Set(now),
            ..Default::default()
        });
        if id % 5 == 0 {
            churn_rows.push(churn_events::ActiveModel {
                customer_id: Set(id),
                churned_at: Set(acquired + chrono::Duration::days(30 + rng.next(300) as i64)),
                reason: Set("DISSATISFACTION".into()),
                created_at: Set(now),
                ..Default::default()
            });
        }
    }
    for chunk in purchase_rows.chunks(2_000) {
        purchases::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .expect("purchases");
    }
    for chunk in interaction_rows.chunks(2_000) {
        interactions::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .expect("interactions");
    }
    for chunk in churn_rows.chunks(2_000) {
        churn_events::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .expect("churn");
    }

    // Fresh planner statistics, as autovacuum would have them in production.
    db.execute_unprepared("ANALYZE").await.expect("analyze");

    let queries = [
        "{ retentionRate(from: \"2025-01-01\", to: \"2026-01-01\") { ratePercent } }",
        "{ returnOnRelationship(asOf: \"2025-12-31\") { rorPercent } }",
        "{ customerValue(from: \"2025-01-01\", to: \"2026-01-01\") { revenue } }",
        "{ mostValuableCustomers(from: \"2025-01-01\", to: \"2026-01-01\", first: 100) { margin } }",
        "{ loyaltyReport(from: \"2025-01-01\", to: \"2026-01-01\") { averageRelationshipDays } }",
    ];
    for query in queries {
        let started = std::time::Instant::now();
        let body = app.graphql_as(Some(&token), query, json!({})).await;
        let elapsed = started.elapsed();
        data(&body);
        eprintln!("{engine:?} {elapsed:>10.1?}  {query}");
        assert!(
            elapsed < std::time::Duration::from_secs(5),
            "{query} took {elapsed:?}"
        );
    }
}
