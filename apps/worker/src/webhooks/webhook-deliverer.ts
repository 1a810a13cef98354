// Long on purpose (about 430 lines): one delivery's path — resolve, refuse unsafe addresses, connect only to what was
// validated, read the answer, retry with backoff — is one piece of security-relevant logic, kept whole to be reviewed
// whole; its outcome vocabulary and options sit above it.
import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { abortable, raceDeadline, sleep, StartStop, TIMED_OUT, type Service } from "@omnidaemon/lifecycle";
import type { Logger } from "pino";
import { defaultLookup, displayUrl, resolveDestination, type WebhookLookup } from "./destination";
import { backoffDelayMs, isRetriableStatus, isSuccessStatus, retryAfterMs } from "./retry-policy";
import { signWebhook, WEBHOOK_HEADER } from "./signature";

export const WEBHOOK_USER_AGENT = "omnidaemon-webhook/1";

/** Why a delivery ended without a 2xx. Routing (retry or not) never reads `error`, only the code and status. */
export const WEBHOOK_FAILURE_CODES = [
  /** The URL does not parse. Not retried. */
  "invalid_url",
  /** Scheme other than http(s), or a private/loopback/link-local destination. Not retried. */
  "refused",
  /** The body cannot be serialized to JSON. Not retried. */
  "invalid_body",
  /** The receiver answered with a status other than 2xx: permanent (3xx, 4xx) or still failing after the last attempt. */
  "http_status",
  /** The last attempt got no answer within `timeoutMs`. */
  "timeout",
  /** The last attempt failed to connect or lost the connection (DNS failure included). */
  "network",
  /** The deliverer stopped (or was not running) before the webhook could be delivered. */
  "stopped",
  /**
   * Not attempted: `maxPending` deliveries (or `maxPendingBytes` of bodies) were already waiting or running. The
   * webhook is recorded failed rather than queued without bound. Not retried.
   */
  "overloaded",
] as const;
export type WebhookFailureCode = (typeof WEBHOOK_FAILURE_CODES)[number];

export interface WebhookOutcome {
  delivered: boolean;
  /** POST requests sent (0 when refused up front). */
  attempts: number;
  /** The last HTTP status received, if any. */
  status?: number;
  /** What went wrong last, for logs and the task record; safe to show (no credentials, no query string). */
  error?: string;
  code?: WebhookFailureCode;
}

export interface WebhookMeta {
  taskId: string;
  topic: string;
  agent: string;
}

export interface WebhookDelivererOptions {
  /** HMAC-SHA256 key; when set, every POST carries a timestamp and a signature header. */
  secret?: string;
  /** Allow loopback, private, link-local and CGNAT destinations. @default false */
  allowPrivateAddresses?: boolean;
  /** Per attempt, DNS lookup included, until the response is fully read. @default 10000 */
  timeoutMs?: number;
  /** Attempts in total, the first included. @default 5 */
  maxAttempts?: number;
  /** Delay before the second attempt; doubles per attempt, with jitter. @default 1000 */
  backoffMs?: number;
  /** Largest delay between attempts, `Retry-After` included. @default 30000 */
  maxBackoffMs?: number;
  /** How long `stop()` lets POSTs already on the wire finish before aborting them. @default 5000 */
  stopTimeoutMs?: number;
  /** POSTs on the wire at once; further attempts wait (FIFO) for a slot. A backoff sleep holds none. @default 16 */
  maxConcurrent?: number;
  /**
   * Deliveries accepted and not finished (waiting for a slot, on the wire, or between attempts). When as many are
   * pending, `deliver()` answers `overloaded` at once instead of queueing. @default 1000
   */
  maxPending?: number;
  /** Bytes of JSON bodies those pending deliveries may hold together; beyond, `overloaded`. @default 67108864 (64 MiB) */
  maxPendingBytes?: number;
  logger: Logger;
  /** DNS resolution (tests). @default dns.lookup with all addresses */
  lookup?: WebhookLookup;
  /** Told the outcome of every `deliver()` (metrics). Must not throw; a throw is logged and ignored. */
  onOutcome?: (outcome: WebhookOutcome, meta: WebhookMeta) => void;
}

