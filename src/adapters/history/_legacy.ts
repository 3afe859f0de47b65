/**
 * Reading history written before schema version 1 (version 0): the audit
 * log of the reference package, a CSV or SQLite table with columns such as
 * `timestamp, kpi_name, value, period_start, period_end, alert_status`.
 * Columns are found by name; what a row lacks comes back as null or empty.
 *
 * @module
 */

import type { HistoryRecord, KPIResult } from "../../types.ts";
import {
  type LooseRow,
  numberOrNull,
  parseJson,
  stringOrNull,
} from "./_row.ts";

const NAME = ["kpi_name", "kpi", "name", "metric"];
const TIME = [
  "timestamp",
  "run_at",
  "computed_at",
  "created_at",
  "executed_at",
  "time",
];
const VALUE = ["value", "kpi_value"];
const START = ["period_start", "start"];
const END = ["period_end", "end"];
const STATUS = ["alert_status", "status"];

/** Whether a set of column names looks like a version 0 audit log. */
export function isLegacyHistoryColumns(columns: readonly string[]): boolean {
  const names = new Set(columns.map((c) => c.trim().toLowerCase()));
  return NAME.some((c) => names.has(c)) && VALUE.some((c) => names.has(c));
}

/**
 * Reads a timestamp as the reference package may have written it: an ISO
 * instant, or a date and time without offset (`2024-11-05 10:00:00.123456`,
 * taken as UTC), or a bare date (midnight UTC). Returns null when unreadable.
 */
export function parseLooseInstant(value: unknown): string | null {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value.toISOString();
  }
  if (typeof value === "number" && Number.isFinite(value)) {
    // Seconds since the epoch (Python's time.time()) when small enough.
    const ms = Math.abs(value) < 1e11 ? value * 1000 : value;
    return new Date(ms).toISOString();
  }
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (text === "") return null;
  try {
    return new Date(Temporal.Instant.from(text).epochMilliseconds)
      .toISOString();
  } catch {
    // no offset: fall through
  }
  try {
    const plain = Temporal.PlainDateTime.from(text);
    return new Date(
      plain.toZonedDateTime("UTC").epochMilliseconds,
    ).toISOString();
  } catch {
    return null;
  }
}

/**
 * Converts one version 0 row, keyed by column name, into a history record.
 * Returns null when the row names no KPI.
 */
export function fromLegacyRow(row: LooseRow): HistoryRecord | null {
  const get = (names: readonly string[]): unknown => {
    for (const name of names) {
      for (const key of Object.keys(row)) {
        if (key.trim().toLowerCase() === name) {
          const value = row[key];
          if (value !== null && value !== undefined && value !== "") {
            return value;
          }
        }
      }
    }
    return null;
  };
  const name = stringOrNull(get(NAME));
  if (name === null || name.trim() === "") return null;
  const error = stringOrNull(get(["error", "error_message"]));
  const statusText = String(get(STATUS) ?? "").trim().toLowerCase();
  const alertStatus: KPIResult["alertStatus"] =
    statusText === "warning" || statusText === "critical" ||
      statusText === "error" || statusText === "ok"
      ? statusText
      : error !== null
      ? "error"
      : "ok";
  const result: KPIResult = {
    name,
    label: stringOrNull(get(["label", "kpi_label"])) ?? name,
    unit: stringOrNull(get(["unit"])),
    value: numberOrNull(get(VALUE)),
    periodStart: dateText(get(START)),
    periodEnd: dateText(get(END)),
    comparisons: parseJson(get(["comparisons"]), {}),
    momChangePct: numberOrNull(get(["mom_change_pct", "mom_pct", "mom"])),
    yoyChangePct: numberOrNull(get(["yoy_change_pct", "yoy_pct", "yoy"])),
    alertStatus,
    alertsTriggered: parseJson(
      get(["alerts_triggered", "alerts"]),
      [],
    ),
    queryDurationMs: numberOrNull(get(["query_duration_ms", "duration_ms"])) ??
      0,
    error,
    note: null,
  };
  return {
    runId: stringOrNull(get(["run_id"])) ?? "",
    runAt: parseLooseInstant(get(TIME)) ?? new Date(0).toISOString(),
    periodLabel: stringOrNull(get(["period_label", "period"])) ?? "",
    result,
  };
}

function dateText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  const text = String(value).trim();
  // "2024-11-01 00:00:00" or "2024-11-01T00:00:00" from pandas: keep the day.
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$/.exec(
    text,
  );
  return match?.[1] ?? text;
}
