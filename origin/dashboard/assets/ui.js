// Shared interface pieces: status messages, error display (the API's
// `message`, and field details beside the field), badges, copy buttons.
import { h, put } from './dom.js';
import { t } from './i18n.js';

/** A live region for results and errors of one area of a screen. */
export function statusBox() {
  return h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
}

export function showOk(box, text) {
  box.className = 'status ok';
  put(box, text);
}

export function showInfo(box, text) {
  box.className = 'status';
  put(box, text);
}

/** Shows an ApiError: its message, and marks the field named in details. */
export function showError(box, err, form) {
  box.className = 'status error';
  box.setAttribute('role', 'alert');
  const msg = err && err.message ? err.message : String(err);
  put(box, err && err.status === 403 ? `${t('err.forbidden')} ${msg}` : msg);
  if (form) showFieldErrors(form, err);
}

export function showFieldErrors(form, err) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const d = err && err.details;
  if (!d || typeof d !== 'object') return;
  const fields = Array.isArray(d.fields) ? d.fields : d.field ? [{ field: d.field, message: err.message }] : [];
  for (const f of fields) {
    const ctl = form.querySelector(`[name="${CSS.escape(f.field)}"]`);
    if (!ctl) continue;
    ctl.setAttribute('aria-invalid', 'true');
    const slot = document.getElementById(`${ctl.id}-err`);
    if (slot) slot.textContent = f.message || err.message;
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
