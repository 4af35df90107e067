// Integraciones: API keys (the full key is shown once at creation), webhook
// endpoints with their delivery log, re-send, secret rotation and
// disable / re-enable, and the rules that turn ingested events into cases
// or alerts.
import { del, get, patch, post } from '../api.js';
import { field, h, input, put, select } from '../dom.js';
import { t, tv } from '../i18n.js';
import { dateTime, num } from '../format.js';
import { can } from '../session.js';
import { badge, busy, secretOnce, section, showError, showOk, statusBox } from '../ui.js';

export async function render(main) {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, t('nav.integrations'))));
  if (!can('read_keys')) {
    main.append(h('p', { class: 'hint' }, t('int.noKeysRole')));
  } else {
    main.append(await apiKeys(), await webhooks());
  }
  main.append(await ingestionRules());
}

const tableOf = (name, headers, rows, empty) => h('div', { class: 'table-wrap' }, h('table', { dataset: { table: name } },
  h('thead', {}, h('tr', {}, headers.map((l) => h('th', { scope: 'col' }, l)))),
  h('tbody', {}, rows.length === 0 ? h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, empty)) : rows)));

async function apiKeys() {
  const status = statusBox();
  const once = h('div', { 'aria-live': 'polite' });
  const box = h('div', {});
  const manage = can('manage_keys');
  async function load() {
    try {
      const { data } = await get('/api-keys');
      put(box, tableOf('api-keys', [t('int.keyName'), t('int.kind'), t('int.prefix'), t('int.permissions'), t('int.limits'), t('common.created'), t('team.state'), ...(manage ? [t('common.actions')] : [])],
        data.map((k) => h('tr', { dataset: { id: k.id, status: k.status } },
          h('td', {}, k.name || '—'), h('td', {}, tv('kind', k.kind)), h('td', {}, h('code', {}, k.display_prefix)),
          h('td', {}, (k.permissions || []).join(', ') || '—'),
          h('td', {}, t('int.perMinuteDay', { m: k.rate_limit_per_minute == null ? '∞' : num(k.rate_limit_per_minute), d: k.rate_limit_per_day == null ? '∞' : num(k.rate_limit_per_day) })),
          h('td', {}, dateTime(k.created_at)),
          h('td', {}, badge(tv('keyst', k.status), k.status === 'active' ? 'ok' : 'bad')),
          manage ? h('td', {}, k.status === 'active' ? h('button', {
            type: 'button', class: 'small danger', dataset: { action: 'revoke' }, onclick: (e) => {
              if (!confirm(t('int.confirmRevoke', { name: k.name || k.display_prefix }))) return;
              busy(e.currentTarget, async () => {
                try {
                  await del(`/api-keys/${encodeURIComponent(k.id)}`);
                  showOk(status, t('int.revoked', { name: k.name || k.display_prefix }));
                  await load();
                } catch (err) {
                  showError(status, err);
                }
              });
            },
          }, t('int.revoke')) : '') : null)), t('int.noKeys')));
    } catch (e) {
      showError(status, e.status === 404 ? new Error(t('int.keysUnavailable')) : e);
    }
  }
  let form = null;
  if (manage) {
    form = h('form', { class: 'row', dataset: { form: 'api-key' } },
      field(t('int.kind'), select('kind', ['secret', 'publishable', 'ingest'].map((k) => [k, tv('kind', k)]), 'secret')),
      field(t('int.keyName'), input('name', { required: true, maxlength: 100 })),
      h('button', { type: 'submit', class: 'primary' }, t('int.createKey')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      await busy(form.querySelector('button'), async () => {
        try {
          const out = await post('/api-keys', { kind: form.kind.value, name: form.name.value.trim() });
          put(once, secretOnce(t('int.newKey'), out.key));
          showOk(status, t('int.created', { name: out.api_key.name }));
          form.reset();
          await load();
        } catch (err) {
          showError(status, err, form);
        }
      });
    });
  }
  await load();
  return section(t('int.apiKeys'), form, status, once, box);
}

