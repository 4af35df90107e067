// Reglas: custom rules (list, add, edit, enable, delete) with an editor that
// checks the text as it is typed, a 7-day backtest preview of the draft rule
// set, and the signal weights and decision thresholds.
import { del, get, patch, post, put as putJson } from '../api.js';
import { field, h, input, put } from '../dom.js';
import { t, tv } from '../i18n.js';
import { dateTime, money, num } from '../format.js';
import { can } from '../session.js';
import { badge, busy, decisionBadge, section, showError, showInfo, showOk, statusBox } from '../ui.js';

const DEBOUNCE_MS = 350;
const WEEK_MS = 7 * 24 * 3600 * 1000;

export async function render(main) {
  const status = statusBox();
  const listBox = h('div', { 'aria-live': 'polite' });
  const editorBox = h('div', {});
  let rules = [];

  async function loadRules() {
    try {
      rules = (await get('/rules')).data;
      const cols = [
        { label: t('rules.name'), cell: (r) => r.name },
        { label: t('rules.priority'), cell: (r) => num(r.priority) },
        { label: t('rules.state'), cell: (r) => (r.enabled ? badge(t('rules.enabled'), 'ok') : badge(t('rules.disabled'))) },
        { label: t('rules.source'), cell: (r) => h('code', { class: 'rule-src' }, r.source) },
        { label: t('common.updated'), cell: (r) => dateTime(r.updated_at) },
      ];
      if (can('write_rules')) cols.push({ label: t('common.actions'), cell: rowActions });
      put(listBox, h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'rules' } },
        h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c.label)))),
        h('tbody', {}, rules.length === 0 ? h('tr', {}, h('td', { colspan: cols.length, class: 'empty' }, t('rules.empty')))
          : rules.map((r) => h('tr', { dataset: { id: r.id, name: r.name, enabled: String(r.enabled) } }, cols.map((c) => h('td', {}, c.cell(r)))))))));
    } catch (e) {
      showError(status, e);
    }
  }

  function rowActions(r) {
    return h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'small', dataset: { action: 'edit' }, onclick: () => openEditor(r) }, t('common.edit')),
      h('button', {
        type: 'button', class: 'small', dataset: { action: 'toggle' }, onclick: (e) => busy(e.currentTarget, async () => {
          try {
            await patch(`/rules/${encodeURIComponent(r.id)}`, { enabled: !r.enabled });
            showOk(status, t(r.enabled ? 'rules.disabledOk' : 'rules.enabledOk', { name: r.name }));
            await loadRules();
          } catch (err) {
            showError(status, err);
          }
        }),
      }, r.enabled ? t('rules.disable') : t('rules.enable')),
      h('button', {
        type: 'button', class: 'small danger', dataset: { action: 'delete' }, onclick: (e) => {
          if (!confirm(t('rules.confirmDelete', { name: r.name }))) return;
          busy(e.currentTarget, async () => {
            try {
              await del(`/rules/${encodeURIComponent(r.id)}`);
              showOk(status, t('rules.deleted', { name: r.name }));
              await loadRules();
            } catch (err) {
              showError(status, err);
            }
          });
        },
      }, t('common.delete')));
  }

  function openEditor(rule) {
    put(editorBox, ruleEditor(rule, () => rules, async (msg) => {
      showOk(status, msg);
      put(editorBox);
      await loadRules();
    }, () => put(editorBox)));
    editorBox.querySelector('input[name=name]').focus();
  }

  const head = [status];
  if (can('write_rules')) head.push(h('button', { type: 'button', class: 'primary', dataset: { action: 'new-rule' }, onclick: () => openEditor(null) }, t('rules.new')));
  main.append(h('div', { class: 'page-head' }, h('h1', {}, t('nav.rules'))),
    section(t('rules.title'), h('p', { class: 'hint' }, t('rules.help')), ...head, editorBox, listBox));
  await loadRules();
  main.append(await scoring());
}

