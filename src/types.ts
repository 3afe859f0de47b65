/**
 * The plain interfaces the public API speaks in: KPI definitions, periods,
 * results and the small ports (SQL client, history store, alert notifier)
 * that the engine is handed instead of opening anything itself.
 *
 * @module
 */

import type {
  AnomalyBaseline,
  AnomalySettings,
} from "./anomaly/compute_baseline.ts";
import type { PaceMethod, TargetStatus } from "./targets/compute_pace.ts";
import type { Driver } from "./segments/types.ts";

/** Where a KPI's value comes from. */
export type KPISource = "sql" | "dataframe" | "derived";

/** How rows are folded into one value. */
export type Aggregation = "sum" | "avg" | "count" | "last" | "rate";

/** A trailing window of a KPI: `7d`, `28d` (any 1 to 9999 days), `mtd`, `qtd`, `ytd`. */
export type RollingWindow = `${number}d` | "mtd" | "qtd" | "ytd";

/** The grain of a recorded period: one whole bucket, or `custom`. */
export type HistoryGrain =
  | "day"
  | "week"
  | "month"
  | "quarter"
  | "year"
  | "custom";

/** A period-over-period comparison code. */
export type ComparisonCode = "DoD" | "WoW" | "MoM" | "QoQ" | "YoY";

/** Whether a rising value is good news or bad news. */
export type Polarity = "higher_is_better" | "lower_is_better";

/** How loud an alert is. */
export type Severity = "info" | "warning" | "critical";

/** A KPI's overall alert status: the worst triggered severity, or `ok`. */
export type AlertStatus = "ok" | "warning" | "critical" | "error";

/** Every comparison code, in order from the shortest shift to the longest. */
export const COMPARISON_CODES: readonly ComparisonCode[] = [
  "DoD",
  "WoW",
  "MoM",
  "QoQ",
  "YoY",
];

/** Every aggregation the engine knows. */
export const AGGREGATIONS: readonly Aggregation[] = [
  "sum",
  "avg",
  "count",
  "last",
  "rate",
];

/** One alert rule of a KPI. */
export interface AlertRule {
  /** A condition such as `< 100000`, `MoM < -10%` or `value > 5 and YoY > 0%`. */
  condition: string;
  /** How loud the alert is. @default "warning" */
  severity: Severity;
  /** A message, or a template using `{{ label }}`, `{{ value }}`, ... */
  message?: string;
  /** Names of the channels to notify. @default every configured channel */
  channels?: string[];
  /** Re-send while the rule still holds after this long, e.g. `4h`. */
  repeatInterval?: string;
}

/** The definition of one KPI, as written in YAML or TypeScript. */
export interface KPIDefinition {
  /** Unique name, `[A-Za-z_][A-Za-z0-9_]*`. */
  name: string;
  /** Human-readable name. @default the name */
  label?: string;
  /** Where the value comes from. */
  source: KPISource;
  /** SQL template (`sql`) or `"table.column"` (`dataframe`). */
  query?: string;
  /** Arithmetic over other KPIs' names (`derived`). */
  expression?: string;
  /** How rows fold into a value; optional for SQL templates. */
  aggregation?: Aggregation;
  /** The column that dates each row (dataframe and structured SQL). */
  timeColumn?: string;
  /** Structured SQL: the table, possibly schema-qualified. */
  table?: string;
  /** Structured SQL: the column to aggregate, `*` for count. */
  column?: string;
  /** Structured SQL: a boolean SQL expression that filters rows. */
  filter?: string;
  /**
   * Columns the KPI can be broken down by (`region`, `channel`): of the
   * table for structured SQL and in-memory KPIs; for a template, the
   * columns it returns before the value. Derived KPIs inherit the
   * dimensions their inputs share. @default []
   */
  dimensions?: string[];
  /** Display unit, e.g. `USD` or `%`. */
  unit?: string;
  /** Comparisons to compute. @default [] */
  compare?: ComparisonCode[];
  /** Whether a rise is good news. @default "higher_is_better" */
  polarity?: Polarity;
  /** Alert rules. @default [] */
  alerts?: AlertRule[];
  /** Cancel the KPI's query after this many milliseconds. @default 30000 */
  timeoutMs?: number;
  /**
   * A trailing window: the value for a period is the aggregate over the
   * window ending where the period ends (`28d`: the 28 days before; `mtd`,
   * `qtd`, `ytd`: from the start of that month, quarter or year).
   * @default none: the period itself
   */
  window?: RollingWindow;
  /** Free text for people. */
  description?: string;
  /** Free labels for grouping. */
  tags?: string[];
  /**
   * An anomaly baseline learned from the KPI's own series; alert conditions
   * may then use `anomaly`, `expected`, `lower`, `upper` and `score`.
   */
  anomaly?: AnomalySettings;
  /**
   * The target: one number for every period, numbers by period string
   * (`{ "2024-11": 300000, "2024-Q4": 900000 }`), or values read from the
   * KPI's own database for each period ({@linkcode TargetSource}; `source:
   * sql` KPIs). Conditions may then use `target`, `attainment` and
   * `projected`.
   */
  target?: number | Readonly<Record<string, number>> | TargetSource;
  /** How a running period's pace is measured against the target. */
  pace?: PaceSettings;
}

