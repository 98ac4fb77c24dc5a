//! A page of customers reads the parts of each card its selection names
//! (purchase figures, memberships, latest responses) in the page's own
//! statement: the same answer as each card read on its own through the
//! loaders, in fewer statements that do not grow with the page.

use chrono::{Duration, Utc};
use domain::auth::Role;
use domain::loyalty::LedgerReason;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{json, Value};

use crate::fixtures::{
    append_entry, db_key, insert_membership, CustomerBuilder, ProgramBuilder, PurchaseBuilder,
    ResponseBuilder, SurveyBuilder, SurveyStatus,
};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    a_page_reads_its_cards_in_its_own_statement,
    card_parts_follow_aliases_arguments_and_fragments,
);

/// Every card field the page can read with itself, and a few it cannot
/// (ledger, next tier, answers), to compare with single cards.
const CARD: &str = "id name tags totalRevenue { currency amount } purchaseCount isRepeatCustomer \
    isLoyal csi memberships { balance lifetimePoints tier { name } nextTier { name } \
    pointsToNextTier enrolledAt loyaltyProgram { name } } \
    latestSurveyResponses(first: 2) { id csi submittedAt helpfulAt customerId } \
    interactions(first: 3) { edges { cursor node { id channel occurredAt summary helped } } \
    pageInfo { hasNextPage endCursor } } \
    purchases { edges { cursor node { id amount currency externalRef occurredAt } } \
    pageInfo { hasNextPage } }";

