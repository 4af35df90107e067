// Accessibility, keyboard use, the English interface and webhooks through
// the UI, in headless Chromium against a real origin seeded through the API
// (the same seed as dashboard.test.js, on an origin of its own that runs the
// webhook worker and accepts loopback http endpoints).
//
// The accessibility audit runs in the page: accessible names of controls
// (label, aria-label, aria-labelledby, button text), one h1 per screen, a
// title on the chart, and WCAG AA contrast of every visible text element
// from its computed colour and the backgrounds behind it.
// The layout at 1280×720 and 1024×768: no screen scrolls sideways, and
// the navigation stays usable.
// Screenshots go to target/dashboard-screenshots/a11y-*.png (failed-a11y-*
// when a test fails).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, root } from './harness.js';
import { call, seedDashboard, startDashboardOrigin } from './dashboard-seed.js';
import { prepareScreenshots, screenshotFailures } from './screenshots.js';
import { verifyWebhook } from '../src/webhook.js';
import es from '../../origin/dashboard/assets/messages-es.js';
import en from '../../origin/dashboard/assets/messages-en.js';

const TZ = 'America/Mexico_City';
const SHOTS = prepareScreenshots();
const VIEWPORT = { width: 1366, height: 900 };
let origin, seed, browser, receiver;
let caseId;
const pages = new Set(); // every page opened, for the screenshots of a failure
screenshotFailures('a11y-', () => pages);

/** A webhook receiver on loopback that keeps every request (headers and raw body). */
function startReceiver() {
  const requests = [];
  const waiters = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    requests.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
    for (const w of waiters.splice(0)) w();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    resolve({
      url: `http://127.0.0.1:${port}/hooks/clausum`,
      requests,
      /** Waits until `pred(requests)` holds (or times out). */
      async until(pred, what, ms = 15_000) {
        const end = Date.now() + ms;
        while (!pred(requests)) {
          if (Date.now() > end) throw new Error(`receiver: timed out waiting for ${what}; got ${requests.length} request(s)`);
          await new Promise((r) => {
            waiters.push(r);
            setTimeout(r, 200);
          });
        }
      },
      stop: () => new Promise((r) => server.close(r)),
    });
  }));
}

before(async () => {
  origin = await startDashboardOrigin({
    env: { CLAUSUM_WEBHOOK_WORKER: 'true', CLAUSUM_WEBHOOKS_ALLOW_HTTP_LOOPBACK: 'true', CLAUSUM_WEBHOOK_RETRY_SCALE: '0.01' },
  });
  seed = await seedDashboard(origin);
  // A case for the case page (the seed opens none).
  const c = await call(origin.base, 'POST', '/api/v1/cases', {
    bearer: seed.adminToken,
    body: { title: 'Phishing a cliente (a11y)', incident_type: 'phishing', priority: 'alta', amount: 125_000, currency: 'MXN', description: 'Caso para la revisión de accesibilidad' },
  });
  assert.equal(c.status < 300, true, JSON.stringify(c.body));
  caseId = c.body.id;
  await call(origin.base, 'POST', `/api/v1/cases/${encodeURIComponent(caseId)}/transactions`, { bearer: seed.adminToken, body: { transaction_id: seed.fraudTransactionId } });
  receiver = await startReceiver();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await receiver?.stop();
  await origin?.stop();
});

async function newPage(locale = 'es-MX', viewport = VIEWPORT) {
  // Reduced motion: no colour transitions, so a hover state is final at once.
  const context = await browser.newContext({ timezoneId: TZ, locale, viewport, reducedMotion: 'reduce' });
  const page = await context.newPage();
  pages.add(page);
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('dialog', (d) => d.accept());
  return { context, page };
}

const shot = (p, name) => p.screenshot({ path: path.join(SHOTS, `a11y-${name}.png`), fullPage: true });
const norm = (s) => s.replace(/\s+/g, ' ').trim();

async function signIn(p) {
  await p.goto(`${origin.base}/dashboard/login`);
  await p.waitForSelector('form.login');
  await p.fill('input[name=email]', origin.adminEmail);
  await p.fill('input[name=password]', origin.adminPassword);
  await p.click('form.login button[type=submit]');
  await p.waitForSelector('[data-kpi=evaluations]');
}

