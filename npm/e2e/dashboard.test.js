// The operator dashboard in headless Chromium against a real origin seeded
// through the API. Every check compares what the page shows with what the
// API answers for the same question (same range, same time zone, same
// role), so a wrong figure, a missing request or a leaked button fails.
// Screenshots of each screen go to target/dashboard-screenshots/ (emptied
// when a run starts), with one of every open page when a test fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, root } from './harness.js';
import { call, seedDashboard, startDashboardOrigin } from './dashboard-seed.js';
import { prepareScreenshots, screenshotFailures } from './screenshots.js';
import es from '../../origin/dashboard/assets/messages-es.js';

const TZ = 'America/Mexico_City';
const SHOTS = prepareScreenshots();
const VIEWPORT = { width: 1366, height: 900 };
// The origin signs dashboard tokens with this, so a test can sign one too.
const JWT_SECRET = 'e2e-dashboard-jwt-secret-0123456789abcdef';
let origin, seed, browser, context, page;
const pages = new Set(); // every page opened, for the screenshots of a failure
screenshotFailures('', () => pages);

/** A page of `ctx` with the listeners every page here has. */
async function openPage(ctx) {
  const p = await ctx.newPage();
  pages.add(p);
  p.on('pageerror', (e) => console.error('page error:', e.message));
  p.on('dialog', (d) => d.accept()); // confirm() before deletions
  return p;
}

before(async () => {
  origin = await startDashboardOrigin({ env: { CLAUSUM_JWT_SECRET: JWT_SECRET } });
  seed = await seedDashboard(origin);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  context = await browser.newContext({ timezoneId: TZ, locale: 'es-MX', viewport: VIEWPORT });
  page = await openPage(context);
});

after(async () => {
  await browser?.close();
  await origin?.stop();
});

const api = (method, p, opts = {}) => call(origin.base, method, `/api/v1${p}`, { bearer: seed.adminToken, ...opts });
const shot = (name, p = page) => p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const digits = (s) => Number(s.replace(/[^\d]/g, ''));
/** Money as the page formats it: es-MX, the currency's own exponent. */
function money(minor, currency) {
  const d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  return new Intl.NumberFormat('es-MX', { style: 'currency', currency, minimumFractionDigits: d, maximumFractionDigits: d }).format(minor / 10 ** d);
}
const norm = (s) => s.replace(/\s+/g, ' ').trim();
/** A Spanish message of the interface with its `{placeholders}` filled. */
const msg = (key, vars = {}) => es[key].replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m));
const overview = async (range, extra = '') => (await api('GET', `/dashboard/overview?range=${range}&tz=${encodeURIComponent(TZ)}${extra}`)).body;
/** A real assessment through the API with the secret key. */
const assess = (body) => call(origin.base, 'POST', '/api/v1/assess', { bearer: origin.keys.secret, body: { amount: 1500, currency: 'MXN', ...body } });
/** An HS256 dashboard token as the origin issues them (header `kid: clausum`), signed with its secret. */
function dashboardToken(claims) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${part({ typ: 'JWT', alg: 'HS256', kid: 'clausum' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', JWT_SECRET).update(unsigned).digest('base64url')}`;
}
async function go(p, path_, ready) {
  await p.goto(`${origin.base}${path_}`);
  if (ready) await p.waitForSelector(ready);
}

async function signIn(p, email, password) {
  await p.fill('input[name=email]', email);
  await p.fill('input[name=password]', password);
  await p.click('form.login button[type=submit]');
}

test('1. sign in with the printed credentials; a bad password and an expired session are handled', async () => {
  await go(page, '/dashboard');
  await page.waitForURL('**/dashboard/login');
  await page.waitForSelector('form.login');
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  await shot('sign-in');

  // A wrong password: the API's code is said in Spanish in an alert, not its English message.
  const wrong = await call(origin.base, 'POST', '/api/v1/auth/login', { body: { email: origin.adminEmail, password: 'not-the-password' } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, 'UNAUTHORIZED');
  await signIn(page, origin.adminEmail, 'not-the-password');
  await page.waitForSelector('.status.error');
  assert.equal(norm(await page.textContent('.status.error')), es['err.login.UNAUTHORIZED']);
  assert.notEqual(norm(await page.textContent('.status.error')), wrong.body.error.message);
  assert.equal(await page.getAttribute('.status.error', 'data-code'), 'UNAUTHORIZED');

  await signIn(page, origin.adminEmail, origin.adminPassword);
  await page.waitForSelector('[data-kpi=evaluations]');
  assert.equal(new URL(page.url()).pathname, '/dashboard');
  assert.match(await page.textContent('.top .user'), new RegExp(`${origin.adminEmail.replace(/[.+]/g, '\\$&')} · Administrador`));
  assert.ok(await page.evaluate(() => sessionStorage.getItem('clausum.token')), 'token kept in sessionStorage');

  // A genuinely expired token: the claims the origin issues (auth/jwt.rs), signed with
  // its secret, `exp` an hour ago. The same token unexpired is accepted, so only the
  // expiry differs. Any 401 returns to sign-in, then back to where the user was.
  const me = (await api('GET', '/auth/me')).body;
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: me.id, org: me.organization_id, iss: 'clausum', aud: 'clausum-dashboard', jti: randomUUID().replace(/-/g, '') };
  const live = dashboardToken({ ...claims, iat: now, nbf: now, exp: now + 600 });
  assert.equal((await call(origin.base, 'GET', '/api/v1/auth/me', { bearer: live })).status, 200, 'the same token, unexpired, is accepted');
  const expired = dashboardToken({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 });
  const refused = await call(origin.base, 'GET', '/api/v1/auth/me', { bearer: expired });
  assert.equal(refused.status, 401);
  assert.match(refused.body.error.message, /expired/i, 'refused for its expiry');
  await page.evaluate((t) => sessionStorage.setItem('clausum.token', t), expired);
  await go(page, '/dashboard/cases?status=borrador');
  await page.waitForURL('**/dashboard/login');
  await page.waitForSelector('.status');
  assert.equal(norm(await page.textContent('.status')), es['login.expired']);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('clausum.token')), null, 'the expired token is dropped');
  await signIn(page, origin.adminEmail, origin.adminPassword);
  await page.waitForURL('**/dashboard/cases?status=borrador');
  await page.waitForSelector('table[data-table=cases]');
});

