//! CSI factor sets over HTTP: lifecycle, bad input, optimistic locking,
//! immutability of published versions (service and database), role refusals,
//! and reports exact on hand-computed data sets.

use chrono::{DateTime, TimeZone, Utc};
use domain::auth::Role;
use domain::csi::ratings;
use domain::DomainError;
use entity::{csi_ratings, survey_invitations, survey_responses, surveys};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set, Statement};
use serde_json::{json, Value};

use crate::fixtures::{CustomerBuilder, RelationshipType, Stage, SurveyBuilder, SurveyStatus};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

const SET_FIELDS: &str = "id familyId name version status scaleMin scaleMax lockVersion totalWeight publishedAt factors { key label weight normalizedWeight position }";

fn create_mutation() -> String {
    format!("mutation($input: CreateCsiFactorSetInput!) {{ createCsiFactorSet(input: $input) {{ factorSet {{ {SET_FIELDS} }} }} }}")
}
fn update_mutation() -> String {
    format!("mutation($input: UpdateCsiFactorSetInput!) {{ updateCsiFactorSet(input: $input) {{ factorSet {{ {SET_FIELDS} }} }} }}")
}
fn action_mutation(name: &str) -> String {
    format!(
        "mutation($id: ID!) {{ {name}(input: {{ id: $id }}) {{ factorSet {{ {SET_FIELDS} }} }} }}"
    )
}
fn get_query() -> String {
    format!("query($id: ID!) {{ csiFactorSet(id: $id) {{ {SET_FIELDS} versions {{ id version status }} }} }}")
}

const REPORT: &str =
    "query($id: ID!, $from: Date!, $to: Date!, $g: Granularity, $filter: CsiReportFilter) {
  csiReport(factorSetId: $id, from: $from, to: $to, granularity: $g, filter: $filter) {
    index weightedMean responseCount ratingCount
    factors { key weight normalizedWeight ratingCount mean score priorityScore priority }
    trend { period start end index weightedMean responseCount ratingCount }
    previousPeriod { from to index weightedMean responseCount delta }
  } }";

fn airline_input() -> Value {
    json!({
        "name": "Airline trip",
        "factors": [
            { "key": "on_time", "label": "On-time departure", "weight": "0.35" },
            { "key": "customs", "label": "Fast customs", "weight": "0.20" },
            { "key": "safety", "label": "Safety", "weight": "0.35" },
            { "key": "snacks", "label": "Snacks", "weight": "0.10" },
        ]
    })
}

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

    async fn create(&self, input: Value) -> Value {
        let body = self
            .gql(&create_mutation(), json!({ "input": input }))
            .await;
        data(&body)["createCsiFactorSet"]["factorSet"].clone()
    }

    async fn act(&self, name: &str, id: &Value) -> Value {
        let body = self.gql(&action_mutation(name), json!({ "id": id })).await;
        data(&body)[name]["factorSet"].clone()
    }

    async fn get(&self, id: &Value) -> Value {
        let body = self.gql(&get_query(), json!({ "id": id })).await;
        data(&body)["csiFactorSet"].clone()
    }

    /// A published airline set (SPEC §5's example); returns its id.
    async fn published_airline(&self) -> Value {
        let set = self.create(airline_input()).await;
        self.act("publishCsiFactorSet", &set["id"]).await["id"].clone()
    }

    async fn report(&self, id: &Value, from: &str, to: &str, extra: Value) -> Value {
        let mut vars = json!({ "id": id, "from": from, "to": to });
        if let (Some(vars), Some(extra)) = (vars.as_object_mut(), extra.as_object()) {
            vars.extend(extra.clone());
        }
        self.gql(REPORT, vars).await
    }
}

pub(crate) fn id_of(value: &Value) -> i64 {
    crate::fixtures::db_key(value.as_str().expect("an id"))
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s)
        .single()
        .expect("valid time")
}

async fn rate(
    app: &TestApp,
    set: &Value,
    response_id: Option<i64>,
    customer_id: Option<i64>,
    when: DateTime<Utc>,
    ratings: &[(&str, i32)],
) {
    ratings::record(
        app.db(),
        id_of(set),
        response_id,
        customer_id,
        when,
        ratings,
    )
    .await
    .expect("ratings recorded");
}

async fn count_sets(app: &TestApp) -> u64 {
    entity::csi_factor_sets::Entity::find()
        .count(app.db())
        .await
        .expect("count")
}

pub(crate) async fn customer(
    app: &TestApp,
    name: &str,
    kind: RelationshipType,
    tag: Option<&str>,
) -> i64 {
    let mut customer = CustomerBuilder::new()
        .name(name)
        .stage(Stage::Commitment)
        .kind(kind);
    if let Some(tag) = tag {
        customer = customer.tag(tag);
    }
    customer.insert(app.db()).await
}

pub(crate) async fn survey(app: &TestApp, factor_set_id: i64, status: SurveyStatus) -> i64 {
    SurveyBuilder::new("Trip feedback")
        .status(status)
        .factor_set(factor_set_id)
        .insert(app.db())
        .await
}

