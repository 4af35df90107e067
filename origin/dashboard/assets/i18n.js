// Interface language: Spanish by default, English on request; the choice is
// kept in localStorage. Messages live in messages-es.js / messages-en.js,
// keyed by dotted names; `{name}` placeholders are filled from `vars`.
import es from './messages-es.js';
import en from './messages-en.js';

const KEY = 'clausum.lang';
const DICTS = { es, en };
export const LANGS = [['es', 'Español'], ['en', 'English']];
// Intl locales: Latin-American Spanish formats (the product's markets).
const LOCALES = { es: 'es-MX', en: 'en-US' };

let lang = DICTS[localStorage.getItem(KEY)] ? localStorage.getItem(KEY) : 'es';

export const getLang = () => lang;
export const locale = () => LOCALES[lang];

export function setLang(l) {
  if (!DICTS[l]) return;
  lang = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l;
}

export function t(key, vars) {
  let s = DICTS[lang][key] ?? DICTS.es[key];
  if (s === undefined) return key; // a missing message shows its key, never breaks the page
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m));
  return s;
}

/** Whether a message exists (in this language or the Spanish fallback). */
export const has = (key) => DICTS[lang][key] !== undefined || DICTS.es[key] !== undefined;

/** Translation of an API enum value if one exists, else the value itself. */
export function tv(group, value) {
  if (value === null || value === undefined || value === '') return '—';
  const k = `${group}.${value}`;
  const s = t(k);
  return s === k ? String(value) : s;
}
