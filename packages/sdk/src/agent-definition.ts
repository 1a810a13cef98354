import {
  BusError,
  defaultAgentName,
  findNonJson,
  parseAgentRuntimeConfig,
  validateAgentName,
  validateTopic,
  type AgentHandler,
  type AgentRuntimeConfig,
  type AgentRuntimeConfigInput,
} from "@omnidaemon/bus-kafka";

/** An agent as users write it: the object `registerAgent` takes, and what a worker's agents module exports. */
export interface AgentDefinition {
  /** The topic the agent consumes. Required. */
  topic: string;
  /** `async (message, ctx) => result`. Required. */
  callback: AgentHandler;
  /** @default derived from the topic ("file.uploaded" → "file-uploaded-agent"), never random */
  name?: string;
  description?: string;
  version?: string;
  tags?: string[];
  /** Runtime knobs: maxRetries, reclaimIdleMs, dlqEnabled, concurrency, startFrom, strictKeyOrder, … */
  config?: AgentRuntimeConfigInput;
}

/** A validated definition with every default filled in. */
export interface ResolvedAgent {
  topic: string;
  name: string;
  description: string;
  version: string | null;
  tags: string[];
  config: AgentRuntimeConfig;
  callback: AgentHandler;
}

/** Identity helper that gives an agents module its types: `export default [defineAgent({ … })]`. */
export function defineAgent(definition: AgentDefinition): AgentDefinition {
  return definition;
}

/** Raised for an invalid agent definition; `field` is the dotted path (`agents[1].config.maxRetries`). */
export class AgentDefinitionError extends Error {
  override readonly name = "AgentDefinitionError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const KNOWN_KEYS = new Set(["topic", "callback", "name", "description", "version", "tags", "config"]);

/**
 * Validates a definition and fills defaults. Everything but the callback must be JSON-serializable (it is stored
 * in the registry and shown by the CLI); a violation names the field. `prefix` locates the definition in a list.
 */
export function resolveAgent(definition: unknown, prefix = "agent"): ResolvedAgent {
  if (typeof definition !== "object" || definition === null || Array.isArray(definition)) {
    throw new AgentDefinitionError(prefix, "must be an object with at least { topic, callback }");
  }
  const def = definition as Record<string, unknown>;
  for (const key of Object.keys(def)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new AgentDefinitionError(
        `${prefix}.${key}`,
        `unknown field (known: ${[...KNOWN_KEYS].join(", ")})`,
      );
    }
  }
  const field = (name: string): string => `${prefix}.${name}`;
  if (typeof def.callback !== "function") {
    throw new AgentDefinitionError(field("callback"), "must be a function (async (message, ctx) => result)");
  }
  if (typeof def.topic !== "string") throw new AgentDefinitionError(field("topic"), "is required (a string)");
  const name = def.name === undefined ? undefined : def.name;
  if (name !== undefined && typeof name !== "string")
    throw new AgentDefinitionError(field("name"), "must be a string");
  for (const key of ["description", "version"] as const) {
    if (def[key] !== undefined && typeof def[key] !== "string") {
      throw new AgentDefinitionError(field(key), "must be a string");
    }
  }
  if (def.tags !== undefined && (!Array.isArray(def.tags) || def.tags.some((t) => typeof t !== "string"))) {
    throw new AgentDefinitionError(field("tags"), "must be an array of strings");
  }
  const nonJson = findNonJson(def.config ?? {}, field("config"));
  if (nonJson !== undefined) {
    const [path, reason] = nonJson.split(": ");
    throw new AgentDefinitionError(
      path ?? field("config"),
      `${reason ?? "is not JSON"} (agent config must be JSON-serializable)`,
    );
  }
  try {
    validateTopic(def.topic, field("topic"));
    const resolvedName = name ?? defaultAgentName(def.topic);
    validateAgentName(resolvedName, field("name"));
    const config = parseAgentRuntimeConfig(def.config ?? {}, field("config"));
    return {
      topic: def.topic,
      name: resolvedName,
      description: (def.description as string | undefined) ?? "",
      version: (def.version as string | undefined) ?? null,
      tags: (def.tags as string[] | undefined) ?? [],
      config,
      callback: def.callback as AgentHandler,
    };
  } catch (error) {
    if (error instanceof BusError) {
      const at = error.field ?? prefix;
      // Bus messages already start with the field ("agent.topic \"a b\" may contain…"); say it once.
      const message = error.message.replace(/^invalid agent [^:]+: /, "");
      throw new AgentDefinitionError(at, message.startsWith(at) ? message.slice(at.length).trim() : message);
    }
    throw error;
  }
}
