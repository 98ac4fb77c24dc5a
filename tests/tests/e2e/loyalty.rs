//! Loyalty programmes end to end: configuration, earning, promotions,
//! referrals, birthdays, rewards, idempotency, expiry and concurrency.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::auth::Role;
use entity::{customers, ledger_entries, memberships};
use futures::future::join_all;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};

use crate::fixtures::{CustomerBuilder, ProgramBuilder, PurchaseBuilder, Stage};
use crate::helpers::{data, error_code, spawn_app, Engine, TestApp};

on_both_engines!(
    admins_configure_programmes_and_other_roles_only_read,
    redemptions_move_the_redemption_counter,
    bad_programme_input_is_rejected_and_nothing_is_written,
    updating_a_programme_replaces_its_tiers,
    enrolment_needs_a_manager_and_happens_once,
    purchases_earn_points_by_the_formula_and_tiers_rise_immediately,
    the_highest_applicable_promotion_wins,
    a_referral_is_credited_once_within_the_window,
    birthday_bonuses_are_credited_once_per_year_including_leap_days,
    points_expire_oldest_first_net_of_redemptions,
    redeeming_fails_cleanly_and_writes_nothing,
    an_unavailable_reward_says_so_whatever_the_balance,
    concurrent_redemptions_never_overdraw_the_balance,
    concurrent_redemptions_never_overdraw_the_stock,
    members_who_cannot_afford_never_hold_back_the_stock,
    one_idempotency_key_sent_concurrently_redeems_once,
    adjustments_are_idempotent_and_need_a_manager,
    idempotency_keys_are_scoped_by_user_and_operation,
    keys_stored_before_the_upgrade_still_replay,
    concurrent_purchases_crossing_a_tier_both_count,
    the_ledger_pages_newest_first,
    customer_memberships_load_in_one_batch,
    overflowing_points_are_rejected_and_nothing_is_written,
    the_demo_programme_enrols_existing_customers_with_history,
    a_page_of_members_with_ledgers_costs_the_same_for_3_or_25,
    recording_a_purchase_over_http_credits_points_and_the_referrer,
    a_first_purchase_enrols_where_the_programme_says_so_and_says_what_it_earned,
    the_customer_card_shows_memberships_without_n_plus_1,
    the_database_itself_keeps_balance_equal_to_the_ledger,
);

// ---------------------------------------------------------------- helpers

const CREATE_PROGRAM: &str = "mutation($input: CreateLoyaltyProgramInput!) {
  createLoyaltyProgram(input: $input) { loyaltyProgram { id name currency pointsPerCurrencyUnit tiers { name minLifetimePoints earnMultiplier } } }
}";
const ENROLL: &str = "mutation($p: ID!, $c: ID!) { enrollCustomer(input: { loyaltyProgramId: $p, customerId: $c }) { membership { id balance tier { name } } } }";
const MEMBERSHIP: &str = "query($id: ID!) { membership(id: $id) {
  balance lifetimePoints tier { name } nextTier { name } pointsToNextTier
  expiringPoints { points expiresAt }
  ledger(first: 100) { edges { node { delta reason reference note } } }
} }";
const REDEEM: &str = "mutation($m: ID!, $r: ID!, $k: String!) {
  redeemReward(input: { membershipId: $m, rewardId: $r, idempotencyKey: $k }) { redemption { id pointsSpent membership { balance } reward { stock } } }
}";
const ADJUST: &str = "mutation($m: ID!, $d: Int!, $n: String!, $k: String!) {
  adjustPoints(input: { membershipId: $m, delta: $d, note: $n, idempotencyKey: $k }) { ledgerEntry { id delta reason note } membership { balance } }
}";
const CREATE_REWARD: &str = "mutation($p: ID!, $n: String!, $c: Int!, $s: Int) {
  createReward(input: { loyaltyProgramId: $p, name: $n, costPoints: $c, stock: $s }) { reward { id costPoints stock } }
}";

fn program_input(overrides: Value) -> Value {
    club(overrides).input()
}

/// The Club: Bronze, Silver from 1000 and Gold from 5000 lifetime points,
/// referral and birthday bonuses, with `overrides` applied.
fn club(overrides: Value) -> ProgramBuilder {
    ProgramBuilder::new("Club")
        .tiers(&[
            ("Bronze", 0, "1"),
            ("Silver", 1000, "1.5"),
            ("Gold", 5000, "2"),
        ])
        .referral(250, 30)
        .birthday_bonus(100)
        .with_all(&overrides)
}

async fn create_program(app: &TestApp, admin: &str, overrides: Value) -> String {
    club(overrides).create(app, admin).await
}

fn new_customer(name: &str) -> CustomerBuilder {
    CustomerBuilder::new()
        .name(name)
        .stage(Stage::Commitment)
        .acquired_at(Utc::now() - Duration::days(1))
        .marketing_consent(true)
}

async fn insert_customer(app: &TestApp, customer: CustomerBuilder) -> i64 {
    customer.insert(app.db()).await
}

async fn enroll(app: &TestApp, token: &str, program: &str, customer: i64) -> String {
    let body = app
        .graphql_as(
            Some(token),
            ENROLL,
            json!({ "p": program, "c": crate::fixtures::api_id("Customer", customer) }),
        )
        .await;
    data(&body)["enrollCustomer"]["membership"]["id"]
        .as_str()
        .expect("membership id")
        .to_owned()
}

/// Stores a purchase row and credits it as `recordPurchase` does.
async fn purchase(
    app: &TestApp,
    customer: i64,
    amount_minor: i64,
    currency: &str,
    at: DateTime<Utc>,
) -> i64 {
    PurchaseBuilder::new(customer)
        .minor(amount_minor)
        .currency(currency)
        .at(at)
        .insert_and_credit(app)
        .await
}

async fn membership(app: &TestApp, token: &str, id: &str) -> Value {
    let body = app
        .graphql_as(Some(token), MEMBERSHIP, json!({ "id": id }))
        .await;
    data(&body)["membership"].clone()
}

async fn balance(app: &TestApp, token: &str, id: &str) -> i64 {
    membership(app, token, id).await["balance"]
        .as_i64()
        .expect("balance")
}

async fn create_reward(
    app: &TestApp,
    admin: &str,
    program: &str,
    cost: i64,
    stock: Option<i64>,
) -> String {
    let body = app
        .graphql_as(
            Some(admin),
            CREATE_REWARD,
            json!({ "p": program, "n": "Coffee", "c": cost, "s": stock }),
        )
        .await;
    data(&body)["createReward"]["reward"]["id"]
        .as_str()
        .expect("reward id")
        .to_owned()
}

async fn adjust(app: &TestApp, token: &str, m: &str, delta: i64, key: &str) -> Value {
    app.graphql_as(
        Some(token),
        ADJUST,
        json!({ "m": m, "d": delta, "n": "goodwill", "k": key }),
    )
    .await
}

/// The SPEC invariant: for every membership, Σ ledger deltas = balance ≥ 0.
async fn assert_ledger_invariant(app: &TestApp) {
    for m in memberships::Entity::find()
        .all(app.db())
        .await
        .expect("memberships")
    {
        let sum: i64 = ledger_entries::Entity::find()
            .filter(ledger_entries::Column::MembershipId.eq(m.id))
            .all(app.db())
            .await
            .expect("entries")
            .iter()
            .map(|e| e.delta)
            .sum();
        assert_eq!(sum, m.balance, "membership {} balance = Σ ledger", m.id);
        assert!(m.balance >= 0, "membership {} balance ≥ 0", m.id);
    }
}

async fn ledger_count(app: &TestApp) -> u64 {
    ledger_entries::Entity::find()
        .count(app.db())
        .await
        .expect("count")
}

fn reasons(m: &Value) -> Vec<(i64, String, String)> {
    m["ledger"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["delta"].as_i64().expect("delta"),
                n["reason"].as_str().expect("reason").to_owned(),
                n["reference"].as_str().expect("reference").to_owned(),
            )
        })
        .collect()
}

struct Setup {
    app: TestApp,
    admin: String,
    manager: String,
    program: String,
}

async fn setup(engine: Engine, overrides: Value) -> Setup {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let manager = app.login_as(Role::Manager).await;
    let program = create_program(&app, &admin, overrides).await;
    Setup {
        app,
        admin,
        manager,
        program,
    }
}

/// `rapport_redemptions_total` in the process-wide metrics recorder.
fn redemptions_counted() -> f64 {
    let handle = api::http::metrics::install().expect("metrics recorder");
    handle
        .render()
        .lines()
        .find_map(|line| line.strip_prefix("rapport_redemptions_total "))
        .map_or(0.0, |v| v.parse().expect("a number"))
}

async fn redemptions_move_the_redemption_counter(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let m = member_with(&s, 100).await;
    let reward = create_reward(&s.app, &s.admin, &s.program, 30, None).await;
    let before = redemptions_counted();
    let vars = json!({ "m": m, "r": reward, "k": "counted-once" });
    let body = s.app.graphql_as(Some(&s.manager), REDEEM, vars).await;
    assert_eq!(
        data(&body)["redeemReward"]["redemption"]["membership"]["balance"],
        70
    );
    assert!(redemptions_counted() >= before + 1.0);
}

