import { controlKey, desiredStateSchema, type DesiredState } from "@omnidaemon/protocol";
import type { OutgoingRecord } from "../producer";
import { SYSTEM_TOPICS } from "../naming";

// The record's schema and key are the protocol's; re-exported for the package's own readers of the topic.
export { controlKey, desiredStateSchema, type DesiredState };

/** The control record of one agent's desired state, keyed by agent so compaction keeps the last one. */
export function desiredStateRecord(
  state: DesiredState,
  topic: string = SYSTEM_TOPICS.control,
): OutgoingRecord {
  return {
    topic,
    key: controlKey(state.topic, state.agent),
    value: Buffer.from(JSON.stringify(desiredStateSchema.parse(state))),
  };
}
