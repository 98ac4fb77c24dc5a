//! Custom scalars over HTTP: DateTime answers in UTC with `Z` and
//! milliseconds, Decimal only as a plain-notation string, every refused
//! value named in `extensions.field` with an example, and the scalars
//! described with `@specifiedBy` in introspection.

use domain::auth::Role;
use entity::{customers, purchases};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use crate::fixtures::{at, CustomerBuilder};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    datetimes_answer_in_utc_with_milliseconds,
    bad_scalar_values_name_the_field_and_change_nothing,
    decimals_are_plain_strings_only,
);

const CREATE: &str = "mutation Create($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id acquiredAt createdAt } } }";
const PURCHASE: &str = "mutation Buy($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { amount occurredAt } } }";

fn is_utc_millis(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 24
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && b[23] == b'Z'
        && s[20..23].bytes().all(|c| c.is_ascii_digit())
}

async fn customer(app: &TestApp, token: &str) -> String {
    CustomerBuilder::new()
        .name("Ann")
        .acquired_at(at("2025-01-01T00:00:00Z"))
        .create(app, token)
        .await
}

fn refused<'a>(body: &'a Value, field: &str) -> &'a Value {
    assert_eq!(error_code(body), Some("BAD_USER_INPUT"), "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["field"], json!(field), "{body}");
    assert!(body["data"].is_null(), "{body}");
    error
}

async fn datetimes_answer_in_utc_with_milliseconds(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let body = app
        .graphql_as(
            Some(&token),
            CREATE,
            json!({ "input": { "name": "Ann", "acquiredAt": "2026-01-15T10:20:30.123456789+02:00" } }),
        )
        .await;
    let created = &data(&body)["createCustomer"]["customer"];
    assert_eq!(created["acquiredAt"], json!("2026-01-15T08:20:30.123Z"));
    let now = created["createdAt"].as_str().expect("createdAt");
    assert!(is_utc_millis(now), "{now}");
}

async fn bad_scalar_values_name_the_field_and_change_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let before = customers::Entity::find()
        .count(app.db())
        .await
        .expect("count");

    // A DateTime without an offset, as a variable and inline.
    let body = app
        .graphql_as(
            Some(&token),
            CREATE,
            json!({ "input": { "name": "Ann", "acquiredAt": "2026-01-15T10:20:30" } }),
        )
        .await;
    let error = refused(&body, "input.acquiredAt");
    let message = error["message"].as_str().expect("message");
    assert!(message.contains("2026-02-28T14:30:00Z"), "{message}");
    let body = app
        .graphql_as(
            Some(&token),
            r#"mutation Inline { createCustomer(input: { name: "Ann", acquiredAt: "tomorrow" }) { customer { id } } }"#,
            json!({}),
        )
        .await;
    refused(&body, "input.acquiredAt");

    // A Date in another shape.
    let body = app
        .graphql_as(
            Some(&token),
            CREATE,
            json!({ "input": { "name": "Ann", "birthday": "28.02.1990" } }),
        )
        .await;
    let message = refused(&body, "input.birthday")["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("2026-02-28"), "{message}");

    assert_eq!(
        customers::Entity::find()
            .count(app.db())
            .await
            .expect("count"),
        before
    );
}

async fn decimals_are_plain_strings_only(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login_as(Role::Agent).await;
    let id = customer(&app, &token).await;
    let input = |amount: Value, reference: &str| {
        json!({ "input": {
            "customerId": id, "amount": amount, "currency": "EUR",
            "externalRef": reference, "occurredAt": "2026-01-15T10:20:30Z"
        } })
    };

    for (n, amount) in [
        json!(0.1),
        json!(1000),
        json!("1e3"),
        json!("12,50"),
        json!(".5"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = app
            .graphql_as(
                Some(&token),
                PURCHASE,
                input(amount.clone(), &format!("bad-{n}")),
            )
            .await;
        let message = refused(&body, "input.amount")["message"]
            .as_str()
            .expect("message");
        assert!(
            message.contains("\"12.50\"") && message.contains("plain decimal notation"),
            "{amount}: {message}"
        );
    }
    assert_eq!(
        purchases::Entity::find()
            .count(app.db())
            .await
            .expect("count"),
        0
    );

    let body = app
        .graphql_as(Some(&token), PURCHASE, input(json!("12.50"), "good"))
        .await;
    let purchase = &data(&body)["recordPurchase"]["purchase"];
    assert_eq!(purchase["amount"], json!("12.50"));
    assert_eq!(purchase["occurredAt"], json!("2026-01-15T10:20:30.000Z"));
}

#[tokio::test]
async fn custom_scalars_are_described_with_their_specifications() {
    let app = spawn_app(Engine::Sqlite).await;
    let body = app
        .graphql(
            r#"query Scalars { __schema { types { name kind description specifiedByURL } } }"#,
            json!({}),
        )
        .await;
    let types = data(&body)["__schema"]["types"]
        .as_array()
        .expect("types")
        .clone();
    let scalar = |name: &str| -> Value {
        types
            .iter()
            .find(|t| t["name"] == json!(name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name}"))
    };
    for (name, url) in [
        ("DateTime", Some("https://www.rfc-editor.org/rfc/rfc3339")),
        (
            "Date",
            Some("https://www.iso.org/iso-8601-date-and-time-format.html"),
        ),
        ("Decimal", None),
        ("JSON", None),
    ] {
        let t = scalar(name);
        assert_eq!(t["kind"], json!("SCALAR"));
        let description = t["description"].as_str().unwrap_or_default();
        assert!(description.len() > 20, "{name}: {description:?}");
        assert_eq!(t["specifiedByURL"].as_str(), url, "{name}");
    }
    assert!(scalar("Decimal")["description"]
        .as_str()
        .expect("description")
        .contains("plain decimal notation"));
}
