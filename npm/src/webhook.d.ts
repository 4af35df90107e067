// Types of the ES module entry: the declarations live in `webhook.d.cts`,
// as the code lives in `webhook.cjs`, so `import` and `require` users see
// one `WebhookVerificationError`.
export * from './webhook.cjs';
