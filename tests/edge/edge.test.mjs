// The edge worker, built by scripts/build-edge.sh, in workerd (Miniflare)
// in front of a real origin process on loopback.
//
//   node --test tests/edge/         (scripts/test.sh runs it)
//
// Two recording proxies: `proxy` between the worker and the origin (what
// the worker asked of the origin), `purges` between the origin and the
// worker's purge URL (which purges the origin sent; it can hold them).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  CF, EDGE_TOKEN, Origin, Proxy, call, freePort, initOrigin, sleep, startWorker, tempDir,
} from "./harness.mjs";

const BLOCKED = {
  email: "fraudster@example.com", ip: "203.0.113.66", bin: "400012", clabe: "032180000118359719",
};
const tmp = tempDir();
let origin, originPort, proxy, purges, worker, creds, admin, stranger;

const assessBody = (extra = {}) => ({ amount: 1500, currency: "MXN", ...extra });

/** `key` with its last character changed: its checksum no longer holds. */
const mangled = (key) => `${key.slice(0, -1)}${key.endsWith("x") ? "y" : "x"}`;

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

/** Purges a worker's key manifest as the origin does; it is reloaded before the answer. */
async function purgeKeys(base) {
  const r = await call(base, "POST", "/__clausum/purge", { token: EDGE_TOKEN, body: { keys: true } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.purged, "keys");
  assert.deepEqual(r.body.refreshed, ["Keys"], "only the key manifest is reloaded");
  return r;
}

before(async () => {
  const init = initOrigin(tmp.dir);
  creds = init.creds;
  // A well-formed key the origin never issued: another database's.
  const other = tempDir();
  try {
    stranger = initOrigin(other.dir, "Elsewhere").creds.keys.secret;
  } finally {
    other.cleanup();
  }
  originPort = await freePort();
  proxy = new Proxy(originPort);
  await proxy.start();
  worker = await startWorker(proxy.url);
  purges = new Proxy(Number(new URL(worker.url).port));
  await purges.start();
  origin = new Origin({ db: init.db, port: originPort, purgeUrl: `${purges.url}/__clausum/purge` });
  await origin.start();
  const login = await call(origin.url, "POST", "/api/v1/auth/login", {
    body: { email: creds.admin_email, password: creds.admin_password },
  });
  admin = login.body.access_token;
  const adding = Date.now();
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
  // The origin tells the worker of each change in the background. Wait for
  // those purges (at most 5 s), so that the first test does not race a
  // worker still holding the snapshot from before the entries (seen once
  // under a full test run's load: the first decline came from the origin).
  await eventually(() =>
    purges.seen("POST", "/__clausum/purge", adding).filter((e) => e.status === 200).length >= entries.length);
});

after(async () => {
  await worker?.mf.dispose();
  await origin?.stop();
  await purges?.stop();
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
  // What Miniflare's `cf` (the harness's CF) said about the connection.
  assert.equal(seen.headers["x-clausum-edge-country"], CF.country);
  assert.equal(seen.headers["x-clausum-edge-asn"], String(CF.asn));
  assert.equal(seen.headers["x-clausum-edge-as-org"], CF.asOrganization);
  assert.equal(seen.headers["x-clausum-edge-colo"], CF.colo);
  assert.equal(seen.headers["x-clausum-edge-tls-version"], CF.tlsVersion);
  assert.equal(seen.headers["x-clausum-edge-tls-cipher"], CF.tlsCipher);
  assert.equal(seen.headers["x-clausum-edge-bot-score"], String(CF.botManagement.score));
  assert.equal(seen.headers["x-clausum-edge-token"], EDGE_TOKEN);
});

test("other routes pass through untouched: the origin's status and body, without the edge's headers", async () => {
  const routes = [
    ["/api/v1/health", {}, (body) => body.status === "ok"],
    ["/api/v1/blocklists?list_type=card_bin&limit=5", { key: admin }, (body) => body.data[0].value === BLOCKED.bin],
  ];
  for (const [route, auth, expected] of routes) {
    const direct = await call(origin.url, "GET", route, auth);
    assert.equal(direct.status, 200, `${route}: ${JSON.stringify(direct.body)}`);
    assert.ok(expected(direct.body), `${route}: ${JSON.stringify(direct.body)}`);
    const since = Date.now();
    const edge = await call(worker.url, "GET", route, auth);
    assert.equal(edge.status, direct.status, route);
    assert.deepEqual(edge.body, direct.body, route);
    const seen = proxy.seen("GET", route, since);
    assert.equal(seen.length, 1, `the origin saw ${route} once`);
    assert.equal(seen[0].path, route, "query string included");
    assert.equal(seen[0].headers.authorization, auth.key && `Bearer ${auth.key}`);
    const edgeHeaders = Object.keys(seen[0].headers).filter((h) => h.startsWith("x-clausum-edge-"));
    assert.deepEqual(edgeHeaders, [], "no edge token or context on a pass-through");
  }
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
    key: mangled(creds.keys.secret), body: assessBody(), headers: { "x-request-id": "bad-key-1" },
  });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("x-request-id"), "bad-key-1");
});