type AttemptResult =
  | { kind: "response"; status: number; retryAfter: string | undefined }
  | { kind: "error"; code: "timeout" | "network" | "stopped"; error: string }
  | { kind: "refused"; code: "invalid_url" | "refused"; error: string };

class AttemptTimeout extends Error {
  override readonly name = "AttemptTimeout";
}

/**
 * POSTs task results to the webhook URLs events ask for. Only a 2xx answer counts as delivered; 408, 429, 5xx and
 * network errors are retried with backoff (honouring `Retry-After`), anything else fails at once.
 *
 * Every attempt resolves the host, refuses unsafe addresses (unless allowed) and connects only to the addresses it
 * just validated, so a DNS answer that changes between check and connect (rebinding) cannot reach an internal
 * host. Redirects are never followed: a 3xx is a failed delivery, not a hop to a destination nobody vetted.
 *
 * Uses `node:http` rather than global `fetch`: fetch (undici) takes no `lookup`, so it cannot pin the connection to
 * the validated address without the undici package, which the worker does not depend on.
 */
export class WebhookDeliverer implements Service {
  readonly name = "webhook-deliverer";
  private readonly logger: Logger;
  private readonly allowPrivateAddresses: boolean;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly stopTimeoutMs: number;
  private readonly maxConcurrent: number;
  private readonly maxPending: number;
  private readonly maxPendingBytes: number;
  private readonly lookup: WebhookLookup;
  private state: "idle" | "running" | "stopped" = "idle";
  /** Aborted when stop() begins: no new attempt starts, backoff sleeps end. */
  private readonly stopping = new AbortController();
  /** Aborted when stop()'s deadline passes: POSTs still on the wire are cut. */
  private readonly forced = new AbortController();
  private readonly active = new Set<Promise<WebhookOutcome>>();
  private pendingBytes = 0;
  private onWire = 0;
  /** Attempts waiting for a POST slot, oldest first; told `false` when the deliverer stops. */
  private readonly waiting: Array<(granted: boolean) => void> = [];

