/**
 * The ports: every interface through which the pure core is handed what
 * touches the world, in one place. The engine computes; a SQL client, a
 * history store (which also keeps alert state), an alert notifier with its
 * channels, a clock and a cron registrar are passed in. The adapters in
 * `@kpi-engine/kpi-engine/adapters` implement them for SQLite, PostgreSQL,
 * MySQL, CSV, Deno KV, Slack, email, PagerDuty and webhooks; write your own
 * against the same interfaces.
 *
 * A SQL client written outside this package throws {@linkcode SqlTimeoutError}
 * when a query ran out of time and {@linkcode SqlConnectionError} when the
 * database could not be reached: the engine then does not re-run the query
 * in smaller pieces, and the KPI's error says which it was.
 *
 * @example A SQL client of your own
 * ```ts
 * import assert from "node:assert/strict";
 * import { KPIEngine } from "@kpi-engine/kpi-engine";
 * import { type SqlClient, SqlConnectionError } from "./ports.ts";
 *
 * const offline: SqlClient = {
 *   dialect: "postgres",
 *   query: () => Promise.reject(new SqlConnectionError("Cannot reach the warehouse")),
 *   close: () => Promise.resolve(),
 * };
 * const engine = new KPIEngine({
 *   kpis: [{ name: "orders", source: "sql", table: "orders", column: "*", aggregation: "count", timeColumn: "at" }],
 *   sql: offline,
 * });
 * const [orders] = await engine.run("2024-11");
 * assert.match(orders?.error ?? "", /Cannot reach the warehouse/);
 * ```
 *
 * @module
 */

import type { AlertDrivers } from "./types.ts";

import type {
  AlertDelivery,
  AlertRule,
  ComparisonCode,
  ComparisonResult,
  KPIDefinition,
  KPIResult,
  Period,
  Severity,
  TriggeredAlert,
} from "./types.ts";

// SQL

/** A SQL dialect the engine can write for. */
export type SqlDialect =
  | "sqlite"
  | "postgres"
  | "mysql"
  | "duckdb"
  | "clickhouse"
  | "bigquery"
  | "snowflake";

/** Options for one SQL query. */
export interface SqlQueryOptions {
  /** Cancel the query on the server after this many milliseconds. */
  timeoutMs?: number;
  /**
   * IANA time zone the session runs in, so that date strings compared with
   * zoned timestamps cut days in it (ignored where the dialect has none).
   */
  timezone?: string;
  /**
   * The zone's UTC offset (`-04:00`) where the query's periods start, for a
   * server that has no data for `timezone` (MySQL without its time zone
   * tables) to use instead.
   */
  utcOffset?: string;
}

/** A connection (or pool) to a SQL database, as the engine needs it. */
export interface SqlClient {
  /** Which SQL the client speaks. */
  readonly dialect: SqlDialect;
  /**
   * Runs one read-only statement with positional parameters written in the
   * dialect's placeholder style and returns its rows as arrays of values.
   */
  query(
    sql: string,
    params: readonly unknown[],
    options?: SqlQueryOptions,
  ): Promise<unknown[][]>;
  /**
   * The bytes a statement would read, from a dry run that does not run it
   * (BigQuery has one); absent where the database has none. `--explain`
   * prints it beside each query.
   */
  estimateBytes?(
    sql: string,
    params: readonly unknown[],
    options?: SqlQueryOptions,
  ): Promise<number>;
  /** Releases the connection or pool. */
  close(): Promise<void>;
}

