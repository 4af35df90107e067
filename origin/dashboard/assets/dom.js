// DOM building without innerHTML: every value goes in as text or as an
// attribute, so nothing from the API can become markup (and the strict CSP
// needs no inline styles or handlers).

/**
 * h('button', {class: 'x', onclick: fn, disabled: true}, 'text', child…)
 * Attributes: `class`, `text`, `on<event>` handlers, `dataset`, booleans
 * (true sets, false/null omits), anything else through setAttribute.
 */
export function h(tag, attrs, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'style') throw new Error('inline styles are refused by the CSP');
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'value' && !svg) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** SVG element shorthand. */
export const s = (tag, attrs, ...children) => h(`svg:${tag}`, attrs, ...children);

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** Replaces the children of `el`. */
export function put(el, ...children) {
  return append(clear(el), children);
}

let uid = 0;
/** A unique id for label/field and aria pairs. */
export const nextId = (p = 'f') => `${p}-${++uid}`;

/**
 * A labelled form field. `control` is an input/select/textarea element;
 * an error slot follows it (filled by showFieldErrors).
 */
export function field(label, control, hint) {
  const id = control.id || nextId();
  control.id = id;
  const err = h('p', { class: 'field-error', id: `${id}-err`, 'aria-live': 'polite' });
  control.setAttribute('aria-describedby', `${id}-err`);
  return h('div', { class: 'field', dataset: { field: control.name || '' } },
    h('label', { for: id }, label), control, hint ? h('p', { class: 'hint' }, hint) : null, err);
}

export function input(name, attrs = {}) {
  return h('input', { name, type: 'text', ...attrs });
}

/** <select> from [[value, label], …]. */
export function select(name, options, value, attrs = {}) {
  const el = h('select', { name, ...attrs },
    options.map(([v, l]) => h('option', { value: v }, l)));
  if (value !== undefined && value !== null) el.value = value;
  return el;
}

/** A table from column specs [{label, cell(row) → node|string, class}]. */
export function table(columns, rows, { caption, empty, rowAttrs } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', {},
        rows.length === 0
          ? h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty || '—'))
          : rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {}, columns.map((c) => h('td', { class: c.class }, c.cell(r))))))));
}

/** Form values as an object of trimmed strings (empty ones left out). */
export function formValues(form) {
  const out = {};
  for (const [k, v] of new FormData(form)) {
    if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
  }
  return out;
}