/**
 * Targets read from the KPI's own database, one per period (the whole
 * period, also when a run covers it to date): either a SQL template
 * (`query`) or a table's column over the period (`table`, `column`,
 * `timeColumn`), never both. Values are bound as parameters.
 */
export interface TargetSource {
  /**
   * A SQL template returning the period's target in its first column of
   * its first row; it may use `{{ period_start }}`, `{{ period_end }}` and
   * the file's `vars`. No row or NULL: no target for that period.
   */
  query?: string;
  /** The table of targets, e.g. `finance.targets`. */
  table?: string;
  /** Its column of target values. */
  column?: string;
  /** Its column dating each row: the rows dated within the period count. */
  timeColumn?: string;
  /** How the period's rows fold into its target. @default "sum" */
  aggregation?: "sum" | "avg" | "last";
  /** A SQL boolean expression choosing the rows, e.g. `kpi = 'revenue'`. */
  filter?: string;
}

/** How a running period's pace is measured against its target. */
export interface PaceSettings {
  /**
   * `calendar`: the share of days passed; `weekday`: days weighted by the
   * usual share of their day of the week, learned from the last 8 weeks.
   * @default "calendar"
   */
  method?: PaceMethod;
  /**
   * The share of the period that must have passed before `projected` is
   * trusted and alerted on. @default 0.25
   */
  minElapsed?: number;
}

/** A channel's settings, as written under `channels:` in YAML. */
export interface ChannelConfig {
  /** The kind of channel. */
  type: "slack" | "email" | "pagerduty" | "webhook";
  /** Further settings of that channel type. */
  [setting: string]: unknown;
}

/** A scheduled run, as written under `schedules:` in YAML. */
export interface ScheduleConfig {
  /** A five-field cron expression. */
  cron: string;
  /** The period to compute at each fire. @default "last_month" */
  period?: string;
  /** Only these KPIs. @default every KPI */
  kpis?: string[];
  /** Time zone of the cron expression. @default the file's timezone */
  timezone?: string;
}

/** A whole configuration file, parsed and validated. */
export interface KPIConfig {
  /** Database URL, e.g. `sqlite:./shop.db` or `postgres://...`. */
  connection?: string;
  /** IANA time zone periods are cut in. @default "UTC" */
  timezone: string;
  /** First day of the week, 1 = Monday ... 7 = Sunday. @default 1 */
  weekStart: number;
  /** Extra template variables for SQL. @default {} */
  vars: Record<string, string | number | boolean>;
  /** Where history is kept (`history.db`, `audit.csv`, `kv:./x.kv`, `postgres://...`). */
  auditLog?: string;
  /** Alert channels by name. @default {} */
  channels: Record<string, ChannelConfig>;
  /** Scheduled runs for `server.ts`. @default [] */
  schedules: ScheduleConfig[];
  /** Most queries in flight at once. @default 4 */
  maxConcurrency: number;
  /**
   * How long opening a database connection (the connection itself, TLS and
   * the login) may take, in milliseconds, for the SQL database and a
   * PostgreSQL history store. `timeout_ms` bounds each query once
   * connected. @default 5000
   */
  connectTimeoutMs?: number;
  /** The KPI definitions, in file order. */
  kpis: KPIDefinition[];
}

/** A half-open range of whole days `[start, end)` in one time zone. */
export interface Period {
  /** What the user asked for, e.g. `last_month` or `2024-Q3`. */
  label: string;
  /** First day, ISO `YYYY-MM-DD`. */
  start: string;
  /** First day after the period, ISO `YYYY-MM-DD`. */
  end: string;
  /** IANA time zone the days are cut in. */
  timezone: string;
}

