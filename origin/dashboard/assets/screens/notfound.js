// Unknown path under /dashboard.
import { h } from '../dom.js';
import { t } from '../i18n.js';

export function render(main) {
  main.append(h('h1', {}, t('notfound.title')), h('p', {}, h('a', { href: '/dashboard' }, t('nav.panel'))));
}
