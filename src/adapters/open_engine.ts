/**
 * The door from a YAML file to a running engine: reads the file, validates
 * it and opens the database, history store and alert channels it names.
 * This is the part of loading that touches the world, so it lives with the
 * adapters and the core in `mod.ts` stays free of drivers.
 *
 * @module
 */

import { processEnv } from "./runtime/process_env.ts";
import { dirname, resolve } from "node:path";
import { parseKpis } from "../config/parse_kpis.ts";
import { KPIEngine, type KPIEngineOptions } from "../engine/kpi_engine.ts";
import type {
  AlertNotifier,
  AlertStateStore,
  DataFrameInput,
  HistoryStore,
  KPIConfig,
  SqlClient,
} from "../types.ts";
import { openSqlClient } from "./sql/open_sql_client.ts";
import { openHistoryStore } from "./history/open_history_store.ts";

/** Options of {@linkcode openEngine}. */
export interface OpenEngineOptions {
  /** A database URL or client; overrides the file's `connection`. @default the file's `connection` */
  connection?: string | SqlClient | unknown;
  /** Variables for `${VAR}` in the file. @default the process's, each read only when the file names it */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where history goes; overrides the file's `audit_log`. @default the file's `audit_log` */
  auditLog?: string | HistoryStore;
  /** In-memory tables for `dataframe` KPIs. @default {} */
  dataframes?: Readonly<Record<string, DataFrameInput>>;
  /** Alert notifier. @default one built from the file's `channels` */
  notifier?: AlertNotifier;
  /** The clock. @default Temporal.Now.instant */
  now?: () => Temporal.Instant;
}

/** The options of {@linkcode fromYaml}: the same as {@linkcode OpenEngineOptions}. */
export type FromYamlOptions = OpenEngineOptions;

/**
 * Loads a YAML file and opens the database, history store and alert
 * channels it names, giving a ready engine.
 *
 * Relative paths in the file (`connection: sqlite:./shop.db`,
 * `audit_log: history.db`) resolve against the file's folder.
 *
 * @param path The YAML file.
 * @param options Overrides for the connection, history and environment.
 * @returns A ready engine; call `close()` when done.
 * @throws {KPIConfigError} when the file is invalid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/kpis.yaml`, `
 * kpis:
 *   - name: orders
 *     source: dataframe
 *     query: orders.*
 *     aggregation: count
 * `);
 * const engine = await openEngine(`${dir}/kpis.yaml`, {
 *   dataframes: { orders: [{ at: "2024-11-02" }, { at: "2024-11-20" }] },
 * });
 * const [orders] = await engine.run("2024-11");
 * assert.equal(orders?.value, 2);
 * await engine.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openEngine(
  path: string,
  options: OpenEngineOptions = {},
): Promise<KPIEngine> {
  return new KPIEngine(await loadEngineOptions(path, options));
}

/**
 * The reference package's name for {@linkcode openEngine}: loads a YAML
 * file and opens what it names.
 *
 * @param path The YAML file.
 * @param options Overrides for the connection, history and environment.
 * @returns A ready engine; call `close()` when done.
 * @throws {KPIConfigError} when the file is invalid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/kpis.yaml`, `
 * kpis:
 *   - { name: signups, source: dataframe, query: users.*, aggregation: count }
 * `);
 * const engine = await fromYaml(`${dir}/kpis.yaml`, {
 *   dataframes: { users: [{ at: "2024-11-02" }] },
 * });
 * assert.equal((await engine.runKpi("signups", "2024-11")).value, 1);
 * await engine.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function fromYaml(
  path: string,
  options: FromYamlOptions = {},
): Promise<KPIEngine> {
  return openEngine(path, options);
}

/**
 * Reads a YAML file and opens the database, history store and alert
 * channels it names, giving the options of a `KPIEngine`.
 *
 * Relative paths in the file (`connection: sqlite:./shop.db`,
 * `audit_log: history.db`) resolve against the file's folder.
 *
 * @param path The YAML file.
 * @param options Overrides for the connection, history and environment.
 * @returns Engine options with every port opened.
 * @throws {KPIConfigError} when the file is invalid.
 */
export async function loadEngineOptions(
  path: string,
  options: OpenEngineOptions = {},
): Promise<KPIEngineOptions> {
  const text = await Deno.readTextFile(path);
  const config = parseKpis(text, {
    file: path,
    env: options.env ?? processEnv(),
  });
  return await openEngineOptions(config, {
    ...options,
    baseDir: dirname(resolve(path)),
  });
}

/**
 * Opens the ports a validated configuration names.
 *
 * @param config A validated configuration.
 * @param options Overrides, and the folder relative paths resolve against.
 * @returns Engine options with every port opened.
 */
export async function openEngineOptions(
  config: KPIConfig,
  options: OpenEngineOptions & { baseDir?: string } = {},
): Promise<KPIEngineOptions> {
  const baseDir = options.baseDir ?? Deno.cwd();
  const connection = options.connection ?? config.connection;
  let sql: SqlClient | undefined;
  if (connection !== undefined && connection !== null && connection !== "") {
    sql = await openSqlClient(connection, {
      baseDir: options.connection !== undefined ? Deno.cwd() : baseDir,
      ...(config.connectTimeoutMs !== undefined
        ? { connectTimeoutMs: config.connectTimeoutMs }
        : {}),
    });
  }
  let history: HistoryStore | undefined;
  try {
    const auditLog = options.auditLog ?? config.auditLog;
    if (typeof auditLog === "string") {
      history = await openHistoryStore(auditLog, {
        baseDir: options.auditLog !== undefined ? Deno.cwd() : baseDir,
        ...(config.connectTimeoutMs !== undefined
          ? { connectTimeoutMs: config.connectTimeoutMs }
          : {}),
      });
    } else if (auditLog !== undefined) {
      history = auditLog;
    }
  } catch (error) {
    await sql?.close();
    throw error;
  }
  // Channels are loaded only for a file that names some.
  const notifier = options.notifier ??
    (Object.keys(config.channels).length > 0
      ? (await import("./channels/create_notifier.ts")).createNotifier({
        channels: config.channels,
        ...(history && isAlertStateStore(history) ? { store: history } : {}),
      })
      : undefined);
  const engineOptions: KPIEngineOptions = { config };
  if (sql) engineOptions.sql = sql;
  if (history) engineOptions.history = history;
  if (notifier) engineOptions.notifier = notifier;
  if (options.dataframes) engineOptions.dataframes = options.dataframes;
  if (options.now) engineOptions.now = options.now;
  return engineOptions;
}

/**
 * Whether a history store also keeps alert state (every built-in one does).
 *
 * @param store A history store.
 * @returns True when it has the alert-state methods.
 */
export function isAlertStateStore(
  store: HistoryStore,
): store is HistoryStore & AlertStateStore {
  const candidate = store as Partial<AlertStateStore>;
  return typeof candidate.getAlertState === "function" &&
    typeof candidate.putAlertState === "function" &&
    typeof candidate.appendDeliveries === "function";
}
