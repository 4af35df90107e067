//! No mass assignment: a JSON body cannot set what the server owns.
//!
//! Every operation of the OpenAPI document that takes a JSON body is sent a
//! valid body plus the fields its answer shows but its request does not take
//! (`id`, `organization_id`, `created_at`, `status`, `transaction_id`,
//! `role`, …, one level into wrapped objects such as `{"endpoint": {…}}`),
//! and a few storage-only columns no answer shows (`key_hash`, …). Each
//! such field — all at once, then each alone — must be refused with 400
//! `VALIDATION_ERROR` naming it (the `JsonBody` extractor parses with serde
//! and `deny_unknown_fields`, and `payload::parse_error` puts the field's
//! path in `details.field`), and the refused requests must leave no trace:
//! no transaction (of this organisation or of the one named by the forged
//! `organization_id`), no audit row, no announced event, and the
//! operation's own resources read back unchanged. The same valid body
//! without them is then accepted, so the refusal was theirs.
//!
//! The two bodies that accept unknown fields by design (browser SDK
//! sessions, ingested events) are shown to ignore the forged fields instead,
//! and the Stripe webhook is excluded with its reason. The walk must cover
//! every JSON-body operation of the document, so a new one cannot be
//! forgotten.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{Reply, TestApp},
    stories,
};

stories!(server_owned_fields_are_refused_everywhere, tolerant_bodies_ignore_server_owned_fields);

/// The error code of an unknown field (`payload::parse_error`).
const UNKNOWN_FIELD_CODE: &str = "VALIDATION_ERROR";

/// JSON-body operations that accept unknown fields by design; the second
/// story shows that the server-owned fields among them are ignored.
const TOLERANT: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/api/v1/sessions",
        "SessionSignals accepts unknown fields on purpose (core/src/sdk/signals.rs): a page may \
         run a newer browser SDK, cached on a CDN, than the origin it talks to, and a new signal \
         must not make an older origin refuse the whole session. The body is re-serialised from \
         the struct, so unknown fields are dropped, never stored.",
    ),
    (
        "POST",
        "/api/webhooks/ingest",
        "An ingested event is any JSON object the sender chooses (RawJson, read by \
         ingest::parse as a serde_json::Value): only `event`/`type`, `id`/`event_id` and `data` \
         are read, and the whole body is kept as the event's payload — the sender's data, not \
         columns of ours.",
    ),
];

/// JSON-body operations left out of the walk.
const EXCLUDED: &[(&str, &str, &str)] = &[(
    "POST",
    "/api/webhooks/stripe",
    "Sent by Stripe, not by a client of ours: the Stripe-Signature HMAC is verified on the raw \
     bytes (RawJson) before anything parses them, so a forged body never reaches a parser \
     without the organisation's signing secret; and Stripe's events carry many fields Clausum \
     does not read, which StripeEvent documents as accepted and ignored. The organisation comes \
     from the query (`org_id`), bound by the signature, never from the body.",
)];

/// One JSON-body operation of the walk, ready to send.
struct Op {
    method: Method,
    /// The path as the OpenAPI document writes it.
    template: &'static str,
    /// The concrete path.
    path: String,
    /// Bearer credential; `None` for the operations that take none.
    auth: Option<String>,
    /// A body the operation accepts.
    body: Value,
    /// Storage-only columns no answer shows, forged as well.
    extra: &'static [&'static str],
    /// GETs (read by an admin) the refused requests must leave exactly as they were.
    watch: Vec<String>,
}

impl Op {
    fn new(
        method: Method,
        template: &'static str,
        path: impl Into<String>,
        auth: Option<&str>,
        body: Value,
    ) -> Op {
        Op {
            method,
            template,
            path: path.into(),
            auth: auth.map(str::to_owned),
            body,
            extra: &[],
            watch: Vec::new(),
        }
    }

    fn forging(mut self, extra: &'static [&'static str]) -> Op {
        self.extra = extra;
        self
    }

    fn watching<S: Into<String>>(mut self, paths: impl IntoIterator<Item = S>) -> Op {
        self.watch = paths.into_iter().map(Into::into).collect();
        self
    }
}