test('2. the Panel shows the overview API figures for the same range and time zone', async () => {
  for (const range of ['24h', '7d', '30d']) {
    const requested = page.waitForRequest((r) => r.url().includes('/api/v1/dashboard/overview'));
    await go(page, `/dashboard?range=${range}`);
    const url = new URL((await requested).url());
    assert.equal(url.searchParams.get('tz'), TZ, 'the browser time zone is sent');
    assert.equal(url.searchParams.get('range'), range);
    await page.waitForSelector(`.panel-body[data-loaded="${range}"]`);
    const o = (await api('GET', `/dashboard/overview?range=${range}&tz=${encodeURIComponent(TZ)}`)).body;
    assert.ok(o.evaluations >= seed.transactions.length, `seeded evaluations counted: ${o.evaluations}`);
    const kpi = async (name) => norm(await page.textContent(`[data-kpi=${name}] .kpi-value`));
    assert.equal(digits(await kpi('evaluations')), o.evaluations, `${range} evaluations`);
    assert.equal(digits(await kpi('approved')), o.approved, `${range} approved`);
    assert.equal(digits(await kpi('blocked')), o.blocked, `${range} blocked`);
    const rate = Number((await kpi('approval_rate')).replace(/[^\d.]/g, ''));
    assert.equal(rate, Math.round(o.approval_rate * 1000) / 10, `${range} approval rate`);
    assert.ok(o.money_protected.length > 0, 'blocked transactions protect money');
    for (const m of o.money_protected) {
      const shown = norm(await page.textContent(`[data-kpi=money_protected] li[data-currency=${m.currency}]`));
      assert.equal(shown, norm(money(m.amount_minor, m.currency)), `${range} money protected ${m.currency}`);
    }
    // The chart: one bar group per trend bucket, same counts.
    const buckets = await page.$$eval('svg.chart .bucket', (gs) => gs.map((g) => ({ start: g.dataset.start, evaluations: Number(g.dataset.evaluations) })));
    assert.deepEqual(buckets, o.trend.map((b) => ({ start: b.start, evaluations: b.evaluations })));
    assert.equal(await page.getAttribute('svg.chart', 'role'), 'img');
    assert.equal(await page.$$eval('.chart-table tbody tr', (r) => r.length), o.trend.length);
    if (range === '24h') {
      await shot('panel');
      if (process.env.CLAUSUM_UPDATE_SCREENSHOT === '1') copyFileSync(path.join(SHOTS, 'panel.png'), path.join(root, 'docs/dashboard-panel.png'));
    }
  }
});

test('2b. the approval-rate line: one marker per hour with evaluations, at approved / evaluations', async () => {
  await go(page, '/dashboard?range=24h', '.panel-body[data-loaded="24h"]');
  const o = await overview('24h');
  const filled = o.trend.filter((b) => b.evaluations > 0);
  assert.ok(filled.length > 0, 'the seeded hour has evaluations');
  const dots = await page.$$eval('svg.chart .rate-dot', (ds) => ds.map((d) => ({ start: d.dataset.start, rate: Number(d.dataset.rate), cy: Number(d.getAttribute('cy')) })));
  assert.deepEqual(dots.map((d) => d.start), filled.map((b) => b.start), 'a marker for every hour with evaluations, none elsewhere');
  for (const [i, b] of filled.entries()) {
    const rate = Math.round((b.approved / b.evaluations) * 10_000) / 10_000;
    assert.equal(b.approval_rate, rate, `the API's rate at ${b.start} is approved / evaluations`);
    assert.equal(dots[i].rate, rate, `marker at ${b.start}`);
    // The right axis: 0 % at the plot's bottom (y 256), 100 % at its top (y 16) in the 300-high viewBox.
    assert.ok(Math.abs(dots[i].cy - (16 + 240 * (1 - rate))) <= 0.051, `marker at ${b.start} drawn at ${dots[i].cy} for ${rate}`);
    const shown = await page.evaluate((r) => new Intl.NumberFormat('es-MX', { style: 'percent', maximumFractionDigits: 1 }).format(r), rate);
    const title = await page.textContent(`svg.chart .bucket[data-start="${b.start}"] > title`);
    assert.ok(norm(title).endsWith(norm(`${es['chart.rate']} ${shown}`)), `tooltip of ${b.start}: ${title}`);
    const row = o.trend.indexOf(b);
    const cells = await page.$$eval('.chart-table tbody tr', (trs, j) => [...trs[j].cells].map((c) => c.textContent), row);
    assert.equal(norm(cells[cells.length - 1]), norm(shown), `table row of ${b.start}`);
    assert.equal(digits(cells[1]), b.evaluations);
  }
  // A dashed line joins each run of neighbouring hours with evaluations; a lone hour is its marker alone.
  let runs = 0;
  let length = 0;
  for (const b of [...o.trend, { evaluations: 0 }]) {
    if (b.evaluations > 0) length++;
    else {
      if (length > 1) runs++;
      length = 0;
    }
  }
  assert.equal(await page.$$eval('svg.chart polyline.rate-line', (l) => l.length), runs);
});

