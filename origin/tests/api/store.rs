//! The storage trait, directly: what the HTTP stories rely on.

use std::time::{Duration, Instant};

use clausum_core::webhook::EventType;
use clausum_origin::{
    events,
    store::{InsertOutcome, TransactionRow},
};

use crate::{
    helpers::{Backend, TestApp},
    stories,
};

stories!(
    batched_inserts_report_each_idempotency_conflict,
    the_group_commit_writer_records_rows_events_and_conflicts
);

fn row(app: &TestApp, id: &str, key: Option<&str>) -> TransactionRow {
    TransactionRow {
        id: id.into(),
        organization_id: app.creds.organization_id.clone(),
        api_key_id: "key_test".into(),
        source: "assess".into(),
        flow: "payin".into(),
        session_id: Some("ps_1716998400000_a1b2c3d4e".into()),
        amount_minor: 100,
        currency: "MXN".into(),
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
        decision: Some("approve".into()),
        risk_score: Some(0),
        blocked_by: None,
        signals: Some("[]".into()),
        request: "{}".into(),
        response: Some(format!("{{\"id\":\"{id}\"}}")),
        idempotency_key: key.map(Into::into),
        request_hash: Some("h".into()),
        is_fraudulent: false,
        created_at: 1,
        provider: None,
        external_id: None,
        fraud_reason: None,
        fraud_reported_at: None,
        released_at: None,
    }
}

async fn batched_inserts_report_each_idempotency_conflict(app: TestApp) {
    // An empty batch is a no-op (it used to index an empty statement table).
    assert!(app.store.insert_transactions(&[]).await.unwrap().is_empty());
    // 87 rows: chunks of 64, 16, 4, 1, 1, 1; every tenth row reuses key "dup".
    let rows: Vec<TransactionRow> = (0..87)
        .map(|i| {
            let key = if i % 10 == 0 { Some("dup".to_owned()) } else { Some(format!("k{i}")) };
            row(&app, &format!("txn_{i}"), key.as_deref())
        })
        .collect();
    let out = app.store.insert_transactions(&rows).await.unwrap();
    assert_eq!(out.len(), 87);
    for (i, o) in out.iter().enumerate() {
        let expected = if i % 10 == 0 && i > 0 {
            InsertOutcome::IdempotencyConflict
        } else {
            InsertOutcome::Inserted
        };
        assert_eq!(*o, expected, "row {i}");
    }
    assert_eq!(app.count_transactions().await, 87 - 8);
    let replay =
        app.store.idempotent_replay(&app.creds.organization_id, "dup").await.unwrap().unwrap();
    assert_eq!(replay.response, "{\"id\":\"txn_0\"}", "the first writer of a key wins");
    // Keys without idempotency never conflict.
    let free: Vec<_> = (0..3).map(|i| row(&app, &format!("free_{i}"), None)).collect();
    assert!(
        app.store
            .insert_transactions(&free)
            .await
            .unwrap()
            .iter()
            .all(|o| *o == InsertOutcome::Inserted)
    );
}

/// A response the size the benchmark's are: a dozen signals, each with
/// its description.
fn long_response(id: &str) -> String {
    let details: Vec<String> = (0..12)
        .map(|i| {
            format!("{{\"code\":\"rule_signal_{i}\",\"weight\":4,\"description\":\"Custom rule `rule_{i:04}`\"}}")
        })
        .collect();
    format!("{{\"transaction_id\":\"{id}\",\"signal_details\":[{}]}}", details.join(","))
}

