//! A per-client cap on logins in flight, so one client cannot take every
//! password-hashing slot: its surplus waits briefly for a slot of its own,
//! then is refused with `RATE_LIMITED`; other clients are not queued behind it.
//!
//! The state is per process and keyed by whatever client address the caller
//! passes (the API layer's one definition of it). On PostgreSQL the same
//! number of slots also holds across every process sharing the database
//! ([`ClientGate::enter_shared`], transaction advisory locks): behind a load balancer a
//! client gets its slots once, not once per process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::{
    DatabaseBackend, DatabaseConnection, DatabaseTransaction, SqlxPostgresConnector,
    TransactionTrait,
};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::cluster::lock::SlotLocks;
use crate::error::{DomainError, DomainResult};

/// Logins (each one password verification) one client may have in flight,
/// at most: with fewer than three hashing slots (see [`ClientGate::new`]) it
/// is one less than the slots, so one client never holds them all.
pub const MAX_LOGINS_IN_FLIGHT_PER_CLIENT: usize = 2;
/// How long a client's further login waits for one of its slots before it is
/// refused with `RATE_LIMITED`.
pub const LOGIN_SLOT_WAIT: Duration = Duration::from_secs(1);
/// Clients tracked before idle entries are swept.
const SWEEP_AT: usize = 10_000;

/// Login slots per client.
#[derive(Debug)]
pub(super) struct ClientGate {
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    per_client: usize,
    /// Turns for holding a shared slot (PostgreSQL), see [`ClientGate::enter_shared`].
    shared_turns: Arc<Semaphore>,
    /// The slot pool, opened on the first login on PostgreSQL.
    slot_pool: tokio::sync::OnceCell<DatabaseConnection>,
}

impl ClientGate {
    /// A gate in front of a hasher with `hashing_slots` verifications at once:
    /// each client gets [`MAX_LOGINS_IN_FLIGHT_PER_CLIENT`] slots, or one less
    /// than `hashing_slots` when that is smaller (at least one).
    pub(super) fn new(hashing_slots: usize) -> Self {
        Self {
            slots: Mutex::default(),
            per_client: MAX_LOGINS_IN_FLIGHT_PER_CLIENT
                .min(hashing_slots.saturating_sub(1))
                .max(1),
            shared_turns: Arc::new(Semaphore::new(
                hashing_slots.clamp(1, MAX_SHARED_SLOT_HOLDERS),
            )),
            slot_pool: tokio::sync::OnceCell::new(),
        }
    }

    /// Takes one of `client`'s slots, waiting up to [`LOGIN_SLOT_WAIT`].
    ///
    /// # Errors
    /// `RATE_LIMITED` when the client's slots stay taken.
    pub(super) async fn enter(&self, client: &str) -> DomainResult<OwnedSemaphorePermit> {
        let slots = {
            let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() >= SWEEP_AT {
                // Only the map holds an idle client's semaphore.
                map.retain(|_, s| Arc::strong_count(s) > 1);
            }
            map.entry(client.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_client)))
                .clone()
        };
        match tokio::time::timeout(LOGIN_SLOT_WAIT, slots.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(DomainError::Internal(closed.into())),
            Err(_elapsed) => Err(DomainError::RateLimited {
                retry_after_secs: 1,
            }),
        }
    }
}

/// Advisory-lock namespace of the login slots (`"rap"` in ASCII, then 1).
const LOGIN_SLOTS_NAMESPACE: i32 = 0x7261_7001;
/// Logins of one process holding a shared slot at once, at most. Each holds
/// a connection of the slot pool (the slot lives in its transaction), a
/// small pool of its own beside the request pool: the login's own statements
/// need a request connection meanwhile, and a shared pool could run dry.
const MAX_SHARED_SLOT_HOLDERS: usize = 4;

/// A slot held across processes; [`SharedSlot::release`] gives it back
/// (dropping it does too, when the connection rolls back).
#[derive(Debug)]
pub(super) struct SharedSlot {
    txn: DatabaseTransaction,
    _turn: OwnedSemaphorePermit,
}

impl SharedSlot {
    /// Ends the slot's transaction, which releases its lock.
    pub(super) async fn release(self) {
        if let Err(error) = self.txn.rollback().await {
            tracing::warn!(error = %error, "login slot not released; it ends with its connection");
        }
    }
}

impl ClientGate {
    /// Takes one of `client`'s slots across every process, waiting up to
    /// [`LOGIN_SLOT_WAIT`]: on PostgreSQL a transaction holding a
    /// transaction advisory lock (a dead process's slot ends with its
    /// connection); `None` on SQLite, where one process serves the file and
    /// [`ClientGate::enter`] is the whole limit. Waits first for one of this
    /// process's [`MAX_SHARED_SLOT_HOLDERS`] turns.
    ///
    /// # Errors
    /// `RATE_LIMITED` when the client's slots stay taken; database failures.
    pub(super) async fn enter_shared(
        &self,
        db: &DatabaseConnection,
        client: &str,
    ) -> DomainResult<Option<SharedSlot>> {
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(None);
        }
        let turn = self
            .shared_turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|closed| DomainError::Internal(closed.into()))?;
        let digest = Sha256::digest(format!("login-slot:{client}").as_bytes());
        let key = i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        let slot_pool = self.slot_pool.get_or_init(|| async {
            let options = db.get_postgres_connection_pool().connect_options();
            SqlxPostgresConnector::from_sqlx_postgres_pool(
                PgPoolOptions::new()
                    .max_connections(u32::try_from(MAX_SHARED_SLOT_HOLDERS).unwrap_or(4))
                    .min_connections(0)
                    .acquire_timeout(LOGIN_SLOT_WAIT * 3)
                    .idle_timeout(Duration::from_secs(300))
                    .connect_lazy_with((*options).clone()),
            )
        });
        let txn = slot_pool.await.begin().await?;
        let locks = SlotLocks {
            namespace: LOGIN_SLOTS_NAMESPACE,
            slots: u32::try_from(self.per_client).unwrap_or(1),
        };
        if locks.acquire(&txn, key, LOGIN_SLOT_WAIT).await? {
            Ok(Some(SharedSlot { txn, _turn: turn }))
        } else {
            txn.rollback().await?;
            Err(DomainError::RateLimited {
                retry_after_secs: 1,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_gets_its_slots_and_no_more_while_others_get_theirs() {
        let gate = ClientGate::new(8);
        assert_eq!(ClientGate::new(2).per_client, 1, "one slot stays free");
        assert_eq!(ClientGate::new(1).per_client, 1);
        let first = gate.enter("10.0.0.1").await.expect("slot 1");
        let _second = gate.enter("10.0.0.1").await.expect("slot 2");
        let started = std::time::Instant::now();
        assert!(matches!(
            gate.enter("10.0.0.1").await,
            Err(DomainError::RateLimited { .. })
        ));
        assert!(started.elapsed() >= LOGIN_SLOT_WAIT);
        let _other = gate.enter("10.0.0.2").await.expect("another client");
        drop(first);
        let _third = gate.enter("10.0.0.1").await.expect("a slot freed");
    }
}
