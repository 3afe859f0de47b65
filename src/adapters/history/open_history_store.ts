/**
 * Opens the store an `audit_log` setting names: SQLite, CSV, Deno KV or
 * PostgreSQL. Every store keeps the history of runs, the alert state and
 * the alert deliveries, and passes the same tests.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import type { AuditLog, HistoryStoreKind } from "./_types.ts";

export type { AuditLog, HistoryStoreKind } from "./_types.ts";

/** Options of {@linkcode openHistoryStore}. */
export interface OpenHistoryStoreOptions {
  /**
   * The folder relative file paths resolve against, usually the folder of
   * the YAML file.
   * @default Deno.cwd()
   */
  baseDir?: string;
  /**
   * A KV handle to use for `kv:` targets instead of opening one; it stays
   * the caller's to close.
   */
  kv?: Deno.Kv;
  /**
   * SQLite: how long opening the store or a write waits for another
   * process's lock, in ms. @default connectTimeoutMs, else 5000
   */
  busyTimeoutMs?: number;
  /** PostgreSQL: the schema of the tables (else `?schema=`). @default "public" */
  schema?: string;
  /** PostgreSQL: the table name prefix (else `?table_prefix=`). @default "kpi_" */
  tablePrefix?: string;
  /**
   * PostgreSQL: how long opening a connection may take, in milliseconds.
   * SQLite: the busy timeout, unless `busyTimeoutMs` is given. CSV and Deno
   * KV do not use it (a CSV store waits for its file's lock as long as
   * another process holds it).
   * @default 5000
   */
  connectTimeoutMs?: number;
}

/** What a target string resolves to. */
interface ParsedTarget {
  kind: HistoryStoreKind;
  /** File path, `:memory:`, `""` (default KV) or the URL. */
  where: string;
}

const ACCEPTED =
  "a path ending in .db, .sqlite, .sqlite3 or .csv, sqlite:PATH, sqlite::memory:, csv:PATH, kv:PATH, kv: (the default KV), kv::memory:, or a postgres:// URL";

/**
 * Tells which kind of store an `audit_log` value names, without opening it.
 *
 * @param target The `audit_log` value.
 * @returns `sqlite`, `csv`, `kv` or `postgres`.
 * @throws {TypeError} When `target` is not a non-empty string.
 * @throws {RangeError} When `target` names no known store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(historyStoreKind("history.db"), "sqlite");
 * assert.equal(historyStoreKind("sqlite:./runs.sqlite"), "sqlite");
 * assert.equal(historyStoreKind("audit.csv"), "csv");
 * assert.equal(historyStoreKind("kv:./kpi.kv"), "kv");
 * assert.equal(historyStoreKind("kv:"), "kv");
 * assert.equal(historyStoreKind("postgres://db.example.com/kpi"), "postgres");
 * assert.throws(() => historyStoreKind("history.txt"), RangeError);
 * ```
 */
export function historyStoreKind(target: string): HistoryStoreKind {
  return parseTarget(target).kind;
}

/**
 * Opens the history store an `audit_log` value names:
 *
 * - `history.db`, `x.sqlite`, `sqlite:PATH`, `sqlite::memory:` → SQLite
 * - `audit.csv`, `csv:PATH` → CSV (with `audit.alerts.json` and
 *   `audit.deliveries.csv` beside it)
 * - `kv:PATH`, `kv:` (the default KV, as on Deno Deploy), `kv::memory:` →
 *   Deno KV
 * - `postgres://...`, `postgresql://...` → PostgreSQL
 *
 * Relative paths resolve against `baseDir`.
 *
 * @param target The `audit_log` value.
 * @param options Base folder, a KV handle, store settings.
 * @returns The open store; close it when done.
 * @throws {TypeError} When `target` is not a non-empty string.
 * @throws {RangeError} When `target` names no known store, or the store
 * holds history of a newer schema version.
 * @throws {Error} When the store cannot be opened or reached.
 *
 * @example An unknown target is refused
 * ```ts
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(openHistoryStore("history.txt"), RangeError);
 * ```
 *
 * @example Appending and reading back
 * ```ts ignore
 * const store = await openHistoryStore("history.db", { baseDir: "/srv/kpi" });
 * await store.append([{ runId, runAt, periodLabel: "last_month", result }]);
 * const last = await store.history("revenue", 10); // newest first
 * await store.close();
 * ```
 */
