import { errorBodySchema } from "@omnidaemon/protocol";
import { z } from "zod";
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

const JSON_VALUE_REF = "#/components/schemas/JsonValue";

// The JSON parser refuses prototype poisoning (an object key `__proto__`, or a `constructor` object with a
// `prototype` key) with a 400 anywhere in a body; the document says so for every object a client may send.
const NO_PROTO_KEY = { not: { const: "__proto__" } };
const NO_CONSTRUCTOR_PROTOTYPE = {
  // Scoped to objects: for any other value `required` holds vacuously, and the `not` would refuse it.
  not: {
    type: "object",
    required: ["constructor"],
    properties: { constructor: { type: "object", required: ["prototype"] } },
  },
};

/** Any JSON value the parser accepts: objects at every depth without the poisoning keys. */
const JSON_VALUE_SCHEMA: JsonSchema = {
  description:
    "Any JSON value; no object in it may have a __proto__ key or a constructor object with a prototype key",
  propertyNames: NO_PROTO_KEY,
  ...NO_CONSTRUCTOR_PROTOTYPE,
  additionalProperties: { $ref: JSON_VALUE_REF },
  items: { $ref: JSON_VALUE_REF },
};

const ANNOTATIONS = new Set(["description", "default", "examples", "title", "deprecated"]);

/**
 * A request body schema as the parser enforces it: every "any value" is a {@link JSON_VALUE_SCHEMA}, every object
 * refuses the poisoning keys, and extra properties of non-strict objects are JSON values too.
 */
export function withParserRules(node: unknown): unknown {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return node;
  const schema = { ...(node as JsonSchema) };
  if (Object.keys(schema).every((key) => ANNOTATIONS.has(key))) return { ...schema, $ref: JSON_VALUE_REF };
  for (const key of ["anyOf", "oneOf", "allOf", "prefixItems"] as const) {
    if (Array.isArray(schema[key])) schema[key] = (schema[key] as unknown[]).map(withParserRules);
  }
  if (schema.items !== undefined) schema.items = withParserRules(schema.items);
  if (schema.type === "object") {
    if (schema.properties !== undefined) {
      schema.properties = Object.fromEntries(
        Object.entries(schema.properties as JsonSchema).map(([name, child]) => [
          name,
          withParserRules(child),
        ]),
      );
    }
    schema.additionalProperties =
      schema.additionalProperties === undefined
        ? { $ref: JSON_VALUE_REF }
        : withParserRules(schema.additionalProperties);
    schema.propertyNames = { ...((schema.propertyNames as JsonSchema | undefined) ?? {}), ...NO_PROTO_KEY };
    schema.allOf = [...((schema.allOf as unknown[] | undefined) ?? []), NO_CONSTRUCTOR_PROTOTYPE];
  }
  return schema;
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
      requestBody: {
        required: true,
        content: { "application/json": { schema: withParserRules(jsonSchemaOf(route.body)) } },
      },
    }),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of `routes`, built from the protocol's zod schemas the routes validate their input with
 * and type their answers by: the document, the server and the clients cannot disagree.
 */
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
      schemas: { Error: jsonSchemaOf(errorBodySchema), JsonValue: JSON_VALUE_SCHEMA },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    // Applies to every operation that does not set `security: []` (the public ones).
    security: [{ bearer: [] }],
  };
}