/// A member with `points` credited by hand.
async fn member_with(s: &Setup, points: i64) -> String {
    let customer = insert_customer(&s.app, new_customer("Ann")).await;
    let m = enroll(&s.app, &s.manager, &s.program, customer).await;
    if points > 0 {
        let body = adjust(&s.app, &s.manager, &m, points, &format!("seed-{m}")).await;
        data(&body);
    }
    m
}

// ---------------------------------------------------------------- configuration

async fn admins_configure_programmes_and_other_roles_only_read(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let body = app
        .graphql_as(
            Some(&admin),
            CREATE_PROGRAM,
            json!({ "input": program_input(json!({ "pointsPerCurrencyUnit": "2.50" })) }),
        )
        .await;
    let created = &data(&body)["createLoyaltyProgram"]["loyaltyProgram"];
    assert_eq!(created["currency"], "EUR");
    assert_eq!(created["pointsPerCurrencyUnit"], "2.5");
    assert_eq!(created["tiers"][1]["earnMultiplier"], "1.5");

    for role in [Role::Manager, Role::Agent] {
        let token = app.login_as(role).await;
        let refused = app
            .graphql_as(
                Some(&token),
                CREATE_PROGRAM,
                json!({ "input": program_input(json!({})) }),
            )
            .await;
        assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{role}");
        let read = app
            .graphql_as(
                Some(&token),
                "{ loyaltyPrograms { nodes { name tiers { name } } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            data(&read)["loyaltyPrograms"]["nodes"]
                .as_array()
                .map(Vec::len),
            Some(1),
            "{role} reads programmes"
        );
    }
    let anonymous = app
        .graphql("{ loyaltyPrograms { nodes { name } } }", json!({}))
        .await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
}

async fn bad_programme_input_is_rejected_and_nothing_is_written(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login_as(Role::Admin).await;
    let tiers = |t: Value| json!({ "tiers": t });
    let cases = [
        (json!({ "currency": "euro" }), "currency", "bad currency"),
        (
            json!({ "pointsPerCurrencyUnit": "0" }),
            "pointsPerCurrencyUnit",
            "zero rate",
        ),
        (
            json!({ "pointsPerCurrencyUnit": "-1" }),
            "pointsPerCurrencyUnit",
            "negative rate",
        ),
        (json!({ "name": "  " }), "name", "blank name"),
        (
            json!({ "pointsExpireAfterDays": 0 }),
            "pointsExpireAfterDays",
            "zero days",
        ),
        (
            json!({ "referralBonusPoints": -5 }),
            "referralBonusPoints",
            "negative bonus",
        ),
        (tiers(json!([])), "tiers", "no tiers"),
        (
            tiers(json!([{ "name": "Silver", "minLifetimePoints": 10, "earnMultiplier": "1" }])),
            "tiers",
            "no base tier",
        ),
        (
            tiers(json!([
                { "name": "Base", "minLifetimePoints": 0, "earnMultiplier": "1" },
                { "name": "Base", "minLifetimePoints": 10, "earnMultiplier": "2" }
            ])),
            "tiers.1.name",
            "duplicate tier name",
        ),
        (
            tiers(json!([{ "name": "Base", "minLifetimePoints": 0, "earnMultiplier": "0" }])),
            "tiers.0.earnMultiplier",
            "zero multiplier",
        ),
        (
            tiers(json!([{ "name": "Base", "minLifetimePoints": 0, "earnMultiplier": "-2" }])),
            "tiers.0.earnMultiplier",
            "negative multiplier",
        ),
    ];
    for (overrides, field, why) in cases {
        let body = app
            .graphql_as(
                Some(&admin),
                CREATE_PROGRAM,
                json!({ "input": program_input(overrides) }),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{why}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{why}");
    }
    let programs = entity::loyalty_programs::Entity::find()
        .count(app.db())
        .await
        .expect("count");
    let tiers = entity::loyalty_tiers::Entity::find()
        .count(app.db())
        .await
        .expect("count");
    assert_eq!((programs, tiers), (0, 0), "nothing written");
}

async fn updating_a_programme_replaces_its_tiers(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let update = "mutation($input: UpdateLoyaltyProgramInput!) {
      updateLoyaltyProgram(input: $input) { loyaltyProgram { name pointsExpireAfterDays tiers { name minLifetimePoints } } }
    }";
    let body = s
        .app
        .graphql_as(
            Some(&s.admin),
            update,
            json!({ "input": { "id": s.program,
                "name": "Club+",
                "pointsExpireAfterDays": 365,
                "tiers": [
                    { "name": "Member", "minLifetimePoints": 0, "earnMultiplier": "1" },
                    { "name": "VIP", "minLifetimePoints": 2000, "earnMultiplier": "3" }
                ]
            } }),
        )
        .await;
    let updated = &data(&body)["updateLoyaltyProgram"]["loyaltyProgram"];
    assert_eq!(updated["name"], "Club+");
    assert_eq!(updated["pointsExpireAfterDays"], 365);
    assert_eq!(updated["tiers"][1]["name"], "VIP");

    let bad = s
        .app
        .graphql_as(
            Some(&s.admin),
            update,
            json!({ "input": { "id": s.program, "tiers": [
                { "name": "VIP", "minLifetimePoints": 2000, "earnMultiplier": "3" }
            ] } }),
        )
        .await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
    let unchanged = s
        .app
        .graphql_as(
            Some(&s.admin),
            "query($id: ID!) { loyaltyProgram(id: $id) { tiers { name } } }",
            json!({ "id": s.program }),
        )
        .await;
    assert_eq!(
        data(&unchanged)["loyaltyProgram"]["tiers"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "a rejected update changes nothing"
    );
    let manager = s
        .app
        .graphql_as(
            Some(&s.manager),
            update,
            json!({ "input": { "id": s.program, "name": "Mine" } }),
        )
        .await;
    assert_eq!(error_code(&manager), Some("FORBIDDEN"));
}

async fn enrolment_needs_a_manager_and_happens_once(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let customer = insert_customer(&s.app, new_customer("Ann")).await;
    let agent = s.app.login_as(Role::Agent).await;
    let vars = json!({ "p": s.program, "c": crate::fixtures::api_id("Customer", customer) });

    let refused = s.app.graphql_as(Some(&agent), ENROLL, vars.clone()).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));

    let body = s
        .app
        .graphql_as(Some(&s.manager), ENROLL, vars.clone())
        .await;
    let m = &data(&body)["enrollCustomer"]["membership"];
    assert_eq!(
        (m["balance"].as_i64(), m["tier"]["name"].as_str()),
        (Some(0), Some("Bronze"))
    );

    let again = s.app.graphql_as(Some(&s.manager), ENROLL, vars).await;
    assert_eq!(error_code(&again), Some("CONFLICT"));
    let unknown = s
        .app
        .graphql_as(
            Some(&s.manager),
            ENROLL,
            json!({ "p": s.program, "c": crate::fixtures::api_id("Customer", 999_999) }),
        )
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"));
    let bad_id = s
        .app
        .graphql_as(Some(&s.manager), ENROLL, json!({ "p": "abc", "c": "1" }))
        .await;
    assert_eq!(error_code(&bad_id), Some("BAD_USER_INPUT"));
    assert_eq!(
        memberships::Entity::find()
            .count(s.app.db())
            .await
            .expect("count"),
        1
    );
}

// ---------------------------------------------------------------- earning

async fn purchases_earn_points_by_the_formula_and_tiers_rise_immediately(engine: Engine) {
    // 1.5 points per euro; Silver (×1.5) from 1000 lifetime points.
    let s = setup(engine, json!({ "pointsPerCurrencyUnit": "1.5" })).await;
    let customer = insert_customer(&s.app, new_customer("Ann")).await;
    let m = enroll(&s.app, &s.manager, &s.program, customer).await;
    let now = Utc::now();

    // 666.67 EUR · 1.5 · 1 (Bronze) = 1000.005 → 1000 points.
    purchase(&s.app, customer, 66_667, "EUR", now).await;
    let after_first = membership(&s.app, &s.manager, &m).await;
    assert_eq!(after_first["balance"], 1000);
    assert_eq!(after_first["tier"]["name"], "Silver", "tier rises at once");
    assert_eq!(after_first["nextTier"]["name"], "Gold");
    assert_eq!(after_first["pointsToNextTier"], 4000);

    // 19.99 EUR · 1.5 · 1.5 (Silver) = 44.9775 → 44 points.
    purchase(&s.app, customer, 1_999, "EUR", now).await;
    // Another currency earns nothing here.
    purchase(&s.app, customer, 50_000, "USD", now).await;
    let m = membership(&s.app, &s.manager, &m).await;
    assert_eq!(m["balance"], 1044);
    assert_eq!(m["lifetimePoints"], 1044);
    let entries = reasons(&m);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].0, 44);
    assert_eq!(entries[0].1, "PURCHASE");
    assert!(entries[0].2.starts_with("purchase:"));

    // A JPY programme: no minor unit.
    let yen = create_program(
        &s.app,
        &s.admin,
        json!({ "currency": "JPY", "pointsPerCurrencyUnit": "0.01" }),
    )
    .await;
    let ym = enroll(&s.app, &s.manager, &yen, customer).await;
    purchase(&s.app, customer, 12_345, "JPY", now).await;
    assert_eq!(
        balance(&s.app, &s.manager, &ym).await,
        123,
        "12345 JPY · 0.01"
    );
    assert_ledger_invariant(&s.app).await;
}

