//! Idempotency: a replay with the same key returns the stored decision and
//! does not count twice toward velocity; the same key with another body is
//! refused; concurrent duplicates wait for the first.
//!
//! Recent responses are cached in memory so a retry costs no database
//! read. The database's unique index on `(organization, idempotency_key)`
//! stays the final word: a key first used on another node, or evicted from
//! the cache, is caught at insert time and answered from the stored row.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;

/// Responses kept in memory at most (oldest evicted first).
pub const CACHE_CAPACITY: usize = 100_000;

/// A stored answer for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// SHA-256 of the canonical request.
    pub request_hash: String,
    /// The exact response body.
    pub response: bytes::Bytes,
}

type Key = (String, String);

#[derive(Debug, Default)]
struct Inner {
    done: HashMap<Key, Stored>,
    order: VecDeque<Key>,
    in_flight: HashMap<Key, Arc<Notify>>,
}

/// Idempotency state of this node.
#[derive(Debug, Default)]
pub struct Idempotency {
    inner: Mutex<Inner>,
}

/// What to do with a request carrying an idempotency key.
#[derive(Debug)]
pub enum Begin {
    /// First time here: process it, then call [`Idempotency::finish`].
    Fresh,
    /// Already answered on this node.
    Replay(Stored),
    /// Being processed right now: wait on this, then ask again.
    Wait(Arc<Notify>),
}

impl Idempotency {
    /// Claims `(org, key)` or reports why not.
    pub fn begin(&self, org: &str, key: &str) -> Begin {
        let mut inner = self.inner.lock().expect("idempotency lock");
        let k = (org.to_owned(), key.to_owned());
        if let Some(s) = inner.done.get(&k) {
            return Begin::Replay(s.clone());
        }
        if let Some(n) = inner.in_flight.get(&k) {
            return Begin::Wait(n.clone());
        }
        inner.in_flight.insert(k, Arc::new(Notify::new()));
        Begin::Fresh
    }

    /// Whether `(org, key)` is being processed right now.
    pub fn in_flight(&self, org: &str, key: &str) -> bool {
        let inner = self.inner.lock().expect("idempotency lock");
        inner.in_flight.contains_key(&(org.to_owned(), key.to_owned()))
    }

    /// Releases a claim, storing the answer if there is one, and wakes waiters.
    pub fn finish(&self, org: &str, key: &str, stored: Option<Stored>) {
        let mut inner = self.inner.lock().expect("idempotency lock");
        let k = (org.to_owned(), key.to_owned());
        if let Some(s) = stored {
            if inner.done.insert(k.clone(), s).is_none() {
                inner.order.push_back(k.clone());
            }
            while inner.order.len() > CACHE_CAPACITY {
                if let Some(old) = inner.order.pop_front() {
                    inner.done.remove(&old);
                }
            }
        }
        if let Some(n) = inner.in_flight.remove(&k) {
            n.notify_waiters();
        }
    }
}

impl Idempotency {
    /// Forgets the stored answer of `(org, key)` (its transaction was
    /// released): the next request with the key is decided afresh.
    pub fn forget(&self, org: &str, key: &str) {
        let mut inner = self.inner.lock().expect("idempotency lock");
        inner.done.remove(&(org.to_owned(), key.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(h: &str) -> Stored {
        Stored { request_hash: h.into(), response: bytes::Bytes::from_static(b"{}") }
    }

    #[test]
    fn claim_wait_and_replay() {
        let i = Idempotency::default();
        assert!(matches!(i.begin("o", "k"), Begin::Fresh));
        assert!(matches!(i.begin("o", "k"), Begin::Wait(_)));
        // Other organisations never share a key.
        assert!(matches!(i.begin("p", "k"), Begin::Fresh));
        i.finish("o", "k", Some(stored("h")));
        match i.begin("o", "k") {
            Begin::Replay(s) => assert_eq!(s.request_hash, "h"),
            other => panic!("expected replay, got {other:?}"),
        }
    }

    #[test]
    fn a_failed_attempt_frees_the_key() {
        let i = Idempotency::default();
        assert!(matches!(i.begin("o", "k"), Begin::Fresh));
        i.finish("o", "k", None);
        assert!(matches!(i.begin("o", "k"), Begin::Fresh));
    }
}
