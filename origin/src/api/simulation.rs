//! `/api/v1/simulation`: run a preset or custom request through the live
//! pipeline without moving anything (dashboard token).

use std::sync::Arc;

use clausum_core::{
    roles::Action,
    rules::{Rule, RuleSet},
    simulation::{PayinPreset, PayoutPreset},
    transaction::Transaction,
    wire::{AssessRequest, AssessResponse, Flow, PayoutRequest},
};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};

use crate::{
    api::{
        Tag,
        common::{Pagination, PersonalData, iso, page, parse_time_or_date},
    },
    auth::DashboardToken,
    error::ApiError,
    payload::JsonBody,
    simulation,
    state::AppState,
    store::SimulationRow,
    time::now_ms,
};

/// Rules in a draft rule set at most.
pub const MAX_DRAFT_RULES: usize = 500;

/// A pay-in simulation: a preset, or a custom request (exactly one).
#[derive(Object, serde::Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct PayinSimulation {
    /// A ready-made scenario.
    pub preset: Option<PayinPreset>,
    /// A custom request, exactly as `POST /api/v1/assess` takes it.
    pub transaction: Option<AssessRequest>,
}

/// A payout simulation: a preset, or a custom request (exactly one).
#[derive(Object, serde::Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct PayoutSimulation {
    /// A ready-made scenario.
    pub preset: Option<PayoutPreset>,
    /// A custom request, exactly as `POST /api/v1/assess/payout` takes it.
    pub transaction: Option<PayoutRequest>,
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
    /// The request as the pipeline saw it (normalised; personal data
    /// masked for viewers, as in the transaction monitor).
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
    /// The run as a reader may see it: its request masked, as the
    /// transaction monitor masks a stored request, for roles that do not
    /// see personal data.
    fn from_row(row: &SimulationRow, result: AssessResponse, personal: PersonalData) -> Self {
        let mut request: serde_json::Value = serde_json::from_str(&row.request).unwrap_or_default();
        personal.document(&mut request);
        SimulationResult {
            id: row.id.clone(),
            simulated: true,
            preset: row.preset.clone(),
            request,
            result,
            created_at: iso(row.created_at),
        }
    }
}

/// One rule of a draft rule set.
#[derive(Object, serde::Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct DraftRule {
    /// Its name (reported as `rule:<name>` when it declines).
    pub name: String,
    /// The rule text, as `POST /api/v1/rules` takes it.
    pub source: String,
}

/// A backtest: a draft rule set and the period of recorded transactions to run it on.
#[derive(Object, serde::Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct BacktestRequest {
    /// The draft rules, in priority order; they replace the live rules for
    /// the backtest (send the live ones too to test an addition). At most 500.
    pub rules: Vec<DraftRule>,
    /// Start of the period (RFC 3339, or a date: midnight UTC).
    pub since: String,
    /// End of the period, exclusive (default: now).
    pub until: Option<String>,
    /// Only `payin` or only `payout` transactions (default: both).
    pub flow: Option<Flow>,
    /// How many changed decisions to return as examples (0–100, default 10).
    pub examples: Option<u32>,
}

/// How many decisions moved from one value to another.
#[derive(Object, Debug)]
pub struct Transition {
    /// The recorded decision.
    pub from: String,
    /// The draft's decision.
    pub to: String,
    /// How many.
    pub count: u64,
}

/// A changed decision.
#[derive(Object, Debug)]
pub struct BacktestExample {
    /// The recorded transaction.
    pub transaction_id: String,
    /// `payin` or `payout`.
    pub flow: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// RFC 3339.
    pub created_at: String,
    /// What was decided.
    pub recorded_decision: String,
    /// What the draft would have decided.
    pub backtest_decision: String,
}