/** The rule form: name, priority, enabled, text with live validation, preview. */
function ruleEditor(rule, allRules, saved, cancel) {
  const status = statusBox();
  const check = h('div', { class: 'rule-check', 'aria-live': 'polite', dataset: { check: '' } });
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const source = h('textarea', {
    name: 'source', rows: 6, class: 'mono', spellcheck: 'false', required: true,
    placeholder: 'when amount > 500000 and email.domain in ["mailinator.com"]\nthen decline as big_disposable',
  });
  source.value = rule ? rule.source : '';
  const enabled = h('input', { type: 'checkbox', name: 'enabled', checked: rule ? rule.enabled : true });
  const form = h('form', { class: 'editor', dataset: { form: 'rule' }, 'aria-label': rule ? t('rules.editing', { name: rule.name }) : t('rules.new') },
    h('h3', {}, rule ? t('rules.editing', { name: rule.name }) : t('rules.new')),
    h('div', { class: 'row' },
      field(t('rules.name'), input('name', { value: rule ? rule.name : '', required: true, maxlength: 100 })),
      field(t('rules.priority'), input('priority', { type: 'number', min: 0, max: 1000000, value: rule ? rule.priority : 100 })),
      h('div', { class: 'field check' }, h('label', {}, enabled, ' ', t('rules.enabled')))),
    field(t('rules.source'), source, t('rules.sourceHint')),
    check,
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'primary' }, t('common.save')),
      h('button', { type: 'button', dataset: { action: 'preview' }, onclick: (e) => runPreview(e.currentTarget) }, t('rules.preview')),
      h('button', { type: 'button', class: 'link', onclick: cancel }, t('common.cancel'))),
    status, preview);

  // Validation as you type, debounced; late answers for older text are dropped.
  let timer = null;
  let seq = 0;
  async function validate() {
    const mine = ++seq;
    const text = source.value;
    if (!text.trim()) return put(check);
    try {
      const v = await post('/rules/validate', { source: text });
      if (mine !== seq) return;
      if (v.valid) {
        source.removeAttribute('aria-invalid');
        check.className = 'rule-check ok';
        put(check, t('rules.valid'));
      } else {
        source.setAttribute('aria-invalid', 'true');
        check.className = 'rule-check error';
        put(check, syntaxError(text, v.error));
      }
    } catch (e) {
      if (mine === seq) showError(check, e);
    }
  }
  source.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(validate, DEBOUNCE_MS);
  });
  if (rule) validate();

  function draftRuleSet() {
    const others = allRules().filter((r) => r.enabled && (!rule || r.id !== rule.id));
    const mine = { name: form.name.value.trim() || t('rules.draftName'), source: source.value, priority: Number(form.priority.value || 100) };
    const set = enabled.checked ? [...others, mine] : others;
    return set.sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name)).map(({ name, source: s }) => ({ name, source: s }));
  }

  async function runPreview(btn) {
    await busy(btn, async () => {
      showInfo(status, t('rules.previewRunning'));
      try {
        const until = new Date();
        const r = await post('/simulation/backtest', { rules: draftRuleSet(), since: new Date(until - WEEK_MS).toISOString(), until: until.toISOString(), examples: 10 });
        showOk(status, t('rules.previewDone'));
        put(preview, backtestReport(r));
      } catch (e) {
        showError(status, e, form);
      }
    });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: form.name.value.trim(), priority: Number(form.priority.value || 100), enabled: enabled.checked, source: source.value };
    await busy(form.querySelector('button[type=submit]'), async () => {
      try {
        if (rule) await patch(`/rules/${encodeURIComponent(rule.id)}`, body);
        else await post('/rules', body);
        await saved(t('rules.saved', { name: body.name }));
      } catch (err) {
        showError(status, err, form);
        if (err.details && err.details.line) put(check, syntaxError(source.value, err.details));
      }
    });
  });
  return form;
}

/** "Line 2, column 5: message" and the line with a caret under the column. */
function syntaxError(text, err) {
  const line = text.split('\n')[err.line - 1] ?? '';
  const caret = `${' '.repeat(Math.max(0, err.column - 1))}^`;
  return h('div', {},
    h('p', { dataset: { line: String(err.line), column: String(err.column) } },
      t('rules.errorAt', { line: err.line, column: err.column }), ' ', err.message || '',
      err.expected ? ` (${t('rules.expected')} ${err.expected})` : ''),
    h('pre', { class: 'caret', 'aria-hidden': 'true' }, `${line}\n${caret}`));
}

