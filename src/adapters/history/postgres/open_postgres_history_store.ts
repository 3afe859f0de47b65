/**
 * The PostgreSQL history store, for history shared by several engine
 * instances. Tables are created if missing, in a schema and with a name
 * prefix of the caller's choosing; every append is one transaction.
 *
 * @module
 */

import postgres from "postgres";
import type { AlertState, KPIResult } from "../../../types.ts";
import type { AuditLog } from "../_types.ts";
// Each store names the parts of the row vocabulary (_row.ts) it uses;
// the lists read alike because the stores keep the same tables.
import {
  ALERT_STATE_COLUMNS,
  type AlertStateRow,
  DELIVERY_COLUMNS,
  type DeliveryRow,
  fromAlertStateRow,
  fromHistoryRow,
  HISTORY_COLUMNS,
  HISTORY_SCHEMA_VERSION,
  type HistoryRow,
  type LooseRow,
} from "../_row.ts";
import { type HistoryRows, rowHistoryStore } from "../_row_store.ts";
import { beginTransaction } from "../../sql/postgres/_begin_transaction.ts";
import { describeServer, hidePassword } from "../../../sql/_errors.ts";
import { claimCutoff } from "../_claims.ts";

/** Options of {@linkcode openPostgresHistoryStore}. */
export interface PostgresHistoryStoreOptions {
  /**
   * The schema that holds the tables; created if missing. The URL's
   * `?schema=` sets it too; this option wins.
   * @default "public"
   */
  schema?: string;
  /**
   * What every table name starts with (`kpi_history`, `kpi_alert_state`,
   * ...). The URL's `?table_prefix=` sets it too; this option wins.
   * @default "kpi_"
   */
  tablePrefix?: string;
  /** Most connections the store's pool opens. @default 4 */
  maxConnections?: number;
  /**
   * How long opening a connection (TCP, TLS and the login) may take, in
   * milliseconds. @default 5000
   */
  connectTimeoutMs?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ROWS_PER_INSERT = 500;
/** A `\u0000` escape in JSON text (not one preceded by an escaped `\`). */
const JSON_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g;

/**
 * Casts of parameters whose column type is not text. JSON goes as text
 * (`text::jsonb`): the driver would encode a string bound as jsonb again.
 */
const HISTORY_CASTS: Partial<Record<string, string>> = {
  run_at: "timestamptz",
  value: "float8",
  mom_change_pct: "float8",
  yoy_change_pct: "float8",
  query_duration_ms: "float8",
  comparisons: "text::jsonb",
  alerts_triggered: "text::jsonb",
  extra: "text::jsonb",
};

const DELIVERY_CASTS: Partial<Record<string, string>> = {
  at: "timestamptz",
  ok: "boolean",
  http_status: "int4",
  attempts: "int4",
};

/**
 * Opens a PostgreSQL history store, creating its schema and tables if they
 * are missing (under an advisory lock, so that engines starting together
 * do not race).
 *
 * @param url A `postgres://` or `postgresql://` URL, optionally with
 * `?schema=NAME&table_prefix=PREFIX` (removed before connecting).
 * @param options Schema, table prefix, pool size.
 * @returns The open store.
 * @throws {RangeError} When the URL is not a PostgreSQL URL, a name is not
 * a plain identifier, or the tables hold a newer schema version.
 * @throws {Error} When the server cannot be reached.
 *
 * @example A URL of another database is refused before connecting
 * ```ts
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   openPostgresHistoryStore("mysql://root@127.0.0.1/test"),
 *   RangeError,
 * );
 * ```
 */
export async function openPostgresHistoryStore(
  url: string,
  options: PostgresHistoryStoreOptions = {},
): Promise<AuditLog> {
  const target = parseTarget(url, options);
  const sql = postgres(target.url, {
    max: options.maxConnections ?? 4,
    onnotice: () => {},
    connect_timeout: (options.connectTimeoutMs ?? 5000) / 1000,
  });
  const tables = tableNames(target.schema, target.prefix);
  try {
    await prepareSchema(sql, target.schema, target.prefix, tables, target);
  } catch (error) {
    await sql.end({ timeout: 0 });
    if (error instanceof RangeError) throw error;
    throw new Error(
      `Cannot open the history store (audit_log: ${target.server}, tables ${target.schema}.${target.prefix}*): ${
        hidePassword(
          String((error as Error)?.message ?? error),
          target.password,
        )
      }`,
      { cause: error },
    );
  }
  return rowHistoryStore(
    "postgres",
    target.location,
    new PostgresRows(sql, tables),
  );
}

interface Target {
  url: string;
  location: string;
  schema: string;
  prefix: string;
  /** Kind, host, port and database, for messages. */
  server: string;
  /** The password, to scrub from messages. */
  password: string | undefined;
}

interface Tables {
  claim: string;
  meta: string;
  history: string;
  alertState: string;
  delivery: string;
}

function parseTarget(
  url: string,
  options: PostgresHistoryStoreOptions,
): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(
      `Cannot open PostgreSQL history "${url}": expected a postgres:// or postgresql:// URL`,
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new RangeError(
      `Cannot open PostgreSQL history "${parsed.protocol}//...": expected a postgres:// or postgresql:// URL`,
    );
  }
  const schema = options.schema ?? parsed.searchParams.get("schema") ??
    "public";
  const prefix = options.tablePrefix ??
    parsed.searchParams.get("table_prefix") ?? "kpi_";
  parsed.searchParams.delete("schema");
  parsed.searchParams.delete("table_prefix");
  if (!IDENTIFIER.test(schema)) {
    throw new RangeError(
      `Cannot use schema "${schema}" for history: expected letters, digits and _ not starting with a digit`,
    );
  }
  if (prefix !== "" && !IDENTIFIER.test(prefix)) {
    throw new RangeError(
      `Cannot use table prefix "${prefix}" for history: expected letters, digits and _ not starting with a digit`,
    );
  }
  if (schema.length > 63 || prefix.length > 40) {
    throw new RangeError(
      `Cannot use schema "${schema}" and table prefix "${prefix}": expected at most 63 and 40 characters`,
    );
  }
  const shown = new URL(parsed.href);
  if (shown.password !== "") shown.password = "***";
  const server = describeServer("PostgreSQL", {
    host: parsed.hostname || "localhost",
    port: parsed.port || "5432",
    database: decodeURIComponent(parsed.pathname.slice(1)) ||
      decodeURIComponent(parsed.username),
  });
  const password = decodeURIComponent(parsed.password) || undefined;
  return {
    url: parsed.href,
    location: shown.href,
    schema,
    prefix,
    server,
    password,
  };
}

