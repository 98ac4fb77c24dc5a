//! The role × operation matrix of SPEC §2, generated from the schema.
//!
//! Every root field of `Query` and `Mutation` must have a row in [`MATRIX`]
//! (a new field without one fails the test, so the matrix cannot fall
//! behind). For each caller a row does not allow, the operation is sent with
//! valid placeholder arguments twice — once with ids that exist (the demo data
//! set is loaded) and once with unknown ids — and must be refused with
//! `FORBIDDEN` (`UNAUTHENTICATED` for anonymous callers), identically for both,
//! without writing a row anywhere.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use domain::auth::Role;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::json;

use crate::helpers::{error_code, spawn_app, Engine, TestApp};

on_both_engines!(every_forbidden_operation_is_refused_without_writing);

/// Who sends a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Agent,
    Manager,
    Admin,
}

use Caller::{Admin, Agent, Anonymous, Manager};

const EVERYONE: &[Caller] = &[Anonymous, Agent, Manager, Admin];
const STAFF: &[Caller] = &[Agent, Manager, Admin];
const MANAGERS: &[Caller] = &[Manager, Admin];
const ADMINS: &[Caller] = &[Admin];

/// `"@<Type>"` stands for the global id of a record of that GraphQL type:
/// an existing one (key 1), then an unknown one.
const UNKNOWN_ID: i64 = 987_654_321;
const EXISTING_ID: i64 = 1;

/// The types whose ids the matrix names.
const ID_TYPES: &[&str] = &[
    "Customer",
    "WebhookEndpoint",
    "CsiFactorSet",
    "FollowUp",
    "LoyaltyProgram",
    "Membership",
    "Reward",
    "Survey",
    "SurveyInvitation",
    "SurveyResponse",
    "User",
];

