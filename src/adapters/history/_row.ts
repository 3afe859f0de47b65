/**
 * Flat rows shared by the history stores: how a {@linkcode HistoryRecord},
 * an {@linkcode AlertState} and a {@linkcode DeliveryRecord} become columns
 * of the current layout (schema version 1) and back.
 *
 * @module
 */

import type {
  AlertState,
  AlertStateStatus,
  AlertStatus,
  DeliveryRecord,
  HistoryRecord,
  KPIResult,
  Severity,
} from "../../types.ts";

/** The layout every store writes today. Older layouts are version 0. */
export const HISTORY_SCHEMA_VERSION = 1;

/** One history record in the version 1 columns, values typed. */
export interface HistoryRow {
  run_id: string;
  run_at: string;
  period_label: string;
  kpi_name: string;
  label: string;
  unit: string | null;
  value: number | null;
  period_start: string;
  period_end: string;
  mom_change_pct: number | null;
  yoy_change_pct: number | null;
  alert_status: string;
  query_duration_ms: number;
  error: string | null;
  note: string | null;
  /** JSON of `comparisons`. */
  comparisons: string;
  /** JSON of `alertsTriggered`, deliveries included. */
  alerts_triggered: string;
  /** JSON of any further fields of the result, or null. */
  extra: string | null;
}

/** Version 1 history columns, in the order files and tables list them. */
export const HISTORY_COLUMNS: readonly (keyof HistoryRow)[] = [
  "run_id",
  "run_at",
  "period_label",
  "kpi_name",
  "label",
  "unit",
  "value",
  "period_start",
  "period_end",
  "mom_change_pct",
  "yoy_change_pct",
  "alert_status",
  "query_duration_ms",
  "error",
  "note",
  "comparisons",
  "alerts_triggered",
  "extra",
];

/** History columns that hold numbers. */
export const HISTORY_NUMBER_COLUMNS: ReadonlySet<string> = new Set([
  "value",
  "mom_change_pct",
  "yoy_change_pct",
  "query_duration_ms",
]);

/** One alert state in columns. */
export interface AlertStateRow {
  kpi: string;
  rule: string;
  status: string;
  severity: string;
  period_start: string;
  period_end: string;
  /** JSON array of channel names. */
  channels: string;
  first_fired_at: string;
  last_sent_at: string;
}

/** Alert state columns, in order. */
export const ALERT_STATE_COLUMNS: readonly (keyof AlertStateRow)[] = [
  "kpi",
  "rule",
  "status",
  "severity",
  "period_start",
  "period_end",
  "channels",
  "first_fired_at",
  "last_sent_at",
];

/** One delivery outcome in columns. */
export interface DeliveryRow {
  run_id: string;
  at: string;
  kpi: string;
  rule: string;
  status: string;
  channel: string;
  ok: boolean;
  http_status: number | null;
  attempts: number;
  error: string | null;
}

/** Delivery columns, in order. */
export const DELIVERY_COLUMNS: readonly (keyof DeliveryRow)[] = [
  "run_id",
  "at",
  "kpi",
  "rule",
  "status",
  "channel",
  "ok",
  "http_status",
  "attempts",
  "error",
];

const RESULT_KEYS: ReadonlySet<string> = new Set([
  "name",
  "label",
  "unit",
  "value",
  "periodStart",
  "periodEnd",
  "comparisons",
  "momChangePct",
  "yoyChangePct",
  "alertStatus",
  "alertsTriggered",
  "queryDurationMs",
  "error",
  "note",
]);

const ALERT_STATUSES: ReadonlySet<string> = new Set([
  "ok",
  "warning",
  "critical",
  "error",
]);

/**
 * Turns an ISO instant into the form every store keeps and sorts by:
 * `YYYY-MM-DDTHH:mm:ss.sssZ` in UTC.
 */
export function normalizeInstant(text: unknown, field: string): string {
  if (typeof text !== "string") {
    throw new TypeError(
      `Expected ${field} to be an ISO instant string, got ${describe(text)}`,
    );
  }
  let ms: number;
  try {
    ms = Temporal.Instant.from(text).epochMilliseconds;
  } catch {
    throw new RangeError(
      `Cannot read ${field} "${text}": expected an ISO instant with an offset, e.g. 2024-11-05T10:00:00Z`,
    );
  }
  return new Date(ms).toISOString();
}

