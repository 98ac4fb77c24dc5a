//! CSI factor-set families (issue 16 §9): a published revision supersedes
//! the version before it, the family exposes its current version,
//! `csiReport(familyId:)` pools the versions whose factors match or says
//! why not, existing databases and the demo data are converted.

use chrono::{Duration as Days, Utc};
use domain::auth::Role;
use domain::csi::ratings;
use migration::MigratorTrait as _;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{json, Value};

use crate::fixtures::{question, QuestionKind, SurveyBuilder};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    publishing_a_revision_supersedes_the_previous_version,
    a_family_report_pools_versions_under_the_current_weights,
    a_family_report_refuses_versions_whose_factors_differ,
    the_upgrade_supersedes_older_published_versions,
    demo_data_has_one_current_acsi_version,
);

const SET: &str =
    "id familyId version status currentVersion { id version } versions { id version status }";

struct Admin<'a> {
    app: &'a TestApp,
    token: String,
}

impl<'a> Admin<'a> {
    async fn new(app: &'a TestApp) -> Self {
        let token = app.login_as(Role::Admin).await;
        Self { app, token }
    }

    async fn gql(&self, query: &str, variables: Value) -> Value {
        self.app
            .graphql_as(Some(&self.token), query, variables)
            .await
    }

    /// A published set with these `(key, weight)` factors; its id.
    async fn published(&self, factors: &[(&str, &str)]) -> String {
        let input = json!({
            "name": "Store visit",
            "factors": factors.iter().map(|(k, w)| json!({ "key": k, "label": k, "weight": w })).collect::<Vec<_>>(),
        });
        let body = self
            .gql(
                "mutation($input: CreateCsiFactorSetInput!) { createCsiFactorSet(input: $input) { factorSet { id } } }",
                json!({ "input": input }),
            )
            .await;
        let id = data(&body)["createCsiFactorSet"]["factorSet"]["id"].clone();
        self.act("publishCsiFactorSet", &id).await;
        id.as_str().expect("id").to_owned()
    }

    async fn act(&self, name: &str, id: &Value) -> Value {
        let body = self
            .gql(
                &format!("mutation($id: ID!) {{ {name}(input: {{ id: $id }}) {{ factorSet {{ {SET} lockVersion }} }} }}"),
                json!({ "id": id }),
            )
            .await;
        data(&body)[name]["factorSet"].clone()
    }

    /// Revises `id`, gives the draft these factors and publishes it; the new
    /// version's id.
    async fn revised(&self, id: &str, factors: &[(&str, &str)]) -> String {
        let draft = self.act("reviseCsiFactorSet", &json!(id)).await;
        let body = self
            .gql(
                "mutation($input: UpdateCsiFactorSetInput!) { updateCsiFactorSet(input: $input) { factorSet { id } } }",
                json!({ "input": {
                    "id": draft["id"],
                    "lockVersion": draft["lockVersion"],
                    "factors": factors.iter().map(|(k, w)| json!({ "key": k, "label": k, "weight": w })).collect::<Vec<_>>(),
                } }),
            )
            .await;
        data(&body);
        self.act("publishCsiFactorSet", &draft["id"]).await;
        draft["id"].as_str().expect("id").to_owned()
    }

    async fn get(&self, id: &str) -> Value {
        let body = self
            .gql(
                &format!("query($id: ID!) {{ csiFactorSet(id: $id) {{ {SET} }} }}"),
                json!({ "id": id }),
            )
            .await;
        data(&body)["csiFactorSet"].clone()
    }

    async fn family_report(&self, family_id: &str) -> Value {
        let today = Utc::now().date_naive();
        self.gql(
            "query($f: ID!, $from: Date!, $to: Date!) { csiReport(familyId: $f, from: $from, to: $to) {
               index responseCount ratingCount factorSet { id version }
               factors { key weight ratingCount mean } } }",
            json!({ "f": family_id, "from": (today - Days::days(1)).to_string(), "to": (today + Days::days(1)).to_string() }),
        )
        .await
    }
}

async fn rate(app: &TestApp, set: &str, ratings: &[(&str, i32)]) {
    ratings::record(
        app.db(),
        crate::fixtures::db_key(set),
        None,
        None,
        Utc::now(),
        ratings,
    )
    .await
    .expect("ratings recorded");
}

