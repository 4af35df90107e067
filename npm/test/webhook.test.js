// The webhook verifier against the golden vectors `clausum-core` freezes
// (core/src/webhook/golden_vectors.json) and the header rules of its
// `webhook::signature` tests, run once per entry point: the ES module, the
// CommonJS file, and both conditions of the package's `exports` map.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as esm from '../src/webhook.js';

const require = createRequire(import.meta.url);
const cjs = require('../src/webhook.cjs');
const pkgRequire = require('@clausum/sdk/webhook');
const pkgImport = await import('@clausum/sdk/webhook');

const GOLDEN = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../core/src/webhook/golden_vectors.json', import.meta.url)),
    'utf8',
  ),
);

const SECRET = 'whsec_000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const OTHER = 'whsec_ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100';
const T = 1_716_998_400;
const BODY = '{"event":"fraud.detected","data":{"case_id":"c_1"}}';

function hmacHex(key, message) {
  return createHmac('sha256', key).update(message).digest('hex');
}

/** Asserts `fn` throws a WebhookVerificationError of `mod` with `code`. */
function refuses(mod, fn, code, label) {
  assert.throws(
    fn,
    (err) => {
      assert.ok(err instanceof mod.WebhookVerificationError, label);
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'WebhookVerificationError');
      assert.equal(err.code, code, label);
      return true;
    },
    label,
  );
}

