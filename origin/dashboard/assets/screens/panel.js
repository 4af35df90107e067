// Panel: the overview counters and the trend for 24 h / 7 d / 30 d,
// bucketed in the browser's time zone. Fetched each time it is shown, and
// again on a change notice (`data-refresh`: a simulation run in this tab or
// in another tab of the dashboard, see changes.js).
import { get } from '../api.js';
import { onChange } from '../changes.js';
import { h, put } from '../dom.js';
import { t } from '../i18n.js';
import { browserTz, dateTime } from '../format.js';
import { trendChart } from '../chart.js';
import { overviewCards } from '../kpis.js';
import { showError, statusBox } from '../ui.js';

const RANGES = ['24h', '7d', '30d'];

export async function render(main, { query, navigate }) {
  let range = RANGES.includes(query.get('range')) ? query.get('range') : '24h';
  const status = statusBox();
  const body = h('div', { class: 'panel-body', 'aria-live': 'polite', 'aria-busy': 'true' });
  const buttons = RANGES.map((r) => h('button', {
    type: 'button', class: 'seg-btn', 'aria-pressed': String(r === range), dataset: { range: r },
    onclick: () => navigate(`/dashboard?range=${r}`, { replace: true }),
  }, t(`range.${r}`)));
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, t('nav.panel')),
      h('div', { class: 'segmented', role: 'group', 'aria-label': t('range.label') }, buttons)),
    status, body);

  let seq = 0;
  async function load() {
    const mine = ++seq;
    body.setAttribute('aria-busy', 'true');
    try {
      const o = await get('/dashboard/overview', { range, tz: browserTz() });
      if (mine !== seq) return; // a later load has the newer figures
      put(body,
        overviewCards(o),
        h('section', { class: 'card', 'aria-labelledby': 'trend-h' },
          h('h2', { id: 'trend-h' }, t('panel.trend')),
          h('p', { class: 'hint' }, t('panel.window', { since: dateTime(o.since), until: dateTime(o.until), tz: o.tz })),
          trendChart(o.trend, range)));
      body.dataset.loaded = range;
    } catch (e) {
      if (mine === seq) showError(status, e);
    } finally {
      if (mine === seq) body.setAttribute('aria-busy', 'false');
    }
  }
  await load();
  return onChange(() => load());
}
