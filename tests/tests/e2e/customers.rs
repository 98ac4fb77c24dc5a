//! Customers and relationships (SPEC §3) end to end: every operation over
//! HTTP, pagination and filters, the card's statement count, privacy, bad
//! input (with the database unchanged) and role refusals.

use chrono::{Duration, Utc};
use domain::auth::Role;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{json, Value};

use crate::fixtures::{
    at, day, CustomerBuilder, ProgramBuilder, PurchaseBuilder, RelationshipType, Stage,
    SurveyBuilder, SurveyStatus,
};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

const FIELDS: &str = "id name email phone birthday locale tags relationshipStage relationshipType \
    acquiredAt churnedAt churnReason churnNote isChurned marketingConsent erasedAt";

const CREATE: &str =
    "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { \
    id name email phone birthday locale tags relationshipStage relationshipType acquiredAt \
    churnedAt churnReason churnNote isChurned marketingConsent erasedAt } } }";

const UPDATE: &str =
    "mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) { customer { \
    id name email phone birthday locale tags relationshipType acquiredAt marketingConsent } } }";

const CHURN: &str = "mutation($id: ID!, $reason: ChurnReason!, $note: String, $at: DateTime) { \
    churnCustomer(input: { id: $id, reason: $reason, note: $note, at: $at }) { customer { id churnedAt churnReason churnNote isChurned relationshipStage } } }";

const REACTIVATE: &str =
    "mutation($id: ID!, $at: DateTime) { reactivateCustomer(input: { id: $id, at: $at }) { customer { \
    id churnedAt churnReason isChurned relationshipStage } } }";

const STAGE: &str = "mutation($id: ID!, $stage: RelationshipStage!) { setRelationshipStage(input: { id: $id, stage: $stage }) { customer { id relationshipStage } } }";

const INTERACTION: &str =
    "mutation($input: RecordInteractionInput!) { recordInteraction(input: $input) { interaction { \
    id customerId channel occurredAt summary helped } } }";

const PURCHASE: &str =
    "mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { \
    id customerId amount currency occurredAt externalRef } } }";

const COST: &str = "mutation($input: RecordCostInput!) { recordCost(input: $input) { cost { \
    id customerId kind amount currency incurredOn note } } }";

const LIST: &str = "query($first: Int, $after: String, $last: Int, $before: String, $filter: CustomerFilter, $orderBy: CustomerOrder) { \
    customers(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) { \
    edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

const ERASE: &str = "mutation($id: ID!) { eraseCustomer(input: { id: $id }) { customer { id name email phone birthday locale tags erasedAt } } }";
const EXPORT: &str = "query($id: ID!) { exportCustomerData(id: $id) }";

on_both_engines!(
    creating_reading_and_updating_a_customer_round_trips_every_field,
    email_is_unique_among_customers,
    customers_paginate_forward_and_backward_stably_across_inserts,
    each_filter_narrows_the_customer_list,
    each_order_sorts_the_customer_list_and_its_cursors_follow,
    churn_and_reactivation_keep_a_history,
    concurrent_churns_record_one_churn_event,
    concurrent_re_referrals_cannot_form_a_cycle,
    setting_the_relationship_stage_changes_only_the_stage,
    the_card_shows_touchpoints_purchases_revenue_and_referrals,
    nested_connections_page_forward_and_backward,
    repeating_an_external_reference_is_a_conflict_and_writes_nothing,
    a_purchase_before_the_customer_was_acquired_is_refused,
    costs_are_recorded_with_or_without_a_customer,
    upcoming_birthdays_are_listed_soonest_first,
    a_card_page_costs_the_same_statements_for_5_or_50_customers,
    export_returns_everything_and_erase_keeps_every_sum,
    erased_customers_are_read_only,
    bad_input_is_refused_with_its_code_and_changes_nothing,
    roles_are_enforced_and_refusals_change_nothing,
);

// ---------------------------------------------------------------- helpers

async fn gql(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    app.graphql_as(Some(token), query, vars).await
}

/// Runs a mutation that must succeed and returns the one object its payload
/// holds (e.g. `createCustomer { customer { … } }` → the customer).
async fn ok(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    let body = gql(app, token, query, vars).await;
    let only = |value: &Value| {
        value
            .as_object()
            .and_then(|o| o.values().next().cloned())
            .unwrap_or(Value::Null)
    };
    only(&only(data(&body)))
}

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    ok(app, token, CREATE, json!({ "input": input })).await
}

async fn create_named(app: &TestApp, token: &str, name: &str) -> String {
    CustomerBuilder::new().name(name).create(app, token).await
}

async fn purchase(
    app: &TestApp,
    token: &str,
    id: &str,
    amount: &str,
    currency: &str,
    reference: &str,
) {
    PurchaseBuilder::new(id)
        .amount(amount)
        .currency(currency)
        .external_ref(reference)
        .record(app, token)
        .await;
}