/** A query canceled because it ran longer than its timeout. */
export class SqlTimeoutError extends Error {
  /** Wraps the reason; `cause` keeps the driver's error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SqlTimeoutError";
  }
}

/** A database that could not be reached or refused the login. */
export class SqlConnectionError extends Error {
  /** Wraps the reason; `cause` keeps the driver's error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SqlConnectionError";
  }
}

// History and alert state

/** One KPI result as kept by a history store. */
export interface HistoryRecord {
  /** Identifies the run the result came from. */
  runId: string;
  /** When the run happened, ISO instant. */
  runAt: string;
  /** The period label the run was asked for. */
  periodLabel: string;
  /** The result. */
  result: KPIResult;
}

/** Where runs are kept: `audit_log`. */
export interface HistoryStore {
  /** Appends every result of one run. */
  append(records: readonly HistoryRecord[]): Promise<void>;
  /** The last `n` results of one KPI, newest first. */
  history(name: string, n: number): Promise<KPIResult[]>;
  /**
   * Replaces the rows of the same KPI and period (start and end) with these
   * records, in one transaction; what `backfill` uses. Stores without it
   * get the records appended, and `history(name, { grain })` reads the
   * latest per period.
   */
  replace?(records: readonly HistoryRecord[]): Promise<void>;
  /** Releases files or connections. */
  close(): Promise<void>;
}

/** Whether an alert is currently held to be firing or has cleared. */
export type AlertStateStatus = "firing" | "resolved";

/** What a history store remembers of one KPI's alert rule. */
export interface AlertState {
  /** KPI name. */
  kpi: string;
  /** Identifies the rule within the KPI (see `ruleId`). */
  rule: string;
  /** Firing or resolved. */
  status: AlertStateStatus;
  /** Severity the rule had when it last fired. */
  severity: Severity;
  /** First day of the period the rule last held for. */
  periodStart: string;
  /** First day after that period. */
  periodEnd: string;
  /** Channels that were told, by name. */
  channels: string[];
  /** When the rule started to hold, ISO instant. */
  firstFiredAt: string;
  /** When a notification was last sent, ISO instant. */
  lastSentAt: string;
}

/** One delivery attempt outcome, as kept by a history store. */
export interface DeliveryRecord {
  /** The run that sent it. */
  runId: string;
  /** When it was sent, ISO instant. */
  at: string;
  /** KPI name. */
  kpi: string;
  /** Rule id within the KPI. */
  rule: string;
  /** Whether it announced a firing or a resolved alert. */
  status: AlertStateStatus;
  /** The outcome. */
  delivery: AlertDelivery;
}

/** Where alert state lives; every history store is one. */
export interface AlertStateStore {
  /** The remembered state of one KPI's rule, or null. */
  getAlertState(kpi: string, rule: string): Promise<AlertState | null>;
  /** Replaces the remembered state of one KPI's rule. */
  putAlertState(state: AlertState): Promise<void>;
  /** Appends delivery outcomes. */
  appendDeliveries(records: readonly DeliveryRecord[]): Promise<void>;
  /**
   * Claims the sending of one notice, atomically across every process that
   * shares the store: resolves true for the first claim of `key` and false
   * for every later one, so that of several engines (or overlapping cron
   * runs) exactly one sends it. Every built-in store has it; a store
   * without it cannot keep instances from sending the same notice.
   *
   * @param key Names the notice: its dedup key, status and the state it
   * moves on from.
   * @param at When it is claimed, ISO instant.
   * @returns Whether this caller claimed it.
   */
  claimNotice?(key: string, at: string): Promise<boolean>;
}

// Alerts

/** One alert rule of one KPI, evaluated for a run. */
export interface RuleEvaluation {
  /** The rule. */
  rule: AlertRule;
  /** Stable id of the rule within its KPI: `severity:condition`. */
  ruleId: string;
  /** Whether the condition held. */
  holds: boolean;
  /** The triggered alert on the result (message rendered), when it holds. */
  triggered: TriggeredAlert | null;
}

/** What the engine hands the alert notifier after a run. */
export interface AlertBatch {
  /** Identifies the run. */
  runId: string;
  /** When the run happened, ISO instant. */
  runAt: string;
  /** The period that was computed. */
  period: Period;
  /** Every KPI that has alert rules, with its result and rule outcomes. */
  items: {
    definition: KPIDefinition;
    result: KPIResult;
    rules: RuleEvaluation[];
  }[];
}

/** What a notifier did for one rule that holds, in one run. */
export interface RuleDeliveries {
  /** KPI name. */
  kpi: string;
  /** The rule's id within the KPI (`severity:condition`). */
  ruleId: string;
  /**
   * One entry per routed channel when the alert was sent this run; `[]`
   * when it had already been sent (or nothing was due).
   */
  deliveries: AlertDelivery[];
}

/**
 * Sends alerts: given a batch, notifies channels and says what it sent.
 * The batch is read, never written: the engine puts the returned
 * deliveries on new results before history is written.
 */
export interface AlertNotifier {
  /**
   * Notifies channels for one run.
   *
   * @param batch The run's KPIs with their results and rule outcomes.
   * @returns The deliveries of each rule that holds (a dry run returns `[]`).
   */
  notify(batch: AlertBatch): Promise<RuleDeliveries[]>;
}

/** A history store that also keeps alert state. */
export interface HistoryAndAlertStore extends HistoryStore, AlertStateStore {}

/** One alert notice, as handed to every channel. */
export interface AlertMessage {
  /** `firing` when the rule holds, `resolved` when it stopped holding. */
  status: AlertStateStatus;
  /** Whether this is a reminder of an alert already sent (`repeat_interval`). */
  repeat: boolean;
  /** The KPI. */
  kpi: { name: string; label: string; unit: string | null };
  /** The KPI's value in the period, or null. */
  value: number | null;
  /** The period computed: its label and `[start, end)` ISO days. */
  period: { label: string; start: string; end: string };
  /** The rule's severity. */
  severity: Severity;
  /** The rule's condition. */
  condition: string;
  /** The rule's id within the KPI (`severity:condition`). */
  rule: string;
  /** The rendered message. */
  message: string;
  /** The result's comparisons by code. */
  comparisons: Partial<Record<ComparisonCode, ComparisonResult>>;
  /** The segments that explain the change, when the KPI has dimensions. */
  drivers?: AlertDrivers;
  /** Ties a firing notice to its resolve notice (see `alertDedupKey`). */
  dedupKey: string;
  /** The run that sent it. */
  runId: string;
  /** When the run happened, ISO instant. */
  runAt: string;
}

/** What one attempt to send a message to a channel came to. */
export interface AlertSendResult {
  /** Whether the channel accepted the message. */
  ok: boolean;
  /** HTTP status or SMTP reply code, or null when there was no reply. */
  status: number | null;
  /**
   * Whether trying again may help. When absent, the notifier decides from
   * `status`: 429, 5xx and no reply are retried, anything else is not.
   */
  retryable?: boolean;
  /** The `Retry-After` header as received, if any. */
  retryAfter?: string | null;
  /** Why it failed, with secrets already removed. */
  error?: string | null;
}

/** Something alerts can be sent to. */
export interface AlertChannel {
  /** The channel's name, as used in a rule's `channels: [...]`. */
  readonly name: string;
  /** The kind of channel, e.g. `slack`; shown in dry runs. */
  readonly type: string;
  /**
   * Sends one message. Resolves with the outcome of the attempt; a rejection
   * counts as a network error (retried). Must stop when `signal` aborts.
   */
  send(message: AlertMessage, signal: AbortSignal): Promise<AlertSendResult>;
  /** What `send` would transmit, secrets hidden, for dry runs. */
  preview?(message: AlertMessage): unknown;
}

// Clock and scheduling

/** The clock the engine reads "now" from (relative periods, run times). */
export type Clock = () => Temporal.Instant;

/** The signature of `Deno.cron` with options, as the scheduler calls it. */
export type CronRegistrar = (
  name: string,
  schedule: string,
  options: { signal?: AbortSignal; backoffSchedule?: number[] },
  handler: () => Promise<void> | void,
) => Promise<void>;

/** The clock and timers the timer loop uses. */
export interface SchedulerClock {
  /** The current instant. */
  now(): Temporal.Instant;
  /** Calls `callback` once after `delayMs` milliseconds; returns a handle. */
  setTimer(callback: () => void, delayMs: number): unknown;
  /** Cancels a timer set by `setTimer`. */
  clearTimer(handle: unknown): void;
}
