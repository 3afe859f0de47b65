/**
 * The adapters: what touches the world, kept out of the pure core in
 * `mod.ts`. SQL clients for SQLite, PostgreSQL and MySQL/MariaDB, history
 * stores (SQLite, CSV, Deno KV, PostgreSQL), alert channels (Slack, email,
 * PagerDuty, webhook) with the notifier that routes, retries and remembers
 * alert state, the HTTP server over `Deno.serve` and the foreground
 * scheduler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KPIEngine } from "../../mod.ts";
 *
 * const history = await openHistoryStore("kv::memory:");
 * const engine = new KPIEngine({
 *   kpis: [{ name: "orders", source: "dataframe", query: "orders.*", aggregation: "count" }],
 *   dataframes: { orders: [{ at: "2024-11-02" }, { at: "2024-11-03" }] },
 *   history,
 * });
 * await engine.run("2024-11");
 * const [last] = await engine.history("orders", 1);
 * assert.equal(last?.value, 2);
 * await engine.close();
 * ```
 *
 * @module
 */

export { openSqlClient, type OpenSqlClientOptions } from "./open_sql_client.ts";
export {
  openSqliteClient,
  type OpenSqliteClientOptions,
  sqliteClient,
  type SqliteClientOptions,
} from "./sqlite/sqlite_client.ts";
export {
  openPostgresClient,
  type OpenPostgresClientOptions,
} from "./postgres/postgres_client.ts";
export {
  mysqlClient,
  type MysqlClientOptions,
  type MysqlHandle,
  openMysqlClient,
  type OpenMysqlClientOptions,
} from "./mysql/mysql_client.ts";
export {
  type AuditLog,
  type HistoryStoreKind,
  historyStoreKind,
  openHistoryStore,
  type OpenHistoryStoreOptions,
} from "./open_history_store.ts";
export {
  ALERT_CHANNEL_TYPES,
  createNotifier,
  type CreateNotifierOptions,
  type Notifier,
} from "./create_notifier.ts";
export {
  type ChannelOptions,
  createSlackChannel,
} from "./slack/create_slack_channel.ts";
export {
  createEmailChannel,
  type EmailChannelOptions,
} from "./email/create_email_channel.ts";
export {
  createPagerDutyChannel,
  PAGERDUTY_EVENTS_URL,
} from "./pagerduty/create_pagerduty_channel.ts";
export {
  createWebhookChannel,
  SIGNATURE_HEADER,
  signWebhookBody,
} from "./webhook/create_webhook_channel.ts";
export { serve, type ServeOptions } from "./deno_serve/serve.ts";
export type {
  CreateAppOptions,
  HealthCheck,
  KPIApp,
  ServerCacheOptions,
  ServerEngine,
  ServerRunOptions,
  ServerRunReport,
} from "../server/create_app.ts";
export {
  runScheduleUntilSignal,
  type RunScheduleUntilSignalOptions,
} from "./deno_cron/run_schedule_until_signal.ts";
export { loadEngineOptions, openEngineOptions } from "./load_engine_options.ts";
