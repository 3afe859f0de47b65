/**
 * A {@linkcode SqlClient} over the `postgres` package: a pool of
 * connections, each query in its own read-only transaction with a
 * server-side statement timeout and the period's time zone.
 *
 * @module
 */

import postgres from "postgres";
import type { SqlClient, SqlQueryOptions } from "../../../types.ts";
import {
  describeServer,
  driverErrorTranslator,
  hidePassword,
  NETWORK_CODES,
} from "../../../sql/_errors.ts";
import { beginTransaction, isConnectionGone } from "./_begin_transaction.ts";

/** The parts of a `postgres` sql instance this client uses. */
export type PostgresSql = postgres.Sql<Record<string, never>>;

/** Options of {@linkcode postgresClient}. */
export interface PostgresClientOptions {
  /**
   * Whether `close()` ends the pool. Leave it false for an instance the
   * caller keeps using.
   *
   * @default false
   */
  owned?: boolean;
  /** The password, so that messages can be scrubbed of it. @default none */
  password?: string;
  /**
   * Keep the server's JIT setting. By default JIT is switched off for the
   * engine's queries: a fused query costs the sum of its parts, which pushes
   * it past the server's JIT optimization thresholds where the separate
   * queries stay below them, and compiling then takes longer than it saves
   * on these scans.
   *
   * @default false
   */
  jit?: boolean;
}

/** Options of {@linkcode openPostgresClient}. */
export interface OpenPostgresClientOptions {
  /** Most connections the pool opens. @default 10 */
  maxConnections?: number;
  /**
   * How long opening a connection (TCP, TLS and the login) may take, in
   * milliseconds. @default 5000
   */
  connectTimeoutMs?: number;
  /** Keep the server's JIT setting (see {@linkcode PostgresClientOptions}). @default false */
  jit?: boolean;
}

/** How long opening a connection may take, by default. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Extra time past `timeoutMs` before the client cancels a query itself. */
const GRACE_MS = 1000;

const CONNECTION_CODES = new Set([
  ...NETWORK_CODES,
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "28P01", // password authentication failed
  "28000", // invalid authorization
  "3D000", // database does not exist
  "57P01", // terminating connection due to administrator command
  "57P02", // terminating connection due to a crash of another process
  "57P03", // cannot connect now
  "53300", // too many connections
]);

/**
 * Wraps a `postgres` sql instance. Strings bound to `date`, `timestamp` and
 * `timestamptz` parameters are sent as written rather than through a
 * JavaScript `Date` (this changes the instance's serializers for those
 * types). Every query runs as
 * `BEGIN READ ONLY`, `set_config('statement_timeout', ...)`,
 * `set_config('TimeZone', ...)` and `set_config('jit', 'off')` local to the
 * transaction, the query, then
 * `COMMIT`; if the server has not canceled it a second after its timeout,
 * the client cancels it too.
 *
 * @param sql The sql instance (`postgres(url)`).
 * @param options Whether `close()` ends it.
 * @returns The client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import postgres from "postgres";
 *
 * // Connects lazily: nothing is sent until the first query.
 * const sql = postgres("postgres://user@127.0.0.1:5432/db");
 * const client = postgresClient(sql, { owned: true });
 * assert.equal(client.dialect, "postgres");
 * await client.close();
 * ```
 */
