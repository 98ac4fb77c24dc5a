//! Invitations staff can see (issue 16 §7): the `surveyInvitations`
//! connection with a derived status, `revokeSurveyInvitation` and
//! `reissueSurveyInvitation`, their role rules, and dead links answering as
//! unknown tokens everywhere, the form page included.

use chrono::{DateTime, Duration as Days, Utc};
use domain::auth::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::fixtures::api_id;
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};
use crate::surveys::{fixture, insert_customer, submit, Fixture};

on_both_engines!(
    staff_list_invitations_with_a_derived_status_and_never_a_token,
    a_revoked_link_answers_as_unknown_for_lookup_submission_and_form,
    a_reissued_link_replaces_the_old_one_at_once,
    agents_cannot_list_revoke_or_reissue_invitations,
    an_invitation_page_costs_the_same_statements_for_few_or_many,
);

const LIST: &str = "query($s: ID!, $f: SurveyInvitationFilter, $first: Int) {
  surveyInvitations(surveyId: $s, filter: $f, first: $first) {
    totalCount
    edges { node { id surveyId customerId customer { name } survey { id title } status sentAt expiresAt usedAt revokedAt } }
  } }";
const REVOKE: &str = "mutation($input: RevokeSurveyInvitationInput!) {
  revokeSurveyInvitation(input: $input) { clientMutationId invitation { id status revokedAt usedAt } } }";
const REISSUE: &str = "mutation($input: ReissueSurveyInvitationInput!) {
  reissueSurveyInvitation(input: $input) {
    clientMutationId token formUrl
    invitation { id customerId status sentAt expiresAt revokedAt }
    previousInvitation { id status revokedAt }
  } }";
/// The look-up the form page at `/s/{token}` sends (api/src/http/form.rs).
const FORM_LOOKUP: &str = "query Invitation($token: String!) { surveyInvitation(token: $token) { title description thankYou locale incentivePoints expiresAt questions { id position text required kind options optionLabels maxLength scaleMin scaleMax } } }";

async fn list(app: &TestApp, token: &str, f: &Fixture, filter: Value) -> Value {
    app.graphql_as(
        Some(token),
        LIST,
        json!({ "s": f.survey_id, "f": filter, "first": 100 }),
    )
    .await
}