test("a blocklisted payer with an idempotency key is the origin's: declined there, and a retry gets the same answer", async () => {
  const since = Date.now();
  const send = () => call(worker.url, "POST", "/api/v1/assess", {
    key: creds.keys.secret, body: assessBody({ email: BLOCKED.email }), headers: { "idempotency-key": "edge-idem-1" },
  });
  const first = await send();
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.decision, "decline", "the origin declines it");
  assert.match(first.body.blocked_by, /^blocklist:email:/);
  assert.equal(first.body.decided_by, undefined, "not decided at the edge");
  assert.equal(first.headers.get("x-clausum-edge-decided"), null);
  assert.equal(proxy.seen("POST", "/api/v1/assess", since).length, 1, "the origin saw the assess");
  const retry = await send();
  assert.equal(retry.status, 200, JSON.stringify(retry.body));
  assert.equal(retry.body.transaction_id, first.body.transaction_id, "the first attempt's answer");
  assert.equal(retry.headers.get("idempotent-replayed"), "true");
  assert.equal(retry.body.decided_by, undefined);
  assert.equal(proxy.seen("POST", "/api/v1/assess", since).length, 2, "the retry reached the origin too");
  // The body's idempotency_key, or an order_id + payment_id pair, is a key as well.
  for (const extra of [{ idempotency_key: "edge-idem-2" }, { order_id: "ord-idem-3", payment_id: "pay-idem-3" }]) {
    const r = await call(worker.url, "POST", "/api/v1/assess", {
      key: creds.keys.secret, body: assessBody({ email: BLOCKED.email, ...extra }),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.decided_by, undefined, JSON.stringify(extra));
    assert.equal(r.body.decision, "decline");
  }
  assert.equal(proxy.seen("POST", "/api/v1/assess", since).length, 4);
});

