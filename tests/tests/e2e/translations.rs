//! Multilingual surveys (issue 19 §1): translations set by staff, the
//! locale chosen for a respondent (invitation, `Accept-Language` with
//! q-values, the customer's locale, the default), publishing refused while a
//! locale lacks a text (scale end labels included), and the locale recorded
//! on the response while the answers keep the default language's option
//! values.

use chrono::{Duration as Days, Utc};
use domain::auth::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use crate::fixtures::{api_id, db_key, question, CustomerBuilder, QuestionKind, SurveyBuilder};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    respondents_see_the_locale_chosen_for_them_and_it_is_recorded,
    publishing_waits_for_complete_translations_and_staff_rules_hold,
    scale_end_labels_are_survey_texts_translated_like_the_others,
);

const SURVEY: &str = "query($id: ID!) { survey(id: $id) { status locale locales thankYou
  translations { locale title description thankYou questions { questionId text options question { id } } } } }";
const SET: &str = "mutation($input: SetSurveyTranslationInput!) { setSurveyTranslation(input: $input) {
  clientMutationId survey { locale locales translations { locale title questions { questionId text options } } } } }";
const REMOVE: &str =
    "mutation($input: RemoveSurveyTranslationInput!) { removeSurveyTranslation(input: $input) {
  survey { locales } } }";
const PUBLISH: &str =
    "mutation($id: ID!) { publishSurvey(input: { id: $id }) { survey { status } } }";
const CLOSE: &str = "mutation($id: ID!) { closeSurvey(input: { id: $id }) { survey { status } } }";
const INVITE: &str = "mutation($s: ID!, $c: [ID!]!, $e: DateTime!, $l: String) {
  inviteToSurvey(input: { surveyId: $s, customerIds: $c, expiresAt: $e, locale: $l }) { invitations { customerId token } } }";
const LOOKUP: &str = "query($t: String!) { surveyInvitation(token: $t) {
  title description thankYou locale locales questions { id text options optionLabels } } }";
const SUBMIT: &str = "mutation($t: String!, $a: [SurveyAnswerInput!]!) {
  submitSurveyResponse(input: { token: $t, answers: $a }) { responseId locale } }";
const RESPONSE: &str =
    "query($id: ID!) { node(id: $id) { ... on SurveyResponse { locale answers { choices } } } }";

struct German {
    admin: String,
    survey: String,
    /// Rating, then single choice.
    q: Vec<String>,
}

/// A German DRAFT survey: a rating question and a yes/no choice, with an
/// introduction and a thank-you text.
async fn german(app: &TestApp) -> German {
    let admin = app.login_as(Role::Admin).await;
    let created = SurveyBuilder::new("Ihre Meinung")
        .with("locale", json!("de"))
        .with("description", json!("Drei kurze Fragen."))
        .with("thankYou", json!("Vielen Dank!"))
        .question(question(
            "Wie zufrieden sind Sie?",
            QuestionKind::Rating,
            json!({ "required": true }),
        ))
        .question(question(
            "Würden Sie wieder buchen?",
            QuestionKind::SingleChoice,
            json!({ "options": ["Ja", "Nein"] }),
        ))
        .create(app, &admin)
        .await;
    German {
        admin,
        survey: created.id,
        q: created.questions,
    }
}

impl German {
    fn english(&self) -> Value {
        json!({
            "surveyId": self.survey,
            "locale": "en",
            "title": "Your opinion",
            "description": "Three short questions.",
            "thankYou": "Thank you!",
            "questions": [
                { "questionId": self.q[0], "text": "How satisfied are you?" },
                { "questionId": self.q[1], "text": "Would you book again?", "options": ["Yes", "No"] }
            ],
            "clientMutationId": "t1"
        })
    }

    async fn set(&self, app: &TestApp, token: &str, input: Value) -> Value {
        app.graphql_as(Some(token), SET, json!({ "input": input }))
            .await
    }

