// The operator dashboard in Firefox: Debian's firefox-esr (installed by
// scripts/browser-tools.sh), headless, driven by puppeteer-core over
// WebDriver BiDi (Playwright's Firefox needs a patched build). The same
// real origin and seed as the Chromium tests; every check compares what the
// page shows with what the API answers for the same question (same range,
// same time zone), so a screen that misbehaves in Firefox fails here.
// Screenshots go to target/dashboard-screenshots/firefox-*.png
// (failed-firefox-* when a test fails).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { call, seedDashboard, startDashboardOrigin } from './dashboard-seed.js';
import { prepareScreenshots, screenshotFailures } from './screenshots.js';

const FIREFOX = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
const TZ = 'America/Mexico_City';
const SHOTS = prepareScreenshots();
const VIEWPORT = { width: 1366, height: 900 };
let origin, seed, browser, page, tz;
const pageErrors = [];
screenshotFailures('firefox-', () => [page]);

before(async () => {
  assert.ok(existsSync(FIREFOX), `${FIREFOX} is missing: run scripts/browser-tools.sh`);
  origin = await startDashboardOrigin();
  seed = await seedDashboard(origin);
  browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX,
    headless: true,
    // Firefox takes its time zone from TZ; the page's own is read back below.
    env: { ...process.env, TZ },
    extraPrefsFirefox: { 'intl.accept_languages': 'es-MX, es' },
  });
  page = await browser.newPage();
  await page.setViewport(VIEWPORT);
  page.on('pageerror', (e) => {
    pageErrors.push(e.message);
    console.error('page error:', e.message);
  });
  page.on('dialog', (d) => d.accept()); // confirm() before deletions
});

after(async () => {
  await browser?.close();
  await origin?.stop();
});

const api = (method, p, opts = {}) => call(origin.base, method, `/api/v1${p}`, { bearer: seed.adminToken, ...opts });
const shot = (name) => page.screenshot({ path: path.join(SHOTS, `firefox-${name}.png`), fullPage: true });
const digits = (s) => Number(s.replace(/[^\d]/g, ''));
const norm = (s) => s.replace(/\s+/g, ' ').trim();
const text = (sel) => page.$eval(sel, (e) => e.textContent);
const attr = (sel, name) => page.$eval(sel, (e, n) => e.getAttribute(n), name);
const pathname = () => new URL(page.url()).pathname;
/** Money as the page formats it: es-MX, the currency's own exponent. */
function money(minor, currency) {
  const d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  return new Intl.NumberFormat('es-MX', { style: 'currency', currency, minimumFractionDigits: d, maximumFractionDigits: d }).format(minor / 10 ** d);
}
async function fill(sel, value) {
  await page.locator(sel).fill(value);
}
async function waitForPath(re) {
  await page.waitForFunction((src) => new RegExp(src).test(location.pathname + location.search), { timeout: 10_000 }, re.source);
}