export function postgresClient(
  sql: PostgresSql,
  options: PostgresClientOptions = {},
): SqlClient {
  const owned = options.owned ?? false;
  const jit = options.jit ?? false;
  const settings = sql.options as unknown as {
    host?: string[];
    port?: number[];
    database?: string;
    pass?: unknown;
  };
  const server = describeServer("PostgreSQL", {
    host: settings.host?.join(",") ?? "localhost",
    port: settings.port?.join(",") ?? "5432",
    database: settings.database ?? "",
  });
  const password = options.password ??
    (typeof settings.pass === "string" ? settings.pass : undefined);
  passDateStringsThrough(sql);
  let closed = false;
  // A connection the server closed mid-query is never marked idle by the
  // package, so ending the pool gently would wait out its whole timeout.
  let lost = false;
  // Every client here opens query() alike (the SqlClient signature, the
  // closed check, the timeout read); what follows is this driver's own, so
  // the clients share no more than that.
  return {
    dialect: "postgres",
    async query(
      text: string,
      params: readonly unknown[],
      queryOptions: SqlQueryOptions = {},
    ): Promise<unknown[][]> {
      if (closed) throw new Error("The PostgreSQL client is closed");
      const timeoutMs = queryOptions.timeoutMs;
      try {
        return await beginTransaction(sql, "read only", async (tx) => {
          await tx.unsafe(
            jit
              ? "SELECT set_config('statement_timeout', $1, true), set_config('TimeZone', $2, true)"
              : "SELECT set_config('statement_timeout', $1, true), set_config('TimeZone', $2, true), set_config('jit', 'off', true)",
            [
              String(
                timeoutMs !== undefined ? Math.max(1, Math.ceil(timeoutMs)) : 0,
              ),
              queryOptions.timezone ?? "UTC",
            ],
          );
          const pending = tx.unsafe(
            text,
            params as postgres.ParameterOrJSON<never>[],
          );
          let timer: ReturnType<typeof setTimeout> | undefined;
          if (timeoutMs !== undefined) {
            timer = setTimeout(() => {
              pending.cancel();
            }, timeoutMs + GRACE_MS);
          }
          try {
            return await pending.values() as unknown as unknown[][];
          } finally {
            clearTimeout(timer);
          }
        }) as unknown as unknown[][];
      } catch (error) {
        if (isConnectionGone(error)) lost = true;
        throw translate(error, { server, password, timeoutMs });
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (owned) await sql.end({ timeout: lost ? 0 : 5 });
    },
  };
}

/** Date, timestamp and timestamptz: the types whose strings must reach the server as written. */
const DATE_TYPES = [1082, 1114, 1184];

/**
 * By default `postgres` turns a string bound to a date or timestamp
 * parameter into a JavaScript `Date` and sends its UTC form, so
 * `'2024-11-01'` compared with a `timestamptz` would mean midnight UTC
 * whatever the session's time zone. Strings are sent as written instead
 * (the server reads them in the session's zone); `Date` objects are sent as
 * before.
 */
function passDateStringsThrough(sql: PostgresSql): void {
  const serializers = (sql.options as unknown as {
    serializers?: Record<number, (value: unknown) => unknown>;
  }).serializers;
  if (!serializers) return;
  for (const oid of DATE_TYPES) {
    const original = serializers[oid];
    if (
      !original || (original as { kpiPassThrough?: boolean }).kpiPassThrough
    ) {
      continue;
    }
    const serialize = (value: unknown) =>
      typeof value === "string" ? value : original(value);
    (serialize as { kpiPassThrough?: boolean }).kpiPassThrough = true;
    serializers[oid] = serialize;
  }
}

/** Reads the driver's errors as timeouts, unreachable servers or others. */
const translate = driverErrorTranslator({
  isTimeout: (e) => e.code === "57014",
  isConnection: (e) => e.code !== undefined && CONNECTION_CODES.has(e.code),
});

/**
 * Opens a pool from a `postgres://` or `postgresql://` URL; `close()` ends
 * it. Connections open on first use.
 *
 * @param url The URL.
 * @param options Pool size.
 * @returns The client.
 * @throws {TypeError} When the URL cannot be parsed (the message hides the
 * password).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const client = openPostgresClient("postgres://user:secret@127.0.0.1:5432/shop");
 * assert.equal(client.dialect, "postgres");
 * await client.close();
 * ```
 */
export function openPostgresClient(
  url: string,
  options: OpenPostgresClientOptions = {},
): SqlClient {
  let password: string | undefined;
  try {
    password = decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    throw new TypeError(
      `Invalid PostgreSQL URL "${
        hidePassword(url, undefined)
      }": expected postgres://user:password@host:5432/database`,
    );
  }
  const sql = postgres(url, {
    max: options.maxConnections ?? 10,
    connect_timeout: (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) /
      1000,
    idle_timeout: 30,
    onnotice: () => {},
  }) as unknown as PostgresSql;
  return postgresClient(sql, {
    owned: true,
    ...(options.jit !== undefined ? { jit: options.jit } : {}),
    ...(password !== undefined ? { password } : {}),
  });
}
