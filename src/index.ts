export * from './client';
export * from './core';
export { handleStiggWebhook, stiggFetchWebhook, type StiggWebhookOptions, type WebhookRequest, type WebhookResult } from './webhook';
