/**
 * Query parameter schemas of the REST routes, validated with zod at the
 * boundary. The same schemas generate the routes' parameters in the OpenAPI
 * document (`api_routes.ts`), so what `/openapi.json` says a route takes is
 * what it accepts. The schemas stay internal; handlers get plain values or a
 * {@linkcode ParamIssue} list to answer 400 with.
 *
 * @module
 */

import { z } from "zod";
import { COMPARISON_CODES } from "../types.ts";

/** One problem with one query parameter. */
export interface ParamIssue {
  /** The parameter's name, e.g. `["n"]`. */
  path: string[];
  /** What is wrong, in sentence case, quoting the bad value. */
  message: string;
}

/** The most history rows one request may ask for. */
export const MAX_HISTORY_ROWS = 1000;

/** The most points one series request may ask for with `last`. */
export const MAX_SERIES_POINTS = 1000;

const quote = (value: unknown): string => JSON.stringify(String(value));

/** A period string, trimmed, of at most 100 characters. */
const periodText = z
  .string()
  .max(100, { error: "must be at most 100 characters" })
  .transform((text) => text.trim())
  .pipe(z.string().min(1, { error: "must not be empty" }));

/** `period`: every period string the CLI takes. */
export const period = periodText.meta({
  description: "`today`, `yesterday`, `last_week`, `last_month`, " +
    "`last_quarter`, `last_year`, `this_week`, `this_month`, " +
    "`this_quarter`, `this_year`, `last_N_days`, `2024`, `2024-Q3`, " +
    "`2024-11`, `2024-W07`, `2024-11-05` or `2024-11-01..2024-11-15`.",
  maxLength: 100,
  examples: ["last_month", "2024-11", "2024-11-01..2024-11-15"],
});

/** A boolean flag sent as `true`, `false`, `1`, `0` or empty (true). */
const flag = (description: string) =>
  z
    .enum(["true", "false", "1", "0", ""], {
      error: (issue) => `expected true or false, got ${quote(issue.input)}`,
    })
    .transform((text) => text === "true" || text === "1" || text === "")
    .pipe(z.boolean())
    .meta({ description, default: false });

/** `refresh`: recompute a cached result. */
export const refresh = flag(
  "Recompute even when the period's result is cached.",
);

/** `record`: compute now and append to history. */
export const record = flag(
  "Compute now and append the results to the history store (requests " +
    "are not recorded otherwise, unless the server records every " +
    "computation). A server that keeps no history answers 400.",
);

/** A whole number from 1 to `max`, sent as text. */
const count = (max: number, error: (issue: { input?: unknown }) => string) =>
  z
    .string()
    .regex(/^\s*\d{1,7}\s*$/, { error })
    .transform(Number)
    .pipe(z.number().int().min(1, { error }).max(max, { error }));

const nError = (issue: { input?: unknown }): string =>
  `expected an integer from 1 to ${MAX_HISTORY_ROWS}, got ${
    quote(issue.input)
  }`;

/** The query of `/kpis` and `/kpis/{name}`. */
export const kpisQuery = z.object({
  period: period.optional(),
  refresh: refresh.optional(),
  record: record.optional(),
});

/** The query of `/kpis/{name}/history`. */
export const historyQuery = z.object({
  n: count(MAX_HISTORY_ROWS, nError)
    .meta({ description: "How many results.", default: 10 })
    .optional(),
});

const lastError = (issue: { input?: unknown }): string =>
  `expected an integer from 1 to ${MAX_SERIES_POINTS}, got ${
    quote(issue.input)
  }`;

/** The grains a series is cut in. */
export const GRAINS = ["day", "week", "month", "quarter", "year"] as const;

/** The query of `/kpis/{name}/series`. */
export const seriesQuery = z.object({
  grain: z.enum(GRAINS, {
    error: (issue) =>
      issue.input === undefined
        ? `missing: expected one of ${GRAINS.join(", ")}`
        : `expected one of ${GRAINS.join(", ")}, got ${quote(issue.input)}`,
  }).meta({ description: "The length of each point." }),
  from: periodText.meta({
    description:
      "A period string: the series starts with the bucket holding its first day.",
  }).optional(),
  to: periodText.meta({
    description:
      "A period string: the series ends with the bucket holding its last day.",
    default: "today",
  }).optional(),
  last: count(MAX_SERIES_POINTS, lastError).meta({
    description: "How many points, ending with the bucket of `to`.",
    default: 12,
  }).optional(),
}).refine((q) => !(q.from !== undefined && q.last !== undefined), {
  error: "give either from or last, not both",
  path: ["last"],
});

