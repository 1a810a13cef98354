import { pgSequence } from "drizzle-orm/pg-core";

/**
 * Source of `agents.revision`: one sequence for all agents, so revisions are strictly increasing fleet-wide and a
 * worker can drop any control record older than the one it applied.
 */
export const agentRevision = pgSequence("agent_revision");
