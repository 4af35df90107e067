//! Group commit for transaction records.
//!
//! Every assessment must be on disk before its decision is returned, but
//! one fsync per request would cap throughput at the disk's sync rate.
//! Requests hand their row to one writer task, which drains whatever has
//! queued up while the previous commit ran and writes it as one database
//! transaction — one sync for the whole batch — then answers each request.
//! Under light load a batch is one row; under heavy load batches grow and
//! the sync cost is shared.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{InsertOutcome, OutboxEventRow, Store, TransactionRow};

/// Rows written per batch at most: one multi-row statement.
pub const MAX_BATCH: usize = super::sql::MAX_INSERT_ROWS;
/// Rows waiting at most before callers feel back-pressure.
const QUEUE: usize = 8_192;

type Reply = oneshot::Sender<Result<InsertOutcome, String>>;
type Job = (TransactionRow, Option<OutboxEventRow>, Reply);

/// Handle to the writer task.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn spawn(store: Arc<dyn Store>) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, rx));
        Writer { tx }
    }

    /// Writes one row durably, with the event it announces if any; returns
    /// once it is committed (or failed).
    pub async fn write(
        &self,
        row: TransactionRow,
        event: Option<OutboxEventRow>,
    ) -> Result<InsertOutcome, String> {
        let (reply, done) = oneshot::channel();
        self.tx.send((row, event, reply)).await.map_err(|_| "writer stopped".to_owned())?;
        done.await.map_err(|_| "writer dropped the request".to_owned())?
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    let mut rows = Vec::with_capacity(MAX_BATCH);
    let mut events = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    while let Some((row, event, reply)) = rx.recv().await {
        rows.push(row);
        events.push(event);
        replies.push(reply);
        while rows.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok((row, event, reply)) => {
                    rows.push(row);
                    events.push(event);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        match store.insert_transactions_with_events(&rows, &events).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, rows = rows.len(), "transaction batch failed; nothing of it was written");
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
        rows.clear();
        events.clear();
    }
}