test('3. a blocklist entry added in the UI declines the next assess with that email', async () => {
  const email = 'bloqueado.e2e@example.com';
  const before = await call(origin.base, 'POST', '/api/v1/assess', { bearer: origin.keys.secret, body: { amount: 1500, currency: 'MXN', email: 'otro.e2e@example.com', device: { ip: '198.51.100.77' } } });
  assert.equal(before.body.decision, 'approve', 'a clean payer is approved');

  await page.click('nav.nav a[data-nav=protection]');
  await page.waitForSelector('form[data-form=add-blocklist]');
  const form = 'form[data-form=add-blocklist]';
  // A value the API refuses: its code is said in Spanish, naming the field, beside the field too.
  const invalid = await api('POST', '/blocklists', { body: { list_type: 'email', value: 'no-es-un-correo', severity: 'block' } });
  assert.equal(invalid.status, 400, JSON.stringify(invalid.body));
  assert.equal(invalid.body.error.code, 'VALIDATION_ERROR');
  assert.equal(invalid.body.error.details.field, 'value');
  await page.selectOption(`${form} select[name=list_type]`, 'email');
  await page.fill(`${form} input[name=value]`, 'no-es-un-correo');
  await page.click(`${form} button[type=submit]`);
  const refusal = `section:has(${form}) > .status.error[data-code=VALIDATION_ERROR]`;
  await page.waitForSelector(refusal);
  const said = msg('err.VALIDATION_ERROR.field', { field: 'value' });
  assert.equal(norm(await page.textContent(refusal)), said);
  assert.equal(norm(await page.textContent(`${form} [data-field=value] .field-error`)), said);
  assert.equal(await page.getAttribute(`${form} input[name=value]`, 'aria-invalid'), 'true');

  await page.selectOption(`${form} select[name=list_type]`, 'email');
  await page.fill(`${form} input[name=value]`, email);
  await page.selectOption(`${form} select[name=severity]`, 'block');
  await page.fill(`${form} input[name=reason]`, 'Prueba e2e');
  await page.click(`${form} button[type=submit]`);
  await page.waitForSelector(`table[data-table=blocklists] tr[data-value="${email}"]`);
  assert.equal(await page.getAttribute(`${form} input[name=value]`, 'aria-invalid'), null, 'the earlier refusal is cleared');

  const listed = (await api('GET', `/blocklists?search=${encodeURIComponent(email)}`)).body.data;
  assert.equal(listed.length, 1);
  assert.equal(listed[0].list_type, 'email');
  assert.equal(listed[0].severity, 'block');
  assert.equal(listed[0].reason, 'Prueba e2e');

  const r = await call(origin.base, 'POST', '/api/v1/assess', { bearer: origin.keys.secret, body: { amount: 1500, currency: 'MXN', email, device: { ip: '198.51.100.77' } } });
  assert.equal(r.status, 200);
  assert.equal(r.body.decision, 'decline', JSON.stringify(r.body));
  assert.ok(r.body.signals.includes('blocklist_email'), r.body.signals.join());

  // Bulk import: the report lists every row with its outcome, as the API reported it.
  const imp = 'form[data-form=import-blocklist]';
  await page.fill(`${imp} textarea[name=body]`, 'list_type,value\nemail,lote1.e2e@example.com\nnot_a_type,whatever\nip_address,203.0.113.250\n');
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/blocklists/import'));
  await page.click(`${imp} button[type=submit]`);
  const report = await (await answered).json();
  assert.deepEqual([report.rows, report.imported, report.duplicates, report.rejected_count], [3, 2, 0, 1], JSON.stringify(report));
  assert.deepEqual(report.rejected.map((x) => x.line), [3]);
  await page.waitForSelector('table[data-table=import-report][data-complete=true] tbody tr');
  const rows = await page.$$eval('table[data-table=import-report] tbody tr', (trs) => trs.map((r) => ({ line: Number(r.dataset.line), outcome: r.dataset.outcome, reason: r.cells[3].textContent })));
  assert.deepEqual(rows.map((r) => ({ ...r, reason: norm(r.reason) })), [
    { line: 2, outcome: 'accepted', reason: '—' },
    { line: 3, outcome: 'rejected', reason: norm(report.rejected[0].error) },
    { line: 4, outcome: 'accepted', reason: '—' },
  ]);
  assert.equal(norm(await page.textContent(`${imp} .status`)), msg('bl.importDone', { rows: 3, imported: 2, duplicates: 0, rejected: 1 }));
  await shot('proteccion');
});

test('3b. Reglas: live validation with line and column, backtest preview equal to the API', async () => {
  await page.click('nav.nav a[data-nav=rules]');
  await page.click('button[data-action=new-rule]');
  const bad = 'when amount >';
  await page.fill('form[data-form=rule] input[name=name]', 'montos_enormes');
  await page.fill('form[data-form=rule] textarea[name=source]', bad);
  const v = (await api('POST', '/rules/validate', { body: { source: bad } })).body;
  assert.equal(v.valid, false);
  await page.waitForSelector(`.rule-check [data-line="${v.error.line}"][data-column="${v.error.column}"]`);
  assert.equal(await page.getAttribute('form[data-form=rule] textarea[name=source]', 'aria-invalid'), 'true');

  const good = 'when amount > 300000 then decline as montos_enormes';
  await page.fill('form[data-form=rule] textarea[name=source]', good);
  await page.waitForSelector('.rule-check.ok');
  await page.click('button[data-action=preview]');
  await page.waitForSelector('[data-backtest] [data-changed]');
  const shown = Number(await page.getAttribute('[data-backtest] [data-changed]', 'data-changed'));
  const bt = (await api('POST', '/simulation/backtest', { body: { rules: [{ name: 'montos_enormes', source: good }], since: new Date(Date.now() - 7 * 864e5).toISOString() } })).body;
  assert.ok(bt.changed > 0, 'the seeded review decisions above MXN 3,000 would change');
  assert.equal(shown, bt.changed);
  await shot('reglas');
  await page.click('form[data-form=rule] button.link'); // cancel: nothing saved
  assert.equal((await api('GET', '/rules')).body.data.length, 0);
});

