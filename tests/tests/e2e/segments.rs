//! Segments and the survey trend over HTTP: `CsiReport.segments` and
//! `SurveyResults.segments` split by relationship type, stage, tier and tag
//! with hidden values worked out by hand (docs/csi.md#segments), the
//! suppression boundary (4 responses suppressed, 5 shown; a lone small
//! segment takes the next smallest with it; `minResponses` below 5 refused),
//! tag overlap; and `SurveyResults.trend` against
//! `tests/fixtures/confidence/survey_trend.py` (formulas, standard library).

use chrono::{DateTime, Utc};
use domain::auth::Role;
use domain::csi::ratings;
use domain::loyalty::LedgerReason;
use entity::{loyalty_tiers, survey_answers};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{json, Value};

use crate::csi::{id_of, response, survey};
use crate::fixtures::{
    append_entry, at, db_key, insert_membership, question, CustomerBuilder, ProgramBuilder,
    QuestionKind, RelationshipType, Stage, SurveyBuilder, SurveyStatus,
};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    csi_and_survey_segments_show_hidden_values_and_suppress_small_ones,
    a_factor_rated_twice_in_one_response_counts_each_rating,
    survey_trend_tests_each_step_like_the_formula_script,
);

const SET: &str = "mutation($input: CreateCsiFactorSetInput!) { createCsiFactorSet(input: $input) { factorSet { id } } }";
const PUBLISH: &str =
    "mutation($id: ID!) { publishCsiFactorSet(input: { id: $id }) { factorSet { id } } }";

/// One group of customers: relationship type, stage, tags, lifetime points
/// in the club (none: not a member), and per customer the quality and price
/// ratings (the survey's RATING answer is the quality rating, its NPS answer
/// twice it).
struct Group {
    kind: RelationshipType,
    stage: Stage,
    tags: &'static [&'static str],
    points: Option<i64>,
    quality: &'static [i32],
    price: &'static [i32],
}

const GROUPS: &[Group] = &[
    Group {
        kind: RelationshipType::SelfService,
        stage: Stage::Commitment,
        tags: &["vip"],
        points: Some(150),
        quality: &[5, 4, 4, 3, 5],
        price: &[3, 3, 4, 2, 4],
    },
    Group {
        kind: RelationshipType::Community,
        stage: Stage::Commitment,
        tags: &["vip", "north"],
        points: None,
        quality: &[2, 3, 2, 3],
        price: &[4, 5, 4, 5],
    },
    Group {
        kind: RelationshipType::CoCreation,
        stage: Stage::Exploration,
        tags: &["north"],
        points: None,
        quality: &[1, 2, 3],
        price: &[1, 1, 2],
    },
    Group {
        kind: RelationshipType::AutomatedService,
        stage: Stage::Expansion,
        tags: &[],
        points: Some(10),
        quality: &[4, 4, 4, 4, 5, 5],
        price: &[5, 4, 5, 4, 5, 4],
    },
];

/// Stores the groups' customers, their club memberships, their CSI ratings
/// (through responses to a survey of `set`) and their answers to `rated`
/// (RATING, NPS questions).
/// A published factor set `name` of quality (weight 3) and price (weight 1)
/// on 1..5; its id.
async fn quality_and_price(app: &TestApp, admin: &str, name: &str) -> Value {
    let body = app
        .graphql_as(
            Some(admin),
            SET,
            json!({ "input": { "name": name, "factors": [
                { "key": "quality", "label": "Quality", "weight": "3" },
                { "key": "price", "label": "Price", "weight": "1" }
            ] } }),
        )
        .await;
    let set = data(&body)["createCsiFactorSet"]["factorSet"]["id"].clone();
    data(
        &app.graphql_as(Some(admin), PUBLISH, json!({ "id": set }))
            .await,
    );
    set
}