    async fn read(&self, app: &TestApp) -> Value {
        let body = app
            .graphql_as(Some(&self.admin), SURVEY, json!({ "id": self.survey }))
            .await;
        data(&body)["survey"].clone()
    }

    async fn invite(&self, app: &TestApp, customer: i64, locale: Option<&str>) -> Value {
        app.graphql_as(
            Some(&self.admin),
            INVITE,
            json!({ "s": self.survey, "c": [api_id("Customer", customer)],
                    "e": Utc::now() + Days::days(7), "l": locale }),
        )
        .await
    }

    async fn token(&self, app: &TestApp, customer: i64, locale: Option<&str>) -> String {
        let body = self.invite(app, customer, locale).await;
        data(&body)["inviteToSurvey"]["invitations"][0]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("token: {body}"))
            .to_owned()
    }
}

async fn customer(app: &TestApp, locale: Option<&str>) -> i64 {
    let mut builder = CustomerBuilder::new();
    if let Some(locale) = locale {
        builder = builder.locale(locale);
    }
    builder.insert(app.db()).await
}

async fn respondents_see_the_locale_chosen_for_them_and_it_is_recorded(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = german(&app).await;
    let set = s.set(&app, &s.admin, s.english()).await;
    assert_eq!(data(&set)["setSurveyTranslation"]["clientMutationId"], "t1");
    assert_eq!(
        data(&set)["setSurveyTranslation"]["survey"]["locales"],
        json!(["de", "en"])
    );
    let published = app
        .graphql_as(Some(&s.admin), PUBLISH, json!({ "id": s.survey }))
        .await;
    assert_eq!(
        data(&published)["publishSurvey"]["survey"]["status"],
        "ACTIVE",
        "{published}"
    );

    // Staff see every text of the translation, linked to its question.
    let survey = s.read(&app).await;
    assert_eq!(survey["thankYou"], "Vielen Dank!");
    let en = &survey["translations"][0];
    assert_eq!(en["locale"], "en");
    assert_eq!(en["description"], "Three short questions.");
    assert_eq!(en["thankYou"], "Thank you!");
    assert_eq!(en["questions"][1]["questionId"], s.q[1]);
    assert_eq!(en["questions"][1]["question"]["id"], s.q[1]);
    assert_eq!(en["questions"][1]["options"], json!(["Yes", "No"]));

    // An invitation's explicit locale wins over the browser's languages.
    let explicit = s.token(&app, customer(&app, None).await, Some("EN")).await;
    let seen = app.graphql_in("de", LOOKUP, json!({ "t": explicit })).await;
    let seen = &data(&seen)["surveyInvitation"];
    assert_eq!(seen["locale"], "en");
    assert_eq!(seen["locales"], json!(["de", "en"]));
    assert_eq!(seen["title"], "Your opinion");
    assert_eq!(seen["description"], "Three short questions.");
    assert_eq!(seen["thankYou"], "Thank you!");
    assert_eq!(seen["questions"][0]["text"], "How satisfied are you?");
    assert_eq!(seen["questions"][1]["options"], json!(["Ja", "Nein"]));
    assert_eq!(seen["questions"][1]["optionLabels"], json!(["Yes", "No"]));

    // Without an invitation locale: Accept-Language by q-value, with the
    // region cut back (en-US → en); else the default.
    let open = s.token(&app, customer(&app, None).await, None).await;
    let cases = [
        ("fr;q=0.9, en-US;q=0.8, de;q=0.1", "en", "Your opinion"),
        ("de-AT, en;q=0.5", "de", "Ihre Meinung"),
        ("it, *;q=0.5", "de", "Ihre Meinung"),
        ("", "de", "Ihre Meinung"),
    ];
    for (header, locale, title) in cases {
        let body = app.graphql_in(header, LOOKUP, json!({ "t": open })).await;
        let seen = &data(&body)["surveyInvitation"];
        assert_eq!(seen["locale"], locale, "{header:?}: {body}");
        assert_eq!(seen["title"], title, "{header:?}");
    }
    let default = app.graphql(LOOKUP, json!({ "t": open })).await;
    assert_eq!(data(&default)["surveyInvitation"]["locale"], "de");
    assert_eq!(
        data(&default)["surveyInvitation"]["questions"][1]["optionLabels"],
        json!(["Ja", "Nein"])
    );

    // A customer's own locale is matched to the survey's (en-GB → en).
    let british = s
        .token(&app, customer(&app, Some("en-GB")).await, None)
        .await;
    let body = app.graphql_in("de", LOOKUP, json!({ "t": british })).await;
    assert_eq!(data(&body)["surveyInvitation"]["locale"], "en");

    // The response records the locale; the answer keeps the option value.
    let answers = json!([
        { "questionId": s.q[0], "rating": 4 },
        { "questionId": s.q[1], "choices": ["Ja"] }
    ]);
    let submitted = app
        .graphql_in(
            "en-US;q=0.9, de;q=0.2",
            SUBMIT,
            json!({ "t": open, "a": answers }),
        )
        .await;
    let receipt = &data(&submitted)["submitSurveyResponse"];
    assert_eq!(receipt["locale"], "en", "{submitted}");
    let stored = entity::survey_responses::Entity::find_by_id(db_key(
        receipt["responseId"].as_str().expect("response id"),
    ))
    .one(app.db())
    .await
    .expect("read")
    .expect("stored response");
    assert_eq!(stored.locale.as_deref(), Some("en"));
    let read = app
        .graphql_as(
            Some(&s.admin),
            RESPONSE,
            json!({ "id": receipt["responseId"] }),
        )
        .await;
    assert_eq!(data(&read)["node"]["locale"], "en");
    assert_eq!(data(&read)["node"]["answers"][1]["choices"], json!(["Ja"]));

    // A translated label is not an answer.
    let labelled = json!([
        { "questionId": s.q[0], "rating": 4 },
        { "questionId": s.q[1], "choices": ["Yes"] }
    ]);
    let refused = app
        .graphql(SUBMIT, json!({ "t": explicit, "a": labelled }))
        .await;
    assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"));
    assert_eq!(
        refused["errors"][0]["extensions"]["field"],
        format!("answers.{}", s.q[1])
    );

    // An invitation cannot name a locale the survey lacks.
    let body = s.invite(&app, customer(&app, None).await, Some("fr")).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(body["errors"][0]["extensions"]["field"], "locale");
}