test('3c. Protección: today from the 7-day trend, money protected from the first of the month', async () => {
  const requested = page.waitForRequest((r) => r.url().includes('/api/v1/transactions?') && new URL(r.url()).searchParams.get('decision') === 'decline');
  await go(page, '/dashboard/protection', '[data-area=counters][data-refreshes]');
  const sent = new URL((await requested).url()).searchParams;
  const from = await page.evaluate(() => {
    const d = new Date();
    return new Date(d.getFullYear(), d.getMonth(), 1).toISOString();
  });
  assert.equal(sent.get('from'), from, 'month to date starts at the local first of the month');
  const week = await overview('7d');
  const today = week.trend[week.trend.length - 1];
  const kpi = async (name) => norm(await page.textContent(`[data-kpi=${name}] .kpi-value`));
  assert.equal(digits(await kpi('today_evaluations')), today.evaluations);
  assert.equal(digits(await kpi('today_blocked')), today.blocked);
  const declined = (await api('GET', `/transactions?decision=decline&from=${encodeURIComponent(from)}&limit=500`)).body;
  assert.ok(declined.pagination.total > 0 && declined.pagination.total <= 500, `declined this month: ${declined.pagination.total}`);
  const sums = {};
  for (const t of declined.data) sums[t.currency] = (sums[t.currency] || 0) + t.amount_minor;
  const shown = await page.$$eval('[data-kpi=money_month] li[data-currency]', (li) => li.map((l) => [l.dataset.currency, l.textContent]));
  assert.deepEqual(shown.map(([c, text]) => [c, norm(text)]), Object.keys(sums).sort().map((c) => [c, norm(money(sums[c], c))]));
});

test('3d. Protección fetches its counters again every 30 s (Playwright clock)', async () => {
  const clocked = await browser.newContext({ timezoneId: TZ, locale: 'es-MX', viewport: VIEWPORT });
  await clocked.clock.install(); // time runs on, and can be moved forward
  try {
    const p = await openPage(clocked);
    await go(p, '/dashboard/login', 'form.login');
    await signIn(p, origin.adminEmail, origin.adminPassword);
    await p.waitForSelector('[data-kpi=evaluations]');
    await p.click('nav.nav a[data-nav=protection]');
    await p.waitForSelector('table[data-table=blocklists]'); // mounted: the timer is set
    assert.equal(await p.getAttribute('[data-area=counters]', 'data-refreshes'), '1');
    const fresh = await assess({ email: 'reloj.e2e@example.com', device: { ip: '198.51.100.81' } });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));

    const counted = p.waitForRequest((r) => r.url().includes('/api/v1/dashboard/overview'));
    const summed = p.waitForRequest((r) => r.url().includes('/api/v1/transactions?'));
    await p.clock.fastForward(30_000);
    await Promise.all([counted, summed]);
    await p.waitForSelector('[data-area=counters][data-refreshes="2"]');
    const week = await overview('7d');
    assert.equal(digits(await p.textContent('[data-kpi=today_evaluations] .kpi-value')), week.trend[week.trend.length - 1].evaluations, 'the new assessment is counted');
  } finally {
    await clocked.close();
  }
});

test('4. a simulation run is labelled as simulated and matches the recorded run', async () => {
  await page.click('nav.nav a[data-nav=simulation]');
  await page.click('button[data-preset=suspicious_device]');
  await page.waitForSelector('[data-area=sim-result] [data-label=simulated]');
  assert.equal(norm(await page.textContent('[data-area=sim-result] [data-label=simulated]')), 'Simulado');
  const run = (await api('GET', '/simulation/runs?limit=1')).body.data[0];
  assert.equal(run.simulated, true);
  assert.equal(run.preset, 'suspicious_device');
  assert.equal(await page.getAttribute('[data-area=sim-result] [data-decision]', 'data-decision'), run.result.decision);
  assert.equal(digits(await page.textContent('[data-area=sim-result] [data-kpi=score] .kpi-value')), run.result.risk_score);
  const codes = await page.$$eval('table[data-table=sim-signals] tbody tr', (rows) => rows.map((r) => r.dataset.signal));
  assert.deepEqual(codes, run.result.signal_details.map((s) => s.code));
  await page.waitForSelector(`table[data-table=runs] tr[data-id="${run.id}"]`);
  await shot('simulacion');
});

test('5. a case is created, moved to review and submitted to the regulator', async () => {
  await page.click('nav.nav a[data-nav=cases]');
  await page.click('button[data-action=new-case]');
  const f = 'form[data-form=new-case]';
  await page.fill(`${f} input[name=title]`, 'Phishing a cliente e2e');
  await page.selectOption(`${f} select[name=incident_type]`, 'phishing');
  await page.selectOption(`${f} select[name=priority]`, 'alta');
  await page.fill(`${f} input[name=amount]`, '1500.50');
  await page.fill(`${f} input[name=currency]`, 'MXN');
  await page.click(`${f} button[type=submit]`);
  await page.waitForURL(/\/dashboard\/cases\/case_/);
  const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  await page.waitForSelector('[data-status=borrador]');
  let c = (await api('GET', `/cases/${id}`)).body;
  assert.equal(c.title, 'Phishing a cliente e2e');
  assert.equal(c.amount_minor, 150050);
  assert.equal(c.currency, 'MXN');
  assert.equal(c.priority, 'alta');
  // Exactly the API's allowed transitions are offered.
  const offered = await page.$$eval('[data-transition]', (b) => b.map((x) => x.dataset.transition));
  assert.deepEqual(offered, c.allowed_transitions.filter((s) => s !== 'enviado'));

  await page.fill('form[data-form=evidence] input[name=description]', 'Correo de phishing recibido');
  await page.click('form[data-form=evidence] button');
  await page.waitForSelector('table[data-table=evidence] tbody tr:not(:has(.empty))');

  await page.click('button[data-transition=en_revision]');
  await page.waitForSelector('[data-status=en_revision]');
  await page.selectOption('form[data-form=submit-case] select[name=jurisdiction]', 'MX');
  await page.click('button[data-action=submit-case]');
  await page.waitForSelector('[data-status=enviado]');
  c = (await api('GET', `/cases/${id}`)).body;
  assert.equal(c.status, 'enviado');
  assert.equal(c.jurisdiction, 'MX');
  assert.ok(c.submitted_at, 'submitted_at stamped');
  assert.equal(c.evidence_count, 1);
  const actions = await page.$$eval('ol.activity li', (li) => li.length);
  assert.equal(actions, (await api('GET', `/cases/${id}/activity?limit=100`)).body.pagination.total);
  await shot('expediente');
  await page.click('nav.nav a[data-nav=cases]');
  await page.waitForSelector(`table[data-table=cases] tr[data-id="${id}"]`);
  await shot('expedientes');
});

