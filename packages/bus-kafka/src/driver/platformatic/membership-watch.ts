import type { Logger } from "pino";
import { backoffMs } from "../../engine/backoff";

/** What the watch needs of a @platformatic/kafka consumer. */
export interface WatchedConsumer {
  /** False once the library has no heartbeat scheduled (or has left, or is closed). */
  isActive(): boolean;
  /** Joins the group again with the member's current id; the sync that follows reports the assignment. */
  joinGroup(options: Record<string, never>): Promise<unknown>;
}

export interface MembershipWatchOptions {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  logger: Logger;
  /** An error that no rejoin mends (authorization, protocol): the watch hands it to `onFatal` and stops. */
  isFatal(error: unknown): boolean;
  /** Whether some broker of the cluster answers a metadata request now (whatever the group coordinator does). */
  clusterAnswers(): Promise<boolean>;
  /** The broker may have dropped the member by now (its session expired unheard): its partitions may have moved. */
  onLost(error: unknown): void;
  /** Joining again under this member id keeps failing for longer than the broker would keep it: make a new member. */
  onStuck(error: unknown): void;
  onFatal(error: unknown): void;
}

/**
 * When a member whose heartbeat failed may have lost its group: the broker drops it a session timeout after the
 * last heartbeat it received, and that heartbeat went out no earlier than `trustedAt`. One heartbeat interval
 * earlier, for the margin between the two clocks' views (a response in flight, a timer firing late).
 */
export function lostAt(trustedAt: number, sessionTimeoutMs: number, heartbeatIntervalMs: number): number {
  return trustedAt + sessionTimeoutMs - Math.min(heartbeatIntervalMs, sessionTimeoutMs / 2);
}

/**
 * How long rejoining under the same member id is tried, while the cluster answers, before the member is replaced:
 * twice the session timeout, at least 30 s. By then the broker has dropped the member anyway, so a new one loses
 * nothing; before then, a coordinator that is only slow to come back is given the chance to take the member back.
 */
export function stuckAfterMs(sessionTimeoutMs: number): number {
  return Math.max(2 * sessionTimeoutMs, 30_000);
}

/**
 * Keeps a classic-protocol member of @platformatic/kafka 1.x in its group after a heartbeat fails.
 *
 * The library stops heartbeating for good after one heartbeat fails for a reason other than the group (the broker
 * restarting, a connection closed): it cancels its heartbeat timer before the `refresh()` meant to schedule the next
 * one (fixed upstream in platformatic/kafka#376, on the 2.x line only, which needs Node 22). Unwatched, the broker
 * drops the member when its session expires, while the member goes on believing it owns its partitions and never
 * reports an assignment again. So after a heartbeat error the watch
 *
 * - joins the group again itself, a heartbeat interval later and then with backoff up to 5 s, while the library has
 *   no heartbeat scheduled (`isActive()` false): `joinGroup` keeps the member id, so a member the broker still
 *   knows keeps its partitions (a library that heartbeats on is left alone);
 * - reports the membership lost (`onLost`) only when the broker may really have dropped it ({@link lostAt}), not
 *   at the first failed heartbeat: until then the partitions cannot have moved, and the owner keeps working through
 *   a short broker outage, as it does on kafkajs;
 * - gives the member up (`onStuck`) when joining again has failed for {@link stuckAfterMs} although the cluster
 *   answers: the library keeps the group coordinator it found first, so a coordinator that moved to another broker
 *   (or whose broker is gone for good) is only found by a new member. While no broker answers at all (the whole
 *   cluster restarting), the member keeps trying: a new member would not do better, and the old one, which the
 *   broker still knows when it returns, takes its partitions back at once.
 *
 * A good heartbeat or a completed join (`heartbeatOk`, `joined`) ends the doubt.
 */
