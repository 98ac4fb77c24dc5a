//! Typed builders for the data tests arrange: customers, loyalty programmes,
//! surveys, purchases, survey responses, follow-ups and ledger entries.
//!
//! Each builder creates its record over the GraphQL API (`create` /
//! `record`, what a client would send) or, where a test needs speed or rows
//! the API cannot write, straight into the database (`insert`). Statuses,
//! stages and kinds are the domain's enums, rendered to their GraphQL enum
//! names (which are also the names the database stores).

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    customer_tags, customers, follow_ups, loyalty_programs, memberships, purchases, survey_answers,
    survey_invitations, survey_questions, survey_responses, surveys,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde_json::{json, Map, Value};

use crate::helpers::{data, TestApp};

// ------------------------------------------------------------------ enums
//
// The domain's enums: each `as_str` is the name the database stores, which is
// also the GraphQL enum name.

pub use domain::csi::FactorSetStatus;
pub use domain::customers::{RelationshipStage as Stage, RelationshipType};
pub use domain::feedback::{QuestionKind, SurveyStatus};

// ---------------------------------------------------------------- plumbing

/// An RFC 3339 timestamp (`2025-01-01T00:00:00Z`) as a UTC time.
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339 timestamp")
        .with_timezone(&Utc)
}

/// An ISO date (`1990-05-17`).
pub fn day(text: &str) -> NaiveDate {
    text.parse().expect("ISO date")
}

/// The API id of record `key` of GraphQL type `type_name` (e.g. `"Customer"`):
/// the global id `base64url_no_pad("<type>:<key>")`.
#[allow(dead_code)]
pub fn api_id(type_name: &str, key: i64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{type_name}:{key}"))
}

/// The database key behind an API id.
#[allow(dead_code)]
pub fn db_key(id: &str) -> i64 {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .unwrap_or_else(|_| panic!("not a global id: {id}"));
    let text = String::from_utf8(bytes).unwrap_or_else(|_| panic!("not a global id: {id}"));
    text.split_once(':')
        .and_then(|(_, key)| key.parse().ok())
        .unwrap_or_else(|| panic!("not a record id: {id} ({text})"))
}

/// A reference to a record that a builder accepts either way: a database key
/// (`i64`, from an `insert`) or an API id (a string, from an answer).
pub trait RecordRef {
    /// The API id of the record, whose GraphQL type is `type_name`.
    fn to_api_id(&self, type_name: &str) -> String;
}

impl RecordRef for i64 {
    fn to_api_id(&self, type_name: &str) -> String {
        api_id(type_name, *self)
    }
}

impl RecordRef for &str {
    fn to_api_id(&self, _: &str) -> String {
        (*self).to_owned()
    }
}

impl RecordRef for String {
    fn to_api_id(&self, _: &str) -> String {
        self.clone()
    }
}

impl RecordRef for &String {
    fn to_api_id(&self, _: &str) -> String {
        (*self).clone()
    }
}

/// Runs a mutation as `token` that must succeed and returns its root field.
async fn mutate(app: &TestApp, token: &str, query: &str, variables: Value, field: &str) -> Value {
    let body = app.graphql_as(Some(token), query, variables).await;
    data(&body)[field].clone()
}

/// Runs `query` with `$input` as `token`; it must succeed. Returns the
/// payload's `object` of mutation `field` (e.g. `createCustomer.customer`).
async fn create_with(
    app: &TestApp,
    token: &str,
    query: &str,
    input: Value,
    (field, object): (&str, &str),
) -> Value {
    mutate(app, token, query, json!({ "input": input }), field).await[object].clone()
}

/// The `id` of a created object, as the API sends it.
fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

/// Sets `key` in a JSON object.
fn put(object: &mut Map<String, Value>, key: &str, value: impl Into<Value>) {
    object.insert(key.to_owned(), value.into());
}

// --------------------------------------------------------------- customers

/// A customer to create; see the module docs.
#[derive(Clone, Debug)]
pub struct CustomerBuilder {
    name: String,
    email: Option<String>,
    phone: Option<String>,
    birthday: Option<NaiveDate>,
    locale: Option<String>,
    tags: Vec<String>,
    stage: Option<Stage>,
    kind: Option<RelationshipType>,
    acquired_at: Option<DateTime<Utc>>,
    referred_by: Option<String>,
    marketing_consent: bool,
}

