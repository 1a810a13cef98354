import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AgentDefinitionError, resolveAgent, type AgentDefinition } from "@omnidaemon/sdk";

/**
 * Loads a worker's agents module: its default export, its `agents` export, or `module.exports` is a list of
 * agent definitions — the same objects `registerAgent` takes. Every definition is validated before anything
 * starts, and an invalid one fails the start naming the field (`agents[1].config.maxRetries: …`).
 */
export async function loadAgents(modulePath: string, cwd = process.cwd()): Promise<AgentDefinition[]> {
  const file = isAbsolute(modulePath) ? modulePath : resolve(cwd, modulePath);
  let loaded: unknown;
  try {
    // require for CommonJS (the common case, and what ts-jest/tsx can load too); import() for ES modules.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading a user module by path at run time
    loaded = file.endsWith(".mjs") ? await import(pathToFileURL(file).href) : require(file);
  } catch (error) {
    throw new AgentDefinitionError("agents", `cannot load ${file}: ${(error as Error).message}`);
  }
  const exported = pickExport(loaded);
  if (!Array.isArray(exported)) {
    throw new AgentDefinitionError(
      "agents",
      `${file} must export a list of agent definitions (module.exports = [...], export default [...] or export const agents = [...])`,
    );
  }
  if (exported.length === 0) throw new AgentDefinitionError("agents", `${file} exports no agents`);
  const seen = new Set<string>();
  exported.forEach((definition, i) => {
    const agent = resolveAgent(definition, `agents[${i}]`);
    const key = `${agent.topic}/${agent.name}`;
    if (seen.has(key))
      throw new AgentDefinitionError(
        `agents[${i}].name`,
        `"${agent.name}" on "${agent.topic}" is defined twice`,
      );
    seen.add(key);
  });
  return exported as AgentDefinition[];
}

function pickExport(loaded: unknown): unknown {
  if (Array.isArray(loaded)) return loaded;
  if (loaded && typeof loaded === "object") {
    const module = loaded as { default?: unknown; agents?: unknown };
    if (Array.isArray(module.agents)) return module.agents;
    if (Array.isArray(module.default)) return module.default;
    const inner = module.default as { default?: unknown; agents?: unknown } | undefined;
    if (inner && Array.isArray(inner.agents)) return inner.agents;
    if (inner && Array.isArray(inner.default)) return inner.default;
  }
  return loaded;
}
