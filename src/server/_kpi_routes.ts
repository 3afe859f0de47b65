/**
 * The KPI routes: `GET /kpis`, `GET /kpis/{name}`,
 * `GET /kpis/{name}/history` and the dashboard's `GET /dashboard.json`, their query validation (the schemas the
 * OpenAPI document is generated from) and the cache of closed periods.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import type { KPIResult, Period } from "../types.ts";
import type { ServerEngine } from "./create_app.ts";
import type { CacheEntry, ResultCache } from "./_cache.ts";
import {
  describeIssues,
  historyQuery,
  kpisQuery,
  type ParamIssue,
  parseQuery,
} from "./_params.ts";
import { dashboardData, dashboardQuery } from "./_dashboard_data.ts";

/** What {@linkcode addKpiRoutes} needs. */
export interface KpiRoutesOptions {
  /** The engine. */
  engine: ServerEngine;
  /** The clock deciding whether a period is closed. */
  now: () => Temporal.Instant;
  /** The period when a request names none. */
  defaultPeriod: string;
  /** Whether computed results are appended to history. */
  record: boolean;
  /** Whether computed results dispatch alerts. */
  alerts: boolean;
  /** The cache of closed periods, or null. */
  cache: ResultCache | null;
}

/** History rows returned when `n` is not given. */
const DEFAULT_HISTORY_ROWS = 10;
const JSON_TYPE = "application/json; charset=utf-8";
/** History rows the dashboard reads per KPI, and points it draws. */
const DASHBOARD_HISTORY_ROWS = 60;
const DASHBOARD_POINTS = 16;

/** A computation found in the cache or started, and which it was. */
interface Lookup {
  entry: CacheEntry | null;
  results: Promise<KPIResult[]>;
  state: "HIT" | "MISS" | "REFRESH" | "BYPASS";
}

/** Adds the three KPI routes. */
export function addKpiRoutes(app: Hono, options: KpiRoutesOptions): void {
  const { engine } = options;
  const names = new Set(engine.definitions.map((d) => d.name));
  const lookup = lookupFor(options);

  app.get("/kpis", async (c) => {
    const query = parseQuery(kpisQuery, c.req.query());
    if (!query.ok) return badRequest(c, query.issues);
    const period = resolve(c, options, query.value.period);
    if (period instanceof Response) return period;
    const found = lookup(period, null, query.value.refresh ?? false);
    const results = await found.results;
    c.header("x-cache", found.state);
    c.header("cache-control", "no-store");
    return c.json({
      period: { label: period.label, start: period.start, end: period.end },
      results,
    });
  });

  app.get("/kpis/:name", async (c) => {
    const name = c.req.param("name");
    if (!names.has(name)) return unknownKpi(c, name, names);
    const query = parseQuery(kpisQuery, c.req.query());
    if (!query.ok) return badRequest(c, query.issues);
    const period = resolve(c, options, query.value.period);
    if (period instanceof Response) return period;
    const found = lookup(period, name, query.value.refresh ?? false);
    c.header("x-cache", found.state);
    c.header("cache-control", "no-store");
    const cached = found.entry?.bodies.get(name);
    if (cached !== undefined) {
      return c.body(cached, 200, { "content-type": JSON_TYPE });
    }
    const result = (await found.results).find((r) => r.name === name);
    if (result === undefined) {
      throw new Error(`The engine returned no result for KPI "${name}"`);
    }
    const body = JSON.stringify(result);
    found.entry?.bodies.set(name, body);
    return c.body(body, 200, { "content-type": JSON_TYPE });
  });

  app.get("/dashboard.json", async (c) => {
    const query = parseQuery(dashboardQuery, c.req.query());
    if (!query.ok) return badRequest(c, query.issues);
    const period = resolve(c, options, query.value.period);
    if (period instanceof Response) return period;
    const found = lookup(period, null, query.value.refresh ?? false);
    const results = await found.results;
    const kept = engine.historyStore !== undefined;
    const histories: Record<string, KPIResult[]> = {};
    if (kept) {
      await Promise.all(results.map(async (result) => {
        histories[result.name] = await engine.history(
          result.name,
          DASHBOARD_HISTORY_ROWS,
        );
      }));
    }
    c.header("x-cache", found.state);
    c.header("cache-control", "no-store");
    return c.json(dashboardData({
      period: { label: period.label, start: period.start, end: period.end },
      results,
      kept,
      histories,
      points: DASHBOARD_POINTS,
    }));
  });

  app.get("/kpis/:name/history", async (c) => {
    const name = c.req.param("name");
    if (!names.has(name)) return unknownKpi(c, name, names);
    const query = parseQuery(historyQuery, c.req.query());
    if (!query.ok) return badRequest(c, query.issues);
    const results = await engine.history(
      name,
      query.value.n ?? DEFAULT_HISTORY_ROWS,
    );
    c.header("cache-control", "no-store");
    return c.json({ name, results });
  });
}

/** Answers 400 with the issues. */
export function badRequest(c: Context, issues: ParamIssue[]): Response {
  return c.json({ error: describeIssues(issues), issues }, 400);
}

/** Answers 404 naming the known KPIs. */
export function unknownKpi(
  c: Context,
  name: string,
  names: ReadonlySet<string>,
): Response {
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
 */
function lookupFor(
  options: KpiRoutesOptions,
): (period: Period, kpi: string | null, refresh: boolean) => Lookup {
  const { engine, cache, now } = options;
  const isClosed = (period: Period): boolean => {
    const today = now().toZonedDateTimeISO(period.timezone).toPlainDate();
    return Temporal.PlainDate.compare(
      Temporal.PlainDate.from(period.end),
      today,
    ) <= 0;
  };
  return (period, kpi, refresh) => {
    const compute = (): Promise<KPIResult[]> =>
      engine
        .report(period.label, {
          ...(kpi === null ? {} : { kpis: [kpi] }),
          record: options.record,
          alerts: options.alerts,
        })
        .then((report) => report.results);
    if (cache === null || !isClosed(period)) {
      return { entry: null, results: compute(), state: "BYPASS" };
    }
    const base = `${period.timezone}|${period.start}|${period.end}|`;
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
