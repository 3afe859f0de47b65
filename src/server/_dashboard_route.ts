/**
 * `GET /dashboard.json`: the whole dashboard of one period in one request.
 * The results come through the same cache as `/kpis`; each KPI's sparkline
 * is the series of the viewed period's grain ending with the viewed period,
 * read from history where history holds every point of it, else computed
 * with `engine.series` (one call for the KPIs that need it) and, for a
 * closed period, cached.
 *
 * @module
 */

import type { Hono } from "hono";
import type { KPIResult, Period } from "../types.ts";
import type { SeriesResult } from "../series/build_series_points.ts";
import { periodGrain } from "../series/period_grain.ts";
import {
  addGrains,
  bucketStart,
  type Grain,
} from "../series/series_buckets.ts";
import { formatValue } from "../format/format_number.ts";
import type { ServerEngine } from "./create_app.ts";
import {
  badRequest,
  type KpiRoutesOptions,
  type LookupFn,
  resolve,
} from "./_kpi_routes.ts";
import { parseQueries } from "./_params.ts";
import { periodText } from "./_period_text.ts";
import {
  dashboardQuery,
  displayOf,
  type KpiDisplay,
} from "./_dashboard_data.ts";

/** Points a sparkline draws for a period of a grain. */
const TREND_POINTS = 12;
/** Most daily points drawn for a range that is no single bucket. */
const MAX_RANGE_DAYS = 62;
/** Computed series kept for closed periods. */
const TREND_CACHE_ENTRIES = 200;

/** One sparkline point. */
interface TrendPoint {
  periodStart: string;
  periodEnd: string;
  value: number;
  partial: boolean;
  text: string;
}

/** The sparklines of a view. */
interface Trend {
  grain: Grain;
  kept: boolean;
  points: Record<string, TrendPoint[]>;
  source: Record<string, "history" | "computed">;
}

/** Which series a view's sparklines draw. */
interface TrendSpan {
  grain: Grain;
  /** A day in the last bucket. */
  to: string;
  /** How many buckets. */
  last: number;
  /** The first day of each bucket, oldest first. */
  starts: string[];
}

/** Adds `GET /dashboard.json`. */
export function addDashboardRoute(
  app: Hono,
  options: KpiRoutesOptions,
  lookup: LookupFn,
): void {
  const trends = trendReader(options);
  app.get("/dashboard.json", async (c) => {
    const query = parseQueries(dashboardQuery, c.req.queries());
    if (!query.ok) return badRequest(c, query.issues);
    const period = resolve(c, options, query.value.period);
    if (period instanceof Response) return period;
    const refresh = query.value.refresh ?? false;
    const found = lookup(period, null, refresh, false);
    const [results, trend] = await Promise.all([
      found.results,
      trends(period, refresh, found.state !== "BYPASS"),
    ]);
    const year = Temporal.PlainDate.from(period.start).year;
    const display: Record<string, KpiDisplay> = {};
    for (const result of results) {
      display[result.name] = displayOf(result, year);
    }
    c.header("x-cache", found.state);
    c.header("cache-control", "no-store");
    return c.json({
      period: {
        label: period.label,
        start: period.start,
        end: period.end,
        text: periodText(period.start, period.end),
      },
      results,
      display,
      trend,
    });
  });
}

/**
 * Reads a view's sparklines: history where it holds every point, else one
 * series computation for the rest (cached when `closed`).
 */
function trendReader(
  options: KpiRoutesOptions,
): (period: Period, refresh: boolean, closed: boolean) => Promise<Trend> {
  const { engine } = options;
  const names = engine.definitions.map((d) => d.name);
  const cache = options.cache === null
    ? null
    : new Map<string, Promise<SeriesResult>>();
  return async (period, refresh, closed) => {
    const span = trendSpan(period, engine.config.weekStart ?? 1);
    const kept = engine.historyStore !== undefined;
    const trend: Trend = { grain: span.grain, kept, points: {}, source: {} };
    const recorded = kept ? await fromHistory(engine, names, span) : new Map();
    const missing = names.filter((name) => !recorded.has(name));
    for (const [name, rows] of recorded) {
      trend.points[name] = rows.map((r: KPIResult) => point(r, false));
      trend.source[name] = "history";
    }
    const seriesOf = engine.series?.bind(engine);
    if (missing.length === 0 || seriesOf === undefined) return trend;
    const key = `${period.timezone}|${span.grain}|${span.to}|${span.last}|${
      missing.join(",")
    }`;
    const compute = () =>
      seriesOf(missing, {
        grain: span.grain,
        to: span.to,
        last: span.last,
        comparisons: false,
      });
    let series: SeriesResult;
    try {
      series = await cached(cache, key, compute, refresh || !closed);
    } catch {
      // A sparkline is not worth failing the page for: the cards still come.
      return trend;
    }
    for (const name of missing) {
      trend.points[name] = (series.points[name] ?? [])
        .filter((p) => p.value !== null && p.error === undefined)
        .map((p) =>
          point(
            { ...p, value: p.value as number, unit: unitOf(engine, name) },
            p.partial,
          )
        );
      trend.source[name] = "computed";
    }
    return trend;
  };
}