function suite(name, mod) {
  const { verifyWebhook, signWebhook, DEFAULT_TOLERANCE_SECONDS } = mod;

  describe(name, () => {
    it('exports the default tolerance of 300 s', () => {
      assert.equal(DEFAULT_TOLERANCE_SECONDS, 300);
    });

    it('verifies every golden vector with every secret it was signed with', () => {
      assert.ok(GOLDEN.length >= 5);
      for (const v of GOLDEN) {
        assert.ok(v.signed_with.includes(v.secret));
        for (const secret of v.signed_with) {
          for (const body of [v.body, Buffer.from(v.body, 'utf8'), new TextEncoder().encode(v.body)]) {
            assert.equal(verifyWebhook(body, v.header, secret, 300, v.timestamp), true, v.header);
          }
          // Default tolerance and clock: the vector is years old.
          refuses(mod, () => verifyWebhook(v.body, v.header, secret), 'timestamp_outside_tolerance');
        }
      }
    });

    it('reproduces every golden header with signWebhook', () => {
      for (const v of GOLDEN) {
        if (v.signed_with.length === 1) {
          assert.equal(signWebhook(v.body, v.signed_with[0], v.timestamp), v.header);
        }
        assert.equal(signWebhook(v.body, v.signed_with, v.timestamp), v.header);
      }
    });

    it('keys with the secret text, not the hex-decoded bytes', () => {
      for (const v of GOLDEN) {
        const message = `${v.timestamp}.${v.body}`;
        const v1 = v.header.split(',v1=')[1];
        assert.equal(hmacHex(v.signed_with[0], message), v1);
        const decoded = Buffer.from(v.signed_with[0].slice('whsec_'.length), 'hex');
        const forged = `t=${v.timestamp},v1=${hmacHex(decoded, message)}`;
        refuses(mod, () => verifyWebhook(v.body, forged, v.signed_with[0], 300, v.timestamp), 'no_matching_signature');
      }
    });

    it('refuses a tampered body', () => {
      for (const v of GOLDEN) {
        for (const body of [`${v.body} `, `${v.body}\n`, v.body.replace(/.$/u, ''), 'x']) {
          if (body === v.body) continue;
          refuses(mod, () => verifyWebhook(body, v.header, v.secret, 300, v.timestamp), 'no_matching_signature', body);
        }
      }
      const bytes = Buffer.from(BODY);
      bytes[10] ^= 1;
      refuses(mod, () => verifyWebhook(bytes, signWebhook(BODY, SECRET, T), SECRET, 300, T), 'no_matching_signature');
    });

    it('refuses a wrong secret', () => {
      const secrets = [...new Set(GOLDEN.flatMap((v) => v.signed_with)), OTHER];
      for (const v of GOLDEN) {
        for (const wrong of secrets.filter((s) => !v.signed_with.includes(s))) {
          refuses(mod, () => verifyWebhook(v.body, v.header, wrong, 300, v.timestamp), 'no_matching_signature');
        }
        // Near misses of the right secret.
        for (const wrong of [v.secret.slice(6), v.secret.toUpperCase(), ` ${v.secret}`, `${v.secret}\n`]) {
          refuses(mod, () => verifyWebhook(v.body, v.header, wrong, 300, v.timestamp), 'no_matching_signature');
        }
      }
    });

    it('accepts t within the tolerance either way and refuses a stale or future t', () => {
      const h = signWebhook(BODY, SECRET, T);
      for (const now of [T, T - 300, T + 300, T + 1]) {
        assert.equal(verifyWebhook(BODY, h, SECRET, DEFAULT_TOLERANCE_SECONDS, now), true);
      }
      for (const now of [T - 301, T + 301, 0, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2n ** 63n - 1n, -(2n ** 63n)]) {
        refuses(mod, () => verifyWebhook(BODY, h, SECRET, 300, now), 'timestamp_outside_tolerance', String(now));
      }
      // A wider tolerance is honoured; a negative one counts as zero.
      assert.equal(verifyWebhook(BODY, h, SECRET, 3600, T + 3600), true);
      refuses(mod, () => verifyWebhook(BODY, h, SECRET, 3600, T + 3601), 'timestamp_outside_tolerance');
      assert.equal(verifyWebhook(BODY, h, SECRET, -5, T), true);
      refuses(mod, () => verifyWebhook(BODY, h, SECRET, -5, T + 1), 'timestamp_outside_tolerance');
      // bigint seconds work too, up to the 18 digits t may have (past 2^53).
      assert.equal(verifyWebhook(BODY, h, SECRET, 300n, BigInt(T)), true);
      const far = 999_999_999_999_999_999n;
      const farHeader = signWebhook(BODY, SECRET, far);
      assert.equal(farHeader, `t=${far},v1=${hmacHex(SECRET, `${far}.${BODY}`)}`);
      assert.equal(verifyWebhook(BODY, farHeader, SECRET, 300, far - 300n), true);
      refuses(mod, () => verifyWebhook(BODY, farHeader, SECRET, 300, far - 301n), 'timestamp_outside_tolerance');
    });

    it('checks the signature before the clock', () => {
      const forged = signWebhook(BODY, OTHER, T);
      refuses(mod, () => verifyWebhook(BODY, forged, SECRET, 300, T + 10_000), 'no_matching_signature');
      // Moving t breaks the signature.
      const moved = signWebhook(BODY, SECRET, T).replace(`t=${T}`, `t=${T + 1}`);
      refuses(mod, () => verifyWebhook(BODY, moved, SECRET, 300, T), 'no_matching_signature');
    });

    it('accepts a rotation header under either secret, and only the new one after it', () => {
      const h = signWebhook(BODY, [SECRET, OTHER], T);
      const [, v1New, v1Old] = h.split(/,v1=/);
      assert.equal(h, `t=${T},v1=${v1New},v1=${v1Old}`);
      assert.equal(verifyWebhook(BODY, h, SECRET, 300, T), true);
      assert.equal(verifyWebhook(BODY, h, OTHER, 300, T), true);
      refuses(mod, () => verifyWebhook(BODY, signWebhook(BODY, SECRET, T), OTHER, 300, T), 'no_matching_signature');
    });

    it('parses parts in any order, with spaces, unknown schemes and skipped non-hex v1', () => {
      const v1 = signWebhook(BODY, SECRET, T).split('v1=')[1];
      for (const h of [
        `v1=${v1},t=${T}`,
        `t=${T}, v1=${v1}`,
        ` v0=abc , t=${T} ,v1=${v1}, x=y `,
        `t=${T},v1=nothex,v1=${v1.toUpperCase()}`,
        `t=${T},v1=deadbeef,v1=${v1}`,
        `t=${T},v1=${v1}00,v1=${v1}`,
        `t=${T},v1=,v1=${v1}`,
        `\tt=${T}\r\n,\u00a0v1=${v1}\u3000`,
        // Rust's trim takes U+0085 as whitespace.
        `\u0085t=${T},v1=${v1}`,
        // Leading zeros: t is read as a number, as Rust's i64 does.
        `t=000${T},v1=${v1}`,
        // A part with an empty scheme is an unknown scheme.
        `x=1,=,t=${T},v1=${v1}`,
      ]) {
        assert.equal(verifyWebhook(BODY, h, SECRET, 300, T), true, JSON.stringify(h));
      }
    });

    it('refuses malformed headers', () => {
      const v1 = signWebhook(BODY, SECRET, T).split('v1=')[1];
      for (const h of [
        '',
        `v1=${v1}`,
        `t=${T}`,
        `t=${T},v0=${v1}`,
        `t=,v1=${v1}`,
        `t=-1,v1=${v1}`,
        `t=+${T},v1=${v1}`,
        `t=${T}.5,v1=${v1}`,
        `t= ${T},v1=${v1}`,
        `t=1e9,v1=${v1}`,
        `t=0x10,v1=${v1}`,
        `t=\u0661\u0662,v1=${v1}`,
        `t=99999999999999999999,v1=${v1}`,
        `t=1234567890123456789,v1=${v1}`,
        `t=${T},t=${T},v1=${v1}`,
        `t=${T},v1=${v1},t=${T + 1}`,
        `t=${T},v1=${v1},`,
        `,t=${T},v1=${v1}`,
        `t=${T},,v1=${v1}`,
        `t=${T};v1=${v1}`,
        `T=${T},V1=${v1}`,
        `t =${T},v1=${v1}`,
        // JavaScript's trim would take U+FEFF; Rust's does not.
        `\ufefft=${T},v1=${v1}`,
        'garbage',
        undefined,
        null,
      ]) {
        refuses(mod, () => verifyWebhook(BODY, h, SECRET, 300, T), 'malformed_header', JSON.stringify(h));
      }
      // Malformed wins over a wrong secret and a stale clock.
      refuses(mod, () => verifyWebhook(BODY, `v1=${v1}`, OTHER, 300, 0), 'malformed_header');
    });

    it('round-trips random bodies and t', () => {
      for (let i = 0; i < 50; i += 1) {
        const body = randomBytes(i * 7);
        const t = Math.floor(Math.random() * 4_000_000_000);
        const h = signWebhook(body, SECRET, t);
        assert.match(h, /^t=\d+,v1=[0-9a-f]{64}$/);
        assert.equal(verifyWebhook(body, h, SECRET, 300, t + 300), true);
        assert.equal(verifyWebhook(new Uint8Array(body).buffer, h, SECRET, 300, t - 300), true);
      }
    });

    it('throws TypeError on programming errors, not WebhookVerificationError', () => {
      const h = signWebhook(BODY, SECRET, T);
      assert.throws(() => verifyWebhook(JSON.parse(BODY), h, SECRET, 300, T), TypeError);
      assert.throws(() => verifyWebhook(undefined, h, SECRET, 300, T), TypeError);
      for (const secret of ['', undefined, null, Buffer.from(SECRET)]) {
        assert.throws(() => verifyWebhook(BODY, h, secret, 300, T), TypeError);
        assert.throws(() => signWebhook(BODY, secret, T), TypeError);
      }
      for (const bad of [T + 0.5, Number.NaN, Number.POSITIVE_INFINITY, '1716998400']) {
        assert.throws(() => verifyWebhook(BODY, h, SECRET, 300, bad), TypeError, String(bad));
        assert.throws(() => verifyWebhook(BODY, h, SECRET, bad, T), TypeError, String(bad));
        assert.throws(() => signWebhook(BODY, SECRET, bad), TypeError, String(bad));
      }
      assert.throws(() => signWebhook(BODY, [], T), TypeError);
      assert.throws(() => signWebhook(BODY, SECRET, -1), RangeError);
      assert.throws(() => signWebhook(BODY, SECRET, 10n ** 18n), RangeError);
      assert.throws(() => new mod.WebhookVerificationError('nope'), TypeError);
    });

    it('carries the Rust error messages', () => {
      const messages = Object.fromEntries(
        ['malformed_header', 'timestamp_outside_tolerance', 'no_matching_signature'].map((code) => [
          code,
          new mod.WebhookVerificationError(code).message,
        ]),
      );
      assert.match(messages.malformed_header, /t=<unix seconds>/);
      assert.match(messages.timestamp_outside_tolerance, /tolerance/);
      assert.match(messages.no_matching_signature, /secret/);
    });
  });
}

