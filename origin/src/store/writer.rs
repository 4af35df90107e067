//! Group commit for transaction records.
//!
//! Every assessment must be on disk before its decision is returned, but
//! one fsync per request would cap throughput at the disk's sync rate.
//! Requests hand their row to one writer, which drains whatever has queued
//! up while the previous commit ran and writes it as one database
//! transaction — one sync for the whole batch — then answers each request.
//! Under light load a batch is one row; under heavy load batches grow and
//! the sync cost is shared.
//!
//! On a SQLite file the writer is an OS thread with its own connection
//! ([`SqliteBatchWriter`]): a batch is then no hand-off at all between
//! begin and commit. On PostgreSQL it is a task writing through the pool.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{
    InsertOutcome, OutboxEventRow, Store, StoreResult, TransactionRow, packed::PackedDocs,
    sqlite_writer::SqliteBatchWriter,
};

/// Rows written per batch at most through the pool (one multi-row statement).
pub const MAX_BATCH: usize = super::sql::MAX_INSERT_ROWS;
/// Rows per batch at most on the writer thread, where a row is one run of
/// a prepared statement: larger batches share a sync among more rows.
const MAX_THREAD_BATCH: usize = 512;
/// Rows waiting at most before callers feel back-pressure.
const QUEUE: usize = 8_192;

type Reply = oneshot::Sender<Result<InsertOutcome, String>>;

/// One row to write and who waits for it.
struct Job {
    row: TransactionRow,
    /// The request and response packed, for the SQLite writer thread
    /// (which then gets the row without their text).
    packed: Option<PackedDocs>,
    event: Option<OutboxEventRow>,
    reply: Reply,
}

/// Handle to the writer.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    /// The writer stores documents packed (the SQLite thread).
    packs: bool,
}

impl Writer {
    /// Starts the writer: a thread owning its own connection when `store`
    /// offers one, else a task on the current runtime. It stops once every
    /// handle is dropped and the queue is drained.
    pub fn spawn(store: Arc<dyn Store>) -> StoreResult<Writer> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let packs = match store.batch_writer()? {
            Some(conn) => {
                std::thread::Builder::new()
                    .name("clausum-writer".into())
                    .spawn(move || run_thread(conn, rx))
                    .map_err(super::StoreError::WriterThread)?;
                true
            }
            None => {
                tokio::spawn(run_task(store, rx));
                false
            }
        };
        Ok(Writer { tx, packs })
    }

    /// Writes one row durably, with the event it announces if any; returns
    /// once it is committed (or failed).
    pub async fn write(
        &self,
        mut row: TransactionRow,
        event: Option<OutboxEventRow>,
    ) -> Result<InsertOutcome, String> {
        let (reply, done) = oneshot::channel();
        // Compressed here, on the caller's task, not on the one writer.
        let packed = self.packs.then(|| PackedDocs::take(&mut row));
        let job = Job { row, packed, event, reply };
        self.tx.send(job).await.map_err(|_| "writer stopped".to_owned())?;
        done.await.map_err(|_| "writer dropped the request".to_owned())?
    }
}

/// The jobs of one commit.
struct Batch {
    rows: Vec<TransactionRow>,
    packed: Vec<Option<PackedDocs>>,
    events: Vec<Option<OutboxEventRow>>,
    replies: Vec<Reply>,
    max: usize,
}

impl Batch {
    fn new(max: usize) -> Batch {
        Batch {
            rows: Vec::with_capacity(max),
            packed: Vec::with_capacity(max),
            events: Vec::with_capacity(max),
            replies: Vec::with_capacity(max),
            max,
        }
    }

    fn push(&mut self, Job { row, packed, event, reply }: Job) {
        self.rows.push(row);
        self.packed.push(packed);
        self.events.push(event);
        self.replies.push(reply);
    }

    /// Adds whatever is already queued, up to the batch size.
    fn fill(&mut self, rx: &mut mpsc::Receiver<Job>) {
        while self.rows.len() < self.max {
            match rx.try_recv() {
                Ok(job) => self.push(job),
                Err(_) => break,
            }
        }
    }

    /// Answers every request of the batch and empties it.
    fn answer<E: std::fmt::Display>(&mut self, result: Result<Vec<InsertOutcome>, E>) {
        match result {
            Ok(outcomes) => {
                for (reply, outcome) in self.replies.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, rows = self.rows.len(), "transaction batch failed; nothing of it was written");
                for reply in self.replies.drain(..) {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
        self.rows.clear();
        self.packed.clear();
        self.events.clear();
    }
}

async fn run_task(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Batch::new(MAX_BATCH);
    while let Some(job) = rx.recv().await {
        batch.push(job);
        batch.fill(&mut rx);
        let result = store.insert_transactions_with_events(&batch.rows, &batch.events).await;
        batch.answer(result);
    }
}

fn run_thread(mut conn: SqliteBatchWriter, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Batch::new(MAX_THREAD_BATCH);
    while let Some(job) = rx.blocking_recv() {
        batch.push(job);
        batch.fill(&mut rx);
        let result = conn.write(&batch.rows, &batch.packed, &batch.events);
        batch.answer(result);
        conn.finish_checkpoint();
    }
}
