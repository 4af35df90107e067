// The browser SDK's public API, shared by the ES module and the script-tag
// build. The WebAssembly module (sdk-wasm) collects the signals; this file
// only moves them: timeouts, fail-open, and the two HTTP calls.
//
// Never collected, never sent: anything the user types. Keys are counted and
// timed, pastes are counted with the kind of field they hit, nothing else.

import wasmInit, { Collector } from '../../build/wasm/clausum.js';

const DEFAULT_TIMEOUT_MS = 2000;
let state = null;

/** Starts collecting. Resolves (never rejects) once the signals are ready. */
export function init(options = {}) {
  const { apiKey = '', apiUrl, timeoutMs = DEFAULT_TIMEOUT_MS, wasmUrl } = options;
  if (apiKey.startsWith('clm_sk_')) {
    // A programming error, refused before anything is sent anywhere.
    throw new Error('Clausum: never ship a secret key (clm_sk_) to a browser; use your publishable key (clm_pub_).');
  }
  if (state) state.collector?.stop();
  const assessUrl = String(apiUrl || '/api/v1/assess');
  state = {
    apiKey,
    assessUrl,
    sessionsUrl: assessUrl.replace(/\/assess\/?$/, '/sessions'),
    timeoutMs,
    collector: null,
    error: null,
  };
  const s = state;
  s.ready = wasmInit({ module_or_path: wasmUrl })
    .then(() => {
      s.collector = new Collector();
      return { sessionId: s.collector.sessionId, fingerprint: s.collector.fingerprint };
    })
    .catch((e) => {
      s.error = String(e);
      return { sessionId: null, fingerprint: null };
    });
  return s.ready;
}

/** The session id and its signals (assess-shaped) to hand to your backend; registers the session with Clausum. */
export async function getSession() {
  const s = state;
  const base = { sessionId: null, session_id: null, fingerprint: null, device: null, behavior: null, registered: false };
  if (!s) return base;
  const deadline = timer(s.timeoutMs);
  try {
    await Promise.race([s.ready, deadline.expired]);
    if (!s.collector) return { ...base, error: s.error || 'timeout' };
    const f = s.collector.assessFields();
    const out = { ...base, sessionId: f.session_id, session_id: f.session_id, fingerprint: f.device.fingerprint, device: f.device, behavior: f.behavior };
    const r = await post(s, s.sessionsUrl, s.collector.signals(), deadline).catch(() => null);
    return { ...out, registered: !!(r && r.ok) };
  } catch (e) {
    return { ...base, error: String(e) };
  } finally {
    deadline.clear();
  }
}

/**
 * A pre-check of a pay-in with the publishable key. Never throws: on a
 * timeout or a network failure it resolves `{available: false, …}`.
 * The authoritative decision is your backend's assess with the session_id.
 */
export async function assess(fields = {}) {
  const s = state;
  const unavailable = (reason, sessionId = null) => ({
    available: false, decision: null, risk_score: null, signals: [], shouldDecline: false,
    requiresChallenge: false, session_id: sessionId, sessionId, reason,
  });
  if (!s) return unavailable('Clausum.init was not called');
  const deadline = timer(s.timeoutMs);
  try {
    await Promise.race([s.ready, deadline.expired]);
    if (!s.collector) return unavailable(s.error || 'timeout');
    const f = s.collector.assessFields();
    const body = {
      ...fields,
      session_id: f.session_id,
      device: { ...f.device, ...fields.device },
      behavior: { ...f.behavior, ...fields.behavior },
    };
    const [registered, res] = await Promise.allSettled([
      post(s, s.sessionsUrl, s.collector.signals(), deadline),
      post(s, s.assessUrl, body, deadline),
    ]);
    if (res.status !== 'fulfilled') return unavailable(String(res.reason), f.session_id);
    const json = await res.value.json().catch(() => ({}));
    if (!res.value.ok) return unavailable(json.error?.code || `HTTP ${res.value.status}`, f.session_id);
    return {
      ...json,
      available: true,
      precheck: true,
      sessionRegistered: registered.status === 'fulfilled' && registered.value.ok,
      sessionId: json.session_id,
      shouldDecline: json.decision === 'decline',
      requiresChallenge: json.decision === 'challenge',
    };
  } catch (e) {
    return unavailable(String(e));
  } finally {
    deadline.clear();
  }
}

function timer(ms) {
  const controller = new AbortController();
  let id;
  const expired = new Promise((resolve) => {
    id = setTimeout(() => { controller.abort(); resolve(); }, ms);
  });
  return { signal: controller.signal, expired, clear: () => clearTimeout(id) };
}

function post(s, url, body, deadline) {
  return fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${s.apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: deadline.signal,
    keepalive: true,
  });
}
