// Public surface of the worker's webhook delivery.
export { unsafeAddressKind } from "./address-policy";
export { ALLOW_PRIVATE_HINT, type WebhookLookup } from "./destination";
export {
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_HEADER,
  type VerifyWebhookOptions,
  type WebhookHeaders,
} from "./signature";
export {
  WEBHOOK_FAILURE_CODES,
  WEBHOOK_USER_AGENT,
  WebhookDeliverer,
  webhookMetricOutcome,
  type WebhookDelivererOptions,
  type WebhookFailureCode,
  type WebhookMeta,
  type WebhookOutcome,
} from "./webhook-deliverer";
