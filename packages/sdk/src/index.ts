// Public surface of @omnidaemon/sdk: what users import.
export { OmniDaemon, type OmniDaemonOptions, type PublishTaskInput } from "./omnidaemon";
export {
  AgentDefinitionError,
  defineAgent,
  resolveAgent,
  type AgentDefinition,
  type ResolvedAgent,
} from "./agent-definition";
export {
  CoordinatorClient,
  CoordinatorRequestError,
  type CoordinatorClientOptions,
} from "./coordinator-client";
export { loadSdkConfig, SdkConfigError, type SdkConfig } from "./sdk-config";
export { combineObservers } from "./task-event-reporter";
export {
  DeadlineExceededError,
  NonRetriableError,
  RetryAfterError,
  type AgentConsumerStatus,
  type DeliveryContext,
  type EngineObserver,
} from "@omnidaemon/bus-kafka";
export type { Envelope } from "@omnidaemon/protocol";
