/**
 * `GET /health`: runs each reachability check with a timeout and reports
 * them; error details only with the token. Probes are shared: the checks
 * run at most once per `cacheMs`, and requests in between (or arriving
 * while a probe runs) get the last outcome.
 *
 * @module
 */

import type { Hono } from "hono";
import type { HealthCheck, ServerEngine } from "./create_app.ts";
import { isAuthorized } from "./_guard.ts";

/** What {@linkcode addHealthRoute} needs. */
export interface HealthRouteOptions {
  /** Checks by name; null is reported as `not_configured`. */
  checks: Record<string, HealthCheck | null>;
  /** Each check fails after this many milliseconds. */
  timeoutMs: number;
  /** Probes run at most once per this many milliseconds. */
  cacheMs: number;
  /** The token that unlocks error details, or null. */
  token: string | null;
}

/** The outcome of one health check as `/health` reports it. */
interface CheckOutcome {
  status: "ok" | "error" | "not_configured";
  latencyMs: number;
  error?: string;
}

type Outcomes = Promise<(readonly [string, CheckOutcome])[]>;

/**
 * Adds `GET /health`.
 *
 * @throws {RangeError} If `cacheMs` is negative or not a number.
 */
export function addHealthRoute(app: Hono, options: HealthRouteOptions): void {
  const probe = sharedProbe(options);
  app.get("/health", async (c) => {
    const entries = (await probe()).map((
      [name, outcome],
    ): [string, CheckOutcome] => [name, { ...outcome }]);
    const ok = entries.every(([, outcome]) => outcome.status !== "error");
    // /health is public: error details (host names, users) only with the token.
    if (!isAuthorized(c, options.token)) {
      for (const [, outcome] of entries) delete outcome.error;
    }
    c.header("cache-control", "no-store");
    return c.json(
      { status: ok ? "ok" : "degraded", checks: Object.fromEntries(entries) },
      ok ? 200 : 503,
    );
  });
}

/** Runs the checks, or returns the last run's outcome if it is recent. */
function sharedProbe(options: HealthRouteOptions): () => Outcomes {
  const { cacheMs } = options;
  if (!(Number.isFinite(cacheMs) && cacheMs >= 0)) {
    throw new RangeError(
      `Invalid healthCacheMs ${cacheMs}: expected a number of milliseconds of at least 0`,
    );
  }
  // A duration, so it is measured on the monotonic clock, not `now`.
  let last: { at: number; outcome: Outcomes } | undefined;
  return () => {
    const at = performance.now();
    if (last === undefined || at - last.at >= cacheMs) {
      last = {
        at,
        outcome: Promise.all(
          Object.entries(options.checks).map(async ([name, check]) =>
            [name, await runCheck(check, options.timeoutMs)] as const
          ),
        ),
      };
    }
    return last.outcome;
  };
}

/** `database` (`SELECT 1`) and `history` (a ping or one read) of an engine. */
export function defaultChecks(
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