async fn publishing_waits_for_complete_translations_and_staff_rules_hold(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = german(&app).await;
    let field = |body: &Value| body["errors"][0]["extensions"]["field"].clone();

    // Bad and default locales are refused.
    for (locale, why) in [("deutsch", "not a tag"), ("DE", "the default")] {
        let mut input = s.english();
        input["locale"] = json!(locale);
        let body = s.set(&app, &s.admin, input).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(field(&body), "locale", "{why}");
    }
    // Option labels must match the options one for one.
    let mut input = s.english();
    input["questions"][1]["options"] = json!(["Yes"]);
    let body = s.set(&app, &s.admin, input).await;
    assert_eq!(field(&body), "questions.1.options", "{body}");

    // An incomplete draft translation is stored, but publishing names the gap.
    let mut partial = s.english();
    partial["locale"] = json!("en_gb");
    partial["questions"] = json!([{ "questionId": s.q[0], "text": "How satisfied are you?" }]);
    let body = s.set(&app, &s.admin, partial.clone()).await;
    assert_eq!(
        data(&body)["setSurveyTranslation"]["survey"]["locales"],
        json!(["de", "en-GB"]),
        "{body}"
    );
    let body = app
        .graphql_as(Some(&s.admin), PUBLISH, json!({ "id": s.survey }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(field(&body), "translations.en-GB.questions.1.text");
    let mut no_thanks = s.english();
    no_thanks["locale"] = json!("en-GB");
    no_thanks["thankYou"] = Value::Null;
    s.set(&app, &s.admin, no_thanks).await;
    let body = app
        .graphql_as(Some(&s.admin), PUBLISH, json!({ "id": s.survey }))
        .await;
    assert_eq!(field(&body), "translations.en-GB.thankYou", "{body}");
    assert_eq!(s.read(&app).await["status"], "DRAFT");

    // Agents may not translate.
    let agent = app.login_as(Role::Agent).await;
    let body = s.set(&app, &agent, s.english()).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));

    let mut complete = s.english();
    complete["locale"] = json!("en-GB");
    s.set(&app, &s.admin, complete).await;
    let body = app
        .graphql_as(Some(&s.admin), PUBLISH, json!({ "id": s.survey }))
        .await;
    assert_eq!(
        data(&body)["publishSurvey"]["survey"]["status"],
        "ACTIVE",
        "{body}"
    );

    // While ACTIVE a translation may be corrected, but only completely.
    let body = s.set(&app, &s.admin, partial).await;
    assert_eq!(
        field(&body),
        "translations.en-GB.questions.1.text",
        "{body}"
    );
    let survey = s.read(&app).await;
    assert_eq!(
        survey["translations"][0]["questions"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "the stored translation is unchanged"
    );
    let mut corrected = s.english();
    corrected["locale"] = json!("en-GB");
    corrected["title"] = json!("Your view");
    let body = s.set(&app, &s.admin, corrected).await;
    assert_eq!(
        data(&body)["setSurveyTranslation"]["survey"]["translations"][0]["title"],
        "Your view"
    );

    // Removing: once, then NOT_FOUND.
    let input = json!({ "input": { "surveyId": s.survey, "locale": "en-gb" } });
    let body = app.graphql_as(Some(&s.admin), REMOVE, input.clone()).await;
    assert_eq!(
        data(&body)["removeSurveyTranslation"]["survey"]["locales"],
        json!(["de"])
    );
    let body = app.graphql_as(Some(&s.admin), REMOVE, input).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));

    // A CLOSED survey's texts are fixed.
    app.graphql_as(Some(&s.admin), CLOSE, json!({ "id": s.survey }))
        .await;
    let body = s.set(&app, &s.admin, s.english()).await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
}

