/**
 * The REST server as a factory: {@linkcode createApp} returns a Hono app
 * serving the KPI routes, `/health`, `/openapi.json`, `/docs` and the
 * dashboard. It opens nothing and reads no environment; `server.ts` builds
 * the engine and the options once and serves the app.
 *
 * @module
 */

import { Hono } from "hono";
import type {
  ComparisonCode,
  HistoryGrain,
  HistoryStore,
  KPIDefinition,
  KPIResult,
  Period,
  SqlClient,
} from "../types.ts";
import type { KPIBreakdown, KPIDrivers } from "../segments/types.ts";
import type {
  SeriesOptions,
  SeriesResult,
} from "../series/build_series_points.ts";
import type { McpEngine } from "../mcp/create_mcp_server.ts";
import { makeCache } from "./_cache.ts";
import { requireToken, securityHeaders } from "./_guard.ts";
import { addKpiRoutes, lookupFor } from "./_kpi_routes.ts";
import { addDashboardRoute } from "./_dashboard_route.ts";
import { addSegmentRoutes } from "./_segment_routes.ts";
import { addHealthRoute, defaultChecks } from "./_health.ts";
import { addPageRoutes } from "./_page_routes.ts";
import { addMcpRoute } from "./_mcp_route.ts";

/**
 * The app {@linkcode createApp} returns. It is a Hono app; this interface
 * names what callers use, so the public API does not depend on Hono's types.
 */
export interface KPIApp {
  /**
   * Answers one request: pass it to `Deno.serve(app.fetch)`, export it as
   * `{ fetch: app.fetch }`, or mount it in another Hono app with
   * `parent.mount("/kpi", app.fetch)`.
   */
  fetch(
    request: Request,
    env?: unknown,
    context?: unknown,
  ): Response | Promise<Response>;
  /**
   * Answers a request given as a path, URL or `Request`, without a network:
   * `await app.request("/health")`.
   */
  request(
    input: string | Request | URL,
    init?: RequestInit,
  ): Response | Promise<Response>;
}

/** What a run asked for through the API returns: the envelope of `GET /kpis`. */
export interface ServerRunReport {
  /** The period that was computed. */
  period: { label: string; start: string; end: string };
  /** One result per KPI, in definition order. */
  results: KPIResult[];
}

/** Options the server passes to {@linkcode ServerEngine.report}. */
export interface ServerRunOptions {
  /** Only these KPIs. */
  kpis?: readonly string[];
  /** Append the results to the history store. */
  record?: boolean;
  /** Dispatch alerts to the channels. */
  alerts?: boolean;
}

/**
 * The part of `KPIEngine` the server uses. A `KPIEngine` fits it as is;
 * tests may pass any object of this shape.
 */
export interface ServerEngine {
  /**
   * The engine's settings; `timezone` decides which periods are closed,
   * `weekStart` (1 = Monday, the default) where the dashboard's weeks begin.
   */
  readonly config: { readonly timezone: string; readonly weekStart?: number };
  /** The KPI definitions, in file order. */
  readonly definitions: readonly KPIDefinition[];
  /** Resolves a period string; throws `RangeError` for a bad one. */
  resolvePeriod(text: string): Period;
  /** Computes KPIs for a period. */
  report(period?: string, options?: ServerRunOptions): Promise<ServerRunReport>;
  /**
   * The last `n` results of one KPI, newest first; with `grain`, one per
   * period of that grain, newest period first.
   */
  history(
    name: string,
    options?: number | { n?: number; grain?: HistoryGrain },
  ): Promise<KPIResult[]>;
  /** KPIs as series (`GET /kpis/{name}/series`); absent: the route answers 501. */
  series?(
    names: string | readonly string[],
    options: SeriesOptions,
  ): Promise<SeriesResult>;
  /** The dimensions of a KPI (for `/breakdown` and `/drivers`). */
  dimensions?(name: string): string[];
  /** Breaks a KPI down by dimensions (for `/kpis/{name}/breakdown`). */
  breakdown?(
    name: string,
    period: string,
    options: {
      by: readonly string[];
      top?: number;
      compare?: readonly ComparisonCode[];
    },
  ): Promise<KPIBreakdown>;
  /** Explains a KPI's change (for `/kpis/{name}/drivers`). */
  drivers?(
    name: string,
    period: string,
    options: { by?: readonly string[]; top?: number; compare?: ComparisonCode },
  ): Promise<KPIDrivers>;
  /** The database, if any; `/health` runs `SELECT 1` on it. */
  readonly sqlClient?: SqlClient | undefined;
  /** The history store, if any; `/health` reads from it. */
  readonly historyStore?: HistoryStore | undefined;
}