suite('ES module (src/webhook.js)', esm);
suite('CommonJS (src/webhook.cjs)', cjs);
suite('package exports, import condition', pkgImport);
suite('package exports, require condition', pkgRequire);

describe('entry points', () => {
  it('share one implementation and one error class', () => {
    for (const mod of [cjs, pkgImport, pkgRequire]) {
      assert.deepEqual(Object.keys(mod).sort(), Object.keys(esm).sort());
      for (const key of Object.keys(esm)) assert.equal(mod[key], esm[key], key);
    }
    assert.deepEqual(Object.keys(esm).sort(), [
      'DEFAULT_TOLERANCE_SECONDS',
      'WebhookVerificationError',
      'signWebhook',
      'verifyWebhook',
    ]);
  });

  it('are all declared in the TypeScript types', () => {
    const dcts = readFileSync(fileURLToPath(new URL('../src/webhook.d.cts', import.meta.url)), 'utf8');
    for (const key of Object.keys(esm)) {
      assert.match(dcts, new RegExp(`^export declare (const|class|function) ${key}\\b`, 'm'), key);
    }
    const dts = readFileSync(fileURLToPath(new URL('../src/webhook.d.ts', import.meta.url)), 'utf8');
    assert.match(dts, /^export \* from '\.\/webhook\.cjs';$/m);
  });
});
