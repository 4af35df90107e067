//! Case counts for dashboards (`GET /api/v1/cases/statistics`): every
//! status, priority, jurisdiction and incident type is present, with 0 when
//! no case has it, so a dashboard never has to guess a missing key.

use std::collections::BTreeMap;

use clausum_core::cases::{CaseStatus, IncidentType, Jurisdiction, Priority};
use poem_openapi::Object;

use crate::store::CaseStats;

/// Key of `by_jurisdiction` counting cases without a jurisdiction.
pub const NO_JURISDICTION: &str = "none";

/// Cases per status; every status is present.
#[derive(Object, Debug, Default)]
pub struct StatusCounts {
    /// Drafts.
    pub borrador: i64,
    /// In internal review.
    pub en_revision: i64,
    /// Submitted to the regulator.
    pub enviado: i64,
    /// Resolved.
    pub resuelto: i64,
    /// Archived.
    pub archivado: i64,
}

/// Cases per priority; every priority is present.
#[derive(Object, Debug, Default)]
pub struct PriorityCounts {
    /// Low.
    pub baja: i64,
    /// Normal.
    pub media: i64,
    /// High.
    pub alta: i64,
    /// Act now.
    pub urgente: i64,
}

/// Case counts for dashboards.
#[derive(Object, Debug)]
pub struct CaseStatistics {
    /// Every case of the organisation.
    pub total: i64,
    /// Cases that are neither `resuelto` nor `archivado`.
    pub open: i64,
    /// Per status.
    pub by_status: StatusCounts,
    /// Per priority.
    pub by_priority: PriorityCounts,
    /// Per jurisdiction code; every supported jurisdiction is present, and
    /// `none` counts cases without one.
    pub by_jurisdiction: BTreeMap<String, i64>,
    /// Per incident type; every incident type is present.
    pub by_incident_type: BTreeMap<String, i64>,
}

impl From<&CaseStats> for CaseStatistics {
    fn from(s: &CaseStats) -> Self {
        let mut by_status = StatusCounts::default();
        for (status, n) in &s.by_status {
            let slot = match CaseStatus::parse(status) {
                Some(CaseStatus::Borrador) => &mut by_status.borrador,
                Some(CaseStatus::EnRevision) => &mut by_status.en_revision,
                Some(CaseStatus::Enviado) => &mut by_status.enviado,
                Some(CaseStatus::Resuelto) => &mut by_status.resuelto,
                Some(CaseStatus::Archivado) => &mut by_status.archivado,
                None => continue,
            };
            *slot += n;
        }
        let mut by_priority = PriorityCounts::default();
        for (priority, n) in &s.by_priority {
            let slot = match Priority::parse(priority) {
                Some(Priority::Baja) => &mut by_priority.baja,
                Some(Priority::Media) => &mut by_priority.media,
                Some(Priority::Alta) => &mut by_priority.alta,
                Some(Priority::Urgente) => &mut by_priority.urgente,
                None => continue,
            };
            *slot += n;
        }
        let zeros = |keys: &mut dyn Iterator<Item = &str>| -> BTreeMap<String, i64> {
            keys.map(|k| (k.to_owned(), 0)).collect()
        };
        let mut by_jurisdiction =
            zeros(&mut Jurisdiction::ALL.iter().map(|j| j.as_str()).chain([NO_JURISDICTION]));
        for (j, n) in &s.by_jurisdiction {
            let key = if j.is_empty() { NO_JURISDICTION } else { j.as_str() };
            *by_jurisdiction.entry(key.to_owned()).or_default() += n;
        }
        let mut by_incident_type = zeros(&mut IncidentType::ALL.iter().map(|t| t.as_str()));
        for (t, n) in &s.by_incident_type {
            *by_incident_type.entry(t.clone()).or_default() += n;
        }
        CaseStatistics {
            total: s.total,
            open: s.total - by_status.resuelto - by_status.archivado,
            by_status,
            by_priority,
            by_jurisdiction,
            by_incident_type,
        }
    }
}
