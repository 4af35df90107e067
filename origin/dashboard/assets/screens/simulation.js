// Simulación: ready-made presets and a custom pay-in or payout request run
// through the engine without touching live data; each result is labelled
// "Simulado". A run announces a change (changes.js), so a Panel or
// Protección open in another tab reloads; shown later, they fetch anew.
import { get, post } from '../api.js';
import { announceChange } from '../changes.js';
import { field, h, input, put, select } from '../dom.js';
import { t, tv } from '../i18n.js';
import { dateTime, money, num } from '../format.js';
import { can } from '../session.js';
import { badge, busy, decisionBadge, section, showError, showInfo, statusBox } from '../ui.js';

export async function render(main) {
  const status = statusBox();
  const result = h('div', { 'aria-live': 'polite', dataset: { area: 'sim-result' } });
  const runsBox = h('div', {});
  const allowed = can('run_simulation');
  main.append(h('div', { class: 'page-head' }, h('h1', {}, t('nav.simulation'))), h('p', { class: 'hint' }, t('sim.help')));

  async function run(btn, path, body) {
    await busy(btn, async () => {
      showInfo(status, t('sim.running'));
      try {
        const r = await post(path, body);
        showInfo(status, t('sim.done'));
        put(result, resultCard(r));
        announceChange('simulation');
        await loadRuns();
      } catch (e) {
        showError(status, e, btn.form || null);
      }
    });
  }

  const presets = await get('/simulation/presets');
  main.append(section(t('sim.presets'), h('ul', { class: 'presets' }, presets.map((p) => h('li', {},
    h('button', {
      type: 'button', disabled: !allowed, dataset: { preset: p.preset },
      onclick: (e) => run(e.currentTarget, p.flow === 'payout' ? '/simulation/payout' : '/simulation', { preset: p.preset }),
    }, tv('preset', p.preset)),
    ' ', badge(tv('flow', p.flow)), h('p', { class: 'hint' }, p.description))))));

  if (allowed) main.append(section(t('sim.custom'), customForm(run)));
  else main.append(h('p', { class: 'hint' }, t('sim.readOnly')));
  main.append(status, result, section(t('sim.runs'), runsBox));

  async function loadRuns() {
    try {
      const page = await get('/simulation/runs', { limit: 20 });
      put(runsBox, h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'runs' } },
        h('thead', {}, h('tr', {}, [t('common.date'), t('sim.preset'), t('mon.flow'), t('common.amount'), t('mon.decision'), t('mon.score'), t('mon.signals')].map((l) => h('th', { scope: 'col' }, l)))),
        h('tbody', {}, page.data.length === 0 ? h('tr', {}, h('td', { colspan: 7, class: 'empty' }, t('sim.noRuns')))
          : page.data.map((r) => h('tr', { dataset: { id: r.id } },
            h('td', {}, dateTime(r.created_at), ' ', badge(t('sim.simulated'), 'info')),
            h('td', {}, r.preset ? tv('preset', r.preset) : t('sim.customRun')),
            h('td', {}, tv('flow', r.result.flow)),
            h('td', {}, requestAmount(r.request)),
            h('td', {}, decisionBadge(r.result.decision)), h('td', {}, num(r.result.risk_score)),
            h('td', {}, (r.result.signals || []).join(', ') || '—')))))));
    } catch (e) {
      showError(status, e);
    }
  }
  await loadRuns();
}

function requestAmount(req) {
  if (!req || req.amount === undefined) return '—';
  // Simulation requests echo the amount with its unit (minor or major).
  return req.amount_unit === 'major' ? `${num(req.amount)} ${req.currency}` : money(req.amount, req.currency);
}