fn names(body: &Value) -> Vec<String> {
    data(body)["customers"]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn page_info(body: &Value) -> (bool, bool) {
    let info = &data(body)["customers"]["pageInfo"];
    (
        info["hasPreviousPage"].as_bool().unwrap_or_default(),
        info["hasNextPage"].as_bool().unwrap_or_default(),
    )
}

fn end_cursor(body: &Value) -> String {
    data(body)["customers"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("endCursor")
        .to_owned()
}

/// Every row of every table this area writes, for "nothing changed" checks.
async fn snapshot(app: &TestApp) -> String {
    use entity::*;
    let db = app.db();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        customers::Entity::find()
            .order_by_asc(customers::Column::Id)
            .all(db)
            .await
            .expect("customers"),
        customer_tags::Entity::find()
            .order_by_asc(customer_tags::Column::CustomerId)
            .order_by_asc(customer_tags::Column::Tag)
            .all(db)
            .await
            .expect("tags"),
        interactions::Entity::find()
            .order_by_asc(interactions::Column::Id)
            .all(db)
            .await
            .expect("interactions"),
        purchases::Entity::find()
            .order_by_asc(purchases::Column::Id)
            .all(db)
            .await
            .expect("purchases"),
        costs::Entity::find()
            .order_by_asc(costs::Column::Id)
            .all(db)
            .await
            .expect("costs"),
        churn_events::Entity::find()
            .order_by_asc(churn_events::Column::Id)
            .all(db)
            .await
            .expect("churn events"),
        erasures::Entity::find()
            .order_by_asc(erasures::Column::Id)
            .all(db)
            .await
            .expect("erasures"),
        ledger_entries::Entity::find()
            .order_by_asc(ledger_entries::Column::Id)
            .all(db)
            .await
            .expect("ledger"),
    )
}

async fn user_id(app: &TestApp, token: &str) -> i64 {
    let body = gql(app, token, "{ me { id } }", json!({})).await;
    crate::fixtures::db_key(data(&body)["me"]["id"].as_str().expect("user id"))
}

// ---------------------------------------------------------------- profiles

async fn creating_reading_and_updating_a_customer_round_trips_every_field(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;

    let referrer = create_named(&app, &token, "Rita Referrer").await;
    let created = create(
        &app,
        &token,
        json!({
            "name": "  Ann Lee ",
            "email": "Ann.Lee@Example.com",
            "phone": "+49 (30) 123-4567",
            "birthday": "1990-05-17",
            "locale": "de-AT",
            "tags": ["VIP", "newsletter", "vip"],
            "relationshipStage": "EXPLORATION",
            "relationshipType": "SELF_SERVICE",
            "acquiredAt": "2025-03-01T10:00:00Z",
            "referredById": referrer,
            "marketingConsent": true
        }),
    )
    .await;
    assert_eq!(created["name"], "Ann Lee");
    assert_eq!(created["email"], "ann.lee@example.com");
    assert_eq!(created["phone"], "+49301234567");
    assert_eq!(created["birthday"], "1990-05-17");
    assert_eq!(created["locale"], "de-AT");
    assert_eq!(created["tags"], json!(["newsletter", "vip"]));
    assert_eq!(created["relationshipStage"], "EXPLORATION");
    assert_eq!(created["relationshipType"], "SELF_SERVICE");
    assert_eq!(created["acquiredAt"], "2025-03-01T10:00:00.000Z");
    assert_eq!(created["isChurned"], false);
    assert_eq!(created["marketingConsent"], true);
    let id = created["id"].as_str().expect("id").to_owned();

    let query =
        format!("query($id: ID!) {{ customer(id: $id) {{ {FIELDS} referredBy {{ id name }} }} }}");
    let read = gql(&app, &token, &query, json!({ "id": id })).await;
    let read = &data(&read)["customer"];
    assert_eq!(read["name"], "Ann Lee");
    assert_eq!(read["referredBy"]["name"], "Rita Referrer");

    // Omitted fields stay; null clears; tags are replaced.
    let updated = ok(
        &app,
        &token,
        UPDATE,
        json!({ "input": { "id": id, "name": "Ann Lee-Smith", "phone": null, "tags": ["gold"], "relationshipType": "COMMUNITY", "marketingConsent": false } }),
    )
    .await;
    assert_eq!(updated["name"], "Ann Lee-Smith");
    assert_eq!(updated["email"], "ann.lee@example.com");
    assert_eq!(updated["phone"], Value::Null);
    assert_eq!(updated["birthday"], "1990-05-17");
    assert_eq!(updated["tags"], json!(["gold"]));
    assert_eq!(updated["relationshipType"], "COMMUNITY");
    assert_eq!(updated["marketingConsent"], false);

    let cleared = ok(
        &app,
        &token,
        UPDATE,
        json!({ "input": { "id": id, "referredById": null, "email": null } }),
    )
    .await;
    assert_eq!(cleared["email"], Value::Null);
    let read = gql(&app, &token, &query, json!({ "id": id })).await;
    assert_eq!(data(&read)["customer"]["referredBy"], Value::Null);
}

async fn email_is_unique_among_customers(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    create(
        &app,
        &token,
        json!({ "name": "Ann", "email": "ann@example.com" }),
    )
    .await;
    let other = create_named(&app, &token, "Bob").await;
    let before = snapshot(&app).await;

    let dup = gql(
        &app,
        &token,
        CREATE,
        json!({ "input": { "name": "Ann 2", "email": "ANN@example.com" } }),
    )
    .await;
    assert_eq!(error_code(&dup), Some("CONFLICT"), "{dup}");
    let dup = gql(
        &app,
        &token,
        UPDATE,
        json!({ "input": { "id": other, "email": "ann@example.com" } }),
    )
    .await;
    assert_eq!(error_code(&dup), Some("CONFLICT"), "{dup}");
    assert_eq!(snapshot(&app).await, before);

    // Customers without e-mail do not collide.
    create_named(&app, &token, "No Mail 1").await;
    create_named(&app, &token, "No Mail 2").await;
}

// ---------------------------------------------------------------- list

async fn customers_paginate_forward_and_backward_stably_across_inserts(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    for name in ["Gus", "Ann", "Eve", "Ben", "Fay", "Cid", "Dan"] {
        create_named(&app, &token, name).await;
    }
    let order = json!({ "field": "NAME", "direction": "ASC" });

    let page1 = gql(&app, &token, LIST, json!({ "first": 3, "orderBy": order })).await;
    assert_eq!(names(&page1), ["Ann", "Ben", "Cid"]);
    assert_eq!(page_info(&page1), (false, true));

    // Inserts before and after the cursor: the next page neither repeats nor skips.
    create_named(&app, &token, "Abe").await;
    create_named(&app, &token, "dave").await;
    let page2 = gql(
        &app,
        &token,
        LIST,
        json!({ "first": 3, "after": end_cursor(&page1), "orderBy": order }),
    )
    .await;
    assert_eq!(names(&page2), ["Dan", "dave", "Eve"]);
    assert_eq!(page_info(&page2), (true, true));

    let page3 = gql(
        &app,
        &token,
        LIST,
        json!({ "first": 3, "after": end_cursor(&page2), "orderBy": order }),
    )
    .await;
    assert_eq!(names(&page3), ["Fay", "Gus"]);
    assert_eq!(page_info(&page3), (true, false));

    // Backward from the start of page 2.
    let start2 = data(&page2)["customers"]["pageInfo"]["startCursor"]
        .as_str()
        .expect("start")
        .to_owned();
    let back = gql(
        &app,
        &token,
        LIST,
        json!({ "last": 2, "before": start2, "orderBy": order }),
    )
    .await;
    assert_eq!(names(&back), ["Ben", "Cid"]);
    assert_eq!(page_info(&back), (true, true));

    let tail = gql(&app, &token, LIST, json!({ "last": 3, "orderBy": order })).await;
    assert_eq!(names(&tail), ["Eve", "Fay", "Gus"]);
    assert_eq!(page_info(&tail), (true, false));

    // Default order: most recently acquired first.
    let newest = gql(&app, &token, LIST, json!({ "first": 2 })).await;
    assert_eq!(names(&newest), ["dave", "Abe"]);

    // Page bounds and foreign cursors.
    let too_big = gql(&app, &token, LIST, json!({ "first": 101 })).await;
    assert_eq!(error_code(&too_big), Some("BAD_USER_INPUT"));
    assert_eq!(too_big["errors"][0]["extensions"]["field"], "first");
    let foreign = gql(
        &app,
        &token,
        LIST,
        json!({ "first": 3, "after": end_cursor(&page1), "orderBy": { "field": "ACQUIRED_AT" } }),
    )
    .await;
    assert_eq!(error_code(&foreign), Some("BAD_USER_INPUT"));
    assert_eq!(foreign["errors"][0]["extensions"]["field"], "after");
}

async fn each_filter_narrows_the_customer_list(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let customer = |name: &str, stage: Stage, acquired: &str| {
        CustomerBuilder::new()
            .name(name)
            .stage(stage)
            .acquired_at(at(acquired))
    };
    let ann = customer("Ann Archer", Stage::Commitment, "2024-01-10T00:00:00Z")
        .email("ann@alpha.example")
        .tag("vip")
        .kind(RelationshipType::SelfService);
    let bob = customer("Bob Baker", Stage::Exploration, "2024-06-10T00:00:00Z")
        .email("bob@beta.example")
        .tag("vip")
        .tag("b2b")
        .kind(RelationshipType::Community);
    let cid = customer("Cid 100%_off", Stage::Exploration, "2025-01-10T00:00:00Z").tag("b2b");
    create(&app, &token, ann.input()).await;
    create(&app, &token, bob.input()).await;
    let cid = create(&app, &token, cid.input()).await;
    ok(
        &app,
        &token,
        CHURN,
        json!({ "id": cid["id"], "reason": "DISSATISFACTION", "at": "2025-02-01T00:00:00Z" }),
    )
    .await;

    let order = json!({ "field": "NAME" });
    let cases: &[(&str, Value, &[&str])] = &[
        (
            "text in name, any case",
            json!({ "text": "ARCH" }),
            &["Ann Archer"],
        ),
        (
            "text in email",
            json!({ "text": "beta.example" }),
            &["Bob Baker"],
        ),
        (
            "text with LIKE wildcards is literal",
            json!({ "text": "100%_" }),
            &["Cid 100%_off"],
        ),
        (
            "text % alone matches literally",
            json!({ "text": "%" }),
            &["Cid 100%_off"],
        ),
        ("tag", json!({ "tag": "VIP" }), &["Ann Archer", "Bob Baker"]),
        (
            "stage",
            json!({ "relationshipStage": "COMMITMENT" }),
            &["Ann Archer"],
        ),
        (
            "stage after churn",
            json!({ "relationshipStage": "DISSOLUTION" }),
            &["Cid 100%_off"],
        ),
        (
            "type",
            json!({ "relationshipType": "COMMUNITY" }),
            &["Bob Baker"],
        ),
        ("churned", json!({ "churned": true }), &["Cid 100%_off"]),
        (
            "active",
            json!({ "churned": false }),
            &["Ann Archer", "Bob Baker"],
        ),
        (
            "acquired from (inclusive)",
            json!({ "acquiredFrom": "2024-06-10" }),
            &["Bob Baker", "Cid 100%_off"],
        ),
        (
            "acquired to (exclusive)",
            json!({ "acquiredTo": "2024-06-10" }),
            &["Ann Archer"],
        ),
        (
            "acquired range",
            json!({ "acquiredFrom": "2024-02-01", "acquiredTo": "2025-01-01" }),
            &["Bob Baker"],
        ),
        (
            "combined",
            json!({ "tag": "b2b", "churned": false }),
            &["Bob Baker"],
        ),
        ("no match", json!({ "text": "zzz" }), &[]),
    ];
    for (what, filter, expected) in cases {
        let body = gql(
            &app,
            &token,
            LIST,
            json!({ "first": 10, "filter": filter, "orderBy": order }),
        )
        .await;
        assert_eq!(names(&body), *expected, "{what}: {body}");
        let count = gql(
            &app,
            &token,
            "query($f: CustomerFilter) { customerCount(filter: $f) }",
            json!({ "f": filter }),
        )
        .await;
        assert_eq!(
            data(&count)["customerCount"],
            expected.len(),
            "{what}: count"
        );
    }
    let bad = gql(
        &app,
        &token,
        LIST,
        json!({ "filter": { "acquiredFrom": "2025-01-01", "acquiredTo": "2024-01-01" } }),
    )
    .await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
    assert_eq!(bad["errors"][0]["extensions"]["field"], "filter.acquiredTo");
}

async fn each_order_sorts_the_customer_list_and_its_cursors_follow(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let acquired = |name: &str, when: &str| CustomerBuilder::new().name(name).acquired_at(at(when));
    let ann = acquired("ann", "2024-03-01T00:00:00Z")
        .create(&app, &token)
        .await;
    let bob = acquired("Bob", "2024-01-01T00:00:00Z")
        .create(&app, &token)
        .await;
    let cid = acquired("Cid", "2024-02-01T00:00:00Z")
        .create(&app, &token)
        .await;
    let dan = acquired("Dan", "2024-02-01T00:00:00Z")
        .create(&app, &token)
        .await;
    purchase(&app, &token, &ann, "10.00", "EUR", "a1").await;
    purchase(&app, &token, &bob, "30.00", "EUR", "b1").await;
    purchase(&app, &token, &bob, "5", "USD", "b2").await;
    purchase(&app, &token, &cid, "20.50", "EUR", "c1").await;
    purchase(&app, &token, &dan, "999", "USD", "d1").await;

    let cases: &[(&str, Value, &[&str])] = &[
        (
            "name asc, case-insensitive",
            json!({ "field": "NAME", "direction": "ASC" }),
            &["ann", "Bob", "Cid", "Dan"],
        ),
        (
            "name desc",
            json!({ "field": "NAME", "direction": "DESC" }),
            &["Dan", "Cid", "Bob", "ann"],
        ),
        (
            "acquired asc, ties by id",
            json!({ "field": "ACQUIRED_AT", "direction": "ASC" }),
            &["Bob", "Cid", "Dan", "ann"],
        ),
        (
            "acquired desc",
            json!({ "field": "ACQUIRED_AT", "direction": "DESC" }),
            &["ann", "Dan", "Cid", "Bob"],
        ),
        (
            "revenue in EUR desc",
            json!({ "field": "TOTAL_REVENUE", "direction": "DESC" }),
            &["Bob", "Cid", "ann", "Dan"],
        ),
        (
            "revenue in EUR asc",
            json!({ "field": "TOTAL_REVENUE", "direction": "ASC" }),
            &["Dan", "ann", "Cid", "Bob"],
        ),
        (
            "revenue in USD desc",
            json!({ "field": "TOTAL_REVENUE", "direction": "DESC", "currency": "usd" }),
            &["Dan", "Bob", "Cid", "ann"],
        ),
    ];
    for (what, order, expected) in cases {
        let all = gql(&app, &token, LIST, json!({ "first": 10, "orderBy": order })).await;
        assert_eq!(names(&all), *expected, "{what}: {all}");
        // Walk the same order one row at a time, forward and then backward.
        let mut walked = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let body = gql(
                &app,
                &token,
                LIST,
                json!({ "first": 1, "after": after, "orderBy": order }),
            )
            .await;
            walked.extend(names(&body));
            if !page_info(&body).1 {
                break;
            }
            after = Some(end_cursor(&body));
        }
        assert_eq!(walked, *expected, "{what}: forward walk");
        let mut back = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let body = gql(
                &app,
                &token,
                LIST,
                json!({ "last": 1, "before": before, "orderBy": order }),
            )
            .await;
            back.splice(0..0, names(&body));
            if !page_info(&body).0 {
                break;
            }
            before = data(&body)["customers"]["pageInfo"]["startCursor"]
                .as_str()
                .map(str::to_owned);
        }
        assert_eq!(back, *expected, "{what}: backward walk");
    }
    let bad = gql(
        &app,
        &token,
        LIST,
        json!({ "orderBy": { "field": "TOTAL_REVENUE", "currency": "XXX" } }),
    )
    .await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
    assert_eq!(bad["errors"][0]["extensions"]["field"], "orderBy.currency");
}

