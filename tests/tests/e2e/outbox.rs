//! The transactional outbox's queue (`domain::outbox`) on a real database:
//! a message exists exactly when its transaction commits, a due message is
//! claimed by one holder at a time, a claim whose holder died runs out and
//! the message is delivered again under the same id, failures back off and
//! are given up after the policy's last attempt, and staff may requeue.

use std::collections::HashSet;
use std::time::Duration;

use domain::outbox::{self, Channel, DeliveryState, NewMessage, Outcome, RetryPolicy};
use sea_orm::TransactionTrait as _;
use serde_json::json;

use crate::helpers::{spawn_app_with, Engine};

on_both_engines!(
    a_message_exists_only_when_its_transaction_commits,
    concurrent_claims_hand_each_message_to_one_holder,
    a_dead_holders_claim_runs_out_and_the_message_comes_back_with_its_id,
    failures_back_off_and_are_given_up_after_the_last_attempt,
    requeue_sends_a_message_again_with_a_fresh_count,
);

fn webhook(n: u32) -> NewMessage {
    NewMessage {
        channel: Channel::Webhook,
        topic: "test.event".into(),
        target: Some("endpoint-1".into()),
        payload: json!({ "n": n }),
        not_before: None,
    }
}

const LEASE: Duration = Duration::from_secs(60);

async fn a_message_exists_only_when_its_transaction_commits(engine: Engine) {
    let app = spawn_app_with(engine, &["--outbox-poll", "1h"]).await;
    let db = app.db();
    let txn = db.begin().await.expect("begin");
    outbox::enqueue(&txn, webhook(1)).await.expect("enqueue");
    txn.rollback().await.expect("rollback");
    let claimed = outbox::claim(db, &[Channel::Webhook], "a", 10, LEASE)
        .await
        .expect("claim");
    assert!(claimed.is_empty(), "a rolled-back message was claimed");

    let txn = db.begin().await.expect("begin");
    let id = outbox::enqueue(&txn, webhook(2)).await.expect("enqueue");
    txn.commit().await.expect("commit");
    // Another channel's worker does not take it.
    let other = outbox::claim(db, &[Channel::Email], "a", 10, LEASE)
        .await
        .expect("claim");
    assert!(other.is_empty());
    let claimed = outbox::claim(db, &[Channel::Webhook], "a", 10, LEASE)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, id);
    assert_eq!(claimed[0].payload, json!({ "n": 2 }));
    assert_eq!(claimed[0].attempts, 1);
    outbox::settle(
        db,
        id,
        "a",
        &Outcome::Delivered { status: Some(204) },
        &RetryPolicy::default(),
    )
    .await
    .expect("settle");
    let status = outbox::status(db, Channel::Webhook, id)
        .await
        .expect("status")
        .expect("exists");
    assert_eq!(status.state, DeliveryState::Delivered);
    assert_eq!(status.last_status, Some(204));
    assert_eq!(status.next_attempt_at, None);
    // Delivered messages are never claimed again.
    let again = outbox::claim(db, &[Channel::Webhook], "a", 10, LEASE)
        .await
        .expect("claim");
    assert!(again.is_empty());
}

async fn concurrent_claims_hand_each_message_to_one_holder(engine: Engine) {
    let app = spawn_app_with(engine, &["--outbox-poll", "1h"]).await;
    let db = app.db().clone();
    for n in 0..60 {
        outbox::enqueue(&db, webhook(n)).await.expect("enqueue");
    }
    let mut workers = Vec::new();
    for holder in 0..6 {
        let db = db.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch =
                    outbox::claim(&db, &[Channel::Webhook], &format!("h{holder}"), 4, LEASE)
                        .await
                        .expect("claim");
                if batch.is_empty() {
                    break;
                }
                mine.extend(batch.into_iter().map(|m| m.id));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.expect("worker"));
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 60, "every message claimed exactly once");
    assert_eq!(distinct.len(), 60);
}