/// What a backtest found.
#[derive(Object, Debug)]
pub struct BacktestReport {
    /// Recorded assessments replayed.
    pub total: u64,
    /// Of which the draft decides differently.
    pub changed: u64,
    /// Of which the draft decides the same.
    pub unchanged: u64,
    /// Changed decisions by (recorded, draft) pair, most frequent first.
    pub transitions: Vec<Transition>,
    /// The first changed decisions of the period.
    pub examples: Vec<BacktestExample>,
    /// Stored rows that no longer parse and were skipped.
    pub skipped: u64,
    /// The period replayed (RFC 3339).
    pub since: String,
    /// The period's end, exclusive (RFC 3339).
    pub until: String,
    /// Wall time of the replay.
    pub duration_ms: u64,
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
            (None, Some(request)) => {
                (None, clausum_core::simulation::Scenario { request, earlier: Vec::new() })
            }
            _ => {
                return Err(ApiError::field(
                    "preset",
                    "send exactly one of `preset` and `transaction`",
                ));
            }
        };
        let tx = Transaction::from_wire(&scenario.request).map_err(|e| {
            let field =
                if preset.is_some() { e.field.clone() } else { format!("transaction.{}", e.field) };
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
        Ok(Json(SimulationResult::from_row(&run.row, run.response, PersonalData::for_user(&p))))
    }

    /// Simulate a payout
    ///
    /// Like the pay-in simulation, for `POST /api/v1/assess/payout`:
    /// presets `domestic_spei` and `first_payout_high_risk_country`, or a
    /// custom request. Known beneficiaries are read, never recorded; nothing
    /// else is counted, recorded as real or announced. Roles: admin, analyst.
    #[oai(path = "/payout", method = "post")]
    async fn payout(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<PayoutSimulation>,
    ) -> Result<Json<SimulationResult>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteRules)?;
        let (preset, request) = match (body.value.preset, body.value.transaction) {
            (Some(preset), None) => (Some(preset), preset.request()),
            (None, Some(request)) => (None, request),
            _ => {
                return Err(ApiError::field(
                    "preset",
                    "send exactly one of `preset` and `transaction`",
                ));
            }
        };
        let tx = Transaction::from_payout_wire(&request)
            .map_err(|e| ApiError::field(&format!("transaction.{}", e.field), e.to_string()))?;
        let run = simulation::run(
            &state,
            p.org(),
            p.actor(),
            Flow::Payout,
            preset.map(PayoutPreset::as_str),
            &tx,
            &[],
        )
        .await?;
        Ok(Json(SimulationResult::from_row(&run.row, run.response, PersonalData::for_user(&p))))
    }

    /// Backtest a draft rule set
    ///
    /// Replays the organisation's recorded assessments of a period with the
    /// draft rules and the current thresholds, and reports how many
    /// decisions would change (approve → decline, …) with examples. Each
    /// replay keeps the built-in signals found at the time (lists,
    /// velocity, history as they were) and re-runs only the rules and the
    /// decision; rule conditions on `velocity.*` or `history.*` read as
    /// empty. Live state is not touched. Roles: admin, analyst.
    #[oai(path = "/backtest", method = "post")]
    async fn backtest(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<BacktestRequest>,
    ) -> Result<Json<BacktestReport>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteRules)?;
        let started = std::time::Instant::now();
        let req = body.value;
        if req.rules.len() > MAX_DRAFT_RULES {
            return Err(ApiError::field("rules", format!("at most {MAX_DRAFT_RULES} rules")));
        }
        let mut compiled = Vec::with_capacity(req.rules.len());
        for (i, r) in req.rules.iter().enumerate() {
            let name = r.name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                return Err(ApiError::field(
                    &format!("rules[{i}].name"),
                    "a rule name has 1 to 100 characters",
                ));
            }
            let rule = Rule::compile(&r.source)
                .map_err(|e| ApiError::field(&format!("rules[{i}].source"), e.to_string()))?;
            compiled.push((name.to_owned(), rule));
        }
        let since = parse_time_or_date("since", &req.since)?;
        let until = match req.until.as_deref() {
            Some(u) => parse_time_or_date("until", u)?,
            None => now_ms(),
        };
        if until <= since {
            return Err(ApiError::field("until", "`until` must be after `since`"));
        }
        let examples = req.examples.unwrap_or(10);
        if examples > 100 {
            return Err(ApiError::field("examples", "`examples` is at most 100"));
        }
        let outcome = simulation::backtest(
            &state,
            p.org(),
            Arc::new(RuleSet::new(compiled)),
            since,
            until,
            req.flow,
            examples as usize,
        )
        .await?;
        let mut transitions: Vec<Transition> = outcome
            .tally
            .transitions
            .iter()
            .map(|((from, to), count)| Transition {
                from: from.as_str().to_owned(),
                to: to.as_str().to_owned(),
                count: *count,
            })
            .collect();
        transitions.sort_by_key(|t| std::cmp::Reverse(t.count));
        Ok(Json(BacktestReport {
            total: outcome.tally.total,
            changed: outcome.tally.changed,
            unchanged: outcome.tally.total - outcome.tally.changed,
            transitions,
            examples: outcome
                .examples
                .iter()
                .map(|c| BacktestExample {
                    transaction_id: c.row.id.clone(),
                    flow: c.row.flow.clone(),
                    amount_minor: c.row.amount_minor,
                    currency: c.row.currency.clone(),
                    created_at: iso(c.row.created_at),
                    recorded_decision: c.recorded.as_str().to_owned(),
                    backtest_decision: c.replayed.as_str().to_owned(),
                })
                .collect(),
            skipped: outcome.unreadable,
            since: iso(since),
            until: iso(until),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }))
    }

    /// List simulation presets
    ///
    /// The ready-made scenarios and what each shows. Roles: all.
    #[oai(path = "/presets", method = "get")]
    async fn presets(&self, auth: DashboardToken) -> Result<Json<Vec<PresetInfo>>, ApiError> {
        auth.0.require(Action::ReadRules)?;
        let payin = PayinPreset::ALL.into_iter().map(|p| PresetInfo {
            preset: p.as_str().to_owned(),
            flow: Flow::Payin,
            description: p.description().to_owned(),
        });
        let payout = PayoutPreset::ALL.into_iter().map(|p| PresetInfo {
            preset: p.as_str().to_owned(),
            flow: Flow::Payout,
            description: p.description().to_owned(),
        });
        Ok(Json(payin.chain(payout).collect()))
    }

    /// List simulation runs
    ///
    /// Earlier runs of the organisation, newest first. Personal data in
    /// their requests is masked for viewers. Roles: all.
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
        let personal = PersonalData::for_user(&p);
        let data = rows
            .iter()
            .map(|r| {
                let result = serde_json::from_str(&r.response).map_err(|e| {
                    ApiError::internal(&format!("stored simulation {} does not parse: {e}", r.id))
                })?;
                Ok(SimulationResult::from_row(r, result, personal))
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(Json(SimulationPage { data, pagination: Pagination { total, limit, offset } }))
    }
}