export class MembershipWatch {
  private trustedAt = Date.now();
  private heartbeatSentAt: number | undefined;
  private doubtSince: number | undefined;
  private lostTimer: NodeJS.Timeout | undefined;
  private reviveTimer: NodeJS.Timeout | undefined;
  private reviveAttempts = 0;
  private stopped = false;

  constructor(
    private readonly consumer: WatchedConsumer,
    private readonly options: MembershipWatchOptions,
  ) {}

  /** A heartbeat went out (`consumer:heartbeat:start`). */
  heartbeatSent(): void {
    this.heartbeatSentAt = Date.now();
  }

  /** A heartbeat succeeded (`consumer:heartbeat:end`): the broker had the member when it went out. */
  heartbeatOk(): void {
    this.trust(this.heartbeatSentAt ?? Date.now());
  }

  /** A join and sync completed (`consumer:group:join`). */
  joined(): void {
    this.trust(Date.now());
  }

  /** A heartbeat failed for a reason the library does not rejoin for itself (`consumer:heartbeat:error`). */
  heartbeatFailed(error: unknown): void {
    if (this.stopped) return;
    if (this.options.isFatal(error)) {
      this.stop();
      this.options.onFatal(error);
      return;
    }
    if (this.doubtSince === undefined) {
      this.doubtSince = Date.now();
      const { sessionTimeoutMs, heartbeatIntervalMs } = this.options;
      const waitMs = Math.max(0, lostAt(this.trustedAt, sessionTimeoutMs, heartbeatIntervalMs) - Date.now());
      this.lostTimer = setTimeout(() => {
        this.lostTimer = undefined;
        if (!this.stopped) this.options.onLost(error);
      }, waitMs);
    }
    this.scheduleRevive(this.options.heartbeatIntervalMs);
  }

  /** Clears every timer; nothing is reported afterwards. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.endDoubt();
  }

  private trust(at: number): void {
    this.trustedAt = Math.max(this.trustedAt, at);
    this.endDoubt();
  }

  private endDoubt(): void {
    clearTimeout(this.lostTimer);
    clearTimeout(this.reviveTimer);
    this.lostTimer = undefined;
    this.reviveTimer = undefined;
    this.doubtSince = undefined;
    this.reviveAttempts = 0;
  }

  private scheduleRevive(waitMs: number): void {
    if (this.stopped || this.reviveTimer !== undefined) return;
    this.reviveTimer = setTimeout(() => {
      this.reviveTimer = undefined;
      void this.revive();
    }, waitMs);
  }

  private async revive(): Promise<void> {
    if (this.stopped || this.doubtSince === undefined) return;
    if (this.consumer.isActive()) {
      // The library heartbeats on (a version with the fix, or it rejoined by itself): its next heartbeat decides.
      return;
    }
    try {
      await this.consumer.joinGroup({});
      if (this.stopped) return;
      this.options.logger.info({}, "heartbeats resumed: joined the group again");
      // `consumer:group:join` has ended the doubt (`joined`); if it has not (the library had left meanwhile), the
      // next attempt looks again.
      if (this.doubtSince !== undefined) this.scheduleRevive(backoffMs(++this.reviveAttempts, 500, 5000));
    } catch (error) {
      if (this.stopped) return;
      if (this.options.isFatal(error)) {
        this.stop();
        this.options.onFatal(error);
        return;
      }
      const doubtSince = this.doubtSince ?? Date.now();
      if (
        Date.now() - doubtSince >= stuckAfterMs(this.options.sessionTimeoutMs) &&
        (await this.options.clusterAnswers().catch(() => false)) &&
        !this.stopped &&
        this.doubtSince !== undefined
      ) {
        this.stop();
        this.options.onStuck(error);
        return;
      }
      if (this.stopped) return;
      const waitMs = backoffMs(++this.reviveAttempts, 500, 5000);
      this.options.logger.debug({ err: error, waitMs }, "joining the group again failed; trying again");
      this.scheduleRevive(waitMs);
    }
  }
}
