/**
 * Opens a {@linkcode SqlClient} from a connection URL or wraps a database
 * handle the caller already holds. Drivers load on demand, so a user of one
 * backend never loads the others.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import type { SqlClient } from "../../types.ts";
import { SQL_DIALECTS } from "../../sql/_dialects.ts";

/** Options of {@linkcode openSqlClient}. */
export interface OpenSqlClientOptions {
  /**
   * The folder relative SQLite paths (`sqlite:./shop.db`) resolve against,
   * usually the folder of the YAML file that names them.
   *
   * @default the current working directory
   */
  baseDir?: string;
  /**
   * Most connections a PostgreSQL or MySQL pool opens.
   *
   * @default 10
   */
  maxConnections?: number;
  /**
   * Environment variables read for warehouse credentials (BigQuery's
   * `GOOGLE_APPLICATION_CREDENTIALS_JSON` or `GOOGLE_APPLICATION_CREDENTIALS`,
   * Snowflake's `SNOWFLAKE_PRIVATE_KEY` or `SNOWFLAKE_PRIVATE_KEY_PATH`).
   *
   * @default Deno.env.toObject(), read only when such a URL is opened
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * PostgreSQL and MySQL: how long opening a connection (including TLS and
   * the login) may take, in milliseconds.
   *
   * @default 5000
   */
  connectTimeoutMs?: number;
}

/**
 * Opens a SQL client.
 *
 * Accepted targets:
 * - `sqlite:./shop.db`, `sqlite:shop.db` (relative to `baseDir`),
 *   `sqlite:///abs/path.db` (absolute), `sqlite::memory:`, or a bare path
 *   ending in `.db`, `.sqlite` or `.sqlite3`. Files open read-only.
 * - `postgres://user:pass@host:5432/db` or `postgresql://...`, through the
 *   `postgres` package.
 * - `mysql://user:pass@host:3306/db` or `mariadb://...`, through `mysql2`.
 * - `duckdb:./shop.duckdb` (relative to `baseDir`, opened read-only),
 *   `duckdb:///abs/shop.duckdb` or `duckdb::memory:` (to read Parquet, CSV
 *   or JSON files in place), through `@duckdb/node-api` (not on Deno
 *   Deploy).
 * - `clickhouse://user:pass@host:8123/db` (HTTP) or `clickhouses://...`
 *   (HTTPS), through ClickHouse's HTTP interface with `fetch`.
 * - `bigquery://PROJECT[/DATASET]?location=EU&maximum_bytes_billed=N`,
 *   through BigQuery's REST API with `fetch` and a service account key.
 * - `snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=ROLE`,
 *   through Snowflake's SQL API v2 with `fetch` and key-pair authentication.
 * - A handle the caller holds: a `postgres` sql instance, a `mysql2` pool
 *   or connection (promise or callback flavor), a `node:sqlite`
 *   `DatabaseSync`: closing the returned client leaves such a handle open,
 *   its owner closes it. An object that already is a `SqlClient` is
 *   returned as is.
 *
 * PostgreSQL and MySQL pools connect on first use, so a wrong host shows up
 * as an error on the first query; that error names host and database, never
 * the password.
 *
 * @param target A URL or a database handle.
 * @param options Where relative SQLite paths resolve, pool size.
 * @returns The client.
 * @throws {TypeError} When the target is neither a known URL nor a handle.
 * @throws {Error} When a SQLite file cannot be opened.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const client = await openSqlClient("sqlite::memory:");
 * assert.equal(client.dialect, "sqlite");
 * assert.deepEqual(await client.query("SELECT ? * 2", [21]), [[42]]);
 * await client.close();
 * ```
 */
export async function openSqlClient(
  target: string | unknown,
  options: OpenSqlClientOptions = {},
): Promise<SqlClient> {
  if (typeof target === "string") return await openUrl(target.trim(), options);
  if (isSqlClient(target)) return target;
  if (
    target !== null &&
    (typeof target === "object" || typeof target === "function")
  ) {
    const handle = target as Record<string, unknown>;
    if (
      typeof handle["prepare"] === "function" &&
      typeof handle["exec"] === "function" && "isOpen" in handle
    ) {
      const { sqliteClient } = await import("./sqlite/sqlite_client.ts");
      return sqliteClient(target as never, { owned: false });
    }
    if (
      typeof target === "function" && typeof handle["unsafe"] === "function" &&
      typeof handle["begin"] === "function"
    ) {
      const { postgresClient } = await import("./postgres/postgres_client.ts");
      return postgresClient(target as never, { owned: false });
    }
    if (
      typeof handle["execute"] === "function" &&
      typeof handle["query"] === "function"
    ) {
      const { mysqlClient } = await import("./mysql/mysql_client.ts");
      return mysqlClient(target as never, { owned: false });
    }
  }
  throw new TypeError(
    `Cannot use ${
      describeTarget(target)
    } as a database: expected a URL (${URL_FORMS}), a postgres sql instance, a mysql2 pool or a node:sqlite DatabaseSync`,
  );
}

function isSqlClient(target: unknown): target is SqlClient {
  if (target === null || typeof target !== "object") return false;
  const client = target as Partial<SqlClient>;
  return SQL_DIALECTS.includes(client.dialect as SqlClient["dialect"]) &&
    typeof client.query === "function" && typeof client.close === "function";
}