function tableNames(schema: string, prefix: string): Tables {
  const q = (name: string) => `"${schema}"."${prefix}${name}"`;
  return {
    claim: q("alert_claim"),
    meta: q("meta"),
    history: q("history"),
    alertState: q("alert_state"),
    delivery: q("alert_delivery"),
  };
}

async function prepareSchema(
  sql: postgres.Sql,
  schema: string,
  prefix: string,
  t: Tables,
  target: Target,
): Promise<void> {
  await beginTransaction(sql, "", async (tx) => {
    await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext($1))", [
      `kpi-engine history ${schema}.${prefix}`,
    ]);
    const [meta] = await tx.unsafe(
      "SELECT to_regclass($1) IS NOT NULL AS present",
      [t.meta],
    );
    if (meta?.present) {
      const [row] = await tx.unsafe(
        `SELECT value FROM ${t.meta} WHERE key = $1`,
        ["schema_version"],
      );
      const version = Number(row?.value ?? 0);
      if (!(version <= HISTORY_SCHEMA_VERSION)) {
        throw new RangeError(
          `Cannot read history "${target.location}" (${schema}.${prefix}*) of schema version ${version}: this kpi-engine reads versions up to ${HISTORY_SCHEMA_VERSION}; upgrade kpi-engine`,
        );
      }
      if (version === HISTORY_SCHEMA_VERSION) {
        // Added beside schema version 1: older tables get it on open.
        await tx.unsafe(createClaims(t));
        return;
      }
    }
    const [space] = await tx.unsafe(
      "SELECT 1 AS present FROM pg_namespace WHERE nspname = $1",
      [schema],
    );
    if (!space) await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    // One statement per table, alike in shape: the columns are what differ
    // (the same tables as the SQLite store's SCHEMA_V1, in PostgreSQL types).
    await tx.unsafe(`
      CREATE TABLE IF NOT EXISTS ${t.meta} (
        key text PRIMARY KEY,
        value text NOT NULL
      )`);
    await tx.unsafe(`
      CREATE TABLE IF NOT EXISTS ${t.history} (
        id bigserial PRIMARY KEY,
        run_id text NOT NULL,
        run_at timestamptz NOT NULL,
        period_label text NOT NULL,
        kpi_name text NOT NULL,
        label text NOT NULL,
        unit text,
        value double precision,
        period_start text NOT NULL,
        period_end text NOT NULL,
        mom_change_pct double precision,
        yoy_change_pct double precision,
        alert_status text NOT NULL,
        query_duration_ms double precision NOT NULL,
        error text,
        note text,
        comparisons jsonb NOT NULL,
        alerts_triggered jsonb NOT NULL,
        extra jsonb
      )`);
    await tx.unsafe(
      `CREATE INDEX IF NOT EXISTS "${prefix}history_by_name"
       ON ${t.history} (kpi_name, run_at DESC, id DESC)`,
    );
    await tx.unsafe(`
      CREATE TABLE IF NOT EXISTS ${t.alertState} (
        kpi text NOT NULL,
        rule text NOT NULL,
        status text NOT NULL,
        severity text NOT NULL,
        period_start text NOT NULL,
        period_end text NOT NULL,
        channels jsonb NOT NULL,
        first_fired_at text NOT NULL,
        last_sent_at text NOT NULL,
        PRIMARY KEY (kpi, rule)
      )`);
    await tx.unsafe(`
      CREATE TABLE IF NOT EXISTS ${t.delivery} (
        id bigserial PRIMARY KEY,
        run_id text NOT NULL,
        at timestamptz NOT NULL,
        kpi text NOT NULL,
        rule text NOT NULL,
        status text NOT NULL,
        channel text NOT NULL,
        ok boolean NOT NULL,
        http_status integer,
        attempts integer NOT NULL,
        error text
      )`);
    await tx.unsafe(
      `CREATE INDEX IF NOT EXISTS "${prefix}alert_delivery_by_kpi"
       ON ${t.delivery} (kpi, at DESC, id DESC)`,
    );
    await tx.unsafe(createClaims(t));
    await tx.unsafe(
      `INSERT INTO ${t.meta} (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      ["schema_version", String(HISTORY_SCHEMA_VERSION)],
    );
  });
}

/** Notices claimed for sending, one row per notice (see `claimNotice`). */
function createClaims(t: Tables): string {
  return `CREATE TABLE IF NOT EXISTS ${t.claim} (
    key text PRIMARY KEY,
    claimed_at timestamptz NOT NULL
  )`;
}

/** How the PostgreSQL store writes and reads rows. */
class PostgresRows implements HistoryRows {
  readonly #sql: postgres.Sql;
  readonly #t: Tables;

  constructor(sql: postgres.Sql, tables: Tables) {
    this.#sql = sql;
    this.#t = tables;
  }

  async append(rows: readonly HistoryRow[]): Promise<void> {
    await beginTransaction(this.#sql, "", async (tx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const batch = rows.slice(i, i + ROWS_PER_INSERT);
        const [text, params] = insertStatement(
          this.#t.history,
          HISTORY_COLUMNS,
          HISTORY_CASTS,
          batch.map((row) => HISTORY_COLUMNS.map((c) => row[c])),
        );
        await tx.unsafe(text, params);
      }
    });
  }

  async replace(rows: readonly HistoryRow[]): Promise<void> {
    await this.#sql.begin(async (tx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const batch = rows.slice(i, i + ROWS_PER_INSERT);
        await tx.unsafe(
          `DELETE FROM ${this.#t.history} AS h USING unnest($1::text[], $2::text[], $3::text[]) AS d(k, s, e)
           WHERE h.kpi_name = d.k AND h.period_start = d.s AND h.period_end = d.e`,
          [
            batch.map((r) => r.kpi_name),
            batch.map((r) => r.period_start),
            batch.map((r) => r.period_end),
          ] as never[],
        );
        const [text, params] = insertStatement(
          this.#t.history,
          HISTORY_COLUMNS,
          HISTORY_CASTS,
          batch.map((row) => HISTORY_COLUMNS.map((c) => row[c])),
        );
        await tx.unsafe(text, params);
      }
    });
  }

  async history(name: string, n: number): Promise<KPIResult[]> {
    const rows = await this.#sql.unsafe(
      `SELECT ${
        HISTORY_COLUMNS.map((c) =>
          HISTORY_CASTS[c] === "text::jsonb" ? `${c}::text AS ${c}` : c
        ).join(", ")
      } FROM ${this.#t.history} WHERE kpi_name = $1
      ORDER BY run_at DESC, id DESC LIMIT $2`,
      [name, n],
    );
    return rows.map((row) => fromHistoryRow(row as LooseRow));
  }

  async getAlertState(kpi: string, rule: string): Promise<AlertState | null> {
    const [row] = await this.#sql.unsafe(
      `SELECT ${
        ALERT_STATE_COLUMNS.map((c) =>
          c === "channels" ? "channels::text AS channels" : c
        ).join(", ")
      } FROM ${this.#t.alertState} WHERE kpi = $1 AND rule = $2`,
      [kpi, rule],
    );
    return row === undefined ? null : fromAlertStateRow(row as LooseRow);
  }

  async putAlertState(row: AlertStateRow): Promise<void> {
    const [text, params] = insertStatement(
      this.#t.alertState,
      ALERT_STATE_COLUMNS,
      { channels: "text::jsonb" },
      [ALERT_STATE_COLUMNS.map((c) => row[c])],
    );
    await this.#sql.unsafe(
      `${text} ON CONFLICT (kpi, rule) DO UPDATE SET ${
        ALERT_STATE_COLUMNS.filter((c) => c !== "kpi" && c !== "rule")
          .map((c) => `${c} = EXCLUDED.${c}`).join(", ")
      }`,
      params,
    );
  }

  async appendDeliveries(rows: readonly DeliveryRow[]): Promise<void> {
    await beginTransaction(this.#sql, "", async (tx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const [text, params] = insertStatement(
          this.#t.delivery,
          DELIVERY_COLUMNS,
          DELIVERY_CASTS,
          rows.slice(i, i + ROWS_PER_INSERT).map((row) =>
            DELIVERY_COLUMNS.map((c) => row[c])
          ),
        );
        await tx.unsafe(text, params);
      }
    });
  }

  async deliveries(kpi: string, n: number): Promise<LooseRow[]> {
    return await this.#sql.unsafe(
      `SELECT ${DELIVERY_COLUMNS.join(", ")} FROM ${this.#t.delivery}
       WHERE kpi = $1 ORDER BY at DESC, id DESC LIMIT $2`,
      [kpi, n],
    ) as LooseRow[];
  }

  async claimNotice(key: string, at: string): Promise<boolean> {
    // The primary key makes the first INSERT win; later ones insert nothing.
    const rows = await this.#sql.unsafe(
      `INSERT INTO ${this.#t.claim} (key, claimed_at)
       VALUES ($1, $2::timestamptz) ON CONFLICT (key) DO NOTHING RETURNING 1`,
      [key.replaceAll("\u0000", "\uFFFD"), at],
    );
    const cutoff = claimCutoff(at);
    if (rows.length === 1 && cutoff !== null) {
      await this.#sql.unsafe(
        `DELETE FROM ${this.#t.claim} WHERE claimed_at < $1::timestamptz`,
        [cutoff],
      );
    }
    return rows.length === 1;
  }

  async ping(): Promise<void> {
    await this.#sql.unsafe("SELECT 1");
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
  }
}

/**
 * A multi-row INSERT with every value a bound parameter. PostgreSQL text
 * cannot hold NUL characters, so they are replaced by U+FFFD.
 */
function insertStatement(
  table: string,
  columns: readonly string[],
  casts: Partial<Record<string, string>>,
  rows: readonly unknown[][],
): [string, postgres.ParameterOrJSON<never>[]] {
  const params: postgres.ParameterOrJSON<never>[] = [];
  const tuples = rows.map((row) =>
    `(${
      row.map((value, i) => {
        const cast = casts[columns[i]!];
        params.push(
          (typeof value !== "string"
            ? value
            : cast === "text::jsonb"
            ? value.replace(JSON_NUL, "$1\\uFFFD")
            : value.replaceAll("\u0000", "\uFFFD")) as postgres.ParameterOrJSON<
              never
            >,
        );
        return cast === undefined
          ? `$${params.length}`
          : `$${params.length}::${cast}`;
      }).join(", ")
    })`
  );
  return [
    `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${tuples.join(", ")}`,
    params,
  ];
}