pub(crate) async fn response(
    app: &TestApp,
    survey_id: i64,
    customer_id: i64,
    when: DateTime<Utc>,
) -> i64 {
    let invitation = survey_invitations::ActiveModel {
        survey_id: Set(survey_id),
        customer_id: Set(customer_id),
        token_hash: Set(uuid::Uuid::new_v4().to_string()),
        expires_at: Set(when),
        created_at: Set(when),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("invitation");
    survey_responses::ActiveModel {
        survey_id: Set(survey_id),
        invitation_id: Set(invitation.id),
        customer_id: Set(customer_id),
        submitted_at: Set(when),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("response")
    .id
}

on_both_engines!(
    admin_creates_publishes_revises_and_archives_over_http,
    bad_input_is_refused_and_the_configuration_stays_intact,
    a_stale_lock_version_is_a_conflict,
    concurrent_saves_of_one_draft_let_exactly_one_win,
    concurrent_revisions_make_exactly_one_draft,
    published_versions_are_immutable_in_the_service,
    published_versions_are_immutable_in_the_database,
    archiving_a_set_an_active_survey_uses_is_a_conflict,
    managers_and_agents_read_but_cannot_write,
    unknown_ids_are_not_found,
    recording_ratings_checks_the_version_and_the_scale,
    report_is_exact_on_a_hand_computed_data_set,
    tied_priorities_go_to_the_heavier_factor_and_figures_round_once,
    report_filters_by_tag_relationship_type_and_survey,
    report_rolls_up_by_quarter_and_year,
    a_revision_leaves_the_old_versions_report_unchanged,
    no_ratings_give_a_null_index_and_bad_periods_are_refused,
    reports_and_lists_cost_a_constant_number_of_statements,
);

async fn admin_creates_publishes_revises_and_archives_over_http(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;

    let presets = admin
        .gql(
            "{ csiPresets { key scaleMin scaleMax factors { key weight } } }",
            json!({}),
        )
        .await;
    let acsi = &data(&presets)["csiPresets"][0];
    assert_eq!(acsi["key"], "acsi");
    let keys: Vec<&str> = acsi["factors"]
        .as_array()
        .expect("factors")
        .iter()
        .filter_map(|f| f["key"].as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "expectations",
            "perceived_quality",
            "perceived_value",
            "complaints",
            "loyalty",
            "price_tolerance"
        ]
    );

    let v1 = admin
        .create(json!({
            "name": "  Store visit ",
            "factors": [
                { "key": "staff", "label": "Staff", "weight": "3" },
                { "key": "price", "label": "Price", "weight": "1" },
            ]
        }))
        .await;
    assert_eq!(v1["name"], "Store visit");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["status"], "DRAFT");
    assert_eq!(v1["familyId"], v1["id"]);
    assert_eq!(
        (v1["scaleMin"].clone(), v1["scaleMax"].clone()),
        (json!(1), json!(5))
    );
    assert_eq!(v1["totalWeight"], "4");
    assert_eq!(v1["factors"][0]["normalizedWeight"], "0.75");
    assert_eq!(v1["factors"][1]["normalizedWeight"], "0.25");

    let published = admin.act("publishCsiFactorSet", &v1["id"]).await;
    assert_eq!(published["status"], "PUBLISHED");
    assert!(published["publishedAt"].is_string());

    let v2 = admin.act("reviseCsiFactorSet", &v1["id"]).await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["status"], "DRAFT");
    assert_eq!(v2["familyId"], v1["id"]);
    assert_eq!(v2["factors"], published["factors"], "factors are copied");

    let body = admin
        .gql(
            &update_mutation(),
            json!({ "input": { "id": v2["id"],
                "lockVersion": v2["lockVersion"],
                "name": "Store visit 2027",
                "scaleMin": 0, "scaleMax": 10,
                "factors": [
                    { "key": "staff", "label": "Staff", "weight": "1" },
                    { "key": "price", "label": "Price", "weight": "1" },
                    { "key": "queue", "label": "Waiting time", "weight": "2" },
                ]
            }}),
        )
        .await;
    let updated = &data(&body)["updateCsiFactorSet"]["factorSet"];
    assert_eq!(updated["name"], "Store visit 2027");
    assert_eq!(updated["scaleMax"], 10);
    assert_eq!(updated["factors"][2]["normalizedWeight"], "0.5");
    assert_eq!(
        updated["lockVersion"],
        v2["lockVersion"].as_i64().expect("lock") + 1
    );
    admin.act("publishCsiFactorSet", &v2["id"]).await;

    let family = admin.get(&v1["id"]).await;
    assert_eq!(
        family["factors"], published["factors"],
        "v1 kept its weights"
    );
    let versions: Vec<(Value, Value)> = family["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| (v["version"].clone(), v["status"].clone()))
        .collect();
    assert_eq!(
        versions,
        [
            (json!(1), json!("SUPERSEDED")),
            (json!(2), json!("PUBLISHED"))
        ]
    );

    let list = admin
        .gql(
            "{ csiFactorSets(status: PUBLISHED) { totalCount nodes { id versions { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&list)["csiFactorSets"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "only the current version is PUBLISHED"
    );
    assert_eq!(data(&list)["csiFactorSets"]["totalCount"], 1);

    let archived = admin.act("archiveCsiFactorSet", &v2["id"]).await;
    assert_eq!(archived["status"], "ARCHIVED");
    let family = admin.get(&v1["id"]).await;
    assert_eq!(family["status"], "ARCHIVED", "the whole family is archived");
    let drafts = admin
        .gql(
            "{ csiFactorSets(status: PUBLISHED) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&drafts)["csiFactorSets"],
        json!({ "totalCount": 0, "nodes": [] })
    );
    let again = admin.act("archiveCsiFactorSet", &v1["id"]).await;
    assert_eq!(
        again["status"], "ARCHIVED",
        "archiving twice changes nothing"
    );
}

