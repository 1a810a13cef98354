import type { TaskEvent } from "@omnidaemon/protocol";
import type { OutgoingRecord } from "./producer";
import { SYSTEM_TOPICS } from "./naming";

/** The Kafka record of a task event (its schema is the protocol's), keyed by task id. */
export function taskEventRecord(event: TaskEvent): OutgoingRecord {
  return {
    topic: SYSTEM_TOPICS.taskEvents,
    key: event.task_id,
    value: Buffer.from(JSON.stringify(event)),
  };
}
