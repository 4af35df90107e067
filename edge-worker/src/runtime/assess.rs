//! The two routes the edge decides on: assess (pay-in and payout) and the
//! browser SDK's session registration.

use clausum_core::{
    keys::KeyKind,
    wire::{
        ErrorBody, Flow,
        edge::{EDGE_DECIDED_HEADER, EdgeContext, EdgeKey, EdgeRecord},
    },
};
use wasm_bindgen::JsValue;
use worker::{Context, Env, Request, Response};

use super::{
    cache::{self, Value},
    origin, platform,
};
use crate::{
    config::EdgeConfig,
    ids,
    keys::Auth,
    resources::Resource,
    screen::{FreshIds, Incoming, Screen, screen},
};

/// Longest a request waits for a snapshot or manifest that must be loaded
/// (the rest of its deadline is the origin's).
const LOAD_WAIT_MS: i64 = 1_000;

/// What the edge established about the caller: `None` when it cannot say
/// (no key, no usable manifest) and the origin must judge. A key the
/// manifest does not hold is refused here without asking the origin: the
/// origin purges the manifest whenever a key is created or revoked, and
/// the manifest is revalidated every `REFRESH_INTERVAL_MS` besides.
async fn authenticate(
    req: &Request,
    env: &Env,
    ctx: &Context,
    cfg: &EdgeConfig,
    deadline: i64,
) -> Result<Option<(EdgeKey, String)>, ErrorBody> {
    let wait = (deadline - platform::now_ms()).clamp(0, LOAD_WAIT_MS);
    let Some(Value::Keys(table)) = cache::obtain(env, cfg, ctx, Resource::Keys, wait).await else {
        return Ok(None);
    };
    let header = req.headers().get("authorization").ok().flatten();
    match table.authenticate(header.as_deref(), platform::now_ms()) {
        Auth::Refused(body) => Err(body),
        Auth::Known { key, hash } => Ok(Some((key, hash))),
        Auth::Absent => Ok(None),
    }
}

/// `POST /api/v1/assess` and `/api/v1/assess/payout`.
pub async fn assess(
    mut req: Request,
    env: &Env,
    ctx: &Context,
    cfg: &EdgeConfig,
    flow: Flow,
    started: i64,
    request_id: &str,
) -> worker::Result<Response> {
    let deadline = started + cfg.origin_timeout_ms;
    let caller = match authenticate(&req, env, ctx, cfg, deadline).await {
        Ok(c) => c,
        Err(refused) => return platform::json(401, &refused),
    };
    let context = platform::edge_context(&req);
    let idempotency = req.headers().get("idempotency-key")?;
    let body = req.bytes().await?;
    // Payouts are a secret key's business: anything else is the origin's
    // refusal to give, as is an ingest key's assess.
    let screens = |k: &EdgeKey| match flow {
        Flow::Payin => k.assess && k.kind != KeyKind::Ingest,
        Flow::Payout => k.assess && k.kind == KeyKind::Secret,
    };
    if let Some((key, hash)) = caller.filter(|(k, _)| screens(k)) {
        let wait = (deadline - platform::now_ms()).clamp(0, LOAD_WAIT_MS);
        let org = Resource::Org(key.organization_id.clone());
        if let Some(Value::Snapshot(snapshot)) = cache::obtain(env, cfg, ctx, org, wait).await {
            let incoming = Incoming {
                flow,
                body: &body,
                idempotency_header: idempotency.as_deref(),
                started_ms: started,
            };
            let now = platform::now_ms();
            let fresh = || FreshIds {
                transaction_id: ids::transaction_id(now, platform::random()),
                session_id: ids::session_id(now, platform::random()),
            };
            if let Screen::Decline(d) = screen(&snapshot, &incoming, now, fresh) {
                let precheck = key.kind == KeyKind::Publishable;
                // A publishable key's pre-check is not recorded, as at the origin.
                if !precheck {
                    let record = EdgeRecord {
                        key_hash: hash,
                        flow,
                        transaction_id: d.transaction_id.clone(),
                        session_id: d.session_id.clone(),
                        // A request with an idempotency key is never declined here.
                        idempotency_key: None,
                        blocked_by: d.blocked_by.clone(),
                        request: serde_json::from_slice(&body).unwrap_or_default(),
                        context: context.clone(),
                    };
                    ctx.wait_until(origin::record(
                        env.clone(),
                        cfg.clone(),
                        record,
                        request_id.to_owned(),
                    ));
                }
                let mut resp = platform::json(200, &d.body)?;
                resp.headers_mut().set(EDGE_DECIDED_HEADER, "decline")?;
                if precheck {
                    resp.headers_mut().set("x-clausum-precheck", "true")?;
                }
                return Ok(resp);
            }
        }
    }
    let body = Some(JsValue::from(js_sys::Uint8Array::from(body.as_slice())));
    send_on(req, cfg, body, &context, deadline, request_id).await
}

/// `POST /api/v1/sessions`: the edge checks the key and adds what it knows.
pub async fn sessions(
    mut req: Request,
    env: &Env,
    ctx: &Context,
    cfg: &EdgeConfig,
    started: i64,
    request_id: &str,
) -> worker::Result<Response> {
    let deadline = started + cfg.origin_timeout_ms;
    if let Err(refused) = authenticate(&req, env, ctx, cfg, deadline).await {
        return platform::json(401, &refused);
    }
    let context = platform::edge_context(&req);
    let body = req.bytes().await?;
    let body = Some(JsValue::from(js_sys::Uint8Array::from(body.as_slice())));
    send_on(req, cfg, body, &context, deadline, request_id).await
}

async fn send_on(
    req: Request,
    cfg: &EdgeConfig,
    body: Option<JsValue>,
    context: &EdgeContext,
    deadline: i64,
    request_id: &str,
) -> worker::Result<Response> {
    let url = req.url()?;
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let out = origin::Outgoing {
        method: req.method(),
        path_and_query,
        headers: req.headers(),
        request_id,
        body,
        context: Some(context),
    };
    origin::forward(cfg, out, deadline - platform::now_ms()).await
}
