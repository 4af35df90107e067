//! Cases (expedientes): the record a fraud team builds around an incident
//! and submits to the regulator.
//!
//! This module holds the parts every surface must agree on — the status
//! lifecycle, the enumerations of the create form, how a fraud report turns
//! its reason and amount into a priority, and the reference number format —
//! so that the origin, the dashboard and the docs cannot drift apart.
//!
//! The lifecycle, as the case-management guide describes it:
//!
//! ```text
//! borrador ──► en_revision ──► enviado ──► resuelto
//!    ▲              │
//!    └──────────────┘  (returned for changes)
//!
//! any status but archivado ──► archivado (final)
//! ```
//!
//! `en_revision` may go back to `borrador` (the reviewer returns it for
//! changes); once a case is `enviado` it is in the regulator's hands and only
//! moves forward.

mod kinds;
mod priority;
mod reference;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use kinds::{FraudReason, IncidentType, Jurisdiction};
pub use priority::{Priority, PriorityThresholds};
pub use reference::ReferenceNumber;

/// Where a case is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum CaseStatus {
    /// Draft: being written by the fraud team. Where every case starts.
    Borrador,
    /// Internal review before submission.
    EnRevision,
    /// Submitted to the regulator.
    Enviado,
    /// The regulator or the institution closed the matter.
    Resuelto,
    /// Set aside; final.
    Archivado,
}

impl CaseStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [CaseStatus; 5] = [
        CaseStatus::Borrador,
        CaseStatus::EnRevision,
        CaseStatus::Enviado,
        CaseStatus::Resuelto,
        CaseStatus::Archivado,
    ];

    /// The wire name (`borrador`, `en_revision`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Borrador => "borrador",
            CaseStatus::EnRevision => "en_revision",
            CaseStatus::Enviado => "enviado",
            CaseStatus::Resuelto => "resuelto",
            CaseStatus::Archivado => "archivado",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The statuses a case in `self` may move to. The single source of the
    /// lifecycle: [`CaseStatus::transition`] only consults this list.
    pub fn allowed_next(self) -> &'static [CaseStatus] {
        use CaseStatus as S;
        match self {
            S::Borrador => &[S::EnRevision, S::Archivado],
            S::EnRevision => &[S::Enviado, S::Borrador, S::Archivado],
            S::Enviado => &[S::Resuelto, S::Archivado],
            S::Resuelto => &[S::Archivado],
            S::Archivado => &[],
        }
    }

    /// Moves to `to` if the lifecycle allows it. Staying put is refused too:
    /// a PATCH that "changes" the status to the current one is almost always
    /// a stale client, and saying so beats a silent no-op.
    pub fn transition(self, to: CaseStatus) -> Result<CaseStatus, IllegalTransition> {
        if self.allowed_next().contains(&to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to, allowed: self.allowed_next().to_vec() })
        }
    }

    /// Whether the case has been submitted to the regulator (`enviado` or
    /// `resuelto`): a second submit answers 409.
    pub fn is_submitted(self) -> bool {
        matches!(self, CaseStatus::Enviado | CaseStatus::Resuelto)
    }

    /// Whether no transition leaves this status.
    pub fn is_final(self) -> bool {
        self.allowed_next().is_empty()
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status change the lifecycle does not allow. Its message names the
/// moves that *are* allowed, so an API client can fix the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalTransition {
    /// The current status.
    pub from: CaseStatus,
    /// The refused target.
    pub to: CaseStatus,
    /// What `from` may move to (empty when `from` is final).
    pub allowed: Vec<CaseStatus>,
}

impl fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let from = self.from;
        if self.from == self.to {
            write!(f, "the case is already `{from}`")?;
        } else {
            write!(f, "a case cannot move from `{from}` to `{}`", self.to)?;
        }
        match self.allowed.as_slice() {
            [] => write!(f, "; `{from}` is final"),
            [only] => write!(f, "; from `{from}` it may only move to `{only}`"),
            [init @ .., last] => {
                write!(f, "; from `{from}` it may move to ")?;
                for (i, s) in init.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}`{s}`")?;
                }
                write!(f, " or `{last}`")
            }
        }
    }
}

impl std::error::Error for IllegalTransition {}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus as S;

    #[test]
    fn names_round_trip() {
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<CaseStatus>(&json).unwrap(), s);
        }
        assert_eq!(CaseStatus::parse("received"), None);
        assert_eq!(CaseStatus::parse("Borrador"), None);
    }

    #[test]
    fn the_documented_lifecycle() {
        let expected: [(S, &[S]); 5] = [
            (S::Borrador, &[S::EnRevision, S::Archivado]),
            (S::EnRevision, &[S::Enviado, S::Borrador, S::Archivado]),
            (S::Enviado, &[S::Resuelto, S::Archivado]),
            (S::Resuelto, &[S::Archivado]),
            (S::Archivado, &[]),
        ];
        for (from, next) in expected {
            assert_eq!(from.allowed_next(), next, "{from}");
        }
        assert!(S::Archivado.is_final());
        assert!(CaseStatus::ALL.iter().filter(|s| s.is_final()).eq([&S::Archivado]));
    }

    #[test]
    fn transition_accepts_exactly_the_allowed_list() {
        for from in CaseStatus::ALL {
            for to in CaseStatus::ALL {
                let allowed = from.allowed_next().contains(&to);
                match from.transition(to) {
                    Ok(got) => {
                        assert!(allowed, "{from} → {to} accepted but not listed");
                        assert_eq!(got, to);
                    }
                    Err(e) => {
                        assert!(!allowed, "{from} → {to} listed but refused");
                        assert_eq!((e.from, e.to), (from, to));
                        assert_eq!(e.allowed, from.allowed_next());
                    }
                }
            }
            assert!(from.transition(from).is_err(), "{from} → itself");
        }
    }

    #[test]
    fn messages_name_the_allowed_moves() {
        let msg = |from: S, to: S| from.transition(to).unwrap_err().to_string();
        assert_eq!(
            msg(S::Enviado, S::Borrador),
            "a case cannot move from `enviado` to `borrador`; \
             from `enviado` it may move to `resuelto` or `archivado`"
        );
        assert_eq!(
            msg(S::EnRevision, S::Resuelto),
            "a case cannot move from `en_revision` to `resuelto`; \
             from `en_revision` it may move to `enviado`, `borrador` or `archivado`"
        );
        assert_eq!(
            msg(S::Resuelto, S::Enviado),
            "a case cannot move from `resuelto` to `enviado`; \
             from `resuelto` it may only move to `archivado`"
        );
        assert_eq!(
            msg(S::Archivado, S::Borrador),
            "a case cannot move from `archivado` to `borrador`; `archivado` is final"
        );
        assert!(msg(S::Enviado, S::Enviado).starts_with("the case is already `enviado`; "));
    }

    #[test]
    fn submitted_statuses() {
        let submitted: Vec<_> = CaseStatus::ALL.into_iter().filter(|s| s.is_submitted()).collect();
        assert_eq!(submitted, [S::Enviado, S::Resuelto]);
    }
}