fn nodes(body: &Value) -> Vec<Value> {
    data(body)["surveyInvitations"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// The one invitation of `customer` to the fixture's survey (the newest).
async fn invitation_of(app: &TestApp, f: &Fixture, customer: i64) -> Value {
    let body = list(
        app,
        &f.admin,
        f,
        json!({ "customerId": api_id("Customer", customer) }),
    )
    .await;
    nodes(&body).first().cloned().expect("an invitation")
}

async fn revoke(app: &TestApp, token: &str, id: &Value) -> Value {
    app.graphql_as(
        Some(token),
        REVOKE,
        json!({ "input": { "id": id, "clientMutationId": "r1" } }),
    )
    .await
}

async fn reissue(app: &TestApp, token: &str, input: Value) -> Value {
    app.graphql_as(Some(token), REISSUE, json!({ "input": input }))
        .await
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("a DateTime: {value}"))
}

/// Public look-up and submission of `token` both answer `code`.
async fn assert_token_answers(app: &TestApp, f: &Fixture, token: &str, code: &str, why: &str) {
    let seen = app.graphql(FORM_LOOKUP, json!({ "token": token })).await;
    assert_eq!(error_code(&seen), Some(code), "look-up {why}: {seen}");
    let sent = submit(app, token, f.good_answers()).await;
    assert_eq!(error_code(&sent), Some(code), "submission {why}: {sent}");
}

async fn staff_list_invitations_with_a_derived_status_and_never_a_token(engine: Engine) {
    // Arrange: one invitation in each status.
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let (ann, bob, cid, dee) = (
        insert_customer(&app, "Ann").await,
        insert_customer(&app, "Bob").await,
        insert_customer(&app, "Cid").await,
        insert_customer(&app, "Dee").await,
    );
    f.answer(&app, ann).await;
    f.invite(&app, bob).await;
    f.invite(&app, cid).await;
    let cid_invitation = invitation_of(&app, &f, cid).await;
    data(&revoke(&app, &f.admin, &cid_invitation["id"]).await);
    f.invite(&app, dee).await;
    entity::survey_invitations::Entity::update_many()
        .col_expr(
            entity::survey_invitations::Column::ExpiresAt,
            Expr::value(Utc::now() - Days::minutes(1)),
        )
        .filter(entity::survey_invitations::Column::CustomerId.eq(dee))
        .exec(app.db())
        .await
        .expect("expire");

    // Act
    let manager = app.login_as(Role::Manager).await;
    let all = list(&app, &manager, &f, Value::Null).await;

    // Assert: newest first, each with its status and times.
    assert_eq!(data(&all)["surveyInvitations"]["totalCount"], 4, "{all}");
    for node in nodes(&all) {
        assert_eq!(
            node["survey"]["id"], node["surveyId"],
            "the survey beside its id"
        );
        assert!(node["survey"]["title"].is_string());
    }
    let seen: Vec<(Value, Value)> = nodes(&all)
        .iter()
        .map(|n| (n["customer"]["name"].clone(), n["status"].clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (json!("Dee"), json!("EXPIRED")),
            (json!("Cid"), json!("REVOKED")),
            (json!("Bob"), json!("PENDING")),
            (json!("Ann"), json!("SUBMITTED")),
        ]
    );
    for node in nodes(&all) {
        assert_eq!(node["surveyId"], f.survey_id.as_str());
        let status = node["status"].as_str().expect("status");
        assert_eq!(node["usedAt"].is_string(), status == "SUBMITTED", "{node}");
        assert_eq!(node["revokedAt"].is_string(), status == "REVOKED", "{node}");
        assert!(time(&node["sentAt"]) < time(&node["expiresAt"]) || status == "EXPIRED");
    }
    for (status, name) in [
        ("PENDING", "Bob"),
        ("SUBMITTED", "Ann"),
        ("EXPIRED", "Dee"),
        ("REVOKED", "Cid"),
    ] {
        let body = list(&app, &manager, &f, json!({ "status": status })).await;
        let names: Vec<Value> = nodes(&body)
            .iter()
            .map(|n| n["customer"]["name"].clone())
            .collect();
        assert_eq!(names, [json!(name)], "filter {status}");
        assert_eq!(
            data(&body)["surveyInvitations"]["totalCount"],
            1,
            "{status}"
        );
    }
    let bobs = list(
        &app,
        &manager,
        &f,
        json!({ "customerId": api_id("Customer", bob), "status": "PENDING" }),
    )
    .await;
    assert_eq!(nodes(&bobs).len(), 1);
    assert_eq!(nodes(&bobs)[0]["customerId"], api_id("Customer", bob));

    // Never a token: the type has exactly these fields.
    let fields = app
        .graphql_as(
            Some(&manager),
            "{ __type(name: \"SurveyInvitation\") { fields { name } } }",
            json!({}),
        )
        .await;
    let names: Vec<Value> = data(&fields)["__type"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "surveyId",
            "customerId",
            "customer",
            "survey",
            "status",
            "sentAt",
            "expiresAt",
            "usedAt",
            "revokedAt",
            "emailDeliveries"
        ]
    );
    let unknown = app
        .graphql_as(
            Some(&manager),
            "query($s: ID!) { surveyInvitations(surveyId: $s) { totalCount } }",
            json!({ "s": api_id("Survey", 999_999) }),
        )
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"), "{unknown}");
}

