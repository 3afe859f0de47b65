/**
 * The OpenAPI 3.1 description of the REST routes, served at `/openapi.json`
 * and rendered by `/docs`. It is generated from the route table
 * (`_api_routes.ts`): each route's query schema (the zod schema that
 * validates requests) becomes its parameters, and its answer schemas
 * become `components.schemas` through zod's JSON Schema output.
 *
 * @module
 */

import { z } from "zod";
import { API_ROUTES, type ApiRoute } from "./_api_routes.ts";
import { components, ErrorBody } from "./_api_schemas.ts";

/** An OpenAPI 3.1 document, as plain JSON-ready data. */
export interface OpenApiDocument {
  /** The OpenAPI version, `3.1.0`. */
  openapi: string;
  /** Title, version and description of the API. */
  info: { title: string; version: string; description: string };
  /** Routes by path template. */
  paths: Record<string, Record<string, unknown>>;
  /** Schemas, parameters, responses and security schemes. */
  components: Record<string, Record<string, unknown>>;
  /** Security requirements that apply to every route unless overridden. */
  security?: Record<string, string[]>[];
}

/** Options of {@linkcode openApiDocument}. */
export interface OpenApiDocumentOptions {
  /** KPI names, listed as the values `{name}` accepts. @default [] (any name) */
  kpiNames?: readonly string[];
  /** Whether routes require a bearer token. @default false */
  secured?: boolean;
  /** The period used when a request names none. @default "last_month" */
  defaultPeriod?: string;
  /** The API version shown. @default "0.1.0" */
  version?: string;
}

type Json = Record<string, unknown>;

const REF_PREFIX = "#/components/schemas/";

/**
 * Describes every route of the server and the `KPIResult` schema as an
 * OpenAPI 3.1 document, generated from the zod schemas that validate the
 * requests and describe the answers.
 *
 * @param options KPI names to list, whether a token is required.
 * @returns The document, ready for `JSON.stringify`.
 * @example List the routes
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const doc = openApiDocument({ kpiNames: ["revenue"], secured: true });
 * assert.equal(doc.openapi, "3.1.0");
 * assert.ok("/kpis/{name}/history" in doc.paths);
 * assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
 * ```
 */
export function openApiDocument(
  options: OpenApiDocumentOptions = {},
): OpenApiDocument {
  const secured = options.secured ?? false;
  const defaults: Json = { period: options.defaultPeriod ?? "last_month" };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    paths[route.path] = {
      ...paths[route.path],
      [route.method]: operation(route, secured, defaults),
    };
  }
  const nameSchema: Json = {
    type: "string",
    pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
  };
  if ((options.kpiNames ?? []).length > 0) {
    nameSchema.enum = [...options.kpiNames ?? []];
  }
  const doc: OpenApiDocument = {
    openapi: "3.1.0",
    info: {
      title: "kpi-engine",
      version: options.version ?? "0.1.0",
      description:
        "Computes declared KPIs for a period, with comparisons and alert " +
        "status, and serves their history. Results of closed periods are " +
        "cached until `refresh=true`.",
    },
    paths,
    components: {
      parameters: {
        name: {
          name: "name",
          in: "path",
          required: true,
          description: "KPI name.",
          schema: nameSchema,
        },
      },
      schemas: componentSchemas(),
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "The value of KPI_API_TOKEN.",
        },
      },
    },
  };
  if (secured) doc.security = [{ bearerAuth: [] }];
  return doc;
}

function operation(route: ApiRoute, secured: boolean, defaults: Json): Json {
  const parameters: Json[] = [];
  for (const match of route.path.matchAll(/\{(\w+)\}/g)) {
    parameters.push({ $ref: `#/components/parameters/${match[1]}` });
  }
  if (route.query !== undefined) {
    parameters.push(...queryParameters(route.query, defaults));
  }
  const responses: Json = {};
  for (const [status, answer] of Object.entries(route.responses)) {
    if (status === "401" && !secured) continue;
    responses[status] = response(
      answer.description,
      answer.body,
      answer.mediaType,
    );
  }
  if (secured && !route.public && route.responses["401"] === undefined) {
    responses["401"] = response(
      "Missing or invalid bearer token.",
      ErrorBody,
    );
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description === undefined
      ? {}
      : { description: route.description }),
    ...(secured && route.public ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.requestBody === undefined ? {} : {
      requestBody: {
        required: true,
        description: route.requestBody.description,
        content: {
          [route.requestBody.mediaType]: { schema: { type: "object" } },
        },
      },
    }),
    responses: sortByStatus(responses),
  };
}

function response(
  description: string,
  body: z.ZodType | undefined,
  mediaType?: string,
): Json {
  if (mediaType !== undefined) {
    return {
      description,
      content: { [mediaType]: { schema: { type: "string" } } },
    };
  }
  return {
    description,
    content: {
      "application/json": {
        schema: body === undefined ? { type: "object" } : schemaOf(body),
      },
    },
  };
}

/** A registered schema as a `$ref`, any other one inline. */
function schemaOf(schema: z.ZodType): Json {
  const id = components.get(schema)?.id;
  if (id !== undefined) return { $ref: `${REF_PREFIX}${id}` };
  return tidy(z.toJSONSchema(schema, { target: "draft-2020-12" })) as Json;
}

/** One OpenAPI parameter per field of a query schema. */
function queryParameters(query: z.ZodObject, defaults: Json): Json[] {
  const json = tidy(z.toJSONSchema(query, {
    // The values a handler receives: `n` an integer, `refresh` a boolean.
    io: "output",
    unrepresentable: "any",
    target: "draft-2020-12",
  })) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    if (name in defaults) rest.default = defaults[name];
    return {
      name,
      in: "query",
      // Lists are sent comma-separated: `by=region,channel`.
      ...(rest.type === "array" ? { style: "form", explode: false } : {}),
      ...(json.required?.includes(name) ? { required: true } : {}),
      ...(description === undefined ? {} : { description }),
      schema: rest,
    };
  });
}

/** Every registered answer schema, `$ref`s between them resolved to components. */
function componentSchemas(): Json {
  const { schemas } = z.toJSONSchema(components, {
    target: "draft-2020-12",
    uri: (id) => `${REF_PREFIX}${id}`,
  }) as { schemas: Record<string, unknown> };
  const out: Json = {};
  for (const [id, schema] of Object.entries(schemas)) out[id] = tidy(schema);
  return out;
}

/**
 * Removes what JSON Schema output adds but an OpenAPI component does not
 * need (`$schema`, `$id`, an empty `additionalProperties`) and writes
 * `nullable` as `type: [T, "null"]`.
 */
function tidy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tidy);
  if (value === null || typeof value !== "object") return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === "$schema" || key === "$id") continue;
    if (
      key === "additionalProperties" && typeof inner === "object" &&
      inner !== null && Object.keys(inner).length === 0
    ) continue;
    out[key] = tidy(inner);
  }
  const anyOf = out.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2) {
    const [a, b] = anyOf as Json[];
    const plain = (s: Json | undefined) =>
      s !== undefined && typeof s.type === "string" &&
      Object.keys(s).length === 1;
    if (plain(a) && b?.type === "null" && Object.keys(b).length === 1) {
      delete out.anyOf;
      return { type: [a?.type, "null"], ...out };
    }
  }
  return out;
}

function sortByStatus(responses: Json): Json {
  return Object.fromEntries(
    Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)),
  );
}
