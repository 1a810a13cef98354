import { performance } from "node:perf_hooks";
import { raceDeadline, StartStop, TIMED_OUT, type Service } from "@omnidaemon/lifecycle";
import { drizzle } from "drizzle-orm/node-postgres";
import { Client, Pool, type QueryConfig } from "pg";
import pino, { type Logger } from "pino";
import {
  clientConfig,
  DEFAULT_SCHEMA,
  describeTarget,
  validateDatabaseUrl,
  validateSchema,
  validateTimeoutMs,
  type ConnectionSettings,
} from "./connection";
import { StoreError } from "./errors";
import { withMigrationClient } from "./migrator";
import { LeaderLock, type LeaderLockOptions } from "./leader-lock";
import { connectError } from "./pg-errors";
import type { AgentsRepository } from "./repositories/agents";
import { PgAgentsRepository } from "./repositories/pg-agents";
import type { AuditRepository } from "./repositories/audit";
import { PgAuditRepository } from "./repositories/pg-audit";
import type { Db, DbAccess } from "./repositories/context";
import type { CountersRepository } from "./repositories/counters";
import { PgCountersRepository } from "./repositories/pg-counters";
import type { TasksRepository } from "./repositories/tasks";
import { PgTasksRepository } from "./repositories/pg-tasks";
import type { WorkersRepository } from "./repositories/workers";
import { PgWorkersRepository } from "./repositories/pg-workers";

/** Results live this long after they finish (`OMNIDAEMON_RESULT_TTL_MS`). */
export const DEFAULT_RESULT_TTL_MS = 24 * 60 * 60 * 1000;

export interface PgStoreOptions {
  /**
   * `postgres://user:password@host:port/database`; TLS by its `sslmode` (disable, require, verify-ca, verify-full),
   * with the CA in `sslCa`.
   */
  databaseUrl: string;
  /** PEM CA bundle that signed the server's certificate, for `sslmode=verify-ca|verify-full` in the URL. */
  sslCa?: string;
  /** The password, when the URL has none (e.g. read from a mounted Secret). Secret. */
  password?: string;
  /**
   * Postgres schema holding the tables (set as each connection's `search_path`); created by the migrations when
   * missing. Lowercase letters, digits and `_`. @default "public"
   */
  schema?: string;
  /** A child logger named `pg-store` is made from it. @default a silent logger */
  logger?: Logger;
  /** Maximum connections in the pool. @default 10 */
  poolMax?: number;
  /** Bound on opening one connection, and on waiting for a free one when the pool is exhausted. @default 5000 */
  connectTimeoutMs?: number;
  /** How long `stop()` waits for the pool to close (in-flight queries to finish). @default 5000 */
  stopTimeoutMs?: number;
  /** Server-side `statement_timeout` of every connection. @default unset (the server's setting) */
  statementTimeoutMs?: number;
  /** Apply the committed migrations in `start()`; off when a migrate job (`migrateDatabase`) ran them. @default true */
  migrate?: boolean;
  /** How long results live after they finish, unless a call says otherwise. @default 86400000 (24 h) */
  resultTtlMs?: number;
  /** `application_name` of the connections, as `pg_stat_activity` shows them. @default "omnidaemon" */
  applicationName?: string;
}

export interface PgPingResult {
  /** Round trip of `select 1`, including taking a connection from the pool, in ms. */
  latencyMs: number;
}

type State = "new" | "starting" | "running" | "stopped";

/**
 * The coordinator's Postgres: a `pg` pool, the migrations, and the repositories (`agents`, `workers`, `tasks`,
 * `counters`, `audit`). A {@link Service}: the constructor only validates options; `start()` opens the pool, pings
 * and migrates (and closes everything again if any step fails); `stop()` closes the pool, bounded.
 *
 * The pool outlives Postgres restarts: a connection that breaks while idle is dropped (its `error` is logged, never
 * thrown), one that breaks mid-query fails that query with UNAVAILABLE, and the next query opens a new one.
 */
export class PgStore implements Service {
  readonly name = "pg-store";
  readonly agents: AgentsRepository;
  readonly workers: WorkersRepository;
  readonly tasks: TasksRepository;
  readonly counters: CountersRepository;
  readonly audit: AuditRepository;