/// Objects of the organisation the walk sends bodies about, made first.
struct Fixtures {
    entry: String,
    case: String,
    /// Assessed, for `POST /cases/{id}/transactions`.
    link_txn: String,
    /// Assessed, for `POST /report-fraud`.
    report_txn: String,
    /// Assessed, for `POST /assess/release`.
    release_txn: String,
    rule: String,
    /// A viewer, for `PATCH /team/members/{id}`.
    member: String,
    endpoint: String,
    ingestion_rule: String,
    submerchant: String,
    /// An open invitation, for `POST /auth/accept-invite`.
    invite_token: String,
}

fn created(r: Reply) -> Value {
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_owned()
}

async fn fixtures(app: &TestApp, admin: &str) -> Fixtures {
    let entry = created(
        app.post(
            admin,
            "/api/v1/blocklists",
            &json!({"list_type": "email", "value": "listed@example.com"}),
        )
        .await,
    );
    let case = created(
        app.post(
            admin,
            "/api/v1/cases",
            &json!({"title": "Fixture case", "incident_type": "otro"}),
        )
        .await,
    );
    let mut txns = Vec::new();
    for email in ["link@example.com", "report@example.com", "release@example.com"] {
        let r = app.assess(&json!({"amount": 100, "currency": "MXN", "email": email})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        txns.push(text(&r.json["transaction_id"]));
    }
    let rule = created(
        app.post(
            admin,
            "/api/v1/rules",
            &json!({"name": "fixture_rule",
                    "source": "when amount > 100000 then add 10 as fixture_big"}),
        )
        .await,
    );
    let member_token = app.member_token("viewer").await;
    let member = app.get(&member_token, "/api/v1/auth/me").await;
    assert_eq!(member.status, StatusCode::OK, "{}", member.json);
    // A public address literal (accepted without DNS), and disabled: no
    // delivery is ever attempted, so the endpoint's failure counters cannot
    // move under the watch.
    let endpoint = created(
        app.post(
            admin,
            "/api/v1/webhooks/endpoints",
            &json!({"url": "https://93.184.216.34/hook", "enabled": false}),
        )
        .await,
    );
    // Disabled and matching no event type we send: it never changes an
    // event's processing.
    let ingestion_rule = created(
        app.post(
            admin,
            "/api/v1/ingestion-rules",
            &json!({"name": "fixture_ingest", "action": "ignore", "enabled": false,
                    "conditions": {"event_type": "never.sent"}}),
        )
        .await,
    );
    created(
        app.post(
            admin,
            "/api/v1/submerchants",
            &json!({"id": "sub_fixture", "name": "Fixture shop"}),
        )
        .await,
    );
    let invite = created(
        app.post(
            admin,
            "/api/v1/team/invites",
            &json!({"email": "invitee@example.com", "role": "viewer"}),
        )
        .await,
    );
    Fixtures {
        entry: text(&entry["id"]),
        case: text(&case["id"]),
        link_txn: txns[0].clone(),
        report_txn: txns[1].clone(),
        release_txn: txns[2].clone(),
        rule: text(&rule["id"]),
        member: text(&member.json["id"]),
        endpoint: text(&endpoint["endpoint"]["id"]),
        ingestion_rule: text(&ingestion_rule["id"]),
        submerchant: "sub_fixture".to_owned(),
        invite_token: text(&invite["token"]),
    }
}

/// Every strictly parsed JSON-body operation with a body it accepts. Each
/// valid body is sent after the forged ones, so the order matters only
/// where a valid body uses something up (the invitation is accepted once).
fn walk(app: &TestApp, admin: &str, f: &Fixtures) -> Vec<Op> {
    let dash = Some(admin);
    let secret = Some(app.secret());
    let case = format!("/api/v1/cases/{}", f.case);
    let txn = |id: &str| format!("/api/v1/transactions/{id}");
    // What a transaction row holds besides the answer's fields.
    const TXN_COLUMNS: &[&str] = &["is_fraudulent", "api_key_id", "created_at"];
    // What a user row holds besides `UserOut`.
    const USER_COLUMNS: &[&str] = &["password_hash", "external_subject", "disabled_at"];
    vec![
        Op::new(
            Method::POST,
            "/api/v1/api-keys",
            "/api/v1/api-keys",
            dash,
            json!({"kind": "secret", "name": "Mass assignment probe"}),
        )
        .forging(&["key_hash"])
        .watching(["/api/v1/api-keys"]),
        Op::new(
            Method::POST,
            "/api/v1/assess",
            "/api/v1/assess",
            secret,
            json!({"amount": 100, "currency": "MXN", "email": "probe@example.com"}),
        )
        .forging(TXN_COLUMNS),
        Op::new(
            Method::POST,
            "/api/v1/assess/payout",
            "/api/v1/assess/payout",
            secret,
            json!({"amount": 100, "currency": "MXN",
                   "beneficiary": {"id": "ben_probe", "country": "MX"},
                   "origin": {"account_id": "acct_probe", "country": "MX"},
                   "payout": {"channel": "spei", "initiated_by": "ops@bank.example"}}),
        )
        .forging(TXN_COLUMNS),
        Op::new(
            Method::POST,
            "/api/v1/assess/release",
            "/api/v1/assess/release",
            secret,
            json!({"transaction_id": f.release_txn}),
        )
        .watching([txn(&f.release_txn)]),
        // The invitation's role and organisation are the server's: a
        // forged `role: admin` or `organization_id` must not get through.
        Op::new(
            Method::POST,
            "/api/v1/auth/accept-invite",
            "/api/v1/auth/accept-invite",
            None,
            json!({"token": f.invite_token, "password": "a long enough password"}),
        )
        .forging(USER_COLUMNS)
        .watching(["/api/v1/team/members", "/api/v1/team/invites"]),
        Op::new(
            Method::POST,
            "/api/v1/auth/login",
            "/api/v1/auth/login",
            None,
            json!({"email": app.creds.admin_email, "password": app.creds.admin_password}),
        ),
        Op::new(
            Method::PATCH,
            "/api/v1/blocklists",
            "/api/v1/blocklists",
            dash,
            json!({"id": f.entry, "reason": "checked by hand"}),
        )
        .watching([format!("/api/v1/blocklists/{}", f.entry)]),
        Op::new(
            Method::POST,
            "/api/v1/blocklists",
            "/api/v1/blocklists",
            dash,
            json!({"list_type": "email", "value": "probe-listed@example.com"}),
        )
        .watching(["/api/v1/blocklists"]),
        Op::new(
            Method::POST,
            "/api/v1/cases",
            "/api/v1/cases",
            dash,
            json!({"title": "Probe case", "incident_type": "otro"}),
        )
        .watching(["/api/v1/cases"]),
        Op::new(
            Method::PATCH,
            "/api/v1/cases/{id}",
            case.clone(),
            dash,
            json!({"title": "Renamed case"}),
        )
        .watching([case.clone()]),
        Op::new(
            Method::POST,
            "/api/v1/cases/{id}/evidence",
            format!("{case}/evidence"),
            dash,
            json!({"kind": "note", "description": "A note"}),
        )
        .watching([format!("{case}/evidence")]),
        Op::new(
            Method::POST,
            "/api/v1/cases/{id}/transactions",
            format!("{case}/transactions"),
            dash,
            json!({"transaction_id": f.link_txn}),
        )
        .watching([format!("{case}/transactions")]),
        Op::new(
            Method::POST,
            "/api/v1/ingestion-rules",
            "/api/v1/ingestion-rules",
            dash,
            json!({"name": "probe_ingest", "action": "ignore", "enabled": false,
                   "conditions": {"event_type": "never.sent"}}),
        )
        .watching(["/api/v1/ingestion-rules"]),
        Op::new(
            Method::PATCH,
            "/api/v1/ingestion-rules/{id}",
            format!("/api/v1/ingestion-rules/{}", f.ingestion_rule),
            dash,
            json!({"priority": 5}),
        )
        .watching([format!("/api/v1/ingestion-rules/{}", f.ingestion_rule)]),
        Op::new(
            Method::PUT,
            "/api/v1/integrations/{provider}",
            "/api/v1/integrations/stripe",
            dash,
            json!({"secret": "whsec_0123456789abcdefABCDEF"}),
        )
        .watching(["/api/v1/integrations/stripe"]),
        Op::new(
            Method::POST,
            "/api/v1/report-fraud",
            "/api/v1/report-fraud",
            secret,
            json!({"transaction_id": f.report_txn, "reason": "other"}),
        )
        .forging(&["is_fraudulent", "fraud_reported_at", "reference_number"])
        .watching([
            "/api/v1/cases".to_owned(),
            "/api/v1/blocklists".to_owned(),
            txn(&f.report_txn),
        ]),
        Op::new(
            Method::POST,
            "/api/v1/rules",
            "/api/v1/rules",
            dash,
            json!({"name": "probe_rule", "source": "when amount > 100000 then add 10 as probe_big"}),
        )
        .watching(["/api/v1/rules"]),
        // Stateless; the footprint still covers the audit trail.
        Op::new(
            Method::POST,
            "/api/v1/rules/validate",
            "/api/v1/rules/validate",
            dash,
            json!({"source": "when amount > 60000 then decline"}),
        ),
        Op::new(
            Method::PATCH,
            "/api/v1/rules/{id}",
            format!("/api/v1/rules/{}", f.rule),
            dash,
            json!({"enabled": false}),
        )
        .watching([format!("/api/v1/rules/{}", f.rule)]),
        Op::new(
            Method::PUT,
            "/api/v1/settings/notifications",
            "/api/v1/settings/notifications",
            dash,
            json!({"merchant": ["ops@shop.example"]}),
        )
        .watching(["/api/v1/settings/notifications"]),
        // The defaults: later assessments decide as before.
        Op::new(
            Method::PUT,
            "/api/v1/settings/scoring",
            "/api/v1/settings/scoring",
            dash,
            json!({"thresholds": {"review": 30, "challenge": 60, "decline": 80}}),
        )
        .watching(["/api/v1/settings/scoring"]),
        Op::new(
            Method::POST,
            "/api/v1/simulation",
            "/api/v1/simulation",
            dash,
            json!({"preset": "low_risk"}),
        )
        .watching(["/api/v1/simulation/runs"]),
        // Writes nothing; the footprint covers transactions and audit.
        Op::new(
            Method::POST,
            "/api/v1/simulation/backtest",
            "/api/v1/simulation/backtest",
            dash,
            json!({"rules": [], "since": "2020-01-01"}),
        ),
        Op::new(
            Method::POST,
            "/api/v1/simulation/payout",
            "/api/v1/simulation/payout",
            dash,
            json!({"preset": "first_payout_high_risk_country"}),
        )
        .watching(["/api/v1/simulation/runs"]),
        Op::new(
            Method::POST,
            "/api/v1/submerchants",
            "/api/v1/submerchants",
            dash,
            json!({"id": "sub_probe", "name": "Probe shop"}),
        )
        .watching(["/api/v1/submerchants"]),
        Op::new(
            Method::PATCH,
            "/api/v1/submerchants/{id}",
            format!("/api/v1/submerchants/{}", f.submerchant),
            dash,
            json!({"name": "Renamed shop"}),
        )
        .watching(["/api/v1/submerchants"]),
        Op::new(
            Method::POST,
            "/api/v1/team/invites",
            "/api/v1/team/invites",
            dash,
            json!({"email": "second-invitee@example.com", "role": "viewer"}),
        )
        .forging(&["token_hash", "invited_by", "accepted_at", "revoked_at"])
        .watching(["/api/v1/team/invites"]),
        Op::new(
            Method::PATCH,
            "/api/v1/team/members/{id}",
            format!("/api/v1/team/members/{}", f.member),
            dash,
            json!({"role": "analyst"}),
        )
        .forging(USER_COLUMNS)
        .watching(["/api/v1/team/members"]),
        Op::new(
            Method::POST,
            "/api/v1/webhooks/endpoints",
            "/api/v1/webhooks/endpoints",
            dash,
            json!({"url": "https://93.184.216.34/probe", "enabled": false}),
        )
        .watching(["/api/v1/webhooks/endpoints"]),
        // The signing secret is shown on creation only; it is no patchable field.
        Op::new(
            Method::PATCH,
            "/api/v1/webhooks/endpoints/{id}",
            format!("/api/v1/webhooks/endpoints/{}", f.endpoint),
            dash,
            json!({"description": "Renamed endpoint"}),
        )
        .forging(&["secret"])
        .watching([format!("/api/v1/webhooks/endpoints/{}", f.endpoint)]),
    ]
}

/// A schema's properties by name, through `$ref` and `allOf`.
fn properties(spec: &Value, schema: &Value) -> BTreeMap<String, Value> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return properties(spec, &spec["components"]["schemas"][name]);
    }
    let mut out = BTreeMap::new();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(properties(spec, part));
    }
    if let Some(props) = schema["properties"].as_object() {
        out.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    out
}

