// "The figures changed": a simulation run (or anything else that changes
// what the Panel and Protección show) is announced here, and those screens
// fetch their figures again. In this tab the notice is the `data-refresh`
// window event; the user's other dashboard tabs hear it through a
// BroadcastChannel, so a Panel left open in another tab reloads too.
// A screen shown later needs no notice: every screen fetches its figures
// when it is shown, and api.js never answers from the HTTP cache.
const EVENT = 'data-refresh';
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('clausum-data') : null;
if (channel) {
  channel.addEventListener('message', (e) => {
    if (e.data && e.data.type === EVENT) {
      window.dispatchEvent(new CustomEvent(EVENT, { detail: { ...e.data.detail, remote: true } }));
    }
  });
}

/** Tells this tab and the user's other tabs that figures changed (`source` says why). */
export function announceChange(source) {
  const detail = { source };
  window.dispatchEvent(new CustomEvent(EVENT, { detail }));
  if (channel) channel.postMessage({ type: EVENT, detail });
}

/** Calls `fn(detail)` on every notice until the returned function is called. */
export function onChange(fn) {
  const listener = (e) => fn(e.detail || {});
  window.addEventListener(EVENT, listener);
  return () => window.removeEventListener(EVENT, listener);
}