async fn publishing_a_revision_supersedes_the_previous_version(engine: Engine) {
    // Arrange
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let v1 = admin.published(&[("staff", "1"), ("price", "1")]).await;
    assert_eq!(admin.get(&v1).await["currentVersion"]["id"], v1.as_str());

    // Act
    let v2 = admin.revised(&v1, &[("staff", "3"), ("price", "1")]).await;

    // Assert: one current version per family, the old one still reportable.
    let family = admin.get(&v1).await;
    assert_eq!(family["status"], "SUPERSEDED");
    assert_eq!(family["currentVersion"], json!({ "id": v2, "version": 2 }));
    assert_eq!(admin.get(&v2).await["currentVersion"]["id"], v2.as_str());
    let statuses: Vec<Value> = family["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("SUPERSEDED"), json!("PUBLISHED")]);
    let listed = admin
        .gql(
            "{ csiFactorSets(status: PUBLISHED) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&listed)["csiFactorSets"]["nodes"],
        json!([{ "id": v2 }])
    );
    let superseded = admin
        .gql(
            "{ csiFactorSets(status: SUPERSEDED) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&superseded)["csiFactorSets"]["nodes"],
        json!([{ "id": v1 }])
    );
    rate(&app, &v1, &[("staff", 5)]).await;
    let today = Utc::now().date_naive();
    let old = admin
        .gql(
            "query($id: ID!, $from: Date!, $to: Date!) { csiReport(factorSetId: $id, from: $from, to: $to) { index responseCount } }",
            json!({ "id": v1, "from": today.to_string(), "to": (today + Days::days(1)).to_string() }),
        )
        .await;
    assert_eq!(
        data(&old)["csiReport"],
        json!({ "index": "100", "responseCount": 1 })
    );

    // New surveys cannot bind to the superseded version; the current one binds.
    let survey = |set: &str| {
        SurveyBuilder::new("Visit")
            .factor_set(crate::fixtures::db_key(set))
            .question(question(
                "Staff?",
                QuestionKind::CsiFactor,
                json!({ "factorKey": "staff" }),
            ))
            .input()
    };
    let create =
        "mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { survey { id } } }";
    let refused = admin.gql(create, json!({ "input": survey(&v1) })).await;
    assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "factorSetId");
    let accepted = admin.gql(create, json!({ "input": survey(&v2) })).await;
    assert!(data(&accepted)["createSurvey"]["survey"]["id"].is_string());
    let rebind = admin
        .gql(
            "mutation($input: UpdateSurveyInput!) { updateSurvey(input: $input) { survey { id } } }",
            json!({ "input": { "id": data(&accepted)["createSurvey"]["survey"]["id"], "factorSetId": v1 } }),
        )
        .await;
    assert_eq!(error_code(&rebind), Some("BAD_USER_INPUT"), "{rebind}");
    let revise_old = admin
        .gql(
            "mutation($id: ID!) { reviseCsiFactorSet(input: { id: $id }) { factorSet { id } } }",
            json!({ "id": v1 }),
        )
        .await;
    assert_eq!(
        error_code(&revise_old),
        Some("CONFLICT"),
        "revise the current version"
    );
}