async fn arrange(app: &TestApp, set: i64, rated: (i64, i64, i64)) {
    let club = ProgramBuilder::new("Club").insert(app.db()).await;
    let tier = |name: &str, min: i64| loyalty_tiers::ActiveModel {
        program_id: Set(club),
        name: Set(name.to_owned()),
        min_lifetime_points: Set(min),
        earn_multiplier: Set("1".to_owned()),
        ..Default::default()
    };
    tier("Base", 0).insert(app.db()).await.expect("tier");
    tier("Gold", 100).insert(app.db()).await.expect("tier");
    let csi_survey = survey(app, set, SurveyStatus::Active).await;
    let (survey, rating_q, nps_q) = rated;
    let when = at("2026-03-10T12:00:00Z");
    for (g, group) in GROUPS.iter().enumerate() {
        for (k, (&quality, &price)) in group.quality.iter().zip(group.price).enumerate() {
            let mut builder = CustomerBuilder::new()
                .name(format!("Customer {g}.{k}"))
                .stage(group.stage)
                .kind(group.kind);
            for tag in group.tags {
                builder = builder.tag(*tag);
            }
            let customer = builder.insert(app.db()).await;
            if let Some(points) = group.points {
                // Lifetime points come from the ledger (the database keeps
                // the membership's sums).
                let membership = insert_membership(app.db(), club, customer).await;
                append_entry(app.db(), membership, points, LedgerReason::Adjustment, when).await;
            }
            let csi_response = response(app, csi_survey, customer, when).await;
            ratings::record(
                app.db(),
                set,
                Some(csi_response),
                Some(customer),
                when,
                &[("quality", quality), ("price", price)],
            )
            .await
            .expect("ratings recorded");
            let answered = response(app, survey, customer, when).await;
            for (question, value) in [(rating_q, quality), (nps_q, 2 * quality)] {
                survey_answers::ActiveModel {
                    response_id: Set(answered),
                    question_id: Set(question),
                    rating: Set(Some(value)),
                    ..Default::default()
                }
                .insert(app.db())
                .await
                .expect("answer");
            }
        }
    }
}

const CSI_SEGMENTS: &str = "query($id: ID!, $by: SegmentBy!, $min: Int, $tag: String) {
  csiReport(factorSetId: $id, from: \"2026-03-01\", to: \"2026-04-01\", filter: { tag: $tag }) {
    responseCount
    segments(by: $by, minResponses: $min) {
      key label suppressed responseCount ratingCount index weightedMean
      factors { key ratingCount mean score scoreInterval { low high sampleSize } }
    }
  }
}";

const SURVEY_SEGMENTS: &str = "query($s: ID!, $by: SegmentBy!, $min: Int) {
  surveyResults(surveyId: $s) {
    segments(by: $by, minResponses: $min) {
      key label suppressed responseCount csat ratingAnswers nps npsAnswers
      csatInterval { low high sampleSize } npsInterval { low high sampleSize }
    }
  }
}";

/// Variables without the null ones, so the default threshold is the one of
/// an omitted `minResponses`.
fn without_nulls(mut variables: Value) -> Value {
    if let Some(map) = variables.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    variables
}

/// `(key, shown figure)` per segment: `None` when suppressed.
fn figures<'a>(segments: &'a Value, figure: &str) -> Vec<(&'a str, Option<&'a Value>)> {
    segments
        .as_array()
        .expect("segments")
        .iter()
        .map(|s| {
            let key = s["key"].as_str().expect("key");
            if s["suppressed"] == true {
                // Nothing leaks from a suppressed segment: no count, no figure.
                for field in ["responseCount", figure] {
                    assert_eq!(s[field], Value::Null, "{key}.{field}");
                }
                if let Some(factors) = s.get("factors") {
                    assert_eq!(factors, &json!([]), "{key}.factors");
                }
                (key, None)
            } else {
                (key, Some(&s[figure]))
            }
        })
        .collect()
}