/** Checks one dependency; resolves when it is reachable, rejects otherwise. */
export type HealthCheck = () => Promise<void>;

/** Settings of the result cache. */
export interface ServerCacheOptions {
  /** Most cached computations kept (least recently used dropped). @default 1000 */
  maxEntries?: number;
  /**
   * Recompute a cached closed period after this many milliseconds, for data
   * that is reloaded in place. @default undefined (kept until evicted)
   */
  ttlMs?: number;
}

/** Options of {@linkcode createApp}. */
export interface CreateAppOptions {
  /** The engine that computes results and reads history. */
  engine: ServerEngine;
  /**
   * Bearer token every route but `/health` requires. Without it, `/` and
   * `/docs` are sent with status 401: the pages hold no data and ask for the
   * token before calling the API.
   * The entry point reads it from `KPI_API_TOKEN`.
   * @default undefined (no authentication)
   */
  token?: string | undefined;
  /**
   * The clock that decides whether a period is closed (its end is on or
   * before today in the engine's time zone). @default Temporal.Now.instant
   */
  now?: () => Temporal.Instant;
  /** Result cache settings, or `false` to compute every request. @default {} */
  cache?: ServerCacheOptions | false;
  /**
   * Whether every result computed for a request is appended to the history
   * store (cache hits never are). Without it, only a request with
   * `record=true` is recorded: a page view or an ad-hoc period should not
   * mix into the history that scheduled runs keep. @default false
   */
  record?: boolean;
  /**
   * Whether results computed for a request dispatch alerts to the channels.
   * Scheduled runs do that; a page view normally should not. @default false
   */
  alerts?: boolean;
  /**
   * Reachability checks reported by `/health`, by name. A null check is
   * reported as `not_configured`. @default `database` (`SELECT 1` on the
   * engine's `sqlClient`) and `history` (a read from its `historyStore`)
   */
  checks?: Record<string, HealthCheck | null>;
  /** Each health check fails after this many milliseconds. @default 2000 */
  healthTimeoutMs?: number;
  /**
   * `/health` runs its checks at most once per this many milliseconds;
   * requests in between (and requests arriving while a probe runs) share
   * the last outcome, so a load balancer or a flood of requests costs the
   * database nothing more. 0 probes on every request. @default 3000
   */
  healthCacheMs?: number;
  /** The period used when a request names none. @default "last_month" */
  defaultPeriod?: string;
  /** Title of the dashboard page. @default "KPI dashboard" */
  title?: string;
  /**
   * Told about unexpected failures (answered with 500); for logging. The
   * request is passed for its method and URL; never log its headers.
   * @default undefined
   */
  onError?: (error: unknown, request: Request) => void;
}