async fn a_dead_holders_claim_runs_out_and_the_message_comes_back_with_its_id(engine: Engine) {
    let app = spawn_app_with(engine, &["--outbox-poll", "1h"]).await;
    let db = app.db();
    let id = outbox::enqueue(db, webhook(1)).await.expect("enqueue");
    let first = outbox::claim(
        db,
        &[Channel::Webhook],
        "dies",
        10,
        Duration::from_millis(300),
    )
    .await
    .expect("claim");
    assert_eq!(first.len(), 1);
    // While the lease holds, nobody else gets it.
    let during = outbox::claim(db, &[Channel::Webhook], "next", 10, LEASE)
        .await
        .expect("claim");
    assert!(during.is_empty());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = outbox::claim(db, &[Channel::Webhook], "next", 10, LEASE)
        .await
        .expect("claim");
    assert_eq!(after.len(), 1);
    assert_eq!(
        after[0].id, id,
        "the same id, so the receiver can de-duplicate"
    );
    assert_eq!(after[0].attempts, 2);
    // The dead holder's late failure report does not undo the successor's claim.
    outbox::settle(
        db,
        id,
        "dies",
        &Outcome::Retry {
            error: "late".into(),
            status: None,
        },
        &RetryPolicy::default(),
    )
    .await
    .expect("settle");
    let status = outbox::status(db, Channel::Webhook, id)
        .await
        .expect("status")
        .expect("exists");
    assert_eq!(status.last_error, None);
}

async fn failures_back_off_and_are_given_up_after_the_last_attempt(engine: Engine) {
    let app = spawn_app_with(engine, &["--outbox-poll", "1h"]).await;
    let db = app.db();
    let policy = RetryPolicy {
        first_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(10),
        max_attempts: 3,
    };
    let id = outbox::enqueue(db, webhook(1)).await.expect("enqueue");
    for attempt in 1..=3u32 {
        let mut claimed = Vec::new();
        for _ in 0..50 {
            claimed = outbox::claim(db, &[Channel::Webhook], "w", 10, LEASE)
                .await
                .expect("claim");
            if !claimed.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(claimed.len(), 1, "attempt {attempt} claimed");
        assert_eq!(claimed[0].attempts, attempt);
        let before = chrono::Utc::now();
        outbox::settle(
            db,
            id,
            "w",
            &Outcome::Retry {
                error: format!("HTTP 503 on attempt {attempt}"),
                status: Some(503),
            },
            &policy,
        )
        .await
        .expect("settle");
        let status = outbox::status(db, Channel::Webhook, id)
            .await
            .expect("status")
            .expect("exists");
        assert_eq!(status.last_status, Some(503));
        if attempt < 3 {
            assert_eq!(status.state, DeliveryState::Queued);
            let next = status.next_attempt_at.expect("next attempt");
            let wait = (next - before).num_milliseconds();
            let expected = i64::try_from(policy.delay(attempt).as_millis()).expect("small");
            assert!(
                (expected - 50..=expected + 1000).contains(&wait),
                "attempt {attempt}: waits {wait} ms, policy {expected} ms"
            );
            // Not claimed before its time.
            let early = outbox::claim(db, &[Channel::Webhook], "w", 10, LEASE)
                .await
                .expect("claim");
            assert!(early.is_empty());
        } else {
            assert_eq!(status.state, DeliveryState::Failed);
            assert_eq!(status.last_error.as_deref(), Some("HTTP 503 on attempt 3"));
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let never = outbox::claim(db, &[Channel::Webhook], "w", 10, LEASE)
        .await
        .expect("claim");
    assert!(never.is_empty(), "a given-up message is not tried again");
}

async fn requeue_sends_a_message_again_with_a_fresh_count(engine: Engine) {
    let app = spawn_app_with(engine, &["--outbox-poll", "1h"]).await;
    let db = app.db();
    let id = outbox::enqueue(db, webhook(1)).await.expect("enqueue");
    outbox::claim(db, &[Channel::Webhook], "w", 10, LEASE)
        .await
        .expect("claim");
    outbox::settle(
        db,
        id,
        "w",
        &Outcome::GiveUp {
            error: "410 Gone".into(),
            status: Some(410),
        },
        &RetryPolicy::default(),
    )
    .await
    .expect("settle");
    let log = outbox::for_target(db, Channel::Webhook, "endpoint-1", 10)
        .await
        .expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state, DeliveryState::Failed);
    assert!(!outbox::requeue(db, Channel::Email, id)
        .await
        .expect("requeue"));
    assert!(outbox::requeue(db, Channel::Webhook, id)
        .await
        .expect("requeue"));
    let again = outbox::claim(db, &[Channel::Webhook], "w", 10, LEASE)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, id);
    assert_eq!(again[0].attempts, 1);
}