async fn csi_and_survey_segments_show_hidden_values_and_suppress_small_ones(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let set = quality_and_price(&app, &admin, "Segments").await;
    let rated = SurveyBuilder::new("Segments survey")
        .question(question(
            "How satisfied are you?",
            QuestionKind::Rating,
            Value::Null,
        ))
        .question(question(
            "Would you recommend us?",
            QuestionKind::Nps,
            Value::Null,
        ))
        .publish(&app, &admin)
        .await;
    arrange(
        &app,
        id_of(&set),
        (
            db_key(&rated.id),
            db_key(&rated.questions[0]),
            db_key(&rated.questions[1]),
        ),
    )
    .await;
    let csi = |by: &str, min: Value, tag: Value| {
        let (app, admin, set) = (&app, &admin, &set);
        let by = by.to_owned();
        async move {
            app.graphql_as(
                Some(admin),
                CSI_SEGMENTS,
                without_nulls(json!({ "id": set, "by": by, "min": min, "tag": tag })),
            )
            .await
        }
    };

    // Relationship type (by key: `COMMUNITY` sorts before `CO_CREATION`):
    // 6, 4, 3 and 5 responses. 5 is shown, 4 and 3 are
    // suppressed (two of them, so no complement is needed).
    let body = csi("RELATIONSHIP_TYPE", Value::Null, Value::Null).await;
    let report = &data(&body)["csiReport"];
    assert_eq!(report["responseCount"], 18);
    let segments = &report["segments"];
    // Index: 100·(3·(x̄q − 1)/4 + (x̄p − 1)/4)/4, worked out by hand.
    assert_eq!(
        figures(segments, "index"),
        [
            ("AUTOMATED_SERVICE", Some(&json!("84.375"))),
            ("COMMUNITY", None),
            ("CO_CREATION", None),
            ("SELF_SERVICE", Some(&json!("73.75"))),
        ]
    );
    let self_service = &segments[3];
    assert_eq!(self_service["label"], "SELF_SERVICE");
    assert_eq!(self_service["responseCount"], 5);
    assert_eq!(self_service["ratingCount"], 10);
    assert_eq!(self_service["weightedMean"], "3.95");
    assert_eq!(
        self_service["factors"],
        json!([
            { "key": "quality", "ratingCount": 5, "mean": "4.2", "score": "80",
              "scoreInterval": { "low": "54.0287", "high": "105.9713", "sampleSize": 5 } },
            { "key": "price", "ratingCount": 5, "mean": "3.2", "score": "55",
              "scoreInterval": { "low": "29.0287", "high": "80.9713", "sampleSize": 5 } },
        ])
    );

    // Stage: 9, 6 and 3. Only EXPLORATION is below 5, so the smallest other
    // (EXPANSION, 6) is suppressed with it: 18 − 9 would otherwise give 9
    // = 6 + 3 away.
    let body = csi("STAGE", Value::Null, Value::Null).await;
    assert_eq!(
        figures(&data(&body)["csiReport"]["segments"], "index"),
        [
            ("COMMITMENT", Some(&json!("63.1944"))),
            ("EXPANSION", None),
            ("EXPLORATION", None),
        ]
    );

    // Tags overlap: COMMUNITY's four customers are in both, so vip (9) and
    // north (7) add up to more than the 12 tagged customers.
    let body = csi("TAG", Value::Null, Value::Null).await;
    let segments = &data(&body)["csiReport"]["segments"];
    assert_eq!(
        figures(segments, "index"),
        [
            ("north", Some(&json!("37.5"))),
            ("vip", Some(&json!("63.1944")))
        ]
    );
    assert_eq!(segments[0]["responseCount"], 7);
    assert_eq!(segments[1]["responseCount"], 9);

    // A higher threshold: 9 and 7 are now below 10.
    let body = csi("TAG", json!(10), Value::Null).await;
    assert_eq!(
        figures(&data(&body)["csiReport"]["segments"], "index"),
        [("north", None::<&Value>), ("vip", None)]
    );

    // Tiers: the club's Base (6) and Gold (5); non-members are in none.
    let body = csi("TIER", Value::Null, Value::Null).await;
    let segments = data(&body)["csiReport"]["segments"]
        .as_array()
        .expect("segments")
        .clone();
    let tiers: Vec<(&str, &Value, &Value)> = segments
        .iter()
        .map(|s| {
            (
                s["label"].as_str().expect("label"),
                &s["responseCount"],
                &s["index"],
            )
        })
        .collect();
    assert_eq!(
        tiers,
        [
            ("Base", &json!(6), &json!("84.375")),
            ("Gold", &json!(5), &json!("73.75"))
        ]
    );

    // The report's filter applies: vip customers only, by type.
    let body = csi("RELATIONSHIP_TYPE", json!(5), json!("vip")).await;
    assert_eq!(
        figures(&data(&body)["csiReport"]["segments"], "index"),
        [("COMMUNITY", None::<&Value>), ("SELF_SERVICE", None)],
        "a lone small segment (COMMUNITY, 4) takes the only other with it"
    );

    // Below 5 is refused, naming the argument.
    let body = csi("TAG", json!(4), Value::Null).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "minResponses");

    // Survey results, per segment: CSAT (share of 4–5) and NPS (answers
    // twice the quality rating: 10 promoter, 8 passive, ≤ 6 detractor).
    let survey_segments = |by: &str, min: Value| {
        let (app, admin, id) = (&app, &admin, rated.id.clone());
        let by = by.to_owned();
        async move {
            app.graphql_as(
                Some(admin),
                SURVEY_SEGMENTS,
                without_nulls(json!({ "s": id, "by": by, "min": min })),
            )
            .await
        }
    };
    let body = survey_segments("RELATIONSHIP_TYPE", Value::Null).await;
    let segments = &data(&body)["surveyResults"]["segments"];
    assert_eq!(
        figures(segments, "csat"),
        [
            ("AUTOMATED_SERVICE", Some(&json!("100"))),
            ("COMMUNITY", None),
            ("CO_CREATION", None),
            ("SELF_SERVICE", Some(&json!("80"))),
        ]
    );
    assert_eq!(
        figures(segments, "nps"),
        [
            ("AUTOMATED_SERVICE", Some(&json!("33.33"))),
            ("COMMUNITY", None),
            ("CO_CREATION", None),
            ("SELF_SERVICE", Some(&json!("20"))),
        ]
    );
    assert_eq!(segments[1]["csatInterval"], Value::Null);
    assert_eq!(segments[3]["responseCount"], 5);
    assert_eq!(segments[3]["npsAnswers"], 5);
    assert_eq!(segments[3]["csatInterval"]["sampleSize"], 5);

    let body = survey_segments("TAG", Value::Null).await;
    let segments = &data(&body)["surveyResults"]["segments"];
    assert_eq!(
        figures(segments, "csat"),
        [("north", Some(&json!("0"))), ("vip", Some(&json!("44.44")))]
    );
    assert_eq!(
        figures(segments, "nps"),
        [
            ("north", Some(&json!("-100"))),
            ("vip", Some(&json!("-33.33")))
        ]
    );
    assert_eq!(segments[1]["responseCount"], 9);

    let body = survey_segments("TAG", json!(3)).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "minResponses");

    // The report's own pass reads the first `segments` selection when it is
    // one column of the customer; a second selection takes a pass of its
    // own. Both give the same figures, whichever comes first.
    for by in ["STAGE", "RELATIONSHIP_TYPE"] {
        let both = |first: &str, second: &str| {
            format!(
                "query($id: ID!) {{
                  csiReport(factorSetId: $id, from: \"2026-03-01\", to: \"2026-04-01\") {{
                    first: segments(by: {first}) {{ {SEGMENT_FIELDS} }}
                    second: segments(by: {second}) {{ {SEGMENT_FIELDS} }}
                  }}
                }}"
            )
        };
        let in_the_pass = app
            .graphql_as(Some(&admin), &both(by, "TAG"), json!({ "id": set }))
            .await;
        let own_pass = app
            .graphql_as(Some(&admin), &both("TAG", by), json!({ "id": set }))
            .await;
        let (a, b) = (
            &data(&in_the_pass)["csiReport"],
            &data(&own_pass)["csiReport"],
        );
        assert_eq!(a["first"], b["second"], "{by}");
        assert_eq!(a["second"], b["first"], "TAG beside {by}");
        assert!(
            a["first"].as_array().is_some_and(|s| s.len() >= 2),
            "{by}: {a}"
        );
    }
}

