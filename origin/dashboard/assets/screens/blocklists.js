// The blocklists section of Protección. PATCH and DELETE take the entry id
// in the body and the query string respectively (not in the path).
import { api, del, get, patch, post } from '../api.js';
import { field, formValues, h, input, put, select } from '../dom.js';
import { t, tv } from '../i18n.js';
import { dateTime, localToIso } from '../format.js';
import { can } from '../session.js';
import { badge, busy, pager, section, showError, showOk, statusBox } from '../ui.js';

export const LIST_TYPES = ['email', 'email_domain', 'ip_address', 'ip_range', 'device_fingerprint', 'card_bin', 'card_hash',
  'country', 'phone', 'customer_id', 'clabe', 'iban', 'account_hash', 'swift_bic', 'beneficiary_id'];
const SEVERITIES = ['block', 'flag', 'review'];
const SCOPES = ['all', 'payin', 'payout'];
const LIMIT = 25;

export async function blocklists() {
  const status = statusBox();
  const list = h('div', { 'aria-live': 'polite' });
  let offset = 0;

  const filters = h('form', { class: 'filters', role: 'search' },
    field(t('bl.search'), input('search', { type: 'search' })),
    field(t('bl.type'), select('list_type', [['', t('common.all')], ...LIST_TYPES.map((v) => [v, tv('lt', v)])])),
    field(t('bl.state'), select('is_active', [['', t('common.all')], ['true', t('bl.active')], ['false', t('bl.inactive')]])),
    h('button', { type: 'submit' }, t('common.filter')));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    offset = 0;
    load();
  });

  async function act(btn, fn, okText) {
    await busy(btn, async () => {
      try {
        await fn();
        showOk(status, okText);
        await load();
      } catch (e) {
        showError(status, e);
      }
    });
  }

  function actions(entry) {
    if (!can('write_blocklists')) return '';
    const out = [];
    out.push(h('button', {
      type: 'button', class: 'small', dataset: { action: 'toggle' },
      onclick: (e) => act(e.currentTarget, () => patch('/blocklists', { id: entry.id, is_active: !entry.is_active }),
        t(entry.is_active ? 'bl.deactivated' : 'bl.activated', { value: entry.value })),
    }, entry.is_active ? t('bl.deactivate') : t('bl.activate')));
    const when = input('expires_at', { type: 'datetime-local', 'aria-label': t('bl.expiresAt') });
    out.push(h('details', { class: 'inline' }, h('summary', {}, t('bl.setExpiry')),
      h('form', {
        class: 'row', onsubmit: (e) => {
          e.preventDefault();
          act(e.submitter || e.currentTarget.querySelector('button'), () => patch('/blocklists', { id: entry.id, expires_at: localToIso(when.value) ?? null }),
            t('bl.expirySaved', { value: entry.value }));
        },
      }, when, h('button', { type: 'submit', class: 'small' }, t('common.save')))));
    if (can('delete_blocklists')) {
      out.push(h('button', {
        type: 'button', class: 'small danger', dataset: { action: 'delete' },
        onclick: (e) => {
          if (!confirm(t('bl.confirmDelete', { value: entry.value }))) return;
          act(e.currentTarget, () => del('/blocklists', { id: entry.id }), t('bl.deleted', { value: entry.value }));
        },
      }, t('common.delete')));
    }
    return h('div', { class: 'actions' }, out);
  }

  async function load() {
    try {
      const q = { ...formValues(filters), limit: LIMIT, offset };
      const page = await get('/blocklists', q);
      const cols = [
        { label: t('bl.type'), cell: (r) => tv('lt', r.list_type) },
        { label: t('bl.value'), cell: (r) => h('code', {}, r.value), class: 'mono' },
        { label: t('bl.severity'), cell: (r) => badge(tv('sev', r.severity), r.severity === 'block' ? 'bad' : 'warn') },
        { label: t('bl.scope'), cell: (r) => tv('scope', r.flow_scope) },
        { label: t('bl.source'), cell: (r) => tv('src', r.source) },
        { label: t('bl.reason'), cell: (r) => r.reason || '—' },
        { label: t('bl.expires'), cell: (r) => dateTime(r.expires_at) },
        { label: t('bl.state'), cell: (r) => (r.is_active ? badge(t('bl.active'), 'ok') : badge(t('bl.inactive'))) },
      ];
      if (can('write_blocklists')) cols.push({ label: t('common.actions'), cell: actions });
      put(list,
        tableOf(cols, page.data),
        pager(page.pagination, (o) => {
          offset = o;
          load();
        }));
    } catch (e) {
      showError(status, e);
    }
  }

  const parts = [status, filters, list];
  if (can('write_blocklists')) parts.push(addForm(status, load), importForm(load));
  await load();
  return section(t('bl.title'), ...parts);
}

