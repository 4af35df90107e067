// Numbers, money and dates in the interface language. Money arrives as
// integer minor units: Intl knows each currency's exponent (MXN 2, CLP 0).
import { locale } from './i18n.js';

export const num = (n) => new Intl.NumberFormat(locale()).format(n ?? 0);

export const pct = (ratio) =>
  new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(ratio ?? 0);

export function exponent(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

export function money(minor, currency) {
  if (minor === null || minor === undefined) return '—';
  if (!currency) return num(minor);
  const d = exponent(currency);
  try {
    return new Intl.NumberFormat(locale(), { style: 'currency', currency, minimumFractionDigits: d, maximumFractionDigits: d })
      .format(minor / 10 ** d);
  } catch {
    return `${num(minor)} ${currency}`;
  }
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function date(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(d);
}

/** The browser's IANA time zone (the dashboard's buckets follow it). */
export const browserTz = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** `<input type=datetime-local>` value → RFC 3339 (local time → UTC). */
export function localToIso(v) {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * A `<input type=date>` value, a day of the browser's calendar, → the
 * instant that day (`days` later) starts here, as RFC 3339. The Monitor
 * sends "Desde" as the start of its day and "Hasta" as the start of the
 * next one (the API's `to` is exclusive), so both chosen days are whole.
 */
export function localDayStart(ymd, days = 0) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The first instant of the current month in the browser's calendar, RFC 3339. */
export function monthStart(now = new Date()) {
  return new Date(now.getFullYear(), now.getMonth(), 1).toISOString();
}
