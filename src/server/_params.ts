/**
 * Query parameter schemas of the REST routes, validated with zod at the
 * boundary. The schemas stay internal; handlers get plain values or a
 * {@linkcode ParamIssue} list to answer 400 with.
 *
 * @module
 */

import { z } from "zod";

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

const period = z
  .string()
  .max(100, { error: "must be at most 100 characters" })
  .transform((text) => text.trim())
  .pipe(z.string().min(1, { error: "must not be empty" }));

const refresh = z
  .enum(["true", "false", "1", "0", ""], {
    error: (issue) => `expected true or false, got ${quote(issue.input)}`,
  })
  .transform((text) => text === "true" || text === "1" || text === "");

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
  );

const kpisQuery = z.object({
  period: period.optional(),
  refresh: refresh.optional(),
  record: refresh.optional(),
});

const historyQuery = z.object({
  n: n.optional(),
});

/** Parsed query of `/kpis` and `/kpis/{name}`. */
export interface KpisQuery {
  /** The period text, trimmed; undefined when absent. */
  period: string | undefined;
  /** Whether `refresh=true` asked for a recompute. */
  refresh: boolean;
  /** Whether `record=true` asked to compute now and append to history. */
  record: boolean;
}

/** A parse outcome: the value, or the issues to answer 400 with. */
export type ParseOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; issues: ParamIssue[] };

function issuesOf(error: z.ZodError): ParamIssue[] {
  return error.issues.map((issue) => {
    return { path: issue.path.map(String), message: issue.message };
  });
}

/** Validates `period`, `refresh` and `record`. */
export function parseKpisQuery(
  query: Record<string, string>,
): ParseOutcome<KpisQuery> {
  const parsed = kpisQuery.safeParse(query);
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error) };
  return {
    ok: true,
    value: {
      period: parsed.data.period,
      refresh: parsed.data.refresh ?? false,
      record: parsed.data.record ?? false,
    },
  };
}

/** Validates `n`. */
export function parseHistoryQuery(
  query: Record<string, string>,
  defaultN: number,
): ParseOutcome<number> {
  const parsed = historyQuery.safeParse(query);
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error) };
  return { ok: true, value: parsed.data.n ?? defaultN };
}

/** The most points one series request may ask for with `last`. */
export const MAX_SERIES_POINTS = 1000;

const lastError = (issue: { input?: unknown }): string =>
  `expected an integer from 1 to ${MAX_SERIES_POINTS}, got ${
    quote(issue.input)
  }`;

const seriesQuery = z.object({
  grain: z.enum(["day", "week", "month", "quarter", "year"], {
    error: (issue) =>
      `expected one of day, week, month, quarter, year, got ${
        quote(issue.input)
      }`,
  }),
  from: period.optional(),
  to: period.optional(),
  last: z.string().regex(/^\s*\d{1,7}\s*$/, { error: lastError })
    .transform(Number)
    .pipe(
      z.number().int().min(1, { error: lastError }).max(MAX_SERIES_POINTS, {
        error: lastError,
      }),
    ).optional(),
}).refine((q) => !(q.from !== undefined && q.last !== undefined), {
  error: "give either from or last, not both",
  path: ["last"],
});

/** Parsed query of `/kpis/{name}/series`. */
export interface SeriesQuery {
  /** The grain. */
  grain: "day" | "week" | "month" | "quarter" | "year";
  /** First period, when given. */
  from?: string;
  /** Last period, when given. */
  to?: string;
  /** How many points, when given. */
  last?: number;
}

/** Validates `grain`, `from`, `to` and `last`. */
export function parseSeriesQuery(
  query: Record<string, string>,
): ParseOutcome<SeriesQuery> {
  const parsed = seriesQuery.safeParse(query);
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error) };
  const value: SeriesQuery = { grain: parsed.data.grain };
  if (parsed.data.from !== undefined) value.from = parsed.data.from;
  if (parsed.data.to !== undefined) value.to = parsed.data.to;
  if (parsed.data.last !== undefined) value.last = parsed.data.last;
  return { ok: true, value };
}

/** Renders issues as one sentence for the `error` field. */
export function describeIssues(issues: readonly ParamIssue[]): string {
  return issues
    .map((issue) =>
      `Invalid query parameter "${issue.path.join(".")}": ${issue.message}`
    )
    .join("; ");
}
