// The ES module entry of `@clausum/sdk/webhook`. The implementation lives in
// `webhook.cjs` (see the note there): one copy of the code, one error class
// for `import` and `require` users alike.
import webhook from './webhook.cjs';

export const { DEFAULT_TOLERANCE_SECONDS, WebhookVerificationError, verifyWebhook, signWebhook } =
  webhook;