/// Six customers with tags, purchases in two currencies, memberships in two
/// programmes with tiers, and 0–3 responses each; the oldest customer has
/// nothing at all.
async fn seed(app: &TestApp) {
    let db = app.db();
    let admin = app.login_as(Role::Admin).await;
    let miles = ProgramBuilder::new("Miles")
        .tiers(&[("Blue", 0, "1"), ("Silver", 100, "1.5"), ("Gold", 500, "2")])
        .create(app, &admin)
        .await;
    let miles = db_key(&miles);
    let stars = db_key(&ProgramBuilder::new("Stars").create(app, &admin).await);
    let survey = SurveyBuilder::new("Visit")
        .status(SurveyStatus::Active)
        .insert(db)
        .await;
    for i in 0..6_i64 {
        let mut customer = CustomerBuilder::new()
            .name(format!("Card {i}"))
            .acquired_at(Utc::now() - Duration::days(30 - i));
        if i % 2 == 1 {
            customer = customer.tag("vip").tag("berlin");
        }
        let customer = customer.insert(db).await;
        if i == 0 {
            continue;
        }
        for k in 0..i {
            entity::interactions::ActiveModel {
                customer_id: Set(customer),
                channel: Set(
                    ["EMAIL", "PHONE", "CHAT"][usize::try_from(k % 3).expect("small")].to_owned(),
                ),
                occurred_at: Set(Utc::now() - Duration::hours(k)),
                summary: Set((k % 2 == 0).then(|| format!("Talk {k}"))),
                helped: Set(k % 2 == 1),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("interaction");
            PurchaseBuilder::new(customer)
                .minor(1_999 + k * 100)
                .insert(db)
                .await;
        }
        if i % 3 == 0 {
            PurchaseBuilder::new(customer)
                .minor(500)
                .currency("USD")
                .insert(db)
                .await;
        }
        let membership = insert_membership(db, miles, customer).await;
        append_entry(
            db,
            membership,
            120 * i,
            LedgerReason::Adjustment,
            Utc::now(),
        )
        .await;
        if i % 2 == 0 {
            insert_membership(db, stars, customer).await;
        }
        for r in 0..(i % 4) {
            let mut response = ResponseBuilder::new(survey, customer)
                .submitted_at(Utc::now() - Duration::hours(10 - r))
                .csi(&format!("{}.5", 60 + r * 10 + i));
            if r == 1 {
                response = response.helpful_at(Utc::now() - Duration::minutes(5));
            }
            response.insert(db).await;
        }
    }
}

async fn a_page_reads_its_cards_in_its_own_statement(engine: Engine) {
    let app = spawn_app(engine).await;
    seed(&app).await;
    let agent = app.login_as(Role::Agent).await;
    let page_query = format!(
        "query($n: Int) {{ customers(first: $n, filter: {{ text: \"card \" }}) {{ edges {{ node {{ {CARD} }} }} }} }}"
    );
    let page = |n: i64| {
        let (app, agent, query) = (&app, &agent, &page_query);
        async move {
            let before = app.statements();
            let body = app.graphql_as(Some(agent), query, json!({ "n": n })).await;
            let edges = data(&body)["customers"]["edges"]
                .as_array()
                .expect("edges")
                .clone();
            (edges, app.statements() - before)
        }
    };
    let (edges, large) = page(6).await;
    let (_, small) = page(2).await;
    // The user check, the page with every part, and the memberships'
    // programmes with their tiers, whatever the page's size.
    assert_eq!((small, large), (3, 3), "statements per page");
    assert_eq!(edges.len(), 6);

    // Each node equals the same card read alone in one statement
    // (`customer`), and read through the loaders field by field (`node`).
    let card_query = format!("query($id: ID!) {{ customer(id: $id) {{ {CARD} }} }}");
    let node_query =
        format!("query($id: ID!) {{ node(id: $id) {{ ... on Customer {{ {CARD} }} }} }}");
    for edge in &edges {
        let node = &edge["node"];
        let before = app.statements();
        let body = app
            .graphql_as(Some(&agent), &card_query, json!({ "id": node["id"] }))
            .await;
        assert_eq!(&data(&body)["customer"], node, "page and card differ");
        let card_cost = app.statements() - before;
        assert!(card_cost <= 3, "a card costs {card_cost} statements");
        let body = app
            .graphql_as(Some(&agent), &node_query, json!({ "id": node["id"] }))
            .await;
        assert_eq!(&data(&body)["node"], node, "page and loaders differ");
    }

    // And the figures are the seeded ones (newest first: Card 5 .. Card 0).
    let card = |i: usize| &edges[5 - i]["node"];
    assert_eq!(card(0)["totalRevenue"], json!([]));
    assert_eq!(card(0)["memberships"], json!([]));
    assert_eq!(card(0)["latestSurveyResponses"], json!([]));
    assert_eq!(card(0)["csi"], Value::Null);
    assert_eq!(card(3)["tags"], json!(["berlin", "vip"]));
    assert_eq!(card(2)["tags"], json!([]));
    assert_eq!(
        card(3)["totalRevenue"],
        json!([{ "currency": "EUR", "amount": "62.97" }, { "currency": "USD", "amount": "5.00" }])
    );
    assert_eq!(card(3)["purchaseCount"], 4);
    assert_eq!(card(1)["isRepeatCustomer"], false);
    assert_eq!(card(5)["isLoyal"], true);
    let memberships = card(4)["memberships"].as_array().expect("memberships");
    assert_eq!(memberships.len(), 2);
    assert_eq!(memberships[0]["loyaltyProgram"]["name"], "Miles");
    assert_eq!(memberships[0]["balance"], 480);
    assert_eq!(memberships[0]["tier"]["name"], "Silver");
    assert_eq!(memberships[0]["pointsToNextTier"], 20);
    assert_eq!(memberships[1]["loyaltyProgram"]["name"], "Stars");
    let latest = card(3)["latestSurveyResponses"].as_array().expect("latest");
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[0]["csi"], "83.5");
    assert_eq!(latest[1]["csi"], "73.5");
    assert!(latest[1]["helpfulAt"].is_string(), "{latest:?}");
    assert_eq!(card(3)["csi"], "83.5");
    let interactions = &card(4)["interactions"];
    assert_eq!(interactions["edges"].as_array().map(Vec::len), Some(3));
    assert_eq!(interactions["pageInfo"]["hasNextPage"], true);
    assert_eq!(interactions["edges"][0]["node"]["summary"], "Talk 0");
    assert_eq!(interactions["edges"][1]["node"]["helped"], true);
    assert_eq!(card(3)["interactions"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        card(5)["purchases"]["edges"].as_array().map(Vec::len),
        Some(5)
    );
    assert_eq!(card(5)["purchases"]["pageInfo"]["hasNextPage"], false);
    // The next page after the page's cursor is read as before.
    let next = app
        .graphql_as(
            Some(&agent),
            "query($id: ID!, $after: String) { customer(id: $id) { interactions(first: 3, after: $after) \
             { edges { node { summary } } pageInfo { hasNextPage } } } }",
            json!({ "id": card(4)["id"], "after": interactions["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        data(&next)["customer"]["interactions"],
        json!({ "edges": [{ "node": { "summary": null } }], "pageInfo": { "hasNextPage": false } })
    );
}

async fn card_parts_follow_aliases_arguments_and_fragments(engine: Engine) {
    let app = spawn_app(engine).await;
    seed(&app).await;
    let agent = app.login_as(Role::Agent).await;
    // Two `first`s, answers on one alias, `nodes` and a fragment: each
    // selection gets what it asked for.
    let query = "query { customers(first: 6, filter: { text: \"card \" }) { \
        nodes { ...Card one: latestSurveyResponses { csi } \
                all: latestSurveyResponses(first: 20) { csi answers { questionId } } } } } \
        fragment Card on Customer { id name totalRevenue { amount } memberships { tier { name } } }";
    let body = app.graphql_as(Some(&agent), query, json!({})).await;
    let nodes = data(&body)["customers"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    let card3 = nodes
        .iter()
        .find(|n| n["name"] == "Card 3")
        .expect("Card 3");
    assert_eq!(card3["one"], json!([{ "csi": "83.5" }]), "{card3}");
    assert_eq!(
        card3["all"],
        json!([
            { "csi": "83.5", "answers": [] },
            { "csi": "73.5", "answers": [] },
            { "csi": "63.5", "answers": [] }
        ])
    );
    assert_eq!(
        card3["totalRevenue"],
        json!([{ "amount": "62.97" }, { "amount": "5.00" }])
    );
    assert_eq!(
        card3["memberships"],
        json!([{ "tier": { "name": "Silver" } }])
    );
    // The same selection on one customer.
    let id = nodes[0]["id"].clone();
    let one = app
        .graphql_as(
            Some(&agent),
            "query($id: ID!) { customer(id: $id) { ...Card one: latestSurveyResponses { csi } \
                all: latestSurveyResponses(first: 20) { csi answers { questionId } } } } \
             fragment Card on Customer { id name totalRevenue { amount } memberships { tier { name } } }",
            json!({ "id": id.clone() }),
        )
        .await;
    let got = data(&one)["customer"].clone();
    for field in ["id", "name", "one", "all", "totalRevenue", "memberships"] {
        assert_eq!(got[field], nodes[0][field], "{field}");
    }
    // A page size out of range is still refused by the field, not read.
    let body = app
        .graphql_as(
            Some(&agent),
            "query { customers(first: 2) { nodes { latestSurveyResponses(first: 5000) { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    // Without a token nothing is read.
    let body = app
        .graphql(
            "query { customers(first: 2) { nodes { totalRevenue { amount } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}
