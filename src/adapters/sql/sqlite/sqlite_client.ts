/**
 * A {@linkcode SqlClient} over `node:sqlite`: the embedded database.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import type { SqlClient, SqlQueryOptions } from "../../../types.ts";
import { StatementCache } from "./_statement_cache.ts";

/** Options of {@linkcode openSqliteClient}. */
export interface OpenSqliteClientOptions {
  /**
   * Open the file read-only. A database that does not exist is then an
   * error rather than a new empty file.
   *
   * @default true
   */
  readOnly?: boolean;
}

/** Options of {@linkcode sqliteClient}. */
export interface SqliteClientOptions {
  /**
   * Whether `close()` closes the database. Leave it false for a database
   * the caller keeps using.
   *
   * @default false
   */
  owned?: boolean;
}

/**
 * Wraps an open `node:sqlite` database. Each query runs with
 * `PRAGMA query_only` switched on, so it cannot write; the previous
 * setting is restored afterwards. Queries run synchronously on the calling
 * thread: `node:sqlite` cannot interrupt a statement, so `timeoutMs` is not
 * enforced on SQLite.
 *
 * @param db The database.
 * @param options Whether the client owns (and closes) it.
 * @returns The client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseSync } from "node:sqlite";
 *
 * const db = new DatabaseSync(":memory:");
 * const client = sqliteClient(db, { owned: true });
 * assert.deepEqual(await client.query("SELECT ? + 1", [41]), [[42]]);
 * await assert.rejects(client.query("CREATE TABLE t (x)", []), /readonly|read-only|query_only/i);
 * await client.close();
 * ```
 */
export function sqliteClient(
  db: DatabaseSync,
  options: SqliteClientOptions = {},
): SqlClient {
  const owned = options.owned ?? false;
  const statements = new StatementCache(db);
  let closed = false;
  return {
    dialect: "sqlite",
    query(
      sql: string,
      params: readonly unknown[],
      _options?: SqlQueryOptions,
    ): Promise<unknown[][]> {
      try {
        if (closed) throw new Error("The SQLite client is closed");
        const previous = statements.get("PRAGMA query_only").get() as
          | Record<string, unknown>
          | undefined;
        const wasOn = Number(previous?.["query_only"] ?? 0) === 1;
        if (!wasOn) db.exec("PRAGMA query_only = ON");
        try {
          const statement = statements.get(sql);
          // Typed in newer @types/node; present in Deno's node:sqlite.
          (statement as unknown as {
            setReturnArrays(enabled: boolean): void;
          }).setReturnArrays(true);
          statement.setReadBigInts(true);
          const rows = statement.all(
            ...(params as (string | number | bigint | null | Uint8Array)[]),
          ) as unknown as unknown[][];
          return Promise.resolve(rows.map((row) => row.map(fromSqlite)));
        } finally {
          if (!wasOn) db.exec("PRAGMA query_only = OFF");
        }
      } catch (error) {
        return Promise.reject(error);
      }
    },
    close(): Promise<void> {
      if (!closed) {
        closed = true;
        statements.clear();
        if (owned && db.isOpen) db.close();
      }
      return Promise.resolve();
    },
  };
}

/** Integers come back as bigint; those a number holds exactly become numbers. */
function fromSqlite(value: unknown): unknown {
  if (
    typeof value === "bigint" && value >= Number.MIN_SAFE_INTEGER &&
    value <= Number.MAX_SAFE_INTEGER
  ) {
    return Number(value);
  }
  return value;
}

/**
 * Opens a SQLite file (or `:memory:`) and wraps it; `close()` closes it.
 *
 * @param path The file, or `:memory:`.
 * @param options Whether to open read-only.
 * @returns The client.
 * @throws {Error} When the file cannot be opened, naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const client = await openSqliteClient(":memory:");
 * assert.deepEqual(await client.query("SELECT 1.5", []), [[1.5]]);
 * await client.close();
 * ```
 */
export function openSqliteClient(
  path: string,
  options: OpenSqliteClientOptions = {},
): Promise<SqlClient> {
  const memory = path === ":memory:" || path === "";
  const readOnly = !memory && (options.readOnly ?? true);
  try {
    const db = new DatabaseSync(memory ? ":memory:" : path, { readOnly });
    return Promise.resolve(sqliteClient(db, { owned: true }));
  } catch (error) {
    const reason = readOnly && missing(path)
      ? "the file does not exist (relative paths in a KPI file resolve against its folder, in --db against the current one)"
      : error instanceof Error
      ? error.message
      : String(error);
    return Promise.reject(
      new Error(`Cannot open SQLite database "${path}": ${reason}`, {
        cause: error,
      }),
    );
  }
}

/** Whether nothing is at `path` (a read-only open creates no file). */
function missing(path: string): boolean {
  try {
    Deno.statSync(path);
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotFound;
  }
}
