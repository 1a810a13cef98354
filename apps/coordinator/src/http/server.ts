import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { consoleAssetsDir } from "@omnidaemon/console";
import { raceDeadline, StartStop, TIMED_OUT, type Service } from "@omnidaemon/lifecycle";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { isLoopback } from "../config";
import type { CoordinatorServices } from "../services/types";
import { ACTOR_HEADER, actorFrom } from "./actor";
import { bearerMatches, UNAUTHORIZED_MESSAGE } from "./auth";
import { browserRefusal } from "./browser-guard";
import { CONSOLE_PREFIX, CONSOLE_ROUTES, registerConsoleRoutes } from "./console";
import { errorBody, toErrorResponse } from "./errors";
import { createHttpMetrics } from "./http-metrics";
import { buildOpenApiDocument } from "./openapi";
import { defineRoute, type RouteDefinition } from "./route";
import { agentRoutes } from "./routes/agents";
import { busRoutes } from "./routes/bus";
import { fleetRoutes } from "./routes/fleet";
import { metricsRoutes } from "./routes/metrics";
import { taskRoutes } from "./routes/tasks";
import { parseInput } from "./validation";

/** Largest request body accepted: a 1 MiB envelope (the bus default) plus room for the JSON around it. */
export const DEFAULT_BODY_LIMIT_BYTES = 2 * 1024 * 1024;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
// After the drain deadline, sockets are destroyed; this bounds the wait for the server to notice.
const FORCED_CLOSE_GRACE_MS = 1_000;

export interface HttpServerConfig {
  /** Bearer token every non-public route requires. Absent: no auth (the config keeps the host on loopback). */
  apiToken?: string;
  host: string;
  /** 0 picks a free port (tests); see {@link HttpServer.address}. */
  port: number;
}

export interface HttpServerOptions {
  services: CoordinatorServices;
  config: HttpServerConfig;
  logger: Logger;
  /** Where the HTTP metrics are registered and what `GET /metrics` exposes. */
  registry: Registry;
  /** Largest request body, in bytes. @default 2097152 (2 MiB) */
  bodyLimitBytes?: number;
  /** How long `stop()` lets in-flight requests finish before closing their connections. @default 10000 */
  stopTimeoutMs?: number;
  /** The built operator console served under /ui. @default consoleAssetsDir() of @omnidaemon/console */
  consoleAssetsDir?: string;
  /**
   * Check every JSON answer against its route's response schema (the protocol's) and fail the request (500) on a
   * mismatch. For tests: the unit tests' fakes and the integration tests' real services prove the answers are what
   * clients compile against. @default false
   */
  checkResponses?: boolean;
}

export interface HttpServer extends Service {
  readonly name: "http-server";
  /** Where the server listens once started; undefined before `start()` and after `stop()`. */
  address(): { host: string; port: number; url: string } | undefined;
  /** The fastify app (tests, `inject()`); main.ts needs only start/stop/address. */
  readonly app: FastifyInstance;
}

/**
 * Every route of the API, one routes file per service (registry, tasks, fleet health, bus inspection), plus the
 * Prometheus text and /openapi.json, which is built from the routes' schemas.
 */
export function apiRoutes(
  options: Pick<HttpServerOptions, "services" | "logger" | "registry">,
): RouteDefinition[] {
  const { services, logger, registry } = options;
  const routes = [
    ...agentRoutes(services.registry),
    ...taskRoutes(services.tasks),
    ...metricsRoutes(registry),
    ...busRoutes(services.bus),
    ...fleetRoutes(services.fleet, logger),
  ];
  let document: unknown;
  routes.push(
    defineRoute({
      method: "GET",
      url: "/openapi.json",
      tag: "probes",
      summary: "This OpenAPI 3.1 document",
      public: true,
      // Built on first request: pure computation, kept off the construction path.
      handler: async () => (document ??= buildOpenApiDocument(routes)),
    }),
  );
  return routes;
}

/**
 * The fastify app with every route, auth, validation, error mapping and HTTP metrics; it does not listen.
 * Use {@link buildHttpServer} for the lifecycle service; unit tests listen on port 0 and speak HTTP to it.
 */
