import type { Client } from "pg";
import pino, { type Logger } from "pino";

export interface LeaderLockOptions {
  /** What is led: replicas with the same name compete for one lock (the store uses its schema in it). */
  name: string;
  /** Opens a dedicated session: an advisory lock lives exactly as long as the connection that holds it. */
  connect: () => Client;
  /** How often a follower tries to take the lock, and a leader checks that its session still holds it. @default 2000 */
  intervalMs?: number;
  logger?: Logger;
  /** Called when this process becomes leader (`true`) or stops being it (`false`). */
  onChange?: (leader: boolean) => void;
}

/**
 * Leader election through a Postgres session-level advisory lock (`pg_try_advisory_lock`), so several coordinator
 * replicas can run side by side while the jobs that must run once (sweeps, purges, control reconciliation) run on
 * exactly one of them. The lock is released when its session ends: a stopped leader hands over at once, a killed
 * one as soon as Postgres sees its connection close; a follower takes over within `intervalMs`. A leader whose
 * session fails steps down immediately, before any other replica can have taken the lock.
 */
export class LeaderLock {
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private client: Client | undefined;
  private leader = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;

  constructor(private readonly options: LeaderLockOptions) {
    this.intervalMs = options.intervalMs ?? 2000;
    this.logger = (options.logger ?? pino({ level: "silent" })).child({ component: "leader-lock" });
  }

  readonly name = "leader-lock";

  /** Whether this process holds the lock right now. */
  isLeader(): boolean {
    return this.leader;
  }

  /** Tries once (a Postgres outage is not fatal: it keeps trying), then every `intervalMs`. Idempotent. */
  start(): Promise<void> {
    if (this.stopPromise !== undefined) return Promise.resolve();
    this.startPromise ??= (async () => {
      await this.tick();
      if (this.stopPromise === undefined) this.timer = setInterval(() => void this.tick(), this.intervalMs);
    })();
    return this.startPromise;
  }

  /** Releases the lock (ends the session); idempotent, safe before start. */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      clearInterval(this.timer);
      this.timer = undefined;
      await this.ticking;
      await this.drop();
    })();
    return this.stopPromise;
  }

  private tick(): Promise<void> {
    this.ticking ??= this.attempt().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async attempt(): Promise<void> {
    if (this.stopPromise !== undefined && this.client === undefined) return;
    try {
      if (this.client === undefined) {
        const client = this.options.connect();
        client.on("error", (error) => {
          this.logger.warn({ err: error }, "leader lock session failed");
          if (this.client === client) void this.drop();
        });
        await client.connect();
        this.client = client;
      }
      // A session-level lock is held until its session ends: a leader only checks that the session is alive
      // (taking the lock again would stack it).
      const { rows } = this.leader
        ? await this.client.query<{ held: boolean }>("select true as held")
        : await this.client.query<{ held: boolean }>(
            "select pg_try_advisory_lock(hashtextextended($1, 0)) as held",
            [this.options.name],
          );
      this.setLeader(rows[0]?.held === true);
    } catch (error) {
      this.logger.warn({ err: error }, "leader lock check failed; not leading until it succeeds");
      await this.drop();
    }
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.logger.info({ lock: this.options.name }, leader ? "became leader" : "no longer leader");
    this.options.onChange?.(leader);
  }

  /** Steps down first, then ends the session (which releases the lock). */
  private async drop(): Promise<void> {
    this.setLeader(false);
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    await client
      .end()
      .catch((error: unknown) => this.logger.warn({ err: error }, "closing the lock session"));
  }
}
