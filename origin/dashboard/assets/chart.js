// The Panel's trend chart, drawn as SVG by hand: stacked bars per bucket
// (approved, review, challenge, blocked) on the left axis, and the approval
// rate as a line on a right axis (0–100 %). Colours come from app.css
// classes (the CSP forbids inline styles). Screen readers get a <title>,
// a <desc> summary, and the same numbers as a table.
import { h, nextId, s } from './dom.js';
import { locale, t } from './i18n.js';
import { num, pct } from './format.js';

const W = 820;
const H = 300;
const M = { top: 16, right: 56, bottom: 44, left: 56 };
export const SERIES = ['approved', 'reviewed', 'challenged', 'blocked'];

/** A "nice" axis maximum and step for `max` (1, 2, 5 × 10^n steps). */
function niceScale(max, ticks = 4) {
  if (max <= 0) return { top: ticks, step: 1 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw);
  return { top: Math.ceil(max / step) * step, step };
}

function bucketLabel(start, range) {
  const d = new Date(start);
  const opts = range === '24h' ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short' };
  return new Intl.DateTimeFormat(locale(), opts).format(d);
}

export function trendChart(trend, range) {
  const titleId = nextId('chart-title');
  const descId = nextId('chart-desc');
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const n = Math.max(trend.length, 1);
  const band = pw / n;
  const barW = Math.max(2, band * 0.7);
  const totals = trend.map((b) => SERIES.reduce((a, k) => a + (b[k] || 0), 0));
  const { top, step } = niceScale(Math.max(0, ...totals));
  const y = (v) => M.top + ph - (v / top) * ph;
  const yr = (r) => M.top + ph - r * ph;
  const sum = (k) => trend.reduce((a, b) => a + (b[k] || 0), 0);

  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': `${titleId} ${descId}`,
    preserveAspectRatio: 'xMidYMid meet', dataset: { buckets: String(trend.length) },
  });
  svg.append(
    s('title', { id: titleId }, t('chart.title')),
    s('desc', { id: descId }, t('chart.desc', {
      n: trend.length, evaluations: num(sum('evaluations')), approved: num(sum('approved')), blocked: num(sum('blocked')),
    })));

  // Grid and left axis (counts).
  const axes = s('g', { class: 'axis', 'aria-hidden': 'true' });
  for (let v = 0; v <= top; v += step) {
    axes.append(
      s('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: M.left - 8, y: y(v) + 4, 'text-anchor': 'end' }, num(v)));
  }
  // Right axis (approval rate).
  for (const r of [0, 0.25, 0.5, 0.75, 1]) {
    axes.append(s('text', { x: W - M.right + 8, y: yr(r) + 4, 'text-anchor': 'start', class: 'rate-label' }, pct(r)));
  }
  axes.append(
    s('text', { x: 14, y: M.top + ph / 2, transform: `rotate(-90 14 ${M.top + ph / 2})`, 'text-anchor': 'middle', class: 'axis-title' }, t('chart.axisCount')),
    s('text', { x: W - 10, y: M.top + ph / 2, transform: `rotate(90 ${W - 10} ${M.top + ph / 2})`, 'text-anchor': 'middle', class: 'axis-title' }, t('chart.axisRate')),
    s('line', { x1: M.left, x2: W - M.right, y1: y(0), y2: y(0), class: 'baseline' }));
  svg.append(axes);

  // Stacked bars, one group per bucket (with a tooltip <title>).
  const every = Math.ceil(n / (range === '24h' ? 8 : 10));
  const bars = s('g', { class: 'bars' });
  trend.forEach((b, i) => {
    const x = M.left + i * band + (band - barW) / 2;
    const g = s('g', { class: 'bucket', dataset: { start: b.start, evaluations: String(b.evaluations) } });
    g.append(s('title', {}, `${bucketLabel(b.start, range)}: ${SERIES.map((k) => `${t(`chart.${k}`)} ${num(b[k] || 0)}`).join(', ')}; ${t('chart.rate')} ${pct(b.approval_rate)}`));
    let acc = 0;
    for (const k of SERIES) {
      const v = b[k] || 0;
      if (v > 0) g.append(s('rect', { x, width: barW, y: y(acc + v), height: Math.max(0, y(acc) - y(acc + v)), class: `seg ${k}` }));
      acc += v;
    }
    // Invisible full-height target so small buckets are easy to hover.
    g.append(s('rect', { x: M.left + i * band, width: band, y: M.top, height: ph, class: 'hit' }));
    bars.append(g);
    if (i % every === 0) {
      svg.append(s('text', { x: M.left + i * band + band / 2, y: H - M.bottom + 18, 'text-anchor': 'middle', class: 'x-label', 'aria-hidden': 'true' }, bucketLabel(b.start, range)));
    }
  });
  svg.append(bars);

  // Approval-rate line over buckets that had evaluations (gaps elsewhere).
  const line = s('g', { class: 'rate', 'aria-hidden': 'true' });
  let run = [];
  const flush = () => {
    if (run.length > 1) line.append(s('polyline', { points: run.join(' '), class: 'rate-line' }));
    run = [];
  };
  trend.forEach((b, i) => {
    if (!b.evaluations) return flush();
    const cx = M.left + i * band + band / 2;
    const cy = yr(b.approval_rate);
    run.push(`${cx.toFixed(1)},${cy.toFixed(1)}`);
    line.append(s('circle', { cx: cx.toFixed(1), cy: cy.toFixed(1), r: 3, class: 'rate-dot', dataset: { start: b.start, rate: String(b.approval_rate) } }));
  });
  flush();
  svg.append(line);

  const legend = h('ul', { class: 'legend' },
    SERIES.map((k) => h('li', {}, h('span', { class: `swatch ${k}`, 'aria-hidden': 'true' }), t(`chart.${k}`))),
    h('li', {}, h('span', { class: 'swatch rate', 'aria-hidden': 'true' }), t('chart.rate')));

  const tableRows = trend.map((b) => h('tr', {},
    h('th', { scope: 'row' }, bucketLabel(b.start, range)),
    h('td', {}, num(b.evaluations)), SERIES.map((k) => h('td', {}, num(b[k] || 0))), h('td', {}, pct(b.approval_rate))));
  const fallback = h('details', { class: 'chart-table' },
    h('summary', {}, t('chart.asTable')),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', {}, t('chart.title')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('chart.bucket')), h('th', { scope: 'col' }, t('kpi.evaluations')),
        SERIES.map((k) => h('th', { scope: 'col' }, t(`chart.${k}`))), h('th', { scope: 'col' }, t('chart.rate')))),
      h('tbody', {}, tableRows))));

  return h('figure', { class: 'trend' }, svg, h('figcaption', {}, legend), fallback);
}