// ---------------------------------------------------------------------------
// The in-page audit. Runs in the browser: no library, only the DOM and
// computed styles, so what it reports is what a user of this page gets.
function audit(scope) {
  const inScope = (el) => !scope || scope.contains(el);
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  /** A short, recognisable description of an element for messages. */
  const describe = (el) => {
    const parts = [];
    for (let n = el, depth = 0; n && n !== document.body && depth < 6; n = n.parentElement, depth++) {
      let s = n.tagName.toLowerCase();
      if (n.id && !/^f-\d+$/.test(n.id)) s += `#${n.id}`;
      for (const a of ['name', 'type', 'data-form', 'data-table', 'data-action', 'data-kpi', 'data-endpoint']) {
        if (n.hasAttribute(a) && !(a === 'type' && depth > 0)) s += `[${a}=${n.getAttribute(a)}]`;
      }
      if (n.classList.length) s += `.${[...n.classList].join('.')}`;
      parts.unshift(s);
      if (n.dataset.form || n.dataset.table || n.id === 'main') break;
    }
    return parts.join(' > ');
  };
  const isVisible = (el) => {
    if (!el.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true })) return false;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false; // .sr-only and the like
    if (r.right < 0) return false; // parked off-screen (the skip link until focused)
    return true;
  };
  const textOf = (node) => {
    // Text as exposed: skips aria-hidden parts and the control a label wraps.
    let out = '';
    for (const c of node.childNodes) {
      if (c.nodeType === Node.TEXT_NODE) out += c.textContent;
      else if (c.nodeType === Node.ELEMENT_NODE) {
        if (c.getAttribute('aria-hidden') === 'true' || ['INPUT', 'SELECT', 'TEXTAREA'].includes(c.tagName)) continue;
        out += ` ${textOf(c)} `;
      }
    }
    return norm(out);
  };
  const accessibleName = (el) => {
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      const s = norm(by.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean).map((n) => n.textContent).join(' '));
      if (s) return s;
    }
    const al = norm(el.getAttribute('aria-label'));
    if (al) return al;
    if (el.labels && el.labels.length) {
      const s = norm([...el.labels].map(textOf).join(' '));
      if (s) return s;
    }
    if (el.tagName === 'BUTTON') {
      const s = textOf(el);
      if (s) return s;
    }
    if (el.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(el.type)) return norm(el.value);
    return norm(el.getAttribute('title'));
  };

  const unnamed = [];
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (el.type === 'hidden' || !isVisible(el)) continue;
    if (!accessibleName(el)) unnamed.push(describe(el));
  }

  const h1 = [...document.querySelectorAll('h1')].map((x) => norm(x.textContent));

  const charts = [...document.querySelectorAll('svg.chart')].map((svg) => {
    const title = svg.querySelector(':scope > title');
    const by = (svg.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
    return { title: title ? norm(title.textContent) : '', labelledByTitle: Boolean(title && by.includes(title.id)), role: svg.getAttribute('role') };
  });

  // Colours: rgb()/rgba() as computed (the stylesheet uses hex and rgba only).
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c || '');
    if (!m) return null;
    const v = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  };
  const over = (fg, bg) => {
    const a = fg[3];
    return [fg[0] * a + bg[0] * (1 - a), fg[1] * a + bg[1] * (1 - a), fg[2] * a + bg[2] * (1 - a), 1];
  };
  const lum = ([r, g, b]) => {
    const f = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  /** The background behind `el`: its own and its ancestors' colours, composited. */
  const backgroundOf = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    let bg = [255, 255, 255, 1]; // the canvas
    for (const l of layers.reverse()) bg = over(l, bg);
    return bg;
  };
  const opacityOf = (el) => {
    let o = 1;
    for (let n = el; n; n = n.parentElement) o *= Number(getComputedStyle(n).opacity);
    return o;
  };
  const hex = (c) => `#${c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;

  const contrast = [];
  let checked = 0;
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'OPTION', 'OPTGROUP', 'TITLE', 'DESC', 'TEMPLATE']);
  const candidates = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (SKIP.has(el.tagName)) continue;
    const own = [...el.childNodes].some((c) => c.nodeType === Node.TEXT_NODE && c.textContent.trim());
    const field = (el.tagName === 'INPUT' && !['checkbox', 'radio', 'file', 'hidden', 'range', 'color'].includes(el.type) && el.value)
      || el.tagName === 'SELECT' || (el.tagName === 'TEXTAREA' && el.value);
    if ((own || field) && inScope(el)) candidates.push(el);
  }
  const report = (el, text, fgRaw, bg, cs, opacity = 1) => {
    const fg = over([...fgRaw.slice(0, 3), fgRaw[3] * opacity], bg);
    const size = parseFloat(cs.fontSize);
    const weight = Number(cs.fontWeight) || (cs.fontWeight === 'bold' ? 700 : 400);
    const large = size >= 24 || (size >= 18.66 && weight >= 700);
    const need = large ? 3 : 4.5;
    const r = ratio(fg, bg);
    checked++;
    if (r + 0.005 < need) {
      contrast.push(`${describe(el)} "${norm(text).slice(0, 40)}": ${r.toFixed(2)}:1 < ${need}:1 (${hex(fg)} on ${hex(bg)}, ${size}px/${weight})`);
    }
  };
  // Placeholders are text too (the UA's grey, or the stylesheet's).
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (!inScope(el) || el.value || !el.placeholder.trim() || !isVisible(el) || el.closest(':disabled')) continue;
    const ph = getComputedStyle(el, '::placeholder');
    const fg = parse(ph.color);
    if (fg) report(el, `placeholder: ${el.placeholder}`, fg, backgroundOf(el), ph, opacityOf(el));
  }
  for (const el of candidates) {
    if (!isVisible(el)) continue;
    // WCAG 1.4.3 exempts inactive controls.
    if (el.closest(':disabled, [aria-disabled="true"]')) continue;
    const cs = getComputedStyle(el);
    const isSvg = el instanceof SVGElement;
    const fgRaw = parse(isSvg ? cs.fill : cs.color);
    if (!fgRaw) continue;
    const text = el.tagName === 'SELECT' ? el.selectedOptions[0]?.textContent
      : ['INPUT', 'TEXTAREA'].includes(el.tagName) ? el.value : textOf(el);
    report(el, text, fgRaw, backgroundOf(el), cs, opacityOf(el));
  }
  return { unnamed, h1, charts, contrast, checked };
}

/** Audits the current page and asserts; `what` names the screen. */
async function check(p, what, { chart = false } = {}) {
  await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const a = await p.evaluate(audit);
  assert.deepEqual(a.unnamed, [], `${what}: controls without an accessible name:\n  ${a.unnamed.join('\n  ')}`);
  assert.equal(a.h1.length, 1, `${what}: exactly one h1, found ${a.h1.length}: ${JSON.stringify(a.h1)}`);
  assert.ok(a.h1[0], `${what}: the h1 is empty`);
  if (chart) {
    assert.equal(a.charts.length, 1, `${what}: the trend chart`);
    assert.ok(a.charts[0].title, `${what}: the chart svg has a <title>`);
    assert.ok(a.charts[0].labelledByTitle, `${what}: the chart is labelled by its title`);
    assert.equal(a.charts[0].role, 'img');
  }
  assert.ok(a.checked >= 3, `${what}: text elements were checked (${a.checked})`);
  assert.deepEqual(a.contrast, [], `${what}: text below WCAG AA contrast:\n  ${a.contrast.join('\n  ')}`);
  if (process.env.A11Y_VERBOSE) console.log(`${what}: ${a.checked} text elements`);
  return a;
}

/**
 * Hovers each control matched by `selector` (links, buttons, summaries) and
 * checks the contrast of its text in the hover state.
 */
async function checkHover(p, what, selector = 'header a, header button, nav a, main button, main summary') {
  const problems = [];
  let n = 0;
  for (const el of await p.$$(selector)) {
    const ok = await el.evaluate((e) => e.checkVisibility() && !e.disabled && e.getBoundingClientRect().width > 1);
    if (!ok) continue;
    await el.hover();
    problems.push(...(await p.evaluate(audit, el)).contrast.map((c) => `(hover) ${c}`));
    n++;
  }
  await p.mouse.move(0, 0);
  assert.ok(n > 0, `${what}: something to hover`);
  assert.deepEqual(problems, [], `${what}: text below WCAG AA contrast on hover:\n  ${problems.join('\n  ')}`);
}

/** Opens every <details> so the forms folded inside are audited too. */
const openDetails = (p) => p.$$eval('details', (ds) => ds.forEach((d) => { d.open = true; }));

test('1. every screen: named controls, one h1, a titled chart, AA contrast', async () => {
  const { context, page } = await newPage();
  const go = async (url, ready) => {
    await page.goto(`${origin.base}${url}`);
    await page.waitForSelector(ready);
  };

  await go('/dashboard/login', 'form.login');
  await check(page, 'sign-in');
  // The error state of sign-in has its own colours.
  await page.fill('input[name=email]', origin.adminEmail);
  await page.fill('input[name=password]', 'not-the-password');
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('.status.error');
  await check(page, 'sign-in (error)');
  await shot(page, 'sign-in');
  await signIn(page);

  await go('/dashboard?range=7d', '.panel-body[data-loaded="7d"]');
  await openDetails(page);
  await check(page, 'Panel', { chart: true });
  await checkHover(page, 'Panel');
  await shot(page, 'panel');

  await go('/dashboard/protection', 'table[data-table=blocklists]');
  await openDetails(page);
  await check(page, 'Protección');
  await checkHover(page, 'Protección', 'main button, main summary');
  await shot(page, 'proteccion');

  await go('/dashboard/protection/rules', 'table[data-table=weights]');
  await page.click('button[data-action=new-rule]');
  await page.fill('form[data-form=rule] textarea[name=source]', 'when amount >');
  await page.waitForSelector('.rule-check.error');
  await check(page, 'Reglas (invalid rule)');
  await page.fill('form[data-form=rule] input[name=name]', 'montos_a11y');
  await page.fill('form[data-form=rule] textarea[name=source]', 'when amount > 300000 then decline as montos_a11y');
  await page.waitForSelector('.rule-check.ok');
  await page.click('button[data-action=preview]');
  await page.waitForSelector('[data-backtest]');
  await check(page, 'Reglas');
  await checkHover(page, 'Reglas', 'main form[data-form=rule] button, [data-backtest] a');
  await shot(page, 'reglas');

  await go('/dashboard/transactions', 'table[data-table=transactions]');
  await check(page, 'Monitor');
  await shot(page, 'monitor');
  const txId = await page.getAttribute('table[data-table=transactions] tbody tr[data-id]', 'data-id');
  await go(`/dashboard/transactions/${txId}`, 'table[data-table=signals]');
  await page.click('button[data-action=open-case]');
  await page.waitForSelector('form[data-form=case-from-tx]');
  await check(page, 'transaction detail');
  await shot(page, 'transaccion');

  await go('/dashboard/simulation', 'table[data-table=runs]');
  await page.click('button[data-preset]');
  await page.waitForSelector('[data-area=sim-result] [data-label=simulated]');
  await check(page, 'Simulación (pay-in)');
  await page.selectOption('form[data-form=simulate] select[name=flow]', 'payout');
  await check(page, 'Simulación (payout form)');
  await shot(page, 'simulacion');

  await go('/dashboard/cases', 'table[data-table=cases]');
  await page.click('button[data-action=new-case]');
  await page.waitForSelector('form[data-form=new-case]');
  await check(page, 'Expedientes');
  await shot(page, 'expedientes');
  await go(`/dashboard/cases/${encodeURIComponent(caseId)}`, 'table[data-table=evidence]');
  await check(page, 'case page');
  await checkHover(page, 'case page', 'main button, main a');
  await shot(page, 'expediente');

  await go('/dashboard/team', 'table[data-table=members]');
  await page.fill('form[data-form=invite] input[name=email]', 'a11y.invitado@example.com');
  await page.click('form[data-form=invite] button');
  await page.waitForSelector('[data-secret]');
  await check(page, 'Equipo');
  await shot(page, 'equipo');
  // The invitation page the link opens (public), in a context of its own.
  const link = norm(await page.textContent('[data-secret]'));
  const invitee = await newPage();
  await invitee.page.goto(link);
  await invitee.page.waitForSelector('form.login input[name=confirm]');
  await check(invitee.page, 'invitation');
  await shot(invitee.page, 'invitacion');
  await invitee.context.close();

  await go('/dashboard/integrations', 'table[data-table=ingestion-rules]');
  await openDetails(page);
  await check(page, 'Integraciones');
  await checkHover(page, 'Integraciones');
  await shot(page, 'integraciones');

  await go('/dashboard/no-such-screen', 'main h1');
  await check(page, 'page not found');
  await context.close();
});

/** The focused element and whether its focus is visible (outline or shadow). */
const focusInfo = (p) => p.evaluate(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return { tag: 'body', visible: false };
  const cs = getComputedStyle(el);
  const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
  // An outer shadow: the inset bar of the current navigation link is not a focus ring.
  const shadow = cs.boxShadow !== 'none' && cs.boxShadow.split(/,(?![^(]*\))/).some((x) => !/inset/.test(x));
  return {
    tag: el.tagName.toLowerCase(), name: el.getAttribute('name'), nav: el.dataset.nav || null, text: (el.textContent || '').trim().slice(0, 40),
    href: el.getAttribute('href'), visible: Boolean(outline || shadow),
    style: `outline: ${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}; box-shadow: ${cs.boxShadow}`,
  };
});

/** Presses Tab (or Shift+Tab) until `pred(focus)` holds, checking each stop shows its focus. */
async function tabTo(p, pred, what, max = 60, { back = false } = {}) {
  for (let i = 0; i < max; i++) {
    await p.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focusInfo(p);
    assert.ok(f.visible, `focus is not visible on ${JSON.stringify(f)}`);
    if (pred(f)) return f;
  }
  throw new Error(`${what}: not reached with ${max} Tab presses`);
}

test('2. keyboard only: sign in, reach the Monitor and open a transaction', async () => {
  const { context, page } = await newPage();
  await page.goto(`${origin.base}/dashboard`);
  await page.waitForSelector('form.login');
  // The email field has the focus; the only stop before it is the skip link.
  assert.equal((await focusInfo(page)).name, 'email', 'sign-in starts in the email field');
  const skip = await tabTo(page, () => true, 'the skip link', 1, { back: true });
  assert.equal(skip.href, '#main', 'the skip link comes first');
  assert.ok(await page.$eval('.skip', (a) => a.getBoundingClientRect().left >= 0), 'the skip link shows when focused');
  await tabTo(page, (f) => f.name === 'email', 'the email field', 1);
  await page.keyboard.type(origin.adminEmail);
  await page.keyboard.press('Tab');
  assert.equal((await focusInfo(page)).name, 'password');
  await page.keyboard.type(origin.adminPassword);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-kpi=evaluations]');
  assert.equal(new URL(page.url()).pathname, '/dashboard');

  // After signing in the focus is on the page's main area: back up into the navigation.
  await page.waitForFunction(() => document.activeElement?.id === 'main', null, { timeout: 5000 }).catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main', 'focus moves to the Panel');
  await tabTo(page, (f) => f.nav === 'transactions', 'the Monitor link', 10, { back: true });
  await shot(page, 'keyboard-nav');
  await page.keyboard.press('Enter');
  await page.waitForSelector('table[data-table=transactions] tbody tr[data-id]');
  assert.equal(new URL(page.url()).pathname, '/dashboard/transactions');
  await page.waitForFunction(() => document.activeElement?.id === 'main', null, { timeout: 5000 }).catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main', 'focus moves to the new page');
  assert.equal(await page.getAttribute('nav.nav a[data-nav=transactions]', 'aria-current'), 'page');

  const first = await page.getAttribute('table[data-table=transactions] tbody tr[data-id]', 'data-id');
  const link = await tabTo(page, (f) => f.tag === 'a' && (f.href || '').startsWith('/dashboard/transactions/'), 'the first transaction', 40);
  assert.equal(link.href, `/dashboard/transactions/${encodeURIComponent(first)}`, 'the first row is the first link after the filters');
  await shot(page, 'keyboard-monitor');
  await page.keyboard.press('Enter');
  await page.waitForSelector('table[data-table=signals]');
  assert.equal(new URL(page.url()).pathname, `/dashboard/transactions/${encodeURIComponent(first)}`);
  // The detail's controls are reachable too: the way back, then "Abrir expediente".
  const back = await tabTo(page, (f) => f.tag === 'a', 'the link back to the Monitor', 5);
  assert.equal(back.href, '/dashboard/transactions');
  await tabTo(page, (f) => f.tag === 'button' && /expediente/i.test(f.text), 'Abrir expediente', 5);
  await page.keyboard.press('Enter');
  await page.waitForSelector('form[data-form=case-from-tx]');
  // The form moves the focus in a timer of its own: wait for it, then check.
  await page.waitForFunction(() => document.activeElement?.name === 'title', null, { timeout: 5000 }).catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement.name), 'title', 'the new form takes the focus');
  assert.ok((await focusInfo(page)).visible, 'and shows it');
  await shot(page, 'keyboard-detail');
  await context.close();
});

test('3. English: navigation and Panel in English, kept across a reload, and back', async () => {
  const { context, page } = await newPage();
  await signIn(page);
  assert.equal(await page.$eval('#lang', (s) => s.value), 'es');
  await page.selectOption('#lang', 'en');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await page.waitForSelector('.panel-body[data-loaded]');

  const NAV = ['panel', 'protection', 'rules', 'monitor', 'simulation', 'cases', 'team', 'integrations'];
  const englishShell = async () => {
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    const nav = await page.$$eval('nav.nav a', (as) => as.map((a) => a.textContent.trim()));
    assert.deepEqual(nav, NAV.map((k) => en[`nav.${k}`]));
    assert.ok(!nav.includes(es['nav.panel']));
    assert.equal(norm(await page.textContent('h1')), en['nav.panel']);
    const labels = await page.$$eval('.kpi-label', (ps) => ps.map((p) => p.textContent.trim()));
    assert.deepEqual(labels, ['evaluations', 'approved', 'blocked', 'moneyProtected', 'approvalRate'].map((k) => en[`kpi.${k}`]));
    assert.ok(!labels.includes('Evaluaciones'), 'not "Evaluaciones"');
    assert.equal(norm(await page.textContent('#trend-h')), en['panel.trend']);
    assert.equal(norm(await page.textContent('svg.chart > title')), en['chart.title']);
    assert.equal(norm(await page.textContent('.top button.link')), en['shell.signOut']);
    assert.equal(norm(await page.textContent('.skip')), en['shell.skip']);
    assert.equal(await page.title(), `${en['nav.panel']} · Clausum`);
    // No Spanish message is left anywhere on the page (those that differ in English).
    const text = await page.evaluate(() => document.body.innerText);
    const spanish = Object.entries(es).filter(([k, v]) => en[k] !== v && !v.includes('{') && v.length >= 4 && !/^[\d\s%–-]+$/.test(v))
      .filter(([, v]) => new RegExp(`(^|[^\\p{L}])${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\p{L}])`, 'u').test(text));
    assert.deepEqual(spanish, [], 'Spanish messages on the English Panel');
  };
  await englishShell();
  await shot(page, 'english-panel');

  await page.reload();
  await page.waitForSelector('.panel-body[data-loaded]');
  await englishShell();
  assert.equal(await page.$eval('#lang', (s) => s.value), 'en');

  await page.selectOption('#lang', 'es');
  await page.waitForFunction(() => document.documentElement.lang === 'es');
  await page.waitForSelector('.panel-body[data-loaded]');
  assert.deepEqual(await page.$$eval('nav.nav a', (as) => as.map((a) => a.textContent.trim())), NAV.map((k) => es[`nav.${k}`]));
  assert.equal(norm(await page.textContent('[data-kpi=evaluations] .kpi-label')), 'Evaluaciones');
  await page.reload();
  await page.waitForSelector('.panel-body[data-loaded]');
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  await context.close();
});

test('4. webhooks through the UI: endpoint, signed delivery to a real receiver, re-send', async () => {
  const { context, page } = await newPage();
  const api = (method, p, opts = {}) => call(origin.base, method, `/api/v1${p}`, { bearer: seed.adminToken, ...opts });
  const EVENT = 'transaction.created';
  const catalogue = (await api('GET', '/webhooks/events')).body;
  assert.ok(catalogue.some((e) => e.event === EVENT), `${EVENT} is in the catalogue`);
  const openapi = JSON.parse(readFileSync(path.join(root, 'openapi/openapi.json'), 'utf8'));
  assert.deepEqual(catalogue.map((e) => e.event).sort(), [...openapi.components.schemas.EventType.enum].sort(), 'the catalogue is the documented one');

  await signIn(page);
  await page.click('nav.nav a[data-nav=integrations]');
  await page.waitForSelector('form[data-form=endpoint]', { state: 'attached' });
  // Every event of the catalogue is offered.
  const offered = await page.$$eval('form[data-form=endpoint] input[name=events]', (cs) => cs.map((c) => c.value));
  assert.deepEqual(offered, catalogue.map((e) => e.event));
  await page.click('section:has(form[data-form=endpoint]) details > summary');
  const f = 'form[data-form=endpoint]';
  await page.fill(`${f} input[name=url]`, receiver.url);
  await page.fill(`${f} input[name=description]`, 'Receptor e2e');
  await page.check(`${f} input[name=events][value="${EVENT}"]`);
  await page.click(`${f} button[type=submit]`);
  await page.waitForSelector('[data-secret]');
  const secret = norm(await page.textContent('[data-secret]'));
  assert.match(secret, /^whsec_/);
  const card = `article[data-endpoint]:has(code:text-is("${receiver.url}"))`;
  await page.waitForSelector(card);
  const endpointId = await page.getAttribute(card, 'data-endpoint');
  const listed = (await api('GET', '/webhooks/endpoints')).body.find((e) => e.id === endpointId);
  assert.equal(listed.url, receiver.url);
  assert.deepEqual(listed.events, [EVENT]);
  assert.ok(secret.startsWith(listed.secret_hint.replace(/…$/, '')), `the hint ${listed.secret_hint} is of the secret shown`);
  assert.equal(norm(await page.textContent(`${card} p.hint code`)), listed.secret_hint, 'the card shows the hint, not the secret');
  await check(page, 'Integraciones (new endpoint)');
  await shot(page, 'webhook-endpoint');

  const assessed = await call(origin.base, 'POST', '/api/v1/assess', {
    bearer: origin.keys.secret,
    body: { amount: 2500, currency: 'MXN', email: 'webhook.e2e@example.com', order_id: 'ord_webhook_e2e', device: { ip: '198.51.100.88' } },
  });
  assert.equal(assessed.status, 200, JSON.stringify(assessed.body));
  const txId = assessed.body.transaction_id;

  // The delivery log in the UI: press "Entregas" until the delivery shows as succeeded.
  const row = `${card} table[data-table=deliveries] tbody tr[data-status=succeeded]`;
  for (let i = 0; ; i++) {
    await page.click(`${card} button[data-action=deliveries]`);
    await page.waitForSelector(`${card} table[data-table=deliveries]`);
    if (await page.$(row)) break;
    if (i > 50) assert.fail(`no succeeded delivery in the UI: ${await page.textContent(`${card} table[data-table=deliveries]`)}`);
    await page.waitForTimeout(200);
  }
  const shown = await page.$eval(row, (tr) => ({ id: tr.dataset.id, event: tr.dataset.event, cells: [...tr.cells].map((c) => c.textContent.trim()) }));
  assert.equal(shown.cells[2], es['dst.succeeded'], 'the status is shown in words');
  assert.equal(shown.cells[3], '1', 'one attempt');
  assert.equal(shown.cells[4], '200', 'the receiver answered 200');
  const deliveries = (await api('GET', `/webhooks/endpoints/${endpointId}/deliveries`)).body.data;
  assert.equal(deliveries.length, 1, 'one event subscribed, one delivery');
  assert.equal(deliveries[0].id, shown.id);
  await check(page, 'Integraciones (delivery log)');
  await shot(page, 'webhook-deliveries');

  // What the receiver got: signed with the secret the UI showed once.
  await receiver.until((rs) => rs.length >= 1, 'the delivery');
  assert.equal(receiver.requests.length, 1);
  const got = receiver.requests[0];
  assert.equal(got.method, 'POST');
  assert.equal(got.url, '/hooks/clausum');
  assert.equal(got.headers['x-clausum-event'], EVENT);
  assert.equal(got.headers['x-clausum-delivery'], shown.id);
  const sig = got.headers['x-clausum-signature'];
  assert.match(sig, /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.equal(verifyWebhook(got.body, sig, secret), true);
  assert.throws(() => verifyWebhook(got.body, sig, `${secret}x`), /no signature matches/);
  assert.throws(() => verifyWebhook(`${got.body} `, sig, secret), /no signature matches/);
  // The body is {event, timestamp, data}; the delivery id ties it to the UI's row.
  const event = JSON.parse(got.body);
  assert.equal(event.event, EVENT);
  assert.ok(!Number.isNaN(Date.parse(event.timestamp)), `timestamp ${event.timestamp}`);
  assert.ok(JSON.stringify(event.data).includes(txId), 'the event is about the assessed transaction');
  assert.match(shown.event, /^evt_/);

  // Re-send from the UI: the receiver gets the same event again, signed anew.
  await page.click(`${card} table[data-table=deliveries] tr[data-id="${shown.id}"] button[data-action=resend]`);
  await page.waitForSelector(`section:has(${card}) > .status.ok:text-is("${es['int.resent']}")`);
  await receiver.until((rs) => rs.length >= 2, 'the re-sent delivery');
  const again = receiver.requests[1];
  assert.equal(again.headers['x-clausum-delivery'], shown.id);
  assert.equal(again.headers['x-clausum-event'], EVENT);
  assert.equal(again.body, got.body, 'the same event, byte for byte');
  assert.equal(verifyWebhook(again.body, again.headers['x-clausum-signature'], secret), true);
  for (let i = 0; ; i++) {
    await page.click(`${card} button[data-action=deliveries]`);
    const cells = await page.$eval(`${card} tr[data-id="${shown.id}"]`, (tr) => [...tr.cells].map((c) => c.textContent.trim()));
    if (cells[2] === es['dst.succeeded'] && cells[3] === '2') break;
    if (i > 50) assert.fail(`the re-send is not in the log: ${cells.join(' | ')}`);
    await page.waitForTimeout(200);
  }
  await shot(page, 'webhook-resent');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(receiver.requests.length, 2, 'nothing else was sent');

  // Disabled and re-enabled from the UI: the API reads back each state.
  const endpoint = `article[data-endpoint="${endpointId}"]`;
  await page.click(`${endpoint} button[data-action=toggle-endpoint]`);
  await page.waitForSelector(`${endpoint}[data-enabled=false]`);
  assert.equal((await api('GET', `/webhooks/endpoints/${endpointId}`)).body.enabled, false);
  assert.equal(norm(await page.textContent(`${endpoint} button[data-action=toggle-endpoint]`)), es['int.enableEndpoint']);
  await check(page, 'Integraciones (disabled endpoint)');
  await page.click(`${endpoint} button[data-action=toggle-endpoint]`);
  await page.waitForSelector(`${endpoint}[data-enabled=true]`);
  const reenabled = (await api('GET', `/webhooks/endpoints/${endpointId}`)).body;
  assert.equal(reenabled.enabled, true);
  assert.equal(reenabled.consecutive_failures, 0);
  assert.equal(norm(await page.textContent(`section:has(${endpoint}) > .status.ok`)), es['int.endpointEnabled'].replace('{url}', receiver.url));
  await context.close();
});

/** What makes the page wider than the window: its scroll width and the elements reaching past the right edge (outside scrolling boxes). */
function widthReport() {
  const root = document.documentElement;
  const edge = root.clientWidth;
  const scrolls = (el) => {
    for (let n = el.parentElement; n && n !== document.body; n = n.parentElement) {
      const o = getComputedStyle(n).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > edge + 0.5 && !scrolls(el))
    .slice(0, 8)
    .map((el) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} (right ${Math.round(el.getBoundingClientRect().right)})`);
  return { scrollWidth: root.scrollWidth, clientWidth: edge, wide };
}