/// A property's JSON type, through `$ref` and `allOf`; `string` when undocumented.
fn json_type<'a>(spec: &'a Value, prop: &'a Value) -> &'a str {
    if let Some(t) = prop["type"].as_str() {
        return t;
    }
    match prop["$ref"].as_str().or_else(|| prop["allOf"][0]["$ref"].as_str()) {
        Some(r) => json_type(spec, &spec["components"]["schemas"][r.rsplit('/').next().unwrap()]),
        None => "string",
    }
}

/// A plausible forged value of the property's type (the refusal must not
/// depend on the value being malformed).
fn forged_value(spec: &Value, name: &str, prop: &Value, foreign_org: &str) -> Value {
    match name {
        // A real organisation, not ours.
        "organization_id" => json!(foreign_org),
        // The escalation worth trying.
        "role" => json!("admin"),
        _ => match json_type(spec, prop) {
            "integer" => json!(7),
            "number" => json!(7.5),
            "boolean" => json!(true),
            "array" => json!([]),
            "object" => json!({}),
            _ => json!("forged"),
        },
    }
}

/// The server-owned fields to forge on `method template`: what its 2xx
/// answers show (one level into the objects they wrap: `{"endpoint": {…}}`,
/// `{"user": {…}}`, `{"data": {…}}`) that its request does not take, plus
/// `organization_id` and `extra`, each with a forged value.
fn forged_fields(
    spec: &Value,
    method: &str,
    template: &str,
    extra: &[&str],
    foreign_org: &str,
) -> BTreeMap<String, Value> {
    let op = &spec["paths"][template][method.to_lowercase()];
    assert!(op.is_object(), "{method} {template} is not in the document");
    let request = properties(spec, &op["requestBody"]["content"]["application/json"]["schema"]);
    assert!(!request.is_empty(), "{method} {template}: no request properties found");
    let mut forged = BTreeMap::new();
    let mut forge = |name: &str, prop: &Value| {
        if !request.contains_key(name) {
            forged
                .entry(name.to_owned())
                .or_insert_with(|| forged_value(spec, name, prop, foreign_org));
        }
    };
    for (status, response) in op["responses"].as_object().unwrap() {
        if !status.starts_with('2') {
            continue;
        }
        for media in response["content"].as_object().into_iter().flat_map(|c| c.values()) {
            for (name, prop) in properties(spec, &media["schema"]) {
                if request.contains_key(&name) {
                    continue;
                }
                forge(name.as_str(), &prop);
                for (inner, p) in properties(spec, &prop) {
                    forge(inner.as_str(), &p);
                }
            }
        }
    }
    for name in std::iter::once(&"organization_id").chain(extra) {
        forge(name, &Value::Null);
    }
    forged
}

