/**
 * The SQLite history store: one file (or `:memory:`), WAL journal, a busy
 * timeout so that several processes can write at once, every append in one
 * `BEGIN IMMEDIATE` transaction.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import type { AlertState, DeliveryRecord, KPIResult } from "../../../types.ts";
import type { AuditLog } from "../_types.ts";
import {
  ALERT_STATE_COLUMNS,
  type AlertStateRow,
  DELIVERY_COLUMNS,
  type DeliveryRow,
  fromAlertStateRow,
  fromDeliveryRow,
  fromHistoryRow,
  HISTORY_COLUMNS,
  HISTORY_SCHEMA_VERSION,
  type HistoryRow,
  type LooseRow,
  toHistoryRow,
} from "../_row.ts";
import { type HistoryRows, rowHistoryStore } from "../_row_store.ts";
import { fromLegacyRow, isLegacyHistoryColumns } from "../_legacy.ts";
import { StatementCache } from "../../sql/sqlite/_statement_cache.ts";
import { claimCutoff } from "../_claims.ts";

/** Options of {@linkcode openSqliteHistoryStore}. */
export interface SqliteHistoryStoreOptions {
  /**
   * How long a writer waits for another process's lock before failing, in
   * milliseconds (`PRAGMA busy_timeout`).
   * @default 5000
   */
  busyTimeoutMs?: number;
}

