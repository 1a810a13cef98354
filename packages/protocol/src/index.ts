// Public surface of @omnidaemon/protocol: the one contract of the fleet (zod only; no I/O, no Node-only APIs).
export * from "./vocabulary";
export { envelopeSchema, type Envelope } from "./wire/envelope";
export {
  controlKey,
  desiredStateSchema,
  parseControlRecord,
  rateHintKey,
  rateHintSchema,
  type ControlRecord,
  type DesiredState,
  type RateHint,
} from "./wire/control";
export * from "./limits";
export * from "./text-rules";
export { formatRateLimit, formatTenantWeights, summarizeLimits } from "./limits-text";
export { formatAttempts } from "./task-text";
export { parseTaskEvent, taskEventSchema, type TaskEvent } from "./wire/task-event";
export {
  MAX_AGENT_NAME_CHARS,
  MAX_TOPIC_CHARS,
  REQUIRED,
  STRUCTURAL_RULES,
  booleanQuery,
  describeValue,
  integerRangePattern,
  limitQuery,
  shortText,
  storableString,
  text,
  type AgentConfigSchema,
  type DomainRules,
} from "./api/fields";
export * from "./api/agents";
export * from "./api/tasks";
export * from "./api/fleet";
export * from "./api/bus";
export * from "./api/errors";
export * from "./api/index";
export * from "./client/errors";
export * from "./client/coordinator-client";
