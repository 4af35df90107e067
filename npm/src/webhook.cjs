'use strict';
// Verification of Clausum's outbound webhooks (`X-Clausum-Signature`), for
// Node receivers. This file is the one implementation: `webhook.js`, the ES
// module entry, re-exports it, so `require` and `import` users share one
// `WebhookVerificationError` class (and `instanceof` works across both).
// An ES-module implementation wrapped for CommonJS would need require(esm),
// which Node 18 does not have.
//
// The rules mirror `clausum-core`'s `webhook::signature` exactly, and the
// tests run the golden vectors that crate freezes
// (`core/src/webhook/golden_vectors.json`).

const { createHmac, timingSafeEqual } = require('node:crypto');

/** How far (seconds, either direction) `t` may be from the receiver's clock. */
const DEFAULT_TOLERANCE_SECONDS = 300;

// The Rust error messages, word for word.
const MESSAGES = {
  malformed_header: 'malformed signature header (expected t=<unix seconds>,v1=<hex>)',
  timestamp_outside_tolerance:
    'signature timestamp is outside the tolerance (replayed delivery or clock skew)',
  no_matching_signature:
    'no signature matches the payload (wrong secret, or the body was altered)',
};

/** Why a delivery was refused; `code` says which rule failed. */
class WebhookVerificationError extends Error {
  constructor(code) {
    if (!Object.prototype.hasOwnProperty.call(MESSAGES, code)) {
      throw new TypeError(`unknown webhook verification error code: ${String(code)}`);
    }
    super(MESSAGES[code]);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}

// Rust's `str::trim` (Unicode White_Space), which differs from JavaScript's
// `trim` on U+0085 (trimmed here) and U+FEFF (not trimmed here).
const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const TRIM = new RegExp(`^[${WS}]+|[${WS}]+$`, 'g');
const TIMESTAMP = /^[0-9]{1,18}$/;
const TAG_HEX = /^[0-9a-fA-F]{64}$/;
const MAX_TIMESTAMP = 999_999_999_999_999_999n;

function malformed() {
  return new WebhookVerificationError('malformed_header');
}

/**
 * `t=…,v1=…[,v1=…]` in any order; whitespace around parts is tolerated and
 * schemes other than `t` and `v1` are ignored. A missing, repeated or
 * non-digit `t`, a part without `=`, or no `v1` is malformed.
 * Returns `{ timestamp: bigint, v1: string[] }`.
 */
function parseHeader(header) {
  if (typeof header !== 'string') throw malformed();
  let timestamp;
  const v1 = [];
  for (const raw of header.split(',')) {
    const part = raw.replace(TRIM, '');
    const eq = part.indexOf('=');
    if (eq === -1) throw malformed();
    const scheme = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (scheme === 't') {
      // Two timestamps: which one was signed is anyone's guess.
      if (timestamp !== undefined || !TIMESTAMP.test(value)) throw malformed();
      timestamp = BigInt(value);
    } else if (scheme === 'v1') {
      v1.push(value);
    }
  }
  if (timestamp === undefined || v1.length === 0) throw malformed();
  return { timestamp, v1 };
}

function bodyBytes(rawBody) {
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
  if (ArrayBuffer.isView(rawBody)) {
    return new Uint8Array(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  }
  if (rawBody instanceof ArrayBuffer) return new Uint8Array(rawBody);
  throw new TypeError(
    'rawBody must be the raw request body (string, Buffer or Uint8Array), not parsed JSON',
  );
}

function checkSecret(secret) {
  // An empty key would let anyone sign: most likely a missing env variable.
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new TypeError('secret must be the endpoint secret (a non-empty whsec_… string)');
  }
  return secret;
}

function integer(name, value) {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  throw new TypeError(`${name} must be an integer number of seconds`);
}

// HMAC-SHA256 of "<t>.<body>" keyed by the secret's UTF-8 text, `whsec_`
// prefix included (as Stripe keys its signatures; nothing is decoded).
function mac(secret, timestamp, body) {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/**
 * Checks an `X-Clausum-Signature` header against the raw body. Returns
 * `true` or throws a `WebhookVerificationError`. The signature is checked
 * before the timestamp, so `timestamp_outside_tolerance` always means
 * "genuine but stale".
 */
function verifyWebhook(
  rawBody,
  header,
  secret,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  nowSeconds = Math.floor(Date.now() / 1000),
) {
  const body = bodyBytes(rawBody);
  checkSecret(secret);
  const tolerance = integer('toleranceSeconds', toleranceSeconds);
  const now = integer('nowSeconds', nowSeconds);
  const parsed = parseHeader(header);

  // `${bigint}` drops leading zeros, as Rust's i64 round trip does.
  const expected = mac(secret, parsed.timestamp, body);
  const matched = parsed.v1.some(
    // Not 64 hex digits: cannot be ours; skipped rather than refused, so a
    // future longer scheme can share the `v1` name.
    (candidate) => TAG_HEX.test(candidate) && timingSafeEqual(Buffer.from(candidate, 'hex'), expected),
  );
  if (!matched) throw new WebhookVerificationError('no_matching_signature');

  const diff = now - parsed.timestamp;
  const distance = diff < 0n ? -diff : diff;
  const allowed = tolerance < 0n ? 0n : tolerance;
  if (distance > allowed) throw new WebhookVerificationError('timestamp_outside_tolerance');
  return true;
}

/**
 * The `X-Clausum-Signature` value Clausum would send for this body, secret
 * (or secrets, newest first, as during a rotation) and time — for
 * integrators' tests.
 */
function signWebhook(rawBody, secret, timestampSeconds = Math.floor(Date.now() / 1000)) {
  const body = bodyBytes(rawBody);
  const secrets = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0) throw new TypeError('at least one secret is needed to sign');
  secrets.forEach(checkSecret);
  const timestamp = integer('timestampSeconds', timestampSeconds);
  if (timestamp < 0n || timestamp > MAX_TIMESTAMP) {
    throw new RangeError('timestampSeconds must be non-negative Unix seconds (at most 18 digits)');
  }
  let header = `t=${timestamp}`;
  for (const s of secrets) header += `,v1=${mac(s, timestamp, body).toString('hex')}`;
  return header;
}

module.exports = {
  DEFAULT_TOLERANCE_SECONDS,
  WebhookVerificationError,
  verifyWebhook,
  signWebhook,
};