const SEGMENT_FIELDS: &str = "key label suppressed responseCount ratingCount index weightedMean \
    factors { key ratingCount mean score scoreInterval { low high sampleSize } }";

fn trend_fixture() -> Value {
    serde_json::from_str(include_str!("../../fixtures/confidence/survey_trend.json"))
        .expect("fixture JSON")
}

/// A shown figure (rounded to `places`) equals the expected value to the
/// rounding, plus 1e-9.
fn shown(actual: &Value, expected: &Value, places: i32) {
    let a: f64 = actual
        .as_str()
        .unwrap_or_else(|| panic!("a Decimal, got {actual}"))
        .parse()
        .expect("decimal");
    let e = expected.as_f64().expect("number");
    assert!(
        (a - e).abs() <= 0.5 * 10f64.powi(-places) + 1e-9,
        "{a} != {e}"
    );
}

async fn survey_trend_tests_each_step_like_the_formula_script(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let survey = SurveyBuilder::new("Trend survey")
        .question(question(
            "How satisfied are you?",
            QuestionKind::Rating,
            Value::Null,
        ))
        .question(question(
            "Would you recommend us?",
            QuestionKind::Nps,
            Value::Null,
        ))
        .publish(&app, &admin)
        .await;
    let (rating_q, nps_q) = (db_key(&survey.questions[0]), db_key(&survey.questions[1]));
    let fixture = trend_fixture();
    let months = fixture["months"].as_array().expect("months");
    for (m, month) in months.iter().enumerate() {
        for (k, r) in month["responses"]
            .as_array()
            .expect("responses")
            .iter()
            .enumerate()
        {
            let customer = CustomerBuilder::new()
                .name(format!("Respondent {m}.{k}"))
                .insert(app.db())
                .await;
            let when: DateTime<Utc> = r["at"].as_str().expect("at").parse().expect("time");
            let response = response(&app, db_key(&survey.id), customer, when).await;
            for (question, value) in [(rating_q, &r["rating"]), (nps_q, &r["nps"])] {
                survey_answers::ActiveModel {
                    response_id: Set(response),
                    question_id: Set(question),
                    rating: Set(Some(value.as_i64().expect("value") as i32)),
                    ..Default::default()
                }
                .insert(app.db())
                .await
                .expect("answer");
            }
        }
    }
    let body = app
        .graphql_as(
            Some(&admin),
            "query($s: ID!) { surveyResults(surveyId: $s) { trend(granularity: MONTH) {
               period start end responses ratingAnswers npsAnswers promoters detractors csat nps
               csatInterval { low high method sampleSize }
               npsInterval { low high method sampleSize }
               csatChange { significant pValue unavailableReason }
               npsChange { significant pValue unavailableReason } } } }",
            json!({ "s": survey.id }),
        )
        .await;
    let trend = data(&body)["surveyResults"]["trend"]
        .as_array()
        .expect("trend")
        .clone();
    // From the first response's month to today's, empty months included.
    assert_eq!(trend[0]["period"], "2026-01");
    assert_eq!(trend[0]["start"], "2026-01-01");
    assert!(trend.len() >= 4, "{trend:?}");
    for (point, month) in trend.iter().zip(months) {
        let n = &month["n"];
        assert_eq!(point["period"], month["period"]);
        assert_eq!(point["responses"], *n);
        assert_eq!(point["ratingAnswers"], *n);
        assert_eq!(point["npsAnswers"], *n);
        assert_eq!(point["promoters"], month["promoters"]);
        assert_eq!(point["detractors"], month["detractors"]);
        shown(&point["csat"], &month["csat"], 2);
        shown(&point["nps"], &month["nps"], 2);
        assert_eq!(point["csatInterval"]["method"], "WILSON");
        assert_eq!(point["npsInterval"]["method"], "NPS_NORMAL");
        shown(&point["csatInterval"]["low"], &month["csat_low"], 2);
        shown(&point["csatInterval"]["high"], &month["csat_high"], 2);
        shown(&point["npsInterval"]["low"], &month["nps_low"], 2);
        shown(&point["npsInterval"]["high"], &month["nps_high"], 2);
        if month.get("csat_change").is_none() {
            assert_eq!(point["csatChange"], Value::Null);
            assert_eq!(point["npsChange"], Value::Null);
            continue;
        }
        for (field, expected) in [
            ("csatChange", &month["csat_change"]),
            ("npsChange", &month["nps_change"]),
        ] {
            assert_eq!(
                point[field]["significant"], expected["significant"],
                "{field}"
            );
            shown(&point[field]["pValue"], &expected["p"], 4);
        }
    }
    // February to March is significant on both; January to February not.
    assert_eq!(trend[1]["csatChange"]["significant"], false);
    assert_eq!(trend[2]["csatChange"]["significant"], true);
    assert_eq!(trend[2]["npsChange"]["significant"], true);
    // The month after the last responses is empty: no figure, no test.
    let empty = &trend[3];
    assert_eq!(empty["period"], "2026-04");
    assert_eq!(empty["responses"], 0);
    assert_eq!(empty["csat"], Value::Null);
    assert_eq!(empty["csatInterval"]["low"], Value::Null);
    assert_eq!(empty["csatChange"]["unavailableReason"], "NO_RESPONSES");
    assert_eq!(empty["npsChange"]["unavailableReason"], "NO_RESPONSES");
}

