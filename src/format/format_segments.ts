/**
 * Renders breakdowns and drivers for people (tables with bars, Markdown)
 * and machines (JSON, CSV).
 *
 * @module
 */

import { toCsv } from "./_csv.ts";
import { formatChange, formatValue } from "./format_number.ts";
import type { ReportFormat } from "./format_report.ts";
import type { KPIBreakdown, KPIDrivers, Segment } from "../segments/types.ts";
import type { ComparisonCode } from "../types.ts";

/** Options of {@linkcode formatBreakdowns} and {@linkcode formatDrivers}. */
export interface FormatSegmentsOptions {
  /** Draw bars with block characters (tables only). @default true */
  bars?: boolean;
}

/** `region=EU`, `region=(NULL)`, or `region=(other, 4 segments)`. */
export function segmentLabel(segment: Segment, other?: number): string {
  return Object.entries(segment).map(([dimension, value]) =>
    other !== undefined
      ? `${dimension}=(other: ${other} segments)`
      : `${dimension}=${value === null ? "(NULL)" : value}`
  ).join(", ");
}

function bar(fraction: number, width = 20): string {
  const cells = Math.round(Math.min(1, Math.abs(fraction)) * width);
  return "█".repeat(cells) || (fraction !== 0 ? "▏" : "");
}

function align(rows: string[][], right: readonly boolean[]): string {
  const widths =
    rows[0]?.map((_, c) =>
      Math.max(...rows.map((row) => [...(row[c] ?? "")].length))
    ) ?? [];
  return rows.map((row) =>
    row.map((cell, c) => {
      const pad = " ".repeat((widths[c] ?? 0) - [...cell].length);
      return right[c] ? pad + cell : cell + pad;
    }).join("  ").trimEnd()
  ).join("\n");
}

function codesOf(breakdown: KPIBreakdown): ComparisonCode[] {
  const codes = new Set<ComparisonCode>();
  for (const dimension of breakdown.dimensions) {
    for (const row of dimension.rows) {
      for (const code of Object.keys(row.comparisons)) {
        codes.add(code as ComparisonCode);
      }
    }
  }
  return [...codes];
}

function share(value: number | null): string {
  return value === null ? "—" : `${(value * 100).toFixed(1)}%`;
}

/**
 * Renders breakdowns: per KPI and dimension, each segment's value, share
 * and change per comparison.
 *
 * @param breakdowns The breakdowns.
 * @param format Which format.
 * @param options Bars.
 * @returns The text, ending with a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = formatBreakdowns([{
 *   name: "revenue", label: "Revenue", unit: "USD", periodStart: "2024-11-01",
 *   periodEnd: "2024-12-01", value: 100, method: "additive", error: null,
 *   dimensions: [{ dimension: "region", segments: 2, cut: null, rows: [
 *     { segment: { region: "EU" }, value: 70, share: 0.7, comparisons: {} },
 *     { segment: { region: null }, value: 30, share: 0.3, comparisons: {} },
 *   ] }],
 * }], "table", { bars: false });
 * assert.match(text, /region=EU +70 USD +70\.0%/);
 * assert.match(text, /region=\(NULL\) +30 USD +30\.0%/);
 * ```
 */
export function formatBreakdowns(
  breakdowns: readonly KPIBreakdown[],
  format: ReportFormat,
  options: FormatSegmentsOptions = {},
): string {
  // Starts like formatDrivers on purpose (same options, JSON first); the
  // tables they write differ.
  const bars = options.bars ?? true;
  if (format === "json") {
    return JSON.stringify({ breakdowns }, null, 2) + "\n";
  }
  if (format === "csv") return breakdownsCsv(breakdowns);
  const blocks = breakdowns.flatMap((b) =>
    b.error
      ? [`${b.label}: ${b.error}`]
      : b.dimensions.map((d) => breakdownBlock(b, d, format, bars))
  );
  return blocks.join("\n\n") + "\n";
}

