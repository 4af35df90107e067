//! `/metrics` in the Prometheus text format: request rates and latencies by
//! route and status, decisions by outcome, shed requests, outbox depth and
//! database pool use. Routes are the matched path patterns
//! (`/api/v1/cases/:param0`), never raw paths, so ids cannot explode the label
//! space; no label ever carries request data.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use clausum_core::scoring::Decision;
use poem::{Endpoint, IntoResponse, PathPattern, Request, Response, Result};

/// Upper bounds of the latency buckets, in seconds.
pub const BUCKETS: [f64; 12] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// A gauge to append: name, help text, and `(labels, value)` samples.
pub type Gauge<'a> = (&'a str, &'a str, Vec<(String, f64)>);

/// Counters of this process.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    decisions: [AtomicU64; 4],
    shed: AtomicU64,
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let mut latency = self.latency.lock().expect("metrics lock");
        let h = latency.entry((method.to_owned(), route.to_owned())).or_default();
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// Counts a decision.
    pub fn decision(&self, d: Decision) {
        self.decisions[d as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an assess refused for overload.
    pub fn shed(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition, with `extra` gauges appended.
    pub fn render(&self, extra: &[Gauge<'_>]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP clausum_http_requests_total Requests answered, by method, route and status.\n",
        );
        out.push_str("# TYPE clausum_http_requests_total counter\n");
        for ((m, r, s), n) in self.requests.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "clausum_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {n}",
                esc(r)
            );
        }
        out.push_str(
            "# HELP clausum_http_request_duration_seconds Time to answer, by method and route.\n",
        );
        out.push_str("# TYPE clausum_http_request_duration_seconds histogram\n");
        for ((m, r), h) in self.latency.lock().expect("metrics lock").iter() {
            let labels = format!("method=\"{m}\",route=\"{}\"", esc(r));
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "clausum_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "clausum_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ =
                writeln!(out, "clausum_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(
                out,
                "clausum_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP clausum_decisions_total Assess decisions, by outcome.\n");
        out.push_str("# TYPE clausum_decisions_total counter\n");
        for d in [Decision::Approve, Decision::Review, Decision::Challenge, Decision::Decline] {
            let n = self.decisions[d as usize].load(Ordering::Relaxed);
            let _ = writeln!(out, "clausum_decisions_total{{decision=\"{}\"}} {n}", d.as_str());
        }
        out.push_str("# HELP clausum_assess_shed_total Assess requests refused with 503 because the node was at capacity.\n");
        out.push_str("# TYPE clausum_assess_shed_total counter\n");
        let _ = writeln!(out, "clausum_assess_shed_total {}", self.shed.load(Ordering::Relaxed));
        for (name, help, samples) in extra {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (labels, v) in samples {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        }
        out
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The id of the request being served: the caller's `X-Request-Id` when
/// it is a sane token (at most 64 of `[A-Za-z0-9._-]`), else a new one.
/// Sent back as `X-Request-Id` and attached to every log line of the request.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

tokio::task_local! {
    /// The id of the request being served, for what it creates deep in the
    /// stack (webhook events carry it to receivers).
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

fn request_id(req: &Request) -> String {
    req.headers()
        .get(clausum_core::wire::request_id::HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| clausum_core::wire::request_id::is_acceptable(v))
        .map_or_else(|| crate::api::common::new_id("req"), str::to_owned)
}

/// Records every request's route, status and latency.
pub struct Measured<E> {
    inner: E,
}

/// Wraps `inner` so every request is counted.
pub fn measured<E: Endpoint>(inner: E) -> Measured<E> {
    Measured { inner }
}

impl<E: Endpoint> Endpoint for Measured<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let started = Instant::now();
        let method = req.method().as_str().to_owned();
        let metrics = req.data::<std::sync::Arc<crate::state::AppState>>().cloned();
        let id = request_id(&req);
        req.set_data(RequestId(id.clone()));
        let span = tracing::info_span!("request", request_id = %id);
        let call = CURRENT_REQUEST_ID.scope(id.clone(), self.inner.call(req));
        let mut result =
            tracing::Instrument::instrument(call, span).await.map(IntoResponse::into_response);
        let header = poem::http::HeaderValue::from_str(&id).expect("request ids are ASCII");
        match &mut result {
            Ok(r) => {
                r.headers_mut().insert("x-request-id", header);
            }
            Err(e) => e.set_data(RequestId(id.clone())),
        }
        let (status, pattern) = match &result {
            Ok(r) => (r.status().as_u16(), r.data::<PathPattern>().map(|p| p.0.to_string())),
            Err(e) => (e.status().as_u16(), e.data::<PathPattern>().map(|p| p.0.to_string())),
        };
        if let Some(state) = metrics {
            let route = pattern.unwrap_or_else(|| "unmatched".to_owned());
            state.metrics.observe(&method, &route, status, started.elapsed().as_secs_f64());
        }
        result
    }
}