function resultCard(r) {
  const a = r.result;
  return h('section', { class: 'card result', 'aria-labelledby': 'sim-res-h', dataset: { simulated: String(r.simulated), id: r.id } },
    h('h2', { id: 'sim-res-h' }, t('sim.result'), ' ', h('span', { class: 'badge info simulated', dataset: { label: 'simulated' } }, t('sim.simulated'))),
    h('div', { class: 'kpis' },
      h('div', { class: 'kpi' }, h('p', { class: 'kpi-label' }, t('mon.decision')), h('p', { class: 'kpi-value' }, decisionBadge(a.decision))),
      h('div', { class: 'kpi', dataset: { kpi: 'score' } }, h('p', { class: 'kpi-label' }, t('mon.score')), h('p', { class: 'kpi-value' }, num(a.risk_score)))),
    h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'sim-signals' } },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('scoring.code')), h('th', { scope: 'col', class: 'num' }, t('scoring.weight')), h('th', { scope: 'col' }, t('scoring.description')))),
      h('tbody', {}, a.signal_details.length === 0 ? h('tr', {}, h('td', { colspan: 3, class: 'empty' }, t('tx.noSignals')))
        : a.signal_details.map((s) => h('tr', { dataset: { signal: s.code } }, h('td', {}, h('code', {}, s.code)), h('td', { class: 'num' }, s.weight > 0 ? `+${s.weight}` : String(s.weight)), h('td', {}, s.description)))))),
    h('p', { class: 'hint' }, t('sim.ids', { id: r.id, session: a.session_id })));
}

/** The custom request: pay-in or payout fields, amounts in major units. */
function customForm(run) {
  const flow = select('flow', [['payin', tv('flow', 'payin')], ['payout', tv('flow', 'payout')]], 'payin');
  const payin = h('div', { class: 'grid-form', dataset: { group: 'payin' } },
    field(t('mon.email'), input('email', { type: 'email', value: 'cliente@example.com' })),
    field(t('mon.bin'), input('card_bin', { inputmode: 'numeric', maxlength: 8 })),
    field(t('mon.ip'), input('ip', { value: '203.0.113.10' })),
    field(t('tx.customer'), input('customer_id')));
  const payout = h('div', { class: 'grid-form', dataset: { group: 'payout' }, hidden: true },
    field(t('sim.beneficiaryName'), input('beneficiary_name')),
    field('CLABE', input('clabe', { inputmode: 'numeric', maxlength: 22 })),
    field('IBAN', input('iban')),
    field(t('sim.country'), input('country', { maxlength: 2, placeholder: 'MX' })),
    field(t('sim.channel'), select('channel', [['spei', 'SPEI'], ['wire', t('sim.wire')], ['api', 'API']], 'spei')),
    field(t('sim.initiatedBy'), input('initiated_by')),
    h('div', { class: 'field check' }, h('label', {}, h('input', { type: 'checkbox', name: 'first_to_beneficiary' }), ' ', t('sim.firstPayout'))));
  flow.addEventListener('change', () => {
    payin.hidden = flow.value !== 'payin';
    payout.hidden = flow.value !== 'payout';
  });
  const form = h('form', { dataset: { form: 'simulate' } },
    h('div', { class: 'grid-form' },
      field(t('mon.flow'), flow),
      field(t('common.amount'), input('amount', { inputmode: 'decimal', required: true, value: '1500' }), t('sim.amountHint')),
      field(t('common.currency'), input('currency', { maxlength: 3, value: 'MXN', required: true }))),
    payin, payout,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('sim.run'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = form.elements;
    const v = (k) => f[k].value.trim();
    const base = { amount: Number(v('amount').replace(',', '.')), amount_unit: 'major', currency: v('currency').toUpperCase() };
    if (flow.value === 'payin') {
      const tx = { ...base };
      if (v('email')) tx.email = v('email');
      if (v('customer_id')) tx.customer_id = v('customer_id');
      if (v('ip')) tx.device = { ip: v('ip') };
      if (v('card_bin')) tx.payment_method = { type: 'card', card_bin: v('card_bin') };
      run(form.querySelector('button[type=submit]'), '/simulation', { transaction: tx });
    } else {
      const beneficiary = {};
      for (const [k, name] of [['beneficiary_name', 'name'], ['clabe', 'clabe'], ['iban', 'iban'], ['country', 'country']]) if (v(k)) beneficiary[name] = k === 'country' ? v(k).toUpperCase() : v(k);
      const payoutDetails = { channel: v('channel'), first_to_beneficiary: f.first_to_beneficiary.checked };
      if (v('initiated_by')) payoutDetails.initiated_by = v('initiated_by');
      run(form.querySelector('button[type=submit]'), '/simulation/payout', { transaction: { ...base, beneficiary, payout: payoutDetails } });
    }
  });
  return form;
}
