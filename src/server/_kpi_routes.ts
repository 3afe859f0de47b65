/**
 * The KPI routes: `GET /kpis`, `GET /kpis/{name}`,
 * `GET /kpis/{name}/history` and `GET /kpis/{name}/series`, validated by
 * the query schemas the OpenAPI document is generated from, and the cache
 * of closed periods.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import type { KPIResult, Period } from "../types.ts";
import type { SeriesResult } from "../series/build_series_points.ts";
import type { ServerEngine } from "./create_app.ts";
import type { CacheEntry, ResultCache } from "./_cache.ts";
import {
  describeIssues,
  historyQuery,
  kpisQuery,
  type ParamIssue,
  parseQueries,
  seriesQuery,
} from "./_params.ts";

/** What {@linkcode addKpiRoutes} needs. */
export interface KpiRoutesOptions {
  /** The engine. */
  engine: ServerEngine;
  /** The clock deciding whether a period is closed. */
  now: () => Temporal.Instant;
  /** The period when a request names none. */
  defaultPeriod: string;
  /** Whether every computed result is appended to history. */
  record: boolean;
  /** Whether computed results dispatch alerts. */
  alerts: boolean;
  /** The cache of closed periods, or null. */
  cache: ResultCache | null;
}

/** History rows returned when `n` is not given. */
const DEFAULT_HISTORY_ROWS = 10;
/** The JSON media type of every API answer. */
export const JSON_TYPE = "application/json; charset=utf-8";

/** A computation found in the cache or started, and which it was. */
export interface Lookup {
  /** The cache entry, when the period is cached. */
  entry: CacheEntry | null;
  /** The results. */
  results: Promise<KPIResult[]>;
  /** What the `X-Cache` header says. */
  state: "HIT" | "MISS" | "REFRESH" | "BYPASS";
}

/** Finds or starts the computation of one KPI (null: all) for a period. */
export type LookupFn = (
  period: Period,
  kpi: string | null,
  refresh: boolean,
  recordThis: boolean,
) => Lookup;

/** Adds `/kpis`, `/kpis/{name}`, its history and its series. */
export function addKpiRoutes(
  app: Hono,
  options: KpiRoutesOptions,
  lookup: LookupFn,
): void {
  // Opens like addSegmentRoutes (the engine and the names knownKpi
  // checks): two route families, each with its own options.
  const { engine } = options;
  const names = new Set(engine.definitions.map((d) => d.name));

  // `/kpis` and `/kpis/{name}` read the same query and find their results
  // the same way; only the body they cut from the results differs.
  const lookupRequest = (
    c: Context,
    kpi: string | null,
  ): { period: Period; found: Lookup } | Response => {
    const query = parseQueries(kpisQuery, c.req.queries());
    if (!query.ok) return badRequest(c, query.issues);
    const period = resolve(c, options, query.value.period);
    if (period instanceof Response) return period;
    const { refresh = false, record = false } = query.value;
    if (record && engine.historyStore === undefined) {
      return badRequest(c, [{
        path: ["record"],
        message:
          "this server keeps no history to record into: add audit_log: to its file",
      }]);
    }
    const lookedUp = lookup(period, kpi, refresh, record);
    c.header("x-cache", lookedUp.state);
    c.header("cache-control", "no-store");
    return { period, found: lookedUp };
  };

  app.get("/kpis", (c) => {
    const request = lookupRequest(c, null);
    if (request instanceof Response) return request;
    const { period, found } = request;
    // A cached computation keeps its serialized list per period label
    // ("2024-11" and "last_month" may name the same range).
    return cachedBody(
      c,
      found.entry,
      `*\u0000${period.label}`,
      async () =>
        JSON.stringify({
          period: { label: period.label, start: period.start, end: period.end },
          results: await found.results,
        }),
    );
  });

  app.get("/kpis/:name", (c) => {
    const name = knownKpi(c, names);
    if (name instanceof Response) return name;
    const request = lookupRequest(c, name);
    if (request instanceof Response) return request;
    const { entry, results } = request.found;
    return cachedBody(c, entry, name, async () => {
      const result = (await results).find((r) => r.name === name);
      if (result === undefined) {
        throw new Error(`The engine returned no result for KPI "${name}"`);
      }
      return JSON.stringify(result);
    });
  });

  app.get("/kpis/:name/history", async (c) => {
    const name = knownKpi(c, names);
    if (name instanceof Response) return name;
    const query = parseQueries(historyQuery, c.req.queries());
    if (!query.ok) return badRequest(c, query.issues);
    const results = await engine.history(
      name,
      query.value.n ?? DEFAULT_HISTORY_ROWS,
    );
    c.header("cache-control", "no-store");
    return c.json({ name, results });
  });

  addSeriesRoute(app, engine, names);
}