/** Breakdowns as CSV: a row per segment, or per KPI that failed. */
function breakdownsCsv(breakdowns: readonly KPIBreakdown[]): string {
  const codes = [...new Set(breakdowns.flatMap(codesOf))];
  const rows: (string | number | null)[][] = [[
    "kpi",
    "dimension",
    "segment",
    "other",
    "value",
    "share",
    ...codes.flatMap((c) => [`${c}_previous`, `${c}_change_pct`]),
    "error",
  ]];
  for (const b of breakdowns) {
    if (b.error) {
      rows.push([
        b.name,
        "",
        "",
        "",
        null,
        null,
        ...codes.flatMap(() => [null, null]),
        b.error,
      ]);
      continue;
    }
    for (const d of b.dimensions) {
      for (const row of d.rows) {
        rows.push([
          b.name,
          d.dimension,
          row.segment[d.dimension] ?? null,
          row.other ?? null,
          row.value,
          row.share,
          ...codes.flatMap((c) => [
            row.comparisons[c]?.previousValue ?? null,
            row.comparisons[c]?.changePct ?? null,
          ]),
          "",
        ]);
      }
    }
  }
  return toCsv(rows.map((row) => row.map((cell) => cell ?? "")));
}

/** One KPI by one dimension, as a table or Markdown. */
function breakdownBlock(
  b: KPIBreakdown,
  d: KPIBreakdown["dimensions"][number],
  format: ReportFormat,
  bars: boolean,
): string {
  const codes = codesOf(b);
  const title =
    `${b.label} by ${d.dimension} (${b.periodStart} to ${b.periodEnd}, total ${
      formatValue(b.value, b.unit)
    })`;
  const head = ["Segment", "Value", "Share", ...codes];
  const body = d.rows.map((row) => [
    segmentLabel(row.segment, row.other),
    formatValue(row.value, b.unit),
    share(row.share),
    ...codes.map((c) => formatChange(row.comparisons[c]?.changePct ?? null)),
  ]);
  const cut = d.cut
    ? `\n${d.cut.cut} of ${d.cut.segments} segments beyond the cap of ${d.cut.limit} are folded into other`
    : "";
  if (format === "markdown") {
    return [`### ${title}`, "", ...markdownTable(head, body)].join("\n") + cut;
  }
  const withBars = bars
    ? body.map((cells, i) => [...cells, bar(d.rows[i]?.share ?? 0)])
    : body;
  return `${title}\n${
    align(
      [bars ? [...head, ""] : head, ...withBars],
      [false, true, true, ...codes.map(() => true), false],
    )
  }${cut}`;
}

/** A Markdown table's lines: the head, the alignment row, the body. */
function markdownTable(head: string[], body: string[][]): string[] {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(head),
    line(head.map((_, i) => (i === 0 ? "---" : "---:"))),
    ...body.map(line),
  ];
}

/**
 * Renders drivers: the slices that explain a change, largest first, with
 * their contribution (and rate and mix effects for ratios) and what is left
 * unexplained.
 *
 * @param drivers The drivers of one or more KPIs.
 * @param format Which format.
 * @param options Bars.
 * @returns The text, ending with a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = formatDrivers([{
 *   name: "revenue", label: "Revenue", unit: "USD", compare: "MoM",
 *   periodStart: "2024-11-01", periodEnd: "2024-12-01", previousStart: "2024-10-01",
 *   previousEnd: "2024-11-01", value: 80, previousValue: 100, change: -20,
 *   changePct: -20, method: "additive", dimensions: ["region"],
 *   drivers: [{ segment: { region: "EU" }, contribution: -18, contributionPct: 90,
 *     value: 30, previousValue: 48 }],
 *   unexplained: -2, unexplainedPct: 10, note: null, error: null,
 * }], "table", { bars: false });
 * assert.match(text, /Revenue MoM: -20 USD \(▼ -20\.0%\), 100 USD → 80 USD/);
 * assert.match(text, /region=EU +-18 USD +90\.0%/);
 * assert.match(text, /Unexplained: -2 USD \(10\.0%\)/);
 * ```
 */