test("the edge's own answers on the browser paths carry the origin's CORS headers; preflights reach the origin", async () => {
  const page = { origin: "http://shop.test" };
  const since = Date.now();
  // A checkout page's pre-check (publishable key) of a blocklisted payer.
  const declined = await call(worker.url, "POST", "/api/v1/assess", {
    key: creds.keys.publishable, body: assessBody({ email: BLOCKED.email }), headers: page,
  });
  assert.equal(declined.status, 200, JSON.stringify(declined.body));
  assert.equal(declined.body.decided_by, "edge");
  assert.equal(declined.headers.get("x-clausum-precheck"), "true");
  assert.equal(declined.headers.get("access-control-allow-origin"), "*");
  // The origin's answer on the same path, for comparison.
  const forwarded = await call(worker.url, "POST", "/api/v1/assess", {
    key: creds.keys.publishable, body: assessBody({ email: "cors.clean@example.com" }), headers: page,
  });
  assert.equal(forwarded.status, 200, JSON.stringify(forwarded.body));
  assert.equal(forwarded.body.decided_by, undefined);
  assert.equal(forwarded.headers.get("access-control-allow-origin"), "*");
  const exposed = forwarded.headers.get("access-control-expose-headers");
  assert.match(exposed, /x-clausum-precheck/);
  assert.equal(declined.headers.get("access-control-expose-headers"), exposed, "the same policy");
  // An unknown key on the SDK's session path: refused at the edge, readably.
  const refused = await call(worker.url, "POST", "/api/v1/sessions", { key: stranger, body: {}, headers: page });
  assert.equal(refused.status, 401, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, "UNAUTHORIZED");
  assert.equal(refused.headers.get("access-control-allow-origin"), "*");
  assert.equal(refused.headers.get("access-control-expose-headers"), exposed);
  assert.equal(proxy.seen("POST", "/api/v1/sessions", since).length, 0);
  // Payouts are no browser path: no CORS on the edge's refusal there.
  const payout = await call(worker.url, "POST", "/api/v1/assess/payout", { key: stranger, body: {}, headers: page });
  assert.equal(payout.status, 401);
  assert.equal(payout.headers.get("access-control-allow-origin"), null);
  // A preflight is the origin's to answer.
  const preflight = await call(worker.url, "OPTIONS", "/api/v1/assess", {
    headers: { ...page, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
  assert.equal(preflight.headers.get("access-control-allow-methods"), "POST, OPTIONS");
  assert.equal(proxy.seen("OPTIONS", "/api/v1/assess", since).length, 1, "the origin answered the preflight");
});

test("an unknown or malformed key is refused at the edge without any request to the origin", async () => {
  // A manifest just reloaded: nothing in it is due for revalidation.
  await purgeKeys(worker.url);
  const since = Date.now();
  const keys = [stranger, mangled(creds.keys.secret)];
  for (const key of keys) {
    for (const route of ["/api/v1/assess", "/api/v1/assess/payout", "/api/v1/sessions"]) {
      const r = await call(worker.url, "POST", route, { key, body: assessBody() });
      assert.equal(r.status, 401, `${route}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, "UNAUTHORIZED");
    }
  }
  // The origin heard nothing of them: no request carrying either key (no
  // assess, no session), no key-manifest read, nothing on those routes.
  const bearers = keys.map((k) => `Bearer ${k}`);
  const reached = proxy.log.filter((e) => e.at >= since && (
    bearers.includes(e.headers.authorization)
    || /^\/api\/v1\/(assess|sessions|edge\/keys)/.test(e.path)
  ));
  assert.deepEqual(reached.map((e) => `${e.method} ${e.path}`), []);
});

test("a key created at the origin is refused at the edge until the origin's keys purge, then accepted; revoked, refused again", async () => {
  // A manifest just reloaded: only a purge brings the new key before the refresh interval (60 s).
  await purgeKeys(worker.url);
  const since = Date.now();
  const send = (key) => call(worker.url, "POST", "/api/v1/assess", {
    key, body: assessBody({ email: "new.key@example.com" }),
  });
  const isKeysPurge = (e) => {
    try {
      return JSON.parse(e.body).keys === true;
    } catch {
      return false;
    }
  };
  let key, keyId;
  purges.mode = "hold";
  try {
    const created = await call(origin.url, "POST", "/api/v1/api-keys", {
      key: admin, body: { kind: "secret", name: "Edge purge test" },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    ({ key, api_key: { id: keyId } } = created.body);
    const held = await eventually(() => purges.seen("POST", "/__clausum/purge", since).some(isKeysPurge));
    assert.ok(held, "the origin sent {\"keys\": true} to the worker's purge URL");
    // The purge is held: the edge does not know the key yet.
    const early = await send(key);
    assert.equal(early.status, 401, JSON.stringify(early.body));
    assert.equal(proxy.seen("POST", "/api/v1/assess", since).length, 0, "refused at the edge");
  } finally {
    purges.release();
  }
  const accepted = await eventually(async () => {
    const r = await send(key);
    return r.status === 200 && r;
  });
  assert.ok(accepted, "accepted once the purge arrived");
  assert.equal(accepted.body.decided_by, undefined);
  const reached = proxy.seen("POST", "/api/v1/assess", since);
  assert.deepEqual(reached.map((e) => e.headers.authorization), [`Bearer ${key}`], "forwarded once accepted");

  const revoked = await call(origin.url, "DELETE", `/api/v1/api-keys/${keyId}`, { key: admin });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assert.equal(revoked.body.status, "revoked");
  // Until its purge lands the origin refuses it; then the edge does, alone.
  const refused = await eventually(async () => {
    const t = Date.now();
    const r = await send(key);
    return r.status === 401 && proxy.seen("POST", "/api/v1/assess", t).length === 0 && r;
  });
  assert.ok(refused, "refused at the edge after the revocation's purge");
  assert.equal(refused.body.error.code, "UNAUTHORIZED");
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

test("without a purge, the refresh interval brings a new entry to the edge", async () => {
  // A worker of its own (its own KV and proxy): it is nobody's purge URL,
  // so only its refresh interval can tell it of the new entry.
  const refreshMs = 500;
  const margin = 3000;
  const own = new Proxy(originPort);
  await own.start();
  const quick = await startWorker(own.url, { REFRESH_INTERVAL_MS: String(refreshMs) });
  try {
    const email = "interval.caught@example.com";
    const send = () => call(quick.url, "POST", "/api/v1/assess", {
      key: creds.keys.secret, body: assessBody({ email }),
    });
    const first = await send();
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.decided_by, undefined);
    const added = await call(origin.url, "POST", "/api/v1/blocklists", {
      key: admin, body: { list_type: "email", value: email, flow_scope: "all", severity: "block", reason: "interval test" },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const addedAt = Date.now();
    const declined = await eventually(async () => {
      const r = await send();
      return r.body.decided_by === "edge" && r;
    }, refreshMs + margin);
    const took = Date.now() - addedAt;
    assert.ok(declined, `declined at the edge within ${refreshMs + margin} ms of the change`);
    assert.match(declined.body.blocked_by, /^blocklist:email:/);
    assert.ok(
      own.seen("GET", "/api/v1/edge/snapshot/", addedAt).some((e) => e.status === 200),
      "the refresh downloaded the new snapshot",
    );
    console.log(`# blocklist change to edge decline by refresh alone: ${took} ms`);
  } finally {
    await quick.mf.dispose();
    await own.stop();
  }
});

test("a stale snapshot stops edge declines, though the key manifest is fresh", async () => {
  const maxAge = 1500;
  const aging = await startWorker(proxy.url, { MAX_SNAPSHOT_AGE_MS: String(maxAge), REFRESH_INTERVAL_MS: "500" });
  // What the worker holds; asking does not revalidate anything.
  const held = async () => (await call(aging.url, "GET", "/__clausum/status", { token: EDGE_TOKEN })).body.held;
  const org = (h) => h.resource === creds.organization_id;
  try {
    const blocked = assessBody({ email: BLOCKED.email });
    const warm = await call(aging.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body: blocked });
    assert.equal(warm.body.decided_by, "edge");
    // From now on the origin refuses snapshots but still serves the key manifest.
    proxy.mode = "noSnapshotReads";
    const aged = await eventually(async () => (await held()).some((h) => org(h) && h.age_ms > maxAge));
    assert.ok(aged, "the snapshot aged past the maximum");
    const since = Date.now();
    const stale = await call(aging.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body: blocked });
    assert.equal(stale.status, 200, JSON.stringify(stale.body));
    assert.equal(stale.body.decided_by, undefined, "not decided on stale data");
    assert.equal(stale.headers.get("x-clausum-edge-decided"), null);
    assert.equal(stale.body.decision, "decline", "the origin declines it itself");
    assert.equal(proxy.seen("POST", "/api/v1/assess", since).length, 1, "forwarded: the origin saw the assess");
    // Forwarded for the right reason: the key manifest was revalidated
    // (the key passed the edge's check), and only the snapshot failed.
    const keyReads = proxy.seen("GET", "/api/v1/edge/keys", since).map((e) => e.status);
    assert.ok(keyReads.length > 0 && keyReads.every((s) => s === 200 || s === 304), `key reads: ${keyReads}`);
    const snapshotReads = proxy.seen("GET", "/api/v1/edge/snapshot/", since).map((e) => e.status);
    assert.ok(snapshotReads.length > 0 && snapshotReads.every((s) => s === 503), `snapshot reads: ${snapshotReads}`);
    const now = await held();
    const keys = now.find((h) => h.resource === "keys");
    const snapshot = now.find(org);
    assert.ok(keys && !keys.purged && keys.age_ms < maxAge, `a fresh key manifest: ${JSON.stringify(keys)}`);
    assert.ok(snapshot && snapshot.age_ms > maxAge, `a stale snapshot: ${JSON.stringify(snapshot)}`);
  } finally {
    proxy.mode = "pass";
    await aging.mf.dispose();
  }
});

test("a purge taken by one isolate reaches another through the KV marker", async () => {
  // Two workers on one KV namespace: two isolates of one deployment.
  const shared = tempDir();
  const [a, b] = [
    await startWorker(proxy.url, {}, { kvPersist: shared.dir }),
    await startWorker(proxy.url, {}, { kvPersist: shared.dir }),
  ];
  try {
    const email = "isolates@example.com";
    const body = assessBody({ email });
    // Both hold the snapshot from before the entry (60 s refresh interval).
    for (const w of [a, b]) {
      const r = await call(w.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body });
      assert.equal(r.body.decision, "approve", JSON.stringify(r.body));
    }
    const add = await call(origin.url, "POST", "/api/v1/blocklists", {
      key: admin, body: { list_type: "email", value: email, severity: "block", reason: "isolates" },
    });
    assert.equal(add.status, 201, JSON.stringify(add.body));
    let r = await call(b.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body });
    assert.notEqual(r.body.decided_by, "edge", "b still holds the old snapshot");
    // The origin's purge reaches one isolate (a); b learns of it from KV.
    const purged = await call(a.url, "POST", "/__clausum/purge", {
      token: EDGE_TOKEN, body: { organization_id: creds.organization_id },
    });
    assert.equal(purged.status, 200, JSON.stringify(purged.body));
    r = await eventually(async () => {
      const x = await call(b.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body });
      return x.body.decided_by === "edge" && x;
    }, 5000);
    assert.ok(r, "b declines at the edge after a's purge");
    assert.equal(r.body.decision, "decline");
  } finally {
    await a.mf.dispose();
    await b.mf.dispose();
    shared.cleanup();
  }
});