/** A comma-separated list, as an array of its non-empty items. */
const commaList = (description: string, missing?: string) =>
  z.string(missing === undefined ? undefined : { error: missing })
    .transform((text) =>
      text.split(",").map((s) => s.trim()).filter((s) => s !== "")
    )
    .pipe(z.array(z.string()))
    .meta({ description });

const comparisons = (description: string) =>
  commaList(description).check((ctx) => {
    for (const code of ctx.value) {
      if (!(COMPARISON_CODES as readonly string[]).includes(code)) {
        ctx.issues.push({
          code: "custom",
          input: ctx.value,
          message: `Invalid comparison "${code}": expected one of ${
            COMPARISON_CODES.join(", ")
          }`,
        });
      }
    }
  });

const topError = (issue: { input?: unknown }): string =>
  `Invalid top ${quote(issue.input)}: expected a whole number from 1 to 1000`;

const top = (description: string, fallback: number) =>
  count(1000, topError).meta({ description, default: fallback });

/** The query of `/kpis/{name}/breakdown`. */
export const breakdownQuery = z.object({
  by: commaList(
    "Dimensions, comma-separated; each is broken down on its own.",
    "Missing `by`: name one or more dimensions, e.g. by=region",
  ).check((ctx) => {
    if (ctx.value.length === 0) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        message: "Missing `by`: name one or more dimensions, e.g. by=region",
      });
    }
  }),
  period: period.optional(),
  compare: comparisons(
    "Comparisons per segment, comma-separated (default: the KPI's own).",
  ).optional(),
  top: top(
    "Segments kept per dimension; the rest fold into one `other` row.",
    10,
  ).optional(),
});

/** The query of `/kpis/{name}/drivers`. */
export const driversQuery = z.object({
  period: period.optional(),
  compare: comparisons(
    "The comparison to explain (default: the KPI's first, else MoM).",
  ).check((ctx) => {
    if (ctx.value.length > 1) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        message:
          "Drivers explain one comparison: give one code, e.g. compare=MoM",
      });
    }
  }).optional(),
  by: commaList(
    "Dimensions whose slices are ranked, comma-separated (default: all).",
  ).optional(),
  top: top("Most drivers listed.", 5).optional(),
});

/** A parse outcome: the value, or the issues to answer 400 with. */
export type ParseOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; issues: ParamIssue[] };

/**
 * Validates a query string with a route's schema (the one its OpenAPI entry
 * is generated from).
 */
export function parseQuery<T extends z.ZodType>(
  schema: T,
  query: Record<string, string>,
): ParseOutcome<z.output<T>> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.map(String),
      message: issue.message,
    }));
    return { ok: false, issues };
  }
  return { ok: true, value: parsed.data };
}

const listKeysOf = new WeakMap<z.ZodType, ReadonlySet<string>>();

/** The fields of a query schema that take a comma-separated list. */
function listKeys(schema: z.ZodType): ReadonlySet<string> {
  let keys = listKeysOf.get(schema);
  if (keys === undefined) {
    const json = z.toJSONSchema(schema, {
      io: "output",
      unrepresentable: "any",
    }) as { properties?: Record<string, { type?: unknown }> };
    keys = new Set(
      Object.entries(json.properties ?? {})
        .filter(([, field]) => field.type === "array")
        .map(([key]) => key),
    );
    listKeysOf.set(schema, keys);
  }
  return keys;
}

/**
 * Validates a query given as every value of each parameter (Hono's
 * `c.req.queries()`): a list parameter repeated (`by=a&by=b`) reads as
 * `by=a,b`; any other parameter given more than once is an issue naming it,
 * rather than one of its values chosen silently.
 */
export function parseQueries<T extends z.ZodType>(
  schema: T,
  queries: Record<string, string[]>,
): ParseOutcome<z.output<T>> {
  const lists = listKeys(schema);
  const query: Record<string, string> = {};
  const issues: ParamIssue[] = [];
  for (const [key, values] of Object.entries(queries)) {
    if (values.length > 1 && !lists.has(key)) {
      issues.push({
        path: [key],
        message: `given ${values.length} times (${
          values.map(quote).join(", ")
        }): give it once`,
      });
    }
    query[key] = lists.has(key) ? values.join(",") : values[0] ?? "";
  }
  if (issues.length > 0) return { ok: false, issues };
  return parseQuery(schema, query);
}

/** Renders issues as one sentence for the `error` field. */
export function describeIssues(issues: readonly ParamIssue[]): string {
  return issues
    .map((issue) =>
      `Invalid query parameter "${issue.path.join(".")}": ${issue.message}`
    )
    .join("; ");
}
