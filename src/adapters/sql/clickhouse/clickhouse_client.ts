/**
 * A {@linkcode SqlClient} over ClickHouse's HTTP interface, with `fetch`
 * only (so it runs on Deno Deploy): values travel as ClickHouse query
 * parameters, every query runs with `readonly=1`, a server-side
 * `max_execution_time` and the period's `session_timezone`, and a query
 * still running past its timeout is killed on the server by its query id.
 *
 * @module
 */

import type { SqlClient, SqlQueryOptions } from "../../../types.ts";
import {
  describeServer,
  hidePassword,
  SqlConnectionError,
  SqlTimeoutError,
} from "../../../sql/_errors.ts";

/** Where and as whom to connect. */
export interface ClickHouseConnection {
  /** `http://host:8123` or `https://host:8443`, without a path. */
  endpoint: string;
  /** Database queries run in. @default "default" */
  database?: string;
  /** User. @default "default" */
  user?: string;
  /** Password. @default none */
  password?: string;
}

/** Options of {@linkcode clickhouseClient}. */
export interface ClickHouseClientOptions {
  /**
   * Extra ClickHouse settings sent with every query (`max_threads`,
   * `max_memory_usage`, ...); `readonly`, `max_execution_time`,
   * `session_timezone` and the output settings are the client's own.
   *
   * @default {}
   */
  settings?: Readonly<Record<string, string | number | boolean>>;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Extra time past `timeoutMs` before the client kills a query itself. */
const GRACE_MS = 1000;

/** Error codes that mean the server refused the login or the database. */
const CONNECTION_CODES = new Set([
  "192", // UNKNOWN_USER
  "193", // WRONG_PASSWORD
  "194", // REQUIRED_PASSWORD
  "516", // AUTHENTICATION_FAILED
  "81", // UNKNOWN_DATABASE
  "497", // ACCESS_DENIED
]);

/** Error codes of a query stopped for taking too long. */
const TIMEOUT_CODES = new Set(["159", "394"]); // TIMEOUT_EXCEEDED, QUERY_WAS_CANCELLED

/**
 * Writes a value as ClickHouse reads a query parameter (its "escaped"
 * text form): backslashes, tabs and newlines escaped, NULL as `\N`.
 */
function parameterText(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  if (typeof value === "boolean") return value ? "true" : "false";
  return String(value)
    .replaceAll("\\", "\\\\")
    .replaceAll("\t", "\\t")
    .replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r")
    .replaceAll("\0", "\\0");
}

/**
 * Reads a ClickHouse URL: `clickhouse://user:pass@host:8123/db` (HTTP),
 * `clickhouses://...` or `clickhouse://...?secure=true` (HTTPS, port 8443 by
 * default). Other query parameters become settings.
 *
 * @param url The URL.
 * @returns The connection and the settings.
 * @throws {TypeError} When the URL cannot be read (the message hides the
 * password).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const { connection, settings } = parseClickHouseUrl(
 *   "clickhouse://kpi:s3cret@ch.internal:8123/analytics?max_threads=4",
 * );
 * assert.equal(connection.endpoint, "http://ch.internal:8123");
 * assert.equal(connection.database, "analytics");
 * assert.equal(connection.user, "kpi");
 * assert.equal(connection.password, "s3cret");
 * assert.deepEqual(settings, { max_threads: "4" });
 * assert.equal(parseClickHouseUrl("clickhouses://ch.example.com/db").connection.endpoint, "https://ch.example.com:8443");
 * ```
 */
export function parseClickHouseUrl(url: string): {
  connection: ClickHouseConnection;
  settings: Record<string, string>;
} {
  let parsed: URL;
  try {
    parsed = new URL(url.replace(/^clickhouses?:/i, "http:"));
  } catch {
    throw new TypeError(
      `Invalid ClickHouse URL "${
        hidePassword(url, undefined)
      }": expected clickhouse://user:password@host:8123/database or clickhouses://... for HTTPS`,
    );
  }
  const settings: Record<string, string> = {};
  let secure = /^clickhouses:/i.test(url);
  for (const [key, value] of parsed.searchParams) {
    if (key === "secure") secure = value === "true" || value === "1";
    else settings[key] = value;
  }
  const port = parsed.port || (secure ? "8443" : "8123");
  const database = decodeURIComponent(parsed.pathname.replace(/^\/+/, ""));
  const connection: ClickHouseConnection = {
    endpoint: `${secure ? "https" : "http"}://${parsed.hostname}:${port}`,
  };
  if (database !== "") connection.database = database;
  if (parsed.username !== "") {
    connection.user = decodeURIComponent(parsed.username);
  }
  if (parsed.password !== "") {
    connection.password = decodeURIComponent(parsed.password);
  }
  return { connection, settings };
}

/**
 * A client for one ClickHouse server. Each query is one POST with the SQL
 * as the body and, in the URL, the parameters (`param_p1=...`), the
 * database, `readonly=1`, `max_execution_time` (from the query's timeout),
 * `session_timezone` (the period's zone) and JSON output; the login travels
 * in the `X-ClickHouse-User` and `X-ClickHouse-Key` headers. A query whose
 * answer has not come a second after its timeout is aborted and killed on
 * the server (`KILL QUERY WHERE query_id = ...`).
 *
 * @param connection Endpoint, database and login.
 * @param options Extra settings and the `fetch` to use.
 * @returns The client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const client = clickhouseClient({ endpoint: "http://127.0.0.1:8123" });
 * assert.equal(client.dialect, "clickhouse");
 * await client.close();
 * ```
 */
export function clickhouseClient(
  connection: ClickHouseConnection,
  options: ClickHouseClientOptions = {},
): SqlClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const endpoint = new URL(connection.endpoint);
  const database = connection.database ?? "default";
  const user = connection.user ?? "default";
  const password = connection.password;
  const server = `${
    describeServer("ClickHouse", {
      host: endpoint.hostname,
      port: endpoint.port || (endpoint.protocol === "https:" ? "443" : "80"),
      database,
    })
  }, user "${user}"`;
  const headers: Record<string, string> = {
    "X-ClickHouse-User": user,
    "Content-Type": "text/plain; charset=utf-8",
  };
  if (password !== undefined) headers["X-ClickHouse-Key"] = password;
  const extra = options.settings ?? {};
  const pending = new Set<AbortController>();
  let closed = false;

