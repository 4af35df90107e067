// Entry point: the router (History API, paths under /dashboard plus the
// public /invite/<token>), the shell (navigation, language, user) and the
// screen lifecycle. Each screen is a module under screens/ exporting
// `render(main, ctx)`, which may return a cleanup function (timers, listeners).
import { setExpiredHandler, token } from './api.js';
import { clear, h, put } from './dom.js';
import { getLang, setLang, t, LANGS } from './i18n.js';
import { can, currentUser, loadUser, signOut } from './session.js';
import { errorText } from './ui.js';

// [pattern, screen module, title key, nav key]
const ROUTES = [
  [/^\/dashboard\/?$/, 'panel', 'nav.panel'],
  [/^\/dashboard\/protection\/?$/, 'protection', 'nav.protection'],
  [/^\/dashboard\/protection\/rules\/?$/, 'rules', 'nav.rules'],
  [/^\/dashboard\/transactions\/?$/, 'monitor', 'nav.monitor'],
  [/^\/dashboard\/transactions\/([^/]+)\/?$/, 'transaction', 'nav.monitor'],
  [/^\/dashboard\/simulation\/?$/, 'simulation', 'nav.simulation'],
  [/^\/dashboard\/cases\/?$/, 'cases', 'nav.cases'],
  [/^\/dashboard\/cases\/([^/]+)\/?$/, 'case', 'nav.cases'],
  [/^\/dashboard\/team\/?$/, 'team', 'nav.team'],
  [/^\/dashboard\/integrations\/?$/, 'integrations', 'nav.integrations'],
];
// Reachable without a session.
const PUBLIC = [
  [/^\/dashboard\/login\/?$/, 'login', 'login.title'],
  [/^\/(?:dashboard\/)?invite\/([^/]+)\/?$/, 'invite', 'invite.title'],
];
const NAV = [
  ['/dashboard', 'nav.panel'],
  ['/dashboard/protection', 'nav.protection'],
  ['/dashboard/protection/rules', 'nav.rules'],
  ['/dashboard/transactions', 'nav.monitor'],
  ['/dashboard/simulation', 'nav.simulation'],
  ['/dashboard/cases', 'nav.cases'],
  ['/dashboard/team', 'nav.team'],
  ['/dashboard/integrations', 'nav.integrations'],
];

const root = document.getElementById('app');
let cleanup = null;
let generation = 0;
let firstRender = true;

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}

function match(table, path) {
  for (const [re, screen, title] of table) {
    const m = re.exec(path);
    if (m) return { screen, title, params: m.slice(1).map(decodeURIComponent) };
  }
  return null;
}

async function route() {
  const gen = ++generation;
  if (cleanup) {
    try {
      cleanup();
    } catch {}
    cleanup = null;
  }
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  let found = match(PUBLIC, path);
  let main;
  if (found) {
    if (found.screen === 'login' && token.get()) return navigate('/dashboard', { replace: true });
    main = h('main', { id: 'main', class: 'public', tabindex: '-1' });
    put(root, main);
  } else {
    if (!token.get()) {
      sessionStorage.setItem('clausum.return', path + location.search);
      return navigate('/dashboard/login', { replace: true });
    }
    try {
      await loadUser();
    } catch (e) {
      if (e.status === 401) return; // the expiry handler has moved on
      put(root, h('main', { id: 'main' }, h('p', { class: 'status error', role: 'alert' }, errorText(e))));
      return;
    }
    if (gen !== generation) return;
    found = match(ROUTES, path) || { screen: 'notfound', title: 'notfound.title', params: [] };
    main = shell(path);
  }
  document.title = `${t(found.title)} · Clausum`;
  const ctx = { params: found.params, query, navigate, path };
  try {
    const mod = await import(`./screens/${found.screen}.js`);
    if (gen !== generation) return;
    const done = await mod.render(main, ctx);
    if (gen !== generation) {
      if (typeof done === 'function') done();
      return;
    }
    if (typeof done === 'function') cleanup = done;
  } catch (e) {
    if (gen !== generation || e.status === 401) return;
    main.append(h('p', { class: 'status error', role: 'alert' }, errorText(e)));
  }
  // Move focus to the new page for keyboard and screen-reader users.
  if (!firstRender) main.focus({ preventScroll: false });
  firstRender = false;
}

/** The signed-in frame: header, navigation, main area; returns main. */
function shell(path) {
  const user = currentUser();
  const active = NAV.filter(([href]) => path === href || path.startsWith(`${href}/`))
    .sort((a, b) => b[0].length - a[0].length)[0]?.[0];
  const nav = h('nav', { class: 'nav', 'aria-label': t('nav.label') },
    h('ul', {}, NAV.map(([href, key]) =>
      h('li', {}, h('a', { href, 'aria-current': href === active ? 'page' : null, dataset: { nav: href.split('/').pop() } }, t(key))))));
  const lang = h('select', { id: 'lang', 'aria-label': t('shell.language'), onchange: (e) => { setLang(e.target.value); route(); } },
    LANGS.map(([v, l]) => h('option', { value: v, selected: v === getLang() }, l)));
  const header = h('header', { class: 'top' },
    h('a', { class: 'brand', href: '/dashboard' }, 'Clausum'),
    h('div', { class: 'who' },
      h('span', { class: 'user', dataset: { role: user.role } }, user.email, ' · ', t(`role.${user.role}`)),
      h('label', { for: 'lang', class: 'sr-only' }, t('shell.language')), lang,
      h('button', { type: 'button', class: 'link', onclick: () => { signOut(); navigate('/dashboard/login'); } }, t('shell.signOut'))));
  const main = h('main', { id: 'main', tabindex: '-1' });
  clear(root);
  const skip = document.querySelector('.skip');
  if (skip) skip.textContent = t('shell.skip');
  root.append(header, h('div', { class: 'layout' }, nav, main));
  document.documentElement.lang = getLang();
  return main;
}

// Same-origin links under /dashboard are routed in the page.
document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/dashboard')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', route);
setExpiredHandler(() => navigate('/dashboard/login', { replace: true }));

// Exposed for screens that need it without a circular import.
window.addEventListener('clausum:navigate', (e) => navigate(e.detail));

document.documentElement.lang = getLang();
route();

export { can };
