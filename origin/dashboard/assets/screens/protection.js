// Protección: today's counters (refreshed every 30 s) and the blocklists:
// search, add, bulk import with its per-row report, expire/deactivate and,
// for admins, delete.
import { get } from '../api.js';
import { h, put } from '../dom.js';
import { locale, t } from '../i18n.js';
import { browserTz, num, pct } from '../format.js';
import { kpi, moneyList } from '../kpis.js';
import { showError, statusBox } from '../ui.js';
import { blocklists } from './blocklists.js';

const REFRESH_MS = 30_000;

export async function render(main, ctx) {
  const status = statusBox();
  const counters = h('div', { class: 'kpis', 'aria-live': 'polite' });
  const stamp = h('p', { class: 'hint' });
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, t('nav.protection')), stamp),
    status, counters);

  async function loadCounters() {
    try {
      const tz = browserTz();
      const [week, month] = await Promise.all([get('/dashboard/overview', { range: '7d', tz }), get('/dashboard/overview', { range: '30d', tz })]);
      const today = week.trend[week.trend.length - 1] || {};
      const yesterday = week.trend[week.trend.length - 2] || {};
      const diff = (today.blocked || 0) - (yesterday.blocked || 0);
      put(counters,
        kpi('today_evaluations', t('prot.todayEvaluations'), num(today.evaluations || 0)),
        kpi('today_blocked', t('prot.todayBlocked'), num(today.blocked || 0),
          t(diff > 0 ? 'prot.moreThanYesterday' : diff < 0 ? 'prot.lessThanYesterday' : 'prot.sameAsYesterday', { n: num(Math.abs(diff)) })),
        kpi('today_rate', t('prot.todayRate'), pct(today.approval_rate || 0)),
        kpi('money_30d', t('prot.money30d'), moneyList(month.money_protected)));
      stamp.textContent = t('prot.updated', { time: new Date().toLocaleTimeString(locale()) });
    } catch (e) {
      showError(status, e);
    }
  }
  await loadCounters();
  const timer = setInterval(loadCounters, REFRESH_MS);
  const onRefresh = () => loadCounters();
  window.addEventListener('data-refresh', onRefresh);

  main.append(await blocklists(ctx));
  return () => {
    clearInterval(timer);
    window.removeEventListener('data-refresh', onRefresh);
  };
}
