//! `csiReportPreview` over HTTP: a published version's ratings under a
//! draft's weights, checked against an independent computation in exact
//! decimal arithmetic on generated ratings; nothing written; bad drafts
//! refused with `BAD_USER_INPUT` naming `draftId`; agents refused.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use domain::auth::Role;
use domain::csi::ratings;
use entity::survey_responses;
use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QueryOrder, Set};
use serde_json::{json, Value};

use crate::csi::{customer, id_of, response, survey};
use crate::fixtures::{RelationshipType, SurveyStatus};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};
use crate::metrics::Lcg;

on_both_engines!(
    a_preview_applies_the_drafts_weights_to_the_published_ratings_exactly,
    bad_drafts_are_refused_naming_the_argument,
    agents_may_not_preview_weights,
);

const REPORT_FIELDS: &str = "index weightedMean responseCount ratingCount
    factors { key label weight normalizedWeight ratingCount mean score priorityScore priority }
    trend { period start end index weightedMean responseCount ratingCount }
    previousPeriod { from to index weightedMean responseCount delta }";

fn report_query() -> String {
    format!(
        "query($id: ID!, $from: Date!, $to: Date!) {{
          csiReport(factorSetId: $id, from: $from, to: $to, granularity: MONTH) {{ {REPORT_FIELDS} }} }}"
    )
}

fn preview_query() -> String {
    format!(
        "query($id: ID!, $draft: ID!, $from: Date!, $to: Date!) {{
          csiReportPreview(factorSetId: $id, draftId: $draft, from: $from, to: $to, granularity: MONTH) {{
            published {{ factorSet {{ id }} {REPORT_FIELDS} }}
            preview {{ factorSet {{ id }} {REPORT_FIELDS} }}
            indexDelta weightedMeanDelta previousPeriodIndexDelta
            trend {{ period start end publishedIndex previewIndex indexDelta responseCount }}
            factors {{ key label change normalizedWeightDelta priorityChange
                       published {{ priority }} preview {{ priority ratingCount mean }} }}
          }} }}"
    )
}

const SET: &str = "mutation($input: CreateCsiFactorSetInput!) { createCsiFactorSet(input: $input) { factorSet { id lockVersion } } }";
const PUBLISH: &str =
    "mutation($id: ID!) { publishCsiFactorSet(input: { id: $id }) { factorSet { id } } }";
const REVISE: &str = "mutation($id: ID!) { reviseCsiFactorSet(input: { id: $id }) { factorSet { id lockVersion } } }";
const UPDATE: &str = "mutation($input: UpdateCsiFactorSetInput!) { updateCsiFactorSet(input: $input) { factorSet { id lockVersion } } }";
const GET: &str = "query($id: ID!) { csiFactorSet(id: $id) { id status lockVersion scaleMin scaleMax factors { key weight } } }";

/// The published weights (the airline example of SPEC §5).
const PUBLISHED: [(&str, &str); 4] = [
    ("on_time", "0.35"),
    ("customs", "0.20"),
    ("safety", "0.35"),
    ("snacks", "0.10"),
];
/// The draft: other weights, `snacks` removed, `wifi` added (no ratings).
const DRAFT: [(&str, &str); 4] = [
    ("on_time", "0.5"),
    ("customs", "0.1"),
    ("safety", "0.25"),
    ("wifi", "0.15"),
];

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn factors(weights: &[(&str, &str)]) -> Value {
    weights
        .iter()
        .map(
            |(key, weight)| json!({ "key": key, "label": key.replace('_', " "), "weight": weight }),
        )
        .collect()
}

async fn gql(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    app.graphql_as(Some(token), query, variables).await
}

