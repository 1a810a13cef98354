import type { z } from "zod";
import { agentRequests } from "./agents";
import { busRequests } from "./bus";
import { STRUCTURAL_RULES, type DomainRules } from "./fields";
import { fleetRequests } from "./fleet";
import { taskRequests } from "./tasks";

/**
 * Every request schema of the REST API (path parameters, queries, bodies) under `rules`: the coordinator validates
 * with `requestSchemas(<the bus's rules>)` and documents /openapi.json from the same objects; clients take their
 * types from {@link requests}. The responses are plain exported schemas (their fields have no rules to apply).
 */
export function requestSchemas(rules: DomainRules = STRUCTURAL_RULES) {
  return {
    ...agentRequests(rules),
    ...taskRequests(rules),
    ...fleetRequests(rules),
    ...busRequests(rules),
  };
}

export type RequestSchemas = ReturnType<typeof requestSchemas>;

/** The request schemas without domain rules: what clients build their types from. */
export const requests: RequestSchemas = requestSchemas();

/** What a client sends for one request (before the server's defaults and transforms). */
export type RequestOf<K extends keyof RequestSchemas> = z.input<RequestSchemas[K]>;
/** What the coordinator's handler gets for one request (after validation, defaults and transforms). */
export type ParsedRequestOf<K extends keyof RequestSchemas> = z.output<RequestSchemas[K]>;

export type RegisterAgentRequest = RequestOf<"registerAgentBody">;
export type SetLimitsRequest = RequestOf<"setLimitsBody">;
export type PublishTaskRequest = RequestOf<"publishTaskBody">;
export type RegisterWorkerRequest = RequestOf<"registerWorkerBody">;
export type HeartbeatRequest = RequestOf<"heartbeatBody">;
export type DlqReplayRequest = RequestOf<"dlqReplayBody">;
export type DlqFilterRequest = RequestOf<"dlqFilterBody">;
