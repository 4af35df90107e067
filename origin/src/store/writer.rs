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
//!
//! Every assessment goes through this one writer, so a panic while
//! writing a batch must not end it ([`guarded`]): the writer writes that
//! batch's rows again one at a time, so that only the row that panics is
//! answered with an error, and goes on with the next batch.

use std::{any::Any, ops::Range, panic::AssertUnwindSafe, sync::Arc};

use futures_util::FutureExt;

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

    /// Whether the writer is alive. It stops only when every handle is
    /// gone, or if it died some way [`guarded`] does not catch; then
    /// nothing can be recorded and `GET /api/v1/health` says so. (A live
    /// writer whose batches fail, say on a full disk, answers each request
    /// with the error instead.)
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Writes one row durably, with the event it announces if any; returns
    /// once it is committed (or failed).
    pub async fn write(
        &self,
        row: TransactionRow,
        event: Option<OutboxEventRow>,
    ) -> Result<InsertOutcome, String> {
        self.enqueue(row, event).await?.outcome().await
    }

    /// Queues the row (waiting while the queue is full); once this returns
    /// `Ok`, the writer writes it whether or not its outcome is awaited.
    pub async fn enqueue(
        &self,
        mut row: TransactionRow,
        event: Option<OutboxEventRow>,
    ) -> Result<Pending, String> {
        let (reply, done) = oneshot::channel();
        // Compressed here, on the caller's task, not on the one writer.
        let packed = self.packs.then(|| PackedDocs::take(&mut row));
        let job = Job { row, packed, event, reply };
        self.tx.send(job).await.map_err(|_| "writer stopped".to_owned())?;
        Ok(Pending(done))
    }
}

/// A queued row's outcome, to come.
#[derive(Debug)]
pub struct Pending(oneshot::Receiver<Result<InsertOutcome, String>>);

impl Pending {
    /// Waits for the batch holding the row to commit (or fail).
    pub async fn outcome(mut self) -> Result<InsertOutcome, String> {
        self.wait().await
    }

    /// [`Pending::outcome`] by reference: a wait given up (its future
    /// dropped) can be taken up again.
    pub async fn wait(&mut self) -> Result<InsertOutcome, String> {
        (&mut self.0).await.map_err(|_| "writer dropped the request".to_owned())?
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

    /// Rows in the batch.
    fn len(&self) -> usize {
        self.rows.len()
    }

    /// Answers each request with its own row's outcome (after a panic,
    /// when the rows were written one at a time) and empties the batch.
    fn answer_each(&mut self, results: Vec<Result<InsertOutcome, String>>) {
        for e in results.iter().filter_map(|r| r.as_ref().err()) {
            tracing::error!(error = %e, "writing a transaction failed; it was not written");
        }
        self.send(results);
    }

    /// Answers every request of the batch with the batch's result and
    /// empties it.
    fn answer(&mut self, result: Result<Vec<InsertOutcome>, String>) {
        let results = match result {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(e) => {
                tracing::error!(error = %e, rows = self.len(), "transaction batch failed; nothing of it was written");
                vec![Err(e); self.len()]
            }
        };
        self.send(results);
    }

    /// Sends request `i` the result `i`, and empties the batch.
    fn send(&mut self, results: Vec<Result<InsertOutcome, String>>) {
        for (reply, result) in self.replies.drain(..).zip(results) {
            let _ = reply.send(result);
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
        let write = |rows: Range<usize>| {
            let write = store
                .insert_transactions_with_events(&batch.rows[rows.clone()], &batch.events[rows]);
            async move {
                match AssertUnwindSafe(write).catch_unwind().await {
                    Ok(result) => Ok(result.map_err(|e| e.to_string())),
                    Err(panic) => Err(panicked(&*panic)),
                }
            }
        };
        match write(0..batch.len()).await {
            Ok(result) => batch.answer(result),
            Err(panic) => {
                tracing::error!(error = %panic, rows = batch.len(), "writing a batch panicked; writing its rows one at a time");
                let mut each = Vec::with_capacity(batch.len());
                for i in 0..batch.len() {
                    each.push(one_outcome(write(i..i + 1).await));
                }
                batch.answer_each(each);
            }
        }
    }
}

fn run_thread(mut conn: SqliteBatchWriter, rx: mpsc::Receiver<Job>) {
    serve_blocking(
        rx,
        &mut conn,
        |conn, batch, rows| {
            conn.write(&batch.rows[rows.clone()], &batch.packed[rows.clone()], &batch.events[rows])
                .map_err(|e| e.to_string())
        },
        SqliteBatchWriter::finish_checkpoint,
    );
}

/// The writer thread's loop over `conn`: each batch written by `write`
/// (given the batch and which of its rows to write) and answered, then
/// `between` run before the next batch is gathered. If writing the batch
/// panics ([`guarded`]), its rows are written again one at a time, so
/// that only a row that panics on its own fails.
fn serve_blocking<C>(
    mut rx: mpsc::Receiver<Job>,
    conn: &mut C,
    write: impl Fn(&mut C, &Batch, Range<usize>) -> Result<Vec<InsertOutcome>, String>,
    between: impl Fn(&mut C),
) {
    let mut batch = Batch::new(MAX_THREAD_BATCH);
    while let Some(job) = rx.blocking_recv() {
        batch.push(job);
        batch.fill(&mut rx);
        match guarded(|| write(conn, &batch, 0..batch.len())) {
            Ok(result) => batch.answer(result),
            Err(panic) => {
                tracing::error!(error = %panic, rows = batch.len(), "writing a batch panicked; writing its rows one at a time");
                let each = (0..batch.len())
                    .map(|i| one_outcome(guarded(|| write(conn, &batch, i..i + 1))))
                    .collect();
                batch.answer_each(each);
            }
        }
        between(conn);
    }
}

/// The outcome of writing one row alone: its write's error, or the panic.
fn one_outcome(
    written: Result<Result<Vec<InsertOutcome>, String>, String>,
) -> Result<InsertOutcome, String> {
    written?.and_then(|mut outcomes| outcomes.pop().ok_or_else(|| "no outcome for the row".into()))
}

/// Runs a write, turning a panic into `Err` with its message (the
/// write's own result is the `Ok` side).
///
/// The write's transaction is rolled back as the panic unwinds through it
/// (rusqlite's transaction rolls back on drop; sqlx's queues a rollback
/// that runs before its connection is used again), and the connection is
/// left usable. On PostgreSQL a batch without events is a single statement
/// with no transaction around it: a panic after it ran leaves its rows
/// written, and writing them again one at a time finds each row already
/// there and reports it inserted.
fn guarded<T>(write: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(write)).map_err(|panic| panicked(&*panic))
}

/// The error a batch is answered with when writing it panicked.
fn panicked(panic: &(dyn Any + Send)) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("the transaction writer panicked: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> TransactionRow {
        TransactionRow {
            id: id.to_owned(),
            organization_id: "org_1".to_owned(),
            api_key_id: "key_1".to_owned(),
            flow: "payin".to_owned(),
            source: "assess".to_owned(),
            session_id: None,
            amount_minor: 100,
            currency: "MXN".to_owned(),
            email: None,
            card_bin: None,
            card_last4: None,
            ip: None,
            device_fingerprint: None,
            customer_id: None,
            account_id: None,
            order_id: None,
            payment_id: None,
            submerchant_id: None,
            decision: Some("approve".to_owned()),
            risk_score: Some(0),
            blocked_by: None,
            signals: None,
            request: "{}".to_owned(),
            response: None,
            idempotency_key: None,
            request_hash: None,
            is_fraudulent: false,
            created_at: 0,
            provider: None,
            external_id: None,
            fraud_reason: None,
            fraud_reported_at: None,
            released_at: None,
        }
    }