function backtestReport(r) {
  return h('div', { class: 'card inset', dataset: { backtest: '' } },
    h('h4', {}, t('rules.previewTitle', { since: dateTime(r.since), until: dateTime(r.until) })),
    h('p', { class: 'big', dataset: { changed: String(r.changed) } }, t('rules.changed', { changed: num(r.changed), total: num(r.total) })),
    h('p', { class: 'hint' }, t('rules.unchangedSkipped', { unchanged: num(r.unchanged), skipped: num(r.skipped), ms: num(r.duration_ms) })),
    r.transitions.length ? h('ul', {}, r.transitions.map((x) => h('li', {}, decisionBadge(x.from), ' → ', decisionBadge(x.to), ` × ${num(x.count)}`))) : null,
    r.examples.length ? h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', {}, t('rules.examples')),
      h('thead', {}, h('tr', {}, [t('common.date'), t('common.transaction'), t('common.amount'), t('rules.before'), t('rules.after')].map((l) => h('th', { scope: 'col' }, l)))),
      h('tbody', {}, r.examples.map((x) => h('tr', {},
        h('td', {}, dateTime(x.created_at)),
        h('td', {}, h('a', { href: `/dashboard/transactions/${encodeURIComponent(x.transaction_id)}` }, x.transaction_id)),
        h('td', {}, money(x.amount_minor, x.currency)),
        h('td', {}, decisionBadge(x.recorded_decision)), h('td', {}, decisionBadge(x.backtest_decision))))))) : null);
}

/** Signal weights and decision thresholds (editable by admins). */
async function scoring() {
  const status = statusBox();
  const s = await get('/settings/scoring');
  const editable = can('write_settings');
  const weightInputs = new Map();
  const rows = s.signals.map((sig) => {
    const inp = input(`w_${sig.code}`, { type: 'number', min: -100, max: 100, value: sig.weight, readonly: !editable, 'aria-label': t('scoring.weightOf', { code: sig.code }), class: 'num' });
    weightInputs.set(sig.code, { inp, sig });
    return h('tr', {}, h('td', {}, tv('cat', sig.category)), h('td', {}, h('code', {}, sig.code)), h('td', {}, sig.description),
      h('td', { class: 'num' }, num(sig.default_weight)), h('td', {}, inp));
  });
  const th = (name) => input(name, { type: 'number', min: 1, max: 100, value: s.thresholds[name], readonly: !editable, required: true });
  const form = h('form', { dataset: { form: 'scoring' } },
    h('fieldset', {}, h('legend', {}, t('scoring.thresholds')),
      h('div', { class: 'row' }, field(t('decision.review'), th('review')), field(t('decision.challenge'), th('challenge')), field(t('decision.decline'), th('decline')))),
    h('div', { class: 'table-wrap' }, h('table', { dataset: { table: 'weights' } },
      h('caption', {}, t('scoring.weights')),
      h('thead', {}, h('tr', {}, [t('scoring.category'), t('scoring.code'), t('scoring.description'), t('scoring.default'), t('scoring.weight')].map((l) => h('th', { scope: 'col' }, l)))),
      h('tbody', {}, rows))),
    editable ? h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('scoring.save'))) : h('p', { class: 'hint' }, t('scoring.readOnly')),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // Overrides are the whole set: keep the ones not listed (per-list weights).
    const weights = { ...s.weights };
    for (const [code, { inp, sig }] of weightInputs) {
      const w = Number(inp.value);
      if (w === sig.default_weight) delete weights[code];
      else weights[code] = w;
    }
    const thresholds = { review: Number(form.review.value), challenge: Number(form.challenge.value), decline: Number(form.decline.value) };
    await busy(form.querySelector('button[type=submit]'), async () => {
      try {
        const out = await putJson('/settings/scoring', { weights, thresholds });
        Object.assign(s, out);
        showOk(status, t('scoring.saved'));
      } catch (err) {
        showError(status, err, form);
      }
    });
  });
  return section(t('scoring.title'), form);
}