// ---------------------------------------------------------------- relationship

async fn churn_and_reactivation_keep_a_history(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let ann = CustomerBuilder::new()
        .name("Ann")
        .acquired_at(at("2024-01-01T00:00:00Z"))
        .stage(Stage::Commitment);
    let id = create(&app, &token, ann.input()).await["id"].clone();

    let churned = ok(&app, &token, CHURN, json!({ "id": id, "reason": "SUPERIOR_ALTERNATIVE", "note": "went to a rival", "at": "2024-06-01T00:00:00Z" })).await;
    assert_eq!(churned["churnedAt"], "2024-06-01T00:00:00.000Z");
    assert_eq!(churned["churnReason"], "SUPERIOR_ALTERNATIVE");
    assert_eq!(churned["churnNote"], "went to a rival");
    assert_eq!(churned["isChurned"], true);
    assert_eq!(churned["relationshipStage"], "DISSOLUTION");

    let back = ok(
        &app,
        &token,
        REACTIVATE,
        json!({ "id": id, "at": "2024-09-01T00:00:00Z" }),
    )
    .await;
    assert_eq!(back["churnedAt"], Value::Null);
    assert_eq!(back["churnReason"], Value::Null);
    assert_eq!(back["isChurned"], false);
    assert_eq!(back["relationshipStage"], "EXPLORATION");

    // A second churn (default `at` = now) is a second event.
    let other = ok(
        &app,
        &token,
        CHURN,
        json!({ "id": id, "reason": "OTHER", "note": "moved abroad" }),
    )
    .await;
    assert_eq!(other["churnReason"], "OTHER");

    let card = gql(
        &app,
        &token,
        "query($id: ID!) { customer(id: $id) { churnHistory { churnedAt reason note reactivatedAt } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        data(&card)["customer"]["churnHistory"][0],
        json!({ "churnedAt": "2024-06-01T00:00:00.000Z", "reason": "SUPERIOR_ALTERNATIVE", "note": "went to a rival", "reactivatedAt": "2024-09-01T00:00:00.000Z" })
    );
    assert_eq!(
        data(&card)["customer"]["churnHistory"][1]["reactivatedAt"],
        Value::Null
    );

    let events = entity::churn_events::Entity::find()
        .order_by_asc(entity::churn_events::Column::Id)
        .all(app.db())
        .await
        .expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].reason, "SUPERIOR_ALTERNATIVE");
    assert_eq!(events[0].note.as_deref(), Some("went to a rival"));
    assert_eq!(
        events[0].churned_at.to_rfc3339(),
        "2024-06-01T00:00:00+00:00"
    );
    assert_eq!(
        events[0].reactivated_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-09-01T00:00:00+00:00")
    );
    assert_eq!(events[1].reason, "OTHER");
    assert!(events[1].reactivated_at.is_none());

    // Churning before the last reactivation or before acquisition is refused.
    ok(&app, &token, REACTIVATE, json!({ "id": id })).await;
    let before = snapshot(&app).await;
    for (at, why) in [
        ("2024-08-01T00:00:00Z", "before last reactivation"),
        ("2023-01-01T00:00:00Z", "before acquisition"),
    ] {
        let body = gql(
            &app,
            &token,
            CHURN,
            json!({ "id": id, "reason": "DISSATISFACTION", "at": at }),
        )
        .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "at", "{why}");
    }
    assert_eq!(snapshot(&app).await, before);
}

