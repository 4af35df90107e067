// Monitor: the transactions table with filters and paging. Filters live in
// the address (?decision=…&offset=…) so a filtered view can be shared and
// the back button returns to it. "Desde" and "Hasta" are days of the
// browser's calendar, both included: the address keeps the days, the API
// gets the local instants where they start and end.
import { get, qs } from '../api.js';
import { field, h, input, put, select } from '../dom.js';
import { t, tv } from '../i18n.js';
import { dateTime, localDayStart, money, num } from '../format.js';
import { decisionBadge, pager, showError, statusBox } from '../ui.js';

const LIMIT = 50;
const FILTERS = ['decision', 'flow', 'min_score', 'max_score', 'from', 'to', 'email', 'card_bin', 'ip', 'submerchant_id'];

export async function render(main, { query, navigate }) {
  const status = statusBox();
  const results = h('div', { 'aria-live': 'polite' });
  const val = (k) => query.get(k) || '';
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('mon.filters') },
    field(t('mon.decision'), select('decision', [['', t('common.all')], ...['approve', 'review', 'challenge', 'decline'].map((d) => [d, t(`decision.${d}`)])], val('decision'))),
    field(t('mon.flow'), select('flow', [['', t('common.all')], ['payin', tv('flow', 'payin')], ['payout', tv('flow', 'payout')]], val('flow'))),
    field(t('mon.minScore'), input('min_score', { type: 'number', min: 0, max: 100, value: val('min_score') })),
    field(t('mon.maxScore'), input('max_score', { type: 'number', min: 0, max: 100, value: val('max_score') })),
    field(t('mon.from'), input('from', { type: 'date', value: val('from') })),
    field(t('mon.to'), input('to', { type: 'date', value: val('to') })),
    field(t('mon.email'), input('email', { type: 'search', value: val('email') })),
    field(t('mon.bin'), input('card_bin', { inputmode: 'numeric', maxlength: 8, value: val('card_bin') })),
    field(t('mon.ip'), input('ip', { value: val('ip') })),
    field(t('mon.submerchant'), input('submerchant_id', { value: val('submerchant_id') })),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'primary' }, t('common.filter')),
      h('button', { type: 'button', class: 'link', onclick: () => navigate('/dashboard/transactions') }, t('common.clear'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = {};
    for (const k of FILTERS) q[k] = form[k].value.trim();
    navigate(`/dashboard/transactions${qs(q)}`);
  });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, t('nav.monitor'))), form, status, results);

  const params = { limit: LIMIT, offset: Number(query.get('offset') || 0) };
  for (const k of FILTERS) if (val(k)) params[k] = val(k);
  // From the start of the "Desde" day to the start of the day after "Hasta"
  // (`to` is exclusive); anything else is passed on for the API to refuse.
  if (params.from) params.from = localDayStart(params.from) ?? params.from;
  if (params.to) params.to = localDayStart(params.to, 1) ?? params.to;
  try {
    const page = await get('/transactions', params);
    const link = (r, content) => h('a', { href: `/dashboard/transactions/${encodeURIComponent(r.id)}` }, content);
    const cols = [
      { label: t('common.date'), cell: (r) => link(r, dateTime(r.created_at)) },
      { label: t('mon.flow'), cell: (r) => tv('flow', r.flow) },
      { label: t('common.amount'), cell: (r) => money(r.amount_minor, r.currency), class: 'num' },
      { label: t('mon.decision'), cell: (r) => decisionBadge(r.decision) },
      { label: t('mon.score'), cell: (r) => num(r.risk_score), class: 'num' },
      { label: t('mon.email'), cell: (r) => r.email || '—' },
      { label: t('mon.card'), cell: (r) => (r.card_bin ? `${r.card_bin}…${r.card_last4 || ''}` : '—'), class: 'mono' },
      { label: t('mon.ip'), cell: (r) => r.ip || '—', class: 'mono' },
      { label: t('mon.signals'), cell: (r) => num((r.signals || []).length) },
      { label: t('mon.fraud'), cell: (r) => (r.is_fraudulent ? h('span', { class: 'badge bad' }, t('mon.fraudYes')) : '') },
    ];
    put(results,
      h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'transactions', total: String(page.pagination.total) } },
        h('caption', { class: 'sr-only' }, t('nav.monitor')),
        h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
        h('tbody', {}, page.data.length === 0 ? h('tr', {}, h('td', { colspan: cols.length, class: 'empty' }, t('mon.empty')))
          : page.data.map((r) => h('tr', { dataset: { id: r.id } }, cols.map((c) => h('td', { class: c.class }, c.cell(r)))))))),
      pager(page.pagination, (offset) => {
        const q = Object.fromEntries(query);
        q.offset = offset;
        navigate(`/dashboard/transactions${qs(q)}`);
      }));
  } catch (e) {
    showError(status, e.status === 404 && e.code === 'NOT_FOUND' && /route/i.test(e.message) ? new Error(t('mon.unavailable')) : e);
  }
}
