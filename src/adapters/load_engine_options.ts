import { dirname, resolve } from "node:path";
import { parseKpis } from "../parse_kpis.ts";
import type { FromYamlOptions, KPIEngineOptions } from "../kpi_engine.ts";
import type {
  AlertStateStore,
  HistoryStore,
  KPIConfig,
  SqlClient,
} from "../types.ts";
import { openSqlClient } from "./open_sql_client.ts";
import { openHistoryStore } from "./open_history_store.ts";
import { createNotifier } from "./create_notifier.ts";

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
  options: FromYamlOptions = {},
): Promise<KPIEngineOptions> {
  const text = await Deno.readTextFile(path);
  const config = parseKpis(text, {
    file: path,
    env: options.env ?? Deno.env.toObject(),
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
  options: FromYamlOptions & { baseDir?: string } = {},
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
  const notifier = options.notifier ??
    (Object.keys(config.channels).length > 0
      ? createNotifier({
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
