// HTTP in tests: one request helper for the coordinator's API, the worker's probes and webhooks; the answer keeps the
// status, the headers, the text and (when it is JSON) the parsed body.

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
}

export interface HttpRequest {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (with the given headers), for malformed bodies. */
  raw?: string;
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`; null or undefined sends none. */
  token?: string | null;
  /** @default 30000 */
  timeoutMs?: number;
}

/** `method url` with `request`; never throws for an HTTP status, only when the server cannot be reached. */
export async function httpRequest(
  url: string,
  method = "GET",
  request: HttpRequest = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.token !== undefined && request.token !== null)
    headers.authorization = `Bearer ${request.token}`;
  let body: string | undefined = request.raw;
  if (request.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(request.json);
  }
  const response = await fetch(url, {
    method,
    headers,
    ...(body !== undefined && { body }),
    signal: AbortSignal.timeout(request.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** {@link httpRequest} in short: an optional JSON body and bearer token, answered within 10 s. */
export function http(url: string, method = "GET", json?: unknown, token?: string): Promise<HttpAnswer> {
  return httpRequest(url, method, { json, token, timeoutMs: 10_000 });
}