const LABELS: &str = "query($id: ID!) { survey(id: $id) { status
  questions { kind minLabel maxLabel }
  translations { locale questions { minLabel maxLabel } } } }";
const LABELS_SHOWN: &str = "query($t: String!) { surveyInvitation(token: $t) {
  locale questions { kind minLabel maxLabel } } }";

/// A German survey with end labels: a RATING with both, an NPS with only
/// the low one, a MATRIX with both and a TEXT question (none).
fn labelled() -> SurveyBuilder {
    SurveyBuilder::new("Ihr Besuch")
        .with("locale", json!("de"))
        .question(question(
            "Wie zufrieden sind Sie?",
            QuestionKind::Rating,
            json!({ "minLabel": "Gar nicht", "maxLabel": " Sehr " }),
        ))
        .question(question(
            "Würden Sie uns empfehlen?",
            QuestionKind::Nps,
            json!({ "minLabel": "Niemals" }),
        ))
        .question(question(
            "Wie bewerten Sie …",
            QuestionKind::Matrix,
            json!({ "rows": ["den Preis", "den Service"],
                    "minLabel": "Schlecht", "maxLabel": "Sehr gut" }),
        ))
        .question(question("Was noch?", QuestionKind::Text, Value::Null))
}

fn labelled_english(survey: &str, q: &[String]) -> Value {
    json!({
        "surveyId": survey,
        "locale": "en",
        "title": "Your visit",
        "questions": [
            { "questionId": q[0], "text": "How satisfied are you?",
              "minLabel": "Not at all", "maxLabel": "Very" },
            { "questionId": q[1], "text": "Would you recommend us?", "minLabel": "Never" },
            { "questionId": q[2], "text": "How do you rate …",
              "rows": ["the price", "the service"], "minLabel": "Poor", "maxLabel": "Very good" },
            { "questionId": q[3], "text": "Anything else?" }
        ]
    })
}