async fn concurrent_churns_record_one_churn_event(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let id = create_named(&app, &token, "Ann").await;

    let churns = futures::future::join_all((0..6).map(|_| {
        gql(
            &app,
            &token,
            CHURN,
            json!({ "id": id, "reason": "DISSATISFACTION" }),
        )
    }))
    .await;
    let ok_count = churns.iter().filter(|b| b.get("errors").is_none()).count();
    assert_eq!(ok_count, 1, "{churns:?}");
    assert!(churns
        .iter()
        .filter(|b| b.get("errors").is_some())
        .all(|b| error_code(b) == Some("CONFLICT")));

    let reactivations = futures::future::join_all(
        (0..6).map(|_| gql(&app, &token, REACTIVATE, json!({ "id": id }))),
    )
    .await;
    let ok_count = reactivations
        .iter()
        .filter(|b| b.get("errors").is_none())
        .count();
    assert_eq!(ok_count, 1, "{reactivations:?}");

    let events = entity::churn_events::Entity::find()
        .all(app.db())
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
    assert!(events[0].reactivated_at.is_some());
}

async fn concurrent_re_referrals_cannot_form_a_cycle(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    for _ in 0..3 {
        let a = create_named(&app, &token, "A").await;
        let b = create_named(&app, &token, "B").await;
        let (ab, ba) = futures::future::join(
            gql(
                &app,
                &token,
                UPDATE,
                json!({ "input": { "id": a, "referredById": b } }),
            ),
            gql(
                &app,
                &token,
                UPDATE,
                json!({ "input": { "id": b, "referredById": a } }),
            ),
        )
        .await;
        let succeeded = [&ab, &ba]
            .iter()
            .filter(|b| b.get("errors").is_none())
            .count();
        assert_eq!(succeeded, 1, "exactly one direction wins: {ab} {ba}");
        let refused = if ab.get("errors").is_some() { &ab } else { &ba };
        assert_eq!(
            refused["errors"][0]["extensions"]["field"], "referredById",
            "{refused}"
        );
    }
}

async fn setting_the_relationship_stage_changes_only_the_stage(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let id = create(&app, &token, json!({ "name": "Ann", "tags": ["x"] })).await["id"].clone();
    for stage in [
        "EXPLORATION",
        "EXPANSION",
        "COMMITMENT",
        "DISSOLUTION",
        "AWARENESS",
    ] {
        let body = ok(&app, &token, STAGE, json!({ "id": id, "stage": stage })).await;
        assert_eq!(body["relationshipStage"], stage);
    }
    let read = gql(
        &app,
        &token,
        "query($id: ID!) { customer(id: $id) { name tags isChurned } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        data(&read)["customer"],
        json!({ "name": "Ann", "tags": ["x"], "isChurned": false })
    );
}

// ---------------------------------------------------------------- the card

const CARD: &str = "query($id: ID!) { customer(id: $id) { name purchaseCount isRepeatCustomer isLoyal \
    totalRevenue { currency amount } referredBy { name } \
    referrals(first: 10) { edges { node { name } } } \
    interactions(first: 2) { edges { node { channel summary helped occurredAt } } pageInfo { hasNextPage } } \
    purchases(first: 10) { edges { node { amount currency externalRef } } pageInfo { hasNextPage } } } }";

