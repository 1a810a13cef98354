// Public surface of @omnidaemon/sdk: what users import.
export { OmniDaemon, type OmniDaemonOptions, type PublishTaskInput } from "./omnidaemon";
export type { OmniDaemonServices } from "./services";
export {
  AgentDefinitionError,
  defineAgent,
  resolveAgent,
  type AgentDefinition,
  type ResolvedAgent,
} from "./agent-definition";
// The coordinator's client is the protocol's one; re-exported so SDK users can catch its errors.
export {
  CoordinatorApiError,
  CoordinatorClient,
  CoordinatorRequestError,
  CoordinatorUnreachableError,
  type CoordinatorClientOptions,
} from "@omnidaemon/protocol";
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
