/**
 * The adapters: what touches the world, kept out of the pure core in
 * `mod.ts`. SQL clients for SQLite, PostgreSQL and MySQL/MariaDB, history
 * stores (SQLite, CSV, Deno KV, PostgreSQL), alert channels (Slack, email,
 * PagerDuty, webhook) with the notifier that routes, retries and remembers
 * alert state, the HTTP server over `Deno.serve`, the scheduler, and
 * `openEngine`, which reads a YAML file and opens what it names.
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

export {
  openSqlClient,
  type OpenSqlClientOptions,
} from "./sql/open_sql_client.ts";
export { processEnv } from "./runtime/process_env.ts";
export {
  openSqliteClient,
  type OpenSqliteClientOptions,
  sqliteClient,
  type SqliteClientOptions,
} from "./sql/sqlite/sqlite_client.ts";
export {
  openPostgresClient,
  type OpenPostgresClientOptions,
} from "./sql/postgres/postgres_client.ts";
export {
  mysqlClient,
  type MysqlClientOptions,
  type MysqlHandle,
  openMysqlClient,
  type OpenMysqlClientOptions,
} from "./sql/mysql/mysql_client.ts";
export {
  type AuditLog,
  type HistoryStoreKind,
  historyStoreKind,
  openHistoryStore,
  type OpenHistoryStoreOptions,
} from "./history/open_history_store.ts";
export {
  ALERT_CHANNEL_TYPES,
  createNotifier,
  type CreateNotifierOptions,
  type Notifier,
} from "./channels/create_notifier.ts";
export {
  type ChannelOptions,
  createSlackChannel,
} from "./channels/slack/create_slack_channel.ts";
export {
  createEmailChannel,
  type EmailChannelOptions,
} from "./channels/email/create_email_channel.ts";
export {
  createPagerDutyChannel,
  PAGERDUTY_EVENTS_URL,
} from "./channels/pagerduty/create_pagerduty_channel.ts";
export {
  createWebhookChannel,
  SIGNATURE_HEADER,
  signWebhookBody,
} from "./channels/webhook/create_webhook_channel.ts";
export { serve, type ServeOptions } from "./runtime/serve/serve.ts";
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
} from "./runtime/cron/run_schedule_until_signal.ts";
export {
  fromYaml,
  type FromYamlOptions,
  loadEngineOptions,
  openEngine,
  type OpenEngineOptions,
  openEngineOptions,
} from "./open_engine.ts";
export {
  type FireInfo,
  type ScheduledReport,
  type ScheduledRuns,
  type ScheduleEngine,
  type ScheduleOptions,
  scheduleRuns,
  type ScheduleStats,
  type SkipInfo,
} from "./runtime/cron/schedule_runs.ts";
