// The blocklists section of Protección. PATCH and DELETE take the entry id
// in the body and the query string respectively (not in the path).
import { api, del, get, patch, post } from '../api.js';
import { field, formValues, h, input, put, select } from '../dom.js';
import { t, tv } from '../i18n.js';
import { dateTime, localToIso } from '../format.js';
import { can } from '../session.js';
import { badge, busy, pager, section, showError, showFieldErrors, showOk, statusBox } from '../ui.js';

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
        showFieldErrors(form, null); // clears the marks of an earlier refusal
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
        const sent = text.value;
        const format = form.format.value;
        const r = await api('POST', '/blocklists/import', { body: sent, contentType: format });
        showOk(status, t('bl.importDone', { rows: r.rows, imported: r.imported, duplicates: r.duplicates, rejected: r.rejected_count }));
        put(report, importReport(r, uploadRows(sent, format)));
        await reload();
      } catch (err) {
        showError(status, err);
      }
    });
  });
  return form;
}

/**
 * The data rows of an upload with the line numbers the import API gives
 * them. JSON lines: numbered by line, blank lines skipped. CSV: records
 * after the header row, split as the API's CSV reader splits them (empty
 * lines skipped, a quoted field may span lines); a record's number is the
 * reader's line count when it starts reading it: the line after the
 * previous record's terminator (so a blank line just before a record
 * gives it the blank line's number, and with CRLF line ends every record
 * gets the number of the line before it, as the API reports).
 */
function uploadRows(text, format) {
  if (format === 'application/x-ndjson') {
    return text.split(/\r?\n/).map((l, i) => ({ line: i + 1, text: l })).filter((r) => r.text.trim() !== '');
  }
  const records = [];
  let line = 1; // '\n' read so far, plus one
  let next = 1; // the number the next record gets
  let start = -1; // index where the current record starts, -1 between records
  let fieldStart = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (start < 0) {
      if (c === '\n') line++;
      if (c === '\r' || c === '\n') continue; // terminators between records are skipped
      start = i;
      fieldStart = true;
    }
    if (c === '\n') line++;
    if (quoted) {
      // A line end inside quotes belongs to the field; a doubled quote is one quote.
      if (c === '"') {
        if (text[i + 1] === '"') i++;
        else quoted = false;
      }
      continue;
    }
    if (fieldStart && c === '"') {
      quoted = true;
      fieldStart = false;
    } else if (c === ',') {
      fieldStart = true;
    } else if (c === '\r' || c === '\n') {
      records.push({ line: next, text: text.slice(start, i) });
      next = line;
      start = -1;
    } else {
      fieldStart = false;
    }
  }
  if (start >= 0) records.push({ line: next, text: text.slice(start) });
  return records.slice(1); // the first record is the header
}

/**
 * The import report. The API answers counts and the rejected rows with
 * their line and reason; every other row was accepted (imported, or
 * already listed: a duplicate). When the upload's own rows agree with the
 * API's count and lines, every row is listed with its outcome; otherwise
 * (an upload this page cannot number the same way) the rejected rows only.
 */
function importReport(r, rows) {
  const rejected = new Map(r.rejected.map((x) => [x.line, x.error]));
  const lines = new Set(rows.map((x) => x.line));
  const complete = rows.length === r.rows && r.rejected.length === r.rejected_count && [...rejected.keys()].every((l) => lines.has(l));
  const head = (...labels) => h('thead', {}, h('tr', {}, labels.map((l) => h('th', { scope: 'col' }, l))));
  if (rows.length === 0 && r.rows === 0) return '';
  if (complete) {
    return h('div', {},
      r.rejected_count < r.rows ? h('p', { class: 'hint' }, t('bl.acceptedNote', { duplicates: r.duplicates })) : null,
      h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'import-report', complete: 'true' } },
        h('caption', {}, t('bl.importRows')),
        head(t('bl.line'), t('bl.row'), t('bl.outcome'), t('bl.error')),
        h('tbody', {}, rows.map((x) => {
          const error = rejected.get(x.line);
          const outcome = error === undefined ? 'accepted' : 'rejected';
          return h('tr', { dataset: { line: String(x.line), outcome } },
            h('td', {}, String(x.line)),
            h('td', {}, h('code', {}, x.text.length > 120 ? `${x.text.slice(0, 119)}…` : x.text)),
            h('td', {}, error === undefined ? badge(t('bl.accepted'), 'ok') : badge(t('bl.rejected'), 'bad')),
            h('td', {}, error ?? '—'));
        })))));
  }
  if (r.rejected.length === 0) return '';
  return h('div', {},
    r.rejected.length < r.rejected_count ? h('p', { class: 'hint' }, t('bl.rejectedShown', { shown: r.rejected.length, total: r.rejected_count })) : null,
    h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'import-report', complete: 'false' } },
      h('caption', {}, t('bl.rejectedRows')),
      head(t('bl.line'), t('bl.error')),
      h('tbody', {}, r.rejected.map((x) => h('tr', { dataset: { line: String(x.line), outcome: 'rejected' } }, h('td', {}, String(x.line)), h('td', {}, x.error)))))));
}
