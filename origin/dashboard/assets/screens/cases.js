// Expedientes: the case list with filters (status, priority, jurisdiction,
// incident type, text, dates) and a form to open a case by hand.
import { get, post, qs } from '../api.js';
import { field, formValues, h, input, put, select } from '../dom.js';
import { t, tv } from '../i18n.js';
import { date, exponent, money } from '../format.js';
import { can } from '../session.js';
import { badge, busy, pager, showError, statusBox } from '../ui.js';

export const STATUSES = ['borrador', 'en_revision', 'enviado', 'resuelto', 'archivado'];
export const PRIORITIES = ['baja', 'media', 'alta', 'urgente'];
export const INCIDENT_TYPES = ['phishing', 'ingenieria_social', 'transferencia_no_autorizada', 'robo_identidad', 'fraude_interno', 'otro'];
export const JURISDICTIONS = ['MX', 'CL', 'BR', 'PE', 'CO', 'UY', 'AR'];
const LOCAL_CURRENCY = { MX: 'MXN', CL: 'CLP', BR: 'BRL', PE: 'PEN', CO: 'COP', UY: 'UYU', AR: 'ARS' };
const FILTERS = ['status', 'priority', 'jurisdiction', 'incident_type', 'search', 'from_date', 'to_date'];
const LIMIT = 50;
const PRIO_CLASS = { urgente: 'bad', alta: 'warn', media: 'info', baja: '' };

export const statusBadge = (s) => badge(tv('status', s), s === 'resuelto' ? 'ok' : s === 'enviado' ? 'info' : s === 'archivado' ? '' : 'warn');
export const priorityBadge = (p) => badge(tv('prio', p), PRIO_CLASS[p] || '');

/** Major units typed by a person → the API's integer minor units. */
export function toMinor(value, currency) {
  const n = Number(String(value).replace(',', '.'));
  return Number.isFinite(n) ? Math.round(n * 10 ** exponent(currency)) : undefined;
}

export async function render(main, { query, navigate }) {
  const status = statusBox();
  const results = h('div', { 'aria-live': 'polite' });
  const val = (k) => query.get(k) || '';
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('cases.filters') },
    field(t('cases.status'), select('status', [['', t('common.all')], ...STATUSES.map((v) => [v, tv('status', v)])], val('status'))),
    field(t('cases.priority'), select('priority', [['', t('common.all')], ...PRIORITIES.map((v) => [v, tv('prio', v)])], val('priority'))),
    field(t('cases.incidentType'), select('incident_type', [['', t('common.all')], ...INCIDENT_TYPES.map((v) => [v, tv('inc', v)])], val('incident_type'))),
    field(t('cases.jurisdiction'), select('jurisdiction', [['', t('common.all')], ...JURISDICTIONS.map((v) => [v, v])], val('jurisdiction'))),
    field(t('cases.search'), input('search', { type: 'search', value: val('search') })),
    field(t('mon.from'), input('from_date', { type: 'date', value: val('from_date') })),
    field(t('mon.to'), input('to_date', { type: 'date', value: val('to_date') })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('common.filter'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigate(`/dashboard/cases${qs(formValues(form))}`);
  });
  const newBox = h('div', {});
  const head = h('div', { class: 'page-head' }, h('h1', {}, t('nav.cases')),
    can('write_cases') ? h('button', { type: 'button', class: 'primary', dataset: { action: 'new-case' }, onclick: () => put(newBox, newCaseForm(navigate)) }, t('cases.new')) : null);
  main.append(head, newBox, form, status, results);

  const params = { limit: LIMIT, offset: Number(val('offset') || 0) };
  for (const k of FILTERS) if (val(k)) params[k] = val(k);
  try {
    const page = await get('/cases', params);
    const rows = page.data;
    const cols = [
      { label: t('cases.reference'), cell: (c) => h('a', { href: `/dashboard/cases/${encodeURIComponent(c.id)}` }, c.reference_number) },
      { label: t('cases.caseTitle'), cell: (c) => c.title },
      { label: t('cases.status'), cell: (c) => statusBadge(c.status) },
      { label: t('cases.priority'), cell: (c) => priorityBadge(c.priority) },
      { label: t('cases.incidentType'), cell: (c) => tv('inc', c.incident_type) },
      { label: t('cases.jurisdiction'), cell: (c) => c.jurisdiction || '—' },
      { label: t('common.amount'), cell: (c) => money(c.amount_minor, c.currency), class: 'num' },
      { label: t('cases.source'), cell: (c) => tv('csrc', c.source) },
      { label: t('common.created'), cell: (c) => date(c.created_at) },
    ];
    put(results, h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'cases' } },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', {}, rows.length === 0 ? h('tr', {}, h('td', { colspan: cols.length, class: 'empty' }, t('cases.empty')))
        : rows.map((c) => h('tr', { dataset: { id: c.id } }, cols.map((col) => h('td', { class: col.class }, col.cell(c)))))))),
    pager(page.pagination, (offset) => navigate(`/dashboard/cases${qs({ ...Object.fromEntries(query), offset })}`)));
  } catch (e) {
    showError(status, e);
  }
}

function newCaseForm(navigate) {
  const status = statusBox();
  const form = h('form', { class: 'grid-form card inset', dataset: { form: 'new-case' } },
    h('h2', {}, t('cases.new')),
    field(t('cases.caseTitle'), input('title', { required: true, maxlength: 200 })),
    field(t('cases.incidentType'), select('incident_type', INCIDENT_TYPES.map((v) => [v, tv('inc', v)]), 'phishing')),
    field(t('cases.priority'), select('priority', PRIORITIES.map((v) => [v, tv('prio', v)]), 'media')),
    field(t('cases.jurisdiction'), select('jurisdiction', [['', '—'], ...JURISDICTIONS.map((v) => [v, v])], '')),
    field(t('common.amount'), input('amount', { inputmode: 'decimal' }), t('cases.amountHint')),
    field(t('common.currency'), input('currency', { maxlength: 3, placeholder: 'MXN' })),
    field(t('cases.incidentDate'), input('incident_date', { type: 'date' })),
    field(t('cases.victimName'), input('victim_name')),
    field(t('cases.victimEmail'), input('victim_email', { type: 'email' })),
    field(t('cases.description'), h('textarea', { name: 'description', rows: 3, maxlength: 4000 })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('cases.create'))),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = formValues(form);
    if (v.currency) v.currency = v.currency.toUpperCase();
    if (v.amount !== undefined) {
      v.amount = toMinor(v.amount, v.currency || LOCAL_CURRENCY[v.jurisdiction] || 'MXN');
      if (!v.currency && !v.jurisdiction) v.currency = 'MXN';
    }
    await busy(form.querySelector('button[type=submit]'), async () => {
      try {
        const c = await post('/cases', v);
        navigate(`/dashboard/cases/${encodeURIComponent(c.id)}`);
      } catch (err) {
        showError(status, err, form);
      }
    });
  });
  setTimeout(() => form.title.focus());
  return form;
}