async fn the_highest_applicable_promotion_wins(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let now = Utc::now();
    let promo = "mutation($input: CreatePromotionInput!) { createPromotion(input: $input) { promotion { id multiplier tag } } }";
    for (name, multiplier, tag, starts, ends) in [
        (
            "Double days",
            "2",
            None,
            now - Duration::days(1),
            now + Duration::days(1),
        ),
        (
            "VIP triple",
            "3",
            Some("vip"),
            now - Duration::days(1),
            now + Duration::days(1),
        ),
        (
            "Past fivefold",
            "5",
            None,
            now - Duration::days(10),
            now - Duration::days(5),
        ),
    ] {
        let body = s
            .app
            .graphql_as(
                Some(&s.admin),
                promo,
                json!({ "input": { "loyaltyProgramId": s.program, "name": name, "multiplier": multiplier,
                    "startsAt": starts, "endsAt": ends, "tag": tag } }),
            )
            .await;
        data(&body);
    }
    for (overrides, field) in [
        (json!({ "multiplier": "0" }), "multiplier"),
        (json!({ "multiplier": "-1" }), "multiplier"),
        (json!({ "endsAt": now - Duration::days(2) }), "endsAt"),
    ] {
        let mut input = json!({ "loyaltyProgramId": s.program, "name": "Bad", "multiplier": "2",
            "startsAt": now - Duration::days(1), "endsAt": now + Duration::days(1) });
        if let (Some(i), Some(o)) = (input.as_object_mut(), overrides.as_object()) {
            i.extend(o.clone());
        }
        let body = s
            .app
            .graphql_as(Some(&s.admin), promo, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{field}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    let manager = s
        .app
        .graphql_as(
            Some(&s.manager),
            promo,
            json!({ "input": { "loyaltyProgramId": s.program, "name": "Mine", "multiplier": "2",
                "startsAt": now, "endsAt": now + Duration::days(1) } }),
        )
        .await;
    assert_eq!(error_code(&manager), Some("FORBIDDEN"));

    let plain = insert_customer(&s.app, new_customer("Ann")).await;
    let vip = insert_customer(&s.app, new_customer("Bob").tag("vip")).await;
    let plain_m = enroll(&s.app, &s.manager, &s.program, plain).await;
    let vip_m = enroll(&s.app, &s.manager, &s.program, vip).await;

    // 10.50 EUR at 1 point/EUR: base 10; ×2 → 21; ×3 → 31 (31.5 floored).
    purchase(&s.app, plain, 1_050, "EUR", now).await;
    purchase(&s.app, vip, 1_050, "EUR", now).await;
    // Outside every promotion.
    purchase(&s.app, plain, 1_050, "EUR", now - Duration::days(30)).await;

    let plain = membership(&s.app, &s.manager, &plain_m).await;
    assert_eq!(plain["balance"], 31, "21 with Double days + 10 without");
    let vip = membership(&s.app, &s.manager, &vip_m).await;
    assert_eq!(vip["balance"], 31, "VIP triple beats Double days");
    let mut vip_entries: Vec<(i64, String)> =
        reasons(&vip).into_iter().map(|(d, r, _)| (d, r)).collect();
    vip_entries.sort();
    assert_eq!(
        vip_entries,
        vec![(10, "PURCHASE".to_owned()), (21, "PROMOTION".to_owned())]
    );
    let promotion_note = vip["ledger"]["edges"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["node"]["reason"] == "PROMOTION"))
        .map(|e| e["node"]["note"].clone());
    assert_eq!(
        promotion_note,
        Some(json!("VIP triple")),
        "the winning promotion is named"
    );
    assert_ledger_invariant(&s.app).await;
}

async fn a_referral_is_credited_once_within_the_window(engine: Engine) {
    let s = setup(
        engine,
        json!({ "referralBonusPoints": 250, "referralWindowDays": 30 }),
    )
    .await;
    let now = Utc::now();
    let referrer = insert_customer(&s.app, new_customer("Ann")).await;
    let referrer_m = enroll(&s.app, &s.manager, &s.program, referrer).await;

    let on_time = new_customer("Bob")
        .referred_by(referrer)
        .acquired_at(now - Duration::days(10));
    let on_time = insert_customer(&s.app, on_time).await;
    enroll(&s.app, &s.manager, &s.program, on_time).await;

    let late = new_customer("Cid")
        .referred_by(referrer)
        .acquired_at(now - Duration::days(60));
    let late = insert_customer(&s.app, late).await;
    enroll(&s.app, &s.manager, &s.program, late).await;

    purchase(&s.app, on_time, 1_000, "EUR", now).await;
    purchase(&s.app, on_time, 1_000, "EUR", now + Duration::seconds(1)).await;
    purchase(&s.app, late, 1_000, "EUR", now).await;

    let m = membership(&s.app, &s.manager, &referrer_m).await;
    assert_eq!(
        m["balance"], 250,
        "credited once, only for the referral in time"
    );
    assert_eq!(
        reasons(&m),
        vec![(250, "REFERRAL".to_owned(), format!("referral:{on_time}"))]
    );
    assert_ledger_invariant(&s.app).await;
}

// ---------------------------------------------------------------- birthdays

async fn birthday_bonuses_are_credited_once_per_year_including_leap_days(engine: Engine) {
    let s = setup(engine, json!({ "birthdayBonusPoints": 100 })).await;
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
    let mut members = Vec::new();
    for (name, birthday, consent) in [
        ("Ann", date(1990, 3, 14), true),
        ("Leap", date(1992, 2, 29), true),
        ("NoConsent", date(1985, 3, 14), false),
        ("Other", date(1980, 7, 1), true),
    ] {
        let c = new_customer(name)
            .birthday(birthday)
            .marketing_consent(consent);
        let id = insert_customer(&s.app, c).await;
        members.push(enroll(&s.app, &s.manager, &s.program, id).await);
    }
    let grant =
        "mutation($d: Date!) { grantBirthdayBonuses(input: { date: $d }) { membersCredited pointsCredited } }";
    let run = |d: &str| {
        let app = &s.app;
        let token = s.manager.clone();
        let d = d.to_owned();
        async move { app.graphql_as(Some(&token), grant, json!({ "d": d })).await }
    };

    let first = run("2027-03-14").await;
    assert_eq!(data(&first)["grantBirthdayBonuses"]["membersCredited"], 1);
    let again = run("2027-03-14").await;
    assert_eq!(
        data(&again)["grantBirthdayBonuses"]["membersCredited"],
        0,
        "once per year"
    );
    // 2027 is not a leap year: 29 February birthdays are on 28 February.
    let leap = run("2027-02-28").await;
    assert_eq!(data(&leap)["grantBirthdayBonuses"]["pointsCredited"], 100);
    // 2028 is: 28 February is nobody's birthday here, 29 February is.
    assert_eq!(
        data(&run("2028-02-28").await)["grantBirthdayBonuses"]["membersCredited"],
        0
    );
    assert_eq!(
        data(&run("2028-02-29").await)["grantBirthdayBonuses"]["membersCredited"],
        1
    );
    assert_eq!(
        data(&run("2028-03-14").await)["grantBirthdayBonuses"]["membersCredited"],
        1
    );

    let balances = [
        balance(&s.app, &s.manager, &members[0]).await,
        balance(&s.app, &s.manager, &members[1]).await,
        balance(&s.app, &s.manager, &members[2]).await,
        balance(&s.app, &s.manager, &members[3]).await,
    ];
    assert_eq!(balances, [200, 200, 0, 0]);
    let refs: Vec<String> = reasons(&membership(&s.app, &s.manager, &members[1]).await)
        .into_iter()
        .map(|(_, _, r)| r)
        .collect();
    assert_eq!(refs, vec!["birthday:2028", "birthday:2027"]);

    let agent = s.app.login_as(Role::Agent).await;
    let refused = s
        .app
        .graphql_as(Some(&agent), grant, json!({ "d": "2027-03-14" }))
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));
    assert_ledger_invariant(&s.app).await;
}

// ---------------------------------------------------------------- expiry