export function buildHttpApp(options: HttpServerOptions & { isClosing?: () => boolean }): FastifyInstance {
  const { config, registry } = options;
  const logger = options.logger.child({ component: "http-server" });
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const metrics = createHttpMetrics(registry);
  const routes = apiRoutes({ ...options, logger });
  // The console's files are public like /openapi.json: they hold no data, and the API calls they make carry the token.
  const publicUrls = new Set([
    ...routes.filter((route) => route.public === true).map((route) => route.url),
    ...CONSOLE_ROUTES,
  ]);

  const app = Fastify({
    // Logging is ours (constant messages, fields for data); fastify's request lines would duplicate it.
    logger: false,
    bodyLimit: bodyLimitBytes,
    genReqId: () => randomUUID(),
    // Bounds slow clients; the longest route (a DLQ replay) stays well within.
    requestTimeout: 120_000,
    // Answered by the onRequest hook below, in the API's error shape.
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // Errors raised before routing (a malformed percent-encoding in the URL) skip the error handler.
    frameworkErrors: (error, _request, reply) => {
      const response = toErrorResponse(error, { bodyLimitBytes });
      const body =
        error.code === "FST_ERR_BAD_URL"
          ? errorBody("invalid_input", "url: not a valid URL (malformed percent-encoding)", { field: "url" })
          : response.body;
      // The option's reply type is generic over route schemas this app does not use.
      void (reply as unknown as FastifyReply)
        .code(response.status === 500 ? 400 : response.status)
        .send(body);
    },
  });

  // JSON only. An empty body counts as none, so `POST …/unsubscribe` with a JSON content type and no body works.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body === "") done(null, undefined);
    else parseJson(request, body as string, done);
  });

  const apiMethods = methodsByPath(routes);
  const allowedMethods = (path: string): string[] =>
    path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`) ? ["GET", "HEAD"] : apiMethods(path);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    if (options.isClosing?.() === true) {
      reply.header("connection", "close");
      return reply
        .code(503)
        .send(errorBody("unavailable", "the coordinator is shutting down; retry against another instance"));
    }
    const token = config.apiToken;
    if (token === undefined) {
      const refusal = browserRefusal(request.headers, request.socket.localPort ?? config.port);
      if (refusal !== undefined) {
        return reply.code(403).send(errorBody("forbidden", refusal.message, { field: refusal.field }));
      }
    } else if (!publicUrls.has(request.routeOptions.url ?? "")) {
      if (!bearerMatches(request.headers.authorization, token)) {
        reply.header("www-authenticate", 'Bearer realm="omnidaemon"');
        return reply.code(401).send(errorBody("unauthorized", UNAUTHORIZED_MESSAGE));
      }
    }
    // A known path asked with another method: 405 here, before the body is parsed (a QUERY or PATCH without a
    // content type would otherwise be refused as a bad body, not as a wrong method).
    if (request.routeOptions.url === undefined) {
      const path = request.url.split("?")[0] ?? "";
      const allowed = allowedMethods(path);
      if (allowed.length > 0) {
        return reply
          .code(405)
          .header("allow", allowed.join(", "))
          .send(
            errorBody(
              "method_not_allowed",
              `${request.method} is not allowed on ${path.slice(0, 200)}; allowed: ${allowed.join(", ")}`,
            ),
          );
      }
    }
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url;
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    logger.debug(
      {
        request_id: request.id,
        method: request.method,
        route,
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime),
      },
      "request answered",
    );
  });

  app.setErrorHandler((error, request, reply) => {
    const response = toErrorResponse(error, { bodyLimitBytes });
    const fields = { request_id: request.id, method: request.method, route: request.routeOptions.url };
    if (response.unexpected) {
      logger.error({ ...fields, err: error }, "request failed unexpectedly");
      response.body.error.message = `internal error (request id ${request.id}): the coordinator's log has the details`;
    } else if (response.status === 503) {
      logger.warn({ ...fields, err: error }, "request failed: dependency unavailable");
    }
    return reply.code(response.status).send(response.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0]?.slice(0, 200) ?? "";
    return reply
      .code(404)
      .send(errorBody("not_found", `no route ${request.method} ${path}; /openapi.json lists the API`));
  });

  for (const route of routes) register(app, route, options.checkResponses === true);
  registerConsoleRoutes(app, { assetsDir: options.consoleAssetsDir ?? consoleAssetsDir() });
  return app;
}

/**
 * The methods the API serves on a concrete path (HEAD wherever GET is), sorted; empty when no route matches the
 * path at all. Drives 405 + Allow for a known path asked with another method.
 */