test('6. a viewer sees no edit buttons, and the API refuses the viewer writes (403)', async () => {
  const vctx = await browser.newContext({ timezoneId: TZ, viewport: VIEWPORT });
  const v = await openPage(vctx);
  await go(v, '/dashboard/login', 'form.login');
  await signIn(v, seed.viewer.email, seed.viewer.password);
  await v.waitForSelector('[data-kpi=evaluations]');
  assert.match(await v.textContent('.top .user'), /Visor/);
  const none = async (sel, where) => assert.equal(await v.$$eval(sel, (e) => e.length), 0, `${sel} on ${where}`);

  await go(v, '/dashboard/protection', 'table[data-table=blocklists]');
  await none('form[data-form=add-blocklist], form[data-form=import-blocklist], [data-action=delete], [data-action=toggle]', 'Protección');
  await go(v, '/dashboard/protection/rules', 'table[data-table=weights]');
  await none('[data-action=new-rule], form[data-form=scoring] button[type=submit]', 'Reglas');
  assert.equal(await v.$$eval('form[data-form=scoring] input:not([readonly])', (e) => e.length), 0, 'weights read-only');
  await go(v, '/dashboard/cases', 'table[data-table=cases]');
  await none('[data-action=new-case]', 'Expedientes');
  const caseId = await v.getAttribute('table[data-table=cases] tbody tr[data-id]', 'data-id');
  await go(v, `/dashboard/cases/${caseId}`, 'table[data-table=evidence]');
  await none('[data-transition], [data-action=submit-case], form[data-form=evidence]', 'case page');
  await go(v, `/dashboard/transactions/${seed.transactions[0].transaction_id}`, 'table[data-table=signals]');
  await none('[data-action=open-case]', 'transaction');
  await go(v, '/dashboard/simulation', 'button[data-preset]');
  assert.equal(await v.$$eval('button[data-preset]:not([disabled])', (e) => e.length), 0, 'presets cannot run');
  await none('form[data-form=simulate]', 'Simulación');
  await go(v, '/dashboard/team', 'table[data-table=members]');
  await none('form[data-form=invite], table[data-table=members] select, table[data-table=members] button', 'Equipo');
  await go(v, '/dashboard/integrations', 'table[data-table=ingestion-rules]');
  await none('table[data-table=api-keys], form[data-form=api-key], form[data-form=endpoint], form[data-form=ingestion-rule]', 'Integraciones');

  const vt = seed.viewer.token;
  for (const [method, p, body] of [
    ['POST', '/blocklists', { list_type: 'email', value: 'visor.e2e@example.com' }],
    ['POST', '/cases', { title: 'x', incident_type: 'otro' }],
    ['POST', '/rules', { name: 'x', source: 'when amount > 1 then review' }],
    ['POST', '/simulation', { preset: 'low_risk' }],
  ]) {
    const r = await call(origin.base, method, `/api/v1${p}`, { bearer: vt, body });
    assert.equal(r.status, 403, `${method} ${p} as viewer: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'FORBIDDEN');
  }
  await vctx.close();
});

test('7. the Monitor lists the seeded transactions and the detail shows signal weights', async () => {
  await page.click('nav.nav a[data-nav=transactions]');
  await page.waitForSelector('table[data-table=transactions]');
  const all = await api('GET', '/transactions?limit=50');
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assert.ok(all.body.pagination.total >= seed.transactions.length, 'every seeded assessment is listed');
  assert.equal(Number(await page.getAttribute('table[data-table=transactions]', 'data-total')), all.body.pagination.total);
  const ids = await page.$$eval('table[data-table=transactions] tbody tr[data-id]', (r) => r.map((x) => x.dataset.id));
  assert.deepEqual(ids, all.body.data.map((t) => t.id), 'same rows, newest first');
  await shot('monitor');

  // Filter declined pay-ins with a score of at least 90 through the form.
  await page.selectOption('form.filters select[name=decision]', 'decline');
  await page.fill('form.filters input[name=min_score]', '90');
  await page.click('form.filters button[type=submit]');
  await page.waitForURL(/decision=decline/);
  await page.waitForSelector('table[data-table=transactions]');
  const declined = (await api('GET', '/transactions?decision=decline&min_score=90&limit=50')).body;
  assert.ok(declined.data.length >= 5, 'the automated checkouts were declined');
  const fids = await page.$$eval('table[data-table=transactions] tbody tr[data-id]', (r) => r.map((x) => x.dataset.id));
  assert.deepEqual(fids, declined.data.map((t) => t.id));

  const target = declined.data.find((t) => t.signals.includes('automation_detected')) || declined.data[0];
  await page.click(`table[data-table=transactions] tr[data-id="${target.id}"] a`);
  await page.waitForSelector('table[data-table=signals]');
  const detail = (await api('GET', `/transactions/${target.id}`)).body;
  const shown = await page.$$eval('table[data-table=signals] tbody tr', (rows) => rows.map((r) => ({ code: r.dataset.signal, weight: Number(r.cells[1].dataset.weight), description: r.cells[2].textContent })));
  assert.deepEqual(shown, detail.signal_details.map(({ code, weight, description }) => ({ code, weight, description })));
  assert.ok(shown.length >= 3 && shown.every((s) => s.weight !== 0));
  assert.deepEqual(JSON.parse(await page.textContent('pre.json')), detail.request, 'the request as received');
  await shot('monitor-detalle');

  // "Abrir expediente" creates a case and links this transaction to it.
  await page.click('button[data-action=open-case]');
  await page.click('form[data-form=case-from-tx] button[type=submit]');
  await page.waitForURL(/\/dashboard\/cases\/case_/);
  const caseId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  await page.waitForSelector(`table[data-table=case-transactions] tr[data-id="${target.id}"]`);
  const linked = (await api('GET', `/cases/${caseId}/transactions`)).body.data.map((t) => t.id);
  assert.deepEqual(linked, [target.id]);
});

test('7b. Monitor dates are days of the browser calendar: from = to = today lists today', async () => {
  const fresh = await assess({ email: 'hoy.e2e@example.com', device: { ip: '198.51.100.79' } });
  assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
  await go(page, '/dashboard/transactions', 'table[data-table=transactions]');
  // Today and the instants its local day starts and ends, as the browser counts them.
  const { day, from, to } = await page.evaluate(() => {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, '0');
    return {
      day: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
      from: new Date(d.getFullYear(), d.getMonth(), d.getDate()).toISOString(),
      to: new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).toISOString(),
    };
  });
  const expected = (await api('GET', `/transactions?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=50`)).body;
  assert.ok(expected.data.some((t) => t.id === fresh.body.transaction_id), 'the API lists the assessment just made under today');
  const all = (await api('GET', '/transactions?limit=500')).body.data;
  const todays = all.filter((t) => Date.parse(t.created_at) >= Date.parse(from) && Date.parse(t.created_at) < Date.parse(to));
  assert.equal(expected.pagination.total, todays.length, 'the API counts exactly the transactions of the local day');

  await page.fill('form.filters input[name=from]', day);
  await page.fill('form.filters input[name=to]', day);
  const requested = page.waitForRequest((r) => r.url().includes('/api/v1/transactions?') && new URL(r.url()).searchParams.has('from'));
  await page.click('form.filters button[type=submit]');
  const sent = new URL((await requested).url()).searchParams;
  assert.equal(sent.get('from'), from, '"Desde": the start of the local day');
  assert.equal(sent.get('to'), to, '"Hasta": the start of the next local day (the API\'s `to` is exclusive)');
  await page.waitForSelector(`table[data-table=transactions][data-total="${expected.pagination.total}"]`);
  const ids = await page.$$eval('table[data-table=transactions] tbody tr[data-id]', (r) => r.map((x) => x.dataset.id));
  assert.deepEqual(ids, expected.data.map((t) => t.id));
  assert.equal(ids[0], fresh.body.transaction_id, 'newest first');
  // The address keeps the days, so the view can be shared and comes back the same.
  const q = new URL(page.url()).searchParams;
  assert.deepEqual([q.get('from'), q.get('to')], [day, day]);
  assert.equal(await page.inputValue('form.filters input[name=to]'), day);
});

test('8. Equipo shows the invitation link once; Integraciones creates a key shown once', async () => {
  await page.click('nav.nav a[data-nav=team]');
  await page.fill('form[data-form=invite] input[name=email]', 'analista.e2e@example.com');
  await page.selectOption('form[data-form=invite] select[name=role]', 'analyst');
  await page.click('form[data-form=invite] button');
  await page.waitForSelector('[data-secret]');
  const link = norm(await page.textContent('[data-secret]'));
  assert.match(link, new RegExp(`^${origin.base.replace(/[.:/]/g, '\\$&')}/invite/[^/]+$`));
  const inv = (await api('GET', '/team/invites')).body.find((i) => i.email === 'analista.e2e@example.com');
  assert.equal(inv.role, 'analyst');
  assert.equal(await page.$$eval('table[data-table=members] tbody tr', (r) => r.length), (await api('GET', '/team/members')).body.length);
  await shot('equipo');

  await page.click('nav.nav a[data-nav=integrations]');
  await page.waitForSelector('form[data-form=api-key]');
  await page.selectOption('form[data-form=api-key] select[name=kind]', 'secret');
  await page.fill('form[data-form=api-key] input[name=name]', 'backend e2e');
  await page.click('form[data-form=api-key] button');
  await page.waitForSelector('[data-secret]');
  const key = norm(await page.textContent('[data-secret]'));
  assert.match(key, /^clm_sk_/);
  const created = (await api('GET', '/api-keys')).body.data.find((k) => k.name === 'backend e2e');
  assert.equal(created.status, 'active');
  const works = await call(origin.base, 'POST', '/api/v1/assess', { bearer: key, body: { amount: 1000, currency: 'MXN', email: 'clave.e2e@example.com' } });
  assert.equal(works.status, 200, 'the key shown once is the real key');
  await shot('integraciones');
});

test('9. shown again after a simulation, the Panel fetches its figures anew: real assessments count, simulations do not', async () => {
  const requests = [];
  const onRequest = (r) => {
    if (r.url().includes('/api/v1/dashboard/overview')) requests.push(r.url());
  };
  page.on('request', onRequest);
  try {
    await go(page, '/dashboard?range=24h', '.panel-body[data-loaded="24h"]');
    const before = await overview('24h');
    assert.equal(digits(await page.textContent('[data-kpi=evaluations] .kpi-value')), before.evaluations);

    await page.click('nav.nav a[data-nav=simulation]');
    await page.waitForSelector('button[data-preset=low_risk]:not([disabled])');
    const runs = (await api('GET', '/simulation/runs?limit=1')).body.pagination.total;
    await page.click('button[data-preset=low_risk]');
    await page.waitForSelector('[data-area=sim-result] [data-label=simulated]');
    assert.equal((await api('GET', '/simulation/runs?limit=1')).body.pagination.total, runs + 1, 'the run is recorded as a simulation');
    // A real assessment while the Panel is not shown.
    const real = await assess({ amount: 2300, email: 'panel.e2e@example.com', device: { ip: '198.51.100.82' } });
    assert.equal(real.status, 200, JSON.stringify(real.body));

    const asked = requests.length;
    await page.click('nav.nav a[data-nav=dashboard]');
    await page.waitForSelector('.panel-body[data-loaded="24h"]');
    assert.equal(requests.length, asked + 1, 'shown again, the Panel asked for the overview again');
    const now = await overview('24h');
    assert.equal(now.evaluations, before.evaluations + 1, 'the real assessment counts, the simulation does not');
    assert.equal(digits(await page.textContent('[data-kpi=evaluations] .kpi-value')), now.evaluations);
    const withRuns = await overview('24h', '&include_simulated=true');
    assert.ok(withRuns.evaluations > now.evaluations, 'simulations count only when asked for');
  } finally {
    page.off('request', onRequest);
  }
});

test('9b. a simulation run in another tab reloads a Panel left open', async () => {
  await go(page, '/dashboard?range=24h', '.panel-body[data-loaded="24h"]');
  const other = await openPage(context); // same browser context: a second tab of the same user
  try {
    await go(other, '/dashboard/login', 'form.login');
    await signIn(other, origin.adminEmail, origin.adminPassword);
    await other.waitForSelector('[data-kpi=evaluations]');
    await other.click('nav.nav a[data-nav=simulation]');
    await other.waitForSelector('button[data-preset=suspicious_device]:not([disabled])');
    const reloaded = page.waitForRequest((r) => r.url().includes('/api/v1/dashboard/overview'));
    await other.click('button[data-preset=suspicious_device]');
    await other.waitForSelector('[data-area=sim-result] [data-label=simulated]');
    await reloaded;
    await page.waitForSelector('.panel-body[data-loaded="24h"][aria-busy="false"]');
    assert.equal(digits(await page.textContent('[data-kpi=evaluations] .kpi-value')), (await overview('24h')).evaluations);
  } finally {
    await other.close();
  }
});

test('10. Reglas: a rule saved in the UI applies to the next assess, stops when disabled, and is deleted', async () => {
  const name = 'dominio_e2e';
  const source = 'when email.domain in ["regla.e2e.example"] then add 10 as dominio_e2e';
  let n = 0;
  const fires = async () => {
    const r = await assess({ email: `cliente${++n}@regla.e2e.example`, device: { ip: '198.51.100.83' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.signals.includes('dominio_e2e');
  };
  const stored = async () => (await api('GET', '/rules')).body.data.find((r) => r.name === name);
  assert.equal(await fires(), false, 'no such rule yet');

  await go(page, '/dashboard/protection/rules', 'table[data-table=rules]');
  await page.click('button[data-action=new-rule]');
  const f = 'form[data-form=rule]';
  await page.fill(`${f} input[name=name]`, name);
  await page.fill(`${f} input[name=priority]`, '500');
  await page.fill(`${f} textarea[name=source]`, source);
  await page.waitForSelector('.rule-check.ok');
  await page.click(`${f} button[type=submit]`);
  const row = `table[data-table=rules] tr[data-name="${name}"]`;
  await page.waitForSelector(`${row}[data-enabled=true]`);
  const saved = await stored();
  assert.deepEqual([saved.source, saved.priority, saved.enabled], [source, 500, true]);
  assert.equal(await fires(), true, 'the saved rule applies to the next assess');

  await page.click(`${row} button[data-action=toggle]`);
  await page.waitForSelector(`${row}[data-enabled=false]`);
  assert.equal((await stored()).enabled, false);
  assert.equal(await fires(), false, 'a disabled rule is not evaluated');

  await page.click(`${row} button[data-action=toggle]`);
  await page.waitForSelector(`${row}[data-enabled=true]`);
  assert.equal((await stored()).enabled, true);
  assert.equal(await fires(), true, 'enabled again, it applies again');

  await page.click(`${row} button[data-action=delete]`);
  await page.waitForSelector(row, { state: 'detached' });
  assert.equal(await stored(), undefined, 'deleted');
  assert.equal(await fires(), false, 'a deleted rule no longer applies');
});

test('11. Reglas: a signal weight and the decision thresholds saved in the UI are what the API reads back', async () => {
  const original = (await api('GET', '/settings/scoring')).body;
  const sig = original.signals[0];
  const weight = sig.weight === 7 ? 8 : 7;
  const t0 = original.thresholds;
  const thresholds = { review: t0.review + 5, challenge: t0.challenge + 5, decline: Math.min(100, t0.decline + 5) };
  assert.ok(thresholds.review < thresholds.challenge && thresholds.challenge < thresholds.decline, JSON.stringify(thresholds));
  const f = 'form[data-form=scoring]';
  try {
    await go(page, '/dashboard/protection/rules', f);
    await page.fill(`${f} input[name="w_${sig.code}"]`, String(weight));
    for (const [k, v] of Object.entries(thresholds)) await page.fill(`${f} input[name=${k}]`, String(v));
    await page.click(`${f} button[type=submit]`);
    await page.waitForSelector(`${f} .status.ok`);
    assert.equal(norm(await page.textContent(`${f} .status.ok`)), es['scoring.saved']);
    const now = (await api('GET', '/settings/scoring')).body;
    assert.deepEqual(now.thresholds, thresholds);
    assert.equal(now.weights[sig.code], weight);
    assert.equal(now.signals.find((x) => x.code === sig.code).weight, weight);
    // A fresh load of the screen reads them back.
    await go(page, '/dashboard/protection/rules', f);
    assert.equal(await page.inputValue(`${f} input[name="w_${sig.code}"]`), String(weight));
    for (const [k, v] of Object.entries(thresholds)) assert.equal(await page.inputValue(`${f} input[name=${k}]`), String(v));
  } finally {
    const restored = await api('PUT', '/settings/scoring', { body: { weights: original.weights, thresholds: original.thresholds } });
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
  }
});

test('12. Simulación: a custom payout run is labelled Simulado and is the recorded run', async () => {
  const transactions = (await api('GET', '/transactions?limit=1')).body.pagination.total;
  await go(page, '/dashboard/simulation', 'form[data-form=simulate]');
  const f = 'form[data-form=simulate]';
  await page.selectOption(`${f} select[name=flow]`, 'payout');
  await page.fill(`${f} input[name=amount]`, '12500.50');
  await page.fill(`${f} input[name=currency]`, 'MXN');
  await page.fill(`${f} input[name=beneficiary_name]`, 'Beneficiaria Simulada');
  await page.fill(`${f} input[name=clabe]`, '032180000118359719');
  await page.fill(`${f} input[name=country]`, 'mx');
  await page.selectOption(`${f} select[name=channel]`, 'spei');
  await page.fill(`${f} input[name=initiated_by]`, 'ops@demo.mx');
  await page.check(`${f} input[name=first_to_beneficiary]`);
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/simulation/payout') && r.request().method() === 'POST');
  await page.click(`${f} button[type=submit]`);
  const res = await answered;
  assert.equal(res.status(), 200, await res.text());
  assert.deepEqual(res.request().postDataJSON(), {
    transaction: {
      amount: 12500.5, amount_unit: 'major', currency: 'MXN',
      beneficiary: { name: 'Beneficiaria Simulada', clabe: '032180000118359719', country: 'MX' },
      payout: { channel: 'spei', first_to_beneficiary: true, initiated_by: 'ops@demo.mx' },
    },
  });
  await page.waitForSelector('[data-area=sim-result] [data-label=simulated]');
  assert.equal(norm(await page.textContent('[data-area=sim-result] [data-label=simulated]')), 'Simulado');
  const run = (await api('GET', '/simulation/runs?limit=1')).body.data[0];
  assert.equal(run.simulated, true);
  assert.ok(!run.preset, 'a custom run has no preset');
  assert.equal(run.result.flow, 'payout');
  assert.equal(await page.getAttribute('[data-area=sim-result] [data-simulated]', 'data-id'), run.id);
  assert.equal(await page.getAttribute('[data-area=sim-result] [data-decision]', 'data-decision'), run.result.decision);
  assert.equal(digits(await page.textContent('[data-area=sim-result] [data-kpi=score] .kpi-value')), run.result.risk_score);
  const codes = await page.$$eval('table[data-table=sim-signals] tbody tr', (rows) => rows.map((r) => r.dataset.signal));
  assert.deepEqual(codes, run.result.signal_details.map((x) => x.code));
  await page.waitForSelector(`table[data-table=runs] tr[data-id="${run.id}"]`);
  assert.equal((await api('GET', '/transactions?limit=1')).body.pagination.total, transactions, 'no transaction was recorded');
  await shot('simulacion-pago');
});

test('13. Integraciones: a key revoked in the UI is refused by the API at once (401)', async () => {
  const created = await api('POST', '/api-keys', { body: { kind: 'secret', name: 'revocar e2e' } });
  assert.ok(created.status < 300, JSON.stringify(created.body));
  const { key } = created.body;
  const { id } = created.body.api_key;
  const body = { amount: 1000, currency: 'MXN', email: 'revocada.e2e@example.com' };
  assert.equal((await call(origin.base, 'POST', '/api/v1/assess', { bearer: key, body })).status, 200, 'the key works before');

  const row = `table[data-table=api-keys] tr[data-id="${id}"]`;
  await go(page, '/dashboard/integrations', `${row}[data-status=active]`);
  await page.click(`${row} button[data-action=revoke]`);
  await page.waitForSelector(`${row}[data-status=revoked]`);
  assert.equal(await page.$$eval(`${row} button[data-action=revoke]`, (b) => b.length), 0, 'nothing left to revoke');
  const listed = (await api('GET', '/api-keys')).body.data.find((k) => k.id === id);
  assert.equal(listed.status, 'revoked');
  assert.ok(listed.revoked_at, 'revoked_at stamped');
  const refused = await call(origin.base, 'POST', '/api/v1/assess', { bearer: key, body });
  assert.equal(refused.status, 401, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, 'UNAUTHORIZED');
});

test('14. Integraciones: an ingestion rule is created and deleted in the UI', async () => {
  const name = 'disputas e2e';
  await go(page, '/dashboard/integrations', 'table[data-table=ingestion-rules]');
  await page.click('section:has(form[data-form=ingestion-rule]) details > summary');
  const f = 'form[data-form=ingestion-rule]';
  await page.fill(`${f} input[name=name]`, name);
  await page.fill(`${f} input[name=event_type]`, 'charge.dispute.created');
  await page.fill(`${f} input[name=amount_gte]`, '50000');
  await page.selectOption(`${f} select[name=rule_action]`, 'create_expediente');
  await page.fill(`${f} input[name=priority]`, '20');
  await page.click(`${f} button[type=submit]`);
  const row = `table[data-table=ingestion-rules] tr[data-name="${name}"]`;
  await page.waitForSelector(row);
  const rule = (await api('GET', '/ingestion-rules')).body.data.find((r) => r.name === name);
  assert.ok(rule, 'stored');
  assert.equal(await page.getAttribute(row, 'data-id'), rule.id);
  assert.deepEqual([rule.action, rule.priority, rule.enabled], ['create_expediente', 20, true]);
  assert.equal(rule.conditions.event_type, 'charge.dispute.created');
  assert.equal(rule.conditions.amount_gte, 50000);
  assert.equal(rule.conditions.amount_lte ?? null, null);

  await page.click(`${row} button[data-action=delete]`);
  await page.waitForSelector(row, { state: 'detached' });
  assert.equal((await api('GET', '/ingestion-rules')).body.data.some((r) => r.id === rule.id), false, 'deleted');
});

test('15. Protección: an admin deletes a blocklist entry; the next assess is no longer blocked by it', async () => {
  const email = 'borrar.e2e@example.com';
  const added = await api('POST', '/blocklists', { body: { list_type: 'email', value: email, severity: 'block', reason: 'para borrar' } });
  assert.ok(added.status < 300, JSON.stringify(added.body));
  const blocked = await assess({ email, device: { ip: '198.51.100.84' } });
  assert.equal(blocked.body.decision, 'decline', JSON.stringify(blocked.body));

  await go(page, '/dashboard/protection', 'table[data-table=blocklists]');
  await page.fill('form.filters input[name=search]', email);
  await page.click('form.filters button[type=submit]');
  const row = `table[data-table=blocklists] tr[data-value="${email}"]`;
  await page.waitForSelector(row);
  await page.click(`${row} button[data-action=delete]`);
  await page.waitForSelector(row, { state: 'detached' });
  assert.equal(norm(await page.textContent('section:has(table[data-table=blocklists]) > .status.ok')), msg('bl.deleted', { value: email }));
  assert.equal((await api('GET', `/blocklists?search=${encodeURIComponent(email)}`)).body.data.length, 0, 'gone from the API');
  const after = await assess({ email, device: { ip: '198.51.100.84' } });
  assert.equal(after.status, 200);
  assert.ok(!after.body.signals.includes('blocklist_email'), after.body.signals.join());
  assert.ok(!after.body.blocked_by, `not blocked: ${after.body.blocked_by}`);
});
