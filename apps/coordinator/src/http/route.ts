import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { Actor } from "../services/types";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** What a handler gets: inputs already validated by the route's schemas, and who asked. */
export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  actor: Actor;
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * One route: its inputs and its answer as the protocol's zod schemas (inputs validated before the handler runs,
 * all of them documented in /openapi.json from the same schemas), a summary, and the handler. The handler's return
 * value is the response body, typed by the response schema.
 */
export interface RouteDefinition<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  /** fastify pattern, `/agents/:topic/:name`; also the `route` label of the HTTP metrics. */
  url: string;
  /** Groups routes in the OpenAPI document. */
  tag: "agents" | "tasks" | "metrics" | "audit" | "bus" | "workers" | "probes";
  summary: string;
  /** Answered without the bearer token (probes, Prometheus, the OpenAPI document). @default false */
  public?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** The success response, for the OpenAPI document. @default { status: 200, description: "OK" } */
  response?: { status?: number; description?: string; schema?: R; contentType?: string };
  /** Error statuses the route answers besides 400/401/500, for the OpenAPI document (e.g. 404, 409, 503). */
  errors?: number[];
  // Method syntax on purpose: it keeps routes with different schemas assignable to RouteDefinition[].
  handler(context: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<z.input<NoInfer<R>>>;
}

/** Infers the handler's input and answer types from the schemas; returns the route as is. */
export function defineRoute<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
>(route: RouteDefinition<P, Q, B, R>): RouteDefinition {
  return route as unknown as RouteDefinition;
}