function describeTarget(target: unknown): string {
  if (target === null) return "null";
  if (typeof target === "object") {
    return `an object of type ${target.constructor?.name ?? "Object"}`;
  }
  return `a ${typeof target}`;
}

/**
 * The SQLite file a `sqlite:` URL or bare `.db`/`.sqlite`/`.sqlite3` path
 * names: relative paths resolve against `baseDir`, `sqlite:///abs/x.db` is
 * absolute, `sqlite::memory:` is `:memory:`.
 *
 * @param url The URL or path.
 * @param baseDir The folder relative paths resolve against. @default the current working directory
 * @returns The path, `:memory:`, or null when the URL is not SQLite's.
 * @throws {TypeError} When a `sqlite://` URL names a host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(sqlitePath("sqlite:./shop.db", "/srv/kpis"), "/srv/kpis/shop.db");
 * assert.equal(sqlitePath("sqlite:///var/data/shop.db"), "/var/data/shop.db");
 * assert.equal(sqlitePath("sqlite::memory:"), ":memory:");
 * assert.equal(sqlitePath("postgres://db/x"), null);
 * ```
 */
export function sqlitePath(url: string, baseDir?: string): string | null {
  let rest: string;
  if (/^sqlite:/i.test(url)) rest = url.slice("sqlite:".length);
  else if (
    /\.(db|sqlite|sqlite3)$/i.test(url) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)
  ) {
    rest = url;
  } else return null;
  if (rest === ":memory:" || rest === "//:memory:" || rest === "") {
    return ":memory:";
  }
  if (rest.startsWith("//")) {
    // sqlite:///abs/path.db (an empty host) or sqlite:////abs/path.db.
    const path = rest.slice(2);
    if (!path.startsWith("/")) {
      throw new TypeError(
        `Invalid SQLite URL "${url}": expected sqlite:./relative.db, sqlite:///absolute/path.db or sqlite::memory:`,
      );
    }
    return decodeURIComponent(path.replace(/^\/+/, "/"));
  }
  const path = decodeURIComponent(rest);
  return isAbsolute(path) ? path : resolve(baseDir ?? Deno.cwd(), path);
}

async function openUrl(
  url: string,
  options: OpenSqlClientOptions,
): Promise<SqlClient> {
  const path = sqlitePath(url, options.baseDir);
  if (path !== null) {
    const { openSqliteClient } = await import("./sqlite/sqlite_client.ts");
    return await openSqliteClient(path);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "clickhouse" || scheme === "clickhouses") {
    const { openClickHouseClient } = await import(
      "./clickhouse/clickhouse_client.ts"
    );
    return openClickHouseClient(url);
  }
  // One branch per driver, alike in shape: each imports its driver only
  // when a URL of its kind is opened, by a literal path Deno can resolve.
  if (scheme === "bigquery") {
    const { openBigQueryClient } = await import(
      "./bigquery/bigquery_client.ts"
    );
    return await openBigQueryClient(
      url,
      setOptions(options, ["baseDir", "env"]),
    );
  }
  if (scheme === "snowflake") {
    const { openSnowflakeClient } = await import(
      "./snowflake/snowflake_client.ts"
    );
    return await openSnowflakeClient(
      url,
      setOptions(options, ["baseDir", "env"]),
    );
  }
  if (scheme === "duckdb") {
    const { duckdbPath, openDuckDBClient } = await import(
      "./duckdb/duckdb_client.ts"
    );
    return await openDuckDBClient(
      duckdbPath(url, options.baseDir) as string,
      setOptions(options, ["baseDir"]),
    );
  }
  const poolOptions = setOptions(options, [
    "maxConnections",
    "connectTimeoutMs",
  ]);
  if (scheme === "postgres" || scheme === "postgresql") {
    const { openPostgresClient } = await import(
      "./postgres/postgres_client.ts"
    );
    return openPostgresClient(url, poolOptions);
  }
  if (scheme === "mysql" || scheme === "mariadb") {
    const { openMysqlClient } = await import("./mysql/mysql_client.ts");
    return openMysqlClient(url, poolOptions);
  }
  throw new TypeError(
    `Unsupported database URL ${
      JSON.stringify(redact(url))
    }: expected one starting with ${URL_FORMS}`,
  );
}

const URL_FORMS = [
  "sqlite:",
  "postgres://",
  "postgresql://",
  "mysql://",
  "mariadb://",
  "duckdb:",
  "clickhouse://",
  "clickhouses://",
  "bigquery://",
  "snowflake://",
].join(", ");

/**
 * The named options that are set: what a client's own options take, where
 * an option left out and one set to `undefined` are not the same.
 */
function setOptions<T extends object, K extends keyof T>(
  options: T,
  keys: readonly K[],
): { [P in K]?: Exclude<T[P], undefined> } {
  const out: { [P in K]?: Exclude<T[P], undefined> } = {};
  for (const key of keys) {
    const value = options[key];
    if (value !== undefined) out[key] = value as Exclude<T[K], undefined>;
  }
  return out;
}

/** Hides the password of a URL. */
function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}
