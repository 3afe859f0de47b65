import { toCsv } from "./_csv.ts";
import { formatChange, formatValue } from "./format_number.ts";
import { COMPARISON_CODES } from "../types.ts";
import type { ComparisonCode, KPIResult } from "../types.ts";

import type { ReportFormat } from "./report_formats.ts";
export { REPORT_FORMATS, type ReportFormat } from "./report_formats.ts";

/** What is formatted: a period and its results. */
export interface ReportLike {
  /** The period, when the results share one. */
  period?: { label: string; start: string; end: string };
  /** The results. */
  results: readonly KPIResult[];
}

/** Options of {@linkcode formatReport}. */
export interface FormatReportOptions {
  /** Color statuses and changes with ANSI codes (tables only). @default false */
  color?: boolean;
  /** Extra top-level JSON fields (e.g. `name` for history). @default {} */
  extra?: Readonly<Record<string, unknown>>;
}

/**
 * Renders results as an aligned table, JSON, CSV or a Markdown table.
 *
 * JSON is exactly one object: `{"period": {...}, "results": [...]}`.
 *
 * @param report The period and results.
 * @param format Which format.
 * @param options Coloring.
 * @returns The text, ending with a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const result = {
 *   name: "revenue", label: "Revenue", unit: "USD", value: 6000,
 *   periodStart: "2024-11-01", periodEnd: "2024-12-01",
 *   comparisons: { MoM: { previousValue: 5000, change: 1000, changePct: 20,
 *     periodStart: "2024-10-01", periodEnd: "2024-11-01", favorable: true } },
 *   momChangePct: 20, yoyChangePct: null, alertStatus: "ok" as const,
 *   alertsTriggered: [], queryDurationMs: 1, error: null, note: null,
 * };
 * const text = formatReport({ results: [result] }, "table");
 * assert.match(text, /Revenue +6,000 USD +▲ \+20\.0% +ok/);
 * ```
 */
export function formatReport(
  report: ReportLike,
  format: ReportFormat,
  options: FormatReportOptions = {},
): string {
  switch (format) {
    case "json":
      return JSON.stringify({ ...options.extra, ...report }, null, 2) + "\n";
    case "csv":
      return formatCsv(report.results);
    case "markdown":
      return formatMarkdown(report);
    case "table":
      return formatTable(report, options.color ?? false);
  }
}

function usedCodes(results: readonly KPIResult[]): ComparisonCode[] {
  return COMPARISON_CODES.filter((code) =>
    results.some((r) => r.comparisons[code] !== undefined)
  );
}

function notes(result: KPIResult): string {
  if (result.error) return result.error;
  const messages = result.alertsTriggered.map((a) =>
    `${a.severity}: ${a.message}`
  );
  if (result.note) messages.push(result.note);
  const insight = insightText(result);
  if (insight) messages.push(insight);
  return messages.join("; ");
}

/**
 * The anomaly band and target status (or why a target read from the
 * database is missing), in words, for the notes column.
 */
function insightText(result: KPIResult): string {
  const parts: string[] = [];
  const a = result.anomaly;
  if (a) {
    parts.push(
      a.expected === null
        ? a.note ?? "no baseline"
        : `${a.anomalous ? "unusual: " : ""}expected ${
          formatValue(a.expected, result.unit)
        } (${formatValue(a.lower, null)} to ${formatValue(a.upper, null)})`,
    );
  }
  if (result.target !== undefined) {
    const attainment = result.attainment == null
      ? "n/a"
      : `${Math.round(result.attainment * 1000) / 10}%`;
    parts.push(
      `target ${formatValue(result.target, result.unit)}: ${attainment} of ${
        result.pace && result.pace.elapsed < 1 ? "pace" : "target"
      }${
        result.pace && result.pace.elapsed < 1
          ? `, projected ${formatValue(result.projected ?? null, result.unit)}${
            result.pace.estimate ? " (estimate)" : ""
          }`
          : ""
      }`,
    );
  } else if (result.targetNote) parts.push(result.targetNote);
  return parts.join("; ");
}

