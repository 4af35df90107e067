// Counter cards shared by the Panel and Protección.
import { h } from './dom.js';
import { t } from './i18n.js';
import { money, num, pct } from './format.js';

export function kpi(name, label, value, sub) {
  return h('div', { class: 'kpi', dataset: { kpi: name } },
    h('p', { class: 'kpi-label' }, label),
    h('p', { class: 'kpi-value' }, value),
    sub ? h('p', { class: 'kpi-sub' }, sub) : null);
}

/** Money protected: one line per currency, never summed across currencies. */
export function moneyList(list) {
  if (!list || list.length === 0) return h('span', { class: 'muted' }, money(0, 'MXN'));
  return h('ul', { class: 'money' }, list.map((m) => h('li', { dataset: { currency: m.currency } }, money(m.amount_minor, m.currency))));
}

export function overviewCards(o) {
  return h('div', { class: 'kpis' },
    kpi('evaluations', t('kpi.evaluations'), num(o.evaluations)),
    kpi('approved', t('kpi.approved'), num(o.approved)),
    kpi('blocked', t('kpi.blocked'), num(o.blocked), t('kpi.reviewChallenge', { review: num(o.reviewed), challenge: num(o.challenged) })),
    kpi('money_protected', t('kpi.moneyProtected'), moneyList(o.money_protected)),
    kpi('approval_rate', t('kpi.approvalRate'), pct(o.approval_rate)));
}