test('5. 1280×720 and 1024×768: no screen scrolls sideways and the navigation stays usable', async () => {
  const txId = (await call(origin.base, 'GET', '/api/v1/transactions?limit=1', { bearer: seed.adminToken })).body.data[0].id;
  // Each screen by its navigation link, and what shows it is complete (the last part it draws).
  const SCREENS = [
    ['protection', 'table[data-table=blocklists]'],
    ['rules', 'table[data-table=weights]'],
    ['transactions', 'table[data-table=transactions]'],
    ['simulation', 'table[data-table=runs]'],
    ['cases', 'table[data-table=cases]'],
    ['team', 'table[data-table=audit]'],
    ['integrations', 'table[data-table=ingestion-rules]'],
    ['dashboard', '.panel-body[data-loaded]'],
  ];
  for (const viewport of [{ width: 1280, height: 720 }, { width: 1024, height: 768 }]) {
    const size = `${viewport.width}×${viewport.height}`;
    const { context, page } = await newPage('es-MX', viewport);
    await signIn(page);
    const fits = async (what) => {
      await openDetails(page);
      const r = await page.evaluate(widthReport);
      assert.ok(r.scrollWidth <= r.clientWidth, `${what} at ${size} scrolls sideways (${r.scrollWidth} > ${r.clientWidth} px): ${r.wide.join(', ')}`);
    };
    for (const [nav, ready] of SCREENS) {
      const link = `nav.nav a[data-nav=${nav}]`;
      await page.locator(link).scrollIntoViewIfNeeded();
      // Usable: shown whole inside the window, on top of anything else there, and it leads to its screen.
      const placed = await page.$eval(link, (a) => {
        const r = a.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return {
          inside: r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth && r.top >= 0 && r.bottom <= window.innerHeight,
          onTop: Boolean(hit && (hit === a || a.contains(hit))),
        };
      });
      assert.deepEqual(placed, { inside: true, onTop: true }, `${link} at ${size}`);
      await page.click(link);
      await page.waitForSelector(ready);
      assert.equal(await page.getAttribute(link, 'aria-current'), 'page', `${link} at ${size}`);
      await fits(nav);
    }
    await page.goto(`${origin.base}/dashboard/transactions/${encodeURIComponent(txId)}`);
    await page.waitForSelector('table[data-table=signals]');
    await fits('transaction detail');
    await page.goto(`${origin.base}/dashboard/cases/${encodeURIComponent(caseId)}`);
    await page.waitForSelector('table[data-table=evidence]');
    await fits('case page');
    await shot(page, `expediente-${viewport.width}`);
    await context.close();
  }
});
