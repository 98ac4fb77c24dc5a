//! Confidence intervals and significance over HTTP: `csiReport`'s index and
//! factor-score intervals, Welch tests of trend steps and of the previous
//! period, and `surveyResults`' Wilson (CSAT) and NPS intervals, compared
//! with values computed independently by
//! `tests/fixtures/confidence/generate.py` (SciPy) on generated data, and the
//! degenerate cases (no, one and identical responses).

use chrono::{DateTime, Utc};
use domain::auth::Role;
use domain::csi::ratings;
use entity::survey_answers;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{json, Value};

use crate::csi::{customer, id_of, response};
use crate::fixtures::{db_key, question, QuestionKind, RelationshipType, SurveyBuilder};
use crate::helpers::{data, spawn_app, Engine, TestApp};

on_both_engines!(
    csi_intervals_and_trend_tests_match_independent_values,
    survey_results_carry_wilson_and_nps_intervals,
);

fn fixture() -> Value {
    serde_json::from_str(include_str!("../../fixtures/confidence/confidence.json"))
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

const SET: &str = "mutation($input: CreateCsiFactorSetInput!) { createCsiFactorSet(input: $input) { factorSet { id } } }";
const PUBLISH: &str =
    "mutation($id: ID!) { publishCsiFactorSet(input: { id: $id }) { factorSet { id } } }";
const INTERVAL: &str = "{ low high level method sampleSize unavailableReason }";

fn report_query() -> String {
    format!(
        "query($id: ID!, $from: Date!, $to: Date!) {{ csiReport(factorSetId: $id, from: $from, to: $to, granularity: MONTH) {{
           index responseCount indexInterval {INTERVAL}
           factors {{ key score scoreInterval {INTERVAL} }}
           trend {{ period index responseCount indexInterval {INTERVAL} change {{ significant pValue unavailableReason }} }}
           previousPeriod {{ index responseCount indexInterval {INTERVAL} change {{ significant pValue unavailableReason }} }}
         }} }}"
    )
}

async fn published_set(app: &TestApp, admin: &str) -> Value {
    let body = app
        .graphql_as(
            Some(admin),
            SET,
            json!({ "input": { "name": "Confidence", "factors": [
                { "key": "quality", "label": "Quality", "weight": "3" },
                { "key": "price", "label": "Price", "weight": "1" }
            ] } }),
        )
        .await;
    let id = data(&body)["createCsiFactorSet"]["factorSet"]["id"].clone();
    data(
        &app.graphql_as(Some(admin), PUBLISH, json!({ "id": id }))
            .await,
    );
    id
}

fn check_interval(interval: &Value, expected: &Value, n: i64) {
    assert_eq!(interval["level"], "0.95");
    assert_eq!(interval["method"], "STUDENT_T");
    assert_eq!(interval["sampleSize"], n);
    assert_eq!(interval["unavailableReason"], Value::Null);
    shown(&interval["low"], &expected["low"], 4);
    shown(&interval["high"], &expected["high"], 4);
}