/** Finds or computes a series; failures are not kept. */
function cached(
  cache: Map<string, Promise<SeriesResult>> | null,
  key: string,
  compute: () => Promise<SeriesResult>,
  skip: boolean,
): Promise<SeriesResult> {
  if (cache === null || skip) return compute();
  const found = cache.get(key);
  if (found !== undefined) return found;
  const promise = compute();
  cache.set(key, promise);
  if (cache.size > TREND_CACHE_ENTRIES) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  promise.catch(() => {
    if (cache.get(key) === promise) cache.delete(key);
  });
  return promise;
}

/**
 * The KPIs whose history holds every point of the span, with those points
 * oldest first.
 */
async function fromHistory(
  engine: ServerEngine,
  names: readonly string[],
  span: TrendSpan,
): Promise<Map<string, KPIResult[]>> {
  const found = new Map<string, KPIResult[]>();
  const wanted = new Set(span.starts);
  await Promise.all(names.map(async (name) => {
    const rows = await engine.history(name, {
      grain: span.grain,
      n: span.last * 2,
    });
    const byStart = new Map<string, KPIResult>();
    for (const row of rows) {
      const usable = row.value !== null && row.error === null &&
        wanted.has(row.periodStart) &&
        row.periodEnd ===
          addGrains(Temporal.PlainDate.from(row.periodStart), span.grain, 1)
            .toString();
      if (usable && !byStart.has(row.periodStart)) {
        byStart.set(row.periodStart, row);
      }
    }
    if (byStart.size === wanted.size) {
      found.set(name, span.starts.map((start) => byStart.get(start)!));
    }
  }));
  return found;
}

/**
 * The sparkline of a view: twelve buckets of the period's grain ending
 * with it (a running month counts as its month); for a range that is no
 * bucket (`last_30_days`), its days.
 */
export function trendSpan(period: Period, weekStart: number): TrendSpan {
  const start = Temporal.PlainDate.from(period.start);
  const end = Temporal.PlainDate.from(period.end);
  let grain: Grain | null = null;
  const exact = periodGrain(period, { weekStart });
  if (exact !== "custom") grain = exact;
  else {
    for (const g of ["day", "week", "month", "quarter", "year"] as const) {
      if (
        bucketStart(start, g, weekStart).equals(start) &&
        Temporal.PlainDate.compare(end, addGrains(start, g, 1)) < 0
      ) {
        grain = g;
        break;
      }
    }
  }
  if (grain === null) {
    const days = Math.min(start.until(end).days, MAX_RANGE_DAYS);
    const to = end.subtract({ days: 1 });
    return spanOf("day", to, days);
  }
  return spanOf(grain, start, TREND_POINTS);
}

function spanOf(grain: Grain, to: Temporal.PlainDate, last: number): TrendSpan {
  const starts: string[] = [];
  for (let i = last - 1; i >= 0; i--) {
    starts.push(addGrains(to, grain, -i).toString());
  }
  return { grain, to: to.toString(), last, starts };
}

function point(
  r: {
    periodStart: string;
    periodEnd: string;
    value: number | null;
    unit: string | null;
  },
  partial: boolean,
): TrendPoint {
  return {
    periodStart: r.periodStart,
    periodEnd: r.periodEnd,
    value: r.value as number,
    partial,
    text: `${periodText(r.periodStart, r.periodEnd)}${
      partial ? " (so far)" : ""
    }: ${formatValue(r.value, r.unit)}`,
  };
}

function unitOf(engine: ServerEngine, name: string): string | null {
  return engine.definitions.find((d) => d.name === name)?.unit ?? null;
}