impl Default for CustomerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CustomerBuilder {
    /// A customer with a unique name and nothing else set.
    pub fn new() -> Self {
        Self {
            name: format!("Customer {}", uuid::Uuid::new_v4().simple()),
            email: None,
            phone: None,
            birthday: None,
            locale: None,
            tags: Vec::new(),
            stage: None,
            kind: None,
            acquired_at: None,
            referred_by: None,
            marketing_consent: false,
        }
    }

    /// The display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The e-mail address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// The telephone number.
    pub fn phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    /// The date of birth.
    pub fn birthday(mut self, birthday: NaiveDate) -> Self {
        self.birthday = Some(birthday);
        self
    }

    /// The preferred language.
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// One more tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// The relationship stage (the API's default, EXPLORATION, when unset).
    pub fn stage(mut self, stage: Stage) -> Self {
        self.stage = Some(stage);
        self
    }

    /// The relationship type.
    pub fn kind(mut self, kind: RelationshipType) -> Self {
        self.kind = Some(kind);
        self
    }

    /// When the customer was acquired (now when unset).
    pub fn acquired_at(mut self, at: DateTime<Utc>) -> Self {
        self.acquired_at = Some(at);
        self
    }

    /// The referring customer.
    pub fn referred_by(mut self, id: impl RecordRef) -> Self {
        self.referred_by = Some(id.to_api_id("Customer"));
        self
    }

    /// Whether the customer agreed to marketing.
    pub fn marketing_consent(mut self, consent: bool) -> Self {
        self.marketing_consent = consent;
        self
    }

    /// The `CreateCustomerInput` for this customer.
    pub fn input(&self) -> Value {
        let mut input = Map::new();
        put(&mut input, "name", self.name.as_str());
        if let Some(email) = &self.email {
            put(&mut input, "email", email.as_str());
        }
        if let Some(phone) = &self.phone {
            put(&mut input, "phone", phone.as_str());
        }
        if let Some(birthday) = self.birthday {
            put(&mut input, "birthday", birthday.to_string());
        }
        if let Some(locale) = &self.locale {
            put(&mut input, "locale", locale.as_str());
        }
        if !self.tags.is_empty() {
            put(&mut input, "tags", self.tags.clone());
        }
        if let Some(stage) = self.stage {
            put(&mut input, "relationshipStage", stage.as_str());
        }
        if let Some(kind) = self.kind {
            put(&mut input, "relationshipType", kind.as_str());
        }
        if let Some(at) = self.acquired_at {
            put(&mut input, "acquiredAt", at.to_rfc3339());
        }
        if let Some(id) = &self.referred_by {
            put(&mut input, "referredById", id.as_str());
        }
        if self.marketing_consent {
            put(&mut input, "marketingConsent", true);
        }
        Value::Object(input)
    }

    /// The mutation [`Self::create`] sends, with `$input` from [`Self::input`].
    pub const CREATE: &'static str =
        "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } } }";

    /// Creates the customer with `createCustomer` as `token`; returns its id.
    pub async fn create(&self, app: &TestApp, token: &str) -> String {
        id_of(
            &create_with(
                app,
                token,
                Self::CREATE,
                self.input(),
                ("createCustomer", "customer"),
            )
            .await,
        )
    }

