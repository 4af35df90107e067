//! Background workers and how they stop.
//!
//! The webhook delivery worker ([`crate::webhooks::worker`]) and the email
//! worker ([`crate::notify::worker`]) run as tokio tasks that claim rows
//! with a lease. Either is held as a [`Running`], which stops in one of two
//! ways:
//!
//! - as a crash would: abort its handle. The sends under way are dropped
//!   and its claims wait for their lease before any worker takes them;
//! - gracefully: [`Stop::request`] (or [`drain`], which also waits). It
//!   claims nothing more, starts no new send, lets the sends under way
//!   finish and gives back the claims it will not send, so another worker
//!   (another replica, or this one restarted) takes them at once.
//!
//! Either way a worker's database writes run in their own spawned task, so
//! aborting the worker never cancels one midway.

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;

/// A running worker: its task, and the switch that stops it gracefully.
#[derive(Debug)]
pub struct Running {
    /// The worker's task; aborting it is a crash (claims wait for their lease).
    pub handle: tokio::task::JoinHandle<()>,
    /// Asks it to stop after the sends under way.
    pub stop: Arc<Stop>,
}

/// A request to stop, seen by a worker between sends. One worker watches it.
#[derive(Debug, Default)]
pub struct Stop {
    requested: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Stop {
    /// Asks the worker to stop: it claims nothing more, starts no new send,
    /// gives back the claims it holds and ends.
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        // A stored permit: wakes the worker even if it is not waiting yet.
        self.wake.notify_one();
    }

    /// Whether a stop was asked.
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Resolves once a stop was asked (at once if it already was): what an
    /// idle worker waits on besides its poll interval.
    pub async fn wait(&self) {
        while !self.requested() {
            self.wake.notified().await;
        }
    }
}

/// Stops `running` gracefully: asks it to stop and waits up to `grace` for
/// the sends under way to finish and the unsent claims to be given back.
/// Past `grace` the worker is aborted, and the claims of the sends it cut
/// wait for their lease. `what` names the worker in the log ("webhook",
/// "email"). Returns whether it finished in time.
pub async fn drain(running: Running, grace: Duration, what: &str) -> bool {
    running.stop.request();
    let mut handle = running.handle;
    if tokio::time::timeout(grace, &mut handle).await.is_ok() {
        return true;
    }
    handle.abort();
    tracing::warn!(
        worker = what,
        "{what} sends still under way at shutdown were cut; their claims wait for their lease"
    );
    false
}

/// Where a process keeps one kind of worker: at most one runs.
#[derive(Debug, Default)]
pub struct Slot(Mutex<Option<Running>>);

impl Slot {
    /// Holds `running`, aborting the worker it replaces (as a crash would).
    pub fn set(&self, running: Running) {
        if let Some(old) = self.0.lock().expect("worker slot lock").replace(running) {
            old.handle.abort();
        }
    }

    /// Stops the worker as a crash would: sends under way are dropped and
    /// their claims wait for their lease.
    pub fn abort(&self) {
        if let Some(running) = self.0.lock().expect("worker slot lock").take() {
            running.handle.abort();
        }
    }

    /// Stops the worker gracefully ([`drain`]); true when there is none.
    pub async fn drain(&self, grace: Duration, what: &str) -> bool {
        let running = self.0.lock().expect("worker slot lock").take();
        match running {
            Some(running) => drain(running, grace, what).await,
            None => true,
        }
    }
}

/// Runs `work` on the claimed `items`, `parallel` at a time, starting them
/// in order; once `stop` is requested no new one starts and the ones under
/// way finish. Returns the items never started, to give back.
pub async fn until_stopped<T, F, Fut>(
    items: Vec<T>,
    parallel: usize,
    stop: &Stop,
    mut work: F,
) -> Vec<T>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut rest = items.into_iter();
    // Items are taken lazily, as a slot frees up: those left in `rest`
    // when the stream ends were never started.
    let started = std::iter::from_fn(|| if stop.requested() { None } else { rest.next() });
    futures_util::stream::iter(started.map(&mut work))
        .buffer_unordered(parallel)
        .collect::<Vec<()>>()
        .await;
    rest.collect()
}

/// Runs a worker's database write to completion in a task of its own, so
/// that aborting the worker can never cancel it midway (which could leave
/// a pooled connection inside an open transaction).
pub async fn uncancelled<F>(write: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(write).await.expect("a worker's database write does not panic")
}
