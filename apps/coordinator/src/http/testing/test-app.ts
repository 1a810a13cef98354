import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { Registry } from "prom-client";
import { buildHttpApp } from "../server";
import { FakeServices } from "./fake-services";

export const TEST_TOKEN = "test-token-0123456789abcdef";

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
}

export interface TestRequest {
  headers?: Record<string, string>;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as is, with the given headers (for malformed bodies and other content types). */
  raw?: string;
}

export interface TestApp {
  app: FastifyInstance;
  services: FakeServices;
  registry: Registry;
  request(method: string, path: string, request?: TestRequest): Promise<TestResponse>;
  close(): Promise<void>;
}

/**
 * The HTTP app over {@link FakeServices} (answers checked against the protocol's response schemas), a fresh registry and a silent logger, listening on a free loopback
 * port. Tests speak real HTTP (fetch) rather than `inject()`: fastify's inject loads `cookie` 2, an ES module
 * jest cannot require on Node 20.
 */
export async function startTestApp(
  options: { token?: string; bodyLimitBytes?: number; consoleAssetsDir?: string } = {},
): Promise<TestApp> {
  const services = new FakeServices();
  const registry = new Registry();
  const app = buildHttpApp({
    services: services.asServices(),
    // The fakes' answers, through the HTTP edge, must be what the protocol says clients get.
    checkResponses: true,
    registry,
    logger: pino({ level: "silent" }),
    config: { host: "127.0.0.1", port: 0, ...(options.token !== undefined && { apiToken: options.token }) },
    ...(options.bodyLimitBytes !== undefined && { bodyLimitBytes: options.bodyLimitBytes }),
    ...(options.consoleAssetsDir !== undefined && { consoleAssetsDir: options.consoleAssetsDir }),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    services,
    registry,
    async request(method, path, request = {}) {
      const headers: Record<string, string> = { ...request.headers };
      let body: string | undefined = request.raw;
      if (request.json !== undefined) {
        headers["content-type"] ??= "application/json";
        body = JSON.stringify(request.json);
      }
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, text, body: parsed };
    },
    close: () => app.close(),
  };
}