function tableOf(cols, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'blocklists' } },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c.label)))),
    h('tbody', {}, rows.length === 0 ? h('tr', {}, h('td', { colspan: cols.length, class: 'empty' }, t('bl.empty')))
      : rows.map((r) => h('tr', { dataset: { id: r.id, value: r.value } }, cols.map((c) => h('td', { class: c.class }, c.cell(r))))))));
}

function addForm(status, reload) {
  const form = h('form', { class: 'grid-form', dataset: { form: 'add-blocklist' } },
    h('h3', {}, t('bl.add')),
    field(t('bl.type'), select('list_type', LIST_TYPES.map((v) => [v, tv('lt', v)]), 'email')),
    field(t('bl.value'), input('value', { required: true })),
    field(t('bl.severity'), select('severity', SEVERITIES.map((v) => [v, tv('sev', v)]), 'block')),
    field(t('bl.scope'), select('flow_scope', SCOPES.map((v) => [v, tv('scope', v)]), 'all')),
    field(t('bl.reason'), input('reason', { maxlength: 500 })),
    field(t('bl.expiresAt'), input('expires_at', { type: 'datetime-local' }), t('bl.expiresHint')),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('bl.addButton'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = formValues(form);
    if (v.expires_at) v.expires_at = localToIso(v.expires_at);
    await busy(form.querySelector('button[type=submit]'), async () => {
      try {
        const entry = await post('/blocklists', v);
        showOk(status, t('bl.added', { value: entry.value }));
        form.reset();
        await reload();
      } catch (err) {
        showError(status, err, form);
      }
    });
  });
  return form;
}

function importForm(reload) {
  const status = statusBox();
  const report = h('div', { 'aria-live': 'polite' });
  const text = h('textarea', { name: 'body', rows: 6, class: 'mono', placeholder: 'list_type,value,severity,reason,flow_scope,expires_at\nemail,fraude@example.com,block,chargeback,,' });
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,.ndjson,.jsonl,text/csv,application/x-ndjson' });
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    text.value = await f.text();
    form.format.value = /\.(nd)?jsonl?$|ndjson/i.test(f.name) ? 'application/x-ndjson' : 'text/csv';
  });
  const form = h('form', { class: 'grid-form', dataset: { form: 'import-blocklist' } },
    h('h3', {}, t('bl.import')),
    field(t('bl.importFormat'), select('format', [['text/csv', 'CSV'], ['application/x-ndjson', 'NDJSON']], 'text/csv')),
    field(t('bl.importFile'), file),
    field(t('bl.importText'), text, t('bl.importHint')),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, t('bl.importButton'))),
    status, report);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!text.value.trim()) return showError(status, new Error(t('bl.importEmpty')));
    await busy(form.querySelector('button[type=submit]'), async () => {
      try {
        const r = await api('POST', '/blocklists/import', { body: text.value, contentType: form.format.value });
        showOk(status, t('bl.importDone', { rows: r.rows, imported: r.imported, duplicates: r.duplicates, rejected: r.rejected_count }));
        put(report, r.rejected.length === 0 ? '' : h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'import-report' } },
          h('caption', {}, t('bl.rejectedRows')),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('bl.line')), h('th', { scope: 'col' }, t('bl.error')))),
          h('tbody', {}, r.rejected.map((x) => h('tr', {}, h('td', {}, String(x.line)), h('td', {}, x.error)))))));
        await reload();
      } catch (err) {
        showError(status, err);
      }
    });
  });
  return form;
}