export async function openHistoryStore(
  target: string,
  options: OpenHistoryStoreOptions = {},
): Promise<AuditLog> {
  const { kind, where } = parseTarget(target);
  const base = options.baseDir ?? Deno.cwd();
  const path = (p: string) =>
    p === ":memory:" || isAbsolute(p) ? p : resolve(base, p);
  // Each store is loaded when named, so that a run loads one driver at most.
  switch (kind) {
    case "sqlite": {
      const { openSqliteHistoryStore } = await import(
        "./sqlite/open_sqlite_history_store.ts"
      );
      // Opening a SQLite file connects to nothing: what can make it (and
      // each write) wait is another process's lock, which the busy
      // timeout bounds.
      const busyTimeoutMs = options.busyTimeoutMs ?? options.connectTimeoutMs;
      const opts = busyTimeoutMs === undefined ? {} : { busyTimeoutMs };
      return await openSqliteHistoryStore(path(where), opts);
    }
    case "csv": {
      const { openCsvHistoryStore } = await import(
        "./csv/open_csv_history_store.ts"
      );
      return await openCsvHistoryStore(path(where));
    }
    case "kv": {
      const { openKvHistoryStore } = await import(
        "./kv/open_kv_history_store.ts"
      );
      if (options.kv !== undefined) {
        return await openKvHistoryStore(options.kv, {
          location: target,
          closeKv: false,
        });
      }
      const file = where === "" ? undefined : path(where);
      const openKv = (Deno as { openKv?: typeof Deno.openKv }).openKv;
      if (typeof openKv !== "function") {
        throw new Error(
          `Cannot open audit_log "${target}": Deno KV is an unstable API ` +
            'here. Run with --unstable-kv, or add "unstable": ["kv"] to ' +
            "deno.json (Deno Deploy has it on)",
        );
      }
      const kv = await openKv(file);
      return await openKvHistoryStore(kv, {
        location: file === undefined ? "kv:" : `kv:${file}`,
        closeKv: true,
      });
    }
    case "postgres": {
      const { openPostgresHistoryStore } = await import(
        "./postgres/open_postgres_history_store.ts"
      );
      const opts: {
        schema?: string;
        tablePrefix?: string;
        connectTimeoutMs?: number;
      } = {};
      if (options.connectTimeoutMs !== undefined) {
        opts.connectTimeoutMs = options.connectTimeoutMs;
      }
      if (options.schema !== undefined) opts.schema = options.schema;
      if (options.tablePrefix !== undefined) {
        opts.tablePrefix = options.tablePrefix;
      }
      return await openPostgresHistoryStore(where, opts);
    }
  }
}

function parseTarget(target: string): ParsedTarget {
  if (typeof target !== "string" || target.trim() === "") {
    throw new TypeError(
      `Expected audit_log to be a non-empty string, got ${
        JSON.stringify(target) ?? String(target)
      }`,
    );
  }
  const text = target.trim();
  const lower = text.toLowerCase();
  if (lower.startsWith("postgres://") || lower.startsWith("postgresql://")) {
    return { kind: "postgres", where: text };
  }
  if (!/^[a-z]:[\\/]/i.test(text)) {
    if (lower.startsWith("sqlite:")) {
      const rest = text.slice("sqlite:".length);
      const where = rest.startsWith("//") ? rest.slice(2) : rest;
      if (where === "") throw notAccepted(target);
      return { kind: "sqlite", where };
    }
    if (lower.startsWith("csv:")) {
      const where = text.slice("csv:".length);
      if (where === "") throw notAccepted(target);
      return { kind: "csv", where };
    }
    if (lower.startsWith("kv:")) {
      return { kind: "kv", where: text.slice("kv:".length) };
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw notAccepted(target);
  }
  if (/\.(db|sqlite|sqlite3)$/i.test(text)) {
    return { kind: "sqlite", where: text };
  }
  if (/\.csv$/i.test(text)) return { kind: "csv", where: text };
  throw notAccepted(target);
}

function notAccepted(target: string): RangeError {
  return new RangeError(
    `Cannot open audit_log "${target}": expected ${ACCEPTED}`,
  );
}
