// The edge benchmark: in one run, on one machine, through workerd
// (Miniflare), the built worker in front of a real origin on loopback.
//
//   scripts/build-edge.sh && cargo build --release -p clausum-origin
//   CLAUSUM_ORIGIN_BIN=target/release/clausum-origin node tests/edge/bench.mjs [--entries 1000000] [--requests 2000]
//
// It reports, as a table:
// - latency of an edge decline, an edge pass-through and a direct origin
//   assess (sequential requests on keep-alive connections, client-side);
// - the worker's own cost per request, measured from outside because the
//   Workers clock stands still while code runs: a decline against the
//   worker's cheapest route (`/__clausum/bench/sink`), a pass-through
//   against the direct origin assess;
// - the snapshot at `--entries` blocklist entries: its size, the time to
//   check and load it in workerd (`bench/parse` against `bench/sink` with
//   the same body, ten times each inside one request), and one membership check (`bench/lookups?n=N` against
//   `n=0`, every probe a miss: a full search).
// Figures only; it never fails on them. Not part of the test command.
import { performance } from "node:perf_hooks";

import { EDGE_TOKEN, Origin, call, freePort, initOrigin, startWorker, tempDir } from "./harness.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ENTRIES = arg("entries", 1_000_000);
const REQUESTS = arg("requests", 2_000);
const CHUNK = 200_000; // rows per import call: under the origin's 16 MiB body limit

const ms = (x) => `${x.toFixed(3)} ms`;
function quantiles(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** `n` sequential requests; client-side milliseconds of each. */
async function timed(n, send) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await send(i);
    if (r.status >= 300) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
    await r.arrayBuffer();
    out.push(performance.now() - t0);
  }
  return out;
}

const tmp = tempDir();
const { db, creds } = initOrigin(tmp.dir, "Edge Bench");
const port = await freePort();
// The worker first, so that the origin's purge calls reach it.
const worker = await startWorker(`http://127.0.0.1:${port}`, {
  BENCH_ROUTES: "on", MAX_SNAPSHOT_AGE_MS: "3600000", REFRESH_INTERVAL_MS: "3600000",
});
const origin = new Origin({ db, port, purgeUrl: `${worker.url}/__clausum/purge` });
await origin.start();
try {
  const login = await call(origin.url, "POST", "/api/v1/auth/login", {
    body: { email: creds.admin_email, password: creds.admin_password },
  });
  const admin = login.body.access_token;

  // The blocklist: emails (the snapshot's exact entries), as `block`.
  const t0 = performance.now();
  for (let from = 0; from < ENTRIES; from += CHUNK) {
    const rows = ["list_type,value,severity"];
    for (let i = from; i < Math.min(ENTRIES, from + CHUNK); i++) rows.push(`email,bench-${i}@blocked.example,block`);
    const r = await fetch(`${origin.url}/api/v1/blocklists/import`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "text/csv" },
      body: rows.join("\n"),
    });
    if (!r.ok) throw new Error(`import: HTTP ${r.status} ${await r.text()}`);
  }
  const loadedIn = (performance.now() - t0) / 1000;

  const orgId = creds.organization_id;
  const snap = await fetch(`${origin.url}/api/v1/edge/snapshot/${orgId}`, { headers: { "x-clausum-edge-token": EDGE_TOKEN } });
  if (!snap.ok) throw new Error(`snapshot: HTTP ${snap.status}`);
  const snapshot = new Uint8Array(await snap.arrayBuffer());

  const edgeHeaders = { "x-clausum-edge-token": EDGE_TOKEN };
  const key = creds.keys.secret;
  const assess = (base, email) => fetch(`${base}/api/v1/assess`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ amount: 1500, currency: "MXN", email, device: { ip: "198.51.100.7" } }),
  });

  // Warm-up: the worker loads keys and the snapshot once.
  for (let i = 0; i < 50; i++) {
    await (await assess(worker.url, "bench-1@blocked.example")).arrayBuffer();
    await (await assess(worker.url, `clean-${i}@example.com`)).arrayBuffer();
    await (await assess(origin.url, `clean-${i}@example.com`)).arrayBuffer();
  }
  const decline = await assess(worker.url, "bench-7@blocked.example");
  const declined = await decline.json();
  if (declined.decided_by !== "edge") throw new Error(`not declined at the edge: ${JSON.stringify(declined)}`);

  const sinkEmpty = quantiles(await timed(REQUESTS, () =>
    fetch(`${worker.url}/__clausum/bench/sink`, { method: "POST", headers: edgeHeaders, body: "{}" })));
  const edgeDecline = quantiles(await timed(REQUESTS, (i) => assess(worker.url, `bench-${i % ENTRIES}@blocked.example`)));
  const passThrough = quantiles(await timed(REQUESTS, (i) => assess(worker.url, `pass-${i}@example.com`)));
  const direct = quantiles(await timed(REQUESTS, (i) => assess(origin.url, `direct-${i}@example.com`)));

  // The snapshot in workerd: check and load (parse - sink, same body, each
  // done TIMES times inside one request) and lookups.
  const LOADS = 10;
  const TIMES = 10;
  const post = (route) => () =>
    fetch(`${worker.url}/__clausum/bench/${route}?org=${orgId}&n=${TIMES}`, { method: "POST", headers: edgeHeaders, body: snapshot });
  const sinkBig = quantiles(await timed(LOADS, post("sink")));
  const parse = quantiles(await timed(LOADS, post("parse")));
  const N = 100_000;
  const lookups = (n) => () => fetch(`${worker.url}/__clausum/bench/lookups?org=${orgId}&n=${n}`, { headers: edgeHeaders });
  const zero = quantiles(await timed(20, lookups(0)));
  const many = quantiles(await timed(20, lookups(N)));

  console.log(`\norganisation: ${ENTRIES} blocklist entries (imported in ${loadedIn.toFixed(1)} s); ${REQUESTS} sequential requests per row\n`);
  console.log("| path | p50 | p99 | mean |");
  console.log("|---|---|---|---|");
  for (const [name, q] of [["edge decline", edgeDecline], ["edge pass-through to the origin", passThrough], ["direct origin assess", direct], ["worker's cheapest route (bench/sink)", sinkEmpty]]) {
    console.log(`| ${name} | ${ms(q.p50)} | ${ms(q.p99)} | ${ms(q.mean)} |`);
  }
  console.log(`\nworker cost per decline (decline - sink, p50): ${ms(edgeDecline.p50 - sinkEmpty.p50)}`);
  console.log(`worker cost per pass-through (pass-through - direct, p50): ${ms(passThrough.p50 - direct.p50)}`);
  console.log(`\nsnapshot: ${snapshot.length} bytes (${(snapshot.length / 2 ** 20).toFixed(1)} MiB) for ${ENTRIES} entries`);
  console.log(`check and load in workerd ((parse - sink) / ${TIMES}, p50 of ${LOADS}): ${ms((parse.p50 - sinkBig.p50) / TIMES)}`);
  console.log(`membership check in workerd ((n=${N}) - (n=0), p50, per probe): ${(((many.p50 - zero.p50) / N) * 1000).toFixed(3)} µs`);
} finally {
  await worker.mf.dispose();
  await origin.stop();
  tmp.cleanup();
}
