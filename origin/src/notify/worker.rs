//! The email worker: claims due alert emails, sends them over SMTP,
//! schedules retries, and without SMTP records them instead.
//!
//! Like webhook delivery it is at least once: a worker that dies mid-send
//! leaves its claims to expire (the lease), after which any worker sends
//! them again with the same `Message-ID`. A worker stopped gracefully
//! ([`crate::background`]) claims nothing more, starts no new send, lets
//! the sends under way finish and gives back the emails it claimed but did
//! not send, so another worker sends them at once.
//!
//! Without `CLAUSUM_SMTP_URL` nothing is lost: due emails are marked
//! `recorded` — kept with their text and listed by the API — and a worker
//! that has SMTP (this process after a restart with it configured, or
//! another replica) sends those recorded in the last
//! [`WorkerConfig::recorded_window_ms`]; older ones stay recorded, since an
//! alert weeks late is noise rather than news.

use std::{sync::Arc, time::Duration};

use rand::Rng;

use super::smtp::{Mailer, Sent};
use crate::{
    background::{Running, Stop, uncancelled, until_stopped},
    config::Config,
    store::{EmailOutcome, EmailRow, Store},
    time::now_ms,
};

/// Emails claimed per round.
const BATCH: i64 = 16;
/// SMTP conversations at once.
const PARALLEL: usize = 4;
/// What a recorded email says about itself.
pub const NOT_CONFIGURED: &str =
    "SMTP is not configured (CLAUSUM_SMTP_URL): recorded, sent once a worker has SMTP";

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How long a claim lasts before another worker may take it over.
    pub lease_ms: i64,
    /// Multiplies the retry schedule (1.0 in production; tests shrink it).
    pub retry_scale: f64,
    /// Recorded emails younger than this are sent once SMTP is available.
    pub recorded_window_ms: i64,
    /// Sleep between polls when idle.
    pub idle_poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            lease_ms: 60_000,
            retry_scale: 1.0,
            recorded_window_ms: 7 * 24 * 60 * 60 * 1000,
            idle_poll: Duration::from_millis(500),
        }
    }
}

/// Starts the worker for `config` (SMTP from `CLAUSUM_SMTP_URL` and
/// `CLAUSUM_SMTP_FROM`); a malformed URL or sender stops the start.
pub fn start(store: Arc<dyn Store>, config: &Config) -> anyhow::Result<Running> {
    let mailer = match config.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(url) => {
            let m = Mailer::new(url, &config.smtp_from).map_err(anyhow::Error::msg)?;
            tracing::info!("email alerts: sending over SMTP");
            Some(m)
        }
        None => {
            tracing::info!("email alerts: no CLAUSUM_SMTP_URL, alerts are recorded, not sent");
            None
        }
    };
    let worker = WorkerConfig {
        retry_scale: config.email_retry_scale.clamp(0.0, 1000.0),
        ..Default::default()
    };
    Ok(spawn(store, mailer, worker))
}

/// Starts the worker on the current runtime. Abort its handle to stop it
/// as a crash would, or stop it gracefully ([`crate::background`]).
pub fn spawn(store: Arc<dyn Store>, mailer: Option<Mailer>, config: WorkerConfig) -> Running {
    let stop = Arc::new(Stop::default());
    let handle = tokio::spawn(run(store, mailer, config, stop.clone()));
    Running { handle, stop }
}

async fn run(store: Arc<dyn Store>, mailer: Option<Mailer>, config: WorkerConfig, stop: Arc<Stop>) {
    while !stop.requested() {
        let now = now_ms();
        let recorded_since = mailer.as_ref().map(|_| now - config.recorded_window_ms);
        // Every database write of the worker is `uncancelled`.
        let (claimer, lease_until) = (store.clone(), now + config.lease_ms);
        let claim = uncancelled(async move {
            claimer.claim_emails(now, lease_until, BATCH, recorded_since).await
        });
        let due = match claim.await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "claiming alert emails failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if due.is_empty() {
            tokio::select! {
                () = tokio::time::sleep(config.idle_poll) => {}
                () = stop.wait() => {}
            }
            continue;
        }
        // Once a stop is asked no new send starts; the ones under way finish.
        let unsent =
            until_stopped(due, PARALLEL, &stop, |e| attempt(&store, mailer.as_ref(), &config, e))
                .await;
        let unsent: Vec<String> = unsent.into_iter().map(|e| e.id).collect();
        if !unsent.is_empty() {
            let releaser = store.clone();
            let release =
                uncancelled(async move { releaser.release_emails(&unsent, lease_until).await });
            match release.await {
                Ok(n) => tracing::info!(released = n, "gave back unsent alert email claims"),
                Err(e) => {
                    tracing::warn!(error = %e, "releasing alert email claims failed; their leases will expire");
                }
            }
        }
    }
}

async fn attempt(
    store: &Arc<dyn Store>,
    mailer: Option<&Mailer>,
    config: &WorkerConfig,
    e: EmailRow,
) {
    let (attempts, outcome, error) = match mailer {
        None => (e.attempts, EmailOutcome::Recorded, Some(NOT_CONFIGURED.to_owned())),
        Some(m) => {
            let attempts = e.attempts + 1;
            match m.send(&e).await {
                Sent::Accepted => (attempts, EmailOutcome::Sent, None),
                Sent::Permanent(why) => (attempts, EmailOutcome::Failed, Some(why)),
                Sent::Transient(why) => (attempts, retry(attempts, config), Some(why)),
            }
        }
    };
    if let EmailOutcome::Retry(_) | EmailOutcome::Failed = outcome {
        tracing::warn!(email = %e.id, attempts, "alert email not sent");
    }
    // In its own task, like every write of the worker (see `run`).
    let (recorder, id) = (store.clone(), e.id.clone());
    let record = uncancelled(async move {
        recorder.record_email(&id, attempts, &outcome, error.as_deref(), now_ms()).await
    });
    if let Err(err) = record.await {
        tracing::warn!(error = %err, email = %e.id, "recording an alert email's outcome failed");
    }
}

/// The next attempt on the webhooks' schedule (with its jitter), or
/// giving up once it has run out.
fn retry(attempts: i64, config: &WorkerConfig) -> EmailOutcome {
    let jitter: u32 = rand::thread_rng().r#gen();
    match clausum_core::webhook::next_attempt_delay_ms(
        u32::try_from(attempts).unwrap_or(u32::MAX),
        jitter,
    ) {
        Some(delay) => EmailOutcome::Retry(now_ms() + (delay as f64 * config.retry_scale) as i64),
        None => EmailOutcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_webhook_schedule_then_give_up() {
        let config = WorkerConfig::default();
        let before = now_ms();
        let EmailOutcome::Retry(at) = retry(1, &config) else { panic!("first failure retries") };
        // 5 s ± 20 %.
        assert!((before + 3_900..=now_ms() + 6_100).contains(&at), "{}", at - before);
        let last = i64::from(clausum_core::webhook::retry::MAX_ATTEMPTS);
        assert!(matches!(retry(last - 1, &config), EmailOutcome::Retry(_)));
        assert_eq!(retry(last, &config), EmailOutcome::Failed);
    }
}