/// What assess relies on: the writer (a thread of its own on SQLite, the
/// pool on PostgreSQL) stores rows whole, announces each inserted row's
/// event in the same transaction, reports a taken idempotency key, and
/// every reader gets the exact response back. (The events' fan-out to
/// webhook endpoints is delivered end to end in `webhooks.rs`.)
async fn the_group_commit_writer_records_rows_events_and_conflicts(app: TestApp) {
    let org = app.creds.organization_id.clone();
    let writer = &app.state.writer;
    let mut first = row(&app, "txn_w1", Some("same-key"));
    first.response = Some(long_response("txn_w1"));
    let event = events::new_event_raw(&org, EventType::TransactionCreated, "{}".into(), 1);
    assert_eq!(
        writer.write(first.clone(), Some(event.clone())).await.unwrap(),
        InsertOutcome::Inserted
    );
    let mut second = row(&app, "txn_w2", Some("same-key"));
    second.response = Some(long_response("txn_w2"));
    let lost = events::new_event_raw(&org, EventType::TransactionCreated, "{}".into(), 2);
    assert_eq!(
        writer.write(second, Some(lost.clone())).await.unwrap(),
        InsertOutcome::IdempotencyConflict
    );

    let stored = app.store.transaction(&org, "txn_w1").await.unwrap().expect("written");
    assert_eq!(stored, first, "every column reads back as written");
    assert!(app.store.transaction(&org, "txn_w2").await.unwrap().is_none());
    let replay = app.store.idempotent_replay(&org, "same-key").await.unwrap().unwrap();
    assert_eq!(Some(replay.response), first.response);
    let announced: Vec<String> =
        app.store.outbox_events(&org).await.unwrap().into_iter().map(|e| e.id).collect();
    assert!(announced.contains(&event.id), "the inserted row's event is in the outbox");
    assert!(!announced.contains(&lost.id), "a refused row announces nothing");

    // An alert event also fans out to email recipients, which only the
    // pool path does: the SQLite writer thread refuses it whole rather than
    // write it without its emails.
    let alert = events::new_event_raw(
        &org,
        EventType::FraudDetected,
        "{\"notify\":{\"merchant\":true}}".into(),
        3,
    );
    let outcome = writer.write(row(&app, "txn_w3", None), Some(alert)).await;
    match app.backend {
        Backend::Sqlite => {
            assert!(outcome.is_err(), "{outcome:?}");
            assert!(app.store.transaction(&org, "txn_w3").await.unwrap().is_none());
        }
        Backend::Postgres => assert_eq!(outcome.unwrap(), InsertOutcome::Inserted),
    }

    if app.backend == Backend::Sqlite {
        // Stored compressed, and smaller than the text.
        let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
        let (kind, bytes): (String, i64) = sqlx::query_as(
            "SELECT typeof(response), length(response) FROM transactions WHERE id = 'txn_w1'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(kind, "blob");
        assert!((bytes as usize) * 2 < first.response.as_ref().unwrap().len(), "{bytes} bytes");
        let (kind,): (String,) =
            sqlx::query_as("SELECT typeof(request) FROM transactions WHERE id = 'txn_w1'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(kind, "blob", "the request is packed too");
        // A response packed before the dictionary (plain LZ4, flag clear)
        // still reads back.
        let text = long_response("txn_w1");
        sqlx::query("UPDATE transactions SET response = $1 WHERE id = 'txn_w1'")
            .bind(lz4_flex::compress_prepend_size(text.as_bytes()))
            .execute(&pool)
            .await
            .unwrap();
        let older = app.store.transaction(&org, "txn_w1").await.unwrap().expect("written");
        assert_eq!(older.response.as_deref(), Some(text.as_str()));
    }
}

/// Under writes that never pause, the WAL still starts over: the
/// checkpointer copies most of it beside the writer and the writer copies
/// the rest between two batches. Before, SQLite never found the WAL wholly
/// copied, and it grew by everything written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_wal_starts_over_under_steady_writes() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let path = app.db.url.strip_prefix("sqlite://").unwrap().to_owned();
    // Requests that do not compress (stored documents are packed): each
    // row is at least a page of its own.
    let mut seed = 0x2545_f491_u32;
    let noise: String = (0..4_200)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            char::from(b'!' + (seed % 90) as u8)
        })
        .collect();
    let request = serde_json::json!({ "pad": noise }).to_string();
    let until = Instant::now() + Duration::from_secs(3);
    let mut writers = Vec::new();
    for w in 0..8 {
        let (state, org, request) =
            (app.state.clone(), app.creds.organization_id.clone(), request.clone());
        let mut template = row(&app, "", None);
        template.organization_id = org;
        template.request = request;
        writers.push(tokio::spawn(async move {
            let mut written = 0u64;
            while Instant::now() < until {
                let mut r = template.clone();
                r.id = format!("txn_steady_{w}_{written}");
                assert_eq!(state.writer.write(r, None).await.unwrap(), InsertOutcome::Inserted);
                written += 1;
            }
            written
        }));
    }
    let mut rows = 0;
    for w in writers {
        rows += w.await.unwrap();
    }
    let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
    let (smallest,): (i64,) = sqlx::query_as(
        "SELECT min(length(request)) FROM transactions WHERE id LIKE 'txn_steady_%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(smallest > 4_096, "a stored request of {smallest} bytes fits in a page");
    let written_bytes = rows * 4_096;
    let wal = std::fs::metadata(format!("{path}-wal")).expect("the WAL file").len();
    assert!(rows > 200, "only {rows} rows written");
    // Each row is about 2.5 WAL pages: a WAL that never started over holds
    // several times `written_bytes` (measured: 3.8 times).
    assert!(
        wal < written_bytes,
        "the WAL is {wal} bytes after {rows} rows of more than a page each ({written_bytes} bytes)"
    );
}