function formatCsv(results: readonly KPIResult[]): string {
  const codes = usedCodes(results);
  const header = [
    "name",
    "label",
    "unit",
    "value",
    "period_start",
    "period_end",
    ...codes.flatMap((
      c,
    ) => [`${c}_previous`, `${c}_change`, `${c}_change_pct`]),
    "alert_status",
    "alerts",
    "query_duration_ms",
    "error",
  ];
  const rows = results.map((r) => [
    r.name,
    r.label,
    r.unit ?? "",
    r.value ?? "",
    r.periodStart,
    r.periodEnd,
    ...codes.flatMap((c) => {
      const comparison = r.comparisons[c];
      return [
        comparison?.previousValue ?? "",
        comparison?.change ?? "",
        comparison?.changePct ?? "",
      ];
    }),
    r.alertStatus,
    r.alertsTriggered.map((a) => `${a.severity}: ${a.message}`).join("; "),
    r.queryDurationMs,
    r.error ?? "",
  ]);
  return toCsv([header, ...rows]);
}

function cells(
  results: readonly KPIResult[],
): { header: string[]; rows: string[][]; codes: ComparisonCode[] } {
  const codes = usedCodes(results);
  const header = ["KPI", "Value", ...codes, "Status", "Notes"];
  const rows = results.map((r) => [
    r.label,
    formatValue(r.value, r.unit),
    ...codes.map((c) =>
      r.comparisons[c] ? formatChange(r.comparisons[c].changePct) : ""
    ),
    r.alertStatus,
    notes(r),
  ]);
  return { header, rows, codes };
}

function formatMarkdown(report: ReportLike): string {
  const { header, rows } = cells(report.results);
  const escape = (text: string): string =>
    text.replaceAll("|", "\\|").replaceAll("\n", " ");
  const lines = [
    ...(report.period
      ? [
        `**${report.period.label}** (${report.period.start} to ${report.period.end}, end excluded)`,
        "",
      ]
      : []),
    `| ${header.join(" | ")} |`,
    `| ${
      header.map((_, i) => i === 0 || i === header.length - 1 ? "---" : "---:")
        .join(" | ")
    } |`,
    ...rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ];
  return lines.join("\n") + "\n";
}

const ANSI = {
  reset: "\x1b[0m",
  bold: "\x1b[1m",
  dim: "\x1b[2m",
  red: "\x1b[31m",
  green: "\x1b[32m",
  yellow: "\x1b[33m",
  magenta: "\x1b[35m",
} as const;

const STATUS_COLORS: Readonly<Record<string, string>> = {
  ok: ANSI.green,
  warning: ANSI.yellow,
  critical: ANSI.red,
};

function statusColor(status: string): string {
  return STATUS_COLORS[status] ?? ANSI.magenta;
}

function formatTable(report: ReportLike, color: boolean): string {
  const { header, rows, codes } = cells(report.results);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length))
  );
  const numeric = (i: number): boolean => i > 0 && i <= codes.length + 1;
  const pad = (text: string, i: number): string => {
    if (i === header.length - 1) return text;
    const width = widths[i] ?? 0;
    return numeric(i) ? text.padStart(width) : text.padEnd(width);
  };
  const paint = (text: string, code: string): string =>
    color ? `${code}${text}${ANSI.reset}` : text;
  const lines: string[] = [];
  if (report.period) {
    lines.push(
      paint(
        `${report.period.label}: ${report.period.start} to ${report.period.end} (end excluded)`,
        ANSI.bold,
      ),
      "",
    );
  }
  lines.push(paint(header.map(pad).join("  ").trimEnd(), ANSI.bold));
  report.results.forEach((result, r) => {
    const row = rows[r] as string[];
    const rendered = row.map((cell, i) => {
      const text = pad(cell, i);
      if (i > 1 && i <= codes.length + 1) {
        const favorable = result.comparisons[codes[i - 2] as ComparisonCode]
          ?.favorable;
        if (favorable === true) return paint(text, ANSI.green);
        if (favorable === false) return paint(text, ANSI.red);
        return text;
      }
      if (i === codes.length + 2) {
        return paint(text, statusColor(result.alertStatus));
      }
      if (i === header.length - 1 && text) return paint(text, ANSI.dim);
      return text;
    });
    lines.push(rendered.join("  ").trimEnd());
  });
  return lines.join("\n") + "\n";
}
