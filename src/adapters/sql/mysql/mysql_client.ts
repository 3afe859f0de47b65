/**
 * A {@linkcode SqlClient} over `mysql2/promise` for MySQL and MariaDB: a
 * pool of connections, each query a server-side prepared statement in its
 * own read-only transaction, with a server-side time limit and the
 * period's time zone.
 *
 * @module
 */

import mysql from "mysql2/promise";
import type { SqlClient, SqlQueryOptions } from "../../../types.ts";
import {
  describeServer,
  driverErrorTranslator,
  hidePassword,
  NETWORK_CODES,
} from "../../../sql/_errors.ts";

/** A mysql2 pool or connection, promise or callback flavor. */
export type MysqlHandle =
  | mysql.Pool
  | mysql.Connection
  | { promise(): mysql.Pool | mysql.Connection };

/** Options of {@linkcode mysqlClient}. */
export interface MysqlClientOptions {
  /**
   * Whether `close()` ends the pool. Leave it false for a pool the caller
   * keeps using.
   *
   * @default false
   */
  owned?: boolean;
  /** The password, so that messages can be scrubbed of it. @default none */
  password?: string;
}

/** Options of {@linkcode openMysqlClient}. */
export interface OpenMysqlClientOptions {
  /** Most connections the pool opens. @default 10 */
  maxConnections?: number;
  /**
   * How long opening a connection (TCP, TLS and the login) may take, in
   * milliseconds. @default 5000
   */
  connectTimeoutMs?: number;
}

/** Extra time past `timeoutMs` before the client kills a query itself. */
const GRACE_MS = 1000;

const CONNECTION_CODES = new Set([
  ...NETWORK_CODES,
  "PROTOCOL_CONNECTION_LOST",
  "ER_ACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_BAD_DB_ERROR",
  "ER_CON_COUNT_ERROR",
  "ER_HOST_NOT_PRIVILEGED",
]);
/** max_statement_time (MariaDB), max_execution_time (MySQL), KILL QUERY. */
const TIMEOUT_ERRNOS = new Set([1969, 3024, 1317]);

/** A connection with what is needed of it. */
type Conn = mysql.PoolConnection | mysql.Connection;

/**
 * Wraps a mysql2 pool or connection. Each query runs as
 * `START TRANSACTION READ ONLY`, the statement (on MariaDB prefixed with
 * `SET STATEMENT max_statement_time=..., time_zone=... FOR`; on MySQL after
 * `SET SESSION max_execution_time=..., time_zone=...`), then `COMMIT`. If
 * the server has not stopped a query a second after its timeout, the client
 * sends `KILL QUERY` from another connection of the pool.
 *
 * Named time zones use the server's time zone tables
 * (`mysql_tzinfo_to_sql`) when it has them; without them the session runs
 * at `options.utcOffset`, the offset the engine computed for the query's
 * periods (else the zone's offset today).
 *
 * @param handle The pool or connection.
 * @param options Whether `close()` ends it.
 * @returns The client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import mysql from "mysql2/promise";
 *
 * // Connects lazily: nothing is sent until the first query.
 * const pool = mysql.createPool({ uri: "mysql://root@127.0.0.1:3306/test" });
 * const client = mysqlClient(pool, { owned: true });
 * assert.equal(client.dialect, "mysql");
 * await client.close();
 * ```
 */
