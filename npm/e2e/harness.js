// The end-to-end setting: a real origin (the clausum-origin binary on a
// fresh SQLite file) and a small shop on loopback whose checkout page loads
// the SDK by script tag, and whose backend makes the authoritative assess.
// Chromium is Debian's /usr/bin/chromium, driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const dist = path.join(root, 'npm/dist');
const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target');
export const originBin = path.join(targetDir, 'debug/clausum-origin');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts the origin on a fresh database with one organisation; returns
 * {base, keys, adminEmail, adminPassword, stop}. `env` overrides the
 * variables set here (for example `CLAUSUM_WEBHOOK_WORKER: 'true'`).
 */
export async function startOrigin({ org = 'E2E Shop', env: overrides = {} } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'clausum-e2e-'));
  const env = {
    ...process.env,
    CLAUSUM_DATABASE_URL: `sqlite://${dir}/clausum.db`,
    CLAUSUM_SDK_DIR: dist,
    CLAUSUM_NO_BOOTSTRAP: 'true',
    CLAUSUM_WEBHOOK_WORKER: 'false',
    CLAUSUM_EMAIL_WORKER: 'false',
    CLAUSUM_LOG: 'warn',
    ...overrides,
  };
  const creds = JSON.parse(execFileSync(originBin, ['init', '--org', org, '--segment', 'comercio', '--json'], { env }).toString());
  const port = await freePort();
  const child = spawn(originBin, ['serve'], { env: { ...env, CLAUSUM_LISTEN: `127.0.0.1:${port}` }, stdio: ['ignore', 'inherit', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/api/v1/health`)).ok) break;
    } catch {}
    if (i > 300) throw new Error('the origin did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  };
  return { base, keys: creds.keys, adminEmail: creds.admin_email, adminPassword: creds.admin_password, stop };
}

/** The checkout page. `sdkSrc` is the script tag's src, `apiUrl` an optional override. */
function page({ sdkSrc, key, apiUrl }) {
  const apiAttr = apiUrl ? ` data-clausum-api-url="${apiUrl}"` : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>Checkout</title>
<script src="${sdkSrc}" data-clausum-key="${key}"${apiAttr}></script></head><body>
<form id="pay"><input id="email" name="email" type="email" autocomplete="email">
<input id="card" name="cardnumber" autocomplete="cc-number" inputmode="numeric">
<button id="submit" type="submit">Pay</button></form><pre id="result"></pre>
<script>
document.getElementById('pay').addEventListener('submit', async (e) => {
  e.preventDefault();
  // The integration of the README: the SDK never blocks a checkout.
  const pre = window.Clausum ? await Clausum.assess({ amount: 1500, currency: 'MXN' }) : { available: false };
  const session = window.Clausum ? await Clausum.getSession() : { sessionId: null };
  const res = await fetch('/checkout', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ session_id: session.sessionId, email: document.getElementById('email').value }) });
  const order = await res.json();
  document.getElementById('result').textContent = JSON.stringify({ precheck: pre, session, order });
});
</script></body></html>`;
}

/** The shop: pages, the SDK copy it hosts itself, and its backend's authoritative assess. */
export async function startShop({ originBase, keys }) {
  const port = await freePort();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (status, type, body) => { res.writeHead(status, { 'Content-Type': type }); res.end(body); };
    if (url.pathname === '/') return send(200, 'text/html', page({ sdkSrc: `${originBase}/sdk/clausum.js`, key: keys.publishable }));
    if (url.pathname === '/origin-down') return send(200, 'text/html', page({ sdkSrc: '/static/clausum.js', key: keys.publishable, apiUrl: url.searchParams.get('api') }));
    if (url.pathname === '/sdk-unreachable') return send(200, 'text/html', page({ sdkSrc: `${url.searchParams.get('origin')}/sdk/clausum.js`, key: keys.publishable }));
    if (url.pathname.startsWith('/static/')) {
      const file = path.basename(url.pathname);
      return send(200, file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', readFileSync(path.join(dist, file)));
    }
    if (url.pathname === '/checkout') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const { session_id, email } = JSON.parse(body);
      const order = { status: 'paid', assessment: null };
      try {
        const r = await fetch(`${shop.apiBase}/api/v1/assess`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${keys.secret}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ amount: 1500, currency: 'MXN', email, ...(session_id ? { session_id } : {}) }),
          signal: AbortSignal.timeout(2000),
        });
        order.assessment = await r.json();
      } catch (e) {
        order.assessment = { unavailable: String(e) }; // fail open, as the guide says
      }
      return send(200, 'application/json', JSON.stringify(order));
    }
    send(404, 'text/plain', 'not found');
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const shop = { base: `http://127.0.0.1:${port}`, apiBase: originBase, stop: () => new Promise((r) => server.close(r)) };
  return shop;
}
