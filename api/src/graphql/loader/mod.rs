//! Batch loaders: one file per relation or per-parent aggregate, each glue over
//! a domain batch function, so lists never cost a query per row.
//!
//! Batching is scheduled by the request, not by a timer. Every request (and
//! every WebSocket operation) gets its own loaders and runs inside
//! [`Rounds::drive`] ([`Rounds::drive_stream`] for a WebSocket operation's
//! responses): resolvers register the keys they need and wait; once the whole
//! resolver tree has nothing else to do, each loader with waiting keys sends one batch, and the next round
//! starts only when every batch of this one has answered. A page therefore
//! costs the same statements however many rows it has and however busy the
//! machine is, and no request waits on a batching window.
//!
//! Every execution path attaches the loaders the same way: HTTP POST and GET
//! (`http::graphql`) and each WebSocket operation (`http::ws`) build their
//! request with [`crate::graphql::context::operation_data`], which calls
//! [`attach`], and run it under their own [`Rounds`]. These are the only
//! loaders: async-graphql's `dataloader` feature is not enabled.

pub mod cards;
pub mod churn_events;
pub mod csi;
pub mod customer;
pub mod first_page;
pub mod latest_responses;
pub mod links;
pub mod loyalty;
pub mod purchase_stats;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use async_graphql::Request;
use domain::DomainError;
use futures::channel::oneshot;
use futures::future::{poll_fn, BoxFuture};
use futures::stream::{FuturesUnordered, Stream, StreamExt as _};
use futures::task::ArcWake;

use crate::state::Services;

/// A domain batch function: the values of many keys in one go. Keys with no
/// value are simply absent from the map.
pub trait BatchLoad: Send + Sync + 'static {
    type Key: Clone + Eq + Hash + Send + Sync + 'static;
    type Value: Clone + Send + Sync + 'static;

    fn load(
        &self,
        keys: &[Self::Key],
    ) -> impl Future<Output = Result<HashMap<Self::Key, Self::Value>, Arc<DomainError>>> + Send;
}

type Batch = BoxFuture<'static, ()>;

/// The batches a request's resolvers asked for and that have not started.
#[derive(Clone, Default)]
pub struct Rounds(Arc<Mutex<Vec<Batch>>>);

impl Rounds {
    fn queue(&self, batch: Batch) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(batch);
    }

    fn take(&self) -> Vec<Batch> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `execution` (a request's resolver tree) to completion, sending
    /// the batches it queues round by round on the same task.
    pub async fn drive<F: Future>(self, execution: F) -> F::Output {
        let mut execution = pin!(execution);
        let mut driver = Driver::new(self);
        poll_fn(move |cx| driver.poll(cx, |cx| execution.as_mut().poll(cx))).await
    }

    /// Like [`Rounds::drive`] for a stream of responses (a WebSocket
    /// operation): each item is resolved with its batches sent round by round.
    pub fn drive_stream<S: Stream + Unpin>(self, mut stream: S) -> impl Stream<Item = S::Item> {
        let mut driver = Driver::new(self);
        futures::stream::poll_fn(move |cx| driver.poll(cx, |cx| stream.poll_next_unpin(cx)))
    }
}

/// The round-by-round scheduling shared by futures and streams.
struct Driver {
    rounds: Rounds,
    round: FuturesUnordered<Batch>,
}

impl Driver {
    fn new(rounds: Rounds) -> Self {
        Self {
            rounds,
            round: FuturesUnordered::new(),
        }
    }

    /// Polls `inner` until it is ready or waits on nothing but batches, then
    /// sends those batches.
    fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        mut inner: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        let mut polls = 0;
        loop {
            // Nested `FuturesUnordered`s (lists and fields) poll a few
            // children, wake themselves and return; the tree has registered
            // every key it can only once a poll ends without such a wake-up.
            let nudge = Arc::new(Nudge {
                woken: AtomicBool::new(false),
                task: cx.waker().clone(),
            });
            let waker = futures::task::waker(nudge.clone());
            if let Poll::Ready(output) = inner(&mut Context::from_waker(&waker)) {
                return Poll::Ready(output);
            }
            polls += 1;
            if nudge.woken.load(Ordering::Acquire) && polls < MAX_POLLS_PER_ROUND {
                continue;
            }
            polls = 0;
            if self.round.is_empty() {
                let next = self.rounds.take();
                if next.is_empty() {
                    return Poll::Pending;
                }
                self.round.extend(next);
            }
            while !self.round.is_empty() {
                if self.round.poll_next_unpin(cx).is_pending() {
                    return Poll::Pending;
                }
            }
            // The round is complete and its answers woke resolvers: let them
            // register their next keys before the next round is cut.
        }
    }
}