export function formatDrivers(
  drivers: readonly KPIDrivers[],
  format: ReportFormat,
  options: FormatSegmentsOptions = {},
): string {
  // Starts like formatBreakdowns on purpose (same options, JSON first); the
  // tables they write differ.
  const bars = options.bars ?? true;
  if (format === "json") {
    return JSON.stringify(
      drivers.length === 1 ? drivers[0] : { drivers },
      null,
      2,
    ) + "\n";
  }
  if (format === "csv") return driversCsv(drivers);
  return drivers.map((d) => driversBlock(d, format, bars)).join("\n\n") +
    "\n";
}

/** Drivers as CSV: a row per slice, then what is left unexplained. */
function driversCsv(drivers: readonly KPIDrivers[]): string {
  const rows: (string | number | null)[][] = [[
    "kpi",
    "compare",
    "segment",
    "contribution",
    "contribution_pct",
    "rate_effect",
    "mix_effect",
    "value",
    "previous_value",
  ]];
  for (const d of drivers) {
    for (const driver of d.drivers) {
      rows.push([
        d.name,
        d.compare,
        segmentLabel(driver.segment),
        driver.contribution,
        driver.contributionPct,
        driver.rateEffect ?? null,
        driver.mixEffect ?? null,
        driver.value,
        driver.previousValue,
      ]);
    }
    rows.push([
      d.name,
      d.compare,
      "(unexplained)",
      d.unexplained,
      d.unexplainedPct,
      null,
      null,
      null,
      null,
    ]);
  }
  return toCsv(rows.map((row) => row.map((cell) => cell ?? "")));
}

/** One KPI's drivers, as a table or Markdown. */
function driversBlock(
  d: KPIDrivers,
  format: ReportFormat,
  bars: boolean,
): string {
  const pct = (x: number | null) => x === null ? "—" : `${x.toFixed(1)}%`;
  const title = `${d.label} ${d.compare}: ${
    d.change === null
      ? "—"
      : `${d.change > 0 ? "+" : ""}${formatValue(d.change, d.unit)}`
  } (${formatChange(d.changePct)}), ${formatValue(d.previousValue, d.unit)} → ${
    formatValue(d.value, d.unit)
  }`;
  if (d.error) return `${d.label}: ${d.error}`;
  if (d.note) return `${title}\n${d.note}`;
  const ratio = d.method === "ratio";
  const head = [
    "Segment",
    "Contribution",
    "Share",
    ...(ratio ? ["Rate effect", "Mix effect"] : []),
    "Before",
    "After",
  ];
  const body = d.drivers.map((driver) => [
    segmentLabel(driver.segment),
    formatValue(driver.contribution, d.unit),
    pct(driver.contributionPct),
    ...(ratio
      ? [
        formatValue(driver.rateEffect ?? null, d.unit),
        formatValue(driver.mixEffect ?? null, d.unit),
      ]
      : []),
    formatValue(driver.previousValue, d.unit),
    formatValue(driver.value, d.unit),
  ]);
  const rest = `Unexplained: ${formatValue(d.unexplained, d.unit)} (${
    pct(d.unexplainedPct)
  })`;
  if (format === "markdown") {
    return [`### ${title}`, "", ...markdownTable(head, body), "", rest].join(
      "\n",
    );
  }
  const withBars = bars
    ? body.map((cells, i) => [
      ...cells,
      bar((d.drivers[i]?.contributionPct ?? 0) / 100),
    ])
    : body;
  return `${title}\n${
    align(
      [bars ? [...head, ""] : head, ...withBars],
      head.map((_, i) => i > 0).concat([false]),
    )
  }\n${rest}`;
}
