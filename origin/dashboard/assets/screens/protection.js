// Protección: today's counters (refreshed every 30 s and on a change
// notice) and the blocklists: search, add, bulk import with its per-row
// report, expire/deactivate and, for admins, delete.
import { get } from '../api.js';
import { onChange } from '../changes.js';
import { h, put } from '../dom.js';
import { locale, t } from '../i18n.js';
import { browserTz, monthStart, num, pct } from '../format.js';
import { kpi, moneyList } from '../kpis.js';
import { showError, statusBox } from '../ui.js';
import { blocklists } from './blocklists.js';

const REFRESH_MS = 30_000;
const PAGE = 500; // the transactions API's largest page

/**
 * Money protected this month: the declined amounts per currency since the
 * first day of the month in the browser's calendar (the overview's ranges
 * are rolling, so the month is summed from the declined transactions).
 */
async function moneyThisMonth() {
  const from = monthStart();
  const sums = new Map();
  for (let offset = 0; ; offset += PAGE) {
    const page = await get('/transactions', { decision: 'decline', from, limit: PAGE, offset });
    for (const tx of page.data) sums.set(tx.currency, (sums.get(tx.currency) || 0) + tx.amount_minor);
    if (page.data.length < PAGE || offset + PAGE >= page.pagination.total) break;
  }
  return [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([currency, amount]) => ({ currency, amount_minor: amount }));
}

export async function render(main, ctx) {
  const status = statusBox();
  const counters = h('div', { class: 'kpis', 'aria-live': 'polite', dataset: { area: 'counters' } });
  const stamp = h('p', { class: 'hint' });
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, t('nav.protection')), stamp),
    status, counters);

  let seq = 0;
  let refreshes = 0;
  async function loadCounters() {
    const mine = ++seq;
    try {
      const [week, month] = await Promise.all([get('/dashboard/overview', { range: '7d', tz: browserTz() }), moneyThisMonth()]);
      if (mine !== seq) return; // a later refresh has the newer figures
      const today = week.trend[week.trend.length - 1] || {};
      const yesterday = week.trend[week.trend.length - 2] || {};
      const diff = (today.blocked || 0) - (yesterday.blocked || 0);
      put(counters,
        kpi('today_evaluations', t('prot.todayEvaluations'), num(today.evaluations || 0)),
        kpi('today_blocked', t('prot.todayBlocked'), num(today.blocked || 0),
          t(diff > 0 ? 'prot.moreThanYesterday' : diff < 0 ? 'prot.lessThanYesterday' : 'prot.sameAsYesterday', { n: num(Math.abs(diff)) })),
        kpi('today_rate', t('prot.todayRate'), pct(today.approval_rate || 0)),
        kpi('money_month', t('prot.moneyMonth'), moneyList(month)));
      counters.dataset.refreshes = String(++refreshes);
      stamp.textContent = t('prot.updated', { time: new Date().toLocaleTimeString(locale()) });
    } catch (e) {
      if (mine === seq) showError(status, e);
    }
  }
  await loadCounters();
  const timer = setInterval(loadCounters, REFRESH_MS);
  const stopListening = onChange(() => loadCounters());

  const stop = () => {
    clearInterval(timer);
    stopListening();
  };
  try {
    main.append(await blocklists(ctx));
  } catch (e) {
    stop(); // no cleanup is returned when the screen fails
    throw e;
  }
  return stop;
}
