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
