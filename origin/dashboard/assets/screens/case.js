// One case: its facts, the status changes its `allowed_transitions` permit
// (as buttons), submission to the regulator, evidence, linked transactions
// and the activity log.
import { get, patch, post } from '../api.js';
import { field, h, input, put, select } from '../dom.js';
import { t, tv } from '../i18n.js';
import { dateTime, money } from '../format.js';
import { can } from '../session.js';
import { busy, decisionBadge, section, showError, showOk, statusBox } from '../ui.js';
import { JURISDICTIONS, priorityBadge, statusBadge } from './cases.js';

export async function render(main, { params }) {
  const id = encodeURIComponent(params[0]);
  const status = statusBox();
  const body = h('div', {});
  main.append(h('p', {}, h('a', { href: '/dashboard/cases' }, `← ${t('nav.cases')}`)), status, body);

  async function load(message) {
    let c, evidence, txs, activity;
    try {
      [c, evidence, txs, activity] = await Promise.all([
        get(`/cases/${id}`), get(`/cases/${id}/evidence`), get(`/cases/${id}/transactions`), get(`/cases/${id}/activity`, { limit: 100 })]);
    } catch (e) {
      return showError(status, e);
    }
    if (message) showOk(status, message);
    const write = can('write_cases') && c.status !== 'archivado';
    put(body,
      h('div', { class: 'page-head' },
        h('h1', {}, c.reference_number, ' · ', c.title),
        h('div', { class: 'badges', dataset: { status: c.status } }, statusBadge(c.status), ' ', priorityBadge(c.priority))),
      write ? actions(c, load) : null,
      section(t('case.details'), h('dl', { class: 'facts' }, [
        [t('cases.status'), tv('status', c.status)], [t('cases.incidentType'), tv('inc', c.incident_type)],
        [t('cases.jurisdiction'), c.jurisdiction], [t('common.amount'), c.amount_minor != null ? money(c.amount_minor, c.currency) : null],
        [t('cases.incidentDate'), c.incident_date], [t('cases.victimName'), c.victim_name], [t('cases.victimEmail'), c.victim_email],
        [t('cases.source'), tv('csrc', c.source)], [t('case.fraudReason'), c.fraud_reason ? tv('reason', c.fraud_reason) : null],
        [t('common.created'), dateTime(c.created_at)], [t('case.submittedAt'), c.submitted_at ? dateTime(c.submitted_at) : null],
        [t('case.resolvedAt'), c.resolved_at ? dateTime(c.resolved_at) : null], [t('cases.description'), c.description],
      ].filter(([, v]) => v).map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]))),
      section(t('case.evidence'), evidenceTable(evidence.data), write ? evidenceForm(id, load) : null),
      section(t('case.transactions'), txTable(txs.data)),
      c.blocklist_entries && c.blocklist_entries.length ? section(t('case.blocklist'), h('ul', {}, c.blocklist_entries.map((b) => h('li', {}, `${tv('lt', b.list_type)}: `, h('code', {}, b.value))))) : null,
      section(t('case.activity'), h('ol', { class: 'activity', dataset: { list: 'activity' } }, activity.data.map((a) => h('li', {},
        h('time', { datetime: a.created_at }, dateTime(a.created_at)), ' · ', h('strong', {}, tv('act', a.action)), ' · ', a.actor,
        a.details && a.details.from ? ` (${tv('status', a.details.from)} → ${tv('status', a.details.to)})` : '')))));
  }
  await load();
}