    /// The row as the database would store it (tags apart).
    pub fn model(&self) -> customers::ActiveModel {
        let now = Utc::now();
        customers::ActiveModel {
            name: Set(self.name.clone()),
            email: Set(self.email.clone()),
            phone: Set(self.phone.clone()),
            birthday: Set(self.birthday),
            locale: Set(self.locale.clone()),
            relationship_stage: Set(self.stage.unwrap_or(Stage::Exploration).as_str().to_owned()),
            relationship_type: Set(self.kind.map(|k| k.as_str().to_owned())),
            acquired_at: Set(self.acquired_at.unwrap_or(now)),
            referred_by_id: Set(self.referred_by.as_deref().map(db_key)),
            marketing_consent: Set(self.marketing_consent),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    }

    /// Inserts the customer and its tags straight into the database.
    pub async fn insert(&self, db: &impl ConnectionTrait) -> i64 {
        let row = self.model().insert(db).await.expect("customer");
        for tag in &self.tags {
            customer_tags::ActiveModel {
                customer_id: Set(row.id),
                tag: Set(tag.clone()),
            }
            .insert(db)
            .await
            .expect("tag");
        }
        row.id
    }
}

// ---------------------------------------------------------------- programs

/// A loyalty programme to create; see the module docs.
#[derive(Clone, Debug)]
pub struct ProgramBuilder {
    name: String,
    currency: String,
    points_per_currency_unit: String,
    tiers: Vec<(String, i64, String)>,
    referral_bonus_points: i64,
    referral_window_days: i32,
    birthday_bonus_points: i64,
    extra: Map<String, Value>,
}

impl ProgramBuilder {
    /// A EUR programme earning 1 point per euro with one base tier and no
    /// bonuses.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            currency: "EUR".to_owned(),
            points_per_currency_unit: "1".to_owned(),
            tiers: vec![("Base".to_owned(), 0, "1".to_owned())],
            referral_bonus_points: 0,
            referral_window_days: 30,
            birthday_bonus_points: 0,
            extra: Map::new(),
        }
    }

    /// The tiers: name, lifetime points from which it applies, multiplier.
    pub fn tiers(mut self, tiers: &[(&str, i64, &str)]) -> Self {
        self.tiers = tiers
            .iter()
            .map(|(name, min, multiplier)| ((*name).to_owned(), *min, (*multiplier).to_owned()))
            .collect();
        self
    }

    /// The referral bonus and the days within which it is earned.
    pub fn referral(mut self, bonus_points: i64, window_days: i32) -> Self {
        self.referral_bonus_points = bonus_points;
        self.referral_window_days = window_days;
        self
    }

    /// The birthday bonus.
    pub fn birthday_bonus(mut self, points: i64) -> Self {
        self.birthday_bonus_points = points;
        self
    }

    /// Sets any other `CreateLoyaltyProgramInput` field (or replaces one),
    /// for the API only.
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.extra.insert(field.to_owned(), value);
        self
    }

    /// Applies every field of a JSON object as [`Self::with`] does.
    pub fn with_all(mut self, fields: &Value) -> Self {
        if let Some(fields) = fields.as_object() {
            for (field, value) in fields {
                self.extra.insert(field.clone(), value.clone());
            }
        }
        self
    }

    /// The `CreateLoyaltyProgramInput` for this programme.
    pub fn input(&self) -> Value {
        let tiers: Vec<Value> = self
            .tiers
            .iter()
            .map(|(name, min, multiplier)| {
                json!({ "name": name, "minLifetimePoints": min, "earnMultiplier": multiplier })
            })
            .collect();
        let mut input = Map::new();
        put(&mut input, "name", self.name.as_str());
        put(&mut input, "currency", self.currency.as_str());
        put(
            &mut input,
            "pointsPerCurrencyUnit",
            self.points_per_currency_unit.as_str(),
        );
        put(&mut input, "tiers", tiers);
        if self.referral_bonus_points != 0 {
            put(
                &mut input,
                "referralBonusPoints",
                self.referral_bonus_points,
            );
            put(&mut input, "referralWindowDays", self.referral_window_days);
        }
        if self.birthday_bonus_points != 0 {
            put(
                &mut input,
                "birthdayBonusPoints",
                self.birthday_bonus_points,
            );
        }
        for (field, value) in &self.extra {
            input.insert(field.clone(), value.clone());
        }
        Value::Object(input)
    }

    /// The mutation [`Self::create`] sends, with `$input` from [`Self::input`].
    pub const CREATE: &'static str = "mutation($input: CreateLoyaltyProgramInput!) { createLoyaltyProgram(input: $input) { loyaltyProgram { id } } }";

    /// Creates the programme with `createLoyaltyProgram` as `token` (an
    /// admin); returns its id.
    pub async fn create(&self, app: &TestApp, token: &str) -> String {
        id_of(
            &create_with(
                app,
                token,
                Self::CREATE,
                self.input(),
                ("createLoyaltyProgram", "loyaltyProgram"),
            )
            .await,
        )
    }

    /// The row as the database would store it (tiers and extra fields
    /// apart).
    pub fn model(&self) -> loyalty_programs::ActiveModel {
        let now = Utc::now();
        loyalty_programs::ActiveModel {
            name: Set(self.name.clone()),
            currency: Set(self.currency.clone()),
            points_per_currency_unit: Set(self.points_per_currency_unit.clone()),
            points_expire_after_days: Set(None),
            referral_bonus_points: Set(self.referral_bonus_points),
            referral_window_days: Set(self.referral_window_days),
            birthday_bonus_points: Set(self.birthday_bonus_points),
            // Given explicitly (the column's default): SQLite may read a
            // column added by `ALTER TABLE … DEFAULT` back as NULL from
            // `INSERT … RETURNING` when the insert leaves it out.
            enroll_on_first_purchase: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    }

    /// Inserts the programme row (without tiers) straight into the database.
    pub async fn insert(&self, db: &impl ConnectionTrait) -> i64 {
        self.model().insert(db).await.expect("program").id
    }
}