/// A published set with `weights`, and a draft revision of it with
/// `draft_weights`; returns (published id, draft id).
async fn family(
    app: &TestApp,
    admin: &str,
    weights: &[(&str, &str)],
    draft_weights: &[(&str, &str)],
) -> (Value, Value) {
    let body = gql(
        app,
        admin,
        SET,
        json!({ "input": { "name": "Airline trip", "factors": factors(weights) } }),
    )
    .await;
    let published = data(&body)["createCsiFactorSet"]["factorSet"]["id"].clone();
    data(&gql(app, admin, PUBLISH, json!({ "id": published })).await);
    let body = gql(app, admin, REVISE, json!({ "id": published })).await;
    let draft = data(&body)["reviseCsiFactorSet"]["factorSet"].clone();
    let body = gql(
        app,
        admin,
        UPDATE,
        json!({ "input": { "id": draft["id"], "lockVersion": draft["lockVersion"], "factors": factors(draft_weights) } }),
    )
    .await;
    data(&body);
    (published, draft["id"].clone())
}

/// Sums per factor key: (Σ ratings, count).
type Sums = BTreeMap<&'static str, (i64, i64)>;

/// Generated survey responses to the published set, each stored with its CSI
/// as the surveys area stores it. December 2025 lies in the previous period;
/// in February only `snacks` (which the draft removes) is rated.
/// Returns the sums per month label and of the previous period.
async fn seed(app: &TestApp, published: &Value) -> (BTreeMap<String, Sums>, Sums) {
    let survey = survey(app, id_of(published), SurveyStatus::Active).await;
    // Generated ratings: data, not constants the expected figures were
    // worked out from.
    let mut rng = Lcg(0x5EED_CAFE);
    let mut months: BTreeMap<String, Sums> = BTreeMap::new();
    let mut previous = Sums::new();
    for k in 0..40u32 {
        let (year, month) = [(2025, 12), (2026, 1), (2026, 2), (2026, 3)][(k % 4) as usize];
        let when = at(year, month, 1 + k % 27, 9 + k % 10);
        let keys: &[&'static str] = if month == 2 {
            &["snacks"]
        } else {
            &["on_time", "customs", "safety", "snacks"]
        };
        let mut given: Vec<(&'static str, i32)> = Vec::new();
        for key in keys {
            // About one factor in five is skipped.
            let (skip, rating) = (rng.next(5) == 0, 1 + rng.next(5) as i32);
            if !skip {
                given.push((key, rating));
            }
        }
        if given.is_empty() {
            given.push((keys[0], 1 + rng.next(5) as i32));
        }
        // One invitation, hence one customer, per response.
        let customer = customer(
            app,
            &format!("Customer {k}"),
            RelationshipType::SelfService,
            None,
        )
        .await;
        let response_id = response(app, survey, customer, when).await;
        let value = ratings::record(
            app.db(),
            id_of(published),
            Some(response_id),
            Some(customer),
            when,
            &given,
        )
        .await
        .expect("ratings recorded")
        .expect("a CSI");
        let mut row = survey_responses::Entity::find_by_id(response_id)
            .one(app.db())
            .await
            .expect("read")
            .expect("response")
            .into_active_model();
        row.csi = Set(Some(value.index.to_string()));
        row.weighted_mean = Set(Some(value.weighted_mean.to_string()));
        row.factor_set_id = Set(Some(id_of(published)));
        row.update(app.db()).await.expect("stored CSI");

        let sums = if year == 2025 {
            &mut previous
        } else {
            months.entry(format!("{year:04}-{month:02}")).or_default()
        };
        for (key, rating) in given {
            let entry = sums.entry(key).or_default();
            entry.0 += i64::from(rating);
            entry.1 += 1;
        }
    }
    (months, previous)
}

fn at(y: i32, m: u32, day: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, 0, 0)
        .single()
        .expect("valid time")
}

