/**
 * The OpenAPI 3.1 description of the REST routes, served at `/openapi.json`
 * and rendered by `/docs`.
 *
 * @module
 */

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

const ref = (name: string): { $ref: string } => ({
  $ref: `#/components/schemas/${name}`,
});

const nullable = (type: string): { type: string[] } => ({
  type: [type, "null"],
});

const errorResponse = (description: string): Record<string, unknown> => ({
  description,
  content: { "application/json": { schema: ref("Error") } },
});

const jsonResponse = (
  description: string,
  schema: unknown,
): Record<string, unknown> => ({
  description,
  content: { "application/json": { schema } },
});

/**
 * Describes every route of the server and the `KPIResult` schema as an
 * OpenAPI 3.1 document.
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
  const kpiNames = options.kpiNames ?? [];
  const secured = options.secured ?? false;
  const defaultPeriod = options.defaultPeriod ?? "last_month";
  const publicRoute = secured ? { security: [] } : {};
  const unauthorized = secured
    ? { "401": errorResponse("Missing or invalid bearer token.") }
    : {};
  const nameSchema: Record<string, unknown> = {
    type: "string",
    pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
  };
  if (kpiNames.length > 0) nameSchema.enum = [...kpiNames];

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
    paths: {
      "/kpis": {
        get: {
          operationId: "listKpis",
          summary: "Compute every KPI for a period",
          parameters: [
            { $ref: "#/components/parameters/period" },
            { $ref: "#/components/parameters/refresh" },
            { $ref: "#/components/parameters/record" },
          ],
          responses: {
            "200": jsonResponse("Every KPI's result.", ref("RunReport")),
            "400": errorResponse("Bad `period`, `refresh` or `record`."),
            ...unauthorized,
            "500": errorResponse("Unexpected failure."),
          },
        },
      },
      "/kpis/{name}": {
        get: {
          operationId: "getKpi",
          summary: "Compute one KPI for a period",
          parameters: [
            { $ref: "#/components/parameters/name" },
            { $ref: "#/components/parameters/period" },
            { $ref: "#/components/parameters/refresh" },
            { $ref: "#/components/parameters/record" },
          ],
          responses: {
            "200": jsonResponse("The KPI's result.", ref("KPIResult")),
            "400": errorResponse("Bad `period`, `refresh` or `record`."),
            ...unauthorized,
            "404": errorResponse("No KPI of that name."),
            "500": errorResponse("Unexpected failure."),
          },
        },
      },
      "/kpis/{name}/history": {
        get: {
          operationId: "getKpiHistory",
          summary: "Past results of one KPI, newest first",
          parameters: [
            { $ref: "#/components/parameters/name" },
            {
              name: "n",
              in: "query",
              description: "How many results.",
              schema: {
                type: "integer",
                minimum: 1,
                maximum: 1000,
                default: 10,
              },
            },
          ],
          responses: {
            "200": jsonResponse("Past results.", ref("History")),
            "400": errorResponse("Bad `n`."),
            ...unauthorized,
            "404": errorResponse("No KPI of that name."),
            "500": errorResponse("Unexpected failure."),
          },
        },
      },
      "/kpis/{name}/breakdown": {
        get: {
          operationId: "getKpiBreakdown",
          summary: "One KPI per segment of one or more dimensions",
          parameters: [
            { $ref: "#/components/parameters/name" },
            {
              name: "by",
              in: "query",
              required: true,
              description:
                "Dimensions, comma-separated; each is broken down on its own.",
              schema: { type: "string", example: "region" },
            },
            { $ref: "#/components/parameters/period" },
            {
              name: "compare",
              in: "query",
              description:
                "Comparisons per segment, comma-separated (default: the KPI's own).",
              schema: { type: "string", example: "MoM,YoY" },
            },
            {
              name: "top",
              in: "query",
              description:
                "Segments kept per dimension; the rest fold into one `other` row.",
              schema: {
                type: "integer",
                minimum: 1,
                maximum: 1000,
                default: 10,
              },
            },
          ],
          responses: {
            "200": jsonResponse(
              "Per dimension, rows of `{segment, value, share, comparisons}`, largest first.",
              { type: "object" },
            ),
            "400": errorResponse("Bad `by`, `period`, `compare` or `top`."),
            ...unauthorized,
            "404": errorResponse("No KPI of that name."),
            "500": errorResponse("Unexpected failure."),
          },
        },
      },
      "/kpis/{name}/drivers": {
        get: {
          operationId: "getKpiDrivers",
          summary: "The segments that explain a KPI's change",
          parameters: [
            { $ref: "#/components/parameters/name" },
            { $ref: "#/components/parameters/period" },
            {
              name: "compare",
              in: "query",
              description:
                "The comparison to explain (default: the KPI's first, else MoM).",
              schema: {
                type: "string",
                enum: ["DoD", "WoW", "MoM", "QoQ", "YoY"],
              },
            },
            {
              name: "by",
              in: "query",
              description:
                "Dimensions whose slices are ranked, comma-separated (default: all).",
              schema: { type: "string" },
            },
            {
              name: "top",
              in: "query",
              description: "Most drivers listed.",
              schema: {
                type: "integer",
                minimum: 1,
                maximum: 1000,
                default: 5,
              },
            },
          ],
          responses: {
            "200": jsonResponse(
              "`{change, drivers: [{segment, contribution, contributionPct, rateEffect?, mixEffect?}], unexplained, note}`.",
              { type: "object" },
            ),
            "400": errorResponse("Bad `by`, `period`, `compare` or `top`."),
            ...unauthorized,
            "404": errorResponse("No KPI of that name."),
            "500": errorResponse("Unexpected failure."),
          },
        },
      },
      "/kpis/{name}/series": {
        get: {
          operationId: "getKpiSeries",
          summary: "One KPI for every bucket of a grain over a span",
          description:
            "Points oldest first; the bucket holding today is marked partial. " +
            "Give `last` (points ending with the bucket of `to`) or `from`/`to`.",
          parameters: [
            { $ref: "#/components/parameters/name" },
            {
              name: "grain",
              in: "query",
              required: true,
              description: "The length of each point.",
              schema: {
                type: "string",
                enum: ["day", "week", "month", "quarter", "year"],
              },
            },
            {
              name: "from",
              in: "query",
              description:
                "A period string: the series starts with the bucket holding its first day.",
              schema: { type: "string" },
            },
            {
              name: "to",
              in: "query",
              description:
                "A period string: the series ends with the bucket holding its last day.",
              schema: { type: "string", default: "today" },
            },
            {
              name: "last",
              in: "query",
              description: "How many points, ending with the bucket of `to`.",
              schema: {
                type: "integer",
                minimum: 1,
                maximum: 1000,
                default: 12,
              },
            },
          ],
          responses: {
            "200": jsonResponse("The points.", ref("Series")),
            "400": errorResponse("Bad `grain`, `from`, `to` or `last`."),
            ...unauthorized,
            "404": errorResponse("No KPI of that name."),
            "500": errorResponse("Unexpected failure."),
          },
        },
      },
      "/health": {
        get: {
          operationId: "health",
          summary: "Reachability of the database and history store",
          description: "Needs no token. Error details only with the token.",
          ...publicRoute,
          responses: {
            "200": jsonResponse("Everything reachable.", ref("Health")),
            "503": jsonResponse("Something unreachable.", ref("Health")),
          },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This document",
          responses: {
            "200": jsonResponse("OpenAPI 3.1 document.", { type: "object" }),
            ...unauthorized,
          },
        },
      },
      "/docs": {
        get: {
          operationId: "docs",
          summary: "This document rendered as a page",
          description:
            "A self-contained page; it asks for the token when needed.",
          ...publicRoute,
          responses: {
            "200": {
              description: "HTML page.",
              content: { "text/html": { schema: { type: "string" } } },
            },
          },
        },
      },
      "/": {
        get: {
          operationId: "dashboard",
          summary: "Dashboard page",
          description:
            "A self-contained page; it asks for the token when needed and " +
            "keeps it in sessionStorage.",
          ...publicRoute,
          responses: {
            "200": {
              description: "HTML page.",
              content: { "text/html": { schema: { type: "string" } } },
            },
          },
        },
      },
    },
    components: {
      parameters: {
        name: {
          name: "name",
          in: "path",
          required: true,
          description: "KPI name.",
          schema: nameSchema,
        },
        period: {
          name: "period",
          in: "query",
          description: "`today`, `yesterday`, `last_week`, `last_month`, " +
            "`last_quarter`, `last_year`, `this_week`, `this_month`, " +
            "`this_quarter`, `this_year`, `last_N_days`, `2024`, `2024-Q3`, " +
            "`2024-11`, `2024-W07`, `2024-11-05` or " +
            "`2024-11-01..2024-11-15`.",
          schema: { type: "string", default: defaultPeriod, maxLength: 100 },
          examples: {
            lastMonth: { value: "last_month" },
            month: { value: "2024-11" },
            range: { value: "2024-11-01..2024-11-15" },
          },
        },
        refresh: {
          name: "refresh",
          in: "query",
          description: "Recompute even when the period's result is cached.",
          schema: { type: "boolean", default: false },
        },
        record: {
          name: "record",
          in: "query",
          description:
            "Compute now and append the results to the history store (requests are not recorded otherwise, unless the server records every computation).",
          schema: { type: "boolean", default: false },
        },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: { type: "string" },
            issues: {
              type: "array",
              items: {
                type: "object",
                required: ["path", "message"],
                properties: {
                  path: { type: "array", items: { type: "string" } },
                  message: { type: "string" },
                },
              },
            },
          },
        },
        Period: {
          type: "object",
          required: ["label", "start", "end"],
          properties: {
            label: { type: "string", examples: ["2024-11"] },
            start: { type: "string", format: "date" },
            end: {
              type: "string",
              format: "date",
              description: "First day after the period.",
            },
          },
        },
        RunReport: {
          type: "object",
          required: ["period", "results"],
          properties: {
            period: ref("Period"),
            results: { type: "array", items: ref("KPIResult") },
          },
        },
        History: {
          type: "object",
          required: ["name", "results"],
          properties: {
            name: { type: "string" },
            results: {
              type: "array",
              items: ref("KPIResult"),
              description: "Newest first.",
            },
          },
        },
        Series: {
          type: "object",
          required: ["name", "grain", "points"],
          properties: {
            name: { type: "string" },
            grain: {
              type: "string",
              enum: ["day", "week", "month", "quarter", "year"],
            },
            points: {
              type: "array",
              items: ref("SeriesPoint"),
              description: "Oldest first.",
            },
          },
        },
        SeriesPoint: {
          type: "object",
          required: ["periodStart", "periodEnd", "value", "partial"],
          properties: {
            periodStart: { type: "string", format: "date" },
            periodEnd: {
              type: "string",
              format: "date",
              description:
                "First day after the bucket (after today when partial).",
            },
            value: { type: ["number", "null"] },
            partial: {
              type: "boolean",
              description: "The bucket holds today; its value may change.",
            },
            comparisons: {
              type: "object",
              additionalProperties: ref("ComparisonResult"),
            },
            error: { type: "string" },
            note: { type: "string" },
          },
        },
        ComparisonResult: {
          type: "object",
          required: [
            "previousValue",
            "change",
            "changePct",
            "periodStart",
            "periodEnd",
            "favorable",
          ],
          properties: {
            previousValue: nullable("number"),
            change: nullable("number"),
            changePct: {
              ...nullable("number"),
              description: "change / |previousValue| * 100; null when the " +
                "previous value is 0 or missing.",
            },
            periodStart: { type: "string", format: "date" },
            periodEnd: { type: "string", format: "date" },
            favorable: {
              ...nullable("boolean"),
              description: "Whether the change is good news under the " +
                "KPI's polarity.",
            },
          },
        },
        AlertDelivery: {
          type: "object",
          required: ["channel", "ok", "status", "attempts", "error"],
          properties: {
            channel: { type: "string" },
            ok: { type: "boolean" },
            status: nullable("integer"),
            attempts: { type: "integer" },
            error: nullable("string"),
          },
        },
        TriggeredAlert: {
          type: "object",
          required: ["condition", "severity", "message"],
          properties: {
            condition: { type: "string", examples: ["< 100000"] },
            severity: { enum: ["info", "warning", "critical"] },
            message: { type: "string" },
            deliveries: { type: "array", items: ref("AlertDelivery") },
          },
        },
        KPIResult: {
          type: "object",
          required: [
            "name",
            "label",
            "unit",
            "value",
            "periodStart",
            "periodEnd",
            "comparisons",
            "momChangePct",
            "yoyChangePct",
            "alertStatus",
            "alertsTriggered",
            "queryDurationMs",
            "error",
            "note",
          ],
          properties: {
            name: { type: "string" },
            label: { type: "string" },
            unit: nullable("string"),
            value: nullable("number"),
            periodStart: { type: "string", format: "date" },
            periodEnd: {
              type: "string",
              format: "date",
              description: "First day after the period.",
            },
            comparisons: {
              type: "object",
              propertyNames: { enum: ["DoD", "WoW", "MoM", "QoQ", "YoY"] },
              additionalProperties: ref("ComparisonResult"),
            },
            momChangePct: nullable("number"),
            yoyChangePct: nullable("number"),
            alertStatus: { enum: ["ok", "warning", "critical", "error"] },
            alertsTriggered: { type: "array", items: ref("TriggeredAlert") },
            queryDurationMs: { type: "number" },
            error: nullable("string"),
            note: {
              ...nullable("string"),
              description:
                "Why the value is null although no error occurred, or null.",
            },
          },
          examples: [{
            name: "revenue",
            label: "Revenue",
            unit: "USD",
            value: 6000,
            periodStart: "2024-11-01",
            periodEnd: "2024-12-01",
            comparisons: {
              MoM: {
                previousValue: 5000,
                change: 1000,
                changePct: 20,
                periodStart: "2024-10-01",
                periodEnd: "2024-11-01",
                favorable: true,
              },
            },
            momChangePct: 20,
            yoyChangePct: null,
            alertStatus: "ok",
            alertsTriggered: [],
            queryDurationMs: 1.7,
            error: null,
            note: null,
          }],
        },
        HealthCheck: {
          type: "object",
          required: ["status", "latencyMs"],
          properties: {
            status: { enum: ["ok", "error", "not_configured"] },
            latencyMs: { type: "number" },
            error: { type: "string" },
          },
        },
        Health: {
          type: "object",
          required: ["status", "checks"],
          properties: {
            status: { enum: ["ok", "degraded"] },
            checks: {
              type: "object",
              description: "By dependency, e.g. `database`, `history`.",
              additionalProperties: ref("HealthCheck"),
            },
          },
        },
      },
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