async fn the_card_shows_touchpoints_purchases_revenue_and_referrals(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let ann = CustomerBuilder::new()
        .name("Ann")
        .acquired_at(at("2024-01-01T00:00:00Z"))
        .create(&app, &token)
        .await;
    let referred = |name: &str, acquired: &str| {
        CustomerBuilder::new()
            .name(name)
            .referred_by(&ann)
            .acquired_at(at(acquired))
    };
    let bob = create(
        &app,
        &token,
        referred("Bob", "2025-01-01T00:00:00Z").input(),
    )
    .await;
    create(
        &app,
        &token,
        referred("Cid", "2025-02-01T00:00:00Z").input(),
    )
    .await;

    let card = |v: &Value| data(v)["customer"].clone();
    let empty = card(&gql(&app, &token, CARD, json!({ "id": bob["id"] })).await);
    assert_eq!(empty["purchaseCount"], 0);
    assert_eq!(empty["totalRevenue"], json!([]));
    assert_eq!(empty["isRepeatCustomer"], false);
    assert_eq!(empty["referredBy"]["name"], "Ann");

    let interaction = ok(
        &app,
        &token,
        INTERACTION,
        json!({ "input": { "customerId": ann, "channel": "PHONE", "summary": "asked about sizes", "helped": true, "occurredAt": "2025-03-01T09:00:00Z" } }),
    )
    .await;
    assert_eq!(interaction["channel"], "PHONE");
    assert_eq!(interaction["helped"], true);
    for (channel, at) in [
        ("EMAIL", "2025-03-02T09:00:00Z"),
        ("IN_PERSON", "2025-03-03T09:00:00Z"),
    ] {
        ok(
            &app,
            &token,
            INTERACTION,
            json!({ "input": { "customerId": ann, "channel": channel, "occurredAt": at } }),
        )
        .await;
    }
    let recorded = ok(
        &app,
        &token,
        PURCHASE,
        json!({ "input": { "customerId": ann, "amount": "19.90", "currency": "eur", "externalRef": "order-1", "occurredAt": "2025-03-01T10:00:00Z" } }),
    )
    .await;
    assert_eq!(recorded["amount"], "19.90");
    assert_eq!(recorded["currency"], "EUR");
    purchase(&app, &token, &ann, "0.10", "EUR", "order-2").await;
    purchase(&app, &token, &ann, "1500", "JPY", "order-3").await;
    purchase(&app, &token, &ann, "1.250", "KWD", "order-4").await;

    let body = gql(&app, &token, CARD, json!({ "id": ann })).await;
    let c = card(&body);
    assert_eq!(c["purchaseCount"], 4);
    assert_eq!(c["isRepeatCustomer"], true);
    assert_eq!(c["isLoyal"], false);
    assert_eq!(
        c["totalRevenue"],
        json!([
            { "currency": "EUR", "amount": "20.00" },
            { "currency": "JPY", "amount": "1500" },
            { "currency": "KWD", "amount": "1.250" }
        ])
    );
    assert_eq!(c["referredBy"], Value::Null);
    let referrals: Vec<&str> = c["referrals"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["name"].as_str())
        .collect();
    assert_eq!(referrals, ["Cid", "Bob"]);
    let channels: Vec<&str> = c["interactions"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["channel"].as_str())
        .collect();
    assert_eq!(channels, ["IN_PERSON", "EMAIL"], "newest first, first 2");
    assert_eq!(c["interactions"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(c["purchases"]["edges"].as_array().map(Vec::len), Some(4));

    purchase(&app, &token, &ann, "5", "EUR", "order-5").await;
    let c = card(&gql(&app, &token, CARD, json!({ "id": ann })).await);
    assert_eq!(c["isLoyal"], true, "five purchases make a loyal customer");
}

async fn nested_connections_page_forward_and_backward(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let ann = create_named(&app, &token, "Ann").await;
    for day in 1..=5 {
        ok(&app, &token, INTERACTION, json!({ "input": { "customerId": ann, "channel": "WEB", "summary": format!("day {day}"), "occurredAt": format!("2025-01-0{day}T00:00:00Z") } })).await;
    }
    const Q: &str = "query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { customer(id: $id) { \
        interactions(first: $first, after: $after, last: $last, before: $before) { edges { node { summary } } \
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }";
    let summaries = |b: &Value| -> Vec<String> {
        data(b)["customer"]["interactions"]["edges"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|x| x["node"]["summary"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let p1 = gql(&app, &token, Q, json!({ "id": ann, "first": 2 })).await;
    assert_eq!(summaries(&p1), ["day 5", "day 4"]);
    let end = data(&p1)["customer"]["interactions"]["pageInfo"]["endCursor"].clone();
    let p2 = gql(
        &app,
        &token,
        Q,
        json!({ "id": ann, "first": 2, "after": end }),
    )
    .await;
    assert_eq!(summaries(&p2), ["day 3", "day 2"]);
    let info = &data(&p2)["customer"]["interactions"]["pageInfo"];
    assert_eq!(
        (info["hasPreviousPage"].clone(), info["hasNextPage"].clone()),
        (json!(true), json!(true))
    );
    let start = info["startCursor"].clone();
    let back = gql(
        &app,
        &token,
        Q,
        json!({ "id": ann, "last": 1, "before": start }),
    )
    .await;
    assert_eq!(summaries(&back), ["day 4"]);
    let tail = gql(&app, &token, Q, json!({ "id": ann, "last": 2 })).await;
    assert_eq!(summaries(&tail), ["day 2", "day 1"]);
}

async fn repeating_an_external_reference_is_a_conflict_and_writes_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let ann = create_named(&app, &token, "Ann").await;
    let bob = create_named(&app, &token, "Bob").await;
    purchase(&app, &token, &ann, "10", "EUR", "order-1").await;
    let before = snapshot(&app).await;

    let again = gql(&app, &token, PURCHASE, json!({ "input": { "customerId": ann, "amount": "99", "currency": "USD", "externalRef": "order-1" } })).await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    assert_eq!(snapshot(&app).await, before);

    // The same reference for another customer is a different purchase.
    purchase(&app, &token, &bob, "10", "EUR", "order-1").await;

    // Concurrent repeats record the purchase once.
    let results = futures::future::join_all((0..6).map(|_| {
        gql(&app, &token, PURCHASE, json!({ "input": { "customerId": ann, "amount": "5", "currency": "EUR", "externalRef": "order-2" } }))
    }))
    .await;
    let succeeded = results.iter().filter(|b| b.get("errors").is_none()).count();
    assert_eq!(succeeded, 1, "{results:?}");
    assert!(results
        .iter()
        .filter(|b| b.get("errors").is_some())
        .all(|b| error_code(b) == Some("CONFLICT")));
}

/// No purchase predates the relationship: recording one before `acquiredAt`
/// is refused on `occurredAt`, and `acquiredAt` cannot move past a purchase.
async fn a_purchase_before_the_customer_was_acquired_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let ann = CustomerBuilder::new()
        .name("Ann")
        .acquired_at(at("2019-01-01T00:00:00Z"))
        .create(&app, &token)
        .await;
    let before = snapshot(&app).await;
    let early = gql(&app, &token, PURCHASE, json!({ "input": { "customerId": ann, "amount": "10", "currency": "EUR", "externalRef": "old", "occurredAt": "2010-05-01T00:00:00Z" } })).await;
    assert_eq!(error_code(&early), Some("BAD_USER_INPUT"), "{early}");
    assert_eq!(early["errors"][0]["extensions"]["field"], "occurredAt");
    let just_before = gql(&app, &token, PURCHASE, json!({ "input": { "customerId": ann, "amount": "10", "currency": "EUR", "externalRef": "old", "occurredAt": "2018-12-31T23:59:59Z" } })).await;
    assert_eq!(error_code(&just_before), Some("BAD_USER_INPUT"));
    assert_eq!(snapshot(&app).await, before, "nothing written");

    // At the very instant of acquisition is fine.
    let first = ok(&app, &token, PURCHASE, json!({ "input": { "customerId": ann, "amount": "10", "currency": "EUR", "externalRef": "first", "occurredAt": "2019-01-01T00:00:00Z" } })).await;
    assert_eq!(first["occurredAt"], "2019-01-01T00:00:00.000Z");

    // acquiredAt cannot move after the first purchase; earlier is fine.
    let before = snapshot(&app).await;
    let moved = gql(
        &app,
        &token,
        UPDATE,
        json!({ "input": { "id": ann, "acquiredAt": "2019-06-01T00:00:00Z" } }),
    )
    .await;
    assert_eq!(error_code(&moved), Some("BAD_USER_INPUT"), "{moved}");
    assert_eq!(moved["errors"][0]["extensions"]["field"], "acquiredAt");
    assert_eq!(snapshot(&app).await, before, "nothing written");
    let earlier = ok(
        &app,
        &token,
        UPDATE,
        json!({ "input": { "id": ann, "acquiredAt": "2018-01-01T00:00:00Z" } }),
    )
    .await;
    assert_eq!(earlier["acquiredAt"], "2018-01-01T00:00:00.000Z");
}

async fn costs_are_recorded_with_or_without_a_customer(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let ann = create_named(&app, &token, "Ann").await;
    let cost = ok(&app, &token, COST, json!({ "input": { "customerId": ann, "kind": "CARE", "amount": "12.50", "currency": "EUR", "incurredOn": "2025-02-03", "note": "support call" } })).await;
    assert_eq!(cost["kind"], "CARE");
    assert_eq!(cost["amount"], "12.50");
    assert_eq!(cost["incurredOn"], "2025-02-03");
    assert_eq!(cost["customerId"], ann.as_str());
    let campaign = ok(
        &app,
        &token,
        COST,
        json!({ "input": { "kind": "ACQUISITION", "amount": "300", "currency": "USD" } }),
    )
    .await;
    assert_eq!(campaign["customerId"], Value::Null);
    assert_eq!(
        campaign["incurredOn"],
        Utc::now().date_naive().format("%Y-%m-%d").to_string()
    );
}

async fn upcoming_birthdays_are_listed_soonest_first(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let today = Utc::now().date_naive();
    // Every age is a multiple of four, so a 29 February lands on a leap year
    // and every birth date exists as it is, whatever day the test runs.
    let born = |offset: i64, years: i32| {
        let d = today + Duration::days(offset);
        chrono::Datelike::with_year(&d, chrono::Datelike::year(&d) - years).expect("date")
    };
    let in_3 = born(3, 28);
    let in_40 = born(40, 20);
    let today_b = born(0, 40);
    create(
        &app,
        &token,
        json!({ "name": "Soon", "birthday": in_3.to_string() }),
    )
    .await;
    create(
        &app,
        &token,
        json!({ "name": "Later", "birthday": in_40.to_string() }),
    )
    .await;
    create(
        &app,
        &token,
        json!({ "name": "Today", "birthday": today_b.to_string() }),
    )
    .await;
    create_named(&app, &token, "No birthday").await;

    const Q: &str = "query($days: Int!) { upcomingBirthdays(days: $days) { customer { name } date daysUntil turning } }";
    let body = gql(&app, &token, Q, json!({ "days": 30 })).await;
    let list = data(&body)["upcomingBirthdays"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = list
        .iter()
        .filter_map(|b| b["customer"]["name"].as_str())
        .collect();
    assert!(
        names.contains(&"Soon") && names.contains(&"Today") && !names.contains(&"Later"),
        "{body}"
    );
    let days: Vec<i64> = list
        .iter()
        .filter_map(|b| b["daysUntil"].as_i64())
        .collect();
    assert!(
        days.windows(2).all(|w| w[0] <= w[1]),
        "soonest first: {days:?}"
    );
    let soon = list
        .iter()
        .find(|b| b["customer"]["name"] == "Soon")
        .expect("soon");
    assert_eq!(soon["turning"], 28);
    assert_eq!(soon["daysUntil"], 3);
    let today_row = list
        .iter()
        .find(|b| b["customer"]["name"] == "Today")
        .expect("today");
    assert_eq!(today_row["daysUntil"], 0);
    assert_eq!(today_row["turning"], 40);

    let all = gql(&app, &token, Q, json!({ "days": 366 })).await;
    assert_eq!(
        data(&all)["upcomingBirthdays"].as_array().map(Vec::len),
        Some(3)
    );
    let bad = gql(&app, &token, Q, json!({ "days": 367 })).await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
    assert_eq!(bad["errors"][0]["extensions"]["field"], "days");
}

// ---------------------------------------------------------------- N+1

const CARD_PAGE: &str =
    "query($first: Int!) { customers(first: $first, orderBy: { field: NAME }) { edges { node { \
    id name tags purchaseCount isRepeatCustomer isLoyal totalRevenue { currency amount } churnHistory { reason } \
    referredBy { name tags } referrals(first: 3) { edges { node { name } } } \
    interactions(first: 3) { edges { node { channel } } pageInfo { hasNextPage } } \
    purchases(first: 3) { edges { node { amount currency } } pageInfo { hasNextPage } } } } } }";

async fn a_card_page_costs_the_same_statements_for_5_or_50_customers(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Admin).await;
    let actor = domain::auth::Actor {
        user_id: user_id(&app, &token).await,
        role: Role::Admin,
    };
    let service = &app.services.customers;
    let mut previous: Option<i64> = None;
    for i in 0..60 {
        let customer = service
            .create(
                &actor,
                domain::customers::NewCustomer {
                    name: domain::customers::CustomerName::parse(&format!("Customer {i:03}"))
                        .expect("name"),
                    email: None,
                    phone: None,
                    birthday: None,
                    locale: None,
                    tags: domain::customers::Tag::parse_all(&["demo".to_owned()]).expect("tags"),
                    relationship_stage: domain::customers::RelationshipStage::Awareness,
                    relationship_type: None,
                    acquired_at: None,
                    referred_by_id: previous,
                    marketing_consent: false,
                },
            )
            .await
            .expect("customer");
        for n in 0..2 {
            service
                .record_purchase(
                    &actor,
                    domain::customers::NewPurchase {
                        customer_id: customer.id,
                        money: domain::customers::Money::parse(
                            "amount",
                            rust_decimal::Decimal::new(1000 + n, 2),
                            domain::customers::Currency::parse("currency", "EUR").expect("EUR"),
                        )
                        .expect("money"),
                        occurred_at: None,
                        external_ref: format!("o-{i}-{n}"),
                    },
                )
                .await
                .expect("purchase");
            service
                .record_interaction(
                    &actor,
                    domain::customers::NewInteraction {
                        customer_id: customer.id,
                        channel: domain::customers::Channel::Chat,
                        occurred_at: None,
                        summary: None,
                        helped: n == 0,
                    },
                )
                .await
                .expect("interaction");
        }
        previous = Some(customer.id);
    }

    let cost = |first: i64| {
        let app = &app;
        let token = token.clone();
        async move {
            let before = app.statements();
            let body = gql(app, &token, CARD_PAGE, json!({ "first": first })).await;
            let after = app.statements();
            let edges = data(&body)["customers"]["edges"].as_array().map(Vec::len);
            assert_eq!(edges, Some(first as usize), "{body}");
            let node = &data(&body)["customers"]["edges"][1]["node"];
            assert_eq!(node["purchaseCount"], 2);
            assert_eq!(node["referredBy"]["name"], "Customer 000");
            after - before
        }
    };
    // Loaders batch by resolver round, not by timer, so the count is exact on
    // every run, however loaded the machine.
    let small = cost(5).await;
    let large = cost(50).await;
    eprintln!("card page statements: 5 customers {small}, 50 customers {large}");
    assert_eq!(
        small, large,
        "a 50-card page must cost what a 5-card page does"
    );
    assert_eq!(cost(50).await, large, "the count is the same on every run");
    assert!(large <= 12, "statements per card page: {large}");
}

// ---------------------------------------------------------------- privacy

async fn arrange_feedback(app: &TestApp, customer_id: i64) {
    use entity::*;
    use sea_orm::{ActiveModelTrait, Set};
    let db = app.db();
    let now = Utc::now();
    let program = ProgramBuilder::new("Club").insert(db).await;
    domain::loyalty::credit_for_source(
        db,
        program,
        customer_id,
        120,
        domain::loyalty::LedgerReason::FeedbackIncentive,
        "response:1",
        now,
    )
    .await
    .expect("credit");
    let survey = SurveyBuilder::new("How did we do?")
        .status(SurveyStatus::Active)
        .insert(db)
        .await;
    let question = survey_questions::ActiveModel {
        survey_id: Set(survey),
        position: Set(1),
        text: Set("Anything else?".into()),
        required: Set(false),
        kind: Set("TEXT".into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("question");
    let invitation = survey_invitations::ActiveModel {
        survey_id: Set(survey),
        customer_id: Set(customer_id),
        token_hash: Set("secret-token-hash-value".into()),
        expires_at: Set(now + Duration::days(7)),
        created_at: Set(now),
        used_at: Set(Some(now)),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("invitation");
    let response = survey_responses::ActiveModel {
        survey_id: Set(survey),
        invitation_id: Set(invitation.id),
        customer_id: Set(customer_id),
        submitted_at: Set(now),
        csi: Set(Some("72.5".into())),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("response");
    survey_answers::ActiveModel {
        response_id: Set(response.id),
        question_id: Set(question.id),
        text: Set(Some("My neighbour Jo Smith at 3 Elm St says hi".into())),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("answer");
    follow_ups::ActiveModel {
        response_id: Set(response.id),
        customer_id: Set(customer_id),
        reason: Set("LOW_CSI".into()),
        status: Set("OPEN".into()),
        opened_at: Set(now),
        note: Set(Some("call Ann on her mobile".into())),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("follow-up");
}

async fn sums(app: &TestApp) -> Value {
    use entity::*;
    let db = app.db();
    let purchases = purchases::Entity::find().all(db).await.expect("purchases");
    let costs = costs::Entity::find().all(db).await.expect("costs");
    let ledger = ledger_entries::Entity::find()
        .all(db)
        .await
        .expect("ledger");
    let memberships = memberships::Entity::find()
        .all(db)
        .await
        .expect("memberships");
    let churn = churn_events::Entity::find().all(db).await.expect("churn");
    let customers = customers::Entity::find().all(db).await.expect("customers");
    json!({
        "purchases": purchases.iter().map(|p| (p.id, p.amount_minor, p.currency.clone(), p.occurred_at.to_rfc3339())).collect::<Vec<_>>(),
        "costs": costs.iter().map(|c| (c.id, c.amount_minor, c.kind.clone(), c.incurred_on.to_string())).collect::<Vec<_>>(),
        "ledger": ledger.iter().map(|l| l.delta).sum::<i64>(),
        "balances": memberships.iter().map(|m| (m.id, m.balance, m.lifetime_points)).collect::<Vec<_>>(),
        "churn": churn.iter().map(|c| (c.id, c.churned_at.to_rfc3339(), c.reason.clone(), c.reactivated_at.map(|t| t.to_rfc3339()))).collect::<Vec<_>>(),
        "customers": customers.iter().map(|c| (c.id, c.acquired_at.to_rfc3339(), c.referred_by_id, c.relationship_stage.clone())).collect::<Vec<_>>(),
        "interactions": interactions::Entity::find().all(db).await.expect("interactions").iter().map(|i| (i.id, i.helped, i.occurred_at.to_rfc3339())).collect::<Vec<_>>(),
    })
}

async fn export_returns_everything_and_erase_keeps_every_sum(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Manager).await;
    let manager_id = user_id(&app, &token).await;
    let referrer = create_named(&app, &token, "Rita").await;
    let ann = CustomerBuilder::new()
        .name("Ann Lee")
        .email("ann@example.com")
        .phone("+4930123456")
        .birthday(day("1990-05-17"))
        .locale("de")
        .tag("vip")
        .referred_by(&referrer)
        .acquired_at(at("2024-01-01T00:00:00Z"));
    let ann = create(&app, &token, ann.input()).await;
    let id = ann["id"].as_str().expect("id").to_owned();
    let numeric: i64 = crate::fixtures::db_key(&id);
    ok(&app, &token, INTERACTION, json!({ "input": { "customerId": id, "channel": "PHONE", "summary": "Ann's knee surgery delayed her order", "helped": true } })).await;
    purchase(&app, &token, &id, "49.99", "EUR", "order-1").await;
    ok(&app, &token, COST, json!({ "input": { "customerId": id, "kind": "CARE", "amount": "3.20", "currency": "EUR", "note": "called Ann at home" } })).await;
    ok(&app, &token, CHURN, json!({ "id": id, "reason": "OTHER", "note": "Ann moved to Vienna", "at": "2024-06-01T00:00:00Z" })).await;
    ok(
        &app,
        &token,
        REACTIVATE,
        json!({ "id": id, "at": "2024-07-01T00:00:00Z" }),
    )
    .await;
    arrange_feedback(&app, numeric).await;

    let body = gql(&app, &token, EXPORT, json!({ "id": id })).await;
    let export = data(&body)["exportCustomerData"].clone();
    assert_eq!(export["customer"]["name"], "Ann Lee");
    assert_eq!(export["customer"]["email"], "ann@example.com");
    assert_eq!(export["tags"], json!(["vip"]));
    for (key, n) in [
        ("interactions", 1),
        ("purchases", 1),
        ("costs", 1),
        ("churnEvents", 1),
        ("memberships", 1),
        ("ledgerEntries", 1),
        ("surveyInvitations", 1),
        ("surveyResponses", 1),
        ("surveyAnswers", 1),
        ("followUps", 1),
    ] {
        assert_eq!(
            export[key].as_array().map(Vec::len),
            Some(n),
            "{key}: {export}"
        );
    }
    let text = export.to_string();
    assert!(
        !text.contains("secret-token-hash-value") && !text.contains("token_hash"),
        "no token hashes: {text}"
    );
    assert!(text.contains("My neighbour Jo Smith"));

    let before = sums(&app).await;
    let erased = ok(&app, &token, ERASE, json!({ "id": id })).await;
    assert_eq!(erased["name"], "Erased customer");
    for field in ["email", "phone", "birthday", "locale"] {
        assert_eq!(erased[field], Value::Null, "{field}");
    }
    assert_eq!(erased["tags"], json!([]));
    assert!(erased["erasedAt"].is_string());
    assert_eq!(
        sums(&app).await,
        before,
        "ids, amounts, dates and point sums are unchanged"
    );

    let after = gql(&app, &token, EXPORT, json!({ "id": id })).await;
    let after = data(&after)["exportCustomerData"].to_string();
    for personal in [
        "Ann",
        "ann@example.com",
        "4930123456",
        "1990-05-17",
        "knee",
        "Vienna",
        "Jo Smith",
        "mobile",
        "at home",
    ] {
        assert!(
            !after.contains(personal),
            "{personal} survived erasure: {after}"
        );
    }
    let erasures = entity::erasures::Entity::find()
        .all(app.db())
        .await
        .expect("erasures");
    assert_eq!(erasures.len(), 1);
    assert_eq!(
        (erasures[0].customer_id, erasures[0].erased_by),
        (numeric, manager_id)
    );
    let row = entity::customers::Entity::find_by_id(numeric)
        .one(app.db())
        .await
        .expect("row")
        .expect("customer");
    assert_eq!(row.erased_by, Some(manager_id));
    assert!(!row.marketing_consent);

    // The card still counts the purchase; the e-mail is free again.
    let card = gql(&app, &token, "query($id: ID!) { customer(id: $id) { purchaseCount totalRevenue { amount } referredBy { name } } }", json!({ "id": id })).await;
    assert_eq!(data(&card)["customer"]["purchaseCount"], 1);
    assert_eq!(
        data(&card)["customer"]["totalRevenue"],
        json!([{ "amount": "49.99" }])
    );
    create(
        &app,
        &token,
        json!({ "name": "New Ann", "email": "ann@example.com" }),
    )
    .await;
}

async fn erased_customers_are_read_only(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Admin).await;
    let id = create_named(&app, &token, "Ann").await;
    ok(&app, &token, ERASE, json!({ "id": id })).await;
    let before = snapshot(&app).await;
    let attempts: &[(&str, &str, Value)] = &[
        (
            "update",
            UPDATE,
            json!({ "input": { "id": id, "name": "Ann again" } }),
        ),
        ("erase twice", ERASE, json!({ "id": id })),
        ("stage", STAGE, json!({ "id": id, "stage": "COMMITMENT" })),
        (
            "churn",
            CHURN,
            json!({ "id": id, "reason": "DISSATISFACTION" }),
        ),
        (
            "interaction",
            INTERACTION,
            json!({ "input": { "customerId": id, "channel": "EMAIL", "summary": "hi" } }),
        ),
    ];
    for (what, query, vars) in attempts {
        let body = gql(&app, &token, query, vars.clone()).await;
        assert_eq!(error_code(&body), Some("CONFLICT"), "{what}: {body}");
    }
    assert_eq!(snapshot(&app).await, before);
}

// ---------------------------------------------------------------- bad input

async fn bad_input_is_refused_with_its_code_and_changes_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Admin).await;
    let ann = create(
        &app,
        &token,
        json!({ "name": "Ann", "email": "ann@example.com" }),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let bob = CustomerBuilder::new()
        .name("Bob")
        .referred_by(&ann)
        .create(&app, &token)
        .await;
    let cid = CustomerBuilder::new()
        .name("Cid")
        .referred_by(&bob)
        .create(&app, &token)
        .await;
    let gone = create_named(&app, &token, "Gone").await;
    ok(
        &app,
        &token,
        CHURN,
        json!({ "id": gone, "reason": "DISSATISFACTION" }),
    )
    .await;
    let future = (Utc::now() + Duration::hours(49)).to_rfc3339();
    let soon = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let unknown = crate::fixtures::api_id("Customer", 999_999);
    let unknown = unknown.as_str();
    let p = |customer: &str, amount: &str, currency: &str| json!({ "input": { "customerId": customer, "amount": amount, "currency": currency, "externalRef": "x-1" } });

    let cases: Vec<(&str, &str, Value, &str, Option<&str>)> = vec![
        (
            "invalid email",
            CREATE,
            json!({ "input": { "name": "X", "email": "not-an-email" } }),
            "BAD_USER_INPUT",
            Some("email"),
        ),
        (
            "invalid email on update",
            UPDATE,
            json!({ "input": { "id": ann, "email": "a@b" } }),
            "BAD_USER_INPUT",
            Some("email"),
        ),
        (
            "empty name",
            CREATE,
            json!({ "input": { "name": "   " } }),
            "BAD_USER_INPUT",
            Some("name"),
        ),
        (
            "empty name on update",
            UPDATE,
            json!({ "input": { "id": ann, "name": "" } }),
            "BAD_USER_INPUT",
            Some("name"),
        ),
        (
            "bad phone",
            CREATE,
            json!({ "input": { "name": "X", "phone": "call me" } }),
            "BAD_USER_INPUT",
            Some("phone"),
        ),
        (
            "bad tag",
            CREATE,
            json!({ "input": { "name": "X", "tags": ["ok", "no;way"] } }),
            "BAD_USER_INPUT",
            Some("tags.1"),
        ),
        (
            "future birthday",
            CREATE,
            json!({ "input": { "name": "X", "birthday": "2999-01-01" } }),
            "BAD_USER_INPUT",
            Some("birthday"),
        ),
        (
            "future acquisition",
            CREATE,
            json!({ "input": { "name": "X", "acquiredAt": future } }),
            "BAD_USER_INPUT",
            Some("acquiredAt"),
        ),
        (
            "unknown enum",
            CREATE,
            json!({ "input": { "name": "X", "relationshipStage": "BESTIES" } }),
            "BAD_USER_INPUT",
            None,
        ),
        (
            "unknown channel",
            INTERACTION,
            json!({ "input": { "customerId": ann, "channel": "PIGEON" } }),
            "BAD_USER_INPUT",
            None,
        ),
        (
            "zero amount",
            PURCHASE,
            p(&ann, "0", "EUR"),
            "BAD_USER_INPUT",
            Some("amount"),
        ),
        (
            "negative amount",
            PURCHASE,
            p(&ann, "-5.00", "EUR"),
            "BAD_USER_INPUT",
            Some("amount"),
        ),
        (
            "too many decimals for EUR",
            PURCHASE,
            p(&ann, "1.001", "EUR"),
            "BAD_USER_INPUT",
            Some("amount"),
        ),
        (
            "decimals in JPY",
            PURCHASE,
            p(&ann, "100.5", "JPY"),
            "BAD_USER_INPUT",
            Some("amount"),
        ),
        (
            "unknown currency",
            PURCHASE,
            p(&ann, "10", "XYZ"),
            "BAD_USER_INPUT",
            Some("currency"),
        ),
        (
            "negative cost",
            COST,
            json!({ "input": { "customerId": ann, "kind": "CARE", "amount": "-1", "currency": "EUR" } }),
            "BAD_USER_INPUT",
            Some("amount"),
        ),
        (
            "future purchase",
            PURCHASE,
            json!({ "input": { "customerId": ann, "amount": "1", "currency": "EUR", "externalRef": "f", "occurredAt": future } }),
            "BAD_USER_INPUT",
            Some("occurredAt"),
        ),
        (
            "future interaction",
            INTERACTION,
            json!({ "input": { "customerId": ann, "channel": "EMAIL", "occurredAt": future } }),
            "BAD_USER_INPUT",
            Some("occurredAt"),
        ),
        (
            "future churn",
            CHURN,
            json!({ "id": ann, "reason": "DISSATISFACTION", "at": future }),
            "BAD_USER_INPUT",
            Some("at"),
        ),
        (
            "OTHER without note",
            CHURN,
            json!({ "id": ann, "reason": "OTHER" }),
            "BAD_USER_INPUT",
            Some("note"),
        ),
        (
            "churning a churned customer",
            CHURN,
            json!({ "id": gone, "reason": "DISSATISFACTION" }),
            "CONFLICT",
            None,
        ),
        (
            "reactivating an active customer",
            REACTIVATE,
            json!({ "id": ann }),
            "CONFLICT",
            None,
        ),
        (
            "self-referral",
            UPDATE,
            json!({ "input": { "id": ann, "referredById": ann } }),
            "BAD_USER_INPUT",
            Some("referredById"),
        ),
        (
            "referral cycle",
            UPDATE,
            json!({ "input": { "id": ann, "referredById": cid } }),
            "BAD_USER_INPUT",
            Some("referredById"),
        ),
        (
            "duplicate email",
            CREATE,
            json!({ "input": { "name": "X", "email": "ANN@example.com" } }),
            "CONFLICT",
            None,
        ),
        (
            "malformed id",
            UPDATE,
            json!({ "input": { "id": "abc", "name": "X" } }),
            "BAD_USER_INPUT",
            Some("id"),
        ),
        (
            "unknown customer on update",
            UPDATE,
            json!({ "input": { "id": unknown, "name": "X" } }),
            "NOT_FOUND",
            None,
        ),
        (
            "unknown customer on churn",
            CHURN,
            json!({ "id": unknown, "reason": "DISSATISFACTION" }),
            "NOT_FOUND",
            None,
        ),
        (
            "unknown customer on reactivate",
            REACTIVATE,
            json!({ "id": unknown }),
            "NOT_FOUND",
            None,
        ),
        (
            "unknown customer on stage",
            STAGE,
            json!({ "id": unknown, "stage": "EXPANSION" }),
            "NOT_FOUND",
            None,
        ),
        (
            "unknown customer on purchase",
            PURCHASE,
            p(unknown, "10", "EUR"),
            "NOT_FOUND",
            None,
        ),
        (
            "unknown customer on interaction",
            INTERACTION,
            json!({ "input": { "customerId": unknown, "channel": "EMAIL" } }),
            "NOT_FOUND",
            None,
        ),
        (
            "unknown customer on cost",
            COST,
            json!({ "input": { "customerId": unknown, "kind": "CARE", "amount": "1", "currency": "EUR" } }),
            "NOT_FOUND",
            None,
        ),
        (
            "unknown referrer",
            CREATE,
            json!({ "input": { "name": "X", "referredById": unknown } }),
            "NOT_FOUND",
            None,
        ),
        (
            "unknown referrer on update",
            UPDATE,
            json!({ "input": { "id": ann, "referredById": unknown } }),
            "NOT_FOUND",
            None,
        ),
        (
            "unknown customer on erase",
            ERASE,
            json!({ "id": unknown }),
            "NOT_FOUND",
            None,
        ),
        (
            "unknown customer on export",
            EXPORT,
            json!({ "id": unknown }),
            "NOT_FOUND",
            None,
        ),
    ];
    for (what, query, vars, code, field) in cases {
        let before = snapshot(&app).await;
        let body = gql(&app, &token, query, vars).await;
        assert_eq!(error_code(&body), Some(code), "{what}: {body}");
        if let Some(field) = field {
            assert_eq!(
                body["errors"][0]["extensions"]["field"], field,
                "{what}: {body}"
            );
        }
        assert_eq!(snapshot(&app).await, before, "{what}: the database changed");
    }

    // The lookup of an unknown customer answers null, not an error.
    let body = gql(
        &app,
        &token,
        "query($id: ID!) { customer(id: $id) { id } }",
        json!({ "id": unknown }),
    )
    .await;
    assert_eq!(body, json!({ "data": { "customer": null } }));

    // A time a little ahead (clock skew) is accepted.
    ok(
        &app,
        &token,
        INTERACTION,
        json!({ "input": { "customerId": ann, "channel": "EMAIL", "occurredAt": soon } }),
    )
    .await;
}

// ---------------------------------------------------------------- roles

async fn roles_are_enforced_and_refusals_change_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let agent = app.login_as(Role::Agent).await;
    let manager = app.login_as(Role::Manager).await;

    // AGENT: create, update, record.
    let id = create_named(&app, &agent, "Ann").await;
    ok(
        &app,
        &agent,
        UPDATE,
        json!({ "input": { "id": id, "tags": ["walk-in"] } }),
    )
    .await;
    ok(
        &app,
        &agent,
        INTERACTION,
        json!({ "input": { "customerId": id, "channel": "CHAT" } }),
    )
    .await;
    purchase(&app, &agent, &id, "5", "EUR", "a").await;
    ok(
        &app,
        &agent,
        COST,
        json!({ "input": { "customerId": id, "kind": "CARE", "amount": "1", "currency": "EUR" } }),
    )
    .await;
    gql(
        &app,
        &agent,
        "{ upcomingBirthdays(days: 7) { date } }",
        json!({}),
    )
    .await;

    // …but not churn, reactivate, change stage, export or erase.
    let before = snapshot(&app).await;
    let refused: &[(&str, &str, Value)] = &[
        (
            "churn",
            CHURN,
            json!({ "id": id, "reason": "DISSATISFACTION" }),
        ),
        ("reactivate", REACTIVATE, json!({ "id": id })),
        ("stage", STAGE, json!({ "id": id, "stage": "COMMITMENT" })),
        ("erase", ERASE, json!({ "id": id })),
        ("export", EXPORT, json!({ "id": id })),
    ];
    for (what, query, vars) in refused {
        let body = gql(&app, &agent, query, vars.clone()).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "agent {what}: {body}");
        let body = app.graphql(query, vars.clone()).await;
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "anonymous {what}: {body}"
        );
    }
    assert_eq!(snapshot(&app).await, before);
    let anonymous = app.graphql(LIST, json!({})).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
    let anonymous = app
        .graphql(CREATE, json!({ "input": { "name": "X" } }))
        .await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
    assert_eq!(snapshot(&app).await, before);

    // MANAGER may.
    ok(
        &app,
        &manager,
        STAGE,
        json!({ "id": id, "stage": "COMMITMENT" }),
    )
    .await;
    ok(
        &app,
        &manager,
        CHURN,
        json!({ "id": id, "reason": "DISSATISFACTION" }),
    )
    .await;
    ok(&app, &manager, REACTIVATE, json!({ "id": id })).await;
    gql(&app, &manager, EXPORT, json!({ "id": id })).await;
    ok(&app, &manager, ERASE, json!({ "id": id })).await;
}
