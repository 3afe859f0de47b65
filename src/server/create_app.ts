/**
 * The REST server as a factory: {@linkcode createApp} returns a Hono app
 * serving the KPI routes, `/health`, `/openapi.json`, `/docs` and the
 * dashboard. It opens nothing and reads no environment; `server.ts` builds
 * the engine and the options once and serves the app.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import type {
  ComparisonCode,
  HistoryStore,
  KPIDefinition,
  KPIResult,
  Period,
  SqlClient,
} from "../types.ts";
import { COMPARISON_CODES } from "../types.ts";
import type { KPIBreakdown, KPIDrivers } from "../segments/types.ts";
import { type CacheEntry, ResultCache } from "./_cache.ts";
import {
  describeIssues,
  type ParamIssue,
  parseHistoryQuery,
  parseKpisQuery,
  parseSeriesQuery,
} from "./_params.ts";
import type {
  SeriesOptions,
  SeriesResult,
} from "../series/build_series_points.ts";
import { openApiDocument } from "./open_api_document.ts";
import { dashboardHtml } from "./dashboard_html.ts";
import { docsHtml } from "./docs_html.ts";
import { handleMcpRequest } from "./_mcp_route.ts";
import type { McpEngine } from "../mcp/create_mcp_server.ts";
import { kpiConfigJsonSchema } from "../config/kpi_config_json_schema.ts";

/** The JSON Schema of `kpis.yaml`, served at `/schema/kpis.json`. */
const kpiSchemaText = JSON.stringify(kpiConfigJsonSchema(), null, 2);

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
  /** The engine's settings; `timezone` decides which periods are closed. */
  readonly config: { readonly timezone: string };
  /** The KPI definitions, in file order. */
  readonly definitions: readonly KPIDefinition[];
  /** Resolves a period string; throws `RangeError` for a bad one. */
  resolvePeriod(text: string): Period;
  /** Computes KPIs for a period. */
  report(period?: string, options?: ServerRunOptions): Promise<ServerRunReport>;
  /** The last `n` results of one KPI, newest first. */
  history(name: string, n?: number): Promise<KPIResult[]>;
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

/** History rows returned when `n` is not given. */
const DEFAULT_HISTORY_ROWS = 10;
const JSON_TYPE = "application/json; charset=utf-8";
const PUBLIC_PATHS = new Set(["/health", "/schema/kpis.json"]);
/**
 * Pages that hold no data: without the token they are still sent, with
 * status 401, so a browser shows them and they ask for the token (kept in
 * sessionStorage) before calling the API.
 */
const PAGE_PATHS = new Set(["/", "/docs"]);
const encoder = new TextEncoder();

/** Compares a given secret with the expected one in time independent of where they differ. */
function sameSecret(given: string, expected: Uint8Array): boolean {
  const bytes = encoder.encode(given);
  let diff = bytes.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= (bytes[i] ?? 0) ^ (expected[i] ?? 0);
  }
  return diff === 0;
}

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

function randomNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