async function webhooks() {
  const status = statusBox();
  const once = h('div', { 'aria-live': 'polite' });
  const box = h('div', {});
  const manage = can('manage_keys');
  const events = await get('/webhooks/events');
  async function load() {
    try {
      const list = await get('/webhooks/endpoints');
      put(box, list.length === 0 ? h('p', { class: 'empty' }, t('int.noEndpoints')) : list.map((ep) => endpointCard(ep)));
    } catch (e) {
      showError(status, e);
    }
  }
  function endpointCard(ep) {
    const deliveries = h('div', { 'aria-live': 'polite' });
    const act = (fn) => (e) => busy(e.currentTarget, async () => {
      try {
        await fn();
      } catch (err) {
        showError(status, err);
      }
    });
    return h('article', { class: 'card inset', dataset: { endpoint: ep.id, enabled: String(ep.enabled) } },
      h('h3', {}, h('code', {}, ep.url), ' ', ep.enabled ? badge(t('int.enabled'), 'ok') : badge(t('int.disabled'), 'bad')),
      h('p', { class: 'hint' }, ep.description || '', ep.description ? ' · ' : '', t('int.events'), ': ', ep.events.length ? ep.events.join(', ') : t('int.allEvents'),
        ' · ', t('int.secretHint'), ': ', h('code', {}, ep.secret_hint), ep.consecutive_failures ? ` · ${t('int.failures', { n: ep.consecutive_failures })}` : '',
        ep.disabled_reason ? ` · ${ep.disabled_reason}` : ''),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', dataset: { action: 'deliveries' }, onclick: act(() => loadDeliveries(ep, deliveries)) }, t('int.deliveries')),
        manage ? h('button', {
          type: 'button', class: 'small', onclick: act(async () => {
            if (!confirm(t('int.confirmRotate'))) return;
            const out = await post(`/webhooks/endpoints/${encodeURIComponent(ep.id)}/rotate-secret`);
            put(once, secretOnce(t('int.newSecret'), out.secret));
            await load();
          }),
        }, t('int.rotate')) : null,
        // Re-enabling an endpoint disabled for failing also clears its failure count (the API does it).
        manage ? h('button', {
          type: 'button', class: 'small', dataset: { action: 'toggle-endpoint' }, onclick: act(async () => {
            await patch(`/webhooks/endpoints/${encodeURIComponent(ep.id)}`, { enabled: !ep.enabled });
            showOk(status, t(ep.enabled ? 'int.endpointDisabled' : 'int.endpointEnabled', { url: ep.url }));
            await load();
          }),
        }, ep.enabled ? t('int.disableEndpoint') : t('int.enableEndpoint')) : null,
        manage ? h('button', {
          type: 'button', class: 'small danger', onclick: act(async () => {
            if (!confirm(t('int.confirmDeleteEndpoint', { url: ep.url }))) return;
            await del(`/webhooks/endpoints/${encodeURIComponent(ep.id)}`);
            showOk(status, t('int.endpointDeleted'));
            await load();
          }),
        }, t('common.delete')) : null),
      deliveries);
  }
  async function loadDeliveries(ep, target) {
    const page = await get(`/webhooks/endpoints/${encodeURIComponent(ep.id)}/deliveries`, { limit: 20 });
    put(target, tableOf('deliveries', [t('common.date'), t('int.event'), t('team.state'), t('int.attempts'), t('int.lastStatus'), t('int.lastError'), ...(manage ? [t('common.actions')] : [])],
      page.data.map((d) => h('tr', { dataset: { id: d.id, event: d.event_id, status: d.status } }, h('td', {}, dateTime(d.created_at)), h('td', {}, h('code', {}, d.event_id)), h('td', {}, tv('dst', d.status)),
        h('td', {}, num(d.attempts)), h('td', {}, d.last_status ?? '—'), h('td', {}, d.last_error || '—'),
        manage ? h('td', {}, h('button', {
          type: 'button', class: 'small', dataset: { action: 'resend' }, onclick: (e) => busy(e.currentTarget, async () => {
            try {
              await post(`/webhooks/deliveries/${encodeURIComponent(d.id)}/resend`);
              showOk(status, t('int.resent'));
              await loadDeliveries(ep, target);
            } catch (err) {
              showError(status, err);
            }
          }),
        }, t('int.resend'))) : null)), t('int.noDeliveries')));
  }
  let form = null;
  if (manage) {
    const boxes = events.map((ev) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'events', value: ev.event }), ' ', h('code', {}, ev.event)));
    form = h('form', { class: 'grid-form', dataset: { form: 'endpoint' } },
      field(t('int.url'), input('url', { type: 'url', required: true, placeholder: 'https://' })),
      field(t('cases.description'), input('description')),
      h('fieldset', { class: 'events' }, h('legend', {}, t('int.eventsLegend')), boxes),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('int.addEndpoint'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { url: form.url.value.trim(), events: [...form.querySelectorAll('input[name=events]:checked')].map((c) => c.value) };
      if (form.description.value.trim()) body.description = form.description.value.trim();
      await busy(form.querySelector('button[type=submit]'), async () => {
        try {
          const out = await post('/webhooks/endpoints', body);
          put(once, secretOnce(t('int.signingSecret'), out.secret));
          form.reset();
          await load();
        } catch (err) {
          showError(status, err, form);
        }
      });
    });
  }
  await load();
  return section(t('int.webhooks'), status, once, box, form ? h('details', {}, h('summary', {}, t('int.addEndpoint')), form) : null);
}