// ----------------------------------------------------------------- surveys

/// A survey to create; see the module docs.
#[derive(Clone, Debug)]
pub struct SurveyBuilder {
    title: String,
    created_at: Option<DateTime<Utc>>,
    status: SurveyStatus,
    factor_set_id: Option<i64>,
    program_id: Option<String>,
    incentive_points: i64,
    helpful_bonus_points: i64,
    questions: Vec<Value>,
    extra: Map<String, Value>,
}

/// A survey the API created: its id and its questions' ids in order.
#[derive(Clone, Debug)]
pub struct CreatedSurvey {
    pub id: String,
    pub questions: Vec<String>,
}

/// A question for [`SurveyBuilder::question`]: its text and kind, with any
/// further `SurveyQuestionInput` fields in `extra` (an object or null).
pub fn question(text: &str, kind: QuestionKind, extra: Value) -> Value {
    let mut q = json!({ "text": text, "kind": kind.as_str() });
    if let (Some(q), Some(extra)) = (q.as_object_mut(), extra.as_object()) {
        q.extend(extra.clone());
    }
    q
}

impl SurveyBuilder {
    /// A draft survey with this title, no questions and no incentives.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            created_at: None,
            status: SurveyStatus::Draft,
            factor_set_id: None,
            program_id: None,
            incentive_points: 0,
            helpful_bonus_points: 0,
            questions: Vec::new(),
            extra: Map::new(),
        }
    }

    /// The status to insert with (the API always creates drafts).
    pub fn status(mut self, status: SurveyStatus) -> Self {
        self.status = status;
        self
    }

    /// The creation time to insert with (default now).
    pub fn created_at(mut self, at: DateTime<Utc>) -> Self {
        self.created_at = Some(at);
        self
    }

    /// The CSI factor set the survey rates.
    pub fn factor_set(mut self, id: i64) -> Self {
        self.factor_set_id = Some(id);
        self
    }

    /// The loyalty programme that credits the incentives.
    pub fn program(mut self, id: impl RecordRef) -> Self {
        self.program_id = Some(id.to_api_id("LoyaltyProgram"));
        self
    }

    /// Points for a complete response.
    pub fn incentive_points(mut self, points: i64) -> Self {
        self.incentive_points = points;
        self
    }

    /// Points for a response marked helpful.
    pub fn helpful_bonus_points(mut self, points: i64) -> Self {
        self.helpful_bonus_points = points;
        self
    }

    /// One more question (see [`question`]).
    pub fn question(mut self, question: Value) -> Self {
        self.questions.push(question);
        self
    }

    /// Sets any other `CreateSurveyInput` field, for the API only.
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.extra.insert(field.to_owned(), value);
        self
    }

    /// The `CreateSurveyInput` for this survey.
    pub fn input(&self) -> Value {
        let mut input = Map::new();
        put(&mut input, "title", self.title.as_str());
        for (field, value) in &self.extra {
            input.insert(field.clone(), value.clone());
        }
        if let Some(id) = self.factor_set_id {
            put(&mut input, "factorSetId", api_id("CsiFactorSet", id));
        }
        if let Some(id) = &self.program_id {
            put(&mut input, "loyaltyProgramId", id.as_str());
        }
        if self.incentive_points != 0 {
            put(&mut input, "incentivePoints", self.incentive_points);
        }
        if self.helpful_bonus_points != 0 {
            put(&mut input, "helpfulBonusPoints", self.helpful_bonus_points);
        }
        put(&mut input, "questions", self.questions.clone());
        Value::Object(input)
    }

    /// The mutation [`Self::create`] sends, with `$input` from [`Self::input`].
    pub const CREATE: &'static str = "mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { survey { id questions { id } } } }";

    /// The mutation [`Self::publish`] sends, with the survey's `$id`.
    pub const PUBLISH: &'static str =
        "mutation($id: ID!) { publishSurvey(input: { id: $id }) { survey { id } } }";

    /// Creates the survey with `createSurvey` as `token`.
    pub async fn create(&self, app: &TestApp, token: &str) -> CreatedSurvey {
        CreatedSurvey::from_answer(
            &create_with(
                app,
                token,
                Self::CREATE,
                self.input(),
                ("createSurvey", "survey"),
            )
            .await,
        )
    }

    /// Creates the survey and publishes it with `publishSurvey`.
    pub async fn publish(&self, app: &TestApp, token: &str) -> CreatedSurvey {
        let survey = self.create(app, token).await;
        mutate(
            app,
            token,
            Self::PUBLISH,
            json!({ "id": survey.id }),
            "publishSurvey",
        )
        .await;
        survey
    }

    /// The row as the database would store it (questions apart).
    pub fn model(&self) -> surveys::ActiveModel {
        let now = Utc::now();
        surveys::ActiveModel {
            title: Set(self.title.clone()),
            status: Set(self.status.as_str().to_owned()),
            factor_set_id: Set(self.factor_set_id),
            program_id: Set(self.program_id.as_deref().map(db_key)),
            incentive_points: Set(self.incentive_points),
            helpful_bonus_points: Set(self.helpful_bonus_points),
            created_at: Set(self.created_at.unwrap_or(now)),
            updated_at: Set(now),
            ..Default::default()
        }
    }

    /// Inserts the survey row (without questions) straight into the database.
    pub async fn insert(&self, db: &impl ConnectionTrait) -> i64 {
        self.model().insert(db).await.expect("survey").id
    }
}

