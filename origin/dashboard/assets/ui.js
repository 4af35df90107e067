// Shared interface pieces: status messages, error display (well-known API
// error codes in the interface language, the field an error names marked
// beside it), badges, copy buttons.
import { h, put } from './dom.js';
import { has, t } from './i18n.js';

/** A live region for results and errors of one area of a screen. */
export function statusBox() {
  return h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
}

export function showOk(box, text) {
  box.className = 'status ok';
  delete box.dataset.code;
  put(box, text);
}

export function showInfo(box, text) {
  box.className = 'status';
  delete box.dataset.code;
  put(box, text);
}

/** The field an API error names (`details.field`), if any. */
function fieldOf(err) {
  const d = err && err.details;
  return d && typeof d === 'object' && typeof d.field === 'string' ? d.field : null;
}

/**
 * What to tell the user about an error. A well-known API code (`err.<CODE>`
 * in the message tables) is said in the interface language, naming the
 * field when the API names one (`err.<CODE>.field`); `context` picks a more
 * specific message where one exists (`err.login.UNAUTHORIZED`). Anything
 * else (an unknown code, an error of the page itself) keeps its own text.
 */
export function errorText(err, context, field = fieldOf(err)) {
  if (!err) return '';
  const code = err.code;
  if (typeof code === 'string' && code) {
    const keys = [context ? `err.${context}.${code}` : null, field ? `err.${code}.field` : null, `err.${code}`];
    for (const key of keys) if (key && has(key)) return t(key, { field });
  }
  return err.message ? err.message : String(err);
}

/**
 * Shows an error in `box` (the code, if any, as `data-code`) and marks the
 * fields it names in `form`.
 */
export function showError(box, err, form, context) {
  box.className = 'status error';
  box.setAttribute('role', 'alert');
  if (err && typeof err.code === 'string') box.dataset.code = err.code;
  else delete box.dataset.code;
  put(box, errorText(err, context));
  if (form) showFieldErrors(form, err);
}

export function showFieldErrors(form, err) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const d = err && err.details;
  if (!d || typeof d !== 'object') return;
  const fields = Array.isArray(d.fields) ? d.fields : d.field ? [{ field: d.field }] : [];
  for (const f of fields) {
    const ctl = form.querySelector(`[name="${CSS.escape(f.field)}"]`);
    if (!ctl) continue;
    ctl.setAttribute('aria-invalid', 'true');
    const slot = document.getElementById(`${ctl.id}-err`);
    // The interface's message for this field; the API's own only when the code is not a known one.
    if (slot) slot.textContent = has(`err.${err.code}.field`) || has(`err.${err.code}`) ? errorText(err, null, f.field) : f.message || err.message;
  }
}

/** Runs `fn` with the button disabled; errors go to `box`. */
export async function busy(button, fn) {
  const was = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = was;
    button.removeAttribute('aria-busy');
  }
}

const DECISION_CLASS = { approve: 'ok', review: 'warn', challenge: 'info', decline: 'bad' };

export function decisionBadge(decision) {
  return h('span', { class: `badge ${DECISION_CLASS[decision] || ''}`, dataset: { decision: decision || '' } },
    decision ? t(`decision.${decision}`) : '—');
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}` }, text);
}

/** A secret shown once, with a copy button. */
export function secretOnce(label, value) {
  const code = h('code', { class: 'secret', dataset: { secret: '' } }, value);
  const note = h('span', { class: 'hint', 'aria-live': 'polite' });
  const btn = h('button', {
    type: 'button', class: 'small',
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(value);
        note.textContent = t('common.copied');
      } catch {
        // Clipboard refused (permissions): select the text for a manual copy.
        const r = document.createRange();
        r.selectNodeContents(code);
        getSelection().removeAllRanges();
        getSelection().addRange(r);
        note.textContent = t('common.copyManually');
      }
    },
  }, t('common.copy'));
  return h('div', { class: 'once', role: 'alert' }, h('p', {}, h('strong', {}, label), ' ', t('common.shownOnce')),
    h('div', { class: 'secret-row' }, code, btn, note));
}

/** A section with a heading (h2) and content. */
export function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

export function pager({ total, limit, offset }, go) {
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  return h('nav', { class: 'pager', 'aria-label': t('common.pages') },
    h('button', { type: 'button', disabled: offset === 0, onclick: () => go(Math.max(0, offset - limit)) }, t('common.prev')),
    h('span', { class: 'pager-info', 'aria-live': 'polite' }, t('common.range', { from, to, total })),
    h('button', { type: 'button', disabled: offset + limit >= total, onclick: () => go(offset + limit) }, t('common.next')));
}

/** A JSON value shown as indented text (already masked by the API). */
export function jsonBlock(value, label) {
  return h('pre', { class: 'json', tabindex: '0', 'aria-label': label }, JSON.stringify(value ?? null, null, 2));
}