/// `base` with `fields` added at the top level.
fn with_fields<'a>(
    base: &Value,
    fields: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> Value {
    let mut body = base.clone();
    for (name, value) in fields {
        assert!(body.get(name).is_none(), "the base body already sends `{name}`: {base}");
        body[name.as_str()] = value.clone();
    }
    body
}

/// Whether `r` is the refusal of an unknown field that `named` accepts; why not otherwise.
fn refused(r: &Reply, named: impl Fn(&str) -> bool) -> Result<(), String> {
    if r.status != StatusCode::BAD_REQUEST {
        return Err(format!("answered {}: {}", r.status, String::from_utf8_lossy(&r.raw)));
    }
    let code = r.error_code();
    let field = r.json["error"]["details"]["field"].as_str().unwrap_or_default();
    let message = r.json["error"]["message"].as_str().unwrap_or_default();
    if code != UNKNOWN_FIELD_CODE || !named(field) || !message.contains("unknown field") {
        return Err(format!("refused, but not for the forged field: {}", r.json));
    }
    Ok(())
}

/// What a write may leave behind: this organisation's transactions,
/// announced events and audit trail, the foreign organisation's
/// transactions, and the operation's own resources as read back. Read with
/// a second admin so the walk's own user stays far from its rate limit.
async fn footprint(
    app: &TestApp,
    auditor: &str,
    foreign_org: &str,
    watch: &[String],
) -> Vec<Value> {
    let org = &app.creds.organization_id;
    let audit = app.get(auditor, "/api/v1/audit-log?limit=1").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.json);
    let mut seen = vec![
        json!(app.count_transactions().await),
        json!(app.store.count_transactions(foreign_org).await.unwrap()),
        json!(app.store.outbox_events(org).await.unwrap().len()),
        audit.json["pagination"]["total"].clone(),
    ];
    for path in watch {
        let r = app.get(auditor, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.json);
        seen.push(r.json);
    }
    seen
}