/**
 * Builds the REST app: the routes of the REST API, validated
 * parameters, bearer authentication, a cache for closed periods, JSON errors.
 *
 * Routes: `GET /kpis?period=&refresh=` → `{period, results}`;
 * `GET /kpis/{name}?period=&refresh=` → one KPIResult;
 * `GET /kpis/{name}/history?n=10` → `{name, results}`;
 * `GET /kpis/{name}/breakdown?by=region&period=&compare=MoM&top=10` → a
 * KPIBreakdown; `GET /kpis/{name}/drivers?period=&compare=MoM&by=&top=5`
 * → KPIDrivers; `GET /kpis/{name}/series?grain=month&last=12` → points;
 * `GET /dashboard.json?period=` → the dashboard's whole page (results,
 * their numbers as text, target progress, sparkline points);
 * `GET /health`; `GET /schema/kpis.json`; `POST /mcp`;
 * `GET /openapi.json` (generated from the zod schemas that validate the
 * requests); `GET /docs`; `GET /` (dashboard). Every answer carries Hono's
 * secure headers; the pages a CSP with a fresh nonce. A bad `period`,
 * `n` or `refresh` answers 400 and an unknown KPI 404, each with
 * `{"error": "..."}`; an unexpected failure answers 500 `{"error": "Internal
 * server error"}` and is passed to `options.onError`.
 *
 * Caching: results for a closed period (its end on or before today in the
 * engine's time zone) are kept, keyed by period start, end and KPI set, and
 * served without recomputing or recording history again; `refresh=true`
 * recomputes. Open periods are never cached. Results with an error are not
 * kept. The `X-Cache` header says `HIT`, `MISS`, `REFRESH` or `BYPASS`.
 *
 * @param options The engine, the token and the cache settings.
 * @returns A Hono app; serve its `fetch` or drive it with `app.request()`.
 *   Its type names `fetch` and `request` only: mount it in another Hono
 *   app with `parent.mount("/kpi", app.fetch)`.
 * @throws {RangeError} If `options.cache.maxEntries` or `ttlMs` is not
 *   positive, or `healthCacheMs` is negative.
 * @example Answer a request without a network
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const result = {
 *   name: "revenue", label: "Revenue", unit: "USD", value: 6000,
 *   periodStart: "2024-11-01", periodEnd: "2024-12-01", comparisons: {},
 *   momChangePct: null, yoyChangePct: null, alertStatus: "ok" as const,
 *   alertsTriggered: [], queryDurationMs: 1, error: null, note: null,
 * };
 * const engine = {
 *   config: { timezone: "UTC" },
 *   definitions: [{ name: "revenue", source: "sql" as const }],
 *   resolvePeriod: (label: string) =>
 *     ({ label, start: "2024-11-01", end: "2024-12-01", timezone: "UTC" }),
 *   report: (label = "last_month") =>
 *     Promise.resolve({
 *       period: { label, start: "2024-11-01", end: "2024-12-01" },
 *       results: [result],
 *     }),
 *   history: () => Promise.resolve([]),
 * };
 * const app = createApp({ engine, token: "s3cret" });
 *
 * const denied = await app.request("/kpis/revenue?period=2024-11");
 * assert.equal(denied.status, 401);
 *
 * const ok = await app.request("/kpis/revenue?period=2024-11", {
 *   headers: { Authorization: "Bearer s3cret" },
 * });
 * assert.equal((await ok.json()).value, 6000);
 * ```
 */
export function createApp(options: CreateAppOptions): KPIApp {
  const app = new Hono();
  const { engine } = options;
  const token = options.token === undefined || options.token === ""
    ? null
    : options.token;
  const defaultPeriod = options.defaultPeriod ?? "last_month";
  const now = options.now ?? (() => Temporal.Now.instant());
  const cache = options.cache === false
    ? null
    : makeCache(options.cache ?? {}, () => now().epochMilliseconds);
  app.use("*", securityHeaders());
  app.use("*", requireToken(token));
  const kpiOptions = {
    engine,
    now,
    defaultPeriod,
    record: options.record ?? false,
    alerts: options.alerts ?? false,
    cache,
  };
  const lookup = lookupFor(kpiOptions);
  addKpiRoutes(app, kpiOptions, lookup);
  addDashboardRoute(app, kpiOptions, lookup);
  addSegmentRoutes(app, { engine, defaultPeriod });
  addHealthRoute(app, {
    checks: options.checks ?? defaultChecks(engine),
    timeoutMs: options.healthTimeoutMs ?? 2000,
    cacheMs: options.healthCacheMs ?? 3000,
    token,
  });
  addMcpRoute(app, engine as McpEngine);
  addPageRoutes(app, {
    kpiNames: engine.definitions.map((d) => d.name),
    secured: token !== null,
    defaultPeriod,
    title: options.title ?? "KPI dashboard",
  });
  app.notFound((c) =>
    c.json({ error: `Not found: ${c.req.method} ${c.req.path}` }, 404)
  );
  app.onError((error, c) => {
    options.onError?.(error, c.req.raw);
    return c.json({ error: "Internal server error" }, 500);
  });
  return app;
}
