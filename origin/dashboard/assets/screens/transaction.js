// One transaction: its facts, every signal with weight and description, the
// request as received (masked by the API for this role) and the response;
// "Abrir expediente" opens a case and links the transaction to it.
import { get, post } from '../api.js';
import { field, h, input, put, select } from '../dom.js';
import { t, tv } from '../i18n.js';
import { dateTime, money, num } from '../format.js';
import { can } from '../session.js';
import { busy, decisionBadge, jsonBlock, section, showError, statusBox } from '../ui.js';
import { INCIDENT_TYPES, JURISDICTIONS, PRIORITIES } from './cases.js';

export async function render(main, { params, navigate }) {
  const id = params[0];
  const status = statusBox();
  main.append(h('p', {}, h('a', { href: '/dashboard/transactions' }, `← ${t('nav.monitor')}`)), status);
  let tx;
  try {
    tx = await get(`/transactions/${encodeURIComponent(id)}`);
  } catch (e) {
    showError(status, e);
    return;
  }
  const facts = [
    [t('common.id'), tx.id], [t('mon.flow'), tv('flow', tx.flow)], [t('common.date'), dateTime(tx.created_at)],
    [t('common.amount'), money(tx.amount_minor, tx.currency)], [t('mon.score'), num(tx.risk_score)],
    [t('mon.email'), tx.email], [t('mon.card'), tx.card_bin ? `${tx.card_bin}…${tx.card_last4 || ''}` : null],
    [t('mon.ip'), tx.ip], [t('tx.customer'), tx.customer_id], [t('tx.account'), tx.account_id], [t('mon.submerchant'), tx.submerchant_id],
    [t('tx.order'), tx.order_id], [t('tx.payment'), tx.payment_id], [t('tx.device'), tx.device_fingerprint],
    [t('tx.session'), tx.session_id], [t('tx.source'), tx.source], [t('tx.blockedBy'), tx.blocked_by],
    [t('tx.fraud'), tx.is_fraudulent ? `${t('mon.fraudYes')}${tx.fraud_reason ? ` · ${tv('reason', tx.fraud_reason)}` : ''}` : t('common.no')],
    [t('tx.released'), tx.released_at ? dateTime(tx.released_at) : null],
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');

  const caseBox = h('div', {});
  const head = h('div', { class: 'page-head' },
    h('h1', {}, t('tx.title'), ' ', decisionBadge(tx.decision)),
    can('write_cases') ? h('button', { type: 'button', class: 'primary', dataset: { action: 'open-case' }, onclick: () => put(caseBox, caseForm(tx, navigate)) }, t('tx.openCase')) : null);
  const signals = tx.signal_details || [];
  main.append(head, caseBox,
    section(t('tx.summary'), h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
      tx.masked ? h('p', { class: 'hint' }, t('tx.masked')) : null),
    section(t('tx.signals'), h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'signals' } },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('scoring.code')), h('th', { scope: 'col', class: 'num' }, t('scoring.weight')), h('th', { scope: 'col' }, t('scoring.description')))),
      h('tbody', {}, signals.length === 0 ? h('tr', {}, h('td', { colspan: 3, class: 'empty' }, t('tx.noSignals')))
        : signals.map((s) => h('tr', { dataset: { signal: s.code } }, h('td', {}, h('code', {}, s.code)), h('td', { class: 'num', dataset: { weight: String(s.weight) } }, s.weight > 0 ? `+${s.weight}` : String(s.weight)), h('td', {}, s.description))))),
      h('p', { class: 'hint' }, t('tx.scoreNote', { score: num(tx.risk_score) })))),
    h('div', { class: 'two' },
      section(t('tx.request'), jsonBlock(tx.request, t('tx.request'))),
      section(t('tx.response'), jsonBlock(tx.response, t('tx.response')))));
}

function caseForm(tx, navigate) {
  const status = statusBox();
  const form = h('form', { class: 'grid-form card inset', dataset: { form: 'case-from-tx' } },
    h('h2', {}, t('tx.openCase')),
    field(t('cases.caseTitle'), input('title', { required: true, value: t('tx.caseTitle', { id: tx.id }) })),
    field(t('cases.incidentType'), select('incident_type', INCIDENT_TYPES.map((v) => [v, tv('inc', v)]), 'otro')),
    field(t('cases.priority'), select('priority', PRIORITIES.map((v) => [v, tv('prio', v)]), tx.decision === 'decline' ? 'alta' : 'media')),
    field(t('cases.jurisdiction'), select('jurisdiction', [['', '—'], ...JURISDICTIONS.map((v) => [v, v])])),
    field(t('cases.description'), h('textarea', { name: 'description', rows: 3 })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('tx.createAndLink'))),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { title: form.title.value.trim(), incident_type: form.incident_type.value, priority: form.priority.value, amount: tx.amount_minor, currency: tx.currency };
    if (form.jurisdiction.value) body.jurisdiction = form.jurisdiction.value;
    if (form.description.value.trim()) body.description = form.description.value.trim();
    if (tx.email && !tx.masked) body.victim_email = tx.email;
    await busy(form.querySelector('button[type=submit]'), async () => {
      try {
        const c = await post('/cases', body);
        await post(`/cases/${encodeURIComponent(c.id)}/transactions`, { transaction_id: tx.id });
        navigate(`/dashboard/cases/${encodeURIComponent(c.id)}`);
      } catch (err) {
        showError(status, err, form);
      }
    });
  });
  setTimeout(() => form.title.focus());
  return form;
}