async fn points_expire_oldest_first_net_of_redemptions(engine: Engine) {
    let s = setup(engine, json!({ "pointsExpireAfterDays": 30 })).await;
    let customer = insert_customer(&s.app, new_customer("Ann")).await;
    let m = enroll(&s.app, &s.manager, &s.program, customer).await;
    let now = Utc::now();
    // Lot A: 100 points earned 40 days ago (expired 10 days ago).
    // Lot B: 80 points earned 20 days ago (expires in 10 days).
    purchase(&s.app, customer, 10_000, "EUR", now - Duration::days(40)).await;
    purchase(&s.app, customer, 8_000, "EUR", now - Duration::days(20)).await;
    // A 30-point redemption now skips the expired lot A and takes from lot B.
    let reward = create_reward(&s.app, &s.admin, &s.program, 30, None).await;
    let body = s
        .app
        .graphql_as(
            Some(&s.manager),
            REDEEM,
            json!({ "m": m, "r": reward, "k": "r-1" }),
        )
        .await;
    assert_eq!(
        data(&body)["redeemReward"]["redemption"]["membership"]["balance"],
        150
    );

    let before = membership(&s.app, &s.manager, &m).await;
    let expiring = &before["expiringPoints"];
    assert_eq!(expiring.as_array().map(Vec::len), Some(1));
    assert_eq!(expiring[0]["points"], 50, "lot B net of the redemption");

    let expire = "mutation($at: DateTime) { expirePoints(input: { asOf: $at }) { membershipsAffected entriesWritten pointsExpired } }";
    let run = s
        .app
        .graphql_as(Some(&s.manager), expire, json!({ "at": now }))
        .await;
    let run = &data(&run)["expirePoints"];
    assert_eq!(
        (
            run["entriesWritten"].as_i64(),
            run["pointsExpired"].as_i64()
        ),
        (Some(1), Some(100))
    );
    let again = s
        .app
        .graphql_as(Some(&s.manager), expire, json!({ "at": now }))
        .await;
    assert_eq!(
        data(&again)["expirePoints"]["entriesWritten"],
        0,
        "idempotent"
    );
    assert_eq!(balance(&s.app, &s.manager, &m).await, 50);

    // Thirty days on, lot B's remaining 50 expire too.
    let later = s
        .app
        .graphql_as(
            Some(&s.manager),
            expire,
            json!({ "at": now + Duration::days(30) }),
        )
        .await;
    assert_eq!(data(&later)["expirePoints"]["pointsExpired"], 50);
    let after = membership(&s.app, &s.manager, &m).await;
    assert_eq!(after["balance"], 0);
    assert_eq!(
        after["lifetimePoints"], 180,
        "expiry never lowers lifetime points"
    );
    let expiries: Vec<i64> = reasons(&after)
        .into_iter()
        .filter(|(_, r, _)| r == "EXPIRY")
        .map(|(d, _, _)| d)
        .collect();
    assert_eq!(expiries, vec![-50, -100]);
    let agent = s.app.login_as(Role::Agent).await;
    let refused = s.app.graphql_as(Some(&agent), expire, json!({})).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));
    assert_ledger_invariant(&s.app).await;
}

// ---------------------------------------------------------------- rewards