async fn bad_input_is_refused_and_the_configuration_stays_intact(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;

    let with_factors = |factors: Value| json!({ "name": "X", "factors": factors });
    let one = |key: &str, label: &str, weight: Value| json!([{ "key": key, "label": label, "weight": weight }]);
    let many: Vec<Value> = (0..51)
        .map(|i| json!({ "key": format!("f{i}"), "label": "F", "weight": "1" }))
        .collect();
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        (
            "negative weight",
            with_factors(one("a", "A", json!("-1"))),
            Some("factors.0.weight"),
        ),
        (
            "zero weight",
            with_factors(one("a", "A", json!("0"))),
            Some("factors.0.weight"),
        ),
        (
            "absurd weight",
            with_factors(one("a", "A", json!("1000001"))),
            Some("factors.0.weight"),
        ),
        (
            "NaN weight",
            with_factors(one("a", "A", json!("NaN"))),
            None,
        ),
        (
            "infinite weight",
            with_factors(one("a", "A", json!("Infinity"))),
            None,
        ),
        (
            "non-numeric weight",
            with_factors(one("a", "A", json!("heavy"))),
            None,
        ),
        ("empty weight", with_factors(one("a", "A", json!(""))), None),
        (
            "empty factor list",
            with_factors(json!([])),
            Some("factors"),
        ),
        ("51 factors", with_factors(json!(many)), Some("factors")),
        (
            "duplicate keys",
            with_factors(json!([
                { "key": "a", "label": "A", "weight": "1" },
                { "key": "b", "label": "B", "weight": "1" },
                { "key": "a", "label": "C", "weight": "1" },
            ])),
            Some("factors.2.key"),
        ),
        (
            "blank key",
            with_factors(one("  ", "A", json!("1"))),
            Some("factors.0.key"),
        ),
        (
            "upper-case key",
            with_factors(one("Quality", "A", json!("1"))),
            Some("factors.0.key"),
        ),
        (
            "blank label",
            with_factors(one("a", " ", json!("1"))),
            Some("factors.0.label"),
        ),
        (
            "blank name",
            json!({ "name": " ", "factors": one("a", "A", json!("1")) }),
            Some("name"),
        ),
        (
            "scale min = max",
            json!({ "name": "X", "scaleMin": 5, "scaleMax": 5, "factors": one("a", "A", json!("1")) }),
            Some("scaleMax"),
        ),
        (
            "scale min > max",
            json!({ "name": "X", "scaleMin": 5, "scaleMax": 1, "factors": one("a", "A", json!("1")) }),
            Some("scaleMax"),
        ),
        (
            "scale too wide",
            json!({ "name": "X", "scaleMin": 1, "scaleMax": 100, "factors": one("a", "A", json!("1")) }),
            Some("scaleMax"),
        ),
    ];

    // Creating: nothing is written.
    for (why, input, field) in &cases {
        let body = admin
            .gql(&create_mutation(), json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["extensions"]["field"], *field, "{why}");
        }
        assert_eq!(count_sets(&app).await, 0, "{why}: nothing written");
    }

    // Updating a draft: the previous configuration stays intact.
    let draft = admin.create(airline_input()).await;
    for (why, input, field) in &cases {
        let mut update = input.clone();
        if let Some(fields) = update.as_object_mut() {
            fields.insert("id".into(), draft["id"].clone());
            fields.insert("lockVersion".into(), draft["lockVersion"].clone());
        }
        let body = admin
            .gql(&update_mutation(), json!({ "input": update }))
            .await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "update, {why}: {body}"
        );
        if let Some(field) = field {
            assert_eq!(
                body["errors"][0]["extensions"]["field"], *field,
                "update, {why}"
            );
        }
        let reread = admin.get(&draft["id"]).await;
        for key in ["name", "scaleMin", "scaleMax", "lockVersion", "factors"] {
            assert_eq!(reread[key], draft[key], "update, {why}: {key} unchanged");
        }
    }
    assert_eq!(count_sets(&app).await, 1);
}

async fn a_stale_lock_version_is_a_conflict(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let other = Admin::new(&app).await;
    let draft = admin.create(airline_input()).await;

    let rename = |name: &str| json!({ "input": { "id": draft["id"], "lockVersion": draft["lockVersion"], "name": name } });
    let first = admin.gql(&update_mutation(), rename("First save")).await;
    assert_eq!(
        data(&first)["updateCsiFactorSet"]["factorSet"]["name"],
        "First save"
    );

    let second = other.gql(&update_mutation(), rename("Second save")).await;
    assert_eq!(error_code(&second), Some("CONFLICT"), "{second}");
    let reread = admin.get(&draft["id"]).await;
    assert_eq!(reread["name"], "First save");
    assert_eq!(
        reread["lockVersion"],
        first["data"]["updateCsiFactorSet"]["factorSet"]["lockVersion"]
    );
}

async fn concurrent_saves_of_one_draft_let_exactly_one_win(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let draft = admin.create(airline_input()).await;

    let mutation = update_mutation();
    let saves = (0..6).map(|i| {
        admin.gql(
            &mutation,
            json!({ "input": { "id": draft["id"],
                "lockVersion": draft["lockVersion"],
                "name": format!("Save {i}"),
                "factors": [{ "key": format!("k{i}"), "label": "K", "weight": "1" }]
            }}),
        )
    });
    let bodies = futures::future::join_all(saves).await;
    let winners: Vec<&Value> = bodies
        .iter()
        .filter(|b| b.get("errors").is_none())
        .collect();
    assert_eq!(winners.len(), 1, "{bodies:?}");
    for body in bodies.iter().filter(|b| b.get("errors").is_some()) {
        assert_eq!(error_code(body), Some("CONFLICT"), "{body}");
    }
    let reread = admin.get(&draft["id"]).await;
    assert_eq!(
        reread["name"],
        winners[0]["data"]["updateCsiFactorSet"]["factorSet"]["name"]
    );
    assert_eq!(reread["factors"].as_array().map(Vec::len), Some(1));
}