test('1. Firefox signs in with the printed admin credentials', async () => {
  const version = await browser.version();
  assert.match(version, /firefox/i, `driving Firefox, not ${version}`);
  await page.goto(`${origin.base}/dashboard`);
  await waitForPath(/^\/dashboard\/login$/);
  await page.waitForSelector('form.login');
  assert.equal(await attr('html', 'lang'), 'es');
  // The page's own time zone, used for every expectation below.
  tz = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  assert.equal(tz, TZ, 'the fixed time zone reached Firefox');
  assert.match(await page.evaluate(() => navigator.userAgent), /Firefox\//);
  await shot('sign-in');

  await fill('input[name=email]', origin.adminEmail);
  await fill('input[name=password]', origin.adminPassword);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('[data-kpi=evaluations]');
  assert.equal(pathname(), '/dashboard');
  assert.equal(norm(await text('.top .user')), `${origin.adminEmail} · Administrador`);
  assert.ok(await page.evaluate(() => sessionStorage.getItem('clausum.token')), 'token kept in sessionStorage');
});

test('2. the Panel shows the overview API figures and the trend chart draws its bars', async () => {
  const requested = page.waitForRequest((r) => r.url().includes('/api/v1/dashboard/overview'), { timeout: 10_000 });
  await page.goto(`${origin.base}/dashboard?range=24h`);
  const url = new URL((await requested).url());
  assert.equal(url.searchParams.get('tz'), tz, 'the browser time zone is sent');
  assert.equal(url.searchParams.get('range'), '24h');
  await page.waitForSelector('.panel-body[data-loaded="24h"]');
  const o = (await api('GET', `/dashboard/overview?range=24h&tz=${encodeURIComponent(tz)}`)).body;
  assert.equal(o.tz, tz);
  assert.ok(o.evaluations >= seed.transactions.length, `seeded evaluations counted: ${o.evaluations}`);
  const kpi = async (name) => norm(await text(`[data-kpi=${name}] .kpi-value`));
  assert.equal(digits(await kpi('evaluations')), o.evaluations, 'evaluations');
  assert.equal(digits(await kpi('approved')), o.approved, 'approved');
  assert.equal(digits(await kpi('blocked')), o.blocked, 'blocked');
  assert.equal(Number((await kpi('approval_rate')).replace(/[^\d.]/g, '')), Math.round(o.approval_rate * 1000) / 10, 'approval rate');
  assert.ok(o.money_protected.length > 0, 'blocked transactions protect money');
  for (const m of o.money_protected) {
    const shown = norm(await text(`[data-kpi=money_protected] li[data-currency=${m.currency}]`));
    assert.equal(shown, norm(money(m.amount_minor, m.currency)), `money protected ${m.currency}`);
  }

  // The chart: one bar group per trend bucket with the same counts, and the
  // bars really laid out (non-empty boxes in Firefox's SVG rendering).
  const chart = await page.$eval('svg.chart', (svg) => {
    const box = svg.getBoundingClientRect();
    return {
      role: svg.getAttribute('role'), width: box.width, height: box.height,
      buckets: [...svg.querySelectorAll('.bucket')].map((g) => ({
        start: g.dataset.start,
        evaluations: Number(g.dataset.evaluations),
        bars: [...g.querySelectorAll('rect.seg')].map((r) => {
          const b = r.getBoundingClientRect();
          return { width: b.width, height: b.height, fill: getComputedStyle(r).fill };
        }),
      })),
    };
  });
  assert.equal(chart.role, 'img');
  assert.ok(chart.width > 300 && chart.height > 100, `the chart has a size: ${chart.width}×${chart.height}`);
  assert.deepEqual(chart.buckets.map(({ start, evaluations }) => ({ start, evaluations })), o.trend.map((b) => ({ start: b.start, evaluations: b.evaluations })));
  const filled = chart.buckets.filter((b) => b.evaluations > 0);
  assert.ok(filled.length > 0, 'some bucket has evaluations');
  for (const b of filled) {
    assert.ok(b.bars.length > 0, `bucket ${b.start} has bars`);
    for (const r of b.bars) {
      assert.ok(r.width > 0 && r.height > 0, `bucket ${b.start} bar drawn: ${JSON.stringify(r)}`);
      assert.notEqual(r.fill, 'none', `bucket ${b.start} bar coloured by app.css`);
      assert.notEqual(r.fill, 'rgb(0, 0, 0)', `bucket ${b.start} bar coloured by app.css, not the default black`);
    }
  }
  assert.equal(await page.$$eval('.chart-table tbody tr', (r) => r.length), o.trend.length);
  await shot('panel');
});

test('3. the Monitor lists the API transactions and the detail shows the API signal weights', async () => {
  await page.click('nav.nav a[data-nav=transactions]');
  await page.waitForSelector('table[data-table=transactions]');
  assert.equal(pathname(), '/dashboard/transactions');
  const all = await api('GET', '/transactions?limit=50');
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assert.ok(all.body.pagination.total >= seed.transactions.length, 'every seeded assessment is listed');
  assert.equal(Number(await attr('table[data-table=transactions]', 'data-total')), all.body.pagination.total);
  const ids = await page.$$eval('table[data-table=transactions] tbody tr[data-id]', (r) => r.map((x) => x.dataset.id));
  assert.deepEqual(ids, all.body.data.map((t) => t.id), 'same rows, newest first');
  await shot('monitor');

  const target = all.body.data.find((t) => t.signals.includes('automation_detected')) || all.body.data[0];
  await page.click(`table[data-table=transactions] tr[data-id="${target.id}"] a`);
  await page.waitForSelector('table[data-table=signals]');
  assert.equal(decodeURIComponent(pathname()), `/dashboard/transactions/${target.id}`);
  const detail = (await api('GET', `/transactions/${target.id}`)).body;
  const shown = await page.$$eval('table[data-table=signals] tbody tr', (rows) => rows.map((r) => ({ code: r.dataset.signal, weight: Number(r.cells[1].dataset.weight), description: r.cells[2].textContent })));
  assert.deepEqual(shown, detail.signal_details.map(({ code, weight, description }) => ({ code, weight, description })));
  assert.ok(shown.length >= 3 && shown.every((s) => s.weight !== 0), JSON.stringify(shown));
  assert.deepEqual(JSON.parse(await text('pre.json')), detail.request, 'the request as received');
  await shot('monitor-detalle');
});

test('4. a blocklist email added in Protección declines the next assess with it', async () => {
  const email = 'bloqueado.firefox@example.com';
  const clean = await call(origin.base, 'POST', '/api/v1/assess', { bearer: origin.keys.secret, body: { amount: 1500, currency: 'MXN', email: 'otro.firefox@example.com', device: { ip: '198.51.100.78' } } });
  assert.equal(clean.body.decision, 'approve', 'a clean payer is approved');

  await page.click('nav.nav a[data-nav=protection]');
  const form = 'form[data-form=add-blocklist]';
  await page.waitForSelector(form);
  await page.select(`${form} select[name=list_type]`, 'email');
  await fill(`${form} input[name=value]`, email);
  await page.select(`${form} select[name=severity]`, 'block');
  await fill(`${form} input[name=reason]`, 'Prueba Firefox');
  await page.click(`${form} button[type=submit]`);
  await page.waitForSelector(`table[data-table=blocklists] tr[data-value="${email}"]`);

  const listed = (await api('GET', `/blocklists?search=${encodeURIComponent(email)}`)).body.data;
  assert.equal(listed.length, 1);
  assert.deepEqual([listed[0].list_type, listed[0].severity, listed[0].reason], ['email', 'block', 'Prueba Firefox']);

  const r = await call(origin.base, 'POST', '/api/v1/assess', { bearer: origin.keys.secret, body: { amount: 1500, currency: 'MXN', email, device: { ip: '198.51.100.78' } } });
  assert.equal(r.status, 200);
  assert.equal(r.body.decision, 'decline', JSON.stringify(r.body));
  assert.ok(r.body.signals.includes('blocklist_email'), r.body.signals.join());
  await shot('proteccion');
});

test('5. a simulation preset run is labelled "Simulado" and matches the recorded run', async () => {
  await page.click('nav.nav a[data-nav=simulation]');
  await page.waitForSelector('button[data-preset=suspicious_device]:not([disabled])');
  await page.click('button[data-preset=suspicious_device]');
  await page.waitForSelector('[data-area=sim-result] [data-label=simulated]');
  assert.equal(norm(await text('[data-area=sim-result] [data-label=simulated]')), 'Simulado');
  const run = (await api('GET', '/simulation/runs?limit=1')).body.data[0];
  assert.equal(run.simulated, true);
  assert.equal(run.preset, 'suspicious_device');
  assert.equal(await attr('[data-area=sim-result] [data-decision]', 'data-decision'), run.result.decision);
  assert.equal(digits(await text('[data-area=sim-result] [data-kpi=score] .kpi-value')), run.result.risk_score);
  const codes = await page.$$eval('table[data-table=sim-signals] tbody tr', (rows) => rows.map((r) => r.dataset.signal));
  assert.deepEqual(codes, run.result.signal_details.map((s) => s.code));
  await page.waitForSelector(`table[data-table=runs] tr[data-id="${run.id}"]`);
  await shot('simulacion');
});

test('6. no script errors in Firefox on any screen', () => {
  assert.deepEqual(pageErrors, []);
});
