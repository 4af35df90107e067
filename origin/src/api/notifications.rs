//! Email alerts: `/api/v1/settings/notifications` (who is alerted for each
//! party of a fraud report's `notify`) and `/api/v1/notifications/emails`
//! (the alert emails queued, sent, failed or recorded).

use std::sync::Arc;

use clausum_core::{normalize::Email, roles::Action};
use poem::web::Data;
use poem_openapi::{Enum, Object, OpenApi, param::Query, payload::Json};
use serde::{Deserialize, Serialize};

use super::{
    Tag,
    common::{Pagination, audit_row, iso, iso_opt, page},
};
use crate::{
    auth::DashboardToken, error::ApiError, notify::alert::Party, payload::JsonBody,
    state::AppState, store::EmailRow, time::now_ms,
};

/// Recipients per party at most.
pub const MAX_RECIPIENTS: usize = 20;

/// Who receives the email alerts of each party a fraud report may notify.
#[derive(Object, Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    /// Alerted when a report sets `notify.merchant` (at most 20 addresses).
    #[serde(default)]
    #[oai(default)]
    pub merchant: Vec<String>,
    /// Alerted when a report sets `notify.acquirer` (at most 20 addresses).
    #[serde(default)]
    #[oai(default)]
    pub acquirer: Vec<String>,
    /// Alerted when a report sets `notify.issuer` (at most 20 addresses).
    #[serde(default)]
    #[oai(default)]
    pub issuer: Vec<String>,
    /// Alerted when a report sets `notify.compliance` (at most 20 addresses).
    #[serde(default)]
    #[oai(default)]
    pub compliance: Vec<String>,
}

impl NotificationSettings {
    fn party(&self, p: Party) -> &[String] {
        match p {
            Party::Merchant => &self.merchant,
            Party::Acquirer => &self.acquirer,
            Party::Issuer => &self.issuer,
            Party::Compliance => &self.compliance,
        }
    }

    fn party_mut(&mut self, p: Party) -> &mut Vec<String> {
        match p {
            Party::Merchant => &mut self.merchant,
            Party::Acquirer => &mut self.acquirer,
            Party::Issuer => &mut self.issuer,
            Party::Compliance => &mut self.compliance,
        }
    }

    /// From stored `(party, email)` rows.
    fn from_rows(rows: &[(String, String)]) -> Self {
        let mut s = NotificationSettings::default();
        for (party, email) in rows {
            if let Some(p) = Party::ALL.into_iter().find(|p| p.as_str() == party) {
                s.party_mut(p).push(email.clone());
            }
        }
        s
    }

    /// Every address parsed and normalised (lower-cased), duplicates within
    /// a party dropped; errors name the field (`compliance[2]`).
    fn validated(&self) -> Result<NotificationSettings, ApiError> {
        let mut out = NotificationSettings::default();
        for p in Party::ALL {
            let list = self.party(p);
            if list.len() > MAX_RECIPIENTS {
                return Err(ApiError::field(
                    p.as_str(),
                    format!("`{}` has at most {MAX_RECIPIENTS} addresses", p.as_str()),
                ));
            }
            let clean = out.party_mut(p);
            for (i, raw) in list.iter().enumerate() {
                let email = Email::parse(raw)
                    .map_err(|e| ApiError::field(&format!("{}[{i}]", p.as_str()), e.to_string()))?;
                if !clean.iter().any(|c| c == email.as_str()) {
                    clean.push(email.as_str().to_owned());
                }
            }
        }
        Ok(out)
    }

    fn rows(&self) -> Vec<(String, String)> {
        Party::ALL
            .into_iter()
            .flat_map(|p| self.party(p).iter().map(move |e| (p.as_str().to_owned(), e.clone())))
            .collect()
    }
}

/// Where an alert email stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Queued, or waiting for a retry.
    Pending,
    /// Accepted by the SMTP server.
    Sent,
    /// Refused for good, or still failing when the retry schedule ran out.
    Failed,
    /// Kept without sending: no SMTP server is configured. Sent once one
    /// is, if it is at most 7 days old.
    Recorded,
}

impl EmailStatus {
    fn as_str(self) -> &'static str {
        match self {
            EmailStatus::Pending => "pending",
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
            EmailStatus::Recorded => "recorded",
        }
    }
}

/// One alert email.
#[derive(Object, Debug)]
pub struct EmailAlert {
    /// `eml_…` (the message's `Message-ID` is `<id@clausum>`).
    pub id: String,
    /// The `fraud.detected` event (`evt_…`) it alerts of.
    pub event_id: String,
    /// `merchant`, `acquirer`, `issuer` or `compliance`.
    pub party: String,
    /// The address.
    pub recipient: String,
    /// Subject line (carries the case reference).
    pub subject: String,
    /// Plain-text body (the payer's email masked, no card data).
    pub body_text: String,
    /// `pending`, `sent`, `failed` or `recorded`.
    pub status: String,
    /// SMTP attempts made.
    pub attempts: i64,
    /// When the next attempt is due (RFC 3339; pending emails only).
    pub next_attempt_at: Option<String>,
    /// Why the last attempt failed, or why the email was only recorded.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// When the SMTP server accepted it (RFC 3339).
    pub sent_at: Option<String>,
}