/** One comparison of a result with an earlier period. */
export interface ComparisonResult {
  /** The value in the earlier period, or null if it could not be had. */
  previousValue: number | null;
  /** `value - previousValue`, or null. */
  change: number | null;
  /** `change / |previousValue| * 100`; null when the base is 0 or missing. */
  changePct: number | null;
  /** First day of the earlier period. */
  periodStart: string;
  /** First day after the earlier period. */
  periodEnd: string;
  /** Whether the change is good news under the KPI's polarity; null if unknown. */
  favorable: boolean | null;
}

/** The outcome of sending one alert to one channel. */
export interface AlertDelivery {
  /** Channel name. */
  channel: string;
  /** Whether the channel accepted it. */
  ok: boolean;
  /** HTTP status or SMTP reply code of the last attempt, if any. */
  status: number | null;
  /** How many attempts were made. */
  attempts: number;
  /** Why it failed, or null. */
  error: string | null;
}

/** One alert rule that held for a result. */
export interface TriggeredAlert {
  /** The rule's condition. */
  condition: string;
  /** The rule's severity. */
  severity: Severity;
  /** The rendered message. */
  message: string;
  /** Per-channel delivery outcomes, when alerts were dispatched. */
  deliveries?: AlertDelivery[];
}

/** The computed value of one KPI for one period. */
export interface KPIResult {
  /** KPI name. */
  name: string;
  /** KPI label. */
  label: string;
  /** KPI unit, or null. */
  unit: string | null;
  /** The value, or null when it could not be computed or had no rows. */
  value: number | null;
  /** First day of the period. */
  periodStart: string;
  /** First day after the period. */
  periodEnd: string;
  /** Comparisons by code. */
  comparisons: Partial<Record<ComparisonCode, ComparisonResult>>;
  /** Shortcut for `comparisons.MoM.changePct`. */
  momChangePct: number | null;
  /** Shortcut for `comparisons.YoY.changePct`. */
  yoyChangePct: number | null;
  /** Worst triggered severity among warning and critical, `ok`, or `error`. */
  alertStatus: AlertStatus;
  /** The alert rules that held. */
  alertsTriggered: TriggeredAlert[];
  /** Time spent fetching the value, in milliseconds. */
  queryDurationMs: number;
  /** Why the KPI could not be computed, or null. */
  error: string | null;
  /**
   * Why the value is null although no error occurred (e.g. division by
   * zero, no rows), or null when there is nothing to say.
   */
  note: string | null;
  /** On results read from history: the grain of the period. */
  grain?: HistoryGrain;
  /** On results read from history: when the value was computed, ISO instant. */
  recordedAt?: string;
  /**
   * On results read from history: a hash of the KPI's definition when it
   * was computed, so that a backfill can tell stale rows.
   */
  definitionHash?: string;
  /** The anomaly baseline, for a KPI with `anomaly:` settings. */
  anomaly?: AnomalyBaseline;
  /** The target for the whole period, for a KPI with a target for it. */
  target?: number;
  /**
   * Why a KPI whose target is read from its database has none for this
   * period: the query failed (its error) or returned no value.
   */
  targetNote?: string;
  /** The value over the target due by now (1 = on pace). */
  attainment?: number | null;
  /** The value projected to the period's end. */
  projected?: number | null;
  /** How `attainment` and `projected` were computed. */
  pace?: TargetStatus["pace"];
  /**
   * When an alert fired on a KPI with dimensions: the segments that explain
   * its first comparison's change (see `engine.drivers()`).
   */
  drivers?: AlertDrivers;
}

/** Rows of an in-memory table: row objects, or columns of equal length. */
export type DataFrameInput =
  | readonly Record<string, unknown>[]
  | Record<string, ArrayLike<unknown>>;

// The ports (SQL client, history and alert state stores, notifier) are
// defined in ports.ts; re-exported here for the modules that import them
// with the definition types.
export type {
  AlertBatch,
  AlertNotifier,
  AlertState,
  AlertStateStatus,
  AlertStateStore,
  DeliveryRecord,
  HistoryAndAlertStore,
  HistoryRecord,
  HistoryStore,
  RuleDeliveries,
  RuleEvaluation,
  SqlClient,
  SqlDialect,
  SqlQueryOptions,
} from "./ports.ts";

/** The drivers an alert carries: the comparison explained and its slices. */
export interface AlertDrivers {
  /** The comparison explained, e.g. `MoM`. */
  compare: ComparisonCode;
  /** The total change. */
  change: number | null;
  /** The slices that explain most of it, largest first. */
  drivers: Driver[];
  /** What the listed slices leave unexplained. */
  unexplained: number | null;
}
