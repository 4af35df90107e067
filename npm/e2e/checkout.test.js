// A checkout in headless Chromium against a running origin: behaviour is
// captured and reaches the authoritative assess, fingerprints are stable per
// browser and differ across settings, and a dead origin never blocks a sale.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { CHROMIUM, freePort, startOrigin, startShop } from './harness.js';

const CARD = '4111111111111111';
const EMAIL = 'ana.lopez@example.com';
let origin, shop, browser;

before(async () => {
  origin = await startOrigin();
  shop = await startShop({ originBase: origin.base, keys: origin.keys });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await shop?.stop();
  await origin?.stop();
});

async function session(id) {
  const r = await fetch(`${origin.base}/api/v1/sessions/${id}`, { headers: { Authorization: `Bearer ${origin.keys.secret}` } });
  assert.equal(r.status, 200, `session ${id} stored`);
  return r.json();
}

/** Moves, types, pastes a card number, submits; returns the page's result. */
async function checkout(page) {
  for (let i = 0; i < 8; i++) await page.mouse.move(40 + i * 30, 60 + i * 12, { steps: 4 });
  await page.click('#email');
  await page.keyboard.type(EMAIL, { delay: 15 });
  await page.click('#card');
  await page.evaluate((card) => navigator.clipboard.writeText(card), CARD);
  await page.keyboard.press('Control+V');
  await page.click('#submit');
  await page.waitForFunction(() => document.getElementById('result').textContent.length > 0, null, { timeout: 10_000 });
  return JSON.parse(await page.textContent('#result'));
}

test('script tag, behaviour counts stored, merged into the server-side assess', async () => {
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  await page.goto(shop.base);
  const { precheck, session: s, order } = await checkout(page);
  assert.equal(await page.inputValue('#card'), CARD, 'the paste reached the field');

  assert.equal(precheck.available, true, JSON.stringify(precheck));
  assert.equal(precheck.precheck, true);
  assert.equal(typeof precheck.shouldDecline, 'boolean');
  assert.equal(typeof precheck.requiresChallenge, 'boolean');
  assert.match(precheck.session_id, /^ps_\d{13}_[a-z0-9]+$/);
  assert.equal(s.sessionId, precheck.session_id);
  assert.equal(s.registered, true);
  assert.match(s.fingerprint, /^fp_[0-9a-f]{20}$/);

  const stored = await session(s.sessionId);
  const b = stored.behavior;
  assert.ok(b.mouse_movements >= 8, `mouse movements ${b.mouse_movements}`);
  assert.ok(b.key_presses >= EMAIL.length, `key presses ${b.key_presses}`);
  assert.ok(b.clicks >= 2, `clicks ${b.clicks}`);
  assert.ok(b.paste_events >= 1, `pastes ${b.paste_events}`);
  assert.deepEqual(b.pasted_fields, ['card_number']);
  assert.ok(b.focus_events >= 2 && b.key_interval_mean_ms > 0);
  assert.equal(b.untrusted_events, 0, 'every event came from the (driven) user');
  assert.equal(stored.fingerprint, s.fingerprint);
  const text = JSON.stringify(stored);
  assert.ok(!text.includes(CARD) && !text.includes('4111') && !text.includes('ana.lopez'), 'nothing typed was sent');

  const a = order.assessment;
  assert.equal(a.session_id, s.sessionId, JSON.stringify(a));
  assert.ok(a.signals.includes('copy_paste'), `the pasted card reached the decision: ${a.signals}`);
  assert.ok(a.signals.includes('automation_detected'), 'Playwright sets navigator.webdriver');
  await context.close();
});

test('same profile, same fingerprint on reload; another viewport or locale, another', async () => {
  const fp = async (page) => (await page.evaluate(() => Clausum.getSession())).fingerprint;
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, locale: 'es-MX' });
  const page = await context.newPage();
  await page.goto(shop.base);
  const first = await fp(page);
  await page.reload();
  assert.equal(await fp(page), first, 'reload keeps the fingerprint');
  await context.close();

  for (const options of [{ viewport: { width: 1024, height: 700 }, locale: 'es-MX' }, { viewport: { width: 1280, height: 720 }, locale: 'en-US' }]) {
    const other = await browser.newContext(options);
    const p = await other.newPage();
    await p.goto(shop.base);
    assert.notEqual(await fp(p), first, JSON.stringify(options));
    await other.close();
  }
});

test('origin down: the checkout still completes (fail-open)', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const saved = shop.apiBase;
  shop.apiBase = dead; // the shop's backend cannot reach Clausum either
  try {
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    // The SDK is hosted by the shop, the API is down.
    let page = await context.newPage();
    await page.goto(`${shop.base}/origin-down?api=${encodeURIComponent(`${dead}/api/v1/assess`)}`);
    let result = await checkout(page);
    assert.equal(result.precheck.available, false);
    assert.equal(result.precheck.shouldDecline, false);
    assert.match(result.precheck.session_id, /^ps_/, 'the session id still exists');
    assert.equal(result.order.status, 'paid');
    // The SDK itself cannot be loaded: the page's guard still checks out.
    page = await context.newPage();
    await page.goto(`${shop.base}/sdk-unreachable?origin=${encodeURIComponent(dead)}`);
    result = await checkout(page);
    assert.equal(result.order.status, 'paid');
    await context.close();
  } finally {
    shop.apiBase = saved;
  }
});