/// SPEC §5's index over `sums` under `weights` (scale 1..5), computed
/// independently of the server as one fraction, divided once; `None` when no
/// weighted factor was rated. With `L = Π nᵢ` over the rated factors:
/// `100 · Σ wᵢ·(Tᵢ − 1·nᵢ)·(L/nᵢ) / (4 · L · Σ wᵢ)`.
fn exact_index(sums: &Sums, weights: &[(&str, &str)]) -> Option<Decimal> {
    let rated: Vec<(Decimal, i64, i64)> = weights
        .iter()
        .filter_map(|(key, w)| sums.get(key).map(|&(total, n)| (d(w), total, n)))
        .filter(|(_, _, n)| *n > 0)
        .collect();
    if rated.is_empty() {
        return None;
    }
    let common: i64 = rated.iter().map(|(_, _, n)| n).product();
    let numerator: Decimal = rated
        .iter()
        .map(|(w, total, n)| *w * Decimal::from((total - n) * (common / n)))
        .sum();
    let weight: Decimal = rated.iter().map(|(w, _, _)| *w).sum();
    Some(Decimal::ONE_HUNDRED * numerator / (Decimal::from(4 * common) * weight))
}

/// Rounded once: 4 places, half away from zero, no trailing zeros.
fn shown(value: Option<Decimal>) -> Value {
    match value {
        Some(v) => json!(v
            .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
            .normalize()
            .to_string()),
        None => Value::Null,
    }
}

fn delta(now: Option<Decimal>, was: Option<Decimal>) -> Value {
    match (now, was) {
        (Some(now), Some(was)) => shown(Some(now - was)),
        _ => Value::Null,
    }
}

fn totals(months: &BTreeMap<String, Sums>) -> Sums {
    let mut out = Sums::new();
    for sums in months.values() {
        for (key, (total, n)) in sums {
            let entry = out.entry(key).or_default();
            entry.0 += total;
            entry.1 += n;
        }
    }
    out
}

async fn stored_csi(app: &TestApp) -> Vec<(i64, Option<String>, Option<String>)> {
    survey_responses::Entity::find()
        .order_by_asc(survey_responses::Column::Id)
        .all(app.db())
        .await
        .expect("responses")
        .into_iter()
        .map(|r| (r.id, r.csi, r.weighted_mean))
        .collect()
}