impl From<&EmailRow> for EmailAlert {
    fn from(e: &EmailRow) -> Self {
        EmailAlert {
            id: e.id.clone(),
            event_id: e.event_id.clone(),
            party: e.party.clone(),
            recipient: e.recipient.clone(),
            subject: e.subject.clone(),
            body_text: e.body_text.clone(),
            status: e.status.clone(),
            attempts: e.attempts,
            next_attempt_at: (e.status == "pending").then(|| iso(e.next_attempt_at)),
            last_error: e.last_error.clone(),
            created_at: iso(e.created_at),
            sent_at: iso_opt(e.sent_at),
        }
    }
}

/// A page of alert emails.
#[derive(Object, Debug)]
pub struct EmailAlertPage {
    /// Newest first.
    pub data: Vec<EmailAlert>,
    /// Totals.
    pub pagination: Pagination,
}

/// Email alert settings and log (dashboard token; admins change, every role reads).
pub struct NotificationsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Notifications")]
impl NotificationsApi {
    /// Get alert recipients
    ///
    /// The email addresses alerted for each party when a fraud report's
    /// `notify` flags it (`merchant`, `acquirer`, `issuer`, `compliance`).
    #[oai(path = "/settings/notifications", method = "get")]
    async fn get_settings(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
    ) -> Result<Json<NotificationSettings>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadSettings)?;
        let rows = state.store.notification_recipients(p.org()).await?;
        Ok(Json(NotificationSettings::from_rows(&rows)))
    }

    /// Replace alert recipients
    ///
    /// Sets every party's list at once; a party left out gets no emails.
    /// Addresses are checked and lower-cased, at most 20 per party;
    /// duplicates within a party are dropped. Reports made afterwards use
    /// the new lists. Admins only.
    #[oai(path = "/settings/notifications", method = "put")]
    async fn put_settings(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<NotificationSettings>,
    ) -> Result<Json<NotificationSettings>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteSettings)?;
        let after = body.value.validated()?;
        let before =
            NotificationSettings::from_rows(&state.store.notification_recipients(p.org()).await?);
        let now = now_ms();
        let audit = audit_row(
            &p,
            "notifications.update",
            "notification_settings",
            None,
            Some(&before),
            Some(&after),
            now,
        );
        state.store.set_notification_recipients(p.org(), &after.rows(), now, &audit).await?;
        Ok(Json(after))
    }

    /// List alert emails
    ///
    /// The organisation's alert emails, newest first: recipient, subject,
    /// text, status (`pending`, `sent`, `failed`, or `recorded` when no
    /// SMTP server is configured), attempts and the last error; paginated.
    #[oai(path = "/notifications/emails", method = "get")]
    async fn emails(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// Only emails in this status.
        status: Query<Option<EmailStatus>>,
        /// Page size (1–500, default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<EmailAlertPage>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadSettings)?;
        let (limit, offset) = page(limit.0, offset.0)?;
        let found = state
            .store
            .email_alerts(p.org(), status.0.map(EmailStatus::as_str), limit, offset)
            .await?;
        Ok(Json(EmailAlertPage {
            data: found.rows.iter().map(EmailAlert::from).collect(),
            pagination: Pagination { total: found.total, limit, offset },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: &ApiError) -> serde_json::Value {
        e.body().error.details.clone().unwrap_or_default()["field"].clone()
    }

    #[test]
    fn settings_are_normalised_and_bounded() {
        let s = NotificationSettings {
            merchant: vec![" Ops@Shop.Example ".into(), "ops@shop.example".into()],
            compliance: vec!["cco@shop.example".into()],
            ..Default::default()
        };
        let v = s.validated().unwrap();
        assert_eq!(v.merchant, ["ops@shop.example"]);
        assert_eq!(
            v.rows(),
            [
                ("merchant".to_owned(), "ops@shop.example".to_owned()),
                ("compliance".to_owned(), "cco@shop.example".to_owned())
            ]
        );
        assert_eq!(NotificationSettings::from_rows(&v.rows()), v);

        let bad = NotificationSettings {
            issuer: vec!["a@b.example".into(), "not-an-email".into()],
            ..Default::default()
        };
        assert_eq!(field(&bad.validated().unwrap_err()), "issuer[1]");
        let many = NotificationSettings {
            acquirer: (0..21).map(|i| format!("a{i}@b.example")).collect(),
            ..Default::default()
        };
        assert_eq!(field(&many.validated().unwrap_err()), "acquirer");
    }
}
