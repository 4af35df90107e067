// The edge worker, built by scripts/build-edge.sh, in workerd (Miniflare)
// in front of a real origin process on loopback.
//
//   node --test tests/edge/         (scripts/test.sh runs it)
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  EDGE_TOKEN, Origin, Proxy, call, freePort, initOrigin, sleep, startWorker, tempDir,
} from "./harness.mjs";

const BLOCKED = {
  email: "fraudster@example.com", ip: "203.0.113.66", bin: "400012", clabe: "032180000118359719",
};
const tmp = tempDir();
let origin, proxy, worker, creds, admin;

const assessBody = (extra = {}) => ({ amount: 1500, currency: "MXN", ...extra });

/** Waits until `check()` returns truthy, polling every 50 ms, at most `ms`. */
async function eventually(check, ms = 5000) {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - t0 > ms) return v;
    await sleep(50);
  }
}

before(async () => {
  const init = initOrigin(tmp.dir);
  creds = init.creds;
  const originPort = await freePort();
  proxy = new Proxy(originPort);
  await proxy.start();
  worker = await startWorker(proxy.url);
  origin = new Origin({ db: init.db, port: originPort, purgeUrl: `${worker.url}/__clausum/purge` });
  await origin.start();
  const login = await call(origin.url, "POST", "/api/v1/auth/login", {
    body: { email: creds.admin_email, password: creds.admin_password },
  });
  admin = login.body.access_token;
  const entries = [
    ["email", BLOCKED.email, "all"], ["ip_address", BLOCKED.ip, "all"], ["card_bin", BLOCKED.bin, "all"],
    ["clabe", BLOCKED.clabe, "payout"],
  ];
  for (const [list_type, value, flow_scope] of entries) {
    const r = await call(origin.url, "POST", "/api/v1/blocklists", {
      key: admin, body: { list_type, value, flow_scope, severity: "block", reason: "edge test" },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
});

after(async () => {
  await worker?.mf.dispose();
  await origin?.stop();
  await proxy?.stop();
  tmp.cleanup();
});

test("a blocklisted email, IP or BIN is declined at the edge; the origin only gets the record", async () => {
  const cases = [
    assessBody({ email: "FraudSter@Example.com" }),
    assessBody({ device: { ip: BLOCKED.ip } }),
    assessBody({ payment_method: { type: "card", card_bin: `${BLOCKED.bin}99`, card_last4: "4242" } }),
  ];
  const since = Date.now();
  const answers = [];
  for (const body of cases) {
    const r = await call(worker.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.decision, "decline");
    assert.equal(r.body.risk_score, 100);
    assert.equal(r.body.decided_by, "edge");
    assert.equal(r.headers.get("x-clausum-edge-decided"), "decline");
    assert.match(r.body.blocked_by, /^blocklist:(email|ip_address|card_bin):bl_[0-9a-f]{32}$/);
    assert.match(r.body.session_id, /^ps_\d+_[a-z0-9]+$/);
    assert.match(r.body.transaction_id, /^txn_[0-9a-f]{32}$/);
    assert.equal(typeof r.body.latency_ms, "number");
    answers.push(r.body);
  }
  assert.deepEqual(answers.map((a) => a.blocked_by.split(":")[1]), ["email", "ip_address", "card_bin"]);
  assert.equal(proxy.seen("POST", "/api/v1/assess", since).length, 0, "no assess reached the origin");
  const records = await eventually(() => {
    const r = proxy.seen("POST", "/api/v1/edge/record", since).filter((e) => e.status === 202);
    return r.length === 3 && r;
  });
  assert.ok(records, "the three declines were recorded at the origin");
  // Recorded under the edge's own transaction id: the origin knows it.
  const report = await call(origin.url, "POST", "/api/v1/report-fraud", {
    key: creds.keys.secret, body: { transaction_id: answers[0].transaction_id, reason: "chargeback" },
  });
  assert.ok([200, 201].includes(report.status), JSON.stringify(report.body));
});

test("a payout to a blocklisted CLABE is declined at the edge and recorded as a payout; a clean one is forwarded", async () => {
  const payout = (clabe) => ({
    amount: 250000, currency: "MXN", payment_id: `po_${clabe.slice(-4)}`,
    beneficiary: { clabe, name: "Beneficiario", country: "MX" },
    origin: { account_id: "acc_edge_1" }, payout: { channel: "spei" },
  });
  const since = Date.now();
  const r = await call(worker.url, "POST", "/api/v1/assess/payout", { key: creds.keys.secret, body: payout(BLOCKED.clabe) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.decided_by, "edge");
  assert.equal(r.body.flow, "payout");
  assert.match(r.body.blocked_by, /^blocklist:clabe:bl_[0-9a-f]{32}$/);
  assert.equal(proxy.seen("POST", "/api/v1/assess/payout", since).length, 0, "no payout assess reached the origin");
  const recorded = await eventually(() =>
    proxy.seen("POST", "/api/v1/edge/record", since).some((e) => e.status === 202));
  assert.ok(recorded, "the payout decline was recorded at the origin");
  // The origin holds it as a declined payout under the edge's ids.
  const t = await call(origin.url, "GET", `/api/v1/transactions/${r.body.transaction_id}`, { key: admin });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  assert.deepEqual([t.body.flow, t.body.decision, t.body.session_id], ["payout", "decline", r.body.session_id]);

  // A publishable key's payout is not screened: the origin refuses it.
  const pk = await call(worker.url, "POST", "/api/v1/assess/payout", { key: creds.keys.publishable, body: payout(BLOCKED.clabe) });
  assert.equal(pk.status, 403, JSON.stringify(pk.body));
  assert.equal(pk.body.error.code, "SECRET_KEY_REQUIRED");

  const clean = await call(worker.url, "POST", "/api/v1/assess/payout", { key: creds.keys.secret, body: payout("002010077777777771") });
  assert.equal(clean.status, 200, JSON.stringify(clean.body));
  assert.equal(clean.body.decided_by, undefined, "answered by the origin");
  assert.equal(proxy.seen("POST", "/api/v1/assess/payout", since).length, 2, "the publishable and the clean payout reached the origin");
});

test("a clean request is forwarded and answered by the origin, with what only the edge knows", async () => {
  const since = Date.now();
  const r = await call(worker.url, "POST", "/api/v1/assess", {
    key: creds.keys.secret, body: assessBody({ email: "clean.customer@example.com" }),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.decided_by, undefined);
  assert.notEqual(r.body.decision, "decline");
  assert.ok(r.headers.get("x-ratelimit-limit"), "the origin's own answer");
  const [seen] = proxy.seen("POST", "/api/v1/assess", since);
  assert.ok(seen, "the origin saw the assess");
  assert.equal(seen.headers["x-clausum-edge-country"], "MX");
  assert.equal(seen.headers["x-clausum-edge-asn"], "8151");
  assert.equal(seen.headers["x-clausum-edge-colo"], "QRO");
  assert.equal(seen.headers["x-clausum-edge-bot-score"], "87");
  assert.equal(seen.headers["x-clausum-edge-token"], EDGE_TOKEN);
});

test("one request id from the caller to the origin, the record of an edge decline and every answer", async () => {
  const since = Date.now();
  // Forwarded: the origin gets the caller's id and answers with it.
  const clean = await call(worker.url, "POST", "/api/v1/assess", {
    key: creds.keys.secret, body: assessBody({ email: "traced@example.com" }),
    headers: { "x-request-id": "checkout-7f3a" },
  });
  assert.equal(clean.status, 200, JSON.stringify(clean.body));
  assert.equal(clean.headers.get("x-request-id"), "checkout-7f3a");
  const [seen] = proxy.seen("POST", "/api/v1/assess", since);
  assert.equal(seen.headers["x-request-id"], "checkout-7f3a");
  // Declined at the edge: the answer and the record at the origin carry it.
  const declined = await call(worker.url, "POST", "/api/v1/assess", {
    key: creds.keys.secret, body: assessBody({ email: BLOCKED.email }),
    headers: { "x-request-id": "checkout-9b1c" },
  });
  assert.equal(declined.body.decided_by, "edge");
  assert.equal(declined.headers.get("x-request-id"), "checkout-9b1c");
  const record = await eventually(() => proxy.seen("POST", "/api/v1/edge/record", since)[0]);
  assert.ok(record, "the decline was recorded");
  assert.equal(record.headers["x-request-id"], "checkout-9b1c");
  // No id, or one that is not a sane token: the edge issues its own.
  for (const headers of [{}, { "x-request-id": "has spaces; and more" }]) {
    const r = await call(worker.url, "POST", "/api/v1/assess", {
      key: creds.keys.secret, body: assessBody({ email: BLOCKED.email }), headers,
    });
    assert.match(r.headers.get("x-request-id"), /^req_[0-9a-f]{32}$/);
  }
  // Refused at the edge too.
  const refused = await call(worker.url, "POST", "/api/v1/assess", {
    key: `${creds.keys.secret.slice(0, -1)}x`, body: assessBody(), headers: { "x-request-id": "bad-key-1" },
  });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("x-request-id"), "bad-key-1");
});

test("an unknown or malformed key is refused at the edge", async () => {
  const other = tempDir();
  const stranger = initOrigin(other.dir, "Elsewhere").creds.keys.secret;
  other.cleanup();
  const since = Date.now();
  for (const key of [stranger, `${creds.keys.secret.slice(0, -1)}x`]) {
    const r = await call(worker.url, "POST", "/api/v1/assess", { key, body: assessBody() });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, "UNAUTHORIZED");
  }
  assert.equal(proxy.seen("POST", "/api/v1/assess", since).length, 0);
});

test("a fraud report at the origin, then its purge, makes the edge decline the same email", async () => {
  const email = "soon.caught@example.com";
  const first = await call(worker.url, "POST", "/api/v1/assess", {
    key: creds.keys.secret, body: assessBody({ email }),
  });
  assert.equal(first.body.decided_by, undefined);
  const reportedAt = Date.now();
  const report = await call(origin.url, "POST", "/api/v1/report-fraud", {
    key: creds.keys.secret, body: { transaction_id: first.body.transaction_id, reason: "chargeback" },
  });
  assert.ok([200, 201].includes(report.status), JSON.stringify(report.body));
  // The worker revalidates only every 60 s here: only the purge explains a quick decline.
  const next = await eventually(async () => {
    const r = await call(worker.url, "POST", "/api/v1/assess", {
      key: creds.keys.secret, body: assessBody({ email: email.toUpperCase() }),
    });
    return r.body.decided_by === "edge" && r;
  }, 5000);
  assert.ok(next, "declined at the edge within 5 s of the report");
  assert.match(next.body.blocked_by, /^blocklist:email:/);
  console.log(`# fraud report to edge decline: ${Date.now() - reportedAt} ms`);
});

test("a snapshot older than the maximum age stops edge declines", async () => {
  const aging = await startWorker(proxy.url, { MAX_SNAPSHOT_AGE_MS: "1500", REFRESH_INTERVAL_MS: "500" });
  try {
    const blocked = assessBody({ email: BLOCKED.email });
    const warm = await call(aging.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body: blocked });
    assert.equal(warm.body.decided_by, "edge");
    proxy.mode = "noEdgeReads";
    await sleep(2000);
    const since = Date.now();
    const stale = await call(aging.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body: blocked });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.decided_by, undefined, "not decided on stale data");
    assert.equal(stale.body.decision, "decline", "the origin declines it itself");
    assert.equal(proxy.seen("POST", "/api/v1/assess", since).length, 1);
  } finally {
    proxy.mode = "pass";
    await aging.mf.dispose();
  }
});

test("a stalled or stopped origin gets the documented 504 or 503 within the deadline", async () => {
  proxy.mode = "hang";
  let r = await call(worker.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body: assessBody() });
  assert.equal(r.status, 504);
  assert.equal(r.body.error.code, "ASSESS_TIMEOUT");
  assert.ok(r.ms < 1500 + 700, `answered in ${r.ms} ms`);
  proxy.mode = "pass";
  await origin.stop();
  r = await call(worker.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body: assessBody() });
  assert.equal(r.status, 503);
  assert.equal(r.body.error.code, "ASSESS_MAINTENANCE");
  assert.ok(r.ms < 1500 + 700, `answered in ${r.ms} ms`);
  // Blocklisted payers are still stopped at the edge meanwhile.
  r = await call(worker.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body: assessBody({ email: BLOCKED.email }) });
  assert.equal(r.body.decided_by, "edge");
});