/// (root type, field, callers SPEC §2 allows, placeholder arguments).
#[rustfmt::skip]
const MATRIX: &[(&str, &str, &[Caller], &str)] = &[
    // users and roles: ADMIN; `me` for any staff user
    ("Query", "me", STAFF, ""),
    ("Query", "users", ADMINS, ""),
    // webhooks: ADMIN
    ("Query", "webhookEndpoints", ADMINS, ""),
    ("Query", "webhookDelivery", ADMINS, r#"(id: "00000000000000000000000000000001")"#),
    // loyalty configuration: read for all staff
    ("Query", "loyaltyPrograms", STAFF, ""),
    ("Query", "loyaltyProgram", STAFF, r#"(id: "@LoyaltyProgram")"#),
    ("Query", "membership", STAFF, r#"(id: "@Membership")"#),
    ("Query", "rewards", STAFF, r#"(loyaltyProgramId: "@LoyaltyProgram")"#),
    ("Query", "promotions", STAFF, r#"(loyaltyProgramId: "@LoyaltyProgram")"#),
    // customers: read for all staff; export with erase rights (MANAGER+)
    ("Query", "customers", STAFF, "(first: 1)"),
    ("Query", "customerCount", STAFF, ""),
    ("Query", "customer", STAFF, r#"(id: "@Customer")"#),
    ("Query", "upcomingBirthdays", STAFF, ""),
    ("Query", "exportCustomerData", MANAGERS, r#"(id: "@Customer")"#),
    // CSI configuration: read for all staff; reports for all staff
    ("Query", "csiFactorSets", STAFF, ""),
    ("Query", "csiFactorSet", STAFF, r#"(id: "@CsiFactorSet")"#),
    ("Query", "csiPresets", STAFF, ""),
    ("Query", "csiReport", STAFF, r#"(factorSetId: "@CsiFactorSet", from: "2025-01-01", to: "2025-12-31")"#),
    ("Query", "csiReportPreview", MANAGERS, r#"(factorSetId: "@CsiFactorSet", draftId: "@CsiFactorSet", from: "2025-01-01", to: "2025-12-31")"#),
    // surveys: read for all staff; the invitation is public (its token is the credential)
    ("Query", "surveys", STAFF, "(first: 1)"),
    ("Query", "survey", STAFF, r#"(id: "@Survey")"#),
    ("Query", "surveyInvitation", EVERYONE, r#"(token: "not-a-real-invitation-token")"#),
    ("Query", "surveyResponses", STAFF, r#"(filter: { surveyId: "@Survey" }, first: 1)"#),
    // invitations: who may invite may list, revoke and re-issue (MANAGER+)
    ("Query", "surveyInvitations", MANAGERS, r#"(surveyId: "@Survey", first: 1)"#),
    ("Query", "surveyResponse", STAFF, r#"(id: "@SurveyResponse")"#),
    ("Query", "surveyResults", STAFF, r#"(surveyId: "@Survey")"#),
    ("Query", "followUps", STAFF, "(first: 1)"),
    // reports and metrics: all staff
    ("Query", "retentionRate", STAFF, r#"(from: "2025-01-01", to: "2025-12-31")"#),
    ("Query", "returnOnRelationship", STAFF, r#"(asOf: "2025-12-31")"#),
    ("Query", "customerValue", STAFF, r#"(from: "2025-01-01", to: "2025-12-31")"#),
    ("Query", "mostValuableCustomers", STAFF, r#"(from: "2025-01-01", to: "2025-12-31")"#),
    ("Query", "loyaltyReport", STAFF, r#"(from: "2025-01-01", to: "2025-12-31")"#),
    // Relay object identification: all staff (each type's own rules inside)
    ("Query", "node", STAFF, r#"(id: "@Customer")"#),
    ("Query", "nodes", STAFF, r#"(ids: ["@Customer", "@Survey"])"#),
    // sessions: public
    ("Mutation", "login", EVERYONE, r#"(input: { email: "nobody@example.com", password: "not the password" })"#),
    ("Mutation", "refreshSession", EVERYONE, r#"(input: { refreshToken: "not-a-refresh-token" })"#),
    ("Mutation", "logout", EVERYONE, r#"(input: { refreshToken: "not-a-refresh-token" })"#),
    // users and roles: ADMIN
    ("Mutation", "createUser", ADMINS, r#"(input: { email: "matrix@example.com", password: "a long enough password", role: AGENT })"#),
    ("Mutation", "updateUserRole", ADMINS, r#"(input: { id: "@User", role: ADMIN })"#),
    ("Mutation", "deactivateUser", ADMINS, r#"(input: { id: "@User" })"#),
    // webhooks: ADMIN
    ("Mutation", "createWebhookEndpoint", ADMINS, r#"(input: { url: "https://example.com/hook", events: [CUSTOMER_CHURNED] })"#),
    ("Mutation", "updateWebhookEndpoint", ADMINS, r#"(input: { id: "@WebhookEndpoint", enabled: false })"#),
    ("Mutation", "rotateWebhookEndpointSecret", ADMINS, r#"(input: { id: "@WebhookEndpoint" })"#),
    ("Mutation", "deleteWebhookEndpoint", ADMINS, r#"(input: { id: "@WebhookEndpoint" })"#),
    ("Mutation", "redeliverWebhookMessage", ADMINS, r#"(input: { id: "00000000000000000000000000000001" })"#),
    // loyalty configuration: ADMIN
    ("Mutation", "createLoyaltyProgram", ADMINS, r#"(input: {name: "Matrix", currency: "EUR", pointsPerCurrencyUnit: "1", tiers: [{name: "Base", minLifetimePoints: 0, earnMultiplier: "1"}]})"#),
    ("Mutation", "updateLoyaltyProgram", ADMINS, r#"(input: { id: "@LoyaltyProgram", name: "Renamed" })"#),
    ("Mutation", "createPromotion", ADMINS, r#"(input: {loyaltyProgramId: "@LoyaltyProgram", name: "Double", multiplier: "2", startsAt: "2030-01-01T00:00:00Z", endsAt: "2030-02-01T00:00:00Z"})"#),
    ("Mutation", "createReward", ADMINS, r#"(input: { loyaltyProgramId: "@LoyaltyProgram", name: "Mug", costPoints: 10 })"#),
    ("Mutation", "updateReward", ADMINS, r#"(input: { id: "@Reward", name: "Cup" })"#),
    // loyalty operations: enrol, adjust and batch runs MANAGER+, redeem all staff
    ("Mutation", "enrollCustomer", MANAGERS, r#"(input: { loyaltyProgramId: "@LoyaltyProgram", customerId: "@Customer" })"#),
    ("Mutation", "redeemReward", STAFF, r#"(input: { membershipId: "@Membership", rewardId: "@Reward", idempotencyKey: "matrix-key" })"#),
    ("Mutation", "adjustPoints", MANAGERS, r#"(input: { membershipId: "@Membership", delta: 100, note: "matrix", idempotencyKey: "matrix-key" })"#),
    ("Mutation", "grantBirthdayBonuses", MANAGERS, r#"(input: { date: "2025-06-01" })"#),
    ("Mutation", "expirePoints", MANAGERS, r#"(input: {})"#),
    // customers: create/update all staff; churn, stage, erase MANAGER+
    ("Mutation", "createCustomer", STAFF, r#"(input: {name: "Matrix Customer"})"#),
    ("Mutation", "updateCustomer", STAFF, r#"(input: { id: "@Customer", name: "Renamed" })"#),
    ("Mutation", "setRelationshipStage", MANAGERS, r#"(input: { id: "@Customer", stage: COMMITMENT })"#),
    ("Mutation", "churnCustomer", MANAGERS, r#"(input: { id: "@Customer", reason: DISSATISFACTION })"#),
    ("Mutation", "reactivateCustomer", MANAGERS, r#"(input: { id: "@Customer" })"#),
    ("Mutation", "eraseCustomer", MANAGERS, r#"(input: { id: "@Customer" })"#),
    // interactions, purchases and costs: all staff
    ("Mutation", "recordInteraction", STAFF, r#"(input: {customerId: "@Customer", channel: EMAIL})"#),
    ("Mutation", "recordPurchase", STAFF, r#"(input: {customerId: "@Customer", amount: "10.00", currency: "EUR", externalRef: "matrix-1"})"#),
    ("Mutation", "recordCost", STAFF, r#"(input: {customerId: "@Customer", kind: CARE, amount: "5.00", currency: "EUR"})"#),
    // CSI configuration: ADMIN
    ("Mutation", "createCsiFactorSet", ADMINS, r#"(input: {name: "Matrix", factors: [{key: "speed", label: "Speed", weight: "1"}]})"#),
    ("Mutation", "updateCsiFactorSet", ADMINS, r#"(input: { id: "@CsiFactorSet", lockVersion: 1, name: "Renamed" })"#),
    ("Mutation", "publishCsiFactorSet", ADMINS, r#"(input: { id: "@CsiFactorSet" })"#),
    ("Mutation", "reviseCsiFactorSet", ADMINS, r#"(input: { id: "@CsiFactorSet" })"#),
    ("Mutation", "archiveCsiFactorSet", ADMINS, r#"(input: { id: "@CsiFactorSet" })"#),
    // surveys: create, publish, invite MANAGER+; submission public
    ("Mutation", "createSurvey", MANAGERS, r#"(input: {title: "Matrix", questions: [{text: "Why?", kind: TEXT}]})"#),
    ("Mutation", "updateSurvey", MANAGERS, r#"(input: { id: "@Survey", title: "Renamed" })"#),
    ("Mutation", "publishSurvey", MANAGERS, r#"(input: { id: "@Survey" })"#),
    ("Mutation", "setSurveyReminders", MANAGERS, r#"(input: { surveyId: "@Survey", count: 1, intervalDays: 3 })"#),
    ("Mutation", "setSurveyTranslation", MANAGERS, r#"(input: { surveyId: "@Survey", locale: "fr", title: "Enquête" })"#),
    ("Mutation", "removeSurveyTranslation", MANAGERS, r#"(input: { surveyId: "@Survey", locale: "fr" })"#),
    ("Mutation", "createExport", MANAGERS, r#"(input: { kind: CUSTOMERS })"#),
    ("Mutation", "closeSurvey", MANAGERS, r#"(input: { id: "@Survey" })"#),
    ("Mutation", "inviteToSurvey", MANAGERS, r#"(input: { surveyId: "@Survey", customerIds: ["@Customer"], expiresAt: "2030-01-01T00:00:00Z" })"#),
    ("Mutation", "revokeSurveyInvitation", MANAGERS, r#"(input: { id: "@SurveyInvitation" })"#),
    ("Mutation", "reissueSurveyInvitation", MANAGERS, r#"(input: { id: "@SurveyInvitation" })"#),
    ("Mutation", "submitSurveyResponse", EVERYONE, r#"(input: { token: "not-a-real-invitation-token", answers: [] })"#),
    // feedback handling: MANAGER+
    ("Mutation", "markFeedbackHelpful", MANAGERS, r#"(input: { id: "@SurveyResponse" })"#),
    ("Mutation", "resolveFollowUp", MANAGERS, r#"(input: { id: "@FollowUp", note: "done" })"#),
];

/// Root fields of the public schema, with whether their type needs a selection set.
fn root_fields() -> BTreeMap<(String, String), bool> {
    let sdl = api::graphql::schema::sdl();
    let doc = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
    let mut composite = BTreeSet::new();
    let mut fields = Vec::new();
    for definition in &doc.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let name = ty.node.name.node.to_string();
        match &ty.node.kind {
            TypeKind::Object(object) => {
                composite.insert(name.clone());
                if name == "Query" || name == "Mutation" {
                    for field in &object.fields {
                        fields.push((
                            name.clone(),
                            field.node.name.node.to_string(),
                            named(&field.node.ty.node),
                        ));
                    }
                }
            }
            TypeKind::Interface(_) | TypeKind::Union(_) => {
                composite.insert(name);
            }
            _ => {}
        }
    }
    fields
        .into_iter()
        .map(|(root, field, ty)| ((root, field), composite.contains(&ty)))
        .collect()
}

fn named(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => named(inner),
    }
}

/// Row counts of every table, to prove a refused request wrote nothing.
pub async fn row_counts(app: &TestApp) -> BTreeMap<String, i64> {
    let db = app.db();
    let backend = db.get_database_backend();
    let list = match backend {
        DatabaseBackend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        _ => "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'",
    };
    let tables = db
        .query_all_raw(Statement::from_string(backend, list))
        .await
        .expect("list tables");
    let mut counts = BTreeMap::new();
    for row in tables {
        let table: String = row.try_get("", "t").expect("table name");
        let n = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM \"{table}\""),
            ))
            .await
            .expect("count")
            .expect("a row");
        counts.insert(table, n.try_get::<i64>("", "n").expect("count"));
    }
    counts
}

fn document(root: &str, field: &str, args: &str, key: i64, composite: bool) -> String {
    let keyword = if root == "Mutation" {
        "mutation"
    } else {
        "query"
    };
    let selection = if composite { " { __typename }" } else { "" };
    let mut args = args.to_owned();
    for ty in ID_TYPES {
        args = args.replace(
            &format!("\"@{ty}\""),
            &format!("\"{}\"", crate::fixtures::api_id(ty, key)),
        );
    }
    assert!(
        !args.contains("\"@"),
        "a placeholder of a type not in ID_TYPES: {args}"
    );
    format!("{keyword} {{ {field}{args}{selection} }}")
}

async fn every_forbidden_operation_is_refused_without_writing(engine: Engine) {
    // Arrange: the demo data set, so id 1 exists in every table, and one user per role.
    let app = spawn_app(engine).await;
    seed::seed(app.db(), &app.services.users)
        .await
        .expect("demo data");
    let mut tokens = BTreeMap::new();
    for role in Role::ALL {
        tokens.insert(role.as_str(), app.login_as(role).await);
    }
    let token = |caller: Caller| -> Option<String> {
        match caller {
            Anonymous => None,
            Agent => tokens.get("AGENT").cloned(),
            Manager => tokens.get("MANAGER").cloned(),
            Admin => tokens.get("ADMIN").cloned(),
        }
    };

    // The matrix covers the schema exactly.
    let fields = root_fields();
    let in_matrix: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(root, field, _, _)| ((*root).to_owned(), (*field).to_owned()))
        .collect();
    let in_schema: BTreeSet<(String, String)> = fields.keys().cloned().collect();
    let missing: Vec<_> = in_schema.difference(&in_matrix).collect();
    let stale: Vec<_> = in_matrix.difference(&in_schema).collect();
    assert!(
        missing.is_empty(),
        "root fields without a row in the authorization matrix (add them to MATRIX in tests/tests/e2e/authz.rs with the roles SPEC §2 allows): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix rows for removed fields: {stale:?}"
    );

    // Act and assert: every forbidden (caller, field), with existing and unknown ids.
    let mut refused = 0;
    for (root, field, allowed, args) in MATRIX {
        let composite = fields[&((*root).to_owned(), (*field).to_owned())];
        let before = row_counts(&app).await;
        for caller in [Anonymous, Agent, Manager, Admin] {
            if allowed.contains(&caller) {
                continue;
            }
            let expected = if caller == Anonymous {
                "UNAUTHENTICATED"
            } else {
                "FORBIDDEN"
            };
            let mut answers = Vec::new();
            for id in [EXISTING_ID, UNKNOWN_ID] {
                let query = document(root, field, args, id, composite);
                let body = app
                    .graphql_as(token(caller).as_deref(), &query, json!({}))
                    .await;
                assert_eq!(
                    error_code(&body),
                    Some(expected),
                    "{caller:?} calling {root}.{field} with id {id}: {body}"
                );
                answers.push(body);
                refused += 1;
            }
            assert_eq!(
                answers[0], answers[1],
                "{caller:?} calling {root}.{field}: an existing and an unknown id answer alike"
            );
        }
        let after = row_counts(&app).await;
        assert_eq!(
            before, after,
            "refused calls to {root}.{field} wrote nothing"
        );
    }

    // The allowed callers get past authorization (unknown ids keep the data intact).
    for (root, field, allowed, args) in MATRIX {
        let composite = fields[&((*root).to_owned(), (*field).to_owned())];
        for caller in *allowed {
            let query = document(root, field, args, UNKNOWN_ID, composite);
            let body = app
                .graphql_as(token(*caller).as_deref(), &query, json!({}))
                .await;
            let code = error_code(&body);
            assert_ne!(
                code,
                Some("FORBIDDEN"),
                "{caller:?} may call {root}.{field}: {body}"
            );
            if *allowed != EVERYONE {
                assert_ne!(
                    code,
                    Some("UNAUTHENTICATED"),
                    "{caller:?} may call {root}.{field}: {body}"
                );
            }
            assert_ne!(
                code,
                Some("INTERNAL"),
                "{caller:?} calling {root}.{field}: {body}"
            );
        }
    }
    assert!(refused > 150, "the matrix exercised {refused} refusals");
}

/// Object types reachable from `ty` through fields, in the public schema.
fn reachable(ty: &str) -> BTreeSet<String> {
    let sdl = api::graphql::schema::sdl();
    let doc = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for definition in &doc.definitions {
        let TypeSystemDefinition::Type(t) = definition else {
            continue;
        };
        let fields = match &t.node.kind {
            TypeKind::Object(o) => &o.fields,
            TypeKind::Interface(i) => &i.fields,
            _ => continue,
        };
        edges.insert(
            t.node.name.node.to_string(),
            fields.iter().map(|f| named(&f.node.ty.node)).collect(),
        );
    }
    let mut seen = BTreeSet::new();
    let mut todo = vec![ty.to_owned()];
    while let Some(next) = todo.pop() {
        if seen.insert(next.clone()) {
            todo.extend(edges.get(&next).cloned().unwrap_or_default());
        }
    }
    seen
}

/// What a respondent's token opens (the public `surveyInvitation` and
/// `submitSurveyResponse`) must not lead, through any edge, to staff data.
#[test]
fn public_operations_reach_no_staff_data_through_any_edge() {
    let staff_only = [
        "Customer",
        "User",
        "Membership",
        "LedgerEntry",
        "SurveyResponse",
        "Survey",
        "FollowUp",
        "SurveyInvitation",
        "Purchase",
        "Interaction",
        "LoyaltyProgram",
    ];
    for public in ["InvitedSurvey", "SubmitSurveyResponsePayload"] {
        let types = reachable(public);
        for staff in staff_only {
            assert!(
                !types.contains(staff),
                "{public} leads to {staff}: {types:?}"
            );
        }
    }
}