  private readonly settings: ConnectionSettings;
  private readonly target: string;
  private readonly logger: Logger;
  private readonly poolMax: number;
  private readonly stopTimeoutMs: number;
  private readonly runMigrations: boolean;
  private state: State = "new";
  private pool: Pool | undefined;
  private db: Db | undefined;
  private readonly lifecycle: StartStop;

  constructor(options: PgStoreOptions) {
    const databaseUrl = validateDatabaseUrl(options.databaseUrl);
    this.settings = {
      databaseUrl,
      schema: validateSchema(options.schema ?? DEFAULT_SCHEMA),
      connectTimeoutMs: validateTimeoutMs("connectTimeoutMs", options.connectTimeoutMs ?? 5000),
      statementTimeoutMs:
        options.statementTimeoutMs === undefined
          ? undefined
          : validateTimeoutMs("statementTimeoutMs", options.statementTimeoutMs),
      applicationName: options.applicationName ?? "omnidaemon",
      sslCa: options.sslCa,
      password: options.password,
    };
    this.target = describeTarget(databaseUrl);
    this.poolMax = options.poolMax ?? 10;
    if (!Number.isInteger(this.poolMax) || this.poolMax < 1) {
      throw new StoreError("INVALID_CONFIG", `poolMax must be an integer ≥ 1, got ${this.poolMax}`, {
        field: "poolMax",
      });
    }
    this.stopTimeoutMs = validateTimeoutMs("stopTimeoutMs", options.stopTimeoutMs ?? 5000);
    // A start in progress sees `stopped`, closes its own pool and rejects; if it is still waiting (for the
    // migration lock, say) when stopTimeoutMs passes, stop goes on and the start cleans up by itself once it gets
    // there.
    this.lifecycle = new StartStop(
      this.name,
      { start: () => this.doStart(), stop: () => this.doStop() },
      {
        stoppedError: () => new StoreError("STOPPED", "the store is stopped"),
        startWaitMs: this.stopTimeoutMs,
      },
    );
    this.runMigrations = options.migrate ?? true;
    const resultTtlMs = validateTimeoutMs("resultTtlMs", options.resultTtlMs ?? DEFAULT_RESULT_TTL_MS);
    this.logger = (options.logger ?? pino({ level: "silent" })).child({
      component: "pg-store",
      schema: this.settings.schema,
    });

    const access: DbAccess = { db: () => this.requireDb() };
    this.agents = new PgAgentsRepository(access);
    this.workers = new PgWorkersRepository(access);
    this.tasks = new PgTasksRepository(access, resultTtlMs);
    this.counters = new PgCountersRepository(access);
    this.audit = new PgAuditRepository(access);
  }

  /** The schema the store works in. */
  get schema(): string {
    return this.settings.schema;
  }

  /**
   * A leader election among the processes using this database and schema (coordinator replicas): see
   * {@link LeaderLock}. It holds a connection of its own, outside the pool; enter it into the lifecycle stack.
   */
  leaderLock(options: Omit<LeaderLockOptions, "name" | "connect"> & { role?: string } = {}): LeaderLock {
    const { role = "leader", ...rest } = options;
    return new LeaderLock({
      ...rest,
      name: `omnidaemon:${this.settings.schema}:${role}`,
      connect: () =>
        new Client(
          clientConfig({ ...this.settings, applicationName: `${this.settings.applicationName}-${role}` }),
        ),
    });
  }

