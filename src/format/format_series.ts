/**
 * Renders series for people and programs: a table per KPI with a Unicode
 * sparkline, JSON, CSV (one row per KPI and point) or Markdown.
 *
 * @module
 */

import { toCsv } from "./_csv.ts";
import { formatChange, formatValue } from "./format_number.ts";
import { COMPARISON_CODES } from "../types.ts";
import type { ComparisonCode, KPIResult } from "../types.ts";
import type {
  SeriesPoint,
  SeriesResult,
} from "../series/build_series_points.ts";
import type { ReportFormat } from "./format_report.ts";
import {
  addGrains,
  bucketLabel,
  type Grain,
} from "../series/series_buckets.ts";

/** What the formatter knows of each KPI besides its points. */
export interface SeriesKpiInfo {
  /** Human-readable name. */
  label?: string;
  /** Display unit. */
  unit?: string | null;
}

/** Options of {@linkcode formatSeries}. */
export interface FormatSeriesOptions {
  /** Labels and units per KPI name. @default {} */
  kpis?: Readonly<Record<string, SeriesKpiInfo>>;
  /** ANSI colors in the table. @default false */
  color?: boolean;
}

const BARS = "▁▂▃▄▅▆▇█";

/**
 * A Unicode sparkline of values: one bar per value from `▁` (the lowest) to
 * `█` (the highest); a missing value is a space.
 *
 * @param values The values, oldest first.
 * @returns The sparkline, one character per value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█");
 * assert.equal(sparkline([5, null, 5]), "▄ ▄");
 * ```
 */
export function sparkline(values: readonly (number | null)[]): string {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return " ".repeat(values.length);
  const min = Math.min(...present);
  const max = Math.max(...present);
  return values.map((v) => {
    if (v === null) return " ";
    if (max === min) return BARS[3];
    return BARS[Math.round((v - min) / (max - min) * (BARS.length - 1))];
  }).join("");
}

/**
 * Renders a series result in one of the report formats.
 *
 * - `json`: the result as it is, `{ grain, points }`.
 * - `csv`: one row per KPI and point: `kpi, period_start, period_end, value,
 *   partial`, then `<code>_previous, <code>_change_pct` per comparison.
 * - `markdown` and `table`: per KPI a heading with its sparkline, then one
 *   line per point; a partial point is marked `(partial)`.
 *
 * @param result The series.
 * @param format The format.
 * @param options Labels, units and colors.
 * @returns The text, ending with a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const text = formatSeries({
 *   grain: "month",
 *   points: { revenue: [
 *     { periodStart: "2024-09-01", periodEnd: "2024-10-01", value: 10, partial: false },
 *     { periodStart: "2024-10-01", periodEnd: "2024-11-01", value: 20, partial: false },
 *   ] },
 * }, "csv");
 * assert.equal(text, "kpi,period_start,period_end,value,partial\nrevenue,2024-09-01,2024-10-01,10,false\nrevenue,2024-10-01,2024-11-01,20,false\n");
 * ```
 */
export function formatSeries(
  result: SeriesResult,
  format: ReportFormat,
  options: FormatSeriesOptions = {},
): string {
  switch (format) {
    case "json":
      return JSON.stringify(result, null, 2) + "\n";
    case "csv":
      return formatCsv(result);
    case "markdown":
      return formatMarkdown(result, options);
    case "table":
      return formatTable(result, options);
  }
}

function codesOf(points: readonly SeriesPoint[]): ComparisonCode[] {
  return COMPARISON_CODES.filter((code) =>
    points.some((p) => p.comparisons?.[code] !== undefined)
  );
}

function formatCsv(result: SeriesResult): string {
  const all = Object.values(result.points).flat();
  const codes = codesOf(all);
  const header = [
    "kpi",
    "period_start",
    "period_end",
    "value",
    "partial",
    ...codes.flatMap((c) => [`${c}_previous`, `${c}_change_pct`]),
    ...(all.some((p) => p.error) ? ["error"] : []),
  ];
  const rows = Object.entries(result.points).flatMap(([name, points]) =>
    points.map((p) => [
      name,
      p.periodStart,
      p.periodEnd,
      p.value ?? "",
      String(p.partial),
      ...codes.flatMap((c) => [
        p.comparisons?.[c]?.previousValue ?? "",
        p.comparisons?.[c]?.changePct ?? "",
      ]),
      ...(header.at(-1) === "error" ? [p.error ?? ""] : []),
    ])
  );
  return toCsv([header, ...rows]);
}

function lastDay(point: SeriesPoint): string {
  return Temporal.PlainDate.from(point.periodEnd).subtract({ days: 1 })
    .toString();
}

/** The bucket's label (`2024-11`, `2024-Q3`, `2024`), else its days. */
function periodText(point: SeriesPoint, grain: Grain): string {
  const start = Temporal.PlainDate.from(point.periodStart);
  if (
    !point.partial && grain !== "week" &&
    addGrains(start, grain, 1).toString() === point.periodEnd
  ) {
    return bucketLabel(start, grain);
  }
  return point.periodStart === lastDay(point)
    ? point.periodStart
    : `${point.periodStart}..${lastDay(point)}`;
}

