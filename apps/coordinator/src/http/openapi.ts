import { z } from "zod";
import { HTTP_ERROR_CODES } from "./errors";
import type { RouteDefinition } from "./route";

/** Version of the API contract in the document (not the package version). */
export const API_VERSION = "0.1.0";

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, unknown>;
  tags: Array<{ name: string }>;
  security: Array<Record<string, string[]>>;
}

const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(HTTP_ERROR_CODES),
    message: z.string().meta({ description: "Starts with the field for bad input" }),
    field: z.string().optional().meta({ description: "Dotted path of the offending input" }),
    known: z.array(z.string()).optional().meta({ description: "With not_found: the names that exist" }),
  }),
});

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input; `error.field` names it",
  401: "Missing or wrong bearer token",
  403: "Without OMNIDAEMON_API_TOKEN: a foreign Origin or a non-loopback Host (browser protection)",
  404: "Not found; `error.known` lists what exists",
  409: "Conflict with the current state",
  413: "Body larger than the limit",
  414: "A path parameter longer than 500 characters",
  415: "Body is not application/json",
  500: "Unexpected error; the coordinator's log has the details",
  503: "A dependency (Kafka or Postgres) is unavailable, or the coordinator is shutting down",
};

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of what a client sends: the input side of transforms. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

/** `/agents/:topic/:name` → `/agents/{topic}/{name}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function parameters(schema: z.ZodType | undefined, location: "path" | "query"): unknown[] {
  if (schema === undefined) return [];
  const json = jsonSchemaOf(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: location,
      required: location === "path" || required.has(name),
      ...(typeof description === "string" && { description }),
      schema: propertySchema,
    };
  });
}

const errorResponse = (status: number) => ({
  description: ERROR_DESCRIPTIONS[status] ?? "Error",
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

function operation(route: RouteDefinition): Record<string, unknown> {
  const hasInput = route.params !== undefined || route.query !== undefined || route.body !== undefined;
  const statuses = new Set<number>([
    ...(hasInput ? [400] : []),
    ...(route.public === true ? [] : [401]),
    403,
    ...(route.params !== undefined ? [414] : []),
    ...(route.body !== undefined ? [413, 415] : []),
    ...(route.errors ?? []),
    500,
  ]);
  const success = route.response ?? {};
  const responses: Record<string, unknown> = {
    [String(success.status ?? 200)]: {
      description: success.description ?? "OK",
      content: {
        [success.contentType ?? "application/json"]: {
          schema: success.schema === undefined ? {} : jsonSchemaOf(success.schema),
        },
      },
    },
  };
  for (const status of [...statuses].sort((a, b) => a - b))
    responses[String(status)] ??= errorResponse(status);
  return {
    operationId: `${route.method.toLowerCase()}_${route.url.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "")}`,
    summary: route.summary,
    tags: [route.tag],
    ...(route.public === true && { security: [] }),
    parameters: [...parameters(route.params, "path"), ...parameters(route.query, "query")],
    ...(route.body !== undefined && {
      requestBody: { required: true, content: { "application/json": { schema: jsonSchemaOf(route.body) } } },
    }),
    responses,
  };
}

/** The OpenAPI 3.1 document of `routes`, built from the same zod schemas that validate their input. */
export function buildOpenApiDocument(routes: readonly RouteDefinition[]): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const route of routes) {
    (paths[openApiPath(route.url)] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "omnidaemon coordinator API",
      version: API_VERSION,
      description:
        "Control plane of an omnidaemon fleet. JSON with snake_case fields. When OMNIDAEMON_API_TOKEN is set, " +
        "every route except the probes, /metrics and this document needs `Authorization: Bearer <token>`.",
    },
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: jsonSchemaOf(errorBodySchema) },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    // Applies to every operation that does not set `security: []` (the public ones).
    security: [{ bearer: [] }],
  };
}