/// Bounds the polls spent waiting for the tree to settle, in case a future
/// wakes itself forever; past it the round is cut with the keys so far.
const MAX_POLLS_PER_ROUND: u32 = 4096;

/// A waker that remembers being woken and passes the wake-up on to the task.
struct Nudge {
    woken: AtomicBool,
    task: Waker,
}

impl ArcWake for Nudge {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.woken.store(true, Ordering::Release);
        arc_self.task.wake_by_ref();
    }
}

type Answer<L> =
    Result<Arc<HashMap<<L as BatchLoad>::Key, <L as BatchLoad>::Value>>, Arc<DomainError>>;

struct Waiting<L: BatchLoad> {
    keys: HashSet<L::Key>,
    waiters: Vec<oneshot::Sender<Answer<L>>>,
}

/// One loader of one request: collects keys until the round is cut.
pub struct Loader<L: BatchLoad> {
    batch_fn: Arc<L>,
    rounds: Rounds,
    waiting: Arc<Mutex<Option<Waiting<L>>>>,
    /// Values already read by a resolver higher up (a page read with the
    /// parts of its rows' cards), answered without a batch.
    primed: Arc<Mutex<HashMap<L::Key, L::Value>>>,
}

impl<L: BatchLoad> Clone for Loader<L> {
    /// Another handle on the same loader (same keys, same round), for a
    /// `totalCount` counter that outlives its resolver.
    fn clone(&self) -> Self {
        Self {
            batch_fn: self.batch_fn.clone(),
            rounds: self.rounds.clone(),
            waiting: self.waiting.clone(),
            primed: self.primed.clone(),
        }
    }
}

impl<L: BatchLoad> Loader<L> {
    pub fn new(batch_fn: L, rounds: &Rounds) -> Self {
        Self {
            batch_fn: Arc::new(batch_fn),
            rounds: rounds.clone(),
            waiting: Arc::new(Mutex::new(None)),
            primed: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Records values read elsewhere in this request, so that asking for
    /// their keys costs no batch.
    pub fn prime(&self, values: impl IntoIterator<Item = (L::Key, L::Value)>) {
        self.primed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(values);
    }

    /// The value of `key`: a primed one, or fetched together with every
    /// other key asked for in the same round.
    pub async fn load_one(&self, key: L::Key) -> Result<Option<L::Value>, Arc<DomainError>> {
        if let Some(value) = self
            .primed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Some(value.clone()));
        }
        let (sender, answer) = oneshot::channel();
        {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            match waiting.as_mut() {
                Some(open) => {
                    open.keys.insert(key.clone());
                    open.waiters.push(sender);
                }
                None => {
                    *waiting = Some(Waiting {
                        keys: HashSet::from([key.clone()]),
                        waiters: vec![sender],
                    });
                    self.rounds.queue(Box::pin(send_batch(
                        self.batch_fn.clone(),
                        self.waiting.clone(),
                    )));
                }
            }
        }
        match answer.await {
            Ok(Ok(values)) => Ok(values.get(&key).cloned()),
            Ok(Err(error)) => Err(error),
            Err(oneshot::Canceled) => Err(Arc::new(DomainError::Internal(anyhow::anyhow!(
                "a batch was dropped before it answered"
            )))),
        }
    }
}

async fn send_batch<L: BatchLoad>(batch_fn: Arc<L>, waiting: Arc<Mutex<Option<Waiting<L>>>>) {
    let Some(Waiting { keys, waiters }) = waiting
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    else {
        return;
    };
    let keys: Vec<L::Key> = keys.into_iter().collect();
    let answer = batch_fn.load(&keys).await.map(Arc::new);
    for waiter in waiters {
        // A waiter whose resolver was dropped no longer needs its answer.
        let _ = waiter.send(answer.clone());
    }
}