async fn a_revoked_link_answers_as_unknown_for_lookup_submission_and_form(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let (ann, bob) = (
        insert_customer(&app, "Ann").await,
        insert_customer(&app, "Bob").await,
    );
    let token = f.invite(&app, ann).await;
    let invitation = invitation_of(&app, &f, ann).await;
    assert_eq!(invitation["status"], "PENDING");

    // Act
    let manager = app.login_as(Role::Manager).await;
    let body = revoke(&app, &manager, &invitation["id"]).await;

    // Assert: revoked at once, everywhere.
    let payload = &data(&body)["revokeSurveyInvitation"];
    assert_eq!(payload["clientMutationId"], "r1");
    assert_eq!(payload["invitation"]["id"], invitation["id"]);
    assert_eq!(payload["invitation"]["status"], "REVOKED");
    assert!(payload["invitation"]["revokedAt"].is_string());
    assert_eq!(payload["invitation"]["usedAt"], Value::Null);
    assert_token_answers(&app, &f, &token, "INVALID_TOKEN", "revoked").await;
    let unknown = "A".repeat(43);
    assert_token_answers(&app, &f, &unknown, "INVALID_TOKEN", "unknown").await;
    let page = app
        .client
        .get(format!("{}/s/{token}", app.address))
        .send()
        .await
        .expect("form");
    let unknown_page = app
        .client
        .get(format!("{}/s/{unknown}", app.address))
        .send()
        .await
        .expect("form");
    assert_eq!(
        page.status(),
        unknown_page.status(),
        "the form page answers alike"
    );

    // Revoking again, or revoking a submitted one, is a conflict and changes nothing.
    let again = revoke(&app, &manager, &invitation["id"]).await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    f.answer(&app, bob).await;
    let submitted = invitation_of(&app, &f, bob).await;
    let refused = revoke(&app, &manager, &submitted["id"]).await;
    assert_eq!(error_code(&refused), Some("CONFLICT"), "{refused}");
    assert_eq!(invitation_of(&app, &f, bob).await, submitted, "unchanged");
    let missing = revoke(&app, &manager, &json!(api_id("SurveyInvitation", 999_999))).await;
    assert_eq!(error_code(&missing), Some("NOT_FOUND"), "{missing}");
    let malformed = revoke(&app, &manager, &json!("x")).await;
    assert_eq!(error_code(&malformed), Some("BAD_USER_INPUT"));
    assert_eq!(malformed["errors"][0]["extensions"]["field"], "id");
}