async function ingestionRules() {
  const status = statusBox();
  const box = h('div', {});
  const write = can('write_ingestion');
  const ACTIONS = ['create_expediente', 'create_alert', 'flag_review', 'ignore'];
  async function load() {
    try {
      const { data } = await get('/ingestion-rules');
      put(box, tableOf('ingestion-rules', [t('rules.name'), t('rules.priority'), t('int.conditions'), t('int.action'), t('rules.state'), ...(write ? [t('common.actions')] : [])],
        data.map((r) => h('tr', { dataset: { id: r.id, name: r.name } }, h('td', {}, r.name), h('td', {}, num(r.priority)),
          h('td', {}, conditionsText(r.conditions)), h('td', {}, tv('ingact', r.action)),
          h('td', {}, r.enabled ? badge(t('rules.enabled'), 'ok') : badge(t('rules.disabled'))),
          write ? h('td', {}, h('button', {
            type: 'button', class: 'small danger', dataset: { action: 'delete' }, onclick: (e) => {
              if (!confirm(t('rules.confirmDelete', { name: r.name }))) return;
              busy(e.currentTarget, async () => {
                try {
                  await del(`/ingestion-rules/${encodeURIComponent(r.id)}`);
                  showOk(status, t('rules.deleted', { name: r.name }));
                  await load();
                } catch (err) {
                  showError(status, err);
                }
              });
            },
          }, t('common.delete'))) : null)), t('int.noIngestionRules')));
    } catch (e) {
      showError(status, e);
    }
  }
  let form = null;
  if (write) {
    form = h('form', { class: 'grid-form', dataset: { form: 'ingestion-rule' } },
      field(t('rules.name'), input('name', { required: true, maxlength: 100 })),
      field(t('int.eventType'), input('event_type', { placeholder: 'charge.dispute.created' }), t('int.eventTypeHint')),
      field(t('int.amountGte'), input('amount_gte', { type: 'number', min: 0 }), t('int.minorHint')),
      field(t('int.amountLte'), input('amount_lte', { type: 'number', min: 0 })),
      field(t('int.action'), select('rule_action', ACTIONS.map((a) => [a, tv('ingact', a)]), 'create_alert')),
      field(t('rules.priority'), input('priority', { type: 'number', min: 0, value: 100 })),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('int.addIngestionRule'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const conditions = {};
      if (form.event_type.value.trim()) conditions.event_type = form.event_type.value.trim();
      for (const k of ['amount_gte', 'amount_lte']) if (form[k].value !== '') conditions[k] = Number(form[k].value);
      const body = { name: form.name.value.trim(), action: form.elements.rule_action.value, priority: Number(form.priority.value || 100) };
      if (Object.keys(conditions).length) body.conditions = conditions;
      await busy(form.querySelector('button[type=submit]'), async () => {
        try {
          await post('/ingestion-rules', body);
          showOk(status, t('int.ingestionAdded', { name: body.name }));
          form.reset();
          await load();
        } catch (err) {
          showError(status, err, form);
        }
      });
    });
  }
  await load();
  return section(t('int.ingestion'), status, box, form ? h('details', {}, h('summary', {}, t('int.addIngestionRule')), form) : null);
}

function conditionsText(c) {
  if (!c) return t('int.anyEvent');
  const parts = [];
  if (c.event_type) parts.push(`event = ${c.event_type}`);
  if (c.amount_gte != null) parts.push(`amount ≥ ${num(c.amount_gte)}`);
  if (c.amount_lte != null) parts.push(`amount ≤ ${num(c.amount_lte)}`);
  return parts.join(' · ') || t('int.anyEvent');
}
