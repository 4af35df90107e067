//! The body of [`super::CaseStore::report_fraud`], expanded once per
//! backend inside its database transaction.

/// Runs every write of a fraud report on `$tx` (an open transaction) and
/// evaluates to the [`super::FraudReportOutcome`]. The caller commits only
/// when `created` is true; an early return on error drops (rolls back) the
/// transaction, so a failed report leaves nothing behind.
macro_rules! report_fraud_in {
    ($tx:expr, $plan:expr) => {{
        let tx = $tx;
        let plan: &FraudReportPlan = $plan;
        let org = &plan.case.organization_id;
        let txn_id = match &plan.target {
            ReportTarget::Existing(id) => id.clone(),
            ReportTarget::New(row) => row.id.clone(),
        };
        let existing: Option<CaseRow> = sqlx::query_as(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE organization_id = $1 AND source_transaction_id = $2"
        ))
        .bind(org)
        .bind(&txn_id)
        .fetch_optional(&mut **tx)
        .await?;
        let (case, created, added, linked) = if let Some(case) = existing {
            (case, false, Vec::new(), Vec::new())
        } else {
            if let ReportTarget::New(row) = &plan.target {
                sqlx::query(
                    "INSERT INTO transactions (id, organization_id, api_key_id, source, flow, amount_minor, \
                     currency, email, card_bin, card_last4, ip, device_fingerprint, customer_id, order_id, \
                     payment_id, request, created_at) \
                     VALUES ($1, $2, $3, 'fraud_report', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(&row.id)
                .bind(&row.organization_id)
                .bind(&row.api_key_id)
                .bind(&row.flow)
                .bind(row.amount_minor)
                .bind(&row.currency)
                .bind(&row.email)
                .bind(&row.card_bin)
                .bind(&row.card_last4)
                .bind(&row.ip)
                .bind(&row.device_fingerprint)
                .bind(&row.customer_id)
                .bind(&row.order_id)
                .bind(&row.payment_id)
                .bind(&row.request)
                .bind(row.created_at)
                .execute(&mut **tx)
                .await
                .map_err(on_unique)?;
            }
            sqlx::query(
                "UPDATE transactions SET is_fraudulent = TRUE, fraud_reason = $1, fraud_reported_at = $2, \
                 provider = COALESCE($3, provider), external_id = COALESCE($4, external_id) \
                 WHERE organization_id = $5 AND id = $6",
            )
            .bind(&plan.reason)
            .bind(plan.case.created_at)
            .bind(&plan.provider)
            .bind(&plan.external_id)
            .bind(org)
            .bind(&txn_id)
            .execute(&mut **tx)
            .await?;
            insert_case_row!(&mut **tx, &plan.case);
            sqlx::query(
                "INSERT INTO case_transactions (case_id, transaction_id, organization_id, added_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&plan.case.id)
            .bind(&txn_id)
            .bind(org)
            .bind(&plan.case.created_by)
            .bind(plan.case.created_at)
            .execute(&mut **tx)
            .await?;
            let mut added = Vec::new();
            let mut linked = Vec::new();
            for entry in &plan.entries {
                let r = &entry.row;
                let inserted: Option<String> = sqlx::query_scalar(&format!(
                    "INSERT INTO blocklist_entries ({BLOCKLIST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
                     $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING RETURNING id"
                ))
                .bind(&r.id)
                .bind(&r.organization_id)
                .bind(&r.list_type)
                .bind(&r.value)
                .bind(&r.severity)
                .bind(&r.flow_scope)
                .bind(&r.reason)
                .bind(&r.source)
                .bind(r.is_active)
                .bind(r.expires_at)
                .bind(r.created_at)
                .bind(&r.created_by)
                .bind(r.updated_at)
                .fetch_optional(&mut **tx)
                .await?;
                let row: BlocklistRow = if inserted.is_some() {
                    r.clone()
                } else {
                    sqlx::query_as(&format!(
                        "SELECT {BLOCKLIST_COLUMNS} FROM blocklist_entries \
                         WHERE organization_id = $1 AND list_type = $2 AND value = $3"
                    ))
                    .bind(org)
                    .bind(&r.list_type)
                    .bind(&r.value)
                    .fetch_one(&mut **tx)
                    .await?
                };
                sqlx::query(
                    "INSERT INTO case_blocklist_entries (case_id, entry_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(&plan.case.id)
                .bind(&row.id)
                .execute(&mut **tx)
                .await?;
                if inserted.is_some() { added.push(row) } else { linked.push(row) }
            }
            for e in &plan.evidence {
                insert_evidence_row!(&mut **tx, e);
            }
            insert_activity!(&mut **tx, &plan.activity);
            insert_audit!(&mut **tx, &plan.audit);
            for event in &plan.events {
                emit!(&mut **tx, event);
            }
            (plan.case.clone(), true, added, linked)
        };
        let transaction: TransactionRow = sqlx::query_as(&format!(
            "SELECT {TX_COLUMNS} FROM transactions WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org)
        .bind(&txn_id)
        .fetch_one(&mut **tx)
        .await?;
        FraudReportOutcome { case, created, transaction, added, linked }
    }};
}
pub(super) use report_fraud_in;