/** Tables that the reference package or early versions may have written. */
const LEGACY_TABLES = [
  "audit_log",
  "kpi_audit_log",
  "kpi_audit",
  "kpi_results",
  "kpi_history",
];

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS kpi_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kpi_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  run_at TEXT NOT NULL,
  period_label TEXT NOT NULL,
  kpi_name TEXT NOT NULL,
  label TEXT NOT NULL,
  unit TEXT,
  value REAL,
  period_start TEXT NOT NULL,
  period_end TEXT NOT NULL,
  mom_change_pct REAL,
  yoy_change_pct REAL,
  alert_status TEXT NOT NULL,
  query_duration_ms REAL NOT NULL,
  error TEXT,
  note TEXT,
  comparisons TEXT NOT NULL,
  alerts_triggered TEXT NOT NULL,
  extra TEXT
);
CREATE INDEX IF NOT EXISTS kpi_history_by_name
  ON kpi_history (kpi_name, run_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS kpi_alert_state (
  kpi TEXT NOT NULL,
  rule TEXT NOT NULL,
  status TEXT NOT NULL,
  severity TEXT NOT NULL,
  period_start TEXT NOT NULL,
  period_end TEXT NOT NULL,
  channels TEXT NOT NULL,
  first_fired_at TEXT NOT NULL,
  last_sent_at TEXT NOT NULL,
  PRIMARY KEY (kpi, rule)
);
CREATE TABLE IF NOT EXISTS kpi_alert_delivery (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  at TEXT NOT NULL,
  kpi TEXT NOT NULL,
  rule TEXT NOT NULL,
  status TEXT NOT NULL,
  channel TEXT NOT NULL,
  ok INTEGER NOT NULL,
  http_status INTEGER,
  attempts INTEGER NOT NULL,
  error TEXT
);
CREATE INDEX IF NOT EXISTS kpi_alert_delivery_by_kpi
  ON kpi_alert_delivery (kpi, at DESC, id DESC);
`;

const INSERT_HISTORY = `INSERT INTO kpi_history (${
  HISTORY_COLUMNS.join(", ")
}) VALUES (${HISTORY_COLUMNS.map(() => "?").join(", ")})`;

const UPSERT_ALERT_STATE = `INSERT INTO kpi_alert_state (${
  ALERT_STATE_COLUMNS.join(", ")
}) VALUES (${ALERT_STATE_COLUMNS.map(() => "?").join(", ")})
ON CONFLICT (kpi, rule) DO UPDATE SET ${
  ALERT_STATE_COLUMNS.filter((c) => c !== "kpi" && c !== "rule")
    .map((c) => `${c} = excluded.${c}`).join(", ")
}`;

const INSERT_DELIVERY = `INSERT INTO kpi_alert_delivery (${
  DELIVERY_COLUMNS.join(", ")
}) VALUES (${DELIVERY_COLUMNS.map(() => "?").join(", ")})`;

/**
 * Opens (creating if needed) a SQLite history store. A file written by an
 * older layout (version 0, e.g. the reference package's `audit_log` table)
 * is upgraded on open: its rows are copied into the current tables and the
 * old table is left as it was.
 *
 * @param path A file path, or `:memory:`.
 * @param options Busy timeout.
 * @returns The open store.
 * @throws {RangeError} When the file was written by a newer schema version.
 * @throws {Error} When the file cannot be opened or holds a foreign
 * `kpi_history` table.
 *
 * @example In memory
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const store = await openSqliteHistoryStore(":memory:");
 * assert.equal(store.kind, "sqlite");
 * assert.deepEqual(await store.history("revenue", 10), []);
 * await store.close();
 * ```
 */
export function openSqliteHistoryStore(
  path: string,
  options: SqliteHistoryStoreOptions = {},
): Promise<AuditLog> {
  return run(() => {
    if (typeof path !== "string" || path === "") {
      throw new TypeError(
        `Expected a SQLite file path or ":memory:", got ${
          JSON.stringify(path)
        }`,
      );
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new RangeError(
        `Cannot use busyTimeoutMs ${busyTimeoutMs}: expected a whole number of milliseconds, 0 or more`,
      );
    }
    const db = new DatabaseSync(path);
    try {
      db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
      if (path !== ":memory:") {
        db.prepare("PRAGMA journal_mode = WAL").get();
        db.exec("PRAGMA synchronous = NORMAL");
      }
      prepareSchema(db, path);
      // Added beside schema version 1: older files get it on open.
      db.exec(CREATE_CLAIMS);
    } catch (error) {
      db.close();
      throw error;
    }
    return rowHistoryStore("sqlite", path, new SqliteRows(db));
  });
}

/** How the SQLite store writes and reads rows. */
class SqliteRows implements HistoryRows {
  #db: DatabaseSync;
  #statements: StatementCache;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#statements = new StatementCache(db);
  }

  append(rows: readonly HistoryRow[]): void {
    transaction(this.#db, () => {
      const insert = this.#statements.get(INSERT_HISTORY);
      for (const row of rows) {
        insert.run(...HISTORY_COLUMNS.map((c) => row[c]));
      }
    });
  }

  replace(rows: readonly HistoryRow[]): void {
    transaction(this.#db, () => {
      const remove = this.#db.prepare(
        "DELETE FROM kpi_history WHERE kpi_name = ? AND period_start = ? AND period_end = ?",
      );
      const insert = this.#db.prepare(INSERT_HISTORY);
      for (const row of rows) {
        remove.run(row.kpi_name, row.period_start, row.period_end);
        insert.run(...HISTORY_COLUMNS.map((c) => row[c]));
      }
    });
  }

  history(name: string, n: number): KPIResult[] {
    const rows = this.#statements.get(
      `SELECT * FROM kpi_history WHERE kpi_name = ?
       ORDER BY run_at DESC, id DESC LIMIT ?`,
    ).all(name, n) as LooseRow[];
    return rows.map(fromHistoryRow);
  }

  getAlertState(kpi: string, rule: string): AlertState | null {
    const row = this.#statements.get(
      "SELECT * FROM kpi_alert_state WHERE kpi = ? AND rule = ?",
    ).get(kpi, rule) as LooseRow | undefined;
    return row === undefined ? null : fromAlertStateRow(row);
  }

  putAlertState(row: AlertStateRow): void {
    this.#statements.get(UPSERT_ALERT_STATE).run(
      ...ALERT_STATE_COLUMNS.map((c) => row[c]),
    );
  }

  appendDeliveries(rows: readonly DeliveryRow[]): void {
    transaction(this.#db, () => {
      const insert = this.#statements.get(INSERT_DELIVERY);
      for (const row of rows) {
        insert.run(
          ...DELIVERY_COLUMNS.map((c) =>
            c === "ok" ? (row.ok ? 1 : 0) : row[c]
          ),
        );
      }
    });
  }

  deliveries(kpi: string, n: number): DeliveryRecord[] {
    const rows = this.#statements.get(
      `SELECT * FROM kpi_alert_delivery WHERE kpi = ?
       ORDER BY at DESC, id DESC LIMIT ?`,
    ).all(kpi, n) as LooseRow[];
    return rows.map(fromDeliveryRow);
  }

  claimNotice(key: string, at: string): boolean {
    const { changes } = this.#statements.get(
      "INSERT OR IGNORE INTO kpi_alert_claim (key, claimed_at) VALUES (?, ?)",
    ).run(key, at);
    const claimed = Number(changes) === 1;
    const cutoff = claimCutoff(at);
    if (claimed && cutoff !== null) {
      this.#statements.get(
        "DELETE FROM kpi_alert_claim WHERE julianday(claimed_at) < julianday(?)",
      ).run(cutoff);
    }
    return claimed;
  }

  ping(): void {
    this.#statements.get("SELECT 1").get();
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}