async fn a_preview_applies_the_drafts_weights_to_the_published_ratings_exactly(engine: Engine) {
    // Arrange: a published set with generated ratings, and a draft with other
    // weights, one factor removed and one added.
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let manager = app.login_as(Role::Manager).await;
    let (published, draft) = family(&app, &admin, &PUBLISHED, &DRAFT).await;
    let (months, previous) = seed(&app, &published).await;
    let period = json!({ "id": published, "from": "2026-01-01", "to": "2026-04-01" });
    let report_before = gql(&app, &manager, &report_query(), period.clone()).await;
    let sets_before = (
        gql(&app, &admin, GET, json!({ "id": published })).await,
        gql(&app, &admin, GET, json!({ "id": draft })).await,
    );
    let csi_before = stored_csi(&app).await;

    // Act
    let mut vars = period.clone();
    vars["draft"] = draft.clone();
    let before = app.statements();
    let body = gql(&app, &manager, &preview_query(), vars).await;
    let preview_statements = app.statements() - before;
    let answer = &data(&body)["csiReportPreview"];

    // Assert: the published side is csiReport's answer.
    let mut published_side = answer["published"].clone();
    assert_eq!(published_side["factorSet"]["id"], published);
    if let Some(side) = published_side.as_object_mut() {
        side.remove("factorSet");
    }
    assert_eq!(
        published_side,
        data(&report_before)["csiReport"].clone(),
        "the published side equals csiReport"
    );
    assert_eq!(answer["preview"]["factorSet"]["id"], draft);

    // The indices, overall, per month and in the previous period, equal the
    // independent computation under each weighting.
    let all = totals(&months);
    let (was, now) = (exact_index(&all, &PUBLISHED), exact_index(&all, &DRAFT));
    assert_eq!(answer["published"]["index"], shown(was), "published index");
    assert_eq!(answer["preview"]["index"], shown(now), "preview index");
    assert_eq!(answer["indexDelta"], delta(now, was), "index delta");
    assert!(answer["indexDelta"].is_string(), "{answer}");
    assert_ne!(answer["indexDelta"], json!("0"), "the weights matter here");
    let (prev_was, prev_now) = (
        exact_index(&previous, &PUBLISHED),
        exact_index(&previous, &DRAFT),
    );
    assert_eq!(
        answer["preview"]["previousPeriod"]["index"],
        shown(prev_now)
    );
    assert_eq!(
        answer["previousPeriodIndexDelta"],
        delta(prev_now, prev_was)
    );
    assert_eq!(
        answer["preview"]["previousPeriod"]["delta"],
        delta(now, prev_now),
        "the preview's own change since the previous period"
    );
    let trend = answer["trend"].as_array().expect("trend");
    let labels: Vec<&str> = trend.iter().filter_map(|p| p["period"].as_str()).collect();
    assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
    for (point, preview_point) in trend.iter().zip(
        answer["preview"]["trend"]
            .as_array()
            .expect("preview trend"),
    ) {
        let month = point["period"].as_str().expect("label");
        let sums = &months[month];
        let (was, now) = (exact_index(sums, &PUBLISHED), exact_index(sums, &DRAFT));
        assert_eq!(point["publishedIndex"], shown(was), "{month} published");
        assert_eq!(point["previewIndex"], shown(now), "{month} preview");
        assert_eq!(preview_point["index"], shown(now), "{month} preview trend");
        assert_eq!(point["indexDelta"], delta(now, was), "{month} delta");
    }
    // February rated only the removed factor: no preview index there.
    assert_eq!(trend[1]["previewIndex"], Value::Null);
    assert!(trend[1]["publishedIndex"].is_string());

    // Factors: the draft's in its priority order, `wifi` without data and
    // last, `snacks` removed; priority changes are rank differences.
    let lines = answer["factors"].as_array().expect("factors");
    let keys: Vec<&str> = lines.iter().filter_map(|f| f["key"].as_str()).collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert_eq!(keys[3], "wifi");
    assert_eq!(keys[4], "snacks");
    assert_eq!(lines[3]["change"], "ADDED");
    assert_eq!(lines[3]["preview"]["ratingCount"], 0);
    assert_eq!(lines[3]["preview"]["mean"], Value::Null);
    assert_eq!(lines[3]["preview"]["priority"], 4);
    assert_eq!(lines[3]["published"], Value::Null);
    assert_eq!(lines[4]["change"], "REMOVED");
    assert_eq!(lines[4]["preview"], Value::Null);
    for line in &lines[..3] {
        assert_eq!(line["change"], "KEPT", "{line}");
        let key = line["key"].as_str().expect("key");
        let rank = |side: &str| line[side]["priority"].as_i64().expect("rank");
        assert_eq!(line["priorityChange"], rank("published") - rank("preview"));
        // Exact shares: w / Σ w of each version, subtracted, rounded once.
        let share = |weights: &[(&str, &str)]| {
            let total: Decimal = weights.iter().map(|(_, w)| d(w)).sum();
            weights
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, w)| d(w) / total)
                .expect("kept")
        };
        assert_eq!(
            line["normalizedWeightDelta"],
            shown(Some(share(&DRAFT) - share(&PUBLISHED))),
            "{key}"
        );
    }
    // The draft's ranks follow the exact priorities w/Σw · (100 − score).
    let draft_total: Decimal = DRAFT.iter().map(|(_, w)| d(w)).sum();
    let mut expected: Vec<(Decimal, &str)> = DRAFT
        .iter()
        .filter_map(|(key, w)| {
            all.get(key).map(|&(total, n)| {
                (
                    d(w) * Decimal::from(5 * n - total) / (Decimal::from(4 * n) * draft_total),
                    *key,
                )
            })
        })
        .collect();
    expected.sort_by_key(|(priority, _)| std::cmp::Reverse(*priority));
    let expected: Vec<&str> = expected.into_iter().map(|(_, key)| key).collect();
    assert_eq!(keys[..3], expected[..], "preview priority order");

    // It costs the published report's statements plus loading the draft.
    let before = app.statements();
    data(&gql(&app, &manager, &report_query(), period.clone()).await);
    let report_statements = app.statements() - before;
    assert_eq!(
        preview_statements,
        report_statements + 2,
        "the same aggregates as csiReport"
    );

    // Nothing changed: the published report, both versions, stored CSI.
    let report_after = gql(&app, &manager, &report_query(), period).await;
    assert_eq!(report_after, report_before, "csiReport unchanged");
    let sets_after = (
        gql(&app, &admin, GET, json!({ "id": published })).await,
        gql(&app, &admin, GET, json!({ "id": draft })).await,
    );
    assert_eq!(sets_after, sets_before, "versions unchanged");
    assert_eq!(
        stored_csi(&app).await,
        csi_before,
        "stored response CSI unchanged"
    );
    assert_eq!(csi_before.len(), 40);
}