/// The document's JSON-body operations: `(METHOD, path template)`.
fn json_body_operations(spec: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if op["requestBody"]["content"].get("application/json").is_some() {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

/// The walk, the tolerant and the excluded operations are exactly the
/// document's JSON-body operations, each listed once.
fn assert_covered(spec: &Value, ops: &[Op]) {
    let documented = json_body_operations(spec);
    let mut listed = BTreeSet::new();
    let walked = ops.iter().map(|o| (o.method.as_str(), o.template));
    let set_aside = TOLERANT.iter().chain(EXCLUDED).map(|(m, p, _)| (*m, *p));
    for (method, path) in walked.chain(set_aside) {
        assert!(
            listed.insert((method.to_owned(), path.to_owned())),
            "{method} {path} is listed twice"
        );
    }
    let missing: Vec<_> = documented.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "JSON-body operations not walked (add them to `walk`, or to TOLERANT or EXCLUDED with a \
         reason): {missing:?}"
    );
    let unknown: Vec<_> = listed.difference(&documented).collect();
    assert!(
        unknown.is_empty(),
        "listed, but not JSON-body operations of the document: {unknown:?}"
    );
}

async fn server_owned_fields_are_refused_everywhere(app: TestApp) {
    // The generated document, which `openapi.rs` proves is the committed one.
    let spec: Value = serde_json::from_str(&clausum_origin::api::spec_json()).unwrap();
    let admin = app.admin_token().await;
    let auditor = app.member_token("admin").await;
    let (other, _) = app.other_org().await;
    let foreign = other.organization_id.clone();
    let f = fixtures(&app, &admin).await;
    let ops = walk(&app, &admin, &f);
    assert_covered(&spec, &ops);

    // Every problem, not only the first: each names an operation and a field.
    let mut holes = Vec::new();
    for op in &ops {
        let name = format!("{} {}", op.method, op.template);
        let forged = forged_fields(&spec, op.method.as_str(), op.template, op.extra, &foreign);
        let send = |body: Value| {
            let (app, op) = (&app, op);
            async move { app.call(op.method.clone(), &op.path, op.auth.as_deref(), Some(&body)).await }
        };
        let before = footprint(&app, &auditor, &foreign, &op.watch).await;

        // All at once, as a careless client or an attacker would send them.
        let r = send(with_fields(&op.body, &forged)).await;
        if let Err(why) = refused(&r, |f| forged.contains_key(f)) {
            let fields: Vec<_> = forged.keys().collect();
            holes.push(format!("{name} with {fields:?}: {why}"));
        }
        // Each alone: one refused field must not hide another one accepted.
        for (field, value) in &forged {
            let r = send(with_fields(&op.body, [(field, value)])).await;
            if let Err(why) = refused(&r, |f| f == field.as_str()) {
                holes.push(format!("{name} with `{field}`: {why}"));
            }
        }

        let after = footprint(&app, &auditor, &foreign, &op.watch).await;
        if after != before {
            holes.push(format!(
                "{name}: the refused requests changed something:\n  before {}\n  after  {}",
                json!(before),
                json!(after)
            ));
        }

        // The same body without them is accepted: the refusals were theirs.
        let ok = send(op.body.clone()).await;
        let documented = spec["paths"][op.template][op.method.as_str().to_lowercase()]["responses"]
            .get(ok.status.as_str())
            .is_some();
        if !ok.status.is_success() || !documented {
            holes.push(format!(
                "{name}: the valid body alone answered {} (a bad base body, or the consequence \
                 of a forged request accepted above): {}",
                ok.status, ok.json
            ));
        }
    }
    assert!(holes.is_empty(), "{} problem(s):\n{}", holes.len(), holes.join("\n"));
}

/// No field of `answer` took its forged value (and it has some of them:
/// an answer without any would prove nothing).
fn assert_ignored(what: &str, answer: &Value, forged: &BTreeMap<String, Value>) {
    let mut checked = 0;
    for (field, value) in forged {
        if let Some(got) = answer.get(field) {
            assert_ne!(got, value, "{what}: `{field}` took the forged value: {answer}");
            checked += 1;
        }
    }
    assert!(checked > 0, "{what}: none of the forged fields is in the answer: {answer}");
}

async fn tolerant_bodies_ignore_server_owned_fields(app: TestApp) {
    use crate::sessions::SESSION;
    let spec: Value = serde_json::from_str(&clausum_origin::api::spec_json()).unwrap();
    let admin = app.admin_token().await;
    let (other, other_admin) = app.other_org().await;
    let foreign = other.organization_id.clone();

    // A browser session: what the answer derives (`fingerprint`,
    // `automation`, times) comes from the device signals and the clock, and
    // the session belongs to the key's organisation.
    let mut forged = forged_fields(&spec, "POST", "/api/v1/sessions", &[], &foreign);
    // Differs from the real (empty) list, so taking it would show.
    forged.insert("automation".into(), json!(["forged_tell"]));
    let body = with_fields(&crate::sessions::signals(SESSION, 3, 0), &forged);
    let r = app
        .call(Method::POST, "/api/v1/sessions", Some(&app.creds.keys.publishable), Some(&body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_ignored("POST /api/v1/sessions", &r.json, &forged);
    let stored = app.get(app.secret(), &format!("/api/v1/sessions/{SESSION}")).await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.json);
    assert_ignored("the stored session", &stored.json, &forged);
    assert_eq!(stored.json["fingerprint"], "fp_0123456789abcdef0123", "{}", stored.json);
    let theirs = app.get(&other.keys.secret, &format!("/api/v1/sessions/{SESSION}")).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.json);

    // An ingested event: besides the answer's fields, those of the stored
    // event (status, matched rule, case, times, …) are forged too.
    let request = properties(&spec, &spec["components"]["schemas"]["IngestEvent"]);
    let stored_fields: Vec<String> =
        properties(&spec, &spec["components"]["schemas"]["IngestedEvent"])
            .into_keys()
            .filter(|k| !request.contains_key(k))
            .collect();
    assert!(stored_fields.iter().any(|f| f == "status"), "{stored_fields:?}");
    let extra: Vec<&str> = stored_fields.iter().map(String::as_str).collect();
    let mut forged = forged_fields(&spec, "POST", "/api/webhooks/ingest", &extra, &foreign);
    // Values that differ from what the server would set.
    forged.insert("success".into(), json!(false));
    forged.insert("status".into(), json!("review"));
    let body = with_fields(&json!({"event": "probe.event", "data": {"amount": 100}}), &forged);
    let r = app
        .call(Method::POST, "/api/webhooks/ingest", Some(&app.creds.keys.ingest), Some(&body))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    assert_ignored("POST /api/webhooks/ingest", &r.json, &forged);
    let id = text(&r.json["event_id"]);
    // No rule matches: processing stores it as `processed`, whatever the
    // body said.
    let event = crate::ingest::wait_processed(&app, &admin, &id).await;
    assert_eq!(event["status"], "processed", "{event}");
    assert_ignored("the stored event", &event, &forged);
    let theirs = app.get(&other_admin, &format!("/api/v1/ingested-events/{id}")).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.json);
    assert_eq!(app.store.count_transactions(&foreign).await.unwrap(), 0);
}
