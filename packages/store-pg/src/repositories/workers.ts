import type { WorkerAgentStatus } from "@omnidaemon/protocol";

/**
 * One agent as a worker reports it in its heartbeat: the protocol's record (snake_case, as the worker sends it and
 * as the `agents` jsonb column holds it), stored and returned as is.
 */
export type { WorkerAgentStatus };

export interface WorkerRegistration {
  /** Chosen by the worker: `<host>-<pid>-<random>`. */
  id: string;
  host: string;
  pid: number;
  version: string;
  agents: readonly WorkerAgentStatus[];
  /**
   * When the worker process started; uptime is measured from it. Kept from the first registration when omitted,
   * so a worker that registers again (the coordinator had lost it) keeps its uptime. @default now (first time)
   */
  startedAt?: Date;
}

export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  version: string;
  agents: WorkerAgentStatus[];
  startedAt: Date;
  lastHeartbeat: Date;
  /** Set by `deregister`; null while registered. */
  stoppedAt: Date | null;
}

export interface WorkersRepository {
  /** Registers a worker, or registers it again (clearing `stoppedAt`); its heartbeat clock restarts now. */
  register(worker: WorkerRegistration): Promise<WorkerRecord>;
  /**
   * Records a heartbeat with the worker's per-agent status. False when the worker is unknown or deregistered:
   * the worker should register again.
   */
  heartbeat(id: string, agents: readonly WorkerAgentStatus[]): Promise<boolean>;
  /** Marks the worker stopped (graceful shutdown). False when unknown or already stopped. */
  deregister(id: string): Promise<boolean>;
  /**
   * Workers alive now: registered, not deregistered, with a heartbeat within the last `withinMs` ms of the
   * database clock. Ordered by start time, oldest first.
   */
  listLive(withinMs: number): Promise<WorkerRecord[]>;
  /** Every worker row, live or not, oldest start first. */
  list(): Promise<WorkerRecord[]>;
  /**
   * Deletes workers gone for more than `olderThanMs`: deregistered that long ago, or silent that long (killed
   * without deregistering). Returns how many.
   */
  purgeStopped(olderThanMs: number): Promise<number>;
}
