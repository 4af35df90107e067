// `import * as Clausum from '@clausum/sdk'`: the WebAssembly sits next to
// this file; bundlers that understand `new URL(…, import.meta.url)` copy it.
import { init as start, assess, getSession } from './client.js';

/** Starts collecting (see client.js). `wasmUrl` defaults to the packaged clausum.wasm. */
export function init(options = {}) {
  return start({ wasmUrl: new URL('./clausum.wasm', import.meta.url), ...options });
}

export { assess, getSession };
