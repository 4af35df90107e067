// Types of `@clausum/sdk` (the browser SDK). `window.Clausum` of the
// script-tag build has the same shape.

/** Options of {@link init}. */
export interface InitOptions {
  /** Your publishable key, `clm_pub_…`. A secret key (`clm_sk_…`) throws: never ship one to a browser. */
  apiKey: string;
  /** The full assess URL, e.g. `https://sandbox.clausum.ai/api/v1/assess`; sessions go to its sibling `/api/v1/sessions`. */
  apiUrl?: string;
  /** Budget of each `assess` / `getSession` call, network included (default 2000 ms). */
  timeoutMs?: number;
  /** Where `clausum.wasm` is, when your bundler does not copy it next to the module. */
  wasmUrl?: string | URL;
}

/** Device fields in the assess request's shape. */
export interface AssessDevice {
  ip?: string;
  /** `fp_` + 20 hex characters, stable across reloads of the same browser. */
  fingerprint?: string;
  user_agent?: string;
  /** IANA time zone, e.g. `America/Mexico_City`. */
  timezone?: string;
  /** `navigator.webdriver`. */
  webdriver?: boolean;
}

/** Behaviour fields in the assess request's shape: counts only, never what was typed. */
export interface AssessBehavior {
  session_duration_ms?: number;
  mouse_movements?: number;
  keyboard_events?: number;
  copy_paste_events?: number;
}

/** Pay-in fields of the assess request (see the API reference); `device` and `behavior` are filled by the SDK. */
export interface PayinFields {
  amount: number;
  currency: string;
  amount_unit?: 'minor' | 'major';
  transaction_type?: string;
  email?: string;
  phone?: string;
  customer_id?: string;
  order_id?: string;
  payment_id?: string;
  payment_method?: {
    type?: string;
    card_bin?: string;
    card_last4?: string;
    card_country?: string;
    card_brand?: string;
    bank_code?: string;
    wallet_type?: string;
  };
  device?: AssessDevice;
  behavior?: AssessBehavior;
  billing?: { country?: string; city?: string; postal_code?: string };
  shipping?: { country?: string; city?: string; postal_code?: string };
  metadata?: Record<string, unknown>;
  [field: string]: unknown;
}

/** What {@link assess} resolves to. It never rejects. */
export interface AssessResult {
  /** False when Clausum could not be reached in time (or refused the call): continue your normal flow. */
  available: boolean;
  /** Why it was unavailable (`timeout`, `UNAUTHORIZED`, a network error…). */
  reason?: string;
  /** A pre-check with the publishable key: not recorded; your backend's assess decides. */
  precheck?: boolean;
  decision: 'approve' | 'review' | 'challenge' | 'decline' | null;
  risk_score: number | null;
  signals: string[];
  signal_details?: { code: string; weight: number; description: string }[];
  /** True when `decision` is `decline`. */
  shouldDecline: boolean;
  /** True when `decision` is `challenge` (e.g. trigger 3DS). */
  requiresChallenge: boolean;
  /** Send it to your backend: its assess with this id merges the session's signals. */
  session_id: string | null;
  sessionId: string | null;
  /** Whether the session's signals reached Clausum. */
  sessionRegistered?: boolean;
  [field: string]: unknown;
}

/** What {@link getSession} resolves to: hand it to your backend. */
export interface Session {
  sessionId: string | null;
  session_id: string | null;
  fingerprint: string | null;
  device: AssessDevice | null;
  behavior: AssessBehavior | null;
  /** Whether Clausum stored the session (so your backend's assess can merge it). */
  registered: boolean;
  error?: string;
}

/** Starts collecting device and behaviour signals; resolves when they are ready (never rejects). */
export function init(options: InitOptions): Promise<{ sessionId: string | null; fingerprint: string | null }>;
/** A fail-open pre-check of a pay-in with the publishable key. */
export function assess(fields: PayinFields): Promise<AssessResult>;
/** The session id and signals to send to your backend; registers the session with Clausum. */
export function getSession(): Promise<Session>;

declare global {
  interface Window {
    /** Defined by the script-tag build (`/sdk/clausum.js`). */
    Clausum?: { init: typeof init; assess: typeof assess; getSession: typeof getSession };
  }
}
