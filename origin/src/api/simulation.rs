//! `/api/v1/simulation`: run a preset or custom request through the live
//! pipeline without moving anything (dashboard token).

use std::sync::Arc;

use clausum_core::{
    roles::Action,
    simulation::PayinPreset,
    transaction::Transaction,
    wire::{AssessRequest, AssessResponse, Flow},
};
use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::Query,
    payload::Json,
};

use crate::{
    api::{
        Tag,
        common::{Pagination, iso, page},
    },
    auth::DashboardToken,
    error::ApiError,
    payload::JsonBody,
    simulation,
    state::AppState,
    store::SimulationRow,
};

/// A pay-in simulation: a preset, or a custom request (exactly one).
#[derive(Object, Debug)]
#[oai(deny_unknown_fields)]
pub struct PayinSimulation {
    /// A ready-made scenario.
    pub preset: Option<PayinPreset>,
    /// A custom request, exactly as `POST /api/v1/assess` takes it.
    pub transaction: Option<AssessRequest>,
}

/// The answer of a simulation.
#[derive(Object, Debug)]
pub struct SimulationResult {
    /// `sim_…`: the run's id (also the answer's `transaction_id`).
    pub id: String,
    /// Always `true`: nothing was recorded as real, counted or announced.
    pub simulated: bool,
    /// The preset used, if any.
    pub preset: Option<String>,
    /// The request as the pipeline saw it (normalised).
    pub request: serde_json::Value,
    /// What live assess would have answered.
    pub result: AssessResponse,
    /// RFC 3339.
    pub created_at: String,
}

/// A preset of the catalogue.
#[derive(Object, Debug)]
pub struct PresetInfo {
    /// Its name.
    pub preset: String,
    /// `payin` or `payout`.
    pub flow: Flow,
    /// What it shows.
    pub description: String,
}

/// A page of earlier runs.
#[derive(Object, Debug)]
pub struct SimulationPage {
    /// Newest first.
    pub data: Vec<SimulationResult>,
    /// Totals and paging.
    pub pagination: Pagination,
}

impl SimulationResult {
    fn from_row(row: &SimulationRow, result: AssessResponse) -> Self {
        SimulationResult {
            id: row.id.clone(),
            simulated: true,
            preset: row.preset.clone(),
            request: serde_json::from_str(&row.request).unwrap_or_default(),
            result,
            created_at: iso(row.created_at),
        }
    }
}

/// Simulation (dashboard token).
pub struct SimulationApi;

#[OpenApi(prefix_path = "/api/v1/simulation", tag = "Tag::Simulation")]
impl SimulationApi {
    /// Simulate a pay-in
    ///
    /// Runs a preset (`low_risk`, `high_amount`, `suspicious_device`,
    /// `card_testing_burst`) or a custom request through the live pipeline —
    /// same engine, blocklists, rules, weights and thresholds — and returns
    /// the full result. Nothing moves: velocity is read but not counted, no
    /// transaction is recorded (the run is kept, labelled, apart), no
    /// webhook is sent. Roles: admin, analyst.
    #[oai(path = "/", method = "post")]
    async fn payin(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<PayinSimulation>,
    ) -> Result<Json<SimulationResult>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteRules)?;
        let (preset, scenario) = match (body.value.preset, body.value.transaction) {
            (Some(preset), None) => (Some(preset), preset.scenario()),
            (None, Some(request)) => (
                None,
                clausum_core::simulation::Scenario { request, earlier: Vec::new() },
            ),
            _ => {
                return Err(ApiError::field(
                    "preset",
                    "send exactly one of `preset` and `transaction`",
                ));
            }
        };
        let tx = Transaction::from_wire(&scenario.request).map_err(|e| {
            let field = if preset.is_some() { e.field.clone() } else { format!("transaction.{}", e.field) };
            ApiError::field(&field, e.to_string())
        })?;
        let preset_name = preset.map(PayinPreset::as_str);
        let run = simulation::run(
            &state,
            p.org(),
            p.actor(),
            Flow::Payin,
            preset_name,
            &tx,
            &scenario.earlier,
        )
        .await?;
        Ok(Json(SimulationResult::from_row(&run.row, run.response)))
    }

    /// List simulation presets
    ///
    /// The ready-made scenarios and what each shows. Roles: all.
    #[oai(path = "/presets", method = "get")]
    async fn presets(&self, auth: DashboardToken) -> Result<Json<Vec<PresetInfo>>, ApiError> {
        auth.0.require(Action::ReadRules)?;
        Ok(Json(
            PayinPreset::ALL
                .into_iter()
                .map(|p| PresetInfo {
                    preset: p.as_str().to_owned(),
                    flow: Flow::Payin,
                    description: p.description().to_owned(),
                })
                .collect(),
        ))
    }

    /// List simulation runs
    ///
    /// Earlier runs of the organisation, newest first. Roles: all.
    #[oai(path = "/runs", method = "get")]
    async fn runs(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// Page size, 1–500 (default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<SimulationPage>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadRules)?;
        let (limit, offset) = page(limit.0, offset.0)?;
        let (rows, total) = state.store.list_simulations(p.org(), limit, offset).await?;
        let data = rows
            .iter()
            .map(|r| {
                let result = serde_json::from_str(&r.response).map_err(|e| {
                    ApiError::internal(&format!("stored simulation {} does not parse: {e}", r.id))
                })?;
                Ok(SimulationResult::from_row(r, result))
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(Json(SimulationPage { data, pagination: Pagination { total, limit, offset } }))
    }
}