  const post = async (
    sql: string,
    search: URLSearchParams,
    signal?: AbortSignal,
  ): Promise<Response> => {
    const url = new URL("/", endpoint);
    url.search = search.toString();
    return await doFetch(url, {
      method: "POST",
      headers,
      body: sql,
      ...(signal ? { signal } : {}),
    });
  };

  const kill = async (queryId: string): Promise<void> => {
    const search = new URLSearchParams({ param_id: queryId });
    try {
      const response = await post(
        "KILL QUERY WHERE query_id = {id:String} ASYNC",
        search,
      );
      await response.body?.cancel();
    } catch {
      // The server is gone or the query ended: nothing left to kill.
    }
  };

  // Every client here opens query() alike (the SqlClient signature, the
  // closed check, the timeout read); what follows is this driver's own, so
  // the clients share no more than that.
  return {
    dialect: "clickhouse",
    async query(
      text: string,
      params: readonly unknown[],
      queryOptions: SqlQueryOptions = {},
    ): Promise<unknown[][]> {
      if (closed) throw new Error("The ClickHouse client is closed");
      const timeoutMs = queryOptions.timeoutMs;
      const queryId = crypto.randomUUID();
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(extra)) {
        search.set(key, String(value));
      }
      search.set("database", database);
      search.set("query_id", queryId);
      search.set("default_format", "JSONCompact");
      search.set("output_format_json_quote_64bit_integers", "0");
      search.set("output_format_json_quote_decimals", "0");
      search.set("prefer_column_name_to_alias", "1");
      search.set("wait_end_of_query", "1");
      search.set("session_timezone", queryOptions.timezone ?? "UTC");
      if (timeoutMs !== undefined) {
        search.set(
          "max_execution_time",
          String(Math.max(0.001, timeoutMs / 1000)),
        );
        search.set("timeout_overflow_mode", "throw");
      }
      params.forEach((value, i) => {
        search.set(`param_p${i + 1}`, parameterText(value));
      });
      // Last, so that the settings above still apply.
      search.set("readonly", "1");
      const controller = new AbortController();
      pending.add(controller);
      let timer: ReturnType<typeof setTimeout> | undefined;
      let killed = false;
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          killed = true;
          controller.abort();
          void kill(queryId);
        }, timeoutMs + GRACE_MS);
      }
      let response: Response;
      let body: string;
      try {
        response = await post(text, search, controller.signal);
        body = await response.text();
      } catch (error) {
        if (killed) {
          throw new SqlTimeoutError(
            `Query canceled after ${timeoutMs} ms (timeout_ms): no answer in time, killed on the server (query_id ${queryId})`,
            { cause: error },
          );
        }
        if (closed) throw new Error("The ClickHouse client is closed");
        throw new SqlConnectionError(
          `Cannot connect to ${server}: ${
            hidePassword(
              error instanceof Error ? error.message : String(error),
              password,
            )
          }`,
          { cause: error },
        );
      } finally {
        clearTimeout(timer);
        pending.delete(controller);
      }
      if (!response.ok) {
        const code = response.headers.get("X-ClickHouse-Exception-Code") ??
          /^Code: (\d+)/.exec(body)?.[1] ?? "";
        const message = hidePassword(
          body.trim().split("\n")[0] ?? `HTTP ${response.status}`,
          password,
        );
        if (TIMEOUT_CODES.has(code)) {
          throw new SqlTimeoutError(
            `Query canceled after ${timeoutMs} ms (timeout_ms): ${message}`,
          );
        }
        if (
          CONNECTION_CODES.has(code) || response.status === 401 ||
          (response.status === 403 && code === "")
        ) {
          throw new SqlConnectionError(
            `Cannot connect to ${server}: ${message}`,
          );
        }
        throw new Error(message);
      }
      let parsed: { data?: unknown[][] };
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new Error(
          `ClickHouse answered with something other than JSON: ${
            JSON.stringify(body.slice(0, 200))
          }`,
        );
      }
      if (!Array.isArray(parsed.data)) {
        throw new Error(
          "ClickHouse answered without rows (a FORMAT clause in the query?)",
        );
      }
      return parsed.data;
    },
    close(): Promise<void> {
      closed = true;
      for (const controller of pending) controller.abort();
      return Promise.resolve();
    },
  };
}

/**
 * Opens a client from a `clickhouse://` or `clickhouses://` URL (see
 * {@linkcode parseClickHouseUrl}). Nothing is sent until the first query.
 *
 * @param url The URL.
 * @param options Extra settings and the `fetch` to use.
 * @returns The client.
 * @throws {TypeError} When the URL cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const client = openClickHouseClient("clickhouse://kpi:secret@127.0.0.1:8123/analytics");
 * assert.equal(client.dialect, "clickhouse");
 * await client.close();
 * ```
 */
export function openClickHouseClient(
  url: string,
  options: ClickHouseClientOptions = {},
): SqlClient {
  const { connection, settings } = parseClickHouseUrl(url);
  return clickhouseClient(connection, {
    ...options,
    settings: { ...settings, ...options.settings },
  });
}
