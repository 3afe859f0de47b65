/**
 * A {@linkcode SqlClient} over DuckDB, embedded through `@duckdb/node-api`:
 * a database file opened read-only, or an in-memory database reading
 * Parquet, CSV or JSON files in place. The driver is a native addon, so it
 * runs wherever Deno loads npm addons, but not on Deno Deploy.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import type { SqlClient, SqlQueryOptions } from "../../../types.ts";
import { SqlConnectionError, SqlTimeoutError } from "../../../sql/_errors.ts";

/** Options of {@linkcode openDuckDBClient}. */
export interface OpenDuckDBClientOptions {
  /**
   * The folder relative paths resolve against: the database file of
   * `duckdb:./shop.duckdb`, and the files a query reads in place
   * (`read_parquet('events/*.parquet')`).
   *
   * @default the current working directory
   */
  baseDir?: string;
  /**
   * Worker threads of the database.
   *
   * @default DuckDB's own choice (the number of cores)
   */
  threads?: number;
}

/** The parts of `@duckdb/node-api` this client uses. */
interface DuckDBModule {
  DuckDBInstance: {
    create(
      path: string,
      options?: Record<string, string>,
    ): Promise<DuckDBInstance>;
  };
  StatementType: { SELECT: number } & Record<number, string>;
}

interface DuckDBInstance {
  connect(): Promise<DuckDBConnection>;
  closeSync(): void;
}

interface DuckDBConnection {
  run(sql: string): Promise<unknown>;
  prepare(sql: string): Promise<DuckDBPrepared>;
  interrupt(): void;
  closeSync(): void;
}

interface DuckDBPrepared {
  readonly statementType: number;
  bind(values: unknown[]): void;
  runAndReadAll(): Promise<{ getRows(): unknown[][] }>;
}

/**
 * The DuckDB database a `duckdb:` URL names: relative paths resolve against
 * `baseDir`, `duckdb::memory:` (or `duckdb:`) is in memory.
 *
 * @param url The URL.
 * @param baseDir The folder relative paths resolve against. @default the current working directory
 * @returns The absolute path, `:memory:`, or null when the URL is not DuckDB's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(duckdbPath("duckdb:./shop.duckdb", "/srv/kpis"), "/srv/kpis/shop.duckdb");
 * assert.equal(duckdbPath("duckdb:///var/data/shop.duckdb"), "/var/data/shop.duckdb");
 * assert.equal(duckdbPath("duckdb::memory:"), ":memory:");
 * assert.equal(duckdbPath("sqlite:shop.db"), null);
 * ```
 */
export function duckdbPath(url: string, baseDir?: string): string | null {
  if (!/^duckdb:/i.test(url)) return null;
  let rest = url.slice("duckdb:".length);
  if (rest === ":memory:" || rest === "" || rest === "//:memory:") {
    return ":memory:";
  }
  if (rest.startsWith("//")) rest = rest.slice(2).replace(/^\/+/, "/");
  const path = decodeURIComponent(rest);
  return isAbsolute(path) ? path : resolve(baseDir ?? Deno.cwd(), path);
}

/** Loads the driver, saying why when it cannot be loaded. */
async function loadDriver(): Promise<DuckDBModule> {
  const onDeploy = (() => {
    try {
      return Deno.env.get("DENO_DEPLOYMENT_ID") !== undefined;
    } catch {
      return false;
    }
  })();
  const unavailable =
    "DuckDB is not available on Deno Deploy: its driver (@duckdb/node-api) is a native addon, which Deploy cannot load. Use ClickHouse, BigQuery, Snowflake or PostgreSQL there, or run the engine where native addons load";
  if (onDeploy) throw new Error(unavailable);
  try {
    return await import("@duckdb/node-api") as unknown as DuckDBModule;
  } catch (error) {
    throw new Error(
      `Cannot load DuckDB's driver (@duckdb/node-api, a native addon): ${
        error instanceof Error ? error.message : String(error)
      }. ${unavailable}`,
      { cause: error },
    );
  }
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Turns DuckDB's value objects into plain numbers and strings. */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  const v = value as { toDouble?: () => number; toString(): string };
  if (typeof v.toDouble === "function") return v.toDouble();
  return v.toString();
}

/**
 * Opens DuckDB: a file read-only (it must exist; other processes may read it
 * too, while a process writing to it must wait until the client is closed),
 * or `:memory:`. Every query runs on its own connection with the period's
 * time zone (`SET TimeZone`, through the bundled ICU extension) and the
 * base folder as `file_search_path`; only SELECT statements run, and a query
 * past its timeout is interrupted.
 *
 * @param path An absolute path, or `:memory:` (see {@linkcode duckdbPath}).
 * @param options Base folder and threads.
 * @returns The client.
 * @throws {SqlConnectionError} When the file cannot be opened, naming it.
 * @throws {Error} When the driver cannot be loaded (on Deno Deploy: always).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const client = await openDuckDBClient(":memory:");
 * assert.equal(client.dialect, "duckdb");
 * assert.deepEqual(await client.query("SELECT ? * 2", [21]), [[42]]);
 * await client.close();
 * ```
 */
export async function openDuckDBClient(
  path: string,
  options: OpenDuckDBClientOptions = {},
): Promise<SqlClient> {
  const duckdb = await loadDriver();
  const memory = path === ":memory:";
  const baseDir = options.baseDir ?? Deno.cwd();
  const config: Record<string, string> = {};
  if (!memory) config["access_mode"] = "READ_ONLY";
  if (options.threads !== undefined) {
    config["threads"] = String(options.threads);
  }
  const where = memory ? "in-memory DuckDB" : `DuckDB file ${path}`;
  let instance: DuckDBInstance;
  try {
    instance = await duckdb.DuckDBInstance.create(path, config);
  } catch (error) {
    throw new SqlConnectionError(
      `Cannot open ${where}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
  let closed = false;
  // Every client here opens query() alike (the SqlClient signature, the
  // closed check, the timeout read); what follows is this driver's own, so
  // the clients share no more than that.
  return {
    dialect: "duckdb",
    async query(
      text: string,
      params: readonly unknown[],
      queryOptions: SqlQueryOptions = {},
    ): Promise<unknown[][]> {
      if (closed) throw new Error("The DuckDB client is closed");
      const timeoutMs = queryOptions.timeoutMs;
      const connection = await instance.connect();
      let timer: ReturnType<typeof setTimeout> | undefined;
      let timedOut = false;
      try {
        await connection.run(
          `SET TimeZone = ${literal(queryOptions.timezone ?? "UTC")}`,
        );
        await connection.run(`SET file_search_path = ${literal(baseDir)}`);
        const prepared = await connection.prepare(text);
        if (prepared.statementType !== duckdb.StatementType.SELECT) {
          throw new Error(
            `Only SELECT statements run: the engine's queries are read-only, and this is a ${
              duckdb.StatementType[prepared.statementType] ?? "non-SELECT"
            } statement`,
          );
        }
        prepared.bind([...params]);
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            timedOut = true;
            connection.interrupt();
          }, timeoutMs);
        }
        const reader = await prepared.runAndReadAll();
        return reader.getRows().map((row) => row.map(plain));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (timedOut || /\bInterrupted\b/i.test(message)) {
          throw new SqlTimeoutError(
            `Query canceled after ${timeoutMs} ms (timeout_ms): ${message}`,
            { cause: error },
          );
        }
        throw error;
      } finally {
        clearTimeout(timer);
        connection.closeSync();
      }
    },
    close(): Promise<void> {
      if (!closed) {
        closed = true;
        instance.closeSync();
      }
      return Promise.resolve();
    },
  };
}
