// Realistic data for the dashboard tests, made through the public API only:
// a few dozen pay-in assessments of varied risk (human checkouts, a
// disposable email, automated browsers, a card-testing burst, high
// amounts in several currencies), two payouts, a confirmed fraud report,
// and a viewer who joined through an invitation.

import { startOrigin } from './harness.js';

const human = { session_duration_ms: 95_000, mouse_movements: 140, keyboard_events: 48, copy_paste_events: 0 };
const bot = { session_duration_ms: 1_400, mouse_movements: 0, keyboard_events: 0, copy_paste_events: 4 };

/** JSON request helper: returns {status, body}. */
export async function call(base, method, path, { bearer, body, headers = {} } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}

async function ok(promise, what) {
  const r = await promise;
  if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function login(base, email, password) {
  return (await ok(call(base, 'POST', '/api/v1/auth/login', { body: { email, password } }), 'login')).access_token;
}

/** Pay-in requests of varied risk; `i` keeps values distinct. */
function payins() {
  const list = [];
  const names = ['ana.lopez', 'carlos.ruiz', 'maria.gonzalez', 'jorge.fernandez', 'lucia.martinez', 'diego.sanchez', 'sofia.ramirez',
    'pablo.torres', 'valeria.flores', 'andres.rivera', 'camila.morales', 'javier.ortiz', 'isabel.castro', 'miguel.vargas'];
  names.forEach((n, i) => list.push({
    amount: 45_000 + i * 3_750, currency: 'MXN', email: `${n}@example.com`, customer_id: `cus_${100 + i}`, order_id: `ord_${1000 + i}`,
    device: { ip: `198.51.100.${10 + i}`, fingerprint: `fp_human_${i}`, user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0' },
    behavior: human, payment_method: { type: 'card', card_bin: '454545', card_last4: String(4000 + i), card_country: 'MX' },
    billing: { country: 'MX', city: 'Ciudad de México' },
  }));
  for (let i = 0; i < 4; i++) list.push({
    amount: 18_990 + i * 1_000, currency: 'CLP', email: `cliente${i}@example.cl`, customer_id: `cus_cl_${i}`, order_id: `ord_cl_${i}`,
    device: { ip: `192.0.2.${20 + i}` }, behavior: human, payment_method: { type: 'card', card_bin: '520000', card_last4: String(5100 + i), card_country: 'CL' },
  });
  for (let i = 0; i < 4; i++) list.push({
    amount: 89_900 + i * 5_000, currency: 'MXN', email: `promo${i}@mailinator.com`, order_id: `ord_disp_${i}`,
    device: { ip: `203.0.113.${40 + i}` }, behavior: { ...human, session_duration_ms: 9_000 },
    payment_method: { type: 'card', card_bin: '411111', card_last4: String(1200 + i) },
  });
  for (let i = 0; i < 6; i++) list.push({
    amount: 349_900 + i * 10_000, currency: 'MXN', email: `x${i}k9q@yopmail.com`, order_id: `ord_bot_${i}`,
    device: { ip: '203.0.113.66', webdriver: true, user_agent: 'Mozilla/5.0 HeadlessChrome/120.0', fingerprint: 'fp_headless' },
    behavior: bot, payment_method: { type: 'card', card_bin: '400000', card_last4: '0002' },
  });
  for (let i = 0; i < 8; i++) list.push({
    amount: 100 + i, currency: 'MXN', email: 'tester@example.net', order_id: `ord_ct_${i}`, customer_id: 'cus_ct',
    device: { ip: '203.0.113.90', fingerprint: 'fp_ct' }, behavior: { ...human, session_duration_ms: 20_000 },
    payment_method: { type: 'card', card_bin: '431940', card_last4: '7777' },
  });
  list.push({
    amount: 2_450_000, currency: 'USD', email: 'big.buyer@example.com', order_id: 'ord_big_1', device: { ip: '198.51.100.200' },
    behavior: human, payment_method: { type: 'card', card_bin: '371449', card_last4: '8431', card_country: 'US' }, billing: { country: 'MX' },
  });
  return list;
}

/**
 * Seeds the origin; returns {adminToken, viewer: {email, password, token}, transactions, fraudTransactionId}.
 */
export async function seedDashboard({ base, keys, adminEmail, adminPassword }) {
  const adminToken = await login(base, adminEmail, adminPassword);
  const transactions = [];
  for (const body of payins()) {
    const r = await ok(call(base, 'POST', '/api/v1/assess', { bearer: keys.secret, body: { ...body, amount_unit: 'minor' } }), 'assess');
    transactions.push({ ...r, email: body.email, amount_minor: body.amount, currency: body.currency });
  }
  for (const [i, clabe] of ['032180000118359719', '002010077777777771'].entries()) {
    const r = await call(base, 'POST', '/api/v1/assess/payout', {
      bearer: keys.secret,
      body: { amount: 250_000 + i * 1_000_000, amount_unit: 'minor', currency: 'MXN', beneficiary: { name: `Beneficiario ${i}`, clabe },
        payout: { channel: 'spei', initiated_by: i ? 'system' : 'ops@demo.mx' }, origin: { account_id: 'acc_ops', country: 'MX' } },
    });
    if (r.status < 300) transactions.push({ ...r.body, amount_minor: 250_000 + i * 1_000_000, currency: 'MXN' });
  }
  // A confirmed fraud on one approved pay-in (this also lists its email and IP).
  const victim = transactions.find((x) => x.flow === 'payin' && x.decision === 'approve');
  await ok(call(base, 'POST', '/api/v1/report-fraud', {
    bearer: keys.secret,
    body: { transaction_id: victim.transaction_id, reason: 'chargeback', evidence_urls: ['https://example.com/chargeback/123'], description: 'Contracargo del emisor' },
  }), 'report-fraud');

  // A viewer who accepted an invitation.
  const viewerEmail = 'visor@example.com';
  const viewerPassword = 'visor-password-2026!';
  const invite = await ok(call(base, 'POST', '/api/v1/team/invites', { bearer: adminToken, body: { email: viewerEmail, role: 'viewer' } }), 'invite');
  const accepted = await ok(call(base, 'POST', '/api/v1/auth/accept-invite', { body: { token: invite.token, password: viewerPassword, name: 'Vera Visor' } }), 'accept-invite');
  return {
    adminToken,
    viewer: { email: viewerEmail, password: viewerPassword, token: accepted.access_token },
    transactions,
    fraudTransactionId: victim.transaction_id,
  };
}

/**
 * The origin the dashboard tests use: the harness's, with a Spanish shop
 * name; `env` overrides the harness's variables.
 */
export function startDashboardOrigin({ env } = {}) {
  return startOrigin({ org: 'Tienda Demo', env });
}