/// Reports read each response's ratings pivoted into one column per factor;
/// a response that rates a factor twice (two loose sets of one customer at
/// one instant, or a second `ratings::record` for one response) does not fit
/// that, and the report and its segments fall back to exact per-factor sums:
/// every rating counts, the response once.
async fn a_factor_rated_twice_in_one_response_counts_each_rating(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let set = quality_and_price(&app, &admin, "Twice").await;
    let csi_survey = survey(&app, id_of(&set), SurveyStatus::Active).await;
    let when = at("2026-03-10T12:00:00Z");
    // Quality 5, 4, 4, 3, 2 and price 3, 3, 4, 2, 4; the first response
    // rates quality a second time (1), the last customer also rates price 5
    // twice in loose sets at one instant.
    let mut customers = Vec::new();
    for (k, (quality, price)) in [(5, 3), (4, 3), (4, 4), (3, 2), (2, 4)]
        .into_iter()
        .enumerate()
    {
        let customer = CustomerBuilder::new()
            .name(format!("Customer {k}"))
            .stage(Stage::Commitment)
            .insert(app.db())
            .await;
        customers.push(customer);
        let answered = response(&app, csi_survey, customer, when).await;
        ratings::record(
            app.db(),
            id_of(&set),
            Some(answered),
            Some(customer),
            when,
            &[("quality", quality), ("price", price)],
        )
        .await
        .expect("ratings recorded");
        if k == 0 {
            ratings::record(
                app.db(),
                id_of(&set),
                Some(answered),
                Some(customer),
                when,
                &[("quality", 1)],
            )
            .await
            .expect("second rating recorded");
        }
    }
    let loose = at("2026-03-12T08:00:00Z");
    for _ in 0..2 {
        ratings::record(
            app.db(),
            id_of(&set),
            None,
            Some(customers[4]),
            loose,
            &[("price", 5)],
        )
        .await
        .expect("loose rating recorded");
    }

    let body = app
        .graphql_as(
            Some(&admin),
            "query($id: ID!) {
              csiReport(factorSetId: $id, from: \"2026-03-01\", to: \"2026-04-01\") {
                responseCount ratingCount index indexInterval { sampleSize }
                factors { key ratingCount mean }
                trend { period responseCount ratingCount }
                segments(by: STAGE) { key responseCount ratingCount index factors { key ratingCount mean } }
              }
            }",
            json!({ "id": set }),
        )
        .await;
    let report = &data(&body)["csiReport"];
    // Quality: 5, 1, 4, 4, 3, 2 → 19 / 6; price: 3, 3, 4, 2, 4, 5, 5 → 26 / 7.
    // Index: 100 · (3 · (19/6 − 1)/4 + 1 · (26/7 − 1)/4) / 4
    //      = 100 · (3 · 13/24 + 19/28) / 4 = 57.5892857… → 57.5893.
    assert_eq!(report["responseCount"], 6, "{report}");
    assert_eq!(report["ratingCount"], 13, "{report}");
    assert_eq!(report["index"], "57.5893", "{report}");
    // Every response's own index counts once.
    assert_eq!(report["indexInterval"]["sampleSize"], 6, "{report}");
    let factor = |factors: &Value, key: &str| {
        factors
            .as_array()
            .expect("factors")
            .iter()
            .find(|f| f["key"] == key)
            .map(|f| (f["ratingCount"].clone(), f["mean"].clone()))
            .expect("factor")
    };
    assert_eq!(
        factor(&report["factors"], "quality"),
        (json!(6), json!("3.1667"))
    );
    assert_eq!(
        factor(&report["factors"], "price"),
        (json!(7), json!("3.7143"))
    );
    let march = report["trend"]
        .as_array()
        .expect("trend")
        .iter()
        .find(|p| p["period"] == "2026-03")
        .expect("March");
    assert_eq!(
        (&march["responseCount"], &march["ratingCount"]),
        (&json!(6), &json!(13))
    );
    let segments = report["segments"].as_array().expect("segments");
    assert_eq!(segments.len(), 1, "{report}");
    let commitment = &segments[0];
    assert_eq!(commitment["key"], "COMMITMENT");
    assert_eq!(commitment["responseCount"], 6);
    assert_eq!(commitment["ratingCount"], 13);
    assert_eq!(commitment["index"], "57.5893");
    assert_eq!(
        factor(&commitment["factors"], "quality"),
        (json!(6), json!("3.1667"))
    );
    assert_eq!(
        factor(&commitment["factors"], "price"),
        (json!(7), json!("3.7143"))
    );
}