async fn csi_intervals_and_trend_tests_match_independent_values(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let set = published_set(&app, &admin).await;
    let data_set = fixture();
    let csi = &data_set["csi_report"];
    for r in csi["responses"].as_array().expect("responses") {
        let when: DateTime<Utc> = r["at"].as_str().expect("at").parse().expect("time");
        let rating = |k: &str| r["ratings"][k].as_i64().expect("rating") as i32;
        // Loose sets of ratings: each counts as one response.
        ratings::record(
            app.db(),
            id_of(&set),
            None,
            None,
            when,
            &[("quality", rating("quality")), ("price", rating("price"))],
        )
        .await
        .expect("ratings recorded");
    }
    let expected = &csi["expected"];

    let body = app
        .graphql_as(
            Some(&admin),
            &report_query(),
            json!({ "id": set, "from": "2025-12-01", "to": "2026-05-01" }),
        )
        .await;
    let report = &data(&body)["csiReport"];
    let current = &expected["current"];
    assert_eq!(report["responseCount"], current["n"]);
    shown(&report["index"], &current["index"], 4);
    check_interval(&report["indexInterval"], current, 40);
    for factor in report["factors"].as_array().expect("factors") {
        let key = factor["key"].as_str().expect("key");
        shown(&factor["score"], &current["factors"][key]["score"], 4);
        check_interval(&factor["scoreInterval"], &current["factors"][key], 40);
    }

    let trend = report["trend"].as_array().expect("trend");
    let periods: Vec<&str> = trend
        .iter()
        .map(|p| p["period"].as_str().expect("period"))
        .collect();
    assert_eq!(
        periods,
        ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
    );
    for point in trend {
        let month = &expected["months"][point["period"].as_str().expect("period")];
        assert_eq!(point["responseCount"], month["n"]);
        shown(&point["index"], &month["index"], 4);
    }
    // Two or more different responses: t intervals to the rounding.
    for point in &trend[0..3] {
        let month = &expected["months"][point["period"].as_str().expect("period")];
        check_interval(
            &point["indexInterval"],
            month,
            month["n"].as_i64().expect("n"),
        );
    }
    // One response: no interval, a reason, never NaN.
    assert_eq!(
        trend[3]["indexInterval"],
        json!({ "low": null, "high": null, "level": "0.95", "method": "STUDENT_T",
                "sampleSize": 1, "unavailableReason": "ONE_RESPONSE" })
    );
    // Three identical responses: a zero-width interval at the index.
    assert_eq!(trend[4]["index"], "100");
    assert_eq!(trend[4]["indexInterval"]["low"], "100");
    assert_eq!(trend[4]["indexInterval"]["high"], "100");
    for key in ["quality", "price"] {
        assert!(report["factors"]
            .as_array()
            .expect("factors")
            .iter()
            .any(|f| f["key"] == key));
    }

    // Trend steps: none for the first point, Welch's test for the next two,
    // and no test beside the single response of March.
    assert_eq!(trend[0]["change"], Value::Null);
    for point in &trend[1..3] {
        let step = &expected["steps"][point["period"].as_str().expect("period")];
        assert_eq!(point["change"]["significant"], step["significant"]);
        shown(&point["change"]["pValue"], &step["p"], 4);
    }
    assert_eq!(trend[1]["change"]["significant"], false);
    assert_eq!(trend[2]["change"]["significant"], true);
    for point in &trend[3..5] {
        assert_eq!(
            point["change"],
            json!({ "significant": null, "pValue": null, "unavailableReason": "ONE_RESPONSE" })
        );
    }

    // The previous period (November) and the test against it.
    let previous = &report["previousPeriod"];
    assert_eq!(previous["responseCount"], expected["previous"]["n"]);
    check_interval(&previous["indexInterval"], &expected["previous"], 10);
    let step = &expected["current_vs_previous"];
    assert_eq!(previous["change"]["significant"], step["significant"]);
    shown(&previous["change"]["pValue"], &step["p"], 4);

    // Nothing rated: reasons, no figures.
    let body = app
        .graphql_as(
            Some(&admin),
            &report_query(),
            json!({ "id": set, "from": "2027-01-01", "to": "2027-02-01" }),
        )
        .await;
    let empty = &data(&body)["csiReport"];
    assert_eq!(empty["index"], Value::Null);
    assert_eq!(empty["indexInterval"]["unavailableReason"], "NO_RESPONSES");
    assert_eq!(empty["indexInterval"]["sampleSize"], 0);
    assert_eq!(
        empty["factors"][0]["scoreInterval"]["unavailableReason"],
        "NO_RESPONSES"
    );
    assert_eq!(empty["trend"][0]["change"], Value::Null);
    assert_eq!(
        empty["previousPeriod"]["change"]["unavailableReason"],
        "NO_RESPONSES"
    );
}

async fn survey_results_carry_wilson_and_nps_intervals(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let expected = &fixture()["survey_results"];
    let survey = SurveyBuilder::new("Confidence survey")
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
    let ratings = expected["ratings"].as_array().expect("ratings");
    let scores = expected["nps"].as_array().expect("nps");
    for (k, (rating, score)) in ratings.iter().zip(scores).enumerate() {
        let customer = customer(
            &app,
            &format!("Customer {k}"),
            RelationshipType::SelfService,
            None,
        )
        .await;
        let response = response(&app, db_key(&survey.id), customer, Utc::now()).await;
        for (question, value) in [(rating_q, rating), (nps_q, score)] {
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
    let body = app
        .graphql_as(
            Some(&admin),
            &format!(
                "query($s: ID!) {{ surveyResults(surveyId: $s) {{ csat nps ratingAnswers
                csatInterval {INTERVAL} npsInterval {INTERVAL} }} }}"
            ),
            json!({ "s": survey.id }),
        )
        .await;
    let results = &data(&body)["surveyResults"];
    assert_eq!(results["ratingAnswers"], 23);
    let csat = &results["csatInterval"];
    assert_eq!(csat["method"], "WILSON");
    assert_eq!(csat["sampleSize"], 23);
    shown(&csat["low"], &expected["csat_low"], 2);
    shown(&csat["high"], &expected["csat_high"], 2);
    let nps = &results["npsInterval"];
    assert_eq!(nps["method"], "NPS_NORMAL");
    assert_eq!(nps["sampleSize"], 23);
    shown(&nps["low"], &expected["nps_low"], 2);
    shown(&nps["high"], &expected["nps_high"], 2);
    // The figures lie inside their intervals.
    for (figure, interval) in [(&results["csat"], csat), (&results["nps"], nps)] {
        let f: f64 = figure.as_str().expect("figure").parse().expect("decimal");
        let low: f64 = interval["low"]
            .as_str()
            .expect("low")
            .parse()
            .expect("decimal");
        let high: f64 = interval["high"]
            .as_str()
            .expect("high")
            .parse()
            .expect("decimal");
        assert!(low < f && f < high, "{low} < {f} < {high}");
    }
}