/// Attaches a fresh set of loaders, scheduled by `rounds`, to a request.
pub fn attach(request: Request, services: &Services, rounds: &Rounds) -> Request {
    let db = &services.db;
    let loyalty = &services.loyalty;
    request
        .data(Loader::new(customer::CustomerLoader(db.clone()), rounds))
        .data(Loader::new(links::SurveyLoader(db.clone()), rounds))
        .data(Loader::new(links::ResponseLoader(db.clone()), rounds))
        .data(Loader::new(links::ProgramLoader(db.clone()), rounds))
        .data(Loader::new(links::FactorSetLoader(db.clone()), rounds))
        .data(Loader::new(links::PurchaseLoader(db.clone()), rounds))
        .data(Loader::new(
            links::UserLoader(services.users.clone()),
            rounds,
        ))
        .data(Loader::new(
            churn_events::ChurnEventsLoader(db.clone()),
            rounds,
        ))
        .data(Loader::new(
            purchase_stats::PurchaseStatsLoader(db.clone()),
            rounds,
        ))
        .data(Loader::new(
            first_page::InteractionsPageLoader::new(db.clone()),
            rounds,
        ))
        .data(Loader::new(
            first_page::PurchasesPageLoader::new(db.clone()),
            rounds,
        ))
        .data(Loader::new(
            first_page::ReferralsPageLoader::new(db.clone()),
            rounds,
        ))
        .data(Loader::new(
            first_page::CountLoader::<first_page::Interactions>::new(db.clone()),
            rounds,
        ))
        .data(Loader::new(
            first_page::CountLoader::<first_page::Purchases>::new(db.clone()),
            rounds,
        ))
        .data(Loader::new(
            first_page::CountLoader::<first_page::Referrals>::new(db.clone()),
            rounds,
        ))
        .data(Loader::new(loyalty::LedgerCounts(loyalty.clone()), rounds))
        .data(Loader::new(
            latest_responses::LatestResponsesLoader(db.clone()),
            rounds,
        ))
        .data(Loader::new(csi::CsiVersionsLoader(db.clone()), rounds))
        .data(Loader::new(
            loyalty::MembershipsByCustomer(loyalty.clone()),
            rounds,
        ))
        .data(Loader::new(
            loyalty::LedgerFirstPages(loyalty.clone()),
            rounds,
        ))
        .data(Loader::new(
            loyalty::ExpiringPointsByMembership(loyalty.clone()),
            rounds,
        ))
        .data(Loader::new(
            loyalty::PointsCreditedByPurchase(db.clone()),
            rounds,
        ))
        .data(Loader::new(loyalty::RewardFirstPages(db.clone()), rounds))
        .data(Loader::new(
            loyalty::PromotionFirstPages(db.clone()),
            rounds,
        ))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use futures::future::join_all;

    use super::*;

    /// Doubles its keys and records the size of every batch.
    struct Doubler(Arc<Mutex<Vec<usize>>>);

    impl BatchLoad for Doubler {
        type Key = u32;
        type Value = u32;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Arc<DomainError>> {
            self.0.lock().expect("not poisoned").push(keys.len());
            tokio::task::yield_now().await;
            Ok(keys.iter().map(|k| (*k, k * 2)).collect())
        }
    }

    #[tokio::test]
    async fn one_round_sends_one_batch_however_deeply_the_keys_are_nested() {
        // Arrange: 40 lists of 40 keys (each list large enough to be polled
        // through a self-waking `FuturesUnordered`), and a second, dependent
        // key for each.
        let batches = Arc::new(Mutex::new(Vec::new()));
        let rounds = Rounds::default();
        let loader = Loader::new(Doubler(batches.clone()), &rounds);
        let resolved = AtomicUsize::new(0);
        let tree = join_all((0..40u32).map(|list| {
            let (loader, resolved) = (&loader, &resolved);
            join_all((0..40u32).map(move |item| async move {
                let key = list * 40 + item;
                let first = loader.load_one(key).await.expect("batch").expect("value");
                let second = loader
                    .load_one(first + 10_000)
                    .await
                    .expect("batch")
                    .expect("value");
                resolved.fetch_add(1, Ordering::Relaxed);
                second
            }))
        }));

        // Act
        let lists = rounds.drive(tree).await;

        // Assert: two rounds, one batch each, with every distinct key once.
        assert_eq!(resolved.load(Ordering::Relaxed), 1600);
        assert_eq!(lists[1][2], (42 * 2 + 10_000) * 2);
        assert_eq!(*batches.lock().expect("not poisoned"), vec![1600, 1600]);
    }

    #[tokio::test]
    async fn primed_keys_are_answered_without_a_batch() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let rounds = Rounds::default();
        let loader = Loader::new(Doubler(batches.clone()), &rounds);
        loader.prime([(1, 100), (2, 200)]);
        let values = rounds
            .drive(join_all([1, 2, 3].map(|k| loader.load_one(k))))
            .await;
        let values: Vec<_> = values.into_iter().map(|v| v.expect("batch")).collect();
        assert_eq!(values, vec![Some(100), Some(200), Some(6)]);
        assert_eq!(*batches.lock().expect("not poisoned"), vec![1]);
    }

    #[tokio::test]
    async fn repeated_keys_are_sent_once_and_each_waiter_gets_the_value() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let rounds = Rounds::default();
        let loader = Loader::new(Doubler(batches.clone()), &rounds);
        let values = rounds
            .drive(join_all((0..10).map(|_| loader.load_one(7))))
            .await;
        assert!(values.iter().all(|v| matches!(v, Ok(Some(14)))));
        assert_eq!(*batches.lock().expect("not poisoned"), vec![1]);
    }
}