    /// Queues one job; its answer comes through the returned receiver.
    fn queue(tx: &mpsc::Sender<Job>, id: &str) -> oneshot::Receiver<Result<InsertOutcome, String>> {
        let (reply, done) = oneshot::channel();
        let job = Job { row: row(id), packed: None, event: None, reply };
        tx.blocking_send(job).expect("the writer takes jobs");
        done
    }

    fn answer(
        done: oneshot::Receiver<Result<InsertOutcome, String>>,
    ) -> Result<InsertOutcome, String> {
        done.blocking_recv().expect("every job is answered")
    }

    #[test]
    fn only_the_row_that_panics_fails_and_the_writer_goes_on() {
        let (tx, rx) = mpsc::channel(QUEUE);
        // Queued before the writer starts, so the three make one batch.
        let first = ["txn_a", "txn_boom", "txn_b"].map(|id| queue(&tx, id));
        let thread = std::thread::spawn(move || {
            let mut written: Vec<String> = Vec::new();
            let mut batches = 0;
            serve_blocking(
                rx,
                &mut (&mut written, &mut batches),
                |(written, batches), batch, rows| {
                    **batches += 1;
                    let rows = &batch.rows[rows];
                    if rows.iter().any(|r| r.id == "txn_boom") {
                        panic!("a bug while writing txn_boom");
                    }
                    written.extend(rows.iter().map(|r| r.id.clone()));
                    Ok(vec![InsertOutcome::Inserted; rows.len()])
                },
                |_| {},
            );
            (written, batches)
        });
        let [a, boom, b] = first.map(answer);
        assert_eq!(a, Ok(InsertOutcome::Inserted));
        let err = boom.unwrap_err();
        assert!(err.contains("panicked") && err.contains("a bug while writing"), "{err}");
        assert_eq!(b, Ok(InsertOutcome::Inserted));
        assert_eq!(answer(queue(&tx, "txn_c")), Ok(InsertOutcome::Inserted));
        drop(tx);
        let (written, batches) = thread.join().unwrap();
        assert_eq!(written, ["txn_a", "txn_b", "txn_c"]);
        // The batch of three, then each of its rows alone, then txn_c.
        assert_eq!(batches, 5);
    }

    #[test]
    fn a_writer_whose_loop_has_ended_is_not_running() {
        let (tx, rx) = mpsc::channel(QUEUE);
        let writer = Writer { tx, packs: false };
        assert!(writer.is_running());
        drop(rx);
        assert!(!writer.is_running());
    }

    #[test]
    fn a_panic_inside_a_sqlite_transaction_rolls_it_back_and_leaves_the_connection_usable() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY)").unwrap();
        let insert = |conn: &mut rusqlite::Connection, id: &str, boom: bool| {
            let tx = conn.transaction().unwrap();
            tx.execute("INSERT INTO t VALUES (?)", [id]).unwrap();
            assert!(!boom, "boom after inserting {id}");
            tx.commit().unwrap();
        };
        assert_eq!(guarded(|| insert(&mut conn, "a", false)), Ok(()));
        let err = guarded(|| insert(&mut conn, "b", true)).unwrap_err();
        assert!(err.contains("boom after inserting b"), "{err}");
        assert_eq!(guarded(|| insert(&mut conn, "c", false)), Ok(()));
        let ids: Vec<String> = conn
            .prepare("SELECT id FROM t ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ids, ["a", "c"]);
    }

    #[test]
    fn a_panic_message_is_read_from_str_and_string_payloads() {
        assert!(panicked(&"static text").ends_with("static text"));
        assert!(panicked(&"formatted".to_owned()).ends_with("formatted"));
        assert!(panicked(&42_u8).ends_with("(no message)"));
    }
}
