/**
 * Query parameter schemas of the REST routes, validated with zod at the
 * boundary. The schemas stay internal; handlers get plain values or a
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

const quote = (value: unknown): string => JSON.stringify(String(value));

/** `period`: every period string the CLI takes. */
export const period = z
  .string()
  .max(100, { error: "must be at most 100 characters" })
  .transform((text) => text.trim())
  .pipe(z.string().min(1, { error: "must not be empty" }))
  .meta({
    description: "`today`, `yesterday`, `last_week`, `last_month`, " +
      "`last_quarter`, `last_year`, `this_week`, `this_month`, " +
      "`this_quarter`, `this_year`, `last_N_days`, `2024`, `2024-Q3`, " +
      "`2024-11`, `2024-W07`, `2024-11-05` or `2024-11-01..2024-11-15`.",
    maxLength: 100,
    examples: ["last_month", "2024-11", "2024-11-01..2024-11-15"],
  });

/** `refresh`: recompute a cached result. */
export const refresh = z
  .enum(["true", "false", "1", "0", ""], {
    error: (issue) => `expected true or false, got ${quote(issue.input)}`,
  })
  .transform((text) => text === "true" || text === "1" || text === "")
  .pipe(z.boolean())
  .meta({
    description: "Recompute even when the period's result is cached.",
    default: false,
  });

const nError = (issue: { input?: unknown }): string =>
  `expected an integer from 1 to ${MAX_HISTORY_ROWS}, got ${
    quote(issue.input)
  }`;

const n = z
  .string()
  .regex(/^\s*\d{1,7}\s*$/, { error: nError })
  .transform(Number)
  .pipe(
    z.number().int()
      .min(1, { error: nError })
      .max(MAX_HISTORY_ROWS, { error: nError }),
  )
  .meta({ description: "How many results.", default: 10 });

/** The query of `/kpis` and `/kpis/{name}`. */
export const kpisQuery = z.object({
  period: period.optional(),
  refresh: refresh.optional(),
});

/** The query of `/kpis/{name}/history`. */
export const historyQuery = z.object({
  n: n.optional(),
});

/** A comma-separated list, as an array of its non-empty items. */
const commaList = (description: string) =>
  z.string()
    .transform((text) =>
      text.split(",").map((s) => s.trim()).filter((s) => s !== "")
    )
    .pipe(z.array(z.string()))
    .meta({ description });

const comparisons = commaList(
  "Comparisons, comma-separated: DoD, WoW, MoM, QoQ, YoY.",
).check((ctx) => {
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

const top = (fallback: number) =>
  z.string()
    .regex(/^\s*\d{1,7}\s*$/, { error: topError })
    .transform(Number)
    .pipe(
      z.number().int()
        .min(1, { error: topError })
        .max(1000, { error: topError }),
    )
    .meta({
      description: fallback === 10
        ? "Segments kept per dimension; the rest fold into one `other` row."
        : "Most drivers listed.",
      default: fallback,
    });

/** The query of `/kpis/{name}/breakdown`. */
export const breakdownQuery = z.object({
  by: commaList(
    "Dimensions, comma-separated; each is broken down on its own.",
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
  compare: comparisons.optional(),
  top: top(10).optional(),
});

/** The query of `/kpis/{name}/drivers`. */
export const driversQuery = z.object({
  period: period.optional(),
  compare: comparisons.check((ctx) => {
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
  top: top(5).optional(),
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
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error) };
  return { ok: true, value: parsed.data };
}

function issuesOf(error: z.ZodError): ParamIssue[] {
  return error.issues.map((issue) => {
    return { path: issue.path.map(String), message: issue.message };
  });
}

/** Renders issues as one sentence for the `error` field. */
export function describeIssues(issues: readonly ParamIssue[]): string {
  return issues
    .map((issue) =>
      `Invalid query parameter "${issue.path.join(".")}": ${issue.message}`
    )
    .join("; ");
}
