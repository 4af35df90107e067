// The pieces of an edge deployment on loopback, for the tests and the
// benchmark: a real origin process (SQLite in a temporary directory), a
// recording proxy in front of it (so a test can see which requests reached
// the origin, and can stall it or fail its snapshot reads), and the built
// worker running in workerd through Miniflare.
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(ROOT, "edge-worker/package.json"));
const { Miniflare } = require("miniflare");

export const EDGE_TOKEN = "edge-test-token-0123456789abcdef0123456789";
export const ORIGIN_BIN =
  process.env.CLAUSUM_ORIGIN_BIN ??
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target"), "debug/clausum-origin");

/** A free loopback port. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh database with one organisation; returns the printed credentials. */
export function initOrigin(dir, name = "Edge Test") {
  const db = `sqlite://${path.join(dir, "clausum.db")}`;
  const args = ["init", "--org", name, "--segment", "comercio", "--rate-limit-per-minute", "1000000", "--json"];
  const out = execFileSync(ORIGIN_BIN, args, {
    env: { ...process.env, CLAUSUM_DATABASE_URL: db },
  });
  return { db, creds: JSON.parse(out.toString()) };
}

/** The origin process, restartable on the same port and database. */
export class Origin {
  constructor({ db, port, purgeUrl, env = {} }) {
    Object.assign(this, { db, port, purgeUrl, env, url: `http://127.0.0.1:${port}` });
  }

  async start() {
    this.proc = spawn(ORIGIN_BIN, ["serve"], {
      env: {
        ...process.env,
        CLAUSUM_DATABASE_URL: this.db,
        CLAUSUM_LISTEN: `127.0.0.1:${this.port}`,
        CLAUSUM_EDGE_TOKEN: EDGE_TOKEN,
        CLAUSUM_EDGE_PURGE_URL: this.purgeUrl,
        CLAUSUM_WEBHOOK_WORKER: "false",
        CLAUSUM_EMAIL_WORKER: "false",
        CLAUSUM_LOG: process.env.CLAUSUM_LOG ?? "warn",
        ...this.env,
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    for (let i = 0; i < 600; i++) {
      try {
        const r = await fetch(`${this.url}/api/v1/health`);
        if (r.ok) return;
      } catch {}
      if (this.proc.exitCode !== null) throw new Error(`origin exited with ${this.proc.exitCode}`);
      if (this.proc.signalCode !== null) throw new Error(`origin killed by ${this.proc.signalCode}`);
      await sleep(100);
    }
    throw new Error("origin did not become healthy");
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGKILL");
    await exited;
  }
}

/**
 * A recording reverse proxy on loopback: `log` lists every request that
 * reached the upstream through it (method, path, headers, body, arrival
 * time and, once answered, status). `mode` can stall the upstream
 * (`hang`), fail only the edge's snapshot reads with a 503 while its
 * key-manifest reads pass (`noSnapshotReads`), answer the edge's records
 * with 503 (`refuseRecords`), or hold requests until
 * `release()` (`hold`). In front of the origin it shows what the
 * worker asked of it; in front of the worker, which purges the origin sent.
 */
export class Proxy {
  constructor(upstreamPort) {
    this.upstreamPort = upstreamPort;
    this.log = [];
    this.mode = "pass";
    this.held = new Set();
    this.queued = [];
  }

  async start() {
    this.port = await freePort();
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise((r) => this.server.listen(this.port, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${this.port}`;
  }

  handle(req, res) {
    const entry = { method: req.method, path: req.url, headers: req.headers, at: Date.now() };
    this.log.push(entry);
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      entry.body = body.toString();
      this.dispatch(entry, req, res, body);
    });
  }

  dispatch(entry, req, res, body) {
    if (this.mode === "hang") {
      this.held.add(res);
      return;
    }
    if (this.mode === "hold") {
      this.queued.push(() => this.dispatch(entry, req, res, body));
      return;
    }
    if (this.mode === "refuseRecords" && req.url.startsWith("/api/v1/edge/record")) {
      entry.status = 503;
      res.writeHead(503).end();
      return;
    }
    if (this.mode === "noSnapshotReads" && req.url.startsWith("/api/v1/edge/snapshot/")) {
      entry.status = 503;
      res.writeHead(503).end();
      return;
    }
    const up = http.request(
      { host: "127.0.0.1", port: this.upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        entry.status = upRes.statusCode;
        res.writeHead(upRes.statusCode, upRes.headers);
        upRes.pipe(res);
      },
    );
    // The upstream is gone: the connection drops, as it would without us.
    up.on("error", () => req.socket.destroy());
    up.end(body.length > 0 ? body : undefined);
  }

  /** Back to `pass`, sending on what `hold` kept, in arrival order. */
  release() {
    this.mode = "pass";
    for (const send of this.queued.splice(0)) send();
  }

  /** Requests seen since `since` (ms) matching `method` and a path prefix. */
  seen(method, prefix, since = 0) {
    return this.log.filter((e) => e.method === method && e.path.startsWith(prefix) && e.at >= since);
  }

  async stop() {
    for (const res of this.held) res.destroy();
    this.queued = [];
    this.server.closeAllConnections?.();
    await new Promise((r) => this.server.close(r));
  }
}

/** What Cloudflare would attach to the request (Miniflare would download it). */
export const CF = {
  country: "MX",
  asn: 8151,
  asOrganization: "Uninet",
  colo: "QRO",
  tlsVersion: "TLSv1.3",
  tlsCipher: "AEAD-AES128-GCM-SHA256",
  botManagement: { score: 87 },
};

/**
 * The built worker under workerd, configured like `wrangler.toml`.
 * `options` go to Miniflare as they are (for example `kvPersist`, a
 * directory two workers share as isolates share a KV namespace).
 */
export async function startWorker(originUrl, vars = {}, options = {}) {
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(ROOT, "edge-worker/build/index.js"),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-20",
    cf: CF,
    port: await freePort(),
    host: "127.0.0.1",
    kvNamespaces: ["EDGE_STATE"],
    bindings: {
      ORIGIN_URL: originUrl,
      EDGE_TOKEN,
      REFRESH_INTERVAL_MS: "60000",
      MAX_SNAPSHOT_AGE_MS: "120000",
      ORIGIN_TIMEOUT_MS: "1500",
      PURGE_POLL_MS: "200",
      ...vars,
    },
    ...options,
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return { mf, url };
}

/** A temporary directory removed by `cleanup()`. */
export function tempDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "clausum-edge-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** JSON request helper: `{ status, headers, body, ms }`. */
export async function call(base, method, route, { key, token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  if (token) h["x-clausum-edge-token"] = token;
  if (body !== undefined) h["content-type"] = "application/json";
  const t0 = performance.now();
  const r = await fetch(`${base}${route}`, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const ms = performance.now() - t0;
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: r.status, headers: r.headers, body: parsed, ms };
}