  constructor(private readonly options: WebhookDelivererOptions) {
    this.logger = options.logger.child({ component: "webhook-deliverer" });
    this.allowPrivateAddresses = options.allowPrivateAddresses ?? false;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.backoffMs = options.backoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 16);
    this.maxPending = Math.max(1, options.maxPending ?? 1000);
    this.maxPendingBytes = Math.max(1, options.maxPendingBytes ?? 64 * 1024 * 1024);
    this.lookup = options.lookup ?? defaultLookup;
  }

  private readonly lifecycle = new StartStop(
    "webhook-deliverer",
    {
      start: async () => {
        this.state = "running";
      },
      stop: () => this.close(),
    },
    { stoppedError: () => new Error("webhook deliverer is stopped") },
  );

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /** Ends pending retries at once and waits up to `stopTimeoutMs` for POSTs on the wire. Idempotent. */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  /** Deliveries accepted and not finished, and the bytes of their bodies (what the deliverer holds in memory). */
  get pending(): { deliveries: number; bytes: number } {
    return { deliveries: this.active.size, bytes: this.pendingBytes };
  }

  /**
   * POSTs `body` as JSON to `url`, retrying as the class describes. Never throws. Answers `overloaded` at once,
   * without queueing, when `maxPending` deliveries or `maxPendingBytes` are already pending.
   */
  async deliver(url: string, body: unknown, meta: WebhookMeta): Promise<WebhookOutcome> {
    if (this.state !== "running") {
      return this.report(
        { delivered: false, attempts: 0, code: "stopped", error: "webhook deliverer is not running" },
        meta,
      );
    }
    let payload: Buffer;
    try {
      const text = JSON.stringify(body);
      if (text === undefined) throw new Error("the body has no JSON representation");
      payload = Buffer.from(text);
    } catch (error) {
      return this.report(
        {
          delivered: false,
          attempts: 0,
          code: "invalid_body",
          error: `webhook body is not JSON: ${messageOf(error)}`,
        },
        meta,
      );
    }
    if (this.active.size >= this.maxPending || this.pendingBytes + payload.length > this.maxPendingBytes) {
      const error =
        `webhook not delivered: ${this.active.size} deliveries (${this.pendingBytes} bytes) already pending, ` +
        `limits ${this.maxPending} deliveries and ${this.maxPendingBytes} bytes`;
      this.logger.warn(
        { ...meta, pending: this.active.size, pendingBytes: this.pendingBytes, bodyBytes: payload.length },
        "webhook queue full; webhook recorded failed",
      );
      return this.report({ delivered: false, attempts: 0, code: "overloaded", error }, meta);
    }
    this.pendingBytes += payload.length;
    const run = this.run(url, payload, meta);
    this.active.add(run);
    try {
      return this.report(await run, meta);
    } finally {
      this.active.delete(run);
      this.pendingBytes -= payload.length;
    }
  }

  private async run(url: string, payload: Buffer, meta: WebhookMeta): Promise<WebhookOutcome> {
    let attempts = 0;
    let status: number | undefined;
    for (;;) {
      if (!(await this.acquireSlot())) return stoppedOutcome(attempts, status);
      let result: AttemptResult;
      try {
        result = await this.attempt(url, payload, meta, attempts + 1);
      } finally {
        this.releaseSlot();
      }
      if (result.kind === "refused") {
        this.logger.warn({ ...meta, error: result.error }, "webhook refused");
        return { delivered: false, attempts, status, code: result.code, error: result.error };
      }
      attempts++;
      if (result.kind === "error" && result.code === "stopped") return stoppedOutcome(attempts, status);

      let retryInMs: number | undefined;
      let failure: WebhookOutcome;
      if (result.kind === "response") {
        status = result.status;
        if (isSuccessStatus(status)) {
          this.logger.debug({ ...meta, attempts, status }, "webhook delivered");
          return { delivered: true, attempts, status };
        }
        failure = {
          delivered: false,
          attempts,
          status,
          code: "http_status",
          error: statusError(url, status),
        };
        if (isRetriableStatus(status)) {
          const asked = retryAfterMs(status, result.retryAfter);
          retryInMs = asked === undefined ? this.backoff(attempts) : Math.min(asked, this.maxBackoffMs);
        }
      } else {
        failure = { delivered: false, attempts, status, code: result.code, error: result.error };
        retryInMs = this.backoff(attempts);
      }

      const willRetry = retryInMs !== undefined && attempts < this.maxAttempts;
      this.logger.warn(
        {
          ...meta,
          attempt: attempts,
          status: failure.status,
          error: failure.error,
          retryInMs: willRetry ? retryInMs : undefined,
        },
        willRetry ? "webhook attempt failed; will retry" : "webhook delivery failed",
      );
      if (!willRetry) return failure;
      await sleep(retryInMs ?? 0, { signal: this.stopping.signal });
    }
  }

  private async attempt(
    url: string,
    payload: Buffer,
    meta: WebhookMeta,
    attempt: number,
  ): Promise<AttemptResult> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new AttemptTimeout()), this.timeoutMs);
    const signal = AbortSignal.any([timeout.signal, this.forced.signal]);
    try {
      const destination = await abortable(
        resolveDestination(url, { allowPrivateAddresses: this.allowPrivateAddresses, lookup: this.lookup }),
        signal,
      );
      if (!destination.ok) return { kind: "refused", code: destination.code, error: destination.error };
      const headers: OutgoingHttpHeaders = {
        "content-type": "application/json",
        "content-length": payload.length,
        "user-agent": WEBHOOK_USER_AGENT,
        [WEBHOOK_HEADER.taskId]: meta.taskId,
        [WEBHOOK_HEADER.topic]: meta.topic,
        [WEBHOOK_HEADER.agent]: meta.agent,
        [WEBHOOK_HEADER.attempt]: String(attempt),
      };
      if (this.options.secret !== undefined) {
        // Signed per attempt: a retry minutes later must still pass the receiver's timestamp tolerance.
        const timestamp = Math.floor(Date.now() / 1000);
        headers[WEBHOOK_HEADER.timestamp] = String(timestamp);
        headers[WEBHOOK_HEADER.signature] = signWebhook(this.options.secret, timestamp, payload);
      }
      return await post(destination.url, destination.lookup, headers, payload, signal);
    } catch (error) {
      if (timeout.signal.aborted) {
        return {
          kind: "error",
          code: "timeout",
          error: `webhook ${shown(url)} timed out after ${this.timeoutMs} ms`,
        };
      }
      if (this.forced.signal.aborted) {
        return { kind: "error", code: "stopped", error: "webhook deliverer stopped during the request" };
      }
      return { kind: "error", code: "network", error: `webhook ${shown(url)} failed: ${messageOf(error)}` };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for a POST slot (FIFO); false when the deliverer stops first. */
  private acquireSlot(): Promise<boolean> {
    if (this.stopping.signal.aborted) return Promise.resolve(false);
    if (this.onWire < this.maxConcurrent) {
      this.onWire++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot to the oldest waiting attempt, or frees it. */
  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(true);
    else this.onWire--;
  }

  private backoff(attempts: number): number {
    return backoffDelayMs(attempts, this.backoffMs, this.maxBackoffMs);
  }

  private report(outcome: WebhookOutcome, meta: WebhookMeta): WebhookOutcome {
    try {
      this.options.onOutcome?.(outcome, meta);
    } catch (error) {
      this.logger.warn({ err: error }, "webhook outcome hook threw; ignored");
    }
    return outcome;
  }

  private async close(): Promise<void> {
    this.state = "stopped";
    this.stopping.abort();
    // Attempts still waiting for a slot end now, as "stopped", like pending retries.
    for (const waiter of this.waiting.splice(0)) waiter(false);
    const drained = Promise.allSettled([...this.active]);
    if ((await raceDeadline(drained, this.stopTimeoutMs)) === TIMED_OUT) {
      this.logger.warn(
        { inFlight: this.active.size },
        "webhook requests still running at the stop deadline; aborting",
      );
      // Aborting destroys the sockets, so every request settles at once.
      this.forced.abort();
      await drained;
    }
  }
}

/** The label `omnidaemon_webhook_deliveries_total` uses for an outcome. */
export function webhookMetricOutcome(outcome: WebhookOutcome): "delivered" | "refused" | "failed" {
  if (outcome.delivered) return "delivered";
  return outcome.code === "refused" || outcome.code === "invalid_url" ? "refused" : "failed";
}

function post(
  url: URL,
  lookup: LookupFunction | undefined,
  headers: OutgoingHttpHeaders,
  payload: Buffer,
  signal: AbortSignal,
): Promise<AttemptResult> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    // agent: false → a fresh connection closed after the answer: webhooks are rare enough that pooling buys
    // nothing, and a pooled keep-alive socket would outlive stop().
    const req = send(url, { method: "POST", headers, agent: false, lookup, signal });
    let answer: AttemptResult | undefined;
    req.on("response", (res) => {
      const retryAfter = res.headers["retry-after"];
      answer = { kind: "response", status: res.statusCode ?? 0, retryAfter };
      // The body is read and discarded so the socket closes; the attempt ends when it has (bounded by the timeout).
      res.on("error", () => undefined);
      res.on("close", () => resolve(answer as AttemptResult));
      res.resume();
    });
    // An error after the status line arrived (body cut short, timeout while reading) does not change the answer.
    req.on("error", (error) => (answer ? resolve(answer) : reject(error)));
    req.end(payload);
  });
}

function stoppedOutcome(attempts: number, status: number | undefined): WebhookOutcome {
  return {
    delivered: false,
    attempts,
    status,
    code: "stopped",
    error: "webhook deliverer stopped before the webhook was delivered",
  };
}

function statusError(url: string, status: number): string {
  const note = status >= 300 && status <= 399 ? " (redirects are not followed)" : "";
  return `webhook ${shown(url)} answered ${status}${note}`;
}

function shown(url: string): string {
  try {
    return displayUrl(new URL(url));
  } catch {
    return "(invalid URL)";
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