impl CreatedSurvey {
    /// Reads `{ id questions { id } }` of a `Survey`.
    pub fn from_answer(survey: &Value) -> Self {
        Self {
            id: id_of(survey),
            questions: survey["questions"]
                .as_array()
                .expect("questions")
                .iter()
                .map(id_of)
                .collect(),
        }
    }
}

// --------------------------------------------------------------- purchases

/// A purchase to record; see the module docs.
#[derive(Clone, Debug)]
pub struct PurchaseBuilder {
    customer: String,
    amount: String,
    minor: i64,
    currency: String,
    occurred_at: Option<DateTime<Utc>>,
    external_ref: String,
}

impl PurchaseBuilder {
    /// A purchase of 10.00 EUR (1000 cents) by `customer`, now, with a unique reference.
    pub fn new(customer: impl RecordRef) -> Self {
        Self {
            customer: customer.to_api_id("Customer"),
            amount: "10.00".to_owned(),
            minor: 1000,
            currency: "EUR".to_owned(),
            occurred_at: None,
            external_ref: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The amount in major units, as the API takes it (`"12.50"`), for
    /// [`Self::record`].
    pub fn amount(mut self, amount: impl Into<String>) -> Self {
        self.amount = amount.into();
        self
    }

    /// The amount in minor units (cents), as the database stores it, for
    /// [`Self::insert`].
    pub fn minor(mut self, minor: i64) -> Self {
        self.minor = minor;
        self
    }

    /// The ISO 4217 currency.
    pub fn currency(mut self, currency: impl Into<String>) -> Self {
        self.currency = currency.into();
        self
    }

    /// When it was made (now when unset).
    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.occurred_at = Some(at);
        self
    }

    /// The selling system's reference.
    pub fn external_ref(mut self, reference: impl Into<String>) -> Self {
        self.external_ref = reference.into();
        self
    }

    /// The `RecordPurchaseInput` for this purchase (`amount` in major units).
    pub fn input(&self) -> Value {
        let mut input = json!({
            "customerId": self.customer,
            "amount": self.amount,
            "currency": self.currency,
            "externalRef": self.external_ref,
        });
        if let (Some(input), Some(at)) = (input.as_object_mut(), self.occurred_at) {
            put(input, "occurredAt", at.to_rfc3339());
        }
        input
    }

    /// The mutation [`Self::record`] sends, with `$input` from [`Self::input`].
    pub const RECORD: &'static str =
        "mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } } }";

    /// Records the purchase with `recordPurchase` as `token`; returns its id.
    pub async fn record(&self, app: &TestApp, token: &str) -> String {
        id_of(
            &create_with(
                app,
                token,
                Self::RECORD,
                self.input(),
                ("recordPurchase", "purchase"),
            )
            .await,
        )
    }

    /// The row as the database would store it (`amount` in minor units).
    pub fn model(&self) -> purchases::ActiveModel {
        purchases::ActiveModel {
            customer_id: Set(db_key(&self.customer)),
            amount_minor: Set(self.minor),
            currency: Set(self.currency.clone()),
            occurred_at: Set(self.occurred_at.unwrap_or_else(Utc::now)),
            external_ref: Set(self.external_ref.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
    }

    /// Inserts the purchase row straight into the database, crediting no
    /// points.
    pub async fn insert(&self, db: &impl ConnectionTrait) -> purchases::Model {
        self.model().insert(db).await.expect("purchase")
    }

    /// Stores the purchase and credits it as `recordPurchase` does: in one
    /// write transaction. Returns the purchase id.
    pub async fn insert_and_credit(&self, app: &TestApp) -> i64 {
        let txn = domain::db::begin_write(app.db()).await.expect("txn");
        let row = self.insert(&txn).await;
        domain::loyalty::on_purchase_recorded(
            &txn,
            &domain::customers::Purchase::try_from(row.clone()).expect("purchase"),
        )
        .await
        .expect("points credited");
        txn.commit().await.expect("commit");
        row.id
    }
}

// ------------------------------------------------------ survey responses

/// Inserts a question of `kind` at `position` into a survey; returns its id.
pub async fn insert_question(
    db: &impl ConnectionTrait,
    survey_id: i64,
    position: i32,
    kind: QuestionKind,
) -> i64 {
    survey_questions::ActiveModel {
        survey_id: Set(survey_id),
        position: Set(position),
        text: Set(format!("Question {position}")),
        required: Set(false),
        kind: Set(kind.as_str().to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("question")
    .id
}

/// A submitted response to insert straight into the database, with its
/// (used) invitation and, optionally, a TEXT answer.
#[derive(Clone, Debug)]
pub struct ResponseBuilder {
    survey_id: i64,
    customer_id: i64,
    submitted_at: DateTime<Utc>,
    csi: Option<String>,
    helpful_at: Option<DateTime<Utc>>,
    comment: Option<(i64, String)>,
}

impl ResponseBuilder {
    /// A response by `customer_id` to `survey_id`, submitted now, no CSI.
    pub fn new(survey_id: i64, customer_id: i64) -> Self {
        Self {
            survey_id,
            customer_id,
            submitted_at: Utc::now(),
            csi: None,
            helpful_at: None,
            comment: None,
        }
    }

    /// When it was submitted.
    pub fn submitted_at(mut self, at: DateTime<Utc>) -> Self {
        self.submitted_at = at;
        self
    }

    /// Its CSI, as stored (`"87.5"`).
    pub fn csi(mut self, csi: &str) -> Self {
        self.csi = Some(csi.to_owned());
        self
    }

    /// Marked helpful at this time.
    pub fn helpful_at(mut self, at: DateTime<Utc>) -> Self {
        self.helpful_at = Some(at);
        self
    }

    /// A TEXT answer to `question_id`.
    pub fn comment(mut self, question_id: i64, text: &str) -> Self {
        self.comment = Some((question_id, text.to_owned()));
        self
    }

    /// Inserts the invitation, the response and the answer; returns the
    /// response's database key.
    pub async fn insert(&self, db: &impl ConnectionTrait) -> i64 {
        let invitation = survey_invitations::ActiveModel {
            survey_id: Set(self.survey_id),
            customer_id: Set(self.customer_id),
            token_hash: Set(uuid::Uuid::new_v4().simple().to_string()),
            expires_at: Set(self.submitted_at + chrono::Duration::days(30)),
            created_at: Set(self.submitted_at - chrono::Duration::days(1)),
            used_at: Set(Some(self.submitted_at)),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("invitation");
        let response = survey_responses::ActiveModel {
            survey_id: Set(self.survey_id),
            invitation_id: Set(invitation.id),
            customer_id: Set(self.customer_id),
            submitted_at: Set(self.submitted_at),
            csi: Set(self.csi.clone()),
            helpful_at: Set(self.helpful_at),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("response");
        if let Some((question_id, text)) = &self.comment {
            survey_answers::ActiveModel {
                response_id: Set(response.id),
                question_id: Set(*question_id),
                text: Set(Some(text.clone())),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("answer");
        }
        response.id
    }
}

/// A follow-up to insert straight into the database.
#[derive(Clone, Debug)]
pub struct FollowUpBuilder {
    response_id: i64,
    customer_id: i64,
    status: domain::feedback::FollowUpStatus,
    opened_at: DateTime<Utc>,
}

impl FollowUpBuilder {
    /// An OPEN follow-up of a response by `customer_id`, opened now.
    pub fn new(response_id: i64, customer_id: i64) -> Self {
        Self {
            response_id,
            customer_id,
            status: domain::feedback::FollowUpStatus::Open,
            opened_at: Utc::now(),
        }
    }

    /// Its status.
    pub fn status(mut self, status: domain::feedback::FollowUpStatus) -> Self {
        self.status = status;
        self
    }

    /// When it was opened.
    pub fn opened_at(mut self, at: DateTime<Utc>) -> Self {
        self.opened_at = at;
        self
    }

    /// Inserts it; returns its database key.
    pub async fn insert(&self, db: &impl ConnectionTrait) -> i64 {
        let resolved = self.status == domain::feedback::FollowUpStatus::Resolved;
        follow_ups::ActiveModel {
            response_id: Set(self.response_id),
            customer_id: Set(self.customer_id),
            reason: Set("LOW_RATING".to_owned()),
            status: Set(self.status.as_str().to_owned()),
            opened_at: Set(self.opened_at),
            resolved_at: Set(resolved.then(Utc::now)),
            note: Set(resolved.then(|| "Called back".to_owned())),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("follow-up")
        .id
    }
}

// ------------------------------------------------------------- ledger

/// Inserts a membership of `customer_id` in `program_id` with an empty
/// ledger; returns its database key.
pub async fn insert_membership(
    db: &impl ConnectionTrait,
    program_id: i64,
    customer_id: i64,
) -> i64 {
    memberships::ActiveModel {
        program_id: Set(program_id),
        customer_id: Set(customer_id),
        balance: Set(0),
        lifetime_points: Set(0),
        enrolled_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("membership")
    .id
}

/// Appends a ledger entry through the domain (the database moves the
/// balance); returns the entry's database key.
pub async fn append_entry(
    db: &impl ConnectionTrait,
    membership_id: i64,
    delta: i64,
    reason: domain::loyalty::LedgerReason,
    occurred_at: DateTime<Utc>,
) -> i64 {
    domain::loyalty::ledger::append(
        db,
        domain::loyalty::NewEntry {
            membership_id,
            delta,
            reason,
            source_key: uuid::Uuid::new_v4().simple().to_string(),
            occurred_at,
            expires_at: None,
            actor_id: None,
            note: None,
        },
    )
    .await
    .expect("entry")
    .expect("new entry")
    .id
}