export function mysqlClient(
  handle: MysqlHandle,
  options: MysqlClientOptions = {},
): SqlClient {
  const owned = options.owned ?? false;
  const target = "promise" in handle && typeof handle.promise === "function" &&
      !("getConnection" in handle && isPromisePool(handle))
    ? handle.promise() as mysql.Pool | mysql.Connection
    : handle as mysql.Pool | mysql.Connection;
  const pool = "getConnection" in target &&
      typeof target.getConnection === "function"
    ? target as mysql.Pool
    : null;
  const single = pool === null ? target as mysql.Connection : null;
  const config = connectionConfig(target);
  const server = describeServer("MySQL", {
    host: config.host ?? "localhost",
    port: String(config.port ?? 3306),
    database: config.database ?? "",
  });
  const password = options.password ??
    (typeof config.password === "string" && config.password !== ""
      ? config.password
      : undefined);
  let flavor: Promise<"mariadb" | "mysql"> | null = null;
  const zones = new Map<string, Promise<boolean>>();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const detect = (conn: Conn) => {
    flavor ??= conn.query("SELECT VERSION()").then(([rows]) =>
      /mariadb/i.test(String(Object.values((rows as object[])[0] ?? {})[0]))
        ? "mariadb" as const
        : "mysql" as const
    ).catch((error) => {
      flavor = null;
      throw error;
    });
    return flavor;
  };

  /**
   * The server's name for a zone; when the server has no data for it, the
   * offset the engine computed for the query's periods (else today's).
   */
  const zoneFor = async (
    conn: Conn,
    timezone: string,
    utcOffset: string | undefined,
  ): Promise<string> => {
    if (timezone === "UTC" || timezone === "Etc/UTC") return "+00:00";
    let known = zones.get(timezone);
    if (!known) {
      known = conn.execute({
        sql: "SELECT CONVERT_TZ('2000-01-01 00:00:00', '+00:00', ?)",
        rowsAsArray: true,
      }, [timezone]).then(([rows]) => (rows as unknown[][])[0]?.[0] !== null)
        .catch((error) => {
          zones.delete(timezone);
          throw error;
        });
      zones.set(timezone, known);
    }
    return await known ? timezone : utcOffset ?? offsetOf(timezone);
  };

  const run = async (
    conn: Conn,
    sql: string,
    params: readonly unknown[],
    queryOptions: SqlQueryOptions,
  ): Promise<unknown[][]> => {
    const kind = await detect(conn);
    const zone = await zoneFor(
      conn,
      queryOptions.timezone ?? "UTC",
      queryOptions.utcOffset,
    );
    const timeoutMs = queryOptions.timeoutMs;
    let text = sql;
    let reset = false;
    if (kind === "mariadb") {
      const seconds = timeoutMs === undefined
        ? 0
        : Math.max(timeoutMs, 1) / 1000;
      text = `SET STATEMENT max_statement_time=${seconds}, time_zone=${
        quoteZone(zone)
      } FOR ${sql}`;
    } else {
      const ms = timeoutMs === undefined
        ? 0
        : Math.max(1, Math.ceil(timeoutMs));
      await conn.query(
        `SET SESSION max_execution_time=${ms}, time_zone=${quoteZone(zone)}`,
      );
      reset = true;
    }
    await conn.query("START TRANSACTION READ ONLY");
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (timeoutMs !== undefined && pool !== null) {
      const threadId = conn.threadId;
      timer = setTimeout(() => {
        pool.query(`KILL QUERY ${Number(threadId)}`).catch(() => {});
      }, timeoutMs + GRACE_MS);
    }
    try {
      const [rows] = await conn.execute(
        { sql: text, rowsAsArray: true },
        params.map((value) =>
          typeof value === "boolean" ? (value ? 1 : 0) : value
        ) as never[],
      );
      await conn.query("COMMIT");
      return rows as unknown[][];
    } catch (error) {
      await conn.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      clearTimeout(timer);
      if (reset) {
        await conn.query(
          "SET SESSION max_execution_time=DEFAULT, time_zone=DEFAULT",
        ).catch(() => {});
      }
    }
  };

  // Every client here opens query() alike (the SqlClient signature, the
  // closed check, the timeout read); what follows is this driver's own, so
  // the clients share no more than that.
  return {
    dialect: "mysql",
    async query(
      sql: string,
      params: readonly unknown[],
      queryOptions: SqlQueryOptions = {},
    ): Promise<unknown[][]> {
      if (closed) throw new Error("The MySQL client is closed");
      try {
        if (pool !== null) {
          const conn = await pool.getConnection();
          try {
            return await run(conn, sql, params, queryOptions);
          } finally {
            conn.release();
          }
        }
        // A single connection runs one query at a time.
        const result = queue.then(() =>
          run(single as mysql.Connection, sql, params, queryOptions)
        );
        queue = result.catch(() => {});
        return await result;
      } catch (error) {
        throw translate(error, {
          server,
          password,
          timeoutMs: queryOptions.timeoutMs,
        });
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (owned) await target.end();
    },
  };
}

function isPromisePool(handle: object): boolean {
  // A promise pool's getConnection returns a promise; a callback pool's
  // takes a callback. mysql2's promise wrappers keep the callback one in
  // `.pool` (pools) or `.connection` (connections).
  return "pool" in handle || "connection" in handle;
}

function connectionConfig(
  target: mysql.Pool | mysql.Connection,
): { host?: string; port?: number; database?: string; password?: string } {
  const t = target as unknown as {
    pool?: { config?: { connectionConfig?: Record<string, unknown> } };
    connection?: { config?: Record<string, unknown> };
    config?: Record<string, unknown>;
  };
  const config = t.pool?.config?.connectionConfig ?? t.connection?.config ??
    t.config ?? {};
  return config as {
    host?: string;
    port?: number;
    database?: string;
    password?: string;
  };
}

/** The zone's UTC offset now, as `+HH:MM`. */
function offsetOf(timezone: string): string {
  const offset = Temporal.Now.zonedDateTimeISO(timezone).offset;
  return offset.slice(0, 6);
}

/** Quotes a zone name or offset, which is checked to hold no quote. */
function quoteZone(zone: string): string {
  if (!/^[A-Za-z0-9_+\-/:]+$/.test(zone)) {
    throw new RangeError(
      `Invalid time zone "${zone}": expected an IANA name or a UTC offset`,
    );
  }
  return `'${zone}'`;
}

/** Reads the driver's errors as timeouts, unreachable servers or others. */
const translate = driverErrorTranslator({
  isTimeout: (e) => e.errno !== undefined && TIMEOUT_ERRNOS.has(e.errno),
  isConnection: (e) => e.code !== undefined && CONNECTION_CODES.has(e.code),
});

/**
 * Opens a pool from a `mysql://` or `mariadb://` URL; `close()` ends it.
 * Connections open on first use.
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
 * const client = openMysqlClient("mariadb://root:secret@127.0.0.1:3306/shop");
 * assert.equal(client.dialect, "mysql");
 * await client.close();
 * ```
 */
export function openMysqlClient(
  url: string,
  options: OpenMysqlClientOptions = {},
): SqlClient {
  const uri = url.replace(/^mariadb:/i, "mysql:");
  let password: string | undefined;
  try {
    password = decodeURIComponent(new URL(uri).password) || undefined;
  } catch {
    throw new TypeError(
      `Invalid MySQL URL "${
        hidePassword(url, undefined)
      }": expected mysql://user:password@host:3306/database`,
    );
  }
  const pool = mysql.createPool({
    uri,
    connectionLimit: options.maxConnections ?? 10,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    supportBigNumbers: true,
    maxIdle: 2,
    idleTimeout: 30_000,
  });
  return mysqlClient(pool, {
    owned: true,
    ...(password !== undefined ? { password } : {}),
  });
}