export function methodsByPath(routes: readonly RouteDefinition[]): (path: string) => string[] {
  const patterns = routes.map((route) => ({
    method: route.method,
    // `:param` matches one non-empty segment; a trailing slash is ignored, as the router does.
    pattern: new RegExp(
      `^${route.url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z0-9_]+/g, "[^/]+")}/?$`,
    ),
  }));
  return (path) => {
    const methods = new Set<string>();
    for (const { method, pattern } of patterns) {
      if (!pattern.test(path)) continue;
      methods.add(method);
      if (method === "GET") methods.add("HEAD");
    }
    return [...methods].sort();
  };
}

function register(app: FastifyInstance, route: RouteDefinition, checkResponses: boolean): void {
  app.route({
    method: route.method,
    url: route.url,
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const params =
        route.params === undefined ? undefined : parseInput(route.params, request.params, "params");
      const query = route.query === undefined ? undefined : parseInput(route.query, request.query, "query");
      const body = route.body === undefined ? undefined : parseInput(route.body, request.body, "body");
      const actor = actorFrom(request.headers[ACTOR_HEADER]);
      reply.code(route.response?.status ?? 200);
      const answer = await route.handler({ params, query, body, actor, request, reply });
      if (checkResponses) checkResponse(route, answer);
      return answer;
    },
  });
}

/** Throws when an answer is not what the route's response schema (the protocol's) says: a contract bug. */
function checkResponse(route: RouteDefinition, answer: unknown): void {
  const schema = route.response?.schema;
  if (schema === undefined) return;
  const result = schema.safeParse(answer);
  if (result.success) return;
  const issue = result.error.issues[0];
  throw new Error(
    `${route.method} ${route.url} answered outside its response schema: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
  );
}

/**
 * The coordinator's HTTP API as a lifecycle service. The constructor only builds the app; `start()` listens,
 * `stop()` drains in-flight requests (bounded by `stopTimeoutMs`, then closes their connections) and is
 * idempotent and safe before `start()`.
 */
export function buildHttpServer(options: HttpServerOptions): HttpServer {
  const logger = options.logger.child({ component: "http-server" });
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const { host, port } = options.config;
  // Requests arriving once stop() was called are answered 503 at once, while the drain runs.
  const app = buildHttpApp({ ...options, isClosing: () => lifecycle.stopped });

  const listen = async (): Promise<void> => {
    if (options.config.apiToken === undefined) {
      if (isLoopback(host)) {
        logger.warn(
          { host },
          "the API is unauthenticated (no OMNIDAEMON_API_TOKEN) and listens on loopback only",
        );
      } else {
        // loadCoordinatorConfig refuses this; a caller that bypasses it gets told loudly.
        logger.error(
          { host },
          "the API is unauthenticated (no OMNIDAEMON_API_TOKEN) and reachable from the network",
        );
      }
    }
    await app.listen({ host, port });
    logger.info({ url: urlOf(app) }, "http server listening");
  };

  // Runs after a start in progress finished (or failed), so there is one server to close, not a half-open one.
  const close = async (): Promise<void> => {
    const closed = app.close();
    if ((await raceDeadline(closed, stopTimeoutMs)) === TIMED_OUT) {
      logger.warn(
        { stop_timeout_ms: stopTimeoutMs },
        "http requests still in flight at the deadline; closing their connections",
      );
      app.server.closeAllConnections();
      if ((await raceDeadline(closed, FORCED_CLOSE_GRACE_MS)) === TIMED_OUT) {
        logger.error({}, "http server did not close after its connections were destroyed; giving up");
        return;
      }
    }
    logger.info({}, "http server stopped");
  };

  const lifecycle = new StartStop("http-server", { start: listen, stop: close });

  return {
    name: "http-server",
    app,
    start: () => lifecycle.start(),
    stop: () => lifecycle.stop(),
    address() {
      if (!lifecycle.started || lifecycle.stopped) return undefined;
      const url = urlOf(app);
      const bound = app.server.address() as AddressInfo | null;
      return bound === null || url === undefined ? undefined : { host: bound.address, port: bound.port, url };
    },
  };
}

function urlOf(app: FastifyInstance): string | undefined {
  const bound = app.server.address() as AddressInfo | null;
  if (bound === null || typeof bound !== "object") return undefined;
  const host = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return `http://${host}:${bound.port}`;
}
