// Benchmark: our SDK against FingerprintJS (the best-known open-source peer)
// in the same headless Chromium run. For each library, RUNS fresh page
// loads (a new browser context each: empty cache), alternating:
//   - transferred size: the bytes the browser received for the library's
//     files (served minified and gzip -9; Resource Timing encodedBodySize);
//   - time to fingerprint: from an inline script just before the library's
//     tag to a ready fingerprint (ours: Clausum.init resolves with it;
//     FingerprintJS: load() then get()), download and compile included.
// Usage: npm run bench --prefix npm   (after scripts/build-sdk.sh)
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, dist, freePort } from '../e2e/harness.js';

const RUNS = Number(process.env.RUNS || 15);
const fpjs = path.resolve(dist, '../node_modules/@fingerprintjs/fingerprintjs/dist/fp.umd.min.js');
const files = {
  '/clausum.js': ['text/javascript', readFileSync(path.join(dist, 'clausum.js'))],
  '/clausum.wasm': ['application/wasm', readFileSync(path.join(dist, 'clausum.wasm'))],
  '/fp.umd.min.js': ['text/javascript', readFileSync(fpjs)],
};
const pages = {
  '/ours': `<!doctype html><script>window.t0 = performance.now()</script><script src="/clausum.js"></script>
<script>Clausum.init({ apiKey: 'clm_pub_bench', apiUrl: '/api/v1/assess' }).then((r) => { window.result = { ms: performance.now() - t0, fp: r.fingerprint } })</script>`,
  '/fpjs': `<!doctype html><script>window.t0 = performance.now()</script><script src="/fp.umd.min.js"></script>
<script>FingerprintJS.load().then((a) => a.get()).then((r) => { window.result = { ms: performance.now() - t0, fp: r.visitorId } })</script>`,
};

const port = await freePort();
const server = http.createServer((req, res) => {
  const page = pages[req.url];
  if (page) return res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
  const f = files[req.url];
  if (!f) return res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': f[0], 'Content-Encoding': 'gzip', 'Cache-Control': 'no-store' });
  res.end(gzipSync(f[1], { level: 9 }));
}).listen(port, '127.0.0.1');

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
const samples = { ours: [], fpjs: [] };
const bytes = {};
const fingerprints = { ours: new Set(), fpjs: new Set() };
for (let i = 0; i < RUNS; i++) {
  for (const lib of i % 2 ? ['fpjs', 'ours'] : ['ours', 'fpjs']) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/${lib}`);
    await page.waitForFunction(() => window.result, null, { timeout: 30_000 });
    const { ms, fp } = await page.evaluate(() => window.result);
    bytes[lib] = await page.evaluate(() => performance.getEntriesByType('resource').reduce((n, r) => n + r.encodedBodySize, 0));
    samples[lib].push(ms);
    fingerprints[lib].add(fp);
    await context.close();
  }
}
await browser.close();
server.close();

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2; };
const kb = (n) => `${(n / 1024).toFixed(1)} KB (${n} bytes)`;
const [mo, mf] = [median(samples.ours), median(samples.fpjs)];
console.log(`chromium ${browser.version()}, ${RUNS} fresh page loads each, same run`);
console.log(`| library | JS + wasm transferred (gzip) | median time to fingerprint | distinct fingerprints |`);
console.log(`|---|---|---|---|`);
console.log(`| @clausum/sdk | ${kb(bytes.ours)} | ${mo.toFixed(1)} ms | ${fingerprints.ours.size} |`);
console.log(`| FingerprintJS ${JSON.parse(readFileSync(path.resolve(fpjs, '../../package.json'))).version} | ${kb(bytes.fpjs)} | ${mf.toFixed(1)} ms | ${fingerprints.fpjs.size} |`);
console.log(`time ratio (ours / FingerprintJS): ${(mo / mf).toFixed(2)} (target <= 0.33); size: ${kb(bytes.ours)} (target <= 25 KB)`);