async fn bad_drafts_are_refused_naming_the_argument(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let (published, draft) = family(&app, &admin, &PUBLISHED, &DRAFT).await;
    let (other_published, other_draft) = family(&app, &admin, &PUBLISHED, &DRAFT).await;
    let preview = |id: Value, draft: Value| {
        let app = &app;
        let admin = &admin;
        async move {
            gql(
                app,
                admin,
                "query($id: ID!, $draft: ID!) { csiReportPreview(factorSetId: $id, draftId: $draft, from: \"2026-01-01\", to: \"2026-04-01\") { indexDelta } }",
                json!({ "id": id, "draft": draft }),
            )
            .await
        }
    };
    let refused = |body: &Value, field: &str, case: &str| {
        assert_eq!(error_code(body), Some("BAD_USER_INPUT"), "{case}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{case}");
    };

    // The right pair is accepted.
    data(&preview(published.clone(), draft.clone()).await);
    refused(
        &preview(published.clone(), other_draft.clone()).await,
        "draftId",
        "a draft of another family",
    );
    refused(
        &preview(published.clone(), published.clone()).await,
        "draftId",
        "the published version given as the draft",
    );
    refused(
        &preview(published.clone(), other_published.clone()).await,
        "draftId",
        "a published version of another family",
    );
    refused(
        &preview(draft.clone(), draft.clone()).await,
        "factorSetId",
        "a draft given as the published version",
    );

    // A draft on another scale.
    let body = gql(&app, &admin, GET, json!({ "id": draft })).await;
    let lock = data(&body)["csiFactorSet"]["lockVersion"].clone();
    let body = gql(
        &app,
        &admin,
        UPDATE,
        json!({ "input": { "id": draft, "lockVersion": lock, "scaleMin": 0, "scaleMax": 10 } }),
    )
    .await;
    data(&body);
    refused(
        &preview(published.clone(), draft.clone()).await,
        "draftId",
        "a draft whose scale differs",
    );

    // Unknown ids.
    let body = preview(
        published,
        json!(crate::fixtures::api_id("CsiFactorSet", 987_654_321)),
    )
    .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
}

async fn agents_may_not_preview_weights(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let agent = app.login_as(Role::Agent).await;
    let (published, draft) = family(&app, &admin, &PUBLISHED, &DRAFT).await;
    let vars = json!({ "id": published, "draft": draft, "from": "2026-01-01", "to": "2026-04-01" });
    let body = gql(&app, &agent, &preview_query(), vars.clone()).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    // Agents still read the published report.
    let vars = json!({ "id": published, "from": "2026-01-01", "to": "2026-04-01" });
    let body = gql(&app, &agent, &report_query(), vars).await;
    data(&body);
}