async fn a_reissued_link_replaces_the_old_one_at_once(engine: Engine) {
    // Arrange: Ann's invitation runs seven days (see `Fixture::invite`).
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let ann = insert_customer(&app, "Ann").await;
    let old_token = f.invite(&app, ann).await;
    let old = invitation_of(&app, &f, ann).await;
    let lifetime = time(&old["expiresAt"]) - time(&old["sentAt"]);

    // Act
    let body = reissue(
        &app,
        &f.admin,
        json!({ "id": old["id"], "clientMutationId": "again" }),
    )
    .await;

    // Assert
    let payload = &data(&body)["reissueSurveyInvitation"];
    assert_eq!(payload["clientMutationId"], "again");
    let new_token = payload["token"].as_str().expect("token").to_owned();
    assert_eq!(new_token.len(), 43);
    assert_ne!(new_token, old_token);
    assert!(
        payload["formUrl"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/s/{new_token}"))),
        "{payload}"
    );
    let new = &payload["invitation"];
    assert_ne!(new["id"], old["id"]);
    assert_eq!(new["customerId"], api_id("Customer", ann));
    assert_eq!(new["status"], "PENDING");
    assert_eq!(
        (time(&new["expiresAt"]) - time(&new["sentAt"])).num_seconds(),
        lifetime.num_seconds(),
        "without expiresAt the new link runs as long as the old one did"
    );
    assert_eq!(payload["previousInvitation"]["id"], old["id"]);
    assert_eq!(payload["previousInvitation"]["status"], "REVOKED");
    assert_token_answers(&app, &f, &old_token, "INVALID_TOKEN", "replaced").await;
    let seen = app
        .graphql(FORM_LOOKUP, json!({ "token": new_token }))
        .await;
    assert_eq!(
        data(&seen)["surveyInvitation"]["title"],
        "How was your flight?"
    );

    // An explicit expiry applies; one in the past is refused and changes nothing.
    let later = Utc::now() + Days::days(30);
    let body = reissue(
        &app,
        &f.admin,
        json!({ "id": new["id"], "expiresAt": later.to_rfc3339() }),
    )
    .await;
    let third = &data(&body)["reissueSurveyInvitation"];
    let third_token = third["token"].as_str().expect("token").to_owned();
    assert_eq!(
        time(&third["invitation"]["expiresAt"]).timestamp(),
        later.timestamp()
    );
    let past = reissue(
        &app,
        &f.admin,
        json!({ "id": third["invitation"]["id"], "expiresAt": (Utc::now() - Days::hours(1)).to_rfc3339() }),
    )
    .await;
    assert_eq!(error_code(&past), Some("BAD_USER_INPUT"), "{past}");
    assert_eq!(past["errors"][0]["extensions"]["field"], "expiresAt");
    let all = list(&app, &f.admin, &f, Value::Null).await;
    assert_eq!(data(&all)["surveyInvitations"]["totalCount"], 3);
    let live = list(&app, &f.admin, &f, json!({ "status": "PENDING" })).await;
    assert_eq!(nodes(&live).len(), 1, "never two live invitations");

    // The new link works; a submitted invitation cannot be re-issued.
    data(&submit(&app, &third_token, f.good_answers()).await);
    let refused = reissue(&app, &f.admin, json!({ "id": third["invitation"]["id"] })).await;
    assert_eq!(error_code(&refused), Some("CONFLICT"), "{refused}");
    let refused = reissue(&app, &f.admin, json!({ "id": old["id"] })).await;
    assert_eq!(
        error_code(&refused),
        Some("CONFLICT"),
        "the customer answered through another link: {refused}"
    );
    let all = list(&app, &f.admin, &f, Value::Null).await;
    assert_eq!(
        data(&all)["surveyInvitations"]["totalCount"],
        3,
        "nothing issued"
    );
}

async fn agents_cannot_list_revoke_or_reissue_invitations(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let ann = insert_customer(&app, "Ann").await;
    let token = f.invite(&app, ann).await;
    let invitation = invitation_of(&app, &f, ann).await;
    let agent = app.login_as(Role::Agent).await;

    // Act
    let listed = list(&app, &agent, &f, Value::Null).await;
    let revoked = revoke(&app, &agent, &invitation["id"]).await;
    let reissued = reissue(&app, &agent, json!({ "id": invitation["id"] })).await;
    let anonymous = app
        .graphql(
            "query($s: ID!) { surveyInvitations(surveyId: $s) { totalCount } }",
            json!({ "s": f.survey_id }),
        )
        .await;

    // Assert: refused, and the link still works.
    assert_eq!(error_code(&listed), Some("FORBIDDEN"), "{listed}");
    assert_eq!(error_code(&revoked), Some("FORBIDDEN"), "{revoked}");
    assert_eq!(error_code(&reissued), Some("FORBIDDEN"), "{reissued}");
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
    assert_eq!(invitation_of(&app, &f, ann).await, invitation, "unchanged");
    let seen = app.graphql(FORM_LOOKUP, json!({ "token": token })).await;
    assert!(seen["errors"].is_null(), "{seen}");
}

async fn an_invitation_page_costs_the_same_statements_for_few_or_many(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = fixture(&app).await;
    let manager = app.login_as(Role::Manager).await;
    let mut customers = Vec::new();
    for i in 0..12 {
        customers.push(insert_customer(&app, &format!("Customer {i}")).await);
    }
    let statements_of = |first: i64| {
        let (app, manager, f) = (&app, &manager, &f);
        async move {
            let before = app.statements();
            let body = app
                .graphql_as(
                    Some(manager),
                    LIST,
                    json!({ "s": f.survey_id, "first": first }),
                )
                .await;
            assert_eq!(nodes(&body).len() as i64, first.min(12), "{body}");
            app.statements() - before
        }
    };
    for customer in &customers {
        f.invite(&app, *customer).await;
    }
    let few = statements_of(2).await;
    let many = statements_of(12).await;
    assert_eq!(few, many, "customers load through a batch, not per row");
}