  /**
   * Opens the pool, pings Postgres, applies migrations (unless `migrate: false`). Idempotent while it runs or once
   * it succeeded; a failed start leaves nothing open and may be retried. Rejects with a StoreError:
   * UNAVAILABLE when Postgres does not answer, INVALID_CONFIG for bad credentials or database, MIGRATION_FAILED.
   */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  private async doStart(): Promise<void> {
    this.state = "starting";
    const pool = new Pool({ ...clientConfig(this.settings), max: this.poolMax });
    // pg-pool re-emits the error of a connection that broke while idle (Postgres restarted, network cut). With no
    // listener that would be an uncaught 'error' and end the process; the pool has already dropped the connection.
    pool.on("error", (error) => {
      this.logger.warn({ err: error }, "idle Postgres connection failed; the pool replaces it on next use");
    });
    // A connection checked out of the pool (a transaction) has no pool listener: when Postgres ends it (fast
    // shutdown, restart, pg_terminate_backend: 57P01 then a closed socket) pg emits 'error' on the client itself,
    // which would end the process. The call using it already fails with that error; the pool drops the client.
    pool.on("connect", (client) => {
      client.on("error", (error) => {
        this.logger.warn({ err: error }, "Postgres connection in use failed; the call using it fails");
      });
    });
    try {
      const started = performance.now();
      await this.pingPool(pool, this.settings.connectTimeoutMs);
      this.logger.info(
        { target: this.target, latencyMs: Math.round(performance.now() - started) },
        "connected to Postgres",
      );
      if (this.runMigrations) {
        // Its own connection, without statement_timeout: a migration may legitimately take longer than a query.
        const client = new Client(clientConfig({ ...this.settings, statementTimeoutMs: undefined }));
        await withMigrationClient(client, {
          schema: this.settings.schema,
          target: this.target,
          logger: this.logger,
        });
      }
      if (this.lifecycle.stopped) throw new StoreError("STOPPED", "the store was stopped while starting");
    } catch (error) {
      await this.endPool(pool);
      if (this.state === "starting") this.state = "new";
      throw error;
    }
    this.pool = pool;
    this.db = drizzle({ client: pool });
    this.state = "running";
    this.logger.info({ target: this.target }, "store started");
  }

  /**
   * One `select 1`, for health checks. Resolves with the latency; rejects with StoreError UNAVAILABLE when Postgres
   * does not answer within `timeoutMs` (never hangs), NOT_STARTED/STOPPED outside the store's run.
   *
   * @param timeoutMs bound on the whole round trip. @default connectTimeoutMs
   */
  async ping(timeoutMs: number = this.settings.connectTimeoutMs): Promise<PgPingResult> {
    validateTimeoutMs("timeoutMs", timeoutMs);
    this.requireDb();
    const pool = this.pool as Pool;
    const started = performance.now();
    await this.pingPool(pool, timeoutMs);
    return { latencyMs: performance.now() - started };
  }

  private async pingPool(pool: Pool, timeoutMs: number): Promise<void> {
    // query_timeout bounds the query and makes the pool discard its connection (pg honours it per query;
    // @types/pg does not declare it). The outer deadline bounds the whole call, including the wait for a
    // connection, which connectTimeoutMs alone would let run longer than `timeoutMs`.
    const config: QueryConfig & { query_timeout: number } = { text: "select 1", query_timeout: timeoutMs };
    const query = pool.query(config);
    const outcome = await raceDeadline(
      query.then(
        () => undefined,
        (error: unknown) => error,
      ),
      timeoutMs,
    );
    if (outcome === TIMED_OUT) {
      query.catch(() => undefined);
      throw new StoreError(
        "UNAVAILABLE",
        `Postgres at ${this.target} did not answer select 1 within ${timeoutMs} ms`,
      );
    }
    // Whatever stops `select 1` (refused, lost, bad credentials) is a connection failure.
    if (outcome !== undefined) throw connectError(outcome, this.target);
  }

  /** Closes the pool, waiting at most `stopTimeoutMs` for queries in flight. Idempotent; safe before `start()`. */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private async doStop(): Promise<void> {
    const wasStarted = this.state !== "new";
    this.state = "stopped";
    const pool = this.pool;
    this.pool = undefined;
    this.db = undefined;
    if (pool !== undefined) await this.endPool(pool);
    if (wasStarted) this.logger.info({}, "store stopped");
  }

  private async endPool(pool: Pool): Promise<void> {
    const ended = await raceDeadline(
      pool.end().then(
        () => true,
        (error: unknown) => {
          this.logger.warn({ err: error }, "closing the Postgres pool failed");
          return true;
        },
      ),
      this.stopTimeoutMs,
    );
    if (ended === TIMED_OUT) {
      this.logger.warn(
        { stopTimeoutMs: this.stopTimeoutMs, inUse: pool.totalCount - pool.idleCount },
        "Postgres pool did not close in time; queries still in flight were left running",
      );
    }
  }

  private requireDb(): Db {
    if (this.state === "stopped") throw new StoreError("STOPPED", "the store is stopped");
    if (this.db === undefined)
      throw new StoreError("NOT_STARTED", "the store is not started: call start() first");
    return this.db;
  }
}
