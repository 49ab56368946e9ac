export { handleStiggWebhook, stiggFetchWebhook, SECRET_HEADER } from './handler';
export type { StiggWebhookHandler, StiggWebhookOptions, WebhookRequest, WebhookResult } from './handler';
export { parseWebhookEvent, MalformedWebhookError } from './event';
export type { WebhookAction } from './event';