function actions(c, reload) {
  const status = statusBox();
  const run = (btn, fn, msg) => busy(btn, async () => {
    try {
      await fn();
      await reload(msg);
    } catch (e) {
      showError(status, e);
    }
  });
  const buttons = c.allowed_transitions.filter((s) => s !== 'enviado').map((s) => h('button', {
    type: 'button', dataset: { transition: s }, class: s === 'archivado' ? 'danger' : '',
    onclick: (e) => run(e.currentTarget, () => patch(`/cases/${encodeURIComponent(c.id)}`, { status: s }), t('case.movedTo', { status: tv('status', s) })),
  }, t('case.moveTo', { status: tv('status', s) })));
  // `enviado` is reached only by submitting to the regulator, which needs a jurisdiction.
  let submit = null;
  if (c.allowed_transitions.includes('enviado')) {
    const jur = select('jurisdiction', [['', '—'], ...JURISDICTIONS.map((v) => [v, v])], c.jurisdiction || '');
    submit = h('form', {
      class: 'row submit', dataset: { form: 'submit-case' }, onsubmit: (e) => {
        e.preventDefault();
        const btn = e.currentTarget.querySelector('button');
        run(btn, async () => {
          if (!jur.value) throw new Error(t('case.needJurisdiction'));
          if (jur.value !== c.jurisdiction) await patch(`/cases/${encodeURIComponent(c.id)}`, { jurisdiction: jur.value });
          await post(`/cases/${encodeURIComponent(c.id)}/submit`);
        }, t('case.submitted'));
      },
    }, field(t('cases.jurisdiction'), jur), h('button', { type: 'submit', class: 'primary', dataset: { action: 'submit-case' } }, t('case.submit')));
  }
  return h('section', { class: 'card actions-bar', 'aria-label': t('case.actions') },
    h('h2', {}, t('case.actions')), h('div', { class: 'actions' }, buttons), submit, status);
}

function evidenceTable(rows) {
  return h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'evidence' } },
    h('thead', {}, h('tr', {}, [t('case.kind'), t('case.url'), t('cases.description'), t('case.addedBy'), t('common.date')].map((l) => h('th', { scope: 'col' }, l)))),
    h('tbody', {}, rows.length === 0 ? h('tr', {}, h('td', { colspan: 5, class: 'empty' }, t('case.noEvidence')))
      : rows.map((e) => h('tr', {}, h('td', {}, tv('evk', e.kind)),
        h('td', {}, e.url && /^https?:\/\//i.test(e.url) ? h('a', { href: e.url, rel: 'noopener noreferrer', target: '_blank' }, e.url) : e.url || '—'),
        h('td', {}, e.description || '—'), h('td', {}, e.added_by), h('td', {}, dateTime(e.created_at)))))));
}

function evidenceForm(id, reload) {
  const status = statusBox();
  const form = h('form', { class: 'row', dataset: { form: 'evidence' } },
    field(t('case.kind'), select('kind', [['note', tv('evk', 'note')], ['url', tv('evk', 'url')]], 'note')),
    field(t('case.url'), input('url', { type: 'url', placeholder: 'https://' })),
    field(t('cases.description'), input('description')),
    h('button', { type: 'submit' }, t('case.addEvidence')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { kind: form.kind.value };
    if (form.url.value.trim()) body.url = form.url.value.trim();
    if (form.description.value.trim()) body.description = form.description.value.trim();
    await busy(form.querySelector('button'), async () => {
      try {
        await post(`/cases/${id}/evidence`, body);
        await reload(t('case.evidenceAdded'));
      } catch (err) {
        showError(status, err, form);
      }
    });
  });
  return form;
}

function txTable(rows) {
  return h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'case-transactions' } },
    h('thead', {}, h('tr', {}, [t('common.transaction'), t('common.date'), t('common.amount'), t('mon.decision'), t('mon.score'), t('mon.email')].map((l) => h('th', { scope: 'col' }, l)))),
    h('tbody', {}, rows.length === 0 ? h('tr', {}, h('td', { colspan: 6, class: 'empty' }, t('case.noTransactions')))
      : rows.map((x) => h('tr', { dataset: { id: x.id } },
        h('td', {}, h('a', { href: `/dashboard/transactions/${encodeURIComponent(x.id)}` }, x.id)), h('td', {}, dateTime(x.created_at)),
        h('td', {}, money(x.amount_minor, x.currency)), h('td', {}, x.decision ? decisionBadge(x.decision) : '—'),
        h('td', {}, x.risk_score ?? '—'), h('td', {}, x.email || '—'))))));
}
