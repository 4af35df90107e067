// Renames the glue between the SDK's WebAssembly and its JavaScript to
// short names, after `wasm-opt --minify-imports-and-exports-and-modules`
// has done so in the module (and printed the mapping this script reads).
//
// wasm-bindgen names every import after the browser API it wraps plus a
// 16-hex-digit hash (`__wbg_getContext_d93f904b714852ae`), and each name is
// written twice: in the module's import section and as a key of the glue's
// import object. The hashes do not compress, so with ~80 imports they cost
// about 2 KB of the gzipped download. esbuild cannot shorten them: they are
// string keys shared with the binary.
//
// Usage: node short-wasm-names.mjs <mapping.json> <module.wasm> <glue.js>
// (rewrites glue.js; module.wasm is the renamed module)
//
// Every import of the mapping must be found exactly once, as a key of the
// glue's import object, and no hashed name may be left; otherwise the script
// fails, so a wasm-bindgen upgrade that changes the glue's shape breaks the
// build instead of the page. (Exports are renamed wherever the glue reads
// `wasm.name`; some, such as wasm-bindgen's abort hooks, it never reads.)

import { readFileSync, writeFileSync } from 'node:fs';

const [mappingFile, wasmFile, glueFile] = process.argv.slice(2);
if (!mappingFile || !wasmFile || !glueFile) {
  console.error('usage: short-wasm-names.mjs <mapping.json> <module.wasm> <glue.js>');
  process.exit(2);
}
const mapping = JSON.parse(readFileSync(mappingFile, 'utf8'));
let glue = readFileSync(glueFile, 'utf8');

const fail = (why) => {
  console.error(`short-wasm-names: ${why}`);
  process.exit(1);
};
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Replaces every match of `pattern` with `replacement(match)` (a function,
// so that a `$` in a short name is taken literally); fails when there is none.
const replaceAll = (pattern, replacement, what) => {
  let found = 0;
  glue = glue.replace(pattern, (...m) => {
    found += 1;
    return replacement(m);
  });
  if (found === 0) fail(`${what} not found in ${glueFile}`);
  return found;
};

// Imports: object keys `name: function(…)` in the glue's import object.
const modules = new Set();
for (const [module, name, short] of mapping.imports) {
  const hits = replaceAll(new RegExp(`(^|[\\s{,])${escape(name)}(?=\\s*:)`, 'gm'), (m) => m[1] + short, `import ${name}`);
  if (hits !== 1) fail(`import ${name} appears ${hits} times`);
  modules.add(module);
}

// The import module's own name (`"./clausum_bg.js": import0`), renamed as
// the binary now names it (the mapping does not list module names).
const shortModules = new Set(importModules(readFileSync(wasmFile)));
if (modules.size !== 1 || shortModules.size !== 1) {
  fail(`expected one import module, found ${[...modules]} → ${[...shortModules]}`);
}
const [module] = modules;
const [shortModule] = shortModules;
replaceAll(new RegExp(`(["'])${escape(module)}\\1(?=\\s*:)`, 'g'), () => JSON.stringify(shortModule), `module ${module}`);

// Exports: every `wasm.name` use (some exports, such as wasm-bindgen's
// abort hooks, the glue never reads). Any other way of reaching an export
// would escape the renaming, so it fails the build.
if (/\bwasm\s*\[/.test(glue)) fail('the glue indexes `wasm[…]`; its export names cannot be renamed safely');
for (const [name, short] of mapping.exports) {
  glue = glue.replace(new RegExp(`\\bwasm\\.${escape(name)}\\b`, 'g'), () => `wasm.${short}`);
}

// Nothing hashed may be left behind.
const left = glue.match(/__wbg_\w+_[0-9a-f]{16}\b/);
if (left) fail(`an unmapped name is left: ${left[0]}`);
writeFileSync(glueFile, glue);

/** The module name of each import of a WebAssembly binary. */
function importModules(bytes) {
  let i = 8; // magic and version
  const leb = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[i++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return value;
    }
  };
  const name = () => {
    const len = leb();
    const s = new TextDecoder().decode(bytes.subarray(i, i + len));
    i += len;
    return s;
  };
  while (i < bytes.length) {
    const id = bytes[i++];
    const size = leb();
    if (id !== 2) {
      i += size;
      continue;
    }
    const out = [];
    for (let n = leb(); n > 0; n--) {
      out.push(name());
      name();
      const kind = bytes[i++];
      if (kind === 0) leb(); // function: type index
      else if (kind === 1) { i++; const flags = leb(); leb(); if (flags & 1) leb(); } // table
      else if (kind === 2) { const flags = leb(); leb(); if (flags & 1) leb(); } // memory
      else if (kind === 3) i += 2; // global: type, mutability
      else fail(`unknown import kind ${kind}`);
    }
    return out;
  }
  return [];
}
