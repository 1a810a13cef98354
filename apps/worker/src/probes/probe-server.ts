import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { raceDeadline, StartStop, TIMED_OUT, type Service } from "@omnidaemon/lifecycle";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { liveness, readiness, type ProbeVerdict } from "./consumer-health";
import { ConsumerProgressTracker, defaultStallAfterMs, type ProbeConsumer } from "./progress-tracker";

export interface ProbeServerOptions {
  /** `OMNIDAEMON_METRICS_PORT`; 0 picks a free port (tests), see {@link ProbeServer.address}. */
  port: number;
  /** @default "0.0.0.0" (Prometheus and the kubelet connect from outside the pod) */
  host?: string;
  /** What `GET /metrics` exposes. */
  registry: Registry;
  /** The agent consumers of this worker, read on every probe (agents come and go). */
  consumers: () => Iterable<ProbeConsumer>;
  logger: Logger;
  /** @default 2 × reclaimIdleMs + maxRetryBackoffMs, the largest over the consumers (see `defaultStallAfterMs`) */
  stallAfterMs?: number;
  /** @default 120000 (see `LivenessOptions.pollStallMs`) */
  pollStallMs?: number;
  /** How long `stop()` lets in-flight requests finish before closing their connections. @default 2000 */
  stopTimeoutMs?: number;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * The worker's operational HTTP endpoint: `GET /metrics` (Prometheus text), `GET /livez` and `GET /readyz`
 * (200 or 503 with a JSON body naming the failing agents). No auth: it exposes counts and health, never payloads,
 * and is meant for the cluster network.
 */
export class ProbeServer implements Service {
  readonly name = "probe-server";
  private readonly logger: Logger;
  private readonly tracker = new ConsumerProgressTracker();
  private readonly now: () => number;
  private server: Server | undefined;
  private readonly lifecycle = new StartStop(
    "probe-server",
    { start: () => this.listen(), stop: () => this.close() },
    { stoppedError: () => new Error("probe server is stopped") },
  );

  constructor(private readonly options: ProbeServerOptions) {
    this.logger = options.logger.child({ component: "probe-server" });
    this.now = options.now ?? Date.now;
  }

  /** Listens; idempotent. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  private async listen(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    // Probes and scrapes are short; do not let idle keep-alive sockets hold stop() up.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port, this.options.host ?? "0.0.0.0", () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (error) => this.logger.error({ err: error }, "probe server error"));
    this.server = server;
    this.logger.info({ port: this.address() }, "probe server listening");
  }

  /** The bound port once started (the real one when `port` was 0); undefined before start() and after stop(). */
  address(): number | undefined {
    const address = this.server?.address();
    return address && typeof address === "object" ? (address as AddressInfo).port : undefined;
  }

  /** Closes the listener; open requests get `stopTimeoutMs`, then their connections are cut. Idempotent. */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  /** The liveness verdict now (also what `GET /livez` answers). */
  live(): ProbeVerdict {
    const consumers = [...this.options.consumers()];
    const now = this.now();
    const stallAfterMs = this.options.stallAfterMs ?? defaultStallAfterMs(consumers);
    return liveness(this.tracker.observe(consumers, now), now, {
      stallAfterMs,
      pollStallMs: this.options.pollStallMs,
    });
  }

  /** The readiness verdict now (also what `GET /readyz` answers). */
  ready(): ProbeVerdict {
    return readiness(this.tracker.observe(this.options.consumers(), this.now()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?", 1)[0];
    try {
      if (path !== "/metrics" && path !== "/livez" && path !== "/readyz") {
        return send(res, 404, JSON_TYPE, JSON.stringify({ error: "not found" }));
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("allow", "GET, HEAD");
        return send(res, 405, JSON_TYPE, JSON.stringify({ error: "method not allowed" }));
      }
      if (path === "/metrics") {
        const text = await this.options.registry.metrics();
        return send(res, 200, this.options.registry.contentType, text, req.method === "HEAD");
      }
      const verdict = path === "/livez" ? this.live() : this.ready();
      if (!verdict.ok) this.logger.warn({ probe: path, problems: verdict.problems }, "probe failing");
      const body = verdict.ok
        ? { status: "ok" }
        : {
            status: "fail",
            reason: verdict.problems.map((p) => p.message).join("; "),
            problems: verdict.problems,
          };
      return send(res, verdict.ok ? 200 : 503, JSON_TYPE, JSON.stringify(body), req.method === "HEAD");
    } catch (error) {
      this.logger.error({ err: error, path }, "probe request failed");
      if (!res.headersSent) send(res, 500, JSON_TYPE, JSON.stringify({ error: "internal error" }));
      else res.destroy();
    }
  }

  private async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if ((await raceDeadline(closed, this.options.stopTimeoutMs ?? 2000)) === TIMED_OUT) {
      this.logger.warn("probe requests still open at the stop deadline; closing their connections");
      server.closeAllConnections();
      await closed;
    }
    this.server = undefined;
    this.logger.info("probe server stopped");
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(headOnly ? undefined : body);
}
