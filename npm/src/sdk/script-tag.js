// `<script src="…/sdk/clausum.js" data-clausum-key="clm_pub_…">`: defines
// `window.Clausum` and starts at once with the tag's key. The API and the
// WebAssembly are found next to the script, unless `data-clausum-api-url`
// names the assess URL.
import { init, assess, getSession } from './client.js';

const script = document.currentScript;
const here = script && script.src ? script.src : location.href;
const wasmUrl = new URL('clausum.wasm', here).href;

window.Clausum = {
  init: (options = {}) =>
    init({ wasmUrl, ...options, apiUrl: options.apiUrl || new URL('/api/v1/assess', here).href }),
  assess,
  getSession,
};

const key = script && script.getAttribute('data-clausum-key');
if (key) {
  try {
    window.Clausum.init({ apiKey: key, apiUrl: script.getAttribute('data-clausum-api-url') || undefined });
  } catch (e) {
    console.error(String(e));
  }
}
