/**
 * The CLI's HTTP client of the coordinator API (docs/control-plane.md): JSON in and out, bearer token, the actor
 * header for the audit log. Errors carry what a person needs to act: the URL tried, the status and the API's
 * error body (`code`, `field`, `known`).
 */

export const DEFAULT_URL = "http://127.0.0.1:8765";
export const URL_VARIABLE = "OMNIDAEMON_COORDINATOR_URL";
export const TOKEN_VARIABLE = "OMNIDAEMON_API_TOKEN";
const DEFAULT_TIMEOUT_MS = 30_000;

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Statuses besides 2xx whose JSON body is an answer, not an error (`/health` answers 503 when down). */
  accept?: readonly number[];
  timeoutMs?: number;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/** The coordinator answered with an error status. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    message: string,
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly url: string,
    /** From the API's error body, when it has one. */
    readonly details: { code?: string; field?: string; known?: string[] } = {},
  ) {
    super(message);
  }
}

/** Nothing answered at the URL (refused, DNS, TLS, timeout), or what answered is not the coordinator. */
export class UnreachableError extends Error {
  override readonly name = "UnreachableError";
  constructor(
    readonly url: string,
    readonly reason: string,
    message = `cannot reach the coordinator at ${url}: ${reason}`,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  url: string;
  token?: string;
  /** `X-Omnidaemon-Actor`, recorded in the audit log. */
  actor: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export class ApiClient {
  readonly url: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.fetch = options.fetch ?? fetch;
  }

  get hasToken(): boolean {
    return this.options.token !== undefined;
  }

  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.request<T>("GET", path, { query })).body;
  }

  async send<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>(method, path, options)).body;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiAnswer<T>> {
    const target = `${this.url}${path}${queryString(options.query)}`;
    const headers: Record<string, string> = {
      "x-omnidaemon-actor": this.options.actor,
      accept: "application/json",
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(target, {
        method,
        headers,
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new UnreachableError(this.url, networkReason(error, timeoutMs));
    }
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      const reason = `it answered ${method} ${path} with ${response.status} and a body that is not JSON`;
      throw new UnreachableError(this.url, reason, `${this.url} is not the coordinator: ${reason}`);
    }
    if (response.ok || options.accept?.includes(response.status))
      return { status: response.status, body: body as T };
    const error = (
      body as { error?: { code?: unknown; message?: unknown; field?: unknown; known?: unknown } } | null
    )?.error;
    const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
    throw new ApiError(message, response.status, method, path, this.url, {
      ...(typeof error?.code === "string" && { code: error.code }),
      ...(typeof error?.field === "string" && { field: error.field }),
      ...(Array.isArray(error?.known) && { known: error.known.map(String) }),
    });
  }
}

export function queryString(query: Query | undefined): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

/** Path segment, encoded: topics and names are validated by the API, not here. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/** Why fetch failed, in words: `connection refused`, `no answer within 30 s`, `host not found`. */
export function networkReason(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") {
    return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  }
  const code = err?.cause?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (nothing listens there)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ECONNRESET":
      return "connection reset";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out";
    default:
      return err?.cause?.message ?? err?.message ?? String(error);
  }
}