async fn redeeming_fails_cleanly_and_writes_nothing(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let m = member_with(&s, 50).await;
    let other = create_program(&s.app, &s.admin, json!({ "name": "Other" })).await;
    let pricey = create_reward(&s.app, &s.admin, &s.program, 80, None).await;
    let sold_out = create_reward(&s.app, &s.admin, &s.program, 10, Some(0)).await;
    let foreign = create_reward(&s.app, &s.admin, &other, 10, None).await;
    let agent = s.app.login_as(Role::Agent).await;
    let entries_before = ledger_count(&s.app).await;

    let cases = [
        (
            json!({ "m": m, "r": pricey, "k": "a" }),
            "INSUFFICIENT_POINTS",
            "too expensive",
        ),
        (
            json!({ "m": m, "r": sold_out, "k": "b" }),
            "OUT_OF_STOCK",
            "no stock",
        ),
        (
            json!({ "m": m, "r": foreign, "k": "c" }),
            "BAD_USER_INPUT",
            "other programme",
        ),
        (
            json!({ "m": crate::fixtures::api_id("Membership", 999_999), "r": pricey, "k": "d" }),
            "NOT_FOUND",
            "unknown membership",
        ),
        (
            json!({ "m": m, "r": crate::fixtures::api_id("Reward", 999_999), "k": "e" }),
            "NOT_FOUND",
            "unknown reward",
        ),
        (
            json!({ "m": m, "r": pricey, "k": "" }),
            "BAD_USER_INPUT",
            "empty key",
        ),
    ];
    for (vars, code, why) in cases {
        let body = s.app.graphql_as(Some(&agent), REDEEM, vars).await;
        assert_eq!(error_code(&body), Some(code), "{why}: {body}");
    }
    assert_eq!(
        ledger_count(&s.app).await,
        entries_before,
        "nothing written"
    );
    assert_eq!(balance(&s.app, &s.manager, &m).await, 50);
    let keys = entity::idempotency_keys::Entity::find()
        .filter(entity::idempotency_keys::Column::Scope.eq("redeemReward"))
        .count(s.app.db())
        .await
        .expect("count");
    assert_eq!(
        keys, 0,
        "failed redemptions keep no key, so a retry runs afresh"
    );

    for (cost, stock, field) in [
        (0, None, "costPoints"),
        (-5, None, "costPoints"),
        (10, Some(-1), "stock"),
    ] {
        let body = s
            .app
            .graphql_as(
                Some(&s.admin),
                CREATE_REWARD,
                json!({ "p": s.program, "n": "Bad", "c": cost, "s": stock }),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{field} {cost}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    let refused = s
        .app
        .graphql_as(
            Some(&s.manager),
            CREATE_REWARD,
            json!({ "p": s.program, "n": "Mine", "c": 10 }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));

    // Withdrawing a reward makes redeeming it a CONFLICT; restocking revives it.
    let update = "mutation($input: UpdateRewardInput!) { updateReward(input: $input) { reward { active stock costPoints } } }";
    let body = s
        .app
        .graphql_as(
            Some(&s.admin),
            update,
            json!({ "input": { "id": sold_out, "active": false } }),
        )
        .await;
    assert_eq!(data(&body)["updateReward"]["reward"]["active"], false);
    let withdrawn = s
        .app
        .graphql_as(
            Some(&agent),
            REDEEM,
            json!({ "m": m, "r": sold_out, "k": "f" }),
        )
        .await;
    assert_eq!(error_code(&withdrawn), Some("CONFLICT"));
    let body = s
        .app
        .graphql_as(
            Some(&s.admin),
            update,
            json!({ "input": { "id": sold_out, "active": true, "stock": 2 } }),
        )
        .await;
    assert_eq!(data(&body)["updateReward"]["reward"]["stock"], 2);
    let bad = s
        .app
        .graphql_as(
            Some(&s.admin),
            update,
            json!({ "input": { "id": sold_out, "costPoints": 0 } }),
        )
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "costPoints");
    let refused = s
        .app
        .graphql_as(
            Some(&s.manager),
            update,
            json!({ "input": { "id": sold_out, "active": false } }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));
    let redeemed = s
        .app
        .graphql_as(
            Some(&agent),
            REDEEM,
            json!({ "m": m, "r": sold_out, "k": "g" }),
        )
        .await;
    assert_eq!(
        data(&redeemed)["redeemReward"]["redemption"]["reward"]["stock"],
        1
    );
    let listed = s
        .app
        .graphql_as(
            Some(&agent),
            "query($p: ID!) { rewards(loyaltyProgramId: $p) { totalCount nodes { costPoints } } }",
            json!({ "p": s.program }),
        )
        .await;
    assert_eq!(
        data(&listed)["rewards"]["nodes"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(data(&listed)["rewards"]["totalCount"], 2);
}

/// Availability is checked before points: every combination of in stock /
/// sold out / withdrawn × affordable / not answers with the first reason, and a
/// refusal writes nothing (stock, balance, ledger, idempotency keys).
async fn an_unavailable_reward_says_so_whatever_the_balance(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let m = member_with(&s, 50).await;
    let agent = s.app.login_as(Role::Agent).await;
    let affordable_in_stock = create_reward(&s.app, &s.admin, &s.program, 30, Some(1)).await;
    let pricey_in_stock = create_reward(&s.app, &s.admin, &s.program, 80, Some(5)).await;
    let pricey_unlimited = create_reward(&s.app, &s.admin, &s.program, 80, None).await;
    let affordable_sold_out = create_reward(&s.app, &s.admin, &s.program, 30, Some(0)).await;
    let pricey_sold_out = create_reward(&s.app, &s.admin, &s.program, 80, Some(0)).await;
    let withdrawn_pricey = create_reward(&s.app, &s.admin, &s.program, 80, Some(5)).await;
    let withdrawn_affordable = create_reward(&s.app, &s.admin, &s.program, 30, Some(5)).await;
    for id in [&withdrawn_pricey, &withdrawn_affordable] {
        let body = s
            .app
            .graphql_as(
                Some(&s.admin),
                "mutation($id: ID!) { updateReward(input: { id: $id, active: false }) { reward { active } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data(&body)["updateReward"]["reward"]["active"], false);
    }
    let stocks = |app: &TestApp| {
        let db = app.db().clone();
        async move {
            let mut rows = entity::rewards::Entity::find()
                .all(&db)
                .await
                .expect("rewards");
            rows.sort_by_key(|r| r.id);
            rows.into_iter().map(|r| r.stock).collect::<Vec<_>>()
        }
    };
    let stock_before = stocks(&s.app).await;
    let entries_before = ledger_count(&s.app).await;

    let cases = [
        (&pricey_sold_out, "OUT_OF_STOCK", "sold out × unaffordable"),
        (
            &affordable_sold_out,
            "OUT_OF_STOCK",
            "sold out × affordable",
        ),
        (&withdrawn_pricey, "CONFLICT", "withdrawn × unaffordable"),
        (&withdrawn_affordable, "CONFLICT", "withdrawn × affordable"),
        (
            &pricey_in_stock,
            "INSUFFICIENT_POINTS",
            "in stock × unaffordable",
        ),
        (
            &pricey_unlimited,
            "INSUFFICIENT_POINTS",
            "unlimited × unaffordable",
        ),
    ];
    for (i, (reward, code, why)) in cases.into_iter().enumerate() {
        let body = s
            .app
            .graphql_as(
                Some(&agent),
                REDEEM,
                json!({ "m": m, "r": reward, "k": format!("combo-{i}") }),
            )
            .await;
        assert_eq!(error_code(&body), Some(code), "{why}: {body}");
    }
    assert_eq!(stocks(&s.app).await, stock_before, "no stock taken");
    assert_eq!(
        ledger_count(&s.app).await,
        entries_before,
        "no ledger entry"
    );
    assert_eq!(balance(&s.app, &s.manager, &m).await, 50);
    let keys = entity::idempotency_keys::Entity::find()
        .filter(entity::idempotency_keys::Column::Scope.eq("redeemReward"))
        .count(s.app.db())
        .await
        .expect("count");
    assert_eq!(keys, 0, "no refusal keeps its key");

    // In stock × affordable: redeemed, one unit and 30 points taken.
    let body = s
        .app
        .graphql_as(
            Some(&agent),
            REDEEM,
            json!({ "m": m, "r": affordable_in_stock, "k": "combo-ok" }),
        )
        .await;
    let redeemed = &data(&body)["redeemReward"]["redemption"];
    assert_eq!(redeemed["pointsSpent"], 30);
    assert_eq!(redeemed["membership"]["balance"], 20);
    assert_eq!(redeemed["reward"]["stock"], 0);
    // The same reward is now sold out and too dear (30 > 20): sold out wins.
    let body = s
        .app
        .graphql_as(
            Some(&agent),
            REDEEM,
            json!({ "m": m, "r": affordable_in_stock, "k": "combo-again" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("OUT_OF_STOCK"), "{body}");
    assert_eq!(balance(&s.app, &s.manager, &m).await, 20);
    assert_ledger_invariant(&s.app).await;
}

async fn concurrent_redemptions_never_overdraw_the_balance(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let m = member_with(&s, 100).await;
    let reward = create_reward(&s.app, &s.admin, &s.program, 30, None).await;
    let agent = s.app.login_as(Role::Agent).await;

    let app = &s.app;
    let results = join_all((0..50).map(|i| {
        let vars = json!({ "m": m, "r": reward, "k": format!("redeem-{i}") });
        let token = agent.clone();
        async move { app.graphql_as(Some(&token), REDEEM, vars).await }
    }))
    .await;
    let ok = results.iter().filter(|b| b.get("errors").is_none()).count();
    let insufficient = results
        .iter()
        .filter(|b| error_code(b) == Some("INSUFFICIENT_POINTS"))
        .count();
    assert_eq!(
        (ok, insufficient),
        (3, 47),
        "{:?}",
        results
            .iter()
            .find(|b| error_code(b) != Some("INSUFFICIENT_POINTS") && b.get("errors").is_some())
    );
    assert_eq!(balance(&s.app, &s.manager, &m).await, 10);
    assert_ledger_invariant(&s.app).await;
}

async fn concurrent_redemptions_never_overdraw_the_stock(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let reward = create_reward(&s.app, &s.admin, &s.program, 10, Some(3)).await;
    let mut members = Vec::new();
    for _ in 0..8 {
        members.push(member_with(&s, 10).await);
    }
    let app = &s.app;
    let token = s.manager.clone();
    let results = join_all(members.iter().enumerate().map(|(i, m)| {
        let vars = json!({ "m": m, "r": reward, "k": format!("stock-{i}") });
        let token = token.clone();
        async move { app.graphql_as(Some(&token), REDEEM, vars).await }
    }))
    .await;
    let ok = results.iter().filter(|b| b.get("errors").is_none()).count();
    let out = results
        .iter()
        .filter(|b| error_code(b) == Some("OUT_OF_STOCK"))
        .count();
    assert_eq!((ok, out), (3, 5));
    let stock = entity::rewards::Entity::find()
        .all(s.app.db())
        .await
        .expect("rewards")[0]
        .stock;
    assert_eq!(stock, Some(0));
    assert_ledger_invariant(&s.app).await;
}

/// A member who cannot afford the reward takes a unit of stock before the
/// points refuse; the rollback gives it back, so under concurrency the units go
/// to members who can pay and none is lost.
async fn members_who_cannot_afford_never_hold_back_the_stock(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let reward = create_reward(&s.app, &s.admin, &s.program, 10, Some(2)).await;
    let mut members = Vec::new();
    for i in 0..8 {
        let points = if i % 2 == 0 { 5 } else { 10 };
        members.push((member_with(&s, points).await, points));
    }
    let app = &s.app;
    let token = s.manager.clone();
    let results = join_all(members.iter().enumerate().map(|(i, (m, _))| {
        let vars = json!({ "m": m, "r": reward, "k": format!("mixed-{i}") });
        let token = token.clone();
        async move { app.graphql_as(Some(&token), REDEEM, vars).await }
    }))
    .await;
    let mut ok = 0;
    for ((_, points), body) in members.iter().zip(&results) {
        match error_code(body) {
            None => {
                assert_eq!(*points, 10, "only members who can pay redeem");
                ok += 1;
            }
            Some("INSUFFICIENT_POINTS") => assert_eq!(*points, 5),
            Some("OUT_OF_STOCK") => {}
            other => panic!("unexpected {other:?}: {body}"),
        }
    }
    assert_eq!(ok, 2, "both units go to paying members");
    let stock = entity::rewards::Entity::find()
        .all(s.app.db())
        .await
        .expect("rewards")[0]
        .stock;
    assert_eq!(stock, Some(0));
    assert_ledger_invariant(&s.app).await;
}

async fn one_idempotency_key_sent_concurrently_redeems_once(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let m = member_with(&s, 100).await;
    let reward = create_reward(&s.app, &s.admin, &s.program, 30, None).await;
    let entries_before = ledger_count(&s.app).await;

    let app = &s.app;
    let token = Arc::new(s.manager.clone());
    let results = join_all((0..20).map(|_| {
        let vars = json!({ "m": m, "r": reward, "k": "same-key" });
        let token = token.clone();
        async move { app.graphql_as(Some(&token), REDEEM, vars).await }
    }))
    .await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|b| {
            data(b)["redeemReward"]["redemption"]["id"]
                .as_str()
                .expect("redemption id")
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every retry returns the first redemption");
    assert_eq!(ledger_count(&s.app).await, entries_before + 1, "one entry");
    assert_eq!(balance(&s.app, &s.manager, &m).await, 70);

    let other = create_reward(&s.app, &s.admin, &s.program, 10, None).await;
    let conflict = s
        .app
        .graphql_as(
            Some(&s.manager),
            REDEEM,
            json!({ "m": m, "r": other, "k": "same-key" }),
        )
        .await;
    assert_eq!(
        error_code(&conflict),
        Some("CONFLICT"),
        "same key, other payload"
    );
    assert_ledger_invariant(&s.app).await;
}

async fn adjustments_are_idempotent_and_need_a_manager(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let m = member_with(&s, 0).await;
    let agent = s.app.login_as(Role::Agent).await;
    let refused = adjust(&s.app, &agent, &m, 10, "k1").await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));

    let first = adjust(&s.app, &s.manager, &m, 40, "k1").await;
    let entry = data(&first)["adjustPoints"]["ledgerEntry"].clone();
    assert_eq!(
        (entry["reason"].as_str(), entry["note"].as_str()),
        (Some("ADJUSTMENT"), Some("goodwill"))
    );
    let retry = adjust(&s.app, &s.manager, &m, 40, "k1").await;
    assert_eq!(
        data(&retry)["adjustPoints"]["ledgerEntry"]["id"],
        entry["id"],
        "retry returns the first result"
    );
    let conflict = adjust(&s.app, &s.manager, &m, 41, "k1").await;
    assert_eq!(error_code(&conflict), Some("CONFLICT"));

    let too_much = adjust(&s.app, &s.manager, &m, -41, "k2").await;
    assert_eq!(error_code(&too_much), Some("INSUFFICIENT_POINTS"));
    let zero = adjust(&s.app, &s.manager, &m, 0, "k3").await;
    assert_eq!(error_code(&zero), Some("BAD_USER_INPUT"));
    let blank_note = s
        .app
        .graphql_as(
            Some(&s.manager),
            ADJUST,
            json!({ "m": m, "d": 5, "n": " ", "k": "k4" }),
        )
        .await;
    assert_eq!(blank_note["errors"][0]["extensions"]["field"], "note");
    let down = adjust(&s.app, &s.manager, &m, -15, "k5").await;
    assert_eq!(data(&down)["adjustPoints"]["membership"]["balance"], 25);
    let after = membership(&s.app, &s.manager, &m).await;
    assert_eq!(after["lifetimePoints"], 40, "debits keep lifetime points");
    assert_eq!(reasons(&after).len(), 2);
    assert_ledger_invariant(&s.app).await;
}

async fn idempotency_keys_are_scoped_by_user_and_operation(engine: Engine) {
    // Arrange: one member, one reward, two managers (and the admin) who happen
    // to pick the same key.
    let s = setup(engine, json!({})).await;
    let m = member_with(&s, 100).await;
    let reward = create_reward(&s.app, &s.admin, &s.program, 30, None).await;
    let other_manager = s.app.login_as(Role::Manager).await;
    let entries_before = ledger_count(&s.app).await;
    let redeem = |token: &str| {
        let token = token.to_owned();
        let vars = json!({ "m": m, "r": reward, "k": "till-7-0042" });
        let app = &s.app;
        async move { app.graphql_as(Some(&token), REDEEM, vars).await }
    };

    // Act: the same key, the same arguments, three users; then a retry.
    let first = redeem(&s.manager).await;
    let second = redeem(&other_manager).await;
    let third = redeem(&s.admin).await;
    let retry = redeem(&other_manager).await;

    // Assert: three separate redemptions (not a replay of someone else's, not
    // CONFLICT); a user's own retry still replays their own.
    let id = |b: &Value| {
        data(b)["redeemReward"]["redemption"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let ids = [id(&first), id(&second), id(&third)];
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    assert_ne!(ids[0], ids[2]);
    assert_eq!(
        id(&retry),
        ids[1],
        "a user's retry replays their own result"
    );
    assert_eq!(balance(&s.app, &s.manager, &m).await, 10);
    assert_eq!(ledger_count(&s.app).await, entries_before + 3);

    // Another user using the key with *other* arguments is not a conflict
    // either; the same user doing so still is.
    let other_payload = adjust(&s.app, &other_manager, &m, 5, "till-7-0042").await;
    assert_eq!(
        data(&other_payload)["adjustPoints"]["membership"]["balance"],
        15,
        "another operation with the same key is a new request"
    );
    let by_someone_else = adjust(&s.app, &s.manager, &m, 7, "till-7-0042").await;
    assert_eq!(
        data(&by_someone_else)["adjustPoints"]["membership"]["balance"],
        22,
        "another user with the same key and other arguments is a new request"
    );
    let own_conflict = adjust(&s.app, &s.manager, &m, 8, "till-7-0042").await;
    assert_eq!(error_code(&own_conflict), Some("CONFLICT"));
    assert_eq!(balance(&s.app, &s.manager, &m).await, 22);
    assert_ledger_invariant(&s.app).await;
}

async fn keys_stored_before_the_upgrade_still_replay(engine: Engine) {
    use clap::Parser as _;
    use migration::MigratorTrait as _;
    use sea_orm::ConnectionTrait as _;
    use sha2::Digest as _;

    // Arrange: the schema just before the upgrade, with an adjustment that the
    // old code recorded under a global key (`adjustment:<key>`, key row
    // without a user).
    let database = crate::helpers::TestDatabase::create(engine).await;
    let db = sea_orm::Database::connect(&database.url)
        .await
        .expect("connect");
    let upgrade = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261124_140002_idempotency_keys_by_actor")
        .expect("the upgrade");
    migration::Migrator::up(&db, Some(upgrade as u32))
        .await
        .expect("the schema before the upgrade");
    let config =
        api::cli::Cli::try_parse_from(["rapport", "--jwt-secret", crate::helpers::TEST_JWT_SECRET])
            .expect("arguments")
            .config;
    let services = api::startup::services(&config, db.clone()).expect("services");
    let user = services
        .users
        .create_user(
            None,
            "old@example.com",
            "correct horse battery staple".into(),
            Role::Manager,
        )
        .await
        .expect("user");
    let now = Utc::now();
    // Inserted without reading the row back, and without the columns that
    // later migrations add.
    let mut program = ProgramBuilder::new("Club").model();
    program.enroll_on_first_purchase = sea_orm::ActiveValue::NotSet;
    let program_id = entity::loyalty_programs::Entity::insert(program)
        .exec(&db)
        .await
        .expect("program")
        .last_insert_id;
    let customer = new_customer("Ann")
        .model()
        .insert(&db)
        .await
        .expect("customer");
    let membership = memberships::ActiveModel {
        program_id: Set(program_id),
        customer_id: Set(customer.id),
        balance: Set(0),
        lifetime_points: Set(0),
        enrolled_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("membership");
    let entry = ledger_entries::ActiveModel {
        membership_id: Set(membership.id),
        delta: Set(40),
        reason: Set("ADJUSTMENT".into()),
        source_key: Set("adjustment:old-key".into()),
        occurred_at: Set(now),
        expires_at: Set(None),
        actor_id: Set(Some(user.id)),
        note: Set(Some("goodwill".into())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("entry");
    let hash = hex_digest(&format!("{}:40:goodwill", membership.id));
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at) VALUES ($1, $2, $3, $4, $5)",
        _ => "INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)",
    };
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        sql,
        [
            "adjustPoints".into(),
            "old-key".into(),
            hash.into(),
            json!({ "ledgerEntryId": entry.id }).to_string().into(),
            now.into(),
        ],
    ))
    .await
    .expect("old key");
    let entries_before = ledger_entries::Entity::find()
        .count(&db)
        .await
        .expect("count");

    // Act: upgrade, then the user retries with the same key.
    migration::Migrator::up(&db, None).await.expect("upgrade");
    let actor = domain::auth::Actor {
        user_id: user.id,
        role: Role::Manager,
    };
    let retry = services
        .loyalty
        .adjust_points(&actor, membership.id, 40, "goodwill", "old-key")
        .await
        .expect("retry");

    // Assert: the key was attributed to its user, so the retry replays.
    let stored = entity::idempotency_keys::Entity::find()
        .one(&db)
        .await
        .expect("read")
        .expect("the old key");
    assert_eq!(stored.actor_id, user.id, "attributed to its user");
    assert_eq!(
        retry.entry.id, entry.id,
        "the retry replays the first result"
    );
    assert_eq!(
        ledger_entries::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        entries_before,
        "nothing written"
    );

    fn hex_digest(text: &str) -> String {
        sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

// ---------------------------------------------------------------- concurrency of earning

async fn concurrent_purchases_crossing_a_tier_both_count(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let customer = insert_customer(&s.app, new_customer("Ann")).await;
    let m = enroll(&s.app, &s.manager, &s.program, customer).await;
    let now = Utc::now();
    purchase(&s.app, customer, 90_000, "EUR", now - Duration::hours(1)).await; // 900 points

    // Two purchases of 100 EUR at the same time: the first takes the member to
    // Silver (1000), the second then earns at ×1.5.
    let app = &s.app;
    let rows = join_all((0..2).map(|i| async move {
        let txn = domain::db::begin_write(app.db()).await.expect("txn");
        let row = PurchaseBuilder::new(customer)
            .minor(10_000)
            .at(now)
            .external_ref(format!("concurrent-{i}"))
            .insert(&txn)
            .await;
        domain::loyalty::on_purchase_recorded(
            &txn,
            &domain::customers::Purchase::try_from(row.clone()).expect("purchase"),
        )
        .await
        .expect("credited");
        txn.commit().await.expect("commit");
    }))
    .await;
    assert_eq!(rows.len(), 2);
    let after = membership(&s.app, &s.manager, &m).await;
    assert_eq!(after["balance"], 900 + 100 + 150, "both purchases count");
    assert_eq!(after["tier"]["name"], "Silver");
    let purchases_credited = reasons(&after)
        .iter()
        .filter(|(_, r, _)| r == "PURCHASE")
        .count();
    assert_eq!(purchases_credited, 3);
    assert_ledger_invariant(&s.app).await;
}

// ---------------------------------------------------------------- reading

async fn the_ledger_pages_newest_first(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let m = member_with(&s, 0).await;
    for i in 1..=5 {
        data(&adjust(&s.app, &s.manager, &m, i, &format!("page-{i}")).await);
    }
    let page = "query($id: ID!, $after: String) { membership(id: $id) {
      ledger(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { delta } } }
    } }";
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = s
            .app
            .graphql_as(Some(&s.manager), page, json!({ "id": m, "after": after }))
            .await;
        let ledger = &data(&body)["membership"]["ledger"];
        for edge in ledger["edges"].as_array().expect("edges") {
            seen.push(edge["node"]["delta"].as_i64().expect("delta"));
        }
        if ledger["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = ledger["pageInfo"]["endCursor"].as_str().map(String::from);
    }
    assert_eq!(seen, vec![5, 4, 3, 2, 1]);
    let too_big = s
        .app
        .graphql_as(
            Some(&s.manager),
            "query($id: ID!) { membership(id: $id) { ledger(first: 101) { edges { cursor } } } }",
            json!({ "id": m }),
        )
        .await;
    assert_eq!(error_code(&too_big), Some("BAD_USER_INPUT"));
}

async fn customer_memberships_load_in_one_batch(engine: Engine) {
    use api::graphql::loader::loyalty::MembershipsByCustomer;
    use api::graphql::loader::BatchLoad as _;
    let s = setup(engine, json!({})).await;
    let second = create_program(&s.app, &s.admin, json!({ "name": "Second" })).await;
    let mut customers = Vec::new();
    for i in 0..30 {
        let c = insert_customer(&s.app, new_customer(&format!("C{i}"))).await;
        enroll(&s.app, &s.manager, &s.program, c).await;
        if i % 2 == 0 {
            enroll(&s.app, &s.manager, &second, c).await;
        }
        customers.push(c);
    }
    let loader = MembershipsByCustomer(s.app.services.loyalty.clone());
    let count = |n: usize| {
        let loader = &loader;
        let keys = customers[..n].to_vec();
        let app = &s.app;
        async move {
            let before = app.statements();
            let loaded = loader.load(&keys).await;
            (app.statements() - before, loaded)
        }
    };
    let (few, _) = count(3).await;
    let (many, loaded) = count(30).await;
    assert_eq!(
        few, many,
        "statements do not grow with the number of customers"
    );
    assert!(many <= 3, "{many} statements");
    let loaded = loaded.expect("loaded");
    assert_eq!(loaded.len(), 30);
    let first = &loaded[&customers[0]];
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].tier().map(|t| t.name.as_str()), Some("Bronze"));
    let batch = domain::loyalty::memberships_for_customers(s.app.db(), &[customers[1]])
        .await
        .expect("batch");
    assert_eq!(batch[&customers[1]].len(), 1);
    assert!(domain::loyalty::memberships_for_customers(s.app.db(), &[])
        .await
        .expect("empty")
        .is_empty());
}

async fn overflowing_points_are_rejected_and_nothing_is_written(engine: Engine) {
    let s = setup(
        engine,
        json!({ "pointsPerCurrencyUnit": "10000", "tiers": [
            { "name": "Base", "minLifetimePoints": 0, "earnMultiplier": "100" }
        ] }),
    )
    .await;
    let customer = insert_customer(&s.app, new_customer("Ann")).await;
    let m = enroll(&s.app, &s.manager, &s.program, customer).await;
    let txn = domain::db::begin_write(s.app.db()).await.expect("txn");
    let row = PurchaseBuilder::new(customer)
        .minor(i64::MAX)
        .external_ref("huge")
        .insert(&txn)
        .await;
    let err = domain::loyalty::on_purchase_recorded(
        &txn,
        &domain::customers::Purchase::try_from(row.clone()).expect("purchase"),
    )
    .await;
    assert!(
        matches!(err, Err(domain::DomainError::Validation { ref field, .. }) if field == "amount"),
        "{err:?}"
    );
    drop(txn);
    assert_eq!(ledger_count(&s.app).await, 0);
    assert_eq!(balance(&s.app, &s.manager, &m).await, 0);
    let huge_adjust = adjust(&s.app, &s.manager, &m, i64::MAX, "big").await;
    assert_eq!(error_code(&huge_adjust), Some("BAD_USER_INPUT"));
    let _ = Utc.timestamp_opt(0, 0);
}

async fn the_demo_programme_enrols_existing_customers_with_history(engine: Engine) {
    let app = spawn_app(engine).await;
    let mut ids = Vec::new();
    for name in ["Ann", "Bob", "Cid"] {
        let id = insert_customer(&app, new_customer(name)).await;
        PurchaseBuilder::new(id)
            .minor(25_000)
            .at(Utc::now() - Duration::hours(2))
            .external_ref(format!("demo-{id}"))
            .insert(app.db())
            .await;
        ids.push(id);
    }
    seed::seed(app.db(), &app.services.users)
        .await
        .expect("demo seeds");
    let admin = app.login_as(Role::Admin).await;
    let body = app
        .graphql_as(
            Some(&admin),
            "{ loyaltyPrograms { nodes { name currency tiers { name } rewards { nodes { name } } promotions { nodes { name } } } } }",
            json!({}),
        )
        .await;
    let programs = &data(&body)["loyaltyPrograms"]["nodes"];
    let demo = programs
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "Rapport Rewards"))
        .expect("the demo programme");
    assert_eq!(demo["currency"], "EUR");
    assert_eq!(demo["tiers"].as_array().map(Vec::len), Some(3));
    assert_eq!(demo["rewards"]["nodes"].as_array().map(Vec::len), Some(3));
    assert!(demo["promotions"]["nodes"]
        .as_array()
        .is_some_and(|p| !p.is_empty()));

    // Every customer who existed is a member, with a welcome bonus and the
    // points their purchases earned (250 EUR during "Double points week").
    let live = customers::Entity::find()
        .filter(customers::Column::ErasedAt.is_null())
        .count(app.db())
        .await
        .expect("customers");
    let members = memberships::Entity::find()
        .all(app.db())
        .await
        .expect("members");
    assert!(members.len() as u64 >= live, "every live customer enrolled");
    for customer in &ids {
        let member = members
            .iter()
            .find(|m| m.customer_id == *customer)
            .expect("enrolled");
        let mut entries: Vec<(String, i64)> = ledger_entries::Entity::find()
            .filter(ledger_entries::Column::MembershipId.eq(member.id))
            .all(app.db())
            .await
            .expect("entries")
            .into_iter()
            .filter(|e| e.reason != "FEEDBACK_INCENTIVE" && e.reason != "HELPFUL_FEEDBACK")
            .map(|e| (e.reason, e.delta))
            .collect();
        entries.sort();
        entries.retain(|(r, _)| r != "REDEMPTION");
        assert_eq!(
            entries,
            vec![
                ("ADJUSTMENT".to_owned(), 50),
                ("PROMOTION".to_owned(), 250),
                ("PURCHASE".to_owned(), 250)
            ],
            "customer {customer}"
        );
    }
    assert_ledger_invariant(&app).await;
}

async fn a_page_of_members_with_ledgers_costs_the_same_for_3_or_25(engine: Engine) {
    let s = setup(engine, json!({ "pointsExpireAfterDays": 90 })).await;
    for _ in 0..25 {
        let m = member_with(&s, 40).await;
        data(&adjust(&s.app, &s.manager, &m, -10, &format!("spend-{m}")).await);
    }
    let query =
        "query($p: ID!, $n: Int!) { loyaltyProgram(id: $p) { members(first: $n) { edges { node {
        balance tier { name } expiringPoints { points } customer { name }
        ledger(first: 5) { edges { node { delta reason } } }
    } } } } }";
    let cost = |n: i64| {
        let app = &s.app;
        let token = s.manager.clone();
        let program = s.program.clone();
        async move {
            let before = app.statements();
            let body = app
                .graphql_as(Some(&token), query, json!({ "p": program, "n": n }))
                .await;
            let used = app.statements() - before;
            (used, body)
        }
    };
    // Loaders batch by resolver round, so every run costs the same.
    let (few, small) = cost(3).await;
    let (many, big) = cost(25).await;
    assert_eq!(cost(25).await.0, many, "the count is the same on every run");
    let edges = data(&big)["loyaltyProgram"]["members"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(edges.len(), 25);
    assert_eq!(
        edges[24]["node"]["ledger"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(edges[24]["node"]["expiringPoints"][0]["points"], 30);
    assert_eq!(edges[24]["node"]["customer"]["name"], "Ann");
    assert_eq!(
        data(&small)["loyaltyProgram"]["members"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(few, many, "statements do not grow with the page size");
}

async fn recording_a_purchase_over_http_credits_points_and_the_referrer(engine: Engine) {
    let s = setup(engine, json!({ "pointsPerCurrencyUnit": "2" })).await;
    let agent = s.app.login_as(Role::Agent).await;
    let ann = CustomerBuilder::new()
        .name("Ann")
        .create(&s.app, &s.manager)
        .await;
    let enroll_id = crate::fixtures::db_key;
    let bob = CustomerBuilder::new()
        .name("Bob")
        .referred_by(enroll_id(&ann))
        .tag("vip")
        .create(&s.app, &s.manager)
        .await;
    let ann_m = enroll(&s.app, &s.manager, &s.program, enroll_id(&ann)).await;
    let bob_m = enroll(&s.app, &s.manager, &s.program, enroll_id(&bob)).await;

    let record = |external: &str, amount: &str| {
        let input = PurchaseBuilder::new(&bob)
            .amount(amount)
            .external_ref(external)
            .input();
        let app = &s.app;
        let token = agent.clone();
        async move {
            app.graphql_as(
                Some(&token),
                PurchaseBuilder::RECORD,
                json!({ "input": input }),
            )
            .await
        }
    };
    // 12.34 EUR · 2 points = 24.68 → 24 points; Ann gets the referral bonus.
    data(&record("R-1", "12.34").await);
    // Recording the same purchase again is CONFLICT and credits nothing.
    let again = record("R-1", "12.34").await;
    assert_eq!(error_code(&again), Some("CONFLICT"));
    data(&record("R-2", "5.00").await);

    let bob_card = membership(&s.app, &s.manager, &bob_m).await;
    assert_eq!(bob_card["balance"], 24 + 10);
    assert_eq!(reasons(&bob_card).len(), 2);
    let ann_card = membership(&s.app, &s.manager, &ann_m).await;
    assert_eq!(ann_card["balance"], 250, "referral credited once");
    assert_ledger_invariant(&s.app).await;
}

async fn the_customer_card_shows_memberships_without_n_plus_1(engine: Engine) {
    let s = setup(engine, json!({})).await;
    let second = create_program(&s.app, &s.admin, json!({ "name": "Second" })).await;
    for i in 0..20 {
        let c = CustomerBuilder::new()
            .name(format!("C{i:02}"))
            .create(&s.app, &s.manager)
            .await;
        let c = crate::fixtures::db_key(&c);
        let m = enroll(&s.app, &s.manager, &s.program, c).await;
        data(&adjust(&s.app, &s.manager, &m, 1200, &format!("card-{m}")).await);
        enroll(&s.app, &s.manager, &second, c).await;
    }
    let query = "query($n: Int!) { customers(first: $n, orderBy: { field: NAME, direction: ASC }) { edges { node {
        name memberships { balance tier { name } loyaltyProgram { name } ledger(first: 3) { edges { node { delta } } } expiringPoints { points } }
    } } } }";
    let cost = |n: i64| {
        let app = &s.app;
        let token = s.manager.clone();
        async move {
            let before = app.statements();
            let body = app.graphql_as(Some(&token), query, json!({ "n": n })).await;
            (app.statements() - before, body)
        }
    };
    // Loaders batch by resolver round, so every run costs the same.
    let (few, _) = cost(3).await;
    let (many, body) = cost(20).await;
    assert_eq!(cost(20).await.0, many, "the count is the same on every run");
    let edges = data(&body)["customers"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(edges.len(), 20);
    let memberships = &edges[0]["node"]["memberships"];
    assert_eq!(memberships.as_array().map(Vec::len), Some(2));
    assert_eq!(memberships[0]["balance"], 1200);
    assert_eq!(memberships[0]["tier"]["name"], "Silver");
    assert_eq!(memberships[0]["ledger"]["edges"][0]["node"]["delta"], 1200);
    assert_eq!(few, many, "statements do not grow with the page size");
}

async fn the_database_itself_keeps_balance_equal_to_the_ledger(engine: Engine) {
    use sea_orm::ConnectionTrait;
    let s = setup(engine, json!({})).await;
    let m = member_with(&s, 100).await;
    let key = crate::fixtures::db_key(&m);
    let db = s.app.db();
    // An entry written by any code moves the balance (the trigger does it).
    db.execute_unprepared(&format!(
        "INSERT INTO ledger_entries (membership_id, delta, reason, source_key, occurred_at, created_at) \
         VALUES ({key}, 5, 'ADJUSTMENT', 'raw-sql', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
    ))
    .await
    .expect("raw credit");
    assert_eq!(balance(&s.app, &s.manager, &m).await, 105);
    // Several entries in one statement move the balance by their sum.
    db.execute_unprepared(&format!(
        "INSERT INTO ledger_entries (membership_id, delta, reason, source_key, occurred_at, created_at) VALUES \
         ({key}, 7, 'ADJUSTMENT', 'multi-1', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'), \
         ({key}, -2, 'ADJUSTMENT', 'multi-2', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
    ))
    .await
    .expect("multi-row insert");
    assert_eq!(balance(&s.app, &s.manager, &m).await, 110);
    let refused = [
        format!("UPDATE memberships SET balance = 1000 WHERE id = {key}"),
        format!("UPDATE memberships SET lifetime_points = 0 WHERE id = {key}"),
        format!("UPDATE ledger_entries SET delta = 500 WHERE membership_id = {key}"),
        // An erasure may clear a note, and only that.
        format!("UPDATE ledger_entries SET note = 'rewritten' WHERE membership_id = {key}"),
        format!("UPDATE ledger_entries SET note = NULL, delta = 500 WHERE membership_id = {key}"),
        format!("DELETE FROM ledger_entries WHERE membership_id = {key}"),
        format!(
            "INSERT INTO ledger_entries (membership_id, delta, reason, source_key, occurred_at, created_at) \
             VALUES ({key}, -1000, 'ADJUSTMENT', 'overdraw', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
        ),
    ];
    for sql in refused {
        assert!(db.execute_unprepared(&sql).await.is_err(), "refused: {sql}");
    }
    let m = membership(&s.app, &s.manager, &m).await;
    assert_eq!(
        (m["balance"].as_i64(), m["lifetimePoints"].as_i64()),
        (Some(110), Some(112))
    );
    assert_ledger_invariant(&s.app).await;
}

/// `enrollOnFirstPurchase` (default on) enrols a non-member on a purchase in
/// the programme's currency; `recordPurchase` says which programmes credited
/// how many points, and so does every purchase read later (from the ledger).
async fn a_first_purchase_enrols_where_the_programme_says_so_and_says_what_it_earned(
    engine: Engine,
) {
    let s = setup(engine, json!({ "name": "Club" })).await;
    let manual = create_program(
        &s.app,
        &s.admin,
        json!({ "name": "Manual", "enrollOnFirstPurchase": false }),
    )
    .await;
    let dollar = create_program(
        &s.app,
        &s.admin,
        json!({ "name": "Dollar", "currency": "USD" }),
    )
    .await;
    let programs = s
        .app
        .graphql_as(
            Some(&s.admin),
            "{ loyaltyPrograms { nodes { name enrollOnFirstPurchase } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&programs)["loyaltyPrograms"]["nodes"],
        json!([
            { "name": "Club", "enrollOnFirstPurchase": true },
            { "name": "Manual", "enrollOnFirstPurchase": false },
            { "name": "Dollar", "enrollOnFirstPurchase": true },
        ])
    );
    let agent = s.app.login_as(Role::Agent).await;
    const RECORD: &str = "mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { externalRef pointsCredited { loyaltyProgram { id name } points } } } }";
    let record = |customer: &str, amount: &str, reference: &str| {
        let input = PurchaseBuilder::new(customer)
            .amount(amount)
            .external_ref(reference)
            .input();
        let app = &s.app;
        let token = agent.clone();
        async move {
            let body = app
                .graphql_as(Some(&token), RECORD, json!({ "input": input }))
                .await;
            data(&body)["recordPurchase"]["purchase"]["pointsCredited"].clone()
        }
    };
    let memberships_of = |customer: i64| {
        let db = s.app.db().clone();
        async move {
            let mut programs: Vec<i64> = memberships::Entity::find()
                .filter(memberships::Column::CustomerId.eq(customer))
                .all(&db)
                .await
                .expect("memberships")
                .into_iter()
                .map(|m| m.program_id)
                .collect();
            programs.sort_unstable();
            programs
        }
    };
    let id = crate::fixtures::db_key;

    // Dee belongs to nothing: her purchase enrols her in Club (EUR, on) only.
    let dee = CustomerBuilder::new()
        .name("Dee")
        .create(&s.app, &s.manager)
        .await;
    assert_eq!(
        record(&dee, "12.34", "D-1").await,
        json!([{ "loyaltyProgram": { "id": s.program, "name": "Club" }, "points": 12 }])
    );
    assert_eq!(memberships_of(id(&dee)).await, vec![id(&s.program)]);
    // Enrolled by hand in Manual, the next purchase earns in both.
    enroll(&s.app, &s.manager, &manual, id(&dee)).await;
    assert_eq!(
        record(&dee, "5.00", "D-2").await,
        json!([
            { "loyaltyProgram": { "id": s.program, "name": "Club" }, "points": 5 },
            { "loyaltyProgram": { "id": manual, "name": "Manual" }, "points": 5 },
        ])
    );
    // A purchase below one point credits nothing and says so.
    assert_eq!(record(&dee, "0.50", "D-3").await, json!([]));

    // With the setting off, a purchase earns nothing and enrols nobody.
    let body = s
        .app
        .graphql_as(
            Some(&s.admin),
            "mutation($id: ID!) { updateLoyaltyProgram(input: { id: $id, enrollOnFirstPurchase: false }) { loyaltyProgram { enrollOnFirstPurchase } } }",
            json!({ "id": s.program }),
        )
        .await;
    assert_eq!(
        data(&body)["updateLoyaltyProgram"]["loyaltyProgram"]["enrollOnFirstPurchase"],
        false
    );
    let eve = CustomerBuilder::new()
        .name("Eve")
        .create(&s.app, &s.manager)
        .await;
    assert_eq!(record(&eve, "10.00", "E-1").await, json!([]));
    assert_eq!(memberships_of(id(&eve)).await, Vec::<i64>::new());
    assert!(
        !memberships_of(id(&dee)).await.contains(&id(&dollar)),
        "a EUR purchase never enrols in a USD programme"
    );

    // Read later, each purchase shows the same, from the ledger.
    let card = s
        .app
        .graphql_as(
            Some(&agent),
            "query($id: ID!) { customer(id: $id) { purchases(first: 10) { edges { node { externalRef pointsCredited { loyaltyProgram { name } points } } } } } }",
            json!({ "id": dee }),
        )
        .await;
    let mut seen: Vec<(String, Value)> = data(&card)["customer"]["purchases"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["node"]["externalRef"].as_str().expect("ref").to_owned(),
                e["node"]["pointsCredited"].clone(),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen,
        vec![
            (
                "D-1".to_owned(),
                json!([{ "loyaltyProgram": { "name": "Club" }, "points": 12 }])
            ),
            (
                "D-2".to_owned(),
                json!([
                    { "loyaltyProgram": { "name": "Club" }, "points": 5 },
                    { "loyaltyProgram": { "name": "Manual" }, "points": 5 },
                ])
            ),
            ("D-3".to_owned(), json!([])),
        ]
    );
    assert_ledger_invariant(&s.app).await;
}
