//! Demo data for the feedback area: five surveys (active, active, closed,
//! draft, active), invitations, a year of responses whose satisfaction
//! improves over time, CSI factor ratings against the factor set of each
//! survey's own trade (the retail and service surveys use the two ACSI
//! versions, the flight survey the airline set), so every published set has a
//! year of ratings with a visible trend, incentives and helpful bonuses credited through the
//! ledger, and follow-ups (older ones resolved).
//!
//! Everything is inserted in batches inside one transaction, so it takes well
//! under a second on SQLite and nothing is half-seeded.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::csi::{ACSI_SET_NAME, AIRLINE_SET_NAME};
use domain::csi::compute::{self, Scale};
use domain::db::begin_write;
use domain::error::DomainResult;
use domain::feedback::{hash_token, FollowUpReason, QuestionKind, SurveyStatus};
use domain::loyalty::{self, LedgerReason};
use entity::{
    csi_factor_sets, csi_factors, customers, follow_ups, loyalty_programs, survey_answers,
    survey_invitations, survey_questions, survey_responses, surveys,
};

/// Rows per multi-row INSERT (well below SQLite's and PostgreSQL's parameter limits).
const CHUNK: usize = 400;
/// Most customers the demo invites.
const MAX_RESPONDENTS: u64 = 400;

const FALLBACK_NAMES: &[&str] = &[
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Linus Pauling",
    "Marie Curie",
    "Niels Bohr",
    "Rosalind Franklin",
    "Emmy Noether",
    "Carl Gauss",
    "Lise Meitner",
    "Katherine Johnson",
    "Dorothy Vaughan",
    "Hedy Lamarr",
    "Barbara Liskov",
    "Edsger Dijkstra",
    "Donald Knuth",
    "Frances Allen",
    "John Backus",
    "Margaret Hamilton",
    "Ken Thompson",
    "Radia Perlman",
    "Tim Berners-Lee",
    "Shafi Goldwasser",
    "Leslie Lamport",
    "Adele Goldberg",
    "Jean Bartik",
    "Karen Spärck Jones",
    "Sophie Wilson",
    "Guido van Rossum",
    "Anita Borg",
    "Mary Jackson",
    "Annie Easley",
    "Evelyn Boyd",
    "Ida Rhodes",
    "Kathleen Booth",
    "Lynn Conway",
    "Mary Keller",
    "Joan Clarke",
    "Klara Dan",
    "Betty Holberton",
];

struct Question {
    id: i64,
    kind: QuestionKind,
    factor: Option<(i64, Decimal)>,
    options: Vec<String>,
}

/// text, kind, required, options, factor.
type QuestionSpec<'a> = (
    String,
    QuestionKind,
    bool,
    Vec<String>,
    Option<&'a csi_factors::Model>,
);
/// question id, rating, choices, text.
type GeneratedAnswer = (i64, Option<i32>, Option<Vec<String>>, Option<String>);