async fn a_family_report_pools_versions_under_the_current_weights(engine: Engine) {
    // Arrange: v1 rated (staff 5, price 1), v2 weighs staff 3:1 and is rated
    // (staff 1, price 1).
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let v1 = admin.published(&[("staff", "1"), ("price", "1")]).await;
    rate(&app, &v1, &[("staff", 5), ("price", 1)]).await;
    let v2 = admin.revised(&v1, &[("staff", "3"), ("price", "1")]).await;
    rate(&app, &v2, &[("staff", 1), ("price", 1)]).await;

    // Act
    let body = admin.family_report(&v1).await;

    // Assert: means staff 3, price 1 on 1..5; 100 · (3 · 0.5 + 1 · 0) / 4.
    let report = &data(&body)["csiReport"];
    assert_eq!(report["index"], "37.5", "{body}");
    assert_eq!(report["responseCount"], 2);
    assert_eq!(report["ratingCount"], 4);
    assert_eq!(report["factorSet"], json!({ "id": v2, "version": 2 }));
    let staff = report["factors"]
        .as_array()
        .expect("factors")
        .iter()
        .find(|f| f["key"] == "staff")
        .cloned()
        .expect("staff");
    assert_eq!(
        staff,
        json!({ "key": "staff", "weight": "3", "ratingCount": 2, "mean": "3" })
    );

    // Exactly one of factorSetId and familyId; a version's id is no family's.
    let today = Utc::now().date_naive().to_string();
    for (args, field) in [
        (
            format!("factorSetId: \"{v1}\", familyId: \"{v1}\""),
            "factorSetId",
        ),
        (String::new(), "factorSetId"),
        (format!("familyId: \"{v2}\""), "familyId"),
    ] {
        let body = admin
            .gql(
                &format!("{{ csiReport({args} from: \"{today}\", to: \"{today}\") {{ index }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{args}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{args}");
    }
    let unknown = admin
        .family_report(&crate::fixtures::api_id("CsiFactorSet", 999_999))
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"), "{unknown}");
}

async fn a_family_report_refuses_versions_whose_factors_differ(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let v1 = admin.published(&[("staff", "1"), ("price", "1")]).await;
    admin
        .revised(&v1, &[("staff", "1"), ("price", "1"), ("queue", "2")])
        .await;

    let body = admin.family_report(&v1).await;

    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(
        message.contains("versions 1 and 2") && message.contains("only version 2 has queue"),
        "says why: {message}"
    );
}

async fn the_upgrade_supersedes_older_published_versions(engine: Engine) {
    // Arrange: the schema before the upgrade, with a family of three versions
    // (two published) and a lone published set.
    let database = crate::helpers::TestDatabase::create(engine).await;
    let db = sea_orm::Database::connect(&database.url)
        .await
        .expect("connect");
    let upgrade = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261127_230002_csi_superseded_versions")
        .expect("the upgrade");
    migration::Migrator::up(&db, Some(upgrade as u32))
        .await
        .expect("the schema before the upgrade");
    let now = Utc::now();
    let insert = |family: Option<i64>, version: i32, status: &str| {
        let db = &db;
        let model = entity::csi_factor_sets::ActiveModel {
            family_id: Set(family),
            name: Set("Old".into()),
            version: Set(version),
            status: Set(status.into()),
            scale_min: Set(1),
            scale_max: Set(5),
            lock_version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            published_at: Set(Some(now)),
            ..Default::default()
        };
        async move { model.insert(db).await.expect("set").id }
    };
    let first = insert(None, 1, "PUBLISHED").await;
    entity::csi_factor_sets::Entity::update(entity::csi_factor_sets::ActiveModel {
        id: Set(first),
        family_id: Set(Some(first)),
        ..Default::default()
    })
    .exec(&db)
    .await
    .expect("family");
    let second = insert(Some(first), 2, "PUBLISHED").await;
    let third = insert(Some(first), 3, "DRAFT").await;
    let lone = insert(None, 1, "PUBLISHED").await;

    // Act
    migration::Migrator::up(&db, None).await.expect("upgrade");

    // Assert
    let status = |id: i64| {
        let db = &db;
        async move {
            entity::csi_factor_sets::Entity::find_by_id(id)
                .one(db)
                .await
                .expect("read")
                .expect("set")
                .status
        }
    };
    assert_eq!(status(first).await, "SUPERSEDED");
    assert_eq!(status(second).await, "PUBLISHED");
    assert_eq!(status(third).await, "DRAFT");
    assert_eq!(status(lone).await, "PUBLISHED");
}

async fn demo_data_has_one_current_acsi_version(engine: Engine) {
    let app = spawn_app(engine).await;
    seed::seed(app.db(), &app.services.users)
        .await
        .expect("demo data");
    let admin = Admin::new(&app).await;

    let body = admin
        .gql(
            "{ csiFactorSets(first: 100) { nodes { name version status currentVersion { version } } } }",
            json!({}),
        )
        .await;

    let acsi: Vec<Value> = data(&body)["csiFactorSets"]["nodes"]
        .as_array()
        .expect("sets")
        .iter()
        .filter(|s| s["name"] == "Customer experience (ACSI drivers)")
        .map(|s| json!([s["version"], s["status"], s["currentVersion"]["version"]]))
        .collect();
    assert_eq!(
        acsi,
        [json!([1, "SUPERSEDED", 2]), json!([2, "PUBLISHED", 2])]
    );
}