/** Adds `GET /kpis/{name}/series`. */
function addSeriesRoute(
  app: Hono,
  engine: ServerEngine,
  names: ReadonlySet<string>,
): void {
  app.get("/kpis/:name/series", async (c) => {
    const name = knownKpi(c, names);
    if (name instanceof Response) return name;
    const query = parseQueries(seriesQuery, c.req.queries());
    if (!query.ok) return badRequest(c, query.issues);
    if (engine.series === undefined) {
      return c.json({ error: "This engine does not compute series" }, 501);
    }
    const { grain, from, to, last } = query.value;
    const periodIssues = unresolvable(engine, { from, to });
    if (periodIssues.length > 0) return badRequest(c, periodIssues);
    let series: SeriesResult;
    try {
      series = await engine.series(name, {
        grain,
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
        ...(last === undefined ? {} : { last }),
      });
    } catch (error) {
      if (error instanceof RangeError || error instanceof TypeError) {
        return badRequest(c, [{ path: ["from"], message: error.message }]);
      }
      throw error;
    }
    c.header("cache-control", "no-store");
    return c.json({ name, grain: series.grain, points: series.points[name] });
  });
}

/**
 * The issues of the period parameters (`from`, `to`) that do not resolve,
 * each under its own name, so that a 400 points at the one at fault.
 */
function unresolvable(
  engine: ServerEngine,
  periods: Record<string, string | undefined>,
): ParamIssue[] {
  const issues: ParamIssue[] = [];
  for (const [key, text] of Object.entries(periods)) {
    if (text === undefined) continue;
    try {
      engine.resolvePeriod(text);
    } catch (error) {
      if (!(error instanceof RangeError || error instanceof TypeError)) {
        throw error;
      }
      issues.push({ path: [key], message: error.message });
    }
  }
  return issues;
}

/**
 * Answers with the body kept under `key` in a cache entry, or builds it,
 * keeps it and answers with it.
 */
async function cachedBody(
  c: Context,
  entry: CacheEntry | null,
  key: string,
  build: () => Promise<string>,
): Promise<Response> {
  const cached = entry?.bodies.get(key);
  if (cached !== undefined) {
    return c.body(cached, 200, { "content-type": JSON_TYPE });
  }
  const body = await build();
  entry?.bodies.set(key, body);
  return c.body(body, 200, { "content-type": JSON_TYPE });
}

/** Answers 400 with the issues. */
export function badRequest(c: Context, issues: ParamIssue[]): Response {
  return c.json({ error: describeIssues(issues), issues }, 400);
}

/** The KPI the path names, or an answer 404 naming the known KPIs. */
export function knownKpi(
  c: Context,
  names: ReadonlySet<string>,
): string | Response {
  const name = c.req.param("name") ?? "";
  if (names.has(name)) return name;
  return c.json({
    error: `Unknown KPI ${JSON.stringify(name)}: expected one of ${
      [...names].join(", ")
    }`,
  }, 404);
}

/** Resolves the requested period, or answers 400. */
export function resolve(
  c: Context,
  options: Pick<KpiRoutesOptions, "engine" | "defaultPeriod">,
  text: string | undefined,
): Period | Response {
  try {
    return options.engine.resolvePeriod(text ?? options.defaultPeriod);
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) {
      return badRequest(c, [{ path: ["period"], message: error.message }]);
    }
    throw error;
  }
}

/**
 * Runs or finds the computation of one KPI (or all, `kpi` null) for a
 * period. Closed periods (their end on or before today in the engine's
 * zone) are cached; the whole period's entry answers single KPIs too.
 * `recordThis` (a request's `record=true`) computes anew, so that there is
 * something to record.
 */
export function lookupFor(options: KpiRoutesOptions): LookupFn {
  const { engine, cache, now } = options;
  const isClosed = (period: Period): boolean => {
    const today = now().toZonedDateTimeISO(period.timezone).toPlainDate();
    return Temporal.PlainDate.compare(
      Temporal.PlainDate.from(period.end),
      today,
    ) <= 0;
  };
  return (period, kpi, refresh, recordThis) => {
    const compute = (): Promise<KPIResult[]> =>
      engine
        .report(period.label, {
          ...(kpi === null ? {} : { kpis: [kpi] }),
          record: options.record || recordThis,
          alerts: options.alerts,
        })
        .then((report) => report.results);
    if (cache === null || !isClosed(period)) {
      return { entry: null, results: compute(), state: "BYPASS" };
    }
    const base = `${period.timezone}|${period.start}|${period.end}|`;
    refresh ||= recordThis;
    if (kpi !== null && !refresh) {
      const all = cache.get(`${base}*`);
      if (all !== undefined) {
        return { entry: all, results: all.results, state: "HIT" };
      }
    }
    const { entry, hit } = cache.getOrCompute(
      base + (kpi ?? "*"),
      compute,
      refresh,
    );
    return {
      entry,
      results: entry.results,
      state: hit ? "HIT" : refresh ? "REFRESH" : "MISS",
    };
  };
}
