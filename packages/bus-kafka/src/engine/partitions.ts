import { PartitionTracker } from "./partition-tracker";

/** A running delivery, as a revocation sees it (delivery.ts's `Delivery`). */
export interface Abortable {
  /** `abandon`: the abort is not the callback's fault, so the attempt does not count and nothing commits. */
  abort(reason: Error, abandon: boolean): void;
}

/** One partition this member holds, of the agent's topic or of its retry topic. */
export interface PartitionState {
  /** `${topic}:${partition}` */
  readonly tp: string;
  readonly topic: string;
  readonly partition: number;
  readonly tracker: PartitionTracker;
  /** Aborted when the partition is revoked: in-flight work stops and is not committed by this process. */
  readonly revoked: AbortController;
  /** Deliveries running for this partition, to abort on revocation. */
  readonly running: Set<Abortable>;
  /** From the last fetch response; -1 before the first. */
  highWatermark: number;
}

export function tpOf(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/**
 * The partitions this member holds, by `tp`. A partition's state is made on its first batch and forgotten when it
 * is revoked, so a partition that comes back starts afresh (from the group's committed offset).
 */
export class Partitions {
  private readonly held = new Map<string, PartitionState>();

  get size(): number {
    return this.held.size;
  }

  get(tp: string): PartitionState | undefined {
    return this.held.get(tp);
  }

  values(): IterableIterator<PartitionState> {
    return this.held.values();
  }

  stateFor(topic: string, partition: number): PartitionState {
    const tp = tpOf(topic, partition);
    let state = this.held.get(tp);
    if (!state) {
      state = {
        tp,
        topic,
        partition,
        tracker: new PartitionTracker(),
        revoked: new AbortController(),
        running: new Set(),
        highWatermark: -1,
      };
      this.held.set(tp, state);
    }
    return state;
  }

  /** Forgets the partitions outside `assignment` and returns them, for the caller to revoke. */
  retainOnly(assignment: Record<string, number[]>): PartitionState[] {
    const assigned = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) assigned.add(tpOf(topic, partition));
    }
    const gone: PartitionState[] = [];
    for (const [tp, state] of this.held) {
      if (assigned.has(tp)) continue;
      gone.push(state);
      this.held.delete(tp);
    }
    return gone;
  }

  /** Forgets every partition and returns them, for the caller to revoke. */
  clear(): PartitionState[] {
    const all = [...this.held.values()];
    this.held.clear();
    return all;
  }

  /** The position to commit of every partition whose contiguous completed run moved since its last commit. */
  commitCandidates(): Array<{ state: PartitionState; at: number }> {
    const candidates: Array<{ state: PartitionState; at: number }> = [];
    for (const state of this.held.values()) {
      const at = state.tracker.commitCandidate();
      if (at !== undefined) candidates.push({ state, at });
    }
    return candidates;
  }

  /** Marks `offset` done, unless `state` was revoked meanwhile (then another member owns the partition). */
  complete(state: PartitionState, offset: number): boolean {
    if (this.held.get(state.tp) !== state) return false;
    state.tracker.complete(offset);
    return true;
  }
}

/** Records of the partition its group has not committed yet, or undefined before its first fetch. */
export function lagOf(state: PartitionState): number | undefined {
  if (state.highWatermark < 0) return undefined;
  const position = state.tracker.committed ?? state.tracker.position() ?? state.highWatermark;
  return Math.max(0, state.highWatermark - position);
}