function rowsOf(
  points: readonly SeriesPoint[],
  unit: string | null,
  codes: readonly ComparisonCode[],
  grain: Grain,
): string[][] {
  return points.map((p) => [
    periodText(p, grain),
    formatValue(p.value, unit),
    ...codes.map((c) =>
      p.comparisons?.[c] ? formatChange(p.comparisons[c].changePct) : ""
    ),
    [p.partial ? "partial" : "", p.error ?? p.note ?? ""].filter(Boolean)
      .join("; "),
  ]);
}

function formatMarkdown(
  result: SeriesResult,
  options: FormatSeriesOptions,
): string {
  const lines: string[] = [];
  const escape = (text: string) => text.replaceAll("|", "\\|");
  for (const [name, points] of Object.entries(result.points)) {
    const info = options.kpis?.[name] ?? {};
    const codes = codesOf(points);
    lines.push(
      `**${escape(info.label ?? name)}** by ${result.grain} \`${
        sparkline(points.map((p) => p.value))
      }\``,
      "",
      `| Period | Value | ${codes.map((c) => `${c} | `).join("")}Notes |`,
      `| --- | ---: | ${codes.map(() => "---: | ").join("")}--- |`,
      ...rowsOf(points, info.unit ?? null, codes, result.grain).map((row) =>
        `| ${row.map(escape).join(" | ")} |`
      ),
      "",
    );
  }
  return lines.join("\n").trimEnd() + "\n";
}

function formatTable(
  result: SeriesResult,
  options: FormatSeriesOptions,
): string {
  const bold = (text: string) => options.color ? `\x1b[1m${text}\x1b[0m` : text;
  const lines: string[] = [];
  for (const [name, points] of Object.entries(result.points)) {
    const info = options.kpis?.[name] ?? {};
    const codes = codesOf(points);
    const header = ["Period", "Value", ...codes, "Notes"];
    const rows = rowsOf(points, info.unit ?? null, codes, result.grain);
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length))
    );
    const render = (row: readonly string[]) =>
      row.map((cell, i) =>
        i === row.length - 1
          ? cell
          : i === 0
          ? cell.padEnd(widths[i] ?? 0)
          : cell.padStart(widths[i] ?? 0)
      ).join("  ").trimEnd();
    lines.push(
      bold(
        `${info.label ?? name} by ${result.grain}  ${
          sparkline(points.map((p) => p.value))
        }`,
      ),
      bold(render(header)),
      ...rows.map(render),
      "",
    );
  }
  return lines.join("\n").trimEnd() + "\n";
}

/**
 * Renders history rows as a table (or Markdown): period, grain, value,
 * status and when each was recorded.
 *
 * @param results History results, as `engine.history()` returns them.
 * @param format `table` or `markdown`.
 * @returns The text, ending with a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const text = formatHistory([{
 *   name: "revenue", label: "Revenue", unit: "USD", value: 1200,
 *   periodStart: "2024-11-01", periodEnd: "2024-12-01", comparisons: {},
 *   momChangePct: null, yoyChangePct: null, alertStatus: "ok",
 *   alertsTriggered: [], queryDurationMs: 1, error: null, note: null,
 *   grain: "month", recordedAt: "2024-12-01T06:00:00.000Z",
 * }], "table");
 * assert.match(text, /^Period +Grain +Value +Status +Recorded at\n2024-11 +month +1,200 USD +ok +2024-12-01T06:00:00.000Z\n$/);
 * ```
 */
export function formatHistory(
  results: readonly KPIResult[],
  format: "table" | "markdown",
): string {
  const header = ["Period", "Grain", "Value", "Status", "Recorded at"];
  const rows = results.map((r) => {
    const grain = r.grain ?? "custom";
    const point: SeriesPoint = {
      periodStart: r.periodStart,
      periodEnd: r.periodEnd,
      value: r.value,
      partial: grain === "custom",
    };
    return [
      grain === "custom" || grain === "week"
        ? periodText({ ...point, partial: true }, "day")
        : periodText({ ...point, partial: false }, grain),
      grain,
      formatValue(r.value, r.unit),
      r.error ? `error: ${r.error}` : r.alertStatus,
      r.recordedAt ?? "",
    ];
  });
  if (format === "markdown") {
    return [
      `| ${header.join(" | ")} |`,
      "| --- | --- | ---: | --- | --- |",
      ...rows.map((row) =>
        `| ${row.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`
      ),
    ].join("\n") + "\n";
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length))
  );
  const render = (row: readonly string[]) =>
    row.map((cell, i) =>
      i === 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)
    ).join("  ").trimEnd();
  return [render(header), ...rows.map(render)].join("\n") + "\n";
}
