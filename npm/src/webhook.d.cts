/**
 * Verification of Clausum's outbound webhooks (`X-Clausum-Signature`) for
 * Node receivers: `@clausum/sdk/webhook`.
 *
 * ```text
 * X-Clausum-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 * ```
 *
 * The HMAC key is the endpoint secret exactly as the dashboard shows it —
 * the UTF-8 bytes of the whole `whsec_…` string, prefix included — so
 * `createHmac('sha256', secret)` is all a hand-written verifier needs.
 *
 * @packageDocumentation
 */

/** How far (seconds, either direction) a signature's `t` may be from the receiver's clock: 5 minutes. */
export declare const DEFAULT_TOLERANCE_SECONDS: 300;

/**
 * Which rule refused a delivery:
 * - `malformed_header`: the header is missing, or not `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`
 *   (`t` missing, repeated or not plain digits, a part without `=`, or no `v1`).
 * - `no_matching_signature`: no `v1` matches the body under this secret — wrong secret,
 *   or the body was altered (re-serialised JSON counts: verify the raw bytes).
 * - `timestamp_outside_tolerance`: a signature matched but `t` is too far from now —
 *   a replay, or a receiver whose clock is wrong.
 */
export type WebhookVerificationErrorCode =
  | 'malformed_header'
  | 'timestamp_outside_tolerance'
  | 'no_matching_signature';

/** Thrown by {@link verifyWebhook} when a delivery must be refused (answer it with a 400). */
export declare class WebhookVerificationError extends Error {
  constructor(code: WebhookVerificationErrorCode);
  readonly name: 'WebhookVerificationError';
  /** Which rule failed. */
  readonly code: WebhookVerificationErrorCode;
}

/**
 * The request body exactly as received, before any JSON parsing: a string
 * (signed as its UTF-8 bytes) or the bytes (`Buffer`, `Uint8Array`, any
 * `ArrayBufferView`, `ArrayBuffer`).
 */
export type RawBody = string | ArrayBufferView | ArrayBuffer;

/**
 * Checks an `X-Clausum-Signature` header against the raw body.
 *
 * Header parts may come in any order, with whitespace around them; schemes
 * other than `t` and `v1` are ignored. During a secret rotation the header
 * carries several `v1` values and any one may match; values that are not 64
 * hex digits are skipped. The signature is checked before the timestamp, so
 * `timestamp_outside_tolerance` always means "genuine but stale".
 *
 * @param rawBody The body exactly as received (see {@link RawBody}).
 * @param header The `X-Clausum-Signature` value; `undefined` or `null` (a missing header) is `malformed_header`.
 * @param secret The endpoint secret, `whsec_…`, as shown in the dashboard.
 * @param toleranceSeconds How far `t` may be from `nowSeconds`, either way; default 300. Negative counts as 0.
 * @param nowSeconds The receiver's clock in Unix seconds; default `Math.floor(Date.now() / 1000)`.
 * @returns `true` when the delivery is genuine and fresh.
 * @throws {WebhookVerificationError} when the delivery must be refused.
 * @throws {TypeError} when `rawBody` is not raw (e.g. parsed JSON), `secret` is empty or not a
 *   string, or a number of seconds is not an integer — programming errors, not bad requests.
 */
export declare function verifyWebhook(
  rawBody: RawBody,
  header: string | null | undefined,
  secret: string,
  toleranceSeconds?: number | bigint,
  nowSeconds?: number | bigint,
): true;

/**
 * The `X-Clausum-Signature` value Clausum would send — for integrators'
 * tests of their receiving endpoint.
 *
 * @param rawBody The body to sign (see {@link RawBody}).
 * @param secret The endpoint secret, or several (newest first) to build a rotation header with one `v1` each.
 * @param timestampSeconds The signed Unix time in seconds; default now.
 * @returns `t=<timestampSeconds>,v1=<hex>[,v1=<hex>…]`.
 */
export declare function signWebhook(
  rawBody: RawBody,
  secret: string | readonly string[],
  timestampSeconds?: number | bigint,
): string;