function pageHeaders(nonce: string): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-cache",
    "content-security-policy": [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "referrer-policy": "no-referrer",
  };
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
 * → KPIDrivers; `GET /health`;
 * `GET /openapi.json`; `GET /docs`; `GET /` (dashboard). A bad `period`,
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
 * @throws {RangeError} If `options.cache.maxEntries` or `ttlMs` is not positive.
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
  const { engine } = options;
  const now = options.now ?? (() => Temporal.Now.instant());
  const record = options.record ?? false;
  const alerts = options.alerts ?? false;
  const defaultPeriod = options.defaultPeriod ?? "last_month";
  const healthTimeoutMs = options.healthTimeoutMs ?? 2000;
  const expectedToken = options.token === undefined || options.token === ""
    ? null
    : encoder.encode(options.token);
  const cache = options.cache === false
    ? null
    : makeCache(options.cache ?? {}, () => now().epochMilliseconds);
  const names = new Set(engine.definitions.map((d) => d.name));
  const checks = options.checks ?? defaultChecks(engine);
  const healthCacheMs = options.healthCacheMs ?? 3000;
  if (!(Number.isFinite(healthCacheMs) && healthCacheMs >= 0)) {
    throw new RangeError(
      `Invalid healthCacheMs ${healthCacheMs}: expected a number of milliseconds of at least 0`,
    );
  }
  // The last probe, shared by the requests of the next healthCacheMs. A
  // duration, so it is measured on the monotonic clock, not `now`.
  let lastProbe:
    | { at: number; outcome: Promise<(readonly [string, CheckOutcome])[]> }
    | undefined;
  const probe = () => {
    const at = performance.now();
    if (lastProbe === undefined || at - lastProbe.at >= healthCacheMs) {
      lastProbe = {
        at,
        outcome: Promise.all(
          Object.entries(checks).map(async ([name, check]) =>
            [name, await runCheck(check, healthTimeoutMs)] as const
          ),
        ),
      };
    }
    return lastProbe.outcome;
  };
  const openApi = JSON.stringify(
    openApiDocument({
      kpiNames: [...names],
      secured: expectedToken !== null,
      defaultPeriod,
    }),
  );
  const title = options.title ?? "KPI dashboard";

  const app = new Hono();

  const authorized = (c: Context): boolean => {
    if (expectedToken === null) return true;
    const given = bearerToken(c.req.header("authorization"));
    return given !== null && sameSecret(given, expectedToken);
  };

  app.use("*", async (c, next) => {
    c.header("x-content-type-options", "nosniff");
    if (PAGE_PATHS.has(c.req.path) && !authorized(c)) {
      await next();
      c.header("www-authenticate", 'Bearer realm="kpi-engine"');
      c.res = new Response(c.res.body, {
        status: 401,
        headers: c.res.headers,
      });
      return;
    }
    if (!PUBLIC_PATHS.has(c.req.path) && !authorized(c)) {
      const missing = bearerToken(c.req.header("authorization")) === null;
      c.header("www-authenticate", 'Bearer realm="kpi-engine"');
      return c.json(
        {
          error: missing
            ? "Missing bearer token: send Authorization: Bearer <token>"
            : "Invalid bearer token",
        },
        401,
      );
    }
    await next();
  });

  const missingDimension = (
    name: string,
    by: readonly string[],
  ): ParamIssue | null => {
    if (!engine.dimensions) return null;
    const has = engine.dimensions(name);
    const missing = by.find((d) => !has.includes(d));
    return missing === undefined ? null : {
      path: ["by"],
      message: `KPI "${name}" has no dimension "${missing}": ${
        has.length === 0 ? "it has none" : `expected one of ${has.join(", ")}`
      }`,
    };
  };
  const badRequest = (c: Context, issues: ParamIssue[]): Response =>
    c.json({ error: describeIssues(issues), issues }, 400);

  const unknownKpi = (c: Context, name: string): Response =>
    c.json(
      {
        error: `Unknown KPI ${JSON.stringify(name)}: expected one of ${
          [...names].join(", ")
        }`,
      },
      404,
    );

  /** Resolves the requested period, or answers 400. */
  const resolve = (
    c: Context,
    text: string | undefined,
  ): Period | Response => {
    try {
      return engine.resolvePeriod(text ?? defaultPeriod);
    } catch (error) {
      if (error instanceof RangeError || error instanceof TypeError) {
        return badRequest(c, [{ path: ["period"], message: error.message }]);
      }
      throw error;
    }
  };

  const isClosed = (period: Period): boolean => {
    const today = now().toZonedDateTimeISO(period.timezone).toPlainDate();
    return Temporal.PlainDate.compare(
      Temporal.PlainDate.from(period.end),
      today,
    ) <= 0;
  };

  /**
   * Runs or finds the computation of `kpis` (null: all) for `period`, and
   * says which it was.
   */
  const lookup = (
    period: Period,
    label: string,
    kpi: string | null,
    refresh: boolean,
    recordThis = false,
  ): {
    entry: CacheEntry | null;
    results: Promise<KPIResult[]>;
    state: string;
  } => {
    const compute = (): Promise<KPIResult[]> =>
      engine
        .report(label, {
          ...(kpi === null ? {} : { kpis: [kpi] }),
          record: record || recordThis,
          alerts,
        })
        .then((report) => report.results);
    if (cache === null || !isClosed(period)) {
      return { entry: null, results: compute(), state: "BYPASS" };
    }
    const base = `${period.timezone}|${period.start}|${period.end}|`;
    // record=true computes now, so that there is something to record.
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

  app.get("/kpis", async (c) => {
    const query = parseKpisQuery(c.req.query());
    if (!query.ok) return badRequest(c, query.issues);
    const period = resolve(c, query.value.period);
    if (period instanceof Response) return period;
    const found = lookup(
      period,
      period.label,
      null,
      query.value.refresh,
      query.value.record,
    );
    c.header("x-cache", found.state);
    c.header("cache-control", "no-store");
    // A cached computation keeps its serialized list per period label
    // ("2024-11" and "last_month" may name the same range).
    const key = `*\u0000${period.label}`;
    const cached = found.entry?.bodies.get(key);
    if (cached !== undefined) {
      return c.body(cached, 200, { "content-type": JSON_TYPE });
    }
    const results = await found.results;
    const body = JSON.stringify({
      period: { label: period.label, start: period.start, end: period.end },
      results,
    });
    found.entry?.bodies.set(key, body);
    return c.body(body, 200, { "content-type": JSON_TYPE });
  });

  app.get("/kpis/:name", async (c) => {
    const name = c.req.param("name");
    if (!names.has(name)) return unknownKpi(c, name);
    const query = parseKpisQuery(c.req.query());
    if (!query.ok) return badRequest(c, query.issues);
    const period = resolve(c, query.value.period);
    if (period instanceof Response) return period;
    const found = lookup(
      period,
      period.label,
      name,
      query.value.refresh,
      query.value.record,
    );
    c.header("x-cache", found.state);
    c.header("cache-control", "no-store");
    const cached = found.entry?.bodies.get(name);
    if (cached !== undefined) {
      return c.body(cached, 200, { "content-type": JSON_TYPE });
    }
    const results = await found.results;
    const result = results.find((r) => r.name === name);
    if (result === undefined) {
      throw new Error(`The engine returned no result for KPI "${name}"`);
    }
    const body = JSON.stringify(result);
    found.entry?.bodies.set(name, body);
    return c.body(body, 200, { "content-type": JSON_TYPE });
  });

  app.get("/kpis/:name/history", async (c) => {
    const name = c.req.param("name");
    if (!names.has(name)) return unknownKpi(c, name);
    const query = parseHistoryQuery(c.req.query(), DEFAULT_HISTORY_ROWS);
    if (!query.ok) return badRequest(c, query.issues);
    const results = await engine.history(name, query.value);
    c.header("cache-control", "no-store");
    return c.json({ name, results });
  });

  app.get("/kpis/:name/breakdown", async (c) => {
    const name = c.req.param("name");
    if (!names.has(name)) return unknownKpi(c, name);
    const parsed = segmentQuery(c.req.query(), true);
    if (!parsed.ok) return badRequest(c, parsed.issues);
    const period = resolve(c, parsed.value.period);
    if (period instanceof Response) return period;
    const issue = missingDimension(name, parsed.value.by);
    if (issue) return badRequest(c, [issue]);
    if (!engine.breakdown) {
      return c.json({ error: "This engine does not break KPIs down" }, 501);
    }
    const options: {
      by: string[];
      top?: number;
      compare?: ComparisonCode[];
    } = { by: parsed.value.by };
    if (parsed.value.top !== undefined) options.top = parsed.value.top;
    if (parsed.value.compare.length > 0) {
      options.compare = parsed.value.compare;
    }
    c.header("cache-control", "no-store");
    return c.json(await engine.breakdown(name, period.label, options));
  });

  app.get("/kpis/:name/drivers", async (c) => {
    const name = c.req.param("name");
    if (!names.has(name)) return unknownKpi(c, name);
    const parsed = segmentQuery(c.req.query(), false);
    if (!parsed.ok) return badRequest(c, parsed.issues);
    if (parsed.value.compare.length > 1) {
      return badRequest(c, [{
        path: ["compare"],
        message:
          "Drivers explain one comparison: give one code, e.g. compare=MoM",
      }]);
    }
    const period = resolve(c, parsed.value.period);
    if (period instanceof Response) return period;
    const issue = missingDimension(name, parsed.value.by);
    if (issue) return badRequest(c, [issue]);
    if (!engine.drivers) {
      return c.json({ error: "This engine does not explain changes" }, 501);
    }
    const options: { by?: string[]; top?: number; compare?: ComparisonCode } =
      {};
    if (parsed.value.by.length > 0) options.by = parsed.value.by;
    if (parsed.value.top !== undefined) options.top = parsed.value.top;
    const code = parsed.value.compare[0];
    if (code !== undefined) options.compare = code;
    c.header("cache-control", "no-store");
    return c.json(await engine.drivers(name, period.label, options));
  });

  app.get("/kpis/:name/series", async (c) => {
    const name = c.req.param("name");
    if (!names.has(name)) return unknownKpi(c, name);
    const query = parseSeriesQuery(c.req.query());
    if (!query.ok) return badRequest(c, query.issues);
    if (engine.series === undefined) {
      return c.json({ error: "This engine does not compute series" }, 501);
    }
    let series: SeriesResult;
    try {
      series = await engine.series(name, query.value);
    } catch (error) {
      if (error instanceof RangeError || error instanceof TypeError) {
        return badRequest(c, [{ path: ["from"], message: error.message }]);
      }
      throw error;
    }
    c.header("cache-control", "no-store");
    return c.json({ name, grain: series.grain, points: series.points[name] });
  });

  app.get("/health", async (c) => {
    const entries = (await probe()).map((
      [name, outcome],
    ): [string, CheckOutcome] => [name, { ...outcome }]);
    const ok = entries.every(([, outcome]) => outcome.status !== "error");
    // /health is public: error details (host names, users) only with the token.
    if (!authorized(c)) {
      for (const [, outcome] of entries) delete outcome.error;
    }
    c.header("cache-control", "no-store");
    return c.json(
      { status: ok ? "ok" : "degraded", checks: Object.fromEntries(entries) },
      ok ? 200 : 503,
    );
  });

  app.get("/schema/kpis.json", (c) => {
    c.header("cache-control", "no-cache");
    return c.body(kpiSchemaText, 200, { "content-type": JSON_TYPE });
  });

  app.on(
    ["GET", "POST", "DELETE"],
    "/mcp",
    (c) => handleMcpRequest(c.req.raw, options.engine as McpEngine),
  );

  app.get("/openapi.json", (c) => {
    c.header("cache-control", "no-cache");
    return c.body(openApi, 200, { "content-type": JSON_TYPE });
  });

  app.get("/docs", (c) => {
    const nonce = randomNonce();
    return c.body(docsHtml({ nonce, title }), 200, pageHeaders(nonce));
  });

  app.get("/", (c) => {
    const nonce = randomNonce();
    return c.body(
      dashboardHtml({ nonce, title, defaultPeriod }),
      200,
      pageHeaders(nonce),
    );
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

function makeCache(
  settings: ServerCacheOptions,
  clock: () => number,
): ResultCache {
  const maxEntries = settings.maxEntries ?? 1000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(
      `Invalid cache.maxEntries ${
        JSON.stringify(maxEntries)
      }: expected a positive integer`,
    );
  }
  const ttlMs = settings.ttlMs ?? null;
  if (ttlMs !== null && !(ttlMs > 0)) {
    throw new RangeError(
      `Invalid cache.ttlMs ${
        JSON.stringify(ttlMs)
      }: expected a positive number of milliseconds`,
    );
  }
  return new ResultCache({ maxEntries, ttlMs, now: clock });
}

function defaultChecks(
  engine: ServerEngine,
): Record<string, HealthCheck | null> {
  const sql = engine.sqlClient;
  const store = engine.historyStore;
  return {
    database: sql === undefined ? null : async () => {
      await sql.query("SELECT 1", [], { timeoutMs: 2000 });
    },
    history: store === undefined ? null : async () => {
      const ping = (store as { ping?: () => Promise<void> }).ping;
      if (typeof ping === "function") await ping.call(store);
      else await store.history("__health_check__", 1);
    },
  };
}

/** The outcome of one health check as `/health` reports it. */
interface CheckOutcome {
  status: "ok" | "error" | "not_configured";
  latencyMs: number;
  error?: string;
}

async function runCheck(
  check: HealthCheck | null,
  timeoutMs: number,
): Promise<CheckOutcome> {
  if (check === null) return { status: "not_configured", latencyMs: 0 };
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`No answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([check(), timeout]);
    return { status: "ok", latencyMs: elapsed(started) };
  } catch (error) {
    return {
      status: "error",
      latencyMs: elapsed(started),
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

interface SegmentQuery {
  period: string | undefined;
  by: string[];
  compare: ComparisonCode[];
  top: number | undefined;
}

/** Reads `by`, `compare`, `top` and `period` of a breakdown or drivers request. */
function segmentQuery(
  query: Record<string, string>,
  needBy: boolean,
):
  | { ok: true; value: SegmentQuery }
  | { ok: false; issues: ParamIssue[] } {
  const issues: ParamIssue[] = [];
  const list = (text: string | undefined) =>
    (text ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  const by = list(query.by);
  if (needBy && by.length === 0) {
    issues.push({
      path: ["by"],
      message: "Missing `by`: name one or more dimensions, e.g. by=region",
    });
  }
  const compare = list(query.compare);
  for (const code of compare) {
    if (!(COMPARISON_CODES as readonly string[]).includes(code)) {
      issues.push({
        path: ["compare"],
        message: `Invalid comparison "${code}": expected one of ${
          COMPARISON_CODES.join(", ")
        }`,
      });
    }
  }
  let top: number | undefined;
  if (query.top !== undefined) {
    top = Number(query.top);
    if (!Number.isInteger(top) || top < 1 || top > 1000) {
      issues.push({
        path: ["top"],
        message:
          `Invalid top "${query.top}": expected a whole number from 1 to 1000`,
      });
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: {
      period: query.period,
      by,
      compare: compare as ComparisonCode[],
      top,
    },
  };
}