/** Checks the arguments of `history(name, n)`. */
export function checkHistoryQuery(name: unknown, n: unknown): void {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(
      `Expected a KPI name as a non-empty string, got ${describe(name)}`,
    );
  }
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot read ${
        describe(n)
      } results of history: expected a whole number of at least 1`,
    );
  }
}

/** Flattens one history record, checking its shape. */
export function toHistoryRow(record: HistoryRecord): HistoryRow {
  expectObject(record, "a history record object");
  const runId = expectString(record.runId, "runId");
  const runAt = normalizeInstant(record.runAt, "runAt");
  const periodLabel = expectString(record.periodLabel, "periodLabel");
  const result = record.result;
  expectObject(result, `result of run "${runId}" to be a KPIResult object`);
  const name = expectString(result.name, "result.name");
  if (name === "") {
    throw new TypeError(`Expected result.name to be a non-empty string`);
  }
  const extra: Record<string, unknown> = {};
  let hasExtra = false;
  for (const [key, value] of Object.entries(result)) {
    if (!RESULT_KEYS.has(key) && value !== undefined) {
      extra[key] = value;
      hasExtra = true;
    }
  }
  return {
    run_id: runId,
    run_at: runAt,
    period_label: periodLabel,
    kpi_name: name,
    label: expectString(result.label ?? name, "result.label"),
    unit: expectStringOrNull(result.unit ?? null, "result.unit"),
    value: expectNumberOrNull(result.value, "result.value"),
    period_start: expectString(result.periodStart, "result.periodStart"),
    period_end: expectString(result.periodEnd, "result.periodEnd"),
    mom_change_pct: expectNumberOrNull(
      result.momChangePct ?? null,
      "result.momChangePct",
    ),
    yoy_change_pct: expectNumberOrNull(
      result.yoyChangePct ?? null,
      "result.yoyChangePct",
    ),
    alert_status: expectString(result.alertStatus, "result.alertStatus"),
    query_duration_ms: expectNumberOrNull(
      result.queryDurationMs ?? 0,
      "result.queryDurationMs",
    ) ?? 0,
    error: expectStringOrNull(result.error ?? null, "result.error"),
    note: result.note === undefined || result.note === null
      ? null
      : expectString(result.note, "result.note"),
    comparisons: JSON.stringify(result.comparisons ?? {}),
    alerts_triggered: JSON.stringify(result.alertsTriggered ?? []),
    extra: hasExtra ? JSON.stringify(extra) : null,
  };
}

/** The columns of a history row as a plain object keyed by column name. */
export type LooseRow = Record<string, unknown>;

/** Rebuilds the KPIResult of one version 1 row. */
export function fromHistoryRow(input: LooseRow | HistoryRow): KPIResult {
  const row = input as LooseRow;
  const name = String(row.kpi_name ?? "");
  const result: KPIResult = {
    name,
    label: stringOr(row.label, name),
    unit: stringOrNull(row.unit),
    value: numberOrNull(row.value),
    periodStart: stringOr(row.period_start, ""),
    periodEnd: stringOr(row.period_end, ""),
    comparisons: parseJson(row.comparisons, {}),
    momChangePct: numberOrNull(row.mom_change_pct),
    yoyChangePct: numberOrNull(row.yoy_change_pct),
    alertStatus: alertStatusOf(row.alert_status, row.error),
    alertsTriggered: parseJson(row.alerts_triggered, []),
    queryDurationMs: numberOrNull(row.query_duration_ms) ?? 0,
    error: stringOrNull(row.error),
    note: stringOrNull(row.note),
  };
  const extra = parseJson<Record<string, unknown> | null>(row.extra, null);
  if (extra !== null && typeof extra === "object") {
    for (const [key, value] of Object.entries(extra)) {
      if (!RESULT_KEYS.has(key)) {
        (result as unknown as Record<string, unknown>)[key] = value;
      }
    }
  }
  return result;
}

/** Flattens one alert state, checking its shape. */
export function toAlertStateRow(state: AlertState): AlertStateRow {
  expectObject(state, "an alert state object");
  const kpi = expectString(state.kpi, "kpi");
  const rule = expectString(state.rule, "rule");
  if (!Array.isArray(state.channels)) {
    throw new TypeError(
      `Expected channels of alert state "${kpi}"/"${rule}" to be an array of names, got ${
        describe(state.channels)
      }`,
    );
  }
  return {
    kpi,
    rule,
    status: expectOneOf(state.status, "status", ["firing", "resolved"]),
    severity: expectOneOf(state.severity, "severity", [
      "info",
      "warning",
      "critical",
    ]),
    period_start: expectString(state.periodStart, "periodStart"),
    period_end: expectString(state.periodEnd, "periodEnd"),
    channels: JSON.stringify(state.channels.map(String)),
    first_fired_at: expectString(state.firstFiredAt, "firstFiredAt"),
    last_sent_at: expectString(state.lastSentAt, "lastSentAt"),
  };
}

// Alike in shape to fromDeliveryRow: each rebuilds the fields of its own record.
/** Rebuilds an alert state from its columns. */
export function fromAlertStateRow(
  input: LooseRow | AlertStateRow,
): AlertState {
  const row = input as LooseRow;
  return {
    kpi: String(row.kpi),
    rule: String(row.rule),
    status: String(row.status) as AlertStateStatus,
    severity: String(row.severity) as Severity,
    periodStart: String(row.period_start),
    periodEnd: String(row.period_end),
    channels: parseJson<string[]>(row.channels, []),
    firstFiredAt: String(row.first_fired_at),
    lastSentAt: String(row.last_sent_at),
  };
}

/** Flattens one delivery record, checking its shape. */
export function toDeliveryRow(record: DeliveryRecord): DeliveryRow {
  expectObject(record, "a delivery record object");
  const delivery = record.delivery;
  expectObject(delivery, "delivery to be an object");
  return {
    run_id: expectString(record.runId, "runId"),
    at: normalizeInstant(record.at, "at"),
    kpi: expectString(record.kpi, "kpi"),
    rule: expectString(record.rule, "rule"),
    status: expectOneOf(record.status, "status", ["firing", "resolved"]),
    channel: expectString(delivery.channel, "delivery.channel"),
    ok: Boolean(delivery.ok),
    http_status: expectNumberOrNull(delivery.status ?? null, "delivery.status"),
    attempts: expectNumberOrNull(delivery.attempts ?? 0, "delivery.attempts") ??
      0,
    error: expectStringOrNull(delivery.error ?? null, "delivery.error"),
  };
}

// Alike in shape to fromAlertStateRow: each rebuilds the fields of its own record.
/** Rebuilds a delivery record from its columns. */
export function fromDeliveryRow(
  input: LooseRow | DeliveryRow,
): DeliveryRecord {
  const row = input as LooseRow;
  return {
    runId: String(row.run_id),
    at: row.at instanceof Date ? row.at.toISOString() : String(row.at),
    kpi: String(row.kpi),
    rule: String(row.rule),
    status: String(row.status) as AlertStateStatus,
    delivery: {
      channel: String(row.channel),
      ok: row.ok === true || row.ok === 1 || row.ok === "1" ||
        row.ok === "true",
      status: numberOrNull(row.http_status),
      attempts: numberOrNull(row.attempts) ?? 0,
      error: stringOrNull(row.error),
    },
  };
}

/**
 * Sorts entries newest first by instant, later insertions first among equal
 * instants. `order` is the insertion position.
 */
export function newestFirst<T extends { at: string; order: number }>(
  entries: T[],
): T[] {
  return entries.sort((a, b) =>
    a.at < b.at ? 1 : a.at > b.at ? -1 : b.order - a.order
  );
}

/** Throws when a store is used after `close()`. */
export function assertOpen(closed: boolean, location: string): void {
  if (closed) {
    throw new Error(`History store "${location}" is closed`);
  }
}

/** Names the type or value of something for an error message. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  return typeof value;
}

/** Throws `Expected <what>, got <value>` unless `value` is an object. */
function expectObject(value: unknown, what: string): asserts value is object {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`Expected ${what}, got ${describe(value)}`);
  }
}

function expectString(value: unknown, field: string): string {
  if (typeof value !== "string") {
    throw new TypeError(
      `Expected ${field} to be a string, got ${describe(value)}`,
    );
  }
  return value;
}

function expectStringOrNull(value: unknown, field: string): string | null {
  if (value === null) return null;
  return expectString(value, field);
}

function expectNumberOrNull(value: unknown, field: string): number | null {
  if (value === null) return null;
  if (typeof value !== "number") {
    throw new TypeError(
      `Expected ${field} to be a number or null, got ${describe(value)}`,
    );
  }
  return value;
}

function expectOneOf(
  value: unknown,
  field: string,
  accepted: readonly string[],
): string {
  if (typeof value !== "string" || !accepted.includes(value)) {
    throw new RangeError(
      `Cannot store ${field} ${describe(value)}: expected one of ${
        accepted.join(", ")
      }`,
    );
  }
  return value;
}

function stringOr(value: unknown, fallback: string): string {
  return value === null || value === undefined ? fallback : String(value);
}

function stringOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  const text = String(value).trim();
  if (text === "") return null;
  const number = Number(text);
  return Number.isNaN(number) && !/^nan$/i.test(text) ? null : number;
}

function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined || value === "") return fallback;
  if (typeof value !== "string") return value as T;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

function alertStatusOf(value: unknown, error: unknown): AlertStatus {
  const text = String(value ?? "").trim().toLowerCase();
  if (ALERT_STATUSES.has(text)) return text as AlertStatus;
  return error !== null && error !== undefined && error !== "" ? "error" : "ok";
}

export { numberOrNull, parseJson, stringOrNull };
