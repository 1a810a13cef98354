/**
 * A small client of the coordinator's REST API (docs/control-plane.md): what the SDK's control operations and a
 * worker's registration and heartbeats need. Errors say which URL was tried and which variable to set.
 */
export class CoordinatorRequestError extends Error {
  override readonly name = "CoordinatorRequestError";
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly body: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface CoordinatorClientOptions {
  /** @default "http://127.0.0.1:8765" */
  url: string;
  token?: string;
  /** Recorded in the coordinator's audit log. @default "sdk" */
  actor?: string;
  /** @default 10000 */
  timeoutMs?: number;
}

export class CoordinatorClient {
  private readonly base: string;

  constructor(private readonly options: CoordinatorClientOptions) {
    this.base = options.url.replace(/\/+$/, "");
  }

  get url(): string {
    return this.base;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { "x-omnidaemon-actor": this.options.actor ?? "sdk" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new CoordinatorRequestError(
        `coordinator at ${this.base} is unreachable (${(error as Error).message}); set OMNIDAEMON_COORDINATOR_URL`,
        undefined,
        undefined,
        { cause: error },
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      // keep the text
    }
    if (!response.ok) {
      const detail =
        (parsed as { error?: { message?: string } } | null)?.error?.message ?? text.slice(0, 200);
      const hint = response.status === 401 ? " (set OMNIDAEMON_API_TOKEN)" : "";
      throw new CoordinatorRequestError(
        `${method} ${path} failed: ${response.status} ${detail}${hint}`,
        response.status,
        parsed,
      );
    }
    return parsed as T;
  }
}