async fn concurrent_revisions_make_exactly_one_draft(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let id = admin.published_airline().await;

    let mutation = action_mutation("reviseCsiFactorSet");
    let bodies =
        futures::future::join_all((0..5).map(|_| admin.gql(&mutation, json!({ "id": id })))).await;
    let winners = bodies.iter().filter(|b| b.get("errors").is_none()).count();
    assert_eq!(winners, 1, "{bodies:?}");
    for body in bodies.iter().filter(|b| b.get("errors").is_some()) {
        assert_eq!(error_code(body), Some("CONFLICT"), "{body}");
    }
    let versions = admin.get(&id).await["versions"].clone();
    assert_eq!(
        versions,
        json!([
            { "id": id, "version": 1, "status": "PUBLISHED" },
            { "id": versions[1]["id"], "version": 2, "status": "DRAFT" },
        ])
    );
}

async fn published_versions_are_immutable_in_the_service(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let id = admin.published_airline().await;
    let before = admin.get(&id).await;

    let body = admin
        .gql(
            &update_mutation(),
            json!({ "input": { "id": id, "lockVersion": before["lockVersion"], "name": "Renamed" } }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("CONFLICT"),
        "editing a published version"
    );
    let body = admin
        .gql(&action_mutation("publishCsiFactorSet"), json!({ "id": id }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "publishing twice");

    let draft = admin.act("reviseCsiFactorSet", &id).await;
    let body = admin
        .gql(&action_mutation("reviseCsiFactorSet"), json!({ "id": id }))
        .await;
    assert_eq!(
        error_code(&body),
        Some("CONFLICT"),
        "a second draft of one family"
    );
    let body = admin
        .gql(
            &action_mutation("reviseCsiFactorSet"),
            json!({ "id": draft["id"] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "revising a draft");

    let after = admin.get(&id).await;
    for key in [
        "name",
        "status",
        "scaleMin",
        "scaleMax",
        "lockVersion",
        "factors",
    ] {
        assert_eq!(after[key], before[key], "{key} unchanged");
    }
}

async fn published_versions_are_immutable_in_the_database(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let id = id_of(&admin.published_airline().await);
    let draft = admin.create(airline_input()).await;
    let draft_id = id_of(&draft["id"]);
    let db = app.db();

    let refused = [
        format!("UPDATE csi_factors SET weight = '9' WHERE factor_set_id = {id}"),
        format!("UPDATE csi_factors SET label = 'x' WHERE factor_set_id = {id}"),
        format!("DELETE FROM csi_factors WHERE factor_set_id = {id}"),
        format!(
            "INSERT INTO csi_factors (factor_set_id, key, label, weight, position) VALUES ({id}, 'extra', 'Extra', '1', 9)"
        ),
        format!("UPDATE csi_factor_sets SET scale_max = 7 WHERE id = {id}"),
        format!("UPDATE csi_factor_sets SET name = 'Other' WHERE id = {id}"),
        format!("UPDATE csi_factor_sets SET version = 5 WHERE id = {id}"),
    ];
    for sql in &refused {
        let result = db.execute_unprepared(sql).await;
        assert!(result.is_err(), "the database accepted: {sql}");
    }
    // A draft's factors may change at the database level too.
    db.execute_unprepared(&format!(
        "UPDATE csi_factors SET weight = '0.5' WHERE factor_set_id = {draft_id}"
    ))
    .await
    .expect("drafts are editable");

    let weights: Vec<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT weight FROM csi_factors WHERE factor_set_id = {id} ORDER BY position"),
        ))
        .await
        .expect("query")
        .iter()
        .map(|row| row.try_get::<String>("", "weight").expect("weight"))
        .collect();
    assert_eq!(weights, ["0.35", "0.2", "0.35", "0.1"]);
}

async fn archiving_a_set_an_active_survey_uses_is_a_conflict(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let v1 = admin.published_airline().await;
    let v2 = admin.act("reviseCsiFactorSet", &v1).await["id"].clone();
    let survey_id = survey(&app, id_of(&v1), SurveyStatus::Active).await;

    let body = admin
        .gql(&action_mutation("archiveCsiFactorSet"), json!({ "id": v2 }))
        .await;
    assert_eq!(
        error_code(&body),
        Some("CONFLICT"),
        "any version in use blocks: {body}"
    );
    assert_eq!(admin.get(&v1).await["status"], "PUBLISHED");
    assert_eq!(admin.get(&v2).await["status"], "DRAFT");

    surveys::ActiveModel {
        id: Set(survey_id),
        status: Set(SurveyStatus::Closed.as_str().into()),
        ..Default::default()
    }
    .update(app.db())
    .await
    .expect("close survey");
    let archived = admin.act("archiveCsiFactorSet", &v2).await;
    assert_eq!(archived["status"], "ARCHIVED");
    assert_eq!(admin.get(&v1).await["status"], "ARCHIVED");
}

async fn managers_and_agents_read_but_cannot_write(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let published = admin.published_airline().await;
    let draft = admin.create(airline_input()).await;

    for role in [Role::Manager, Role::Agent] {
        let token = app.login_as(role).await;
        let as_role = |q: String, v: Value| {
            let token = token.clone();
            let app = &app;
            async move { app.graphql_as(Some(&token), &q, v).await }
        };
        let body = as_role(create_mutation(), json!({ "input": airline_input() })).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role} create");
        let body = as_role(
            update_mutation(),
            json!({ "input": { "id": draft["id"], "lockVersion": draft["lockVersion"], "name": "Mine" } }),
        )
        .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role} update");
        for action in [
            "publishCsiFactorSet",
            "reviseCsiFactorSet",
            "archiveCsiFactorSet",
        ] {
            let id = if action == "publishCsiFactorSet" {
                &draft["id"]
            } else {
                &published
            };
            let body = as_role(action_mutation(action), json!({ "id": id })).await;
            assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role} {action}");
        }

        let body = as_role(get_query(), json!({ "id": published })).await;
        assert_eq!(
            data(&body)["csiFactorSet"]["status"],
            "PUBLISHED",
            "{role} reads"
        );
        let body = as_role(
            "{ csiFactorSets { nodes { id } } csiPresets { key } }".into(),
            json!({}),
        )
        .await;
        assert_eq!(
            data(&body)["csiFactorSets"]["nodes"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        let body = as_role(
            REPORT.into(),
            json!({ "id": published, "from": "2026-01-01", "to": "2026-02-01" }),
        )
        .await;
        assert_eq!(
            data(&body)["csiReport"]["responseCount"],
            0,
            "{role} reports"
        );
    }
    assert_eq!(count_sets(&app).await, 2, "nothing written");
    assert_eq!(admin.get(&draft["id"]).await["name"], "Airline trip");

    let anonymous = app
        .graphql("{ csiFactorSets { nodes { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
}

async fn unknown_ids_are_not_found(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let unknown = crate::fixtures::api_id("CsiFactorSet", 999);
    let body = admin.gql(&get_query(), json!({ "id": unknown })).await;
    assert_eq!(body["data"]["csiFactorSet"], Value::Null, "{body}");
    assert!(
        body.get("errors").is_none(),
        "the lookup answers null: {body}"
    );
    for action in [
        "publishCsiFactorSet",
        "reviseCsiFactorSet",
        "archiveCsiFactorSet",
    ] {
        let body = admin
            .gql(&action_mutation(action), json!({ "id": unknown }))
            .await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{action}");
    }
    let body = admin
        .gql(
            &update_mutation(),
            json!({ "input": { "id": unknown, "lockVersion": 1, "name": "X" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let body = admin
        .report(&json!(unknown), "2026-01-01", "2026-02-01", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let set = admin.published_airline().await;
    let body = admin
        .report(
            &set,
            "2026-01-01",
            "2026-02-01",
            json!({ "filter": { "surveyId": crate::fixtures::api_id("Survey", 999) } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "unknown survey");
    let body = admin.gql(&get_query(), json!({ "id": "abc" })).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

async fn recording_ratings_checks_the_version_and_the_scale(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let draft = admin.create(airline_input()).await;
    let published = admin.published_airline().await;
    let when = at(2026, 1, 10, 9, 0, 0);
    let field = |result: Result<_, DomainError>| match result {
        Err(DomainError::Validation { field, .. }) => field,
        other => panic!("expected a validation error, got {other:?}"),
    };

    let on_draft = ratings::record(
        app.db(),
        id_of(&draft["id"]),
        None,
        None,
        when,
        &[("safety", 5)],
    )
    .await;
    assert!(
        matches!(on_draft, Err(DomainError::Conflict(_))),
        "{on_draft:?}"
    );
    let unknown = ratings::record(app.db(), 999, None, None, when, &[("safety", 5)]).await;
    assert!(
        matches!(unknown, Err(DomainError::NotFound(_))),
        "{unknown:?}"
    );
    let id = id_of(&published);
    assert_eq!(
        field(
            ratings::record(
                app.db(),
                id,
                None,
                None,
                when,
                &[("safety", 5), ("snacks", 6)]
            )
            .await
        ),
        "ratings.1.rating"
    );
    assert_eq!(
        field(ratings::record(app.db(), id, None, None, when, &[("safety", 0)]).await),
        "ratings.0.rating"
    );
    assert_eq!(
        field(ratings::record(app.db(), id, None, None, when, &[("wifi", 3)]).await),
        "ratings.0.factorKey"
    );
    assert_eq!(
        field(
            ratings::record(
                app.db(),
                id,
                None,
                None,
                when,
                &[("safety", 3), ("safety", 4)]
            )
            .await
        ),
        "ratings.1.factorKey"
    );
    let stored = csi_ratings::Entity::find()
        .count(app.db())
        .await
        .expect("count");
    assert_eq!(stored, 0, "nothing stored on error");

    let csi = ratings::record(
        app.db(),
        id,
        None,
        None,
        when,
        &[("on_time", 5), ("customs", 4), ("safety", 5), ("snacks", 2)],
    )
    .await
    .expect("recorded")
    .expect("an index");
    assert_eq!(csi.index.to_string(), "87.5", "SPEC §5 airline example");
    assert_eq!(csi.weighted_mean.to_string(), "4.5");
    let stored = csi_ratings::Entity::find()
        .count(app.db())
        .await
        .expect("count");
    assert_eq!(stored, 4);
    let empty = ratings::record(app.db(), id, None, None, when, &[] as &[(&str, i32)]).await;
    assert!(matches!(empty, Ok(None)));
}

/// The hand-computed data set (airline weights 0.35 / 0.20 / 0.35 / 0.10, scale 1..5):
/// - A, 2026-01-10: on_time 5, customs 4, safety 5, snacks 2
/// - B, 2026-01-20: on_time 3, customs 2 (safety and snacks not answered)
/// - (February: nothing)
/// - C, 2026-03-31 23:59:59: on_time 4, safety 4, snacks 5 (customs not answered)
/// - D, 2025-12-15 (previous period): every factor 3
/// - E, 2026-04-01 00:00:00: every factor 1 (outside `[from, to)`)
async fn seed_data_set(app: &TestApp, set: &Value) -> (i64, i64, i64) {
    let vip = customer(app, "Vera", RelationshipType::SelfService, Some("vip")).await;
    let other = customer(app, "Otto", RelationshipType::PersonalAssistance, None).await;
    let survey_id = survey(app, id_of(set), SurveyStatus::Active).await;
    let b_response = response(app, survey_id, other, at(2026, 1, 20, 12, 0, 0)).await;

    rate(
        app,
        set,
        None,
        Some(vip),
        at(2026, 1, 10, 8, 30, 0),
        &[("on_time", 5), ("customs", 4), ("safety", 5), ("snacks", 2)],
    )
    .await;
    rate(
        app,
        set,
        Some(b_response),
        Some(other),
        at(2026, 1, 20, 12, 0, 0),
        &[("on_time", 3), ("customs", 2)],
    )
    .await;
    rate(
        app,
        set,
        None,
        None,
        at(2026, 3, 31, 23, 59, 59),
        &[("on_time", 4), ("safety", 4), ("snacks", 5)],
    )
    .await;
    rate(
        app,
        set,
        None,
        None,
        at(2025, 12, 15, 10, 0, 0),
        &[("on_time", 3), ("customs", 3), ("safety", 3), ("snacks", 3)],
    )
    .await;
    rate(
        app,
        set,
        None,
        None,
        at(2026, 4, 1, 0, 0, 0),
        &[("on_time", 1), ("customs", 1), ("safety", 1), ("snacks", 1)],
    )
    .await;
    (vip, other, survey_id)
}

/// Weights 1/2/3 (listed lightest first) whose exact priorities are all 25/3:
/// the tie goes to the heavier factor, and every priority shows 8.3333. From
/// the rounded normalised weights (0.1667, 0.3333, 0.5) and rounded scores
/// they would be 8.335, 8.3325 and 8.3334, ranked light, heavy, mid.
/// A trend delta is the rounded difference of unrounded indices.
async fn tied_priorities_go_to_the_heavier_factor_and_figures_round_once(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let set = admin
        .create(json!({
            "name": "Ties",
            "factors": [
                { "key": "light", "label": "Light", "weight": "1" },
                { "key": "mid", "label": "Mid", "weight": "2" },
                { "key": "heavy", "label": "Heavy", "weight": "3" },
            ]
        }))
        .await;
    let set = admin.act("publishCsiFactorSet", &set["id"]).await["id"].clone();
    // heavy 5,4,4 (mean 13/3, shortfall 50/3); mid 4,4,4 (shortfall 25);
    // light 3,3,3 (shortfall 50): 3/6·50/3 = 2/6·25 = 1/6·50 = 25/3.
    for (heavy, mid, light) in [(5, 4, 3), (4, 4, 3), (4, 4, 3)] {
        rate(
            &app,
            &set,
            None,
            None,
            at(2026, 3, 10, 12, 0, 0),
            &[("heavy", heavy), ("mid", mid), ("light", light)],
        )
        .await;
    }
    let body = admin
        .report(&set, "2026-03-01", "2026-04-01", json!({}))
        .await;
    let report = &data(&body)["csiReport"];
    assert_eq!(
        report["factors"],
        json!([
            { "key": "heavy", "weight": "3", "normalizedWeight": "0.5", "ratingCount": 3, "mean": "4.3333", "score": "83.3333", "priorityScore": "8.3333", "priority": 1 },
            { "key": "mid", "weight": "2", "normalizedWeight": "0.3333", "ratingCount": 3, "mean": "4", "score": "75", "priorityScore": "8.3333", "priority": 2 },
            { "key": "light", "weight": "1", "normalizedWeight": "0.1667", "ratingCount": 3, "mean": "3", "score": "50", "priorityScore": "8.3333", "priority": 3 },
        ]),
        "{report}"
    );
    // 100 − (3·50/3 + 2·25 + 1·50) / 6 = 75.
    assert_eq!(report["index"], "75");

    // One factor: March 2,2,3 → 25·4/3 = 33.3333…; February (the previous
    // 31 days) 1,2,2 → 25·2/3 = 16.6666…. Delta 16.6666… → 16.6667, where
    // subtracting the rounded indices would give 16.6666.
    let single = admin
        .create(json!({
            "name": "Single",
            "factors": [{ "key": "only", "label": "Only", "weight": "1" }]
        }))
        .await;
    let single = admin.act("publishCsiFactorSet", &single["id"]).await["id"].clone();
    for (day, rating) in [(10, 2), (11, 2), (12, 3)] {
        rate(
            &app,
            &single,
            None,
            None,
            at(2026, 3, day, 9, 0, 0),
            &[("only", rating)],
        )
        .await;
    }
    for (day, rating) in [(10, 1), (11, 2), (12, 2)] {
        rate(
            &app,
            &single,
            None,
            None,
            at(2026, 2, day, 9, 0, 0),
            &[("only", rating)],
        )
        .await;
    }
    let body = admin
        .report(&single, "2026-03-01", "2026-04-01", json!({}))
        .await;
    let report = &data(&body)["csiReport"];
    assert_eq!(report["index"], "33.3333");
    assert_eq!(report["previousPeriod"]["index"], "16.6667");
    assert_eq!(report["previousPeriod"]["delta"], "16.6667", "{report}");
    assert_eq!(report["factors"][0]["priorityScore"], "66.6667");
}

async fn report_is_exact_on_a_hand_computed_data_set(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let set = admin.published_airline().await;
    seed_data_set(&app, &set).await;

    let body = admin
        .report(&set, "2026-01-01", "2026-04-01", json!({ "g": "MONTH" }))
        .await;
    let report = &data(&body)["csiReport"];
    // Means: on_time 12/3 = 4 (75), customs 6/2 = 3 (50), safety 9/2 = 4.5 (87.5),
    // snacks 7/2 = 3.5 (62.5); index = .35·75 + .2·50 + .35·87.5 + .1·62.5 = 73.125.
    assert_eq!(report["index"], "73.125");
    assert_eq!(report["weightedMean"], "3.925");
    assert_eq!(report["responseCount"], 3);
    assert_eq!(report["ratingCount"], 9);
    // Priority = normalizedWeight × (100 − score): customs 10, on_time 8.75,
    // safety 4.375, snacks 3.75.
    assert_eq!(
        report["factors"],
        json!([
            { "key": "customs", "weight": "0.2", "normalizedWeight": "0.2", "ratingCount": 2, "mean": "3", "score": "50", "priorityScore": "10", "priority": 1 },
            { "key": "on_time", "weight": "0.35", "normalizedWeight": "0.35", "ratingCount": 3, "mean": "4", "score": "75", "priorityScore": "8.75", "priority": 2 },
            { "key": "safety", "weight": "0.35", "normalizedWeight": "0.35", "ratingCount": 2, "mean": "4.5", "score": "87.5", "priorityScore": "4.375", "priority": 3 },
            { "key": "snacks", "weight": "0.1", "normalizedWeight": "0.1", "ratingCount": 2, "mean": "3.5", "score": "62.5", "priorityScore": "3.75", "priority": 4 },
        ])
    );
    // January: .35·75 + .2·50 + .35·100 + .1·25 = 73.75; February empty;
    // March without customs: (.35·75 + .35·75 + .1·100) / .8 = 78.125.
    assert_eq!(
        report["trend"],
        json!([
            { "period": "2026-01", "start": "2026-01-01", "end": "2026-02-01", "index": "73.75", "weightedMean": "3.95", "responseCount": 2, "ratingCount": 6 },
            { "period": "2026-02", "start": "2026-02-01", "end": "2026-03-01", "index": null, "weightedMean": null, "responseCount": 0, "ratingCount": 0 },
            { "period": "2026-03", "start": "2026-03-01", "end": "2026-04-01", "index": "78.125", "weightedMean": "4.125", "responseCount": 1, "ratingCount": 3 },
        ])
    );
    // 90 days before 2026-01-01: D alone, every factor 3 → 50.
    assert_eq!(
        report["previousPeriod"],
        json!({ "from": "2025-10-03", "to": "2026-01-01", "index": "50", "weightedMean": "3", "responseCount": 1, "delta": "23.125" })
    );

    // A partial month is clipped to the period.
    let body = admin
        .report(&set, "2026-01-15", "2026-02-10", json!({}))
        .await;
    let report = &data(&body)["csiReport"];
    assert_eq!(report["trend"][0]["start"], "2026-01-15");
    assert_eq!(report["trend"][1]["end"], "2026-02-10");
    assert_eq!(report["responseCount"], 1);
    // B alone: (.35·50 + .2·25) / .55 = 40.9090…; unrated factors rank last.
    assert_eq!(report["index"], "40.9091");
    assert_eq!(report["factors"][2]["priority"], 3);
    assert_eq!(report["factors"][2]["mean"], Value::Null);
    assert_eq!(
        report["factors"][2]["key"], "safety",
        "heavier unrated factor first"
    );
}

async fn report_filters_by_tag_relationship_type_and_survey(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let set = admin.published_airline().await;
    let (_, _, survey_id) = seed_data_set(&app, &set).await;
    let index_with = |filter: Value| {
        let admin = &admin;
        let set = set.clone();
        async move {
            let body = admin
                .report(
                    &set,
                    "2026-01-01",
                    "2026-04-01",
                    json!({ "filter": filter }),
                )
                .await;
            let report = &data(&body)["csiReport"];
            (report["index"].clone(), report["responseCount"].clone())
        }
    };
    // A alone is the airline example: 87.5.
    assert_eq!(
        index_with(json!({ "tag": "vip" })).await,
        (json!("87.5"), json!(1))
    );
    assert_eq!(
        index_with(json!({ "relationshipType": "SELF_SERVICE" })).await,
        (json!("87.5"), json!(1))
    );
    assert_eq!(
        index_with(json!({ "relationshipType": "COMMUNITY" })).await,
        (Value::Null, json!(0))
    );
    assert_eq!(
        index_with(json!({ "surveyId": crate::fixtures::api_id("Survey", survey_id) })).await,
        (json!("40.9091"), json!(1))
    );
    assert_eq!(
        index_with(
            json!({ "tag": "vip", "surveyId": crate::fixtures::api_id("Survey", survey_id) })
        )
        .await,
        (Value::Null, json!(0)),
        "criteria combine"
    );
    let body = admin
        .report(
            &set,
            "2026-01-01",
            "2026-04-01",
            json!({ "filter": { "relationshipType": "FRIENDS" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "filter.relationshipType"
    );
}

async fn report_rolls_up_by_quarter_and_year(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let set = admin.published_airline().await;
    seed_data_set(&app, &set).await;

    let body = admin
        .report(&set, "2025-10-01", "2026-07-01", json!({ "g": "QUARTER" }))
        .await;
    let trend = &data(&body)["csiReport"]["trend"];
    let points: Vec<(Value, Value, Value)> = trend
        .as_array()
        .expect("trend")
        .iter()
        .map(|p| {
            (
                p["period"].clone(),
                p["index"].clone(),
                p["responseCount"].clone(),
            )
        })
        .collect();
    assert_eq!(
        points,
        [
            (json!("2025-Q4"), json!("50"), json!(1)),
            (json!("2026-Q1"), json!("73.125"), json!(3)),
            (json!("2026-Q2"), json!("0"), json!(1)),
        ]
    );

    let body = admin
        .report(&set, "2025-01-01", "2027-01-01", json!({ "g": "YEAR" }))
        .await;
    let report = &data(&body)["csiReport"];
    assert_eq!(report["trend"][0]["period"], "2025");
    assert_eq!(report["trend"][1]["period"], "2026");
    assert_eq!(report["trend"][1]["responseCount"], 4);
    assert_eq!(report["responseCount"], 5);
}

async fn a_revision_leaves_the_old_versions_report_unchanged(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let v1 = admin.published_airline().await;
    seed_data_set(&app, &v1).await;
    let before = admin
        .report(&v1, "2026-01-01", "2026-04-01", json!({}))
        .await;
    assert_eq!(data(&before)["csiReport"]["index"], "73.125");

    let draft = admin.act("reviseCsiFactorSet", &v1).await;
    let body = admin
        .gql(
            &update_mutation(),
            json!({ "input": { "id": draft["id"], "lockVersion": draft["lockVersion"], "factors": [
                { "key": "on_time", "label": "On-time departure", "weight": "1" },
                { "key": "customs", "label": "Fast customs", "weight": "1" },
                { "key": "safety", "label": "Safety", "weight": "1" },
                { "key": "snacks", "label": "Snacks", "weight": "1" },
            ] } }),
        )
        .await;
    data(&body);
    let v2 = admin.act("publishCsiFactorSet", &draft["id"]).await["id"].clone();
    rate(
        &app,
        &v2,
        None,
        None,
        at(2026, 2, 2, 10, 0, 0),
        &[("on_time", 5), ("customs", 1)],
    )
    .await;

    let after = admin
        .report(&v1, "2026-01-01", "2026-04-01", json!({}))
        .await;
    assert_eq!(after, before, "the old version's report never changes");
    let body = admin
        .report(&v2, "2026-01-01", "2026-04-01", json!({}))
        .await;
    let report = &data(&body)["csiReport"];
    // Equal weights over on_time (100) and customs (0).
    assert_eq!(report["index"], "50");
    assert_eq!(report["responseCount"], 1);
}

async fn no_ratings_give_a_null_index_and_bad_periods_are_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let set = admin.published_airline().await;

    let body = admin
        .report(&set, "2026-01-01", "2026-03-01", json!({}))
        .await;
    let report = &data(&body)["csiReport"];
    assert_eq!(report["index"], Value::Null);
    assert_eq!(report["weightedMean"], Value::Null);
    assert_eq!(report["responseCount"], 0);
    assert_eq!(report["trend"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["trend"][1]["index"], Value::Null);
    assert_eq!(report["previousPeriod"]["delta"], Value::Null);
    assert!(report["factors"]
        .as_array()
        .expect("factors")
        .iter()
        .all(|f| f["score"].is_null() && f["mean"].is_null()));

    let body = admin
        .report(&set, "2026-03-01", "2026-01-01", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "from");
    let body = admin
        .report(&set, "2026-02-30", "2026-03-01", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "not a date");
    let body = admin
        .report(&set, "1900-01-01", "2026-03-01", json!({}))
        .await;
    assert_eq!(
        error_code(&body),
        Some("BAD_USER_INPUT"),
        "too many periods"
    );
    let body = admin
        .report(&set, "2026-01-01", "2026-01-01", json!({}))
        .await;
    assert_eq!(
        data(&body)["csiReport"]["trend"],
        json!([]),
        "an empty period"
    );
}

async fn reports_and_lists_cost_a_constant_number_of_statements(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = Admin::new(&app).await;
    let set = admin.published_airline().await;
    seed_data_set(&app, &set).await;

    let statements_of = |query: &'static str, vars: Value| {
        let admin = &admin;
        let app = &app;
        async move {
            let before = app.statements();
            data(&admin.gql(query, vars).await);
            app.statements() - before
        }
    };
    let one_month = statements_of(
        REPORT,
        json!({ "id": set, "from": "2026-01-01", "to": "2026-02-01" }),
    )
    .await;
    let two_years = statements_of(
        REPORT,
        json!({ "id": set, "from": "2025-01-01", "to": "2027-01-01" }),
    )
    .await;
    assert_eq!(
        one_month, two_years,
        "a report's cost does not grow with its period"
    );
    // The report's period is read in one slice per core (at most
    // MAX_SLICES), side by side.
    let slices = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, domain::csi::report::MAX_SLICES);
    assert!(one_month <= 7 + slices as u64, "{one_month} statements");

    const LIST: &str = "{ csiFactorSets(first: 100) { nodes { id factors { key } versions { id factors { key } } } } }";
    let few = statements_of(LIST, json!({})).await;
    for _ in 0..5 {
        let id = admin.published_airline().await;
        admin.act("reviseCsiFactorSet", &id).await;
    }
    let many = statements_of(LIST, json!({})).await;
    assert_eq!(few, many, "versions load through a batch, not per set");
}
