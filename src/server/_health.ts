/**
 * `GET /health`: runs each reachability check with a timeout and reports
 * them; error details only with the token.
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
  /** The token that unlocks error details, or null. */
  token: string | null;
}

/** The outcome of one health check as `/health` reports it. */
interface CheckOutcome {
  status: "ok" | "error" | "not_configured";
  latencyMs: number;
  error?: string;
}

/** Adds `GET /health`. */
export function addHealthRoute(app: Hono, options: HealthRouteOptions): void {
  app.get("/health", async (c) => {
    const entries = await Promise.all(
      Object.entries(options.checks).map(async ([name, check]) =>
        [name, await runCheck(check, options.timeoutMs)] as const
      ),
    );
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

/** `database` (`SELECT 1`) and `history` (one read) of an engine. */
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
      await store.history("__health_check__", 1);
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