async fn read_labels(app: &TestApp, admin: &str, survey: &str) -> Value {
    let body = app
        .graphql_as(Some(admin), LABELS, json!({ "id": survey }))
        .await;
    data(&body)["survey"].clone()
}

async fn invite_token(app: &TestApp, admin: &str, survey: &str, locale: Option<&str>) -> String {
    let customer = customer(app, None).await;
    let body = app
        .graphql_as(
            Some(admin),
            INVITE,
            json!({ "s": survey, "c": [api_id("Customer", customer)],
                    "e": Utc::now() + Days::days(7), "l": locale }),
        )
        .await;
    data(&body)["inviteToSurvey"]["invitations"][0]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("token: {body}"))
        .to_owned()
}

async fn scale_end_labels_are_survey_texts_translated_like_the_others(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let field = |body: &Value| body["errors"][0]["extensions"]["field"].clone();
    let count = || async {
        entity::surveys::Entity::find()
            .count(app.db())
            .await
            .expect("count surveys")
    };

    // End labels belong to the scale kinds, and are short.
    let refused = [
        (
            "a label on a TEXT question",
            3,
            "minLabel",
            json!("Wenig"),
            "questions.3.minLabel",
        ),
        (
            "a label on a choice question",
            3,
            "maxLabel",
            json!("Viel"),
            "questions.3.maxLabel",
        ),
        (
            "a label of 101 characters",
            0,
            "maxLabel",
            json!("x".repeat(101)),
            "questions.0.maxLabel",
        ),
        (
            "a control character",
            1,
            "minLabel",
            json!("Nie\u{7}"),
            "questions.1.minLabel",
        ),
    ];
    for (why, index, name, value, expected) in refused {
        let mut input = labelled().input();
        input["questions"][index][name] = value;
        if why.contains("choice") {
            input["questions"][index]["kind"] = json!("SINGLE_CHOICE");
            input["questions"][index]["options"] = json!(["Ja", "Nein"]);
        }
        let body = app
            .graphql_as(
                Some(&admin),
                SurveyBuilder::CREATE,
                json!({ "input": input }),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(field(&body), expected, "{why}");
    }
    assert_eq!(count().await, 0, "no refused survey was stored");

    let created = labelled().create(&app, &admin).await;
    let (survey, q) = (created.id, created.questions);
    let stored = read_labels(&app, &admin, &survey).await;
    assert_eq!(
        stored["questions"],
        json!([
            { "kind": "RATING", "minLabel": "Gar nicht", "maxLabel": "Sehr" },
            { "kind": "NPS", "minLabel": "Niemals", "maxLabel": null },
            { "kind": "MATRIX", "minLabel": "Schlecht", "maxLabel": "Sehr gut" },
            { "kind": "TEXT", "minLabel": null, "maxLabel": null }
        ])
    );

    // A translation cannot invent a label the question lacks; the refusal
    // changes nothing.
    let mut invented = labelled_english(&survey, &q);
    invented["questions"][1]["maxLabel"] = json!("Always");
    let body = app
        .graphql_as(Some(&admin), SET, json!({ "input": invented }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(field(&body), "questions.1.maxLabel");
    assert_eq!(
        read_labels(&app, &admin, &survey).await["translations"],
        json!([])
    );

    // A draft translation lacking a label is kept, but publishing names it.
    let mut partial = labelled_english(&survey, &q);
    partial["questions"][2]["maxLabel"] = Value::Null;
    let body = app
        .graphql_as(Some(&admin), SET, json!({ "input": partial.clone() }))
        .await;
    assert_eq!(
        data(&body)["setSurveyTranslation"]["survey"]["locales"],
        json!(["de", "en"]),
        "{body}"
    );
    let body = app
        .graphql_as(Some(&admin), PUBLISH, json!({ "id": survey }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(field(&body), "translations.en.questions.2.maxLabel");
    let mut no_low = labelled_english(&survey, &q);
    no_low["questions"][1]["minLabel"] = json!("  ");
    app.graphql_as(Some(&admin), SET, json!({ "input": no_low }))
        .await;
    let body = app
        .graphql_as(Some(&admin), PUBLISH, json!({ "id": survey }))
        .await;
    assert_eq!(
        field(&body),
        "translations.en.questions.1.minLabel",
        "{body}"
    );
    let unchanged = read_labels(&app, &admin, &survey).await;
    assert_eq!(unchanged["status"], "DRAFT");
    assert_eq!(unchanged["questions"], stored["questions"]);

    // Complete: published; staff see the translated labels.
    app.graphql_as(
        Some(&admin),
        SET,
        json!({ "input": labelled_english(&survey, &q) }),
    )
    .await;
    let body = app
        .graphql_as(Some(&admin), PUBLISH, json!({ "id": survey }))
        .await;
    assert_eq!(
        data(&body)["publishSurvey"]["survey"]["status"],
        "ACTIVE",
        "{body}"
    );
    let published = read_labels(&app, &admin, &survey).await;
    assert_eq!(
        published["translations"][0]["questions"],
        json!([
            { "minLabel": "Not at all", "maxLabel": "Very" },
            { "minLabel": "Never", "maxLabel": null },
            { "minLabel": "Poor", "maxLabel": "Very good" },
            { "minLabel": null, "maxLabel": null }
        ])
    );

    // Respondents see the labels of the locale chosen for them.
    let english = invite_token(&app, &admin, &survey, Some("en")).await;
    let body = app
        .graphql_in("de", LABELS_SHOWN, json!({ "t": english }))
        .await;
    let seen = &data(&body)["surveyInvitation"];
    assert_eq!(seen["locale"], "en");
    assert_eq!(
        seen["questions"],
        json!([
            { "kind": "RATING", "minLabel": "Not at all", "maxLabel": "Very" },
            { "kind": "NPS", "minLabel": "Never", "maxLabel": null },
            { "kind": "MATRIX", "minLabel": "Poor", "maxLabel": "Very good" },
            { "kind": "TEXT", "minLabel": null, "maxLabel": null }
        ])
    );
    let open = invite_token(&app, &admin, &survey, None).await;
    for (header, locale, low) in [
        ("en-GB", "en", "Not at all"),
        ("fr, de;q=0.5", "de", "Gar nicht"),
    ] {
        let body = app
            .graphql_in(header, LABELS_SHOWN, json!({ "t": open }))
            .await;
        let seen = &data(&body)["surveyInvitation"];
        assert_eq!(seen["locale"], locale, "{header}: {body}");
        assert_eq!(seen["questions"][0]["minLabel"], low, "{header}");
        assert_eq!(seen["questions"][3]["minLabel"], Value::Null, "{header}");
    }

    // While ACTIVE a correction must keep every label; a refused one
    // leaves the stored translation as it was.
    let body = app
        .graphql_as(Some(&admin), SET, json!({ "input": partial }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(field(&body), "translations.en.questions.2.maxLabel");
    assert_eq!(
        read_labels(&app, &admin, &survey).await["translations"],
        published["translations"]
    );
    let mut corrected = labelled_english(&survey, &q);
    corrected["questions"][0]["maxLabel"] = json!("Completely");
    app.graphql_as(Some(&admin), SET, json!({ "input": corrected }))
        .await;
    let body = app
        .graphql_as(Some(&admin), LABELS_SHOWN, json!({ "t": english }))
        .await;
    assert_eq!(
        data(&body)["surveyInvitation"]["questions"][0]["maxLabel"],
        "Completely"
    );
}