struct Plan {
    title: &'static str,
    description: &'static str,
    status: SurveyStatus,
    /// The factor set of the survey's own trade, by name and version.
    csi: Option<(&'static str, i32)>,
    incentive: i64,
    helpful: i64,
    /// Share of invited customers who answer, in percent.
    response_rate: u32,
    /// Responses fall within this many days before now.
    span_days: i64,
    questions: Vec<(&'static str, QuestionKind, bool, Vec<&'static str>)>,
}

fn plans() -> Vec<Plan> {
    use QuestionKind::*;
    vec![
        Plan {
            title: "How was your purchase?",
            description: "Two minutes about your last visit. Thank you for helping us improve!",
            status: SurveyStatus::Active,
            csi: Some((ACSI_SET_NAME, 2)),
            incentive: 50,
            helpful: 25,
            response_rate: 70,
            span_days: 365,
            questions: vec![
                (
                    "Overall, how satisfied are you with your purchase?",
                    Rating,
                    true,
                    vec![],
                ),
                (
                    "How likely are you to recommend us to a friend or colleague?",
                    Nps,
                    true,
                    vec![],
                ),
                (
                    "How did you hear about us?",
                    SingleChoice,
                    false,
                    vec!["A friend", "Social media", "Search engine", "In store"],
                ),
                ("Anything we could do better?", Text, false, vec![]),
            ],
        },
        Plan {
            title: "Your experience with our customer service",
            description: "You recently contacted our team. How did it go?",
            status: SurveyStatus::Active,
            csi: Some((ACSI_SET_NAME, 1)),
            incentive: 30,
            helpful: 20,
            response_rate: 55,
            span_days: 365,
            questions: vec![
                (
                    "How satisfied are you with how we handled your request?",
                    Rating,
                    true,
                    vec![],
                ),
                (
                    "Which channels did you use?",
                    MultipleChoice,
                    false,
                    vec!["Phone", "E-mail", "Chat", "In person"],
                ),
                (
                    "How likely are you to recommend our service?",
                    Nps,
                    false,
                    vec![],
                ),
                ("Tell us more", Text, false, vec![]),
            ],
        },
        Plan {
            title: "Spring collection feedback",
            description: "What did you think of our spring collection?",
            status: SurveyStatus::Closed,
            csi: None,
            incentive: 20,
            helpful: 10,
            response_rate: 60,
            span_days: 300,
            questions: vec![
                (
                    "How much did you like the collection?",
                    Rating,
                    true,
                    vec![],
                ),
                (
                    "Which item was your favourite?",
                    SingleChoice,
                    false,
                    vec!["Jackets", "Shoes", "Bags", "Accessories"],
                ),
            ],
        },
        Plan {
            title: "Holiday opening hours (draft)",
            description: "Which opening hours would suit you over the holidays?",
            status: SurveyStatus::Draft,
            csi: None,
            incentive: 10,
            helpful: 0,
            response_rate: 0,
            span_days: 0,
            questions: vec![(
                "Which days would you visit?",
                MultipleChoice,
                true,
                vec!["24 December", "27 December", "31 December"],
            )],
        },
        Plan {
            title: "How was your flight?",
            description: "You flew with our travel partner. Tell us about your trip!",
            status: SurveyStatus::Active,
            csi: Some((AIRLINE_SET_NAME, 1)),
            incentive: 40,
            helpful: 20,
            response_rate: 60,
            span_days: 365,
            questions: vec![
                ("Overall, how was your flight?", Rating, true, vec![]),
                (
                    "How likely are you to fly with us again?",
                    Nps,
                    false,
                    vec![],
                ),
                ("Anything we could do better?", Text, false, vec![]),
            ],
        },
    ]
}

const COMMENTS: &[&str] = &[
    "Friendly staff and quick checkout.",
    "Delivery took longer than promised.",
    "Great quality, will buy again!",
    "The website was confusing on my phone.",
    "Loved the personal advice in store.",
    "Prices went up a bit, but still worth it.",
    "Please bring back the loyalty newsletter.",
    "Had to call twice before someone answered.",
];

/// Seeds the feedback demo data.
///
/// # Errors
/// Database failures; the transaction then rolls back.
pub async fn seed(db: &DatabaseConnection) -> DomainResult<()> {
    let mut rng = StdRng::seed_from_u64(2026);
    let now = Utc::now();
    let txn = begin_write(db).await?;

    let mut people: Vec<i64> = customers::Entity::find()
        .select_only()
        .column(customers::Column::Id)
        .filter(customers::Column::ErasedAt.is_null())
        .filter(customers::Column::ChurnedAt.is_null())
        .order_by_asc(customers::Column::Id)
        .limit(MAX_RESPONDENTS)
        .into_tuple::<i64>()
        .all(&txn)
        .await?;
    if people.is_empty() {
        // The customers demo made none (e.g. this area on its own): a few respondents.
        let rows = FALLBACK_NAMES.iter().enumerate().map(|(i, name)| {
            let acquired = now - Duration::days(400 + 7 * i as i64);
            customers::ActiveModel {
                name: Set((*name).to_owned()),
                relationship_stage: Set("COMMITMENT".to_owned()),
                acquired_at: Set(acquired),
                marketing_consent: Set(i % 3 != 0),
                created_at: Set(acquired),
                updated_at: Set(acquired),
                ..Default::default()
            }
        });
        customers::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        people = customers::Entity::find()
            .select_only()
            .column(customers::Column::Id)
            .order_by_asc(customers::Column::Id)
            .into_tuple::<i64>()
            .all(&txn)
            .await?;
    }
    let program = loyalty_programs::Entity::find()
        .order_by_asc(loyalty_programs::Column::Id)
        .one(&txn)
        .await?;
    let published = csi_factor_sets::Entity::find()
        // A survey of the past may be bound to a version since superseded.
        .filter(csi_factor_sets::Column::Status.is_in(["PUBLISHED", "SUPERSEDED"]))
        .order_by_desc(csi_factor_sets::Column::Id)
        .all(&txn)
        .await?;
    let published_factors = csi_factors::Entity::find()
        .filter(csi_factors::Column::FactorSetId.is_in(published.iter().map(|s| s.id)))
        .order_by_asc(csi_factors::Column::Position)
        .all(&txn)
        .await?;

    for (plan_index, plan) in plans().into_iter().enumerate() {
        // The set of the survey's own trade; without the CSI demo's sets (this
        // area seeded on its own), the newest published set.
        let factor_set = plan.csi.and_then(|(name, version)| {
            published
                .iter()
                .find(|s| s.name == name && s.version == version)
                .or_else(|| {
                    let demo_sets = [ACSI_SET_NAME, AIRLINE_SET_NAME];
                    let any_demo = published
                        .iter()
                        .any(|s| demo_sets.contains(&s.name.as_str()));
                    (!any_demo).then(|| published.first()).flatten()
                })
        });
        let factors: Vec<&csi_factors::Model> = factor_set
            .map(|set| {
                published_factors
                    .iter()
                    .filter(|f| f.factor_set_id == set.id)
                    .collect()
            })
            .unwrap_or_default();
        let uses_csi = !factors.is_empty();
        let created = now - Duration::days(plan.span_days + 14);
        let survey = surveys::ActiveModel {
            title: Set(plan.title.to_owned()),
            description: Set(Some(plan.description.to_owned())),
            locale: Set(Some("en".to_owned())),
            status: Set(plan.status.as_str().to_owned()),
            factor_set_id: Set(uses_csi.then(|| factor_set.map(|s| s.id)).flatten()),
            program_id: Set(program.as_ref().map(|p| p.id)),
            incentive_points: Set(plan.incentive),
            helpful_bonus_points: Set(plan.helpful),
            csi_threshold: Set(Some("60".to_owned())),
            created_at: Set(created),
            updated_at: Set(created),
            ..Default::default()
        }
        .insert(&txn)
        .await?;

        // Questions: the plan's, with one CSI_FACTOR question per factor after the first two.
        let mut specs: Vec<QuestionSpec<'_>> = Vec::new();
        for (i, (text, kind, required, options)) in plan.questions.iter().enumerate() {
            specs.push((
                (*text).to_owned(),
                *kind,
                *required,
                options.iter().map(|s| (*s).to_owned()).collect(),
                None,
            ));
            if i == 1 && uses_csi {
                for f in factors.iter().copied() {
                    specs.push((
                        format!("How satisfied are you with: {}?", f.label),
                        QuestionKind::CsiFactor,
                        false,
                        Vec::new(),
                        Some(f),
                    ));
                }
            }
        }
        let rows = specs
            .iter()
            .enumerate()
            .map(
                |(i, (text, kind, required, options, factor))| survey_questions::ActiveModel {
                    survey_id: Set(survey.id),
                    position: Set(i as i32 + 1),
                    text: Set(text.clone()),
                    required: Set(*required),
                    kind: Set(kind.as_str().to_owned()),
                    factor_key: Set(factor.map(|f| f.key.clone())),
                    options: Set(kind
                        .has_options()
                        .then(|| serde_json::to_string(options).unwrap_or_default())),
                    max_length: Set((*kind == QuestionKind::Text).then_some(2_000)),
                    // A CSI survey's "Overall, …" rating is its overall
                    // satisfaction measure, for driver analysis.
                    overall_satisfaction: Set(factor.is_none()
                        && *kind == QuestionKind::Rating
                        && survey.factor_set_id.is_some()
                        && text.starts_with("Overall")),
                    ..Default::default()
                },
            );
        survey_questions::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        let stored_questions = survey_questions::Entity::find()
            .filter(survey_questions::Column::SurveyId.eq(survey.id))
            .order_by_asc(survey_questions::Column::Position)
            .all(&txn)
            .await?;
        let questions: Vec<Question> = stored_questions
            .iter()
            .zip(&specs)
            .map(|(q, spec)| Question {
                id: q.id,
                kind: spec.1,
                factor: spec
                    .4
                    .map(|f| (f.id, Decimal::from_str(&f.weight).unwrap_or(Decimal::ONE))),
                options: spec.3.clone(),
            })
            .collect();
        if plan.status == SurveyStatus::Draft {
            continue;
        }

        // Invitations: everyone; answered ones used at the response time.
        let mut invitations = Vec::with_capacity(people.len());
        for (i, customer) in people.iter().enumerate() {
            let answers = rng.random_range(0..100) < plan.response_rate;
            // Spread over the span, oldest first.
            let offset = plan.span_days * (people.len() - i) as i64 / people.len().max(1) as i64;
            let submitted =
                now - Duration::days(offset) + Duration::minutes(rng.random_range(0..1440));
            let submitted = submitted.min(now - Duration::minutes(5));
            let invited = submitted - Duration::days(rng.random_range(1..5));
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            invitations.push((
                *customer,
                hash_token(&hex::encode(bytes)),
                invited,
                answers.then_some(submitted),
            ));
        }
        for chunk in invitations.chunks(CHUNK) {
            let rows = chunk.iter().map(|(customer, hash, invited, used)| {
                let expires = if plan.status == SurveyStatus::Closed || used.is_some() {
                    *invited + Duration::days(30)
                } else {
                    now + Duration::days(30)
                };
                survey_invitations::ActiveModel {
                    survey_id: Set(survey.id),
                    customer_id: Set(*customer),
                    token_hash: Set(hash.clone()),
                    expires_at: Set(expires),
                    created_at: Set(*invited),
                    used_at: Set(*used),
                    ..Default::default()
                }
            });
            survey_invitations::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
        }
        let invitation_ids: HashMap<String, i64> = survey_invitations::Entity::find()
            .select_only()
            .column(survey_invitations::Column::TokenHash)
            .column(survey_invitations::Column::Id)
            .filter(survey_invitations::Column::SurveyId.eq(survey.id))
            .into_tuple::<(String, i64)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();

        // Responses with their answers, generated before any insert.
        struct Generated {
            invitation_id: i64,
            customer_id: i64,
            at: DateTime<Utc>,
            answers: Vec<GeneratedAnswer>,
            ratings: Vec<(i64, i32)>,
            csi: Option<compute::CsiValue>,
            reasons: Vec<FollowUpReason>,
        }
        let scale = factor_set
            .map(|s| Scale {
                min: s.scale_min,
                max: s.scale_max,
            })
            .unwrap_or_default();
        let mut generated = Vec::new();
        for (customer, hash, _, used) in &invitations {
            let Some(at) = *used else { continue };
            let Some(invitation_id) = invitation_ids.get(hash).copied() else {
                continue;
            };
            // Satisfaction improves over the year: 3.2 a year ago, about 4.1 now.
            let age = (now - at).num_days() as f64 / 365.0;
            let mood = 4.1 - 0.9 * age + f64::from(rng.random_range(-15..=15)) / 10.0;
            let rate = |rng: &mut StdRng, min: i32, max: i32, centre: f64| -> i32 {
                let jitter = f64::from(rng.random_range(-8..=8)) / 10.0;
                let scaled = f64::from(min) + (centre + jitter - 1.0) / 4.0 * f64::from(max - min);
                (scaled.round() as i32).clamp(min, max)
            };
            let mut answers = Vec::new();
            let mut ratings = Vec::new();
            let mut reasons = Vec::new();
            for q in &questions {
                match q.kind {
                    QuestionKind::Rating => {
                        let r = rate(&mut rng, 1, 5, mood);
                        if r <= 2 {
                            reasons.push(FollowUpReason::LowRating);
                        }
                        answers.push((q.id, Some(r), None, None));
                    }
                    QuestionKind::Nps => {
                        let r = rate(&mut rng, 0, 10, mood + 0.3);
                        if r <= 6 {
                            reasons.push(FollowUpReason::NpsDetractor);
                        }
                        answers.push((q.id, Some(r), None, None));
                    }
                    QuestionKind::CsiFactor => {
                        if rng.random_range(0..10) == 0 {
                            continue; // skipped factor: weights renormalise
                        }
                        let r = rate(&mut rng, scale.min, scale.max, mood);
                        if let Some((factor_id, _)) = q.factor {
                            ratings.push((factor_id, r));
                        }
                        answers.push((q.id, Some(r), None, None));
                    }
                    QuestionKind::SingleChoice if !q.options.is_empty() => {
                        let pick = q.options[rng.random_range(0..q.options.len())].clone();
                        answers.push((q.id, None, Some(vec![pick]), None));
                    }
                    QuestionKind::MultipleChoice if !q.options.is_empty() => {
                        let picks: Vec<String> = q
                            .options
                            .iter()
                            .filter(|_| rng.random_range(0..3) == 0)
                            .cloned()
                            .collect();
                        if !picks.is_empty() {
                            answers.push((q.id, None, Some(picks), None));
                        }
                    }
                    QuestionKind::Text if rng.random_range(0..3) == 0 => {
                        let comment = COMMENTS[rng.random_range(0..COMMENTS.len())];
                        answers.push((q.id, None, None, Some(comment.to_owned())));
                    }
                    _ => {}
                }
            }
            let pairs: Vec<(Decimal, Option<Decimal>)> = questions
                .iter()
                .filter_map(|q| {
                    let (factor_id, weight) = q.factor?;
                    let rating = ratings.iter().find(|(f, _)| *f == factor_id)?.1;
                    Some((weight, Some(Decimal::from(rating))))
                })
                .collect();
            let csi = compute::index(scale, &pairs);
            if csi.is_some_and(|c| c.index < Decimal::from(60)) {
                reasons.insert(0, FollowUpReason::LowCsi);
            }
            generated.push(Generated {
                invitation_id,
                customer_id: *customer,
                at,
                answers,
                ratings,
                csi,
                reasons,
            });
        }
        let set_id = survey.factor_set_id;
        for chunk in generated.chunks(CHUNK) {
            let rows = chunk.iter().map(|g| survey_responses::ActiveModel {
                survey_id: Set(survey.id),
                invitation_id: Set(g.invitation_id),
                customer_id: Set(g.customer_id),
                submitted_at: Set(g.at),
                csi: Set(g.csi.map(|c| c.index.to_string())),
                weighted_mean: Set(g.csi.map(|c| c.weighted_mean.to_string())),
                factor_set_id: Set(set_id),
                helpful_at: Set(None),
                ..Default::default()
            });
            survey_responses::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
        }
        let response_ids: HashMap<i64, i64> = survey_responses::Entity::find()
            .select_only()
            .column(survey_responses::Column::InvitationId)
            .column(survey_responses::Column::Id)
            .filter(survey_responses::Column::SurveyId.eq(survey.id))
            .into_tuple::<(i64, i64)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();

        let mut answer_rows = Vec::new();
        let mut rating_rows = Vec::new();
        let mut follow_up_rows = Vec::new();
        let mut helpful = Vec::new();
        for (n, g) in generated.iter().enumerate() {
            let Some(response_id) = response_ids.get(&g.invitation_id).copied() else {
                continue;
            };
            for (question_id, rating, choices, text) in &g.answers {
                answer_rows.push(survey_answers::ActiveModel {
                    response_id: Set(response_id),
                    question_id: Set(*question_id),
                    rating: Set(*rating),
                    choices: Set(choices
                        .as_ref()
                        .map(|c| serde_json::to_string(c).unwrap_or_default())),
                    text: Set(text.clone()),
                    ..Default::default()
                });
            }
            if let Some(set_id) = set_id {
                for (factor_id, rating) in &g.ratings {
                    rating_rows.push(entity::csi_ratings::ActiveModel {
                        factor_set_id: Set(set_id),
                        factor_id: Set(*factor_id),
                        response_id: Set(Some(response_id)),
                        customer_id: Set(Some(g.customer_id)),
                        rating: Set(*rating),
                        rated_at: Set(g.at),
                        ..Default::default()
                    });
                }
            }
            if !g.reasons.is_empty() {
                let resolved = (now - g.at).num_days() > 45 && n % 4 != 0;
                follow_up_rows.push(follow_ups::ActiveModel {
                    response_id: Set(response_id),
                    customer_id: Set(g.customer_id),
                    reason: Set(g
                        .reasons
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(",")),
                    status: Set(if resolved { "RESOLVED" } else { "OPEN" }.to_owned()),
                    opened_at: Set(g.at),
                    resolved_at: Set(resolved.then(|| g.at + Duration::days(2))),
                    note: Set(resolved.then(|| {
                        "Called the customer, apologised and offered a voucher.".to_owned()
                    })),
                    ..Default::default()
                });
            }
            if n % 9 == 4 && g.answers.iter().any(|a| a.3.is_some()) {
                helpful.push((response_id, g.customer_id, g.at));
            }
            if let Some(program) = &program {
                loyalty::credit_for_source(
                    &txn,
                    program.id,
                    g.customer_id,
                    plan.incentive,
                    LedgerReason::FeedbackIncentive,
                    &format!("response:{response_id}"),
                    g.at,
                )
                .await?;
            }
        }
        for chunk in answer_rows.chunks(CHUNK) {
            survey_answers::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        for chunk in rating_rows.chunks(CHUNK) {
            entity::csi_ratings::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        for chunk in follow_up_rows.chunks(CHUNK) {
            follow_ups::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        for (response_id, customer_id, at) in helpful {
            let marked = at + Duration::days(1);
            survey_responses::Entity::update_many()
                .col_expr(
                    survey_responses::Column::HelpfulAt,
                    sea_orm::sea_query::Expr::value(marked),
                )
                .filter(survey_responses::Column::Id.eq(response_id))
                .exec(&txn)
                .await?;
            if let Some(program) = &program {
                loyalty::credit_for_source(
                    &txn,
                    program.id,
                    customer_id,
                    plan.helpful,
                    LedgerReason::HelpfulFeedback,
                    &format!("helpful:{response_id}"),
                    marked,
                )
                .await?;
            }
        }
        tracing::debug!(
            survey = plan_index,
            responses = generated.len(),
            "feedback demo seeded"
        );
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use migration::{Migrator, MigratorTrait};
    use sea_orm::PaginatorTrait;

    #[tokio::test]
    async fn seeds_quickly_with_responses_follow_ups_and_credits() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("demo.db").display());
        let db = domain::db::connect(&url, &domain::db::DbSettings::default())
            .await
            .expect("connect");
        Migrator::up(&db, None).await.expect("migrate");
        arrange_program_and_factor_set(&db).await;
        let started = std::time::Instant::now();
        seed(&db).await.expect("seed");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(surveys::Entity::find().count(&db).await.expect("n"), 5);
        let responses = survey_responses::Entity::find()
            .count(&db)
            .await
            .expect("n");
        assert!(responses > 30, "{responses}");
        assert!(follow_ups::Entity::find().count(&db).await.expect("n") > 0);
        let invitations = survey_invitations::Entity::find()
            .count(&db)
            .await
            .expect("n");
        assert!(invitations > responses);
        let ratings = entity::csi_ratings::Entity::find()
            .count(&db)
            .await
            .expect("n");
        assert!(ratings > responses / 2, "{ratings}");
        let credits = entity::ledger_entries::Entity::find()
            .count(&db)
            .await
            .expect("n");
        assert!(credits >= responses, "{credits}");
    }

    async fn arrange_program_and_factor_set(db: &DatabaseConnection) {
        let now = Utc::now();
        loyalty_programs::ActiveModel {
            name: Set("Demo".into()),
            currency: Set("EUR".into()),
            points_per_currency_unit: Set("1".into()),
            referral_bonus_points: Set(0),
            referral_window_days: Set(30),
            birthday_bonus_points: Set(0),
            // Explicit: on SQLite, a connection opened before the migration
            // that added the column returns NULL for its default through
            // `INSERT … RETURNING` as its first statement.
            enroll_on_first_purchase: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("program");
        let set = csi_factor_sets::ActiveModel {
            name: Set("Retail".into()),
            version: Set(1),
            status: Set("DRAFT".into()),
            scale_min: Set(1),
            scale_max: Set(5),
            lock_version: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("set");
        for (i, key) in ["quality", "value", "service"].into_iter().enumerate() {
            csi_factors::ActiveModel {
                factor_set_id: Set(set.id),
                key: Set(key.into()),
                label: Set(key.into()),
                weight: Set("1".into()),
                position: Set(i as i32),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("factor");
        }
        let mut published: csi_factor_sets::ActiveModel = set.into();
        published.status = Set("PUBLISHED".into());
        published.update(db).await.expect("publish");
    }
}
