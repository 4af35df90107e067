//! The storage trait, directly: what the HTTP stories rely on.

use clausum_origin::store::{InsertOutcome, TransactionRow};

use crate::{helpers::TestApp, stories};

stories!(batched_inserts_report_each_idempotency_conflict);

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