/** Notices claimed for sending, one row per notice (see `claimNotice`). */
const CREATE_CLAIMS = `CREATE TABLE IF NOT EXISTS kpi_alert_claim (
  key TEXT PRIMARY KEY,
  claimed_at TEXT NOT NULL
)`;

/** Runs synchronous work, turning a throw into a rejection. */
function run<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

function transaction(db: DatabaseSync, work: () => void): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    work();
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

function readVersion(db: DatabaseSync): number | null {
  const meta = db.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kpi_meta'",
  ).get();
  if (meta === undefined) return null;
  const row = db.prepare(
    "SELECT value FROM kpi_meta WHERE key = 'schema_version'",
  ).get() as { value: string } | undefined;
  return row === undefined ? null : Number(row.value);
}

function checkVersion(version: number, path: string): void {
  if (!(version <= HISTORY_SCHEMA_VERSION)) {
    throw new RangeError(
      `Cannot read history "${path}" of schema version ${version}: this kpi-engine reads versions 0 to ${HISTORY_SCHEMA_VERSION}; upgrade kpi-engine`,
    );
  }
}

function prepareSchema(db: DatabaseSync, path: string): void {
  const seen = readVersion(db);
  if (seen !== null) {
    checkVersion(seen, path);
    if (seen === HISTORY_SCHEMA_VERSION) return;
  }
  transaction(db, () => {
    const version = readVersion(db);
    if (version !== null) {
      checkVersion(version, path);
      if (version === HISTORY_SCHEMA_VERSION) return;
    }
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all() as { name: string }[]).map((r) => r.name),
    );
    const legacy: string[] = [];
    for (const table of LEGACY_TABLES) {
      if (!tables.has(table)) continue;
      const columns = (db.prepare(`PRAGMA table_info("${table}")`).all() as {
        name: string;
      }[]).map((c) => c.name);
      const isV1 = HISTORY_COLUMNS.every((c) => columns.includes(c));
      if (table === "kpi_history" && isV1) continue;
      if (isLegacyHistoryColumns(columns)) {
        if (table === "kpi_history") {
          db.exec(`ALTER TABLE kpi_history RENAME TO kpi_history_v0`);
          legacy.push("kpi_history_v0");
        } else {
          legacy.push(table);
        }
      } else if (table === "kpi_history") {
        throw new Error(
          `Cannot use "${path}" as audit_log: its table kpi_history was not written by kpi-engine (columns ${
            columns.join(", ")
          })`,
        );
      }
    }
    db.exec(SCHEMA_V1);
    const insert = db.prepare(INSERT_HISTORY);
    for (const table of legacy) {
      for (const old of db.prepare(`SELECT * FROM "${table}"`).all()) {
        const record = fromLegacyRow(old as LooseRow);
        if (record === null) continue;
        const row = toHistoryRow(record);
        insert.run(...HISTORY_COLUMNS.map((c) => row[c]));
      }
    }
    db.prepare(
      `INSERT INTO kpi_meta (key, value) VALUES ('schema_version', ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(String(HISTORY_SCHEMA_VERSION));
  });
}
