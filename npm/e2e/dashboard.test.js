// The operator dashboard in headless Chromium against a real origin seeded
// through the API. Every check compares what the page shows with what the
// API answers for the same question (same range, same time zone, same
// role), so a wrong figure, a missing request or a leaked button fails.
// Screenshots of each screen go to target/dashboard-screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, root } from './harness.js';
import { call, seedDashboard, startDashboardOrigin } from './dashboard-seed.js';

const TZ = 'America/Mexico_City';
const SHOTS = path.join(root, 'target/dashboard-screenshots');
const VIEWPORT = { width: 1366, height: 900 };
let origin, seed, browser, context, page;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  origin = await startDashboardOrigin();
  seed = await seedDashboard(origin);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  context = await browser.newContext({ timezoneId: TZ, locale: 'es-MX', viewport: VIEWPORT });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('dialog', (d) => d.accept()); // confirm() before deletions
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

  // A wrong password: the API's own message is shown in an alert.
  const wrong = await call(origin.base, 'POST', '/api/v1/auth/login', { body: { email: origin.adminEmail, password: 'not-the-password' } });
  assert.equal(wrong.status, 401);
  await signIn(page, origin.adminEmail, 'not-the-password');
  await page.waitForSelector('.status.error');
  assert.equal(norm(await page.textContent('.status.error')), wrong.body.error.message);

  await signIn(page, origin.adminEmail, origin.adminPassword);
  await page.waitForSelector('[data-kpi=evaluations]');
  assert.equal(new URL(page.url()).pathname, '/dashboard');
  assert.match(await page.textContent('.top .user'), new RegExp(`${origin.adminEmail.replace(/[.+]/g, '\\$&')} · Administrador`));
  assert.ok(await page.evaluate(() => sessionStorage.getItem('clausum.token')), 'token kept in sessionStorage');

  // An expired token: any 401 returns to sign-in, then back to where the user was.
  await page.evaluate(() => sessionStorage.setItem('clausum.token', 'expired.token.value'));
  await go(page, '/dashboard/cases?status=borrador');
  await page.waitForURL('**/dashboard/login');
  await page.waitForSelector('.status');
  assert.match(await page.textContent('.status'), /sesión expiró/);
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

test('3. a blocklist entry added in the UI declines the next assess with that email', async () => {
  const email = 'bloqueado.e2e@example.com';
  const before = await call(origin.base, 'POST', '/api/v1/assess', { bearer: origin.keys.secret, body: { amount: 1500, currency: 'MXN', email: 'otro.e2e@example.com', device: { ip: '198.51.100.77' } } });
  assert.equal(before.body.decision, 'approve', 'a clean payer is approved');

  await page.click('nav.nav a[data-nav=protection]');
  await page.waitForSelector('form[data-form=add-blocklist]');
  const form = 'form[data-form=add-blocklist]';
  await page.selectOption(`${form} select[name=list_type]`, 'email');
  await page.fill(`${form} input[name=value]`, email);
  await page.selectOption(`${form} select[name=severity]`, 'block');
  await page.fill(`${form} input[name=reason]`, 'Prueba e2e');
  await page.click(`${form} button[type=submit]`);
  await page.waitForSelector(`table[data-table=blocklists] tr[data-value="${email}"]`);

  const listed = (await api('GET', `/blocklists?search=${encodeURIComponent(email)}`)).body.data;
  assert.equal(listed.length, 1);
  assert.equal(listed[0].list_type, 'email');
  assert.equal(listed[0].severity, 'block');
  assert.equal(listed[0].reason, 'Prueba e2e');

  const r = await call(origin.base, 'POST', '/api/v1/assess', { bearer: origin.keys.secret, body: { amount: 1500, currency: 'MXN', email, device: { ip: '198.51.100.77' } } });
  assert.equal(r.status, 200);
  assert.equal(r.body.decision, 'decline', JSON.stringify(r.body));
  assert.ok(r.body.signals.includes('blocklist_email'), r.body.signals.join());

  // Bulk import: the per-row report names the rejected line.
  const imp = 'form[data-form=import-blocklist]';
  await page.fill(`${imp} textarea[name=body]`, 'list_type,value\nemail,lote1.e2e@example.com\nnot_a_type,whatever\nip_address,203.0.113.250\n');
  await page.click(`${imp} button[type=submit]`);
  await page.waitForSelector('table[data-table=import-report] tbody tr');
  const rejected = await page.$$eval('table[data-table=import-report] tbody tr', (rows) => rows.map((r) => r.cells[0].textContent));
  assert.deepEqual(rejected, ['3']);
  assert.match(await page.textContent(`${imp} .status`), /4 filas: 2 importadas, 0 duplicadas, 1 rechazadas|3 filas: 2 importadas, 0 duplicadas, 1 rechazadas/);
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
  const v = await vctx.newPage();
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
