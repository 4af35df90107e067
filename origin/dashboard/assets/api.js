// The management API client: bearer token from sessionStorage, JSON in and
// out, errors as ApiError carrying the API's {code, message, details}.
// A 401 anywhere but sign-in ends the session and sends the user to the
// sign-in page, which brings them back here afterwards. Answers are never
// read from the HTTP cache: a screen shown again shows current figures.

const TOKEN = 'clausum.token';
const RETURN = 'clausum.return';
const EXPIRED = 'clausum.expired';

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || 'HTTP_ERROR';
    this.details = e.details || null;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN),
  set: (t) => sessionStorage.setItem(TOKEN, t),
  clear: () => sessionStorage.removeItem(TOKEN),
};

/** Where to go after sign-in (set when a session expired), read once. */
export function takeReturnPath() {
  const p = sessionStorage.getItem(RETURN);
  sessionStorage.removeItem(RETURN);
  return p && p.startsWith('/dashboard') ? p : null;
}

export function takeExpired() {
  const e = sessionStorage.getItem(EXPIRED) === '1';
  sessionStorage.removeItem(EXPIRED);
  return e;
}

/** Hook set by the router: what to do when the session is gone. */
let onExpired = () => {};
export function setExpiredHandler(fn) {
  onExpired = fn;
}

function expire() {
  if (!token.get()) return; // already handled by a parallel request
  token.clear();
  sessionStorage.setItem(RETURN, location.pathname + location.search);
  sessionStorage.setItem(EXPIRED, '1');
  onExpired();
}

/** Query string from an object, skipping empty values. */
export function qs(params = {}) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

/**
 * api('GET', '/cases', {query}) → parsed JSON.
 * `body` is sent as JSON unless `contentType` says otherwise (raw text).
 */
export async function api(method, path, { query, body, contentType, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  const t = token.get();
  if (auth && t) headers.Authorization = `Bearer ${t}`;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = contentType || 'application/json';
    payload = contentType ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}${qs(query)}`, { method, headers, body: payload, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { error: { code: 'NETWORK', message: navigator.onLine ? String(e.message || e) : 'offline' } });
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (res.status === 401 && auth) {
    expire();
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path, query) => api('GET', path, { query });
export const post = (path, body, opts = {}) => api('POST', path, { body, ...opts });
export const patch = (path, body, opts = {}) => api('PATCH', path, { body, ...opts });
export const put = (path, body) => api('PUT', path, { body });
export const del = (path, query) => api('DELETE', path, { query });