test("a decline's record the origin cannot take waits in KV and reaches it once it can, recorded once", async () => {
  proxy.mode = "refuseRecords";
  const since = Date.now();
  try {
    const r = await call(worker.url, "POST", "/api/v1/assess", {
      key: creds.keys.secret, body: assessBody({ email: BLOCKED.email, order_id: "ord_outage" }),
    });
    assert.equal(r.body.decided_by, "edge", JSON.stringify(r.body));
    const txn = r.body.transaction_id;
    const attempts = () => proxy.seen("POST", "/api/v1/edge/record", since).filter((e) => (e.body ?? "").includes(txn));
    // Three attempts in the background (now, 0.5 s and 2 s later), all refused.
    assert.ok(await eventually(() => attempts().length >= 3, 8000), "three attempts were made");
    assert.ok(attempts().every((e) => e.status === 503));
    const t = await call(origin.url, "GET", `/api/v1/transactions/${txn}`, { key: admin });
    assert.equal(t.status, 404, "not recorded yet");
    await sleep(500);
    proxy.mode = "pass";
    // Any later request sends what waits (an isolate looks every 2 s).
    const taken = await eventually(async () => {
      await call(worker.url, "GET", "/api/v1/health");
      return attempts().some((e) => e.status === 202);
    }, 10000);
    assert.ok(taken, "the waiting record reached the origin");
    const stored = await call(origin.url, "GET", `/api/v1/transactions/${txn}`, { key: admin });
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    assert.equal(stored.body.decision, "decline");
    // Sent once: later flushes find nothing more to send.
    await sleep(2500);
    await call(worker.url, "GET", "/api/v1/health");
    await sleep(300);
    assert.equal(attempts().filter((e) => e.status === 202).length, 1);
  } finally {
    proxy.mode = "pass";
  }
});

test("a stalled or stopped origin gets the documented 504 or 503 within the deadline", async () => {
  proxy.mode = "hang";
  let r = await call(worker.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body: assessBody() });
  assert.equal(r.status, 504);
  assert.equal(r.body.error.code, "ASSESS_TIMEOUT");
  assert.ok(r.ms < 1500 + 700, `answered in ${r.ms} ms`);
  assert.equal(r.headers.get("access-control-allow-origin"), "*", "readable by a checkout page");
  proxy.mode = "pass";
  await origin.stop();
  r = await call(worker.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body: assessBody() });
  assert.equal(r.status, 503);
  assert.equal(r.body.error.code, "ASSESS_MAINTENANCE");
  assert.ok(r.ms < 1500 + 700, `answered in ${r.ms} ms`);
  assert.equal(r.headers.get("access-control-allow-origin"), "*", "readable by a checkout page");
  // Blocklisted payers are still stopped at the edge meanwhile.
  r = await call(worker.url, "POST", "/api/v1/assess", { key: creds.keys.secret, body: assessBody({ email: BLOCKED.email }) });
  assert.equal(r.body.decided_by, "edge");
});
