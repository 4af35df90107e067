//! Sending one alert email over SMTP with lettre.
//!
//! `CLAUSUM_SMTP_URL` says how to connect, in lettre's URL form:
//! `smtp://host:25` (plain text), `smtp://user:pass@host:587?tls=required`
//! (STARTTLS, refused without it), `?tls=opportunistic` (STARTTLS when
//! offered), `smtps://user:pass@host:465` (TLS from the start). TLS
//! certificates are checked against the webpki roots.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};

use crate::store::EmailRow;

/// How long one SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Longest error text kept on a row.
const MAX_ERROR: usize = 300;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// The server accepted the message.
    Accepted,
    /// A 4xx answer, or no answer (connection, TLS, timeout): try again later.
    Transient(String),
    /// A 5xx answer or a message that cannot be built: retrying cannot help.
    Permanent(String),
}

/// An SMTP transport and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    // The transport holds the credentials: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `url` sending as `from`. Errors never repeat the URL,
    /// which may carry a password.
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let from: Mailbox =
            from.parse().map_err(|e| format!("CLAUSUM_SMTP_FROM is not an address: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            .map_err(|_| {
                "CLAUSUM_SMTP_URL must look like smtp://host:port, smtp://user:pass@host:port?tls=required \
                 or smtps://user:pass@host:port"
                    .to_owned()
            })?
            .timeout(Some(TIMEOUT))
            .build();
        Ok(Mailer { transport, from })
    }

    /// Sends `e` once. The `Message-ID` derives from the row id, so a
    /// message sent twice (a worker died after the server accepted it) can
    /// be recognised as the same.
    pub async fn send(&self, e: &EmailRow) -> Sent {
        let to: Mailbox = match e.recipient.parse() {
            Ok(to) => to,
            Err(_) => return Sent::Permanent("the recipient is not a valid address".into()),
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(e.subject.clone())
            .message_id(Some(format!("<{}@clausum>", e.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(e.body_text.clone());
        let message = match message {
            Ok(m) => m,
            Err(err) => {
                return Sent::Permanent(clip(&format!("the message cannot be built: {err}")));
            }
        };
        match self.transport.send(message).await {
            Ok(_) => Sent::Accepted,
            Err(err) if err.is_permanent() => Sent::Permanent(clip(&err.to_string())),
            Err(err) => Sent::Transient(clip(&err.to_string())),
        }
    }
}

fn clip(s: &str) -> String {
    s.chars().take(MAX_ERROR).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_errors_never_echo_the_url() {
        let e = Mailer::new("nope://user:hunter2@host", "alerts@clausum.local").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(Mailer::new("smtp://127.0.0.1:2525", "not an address").is_err());
        let m = Mailer::new("smtp://user:hunter2@127.0.0.1:2525", "alerts@clausum.local").unwrap();
        assert!(!format!("{m:?}").contains("hunter2"));
        assert!(Mailer::new("smtps://mail.example.com", "Alerts <a@b.example>").is_ok());
        assert!(Mailer::new("smtp://mail.example.com:587?tls=required", "a@b.example").is_ok());
    }
}
