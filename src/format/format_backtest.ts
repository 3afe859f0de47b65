/**
 * A backtest as a table, JSON, CSV or Markdown, for `kpi backtest`; with a
 * second report (`--set` or `--against`), both side by side.
 *
 * @module
 */

import type { BacktestReport, BacktestRule } from "../backtest/run_backtest.ts";
import { toCsv } from "./_csv.ts";
import type { ReportFormat } from "./format_report.ts";

/** A backtest and the name it is shown under. */
export interface NamedBacktest {
  /** What the column is headed, e.g. `kpis.yaml` or `with --set`. */
  name: string;
  /** The report. */
  report: BacktestReport;
}

/**
 * Renders one backtest, or several of the same span side by side.
 *
 * @param backtests The reports, each with its name.
 * @param format `table`, `json`, `csv` or `markdown`.
 * @returns The text, ending with a line break.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const text = formatBacktest([{ name: "kpis.yaml", report: {
 *   grain: "day", start: "2024-01-01", end: "2024-01-04", periods: 3, notices: { ops: 2 },
 *   kpis: [{ name: "orders", label: "Orders", unit: null, points: [], rules: [{
 *     ruleId: "warning:< 5", condition: "< 5", severity: "warning", periodsHeld: 1,
 *     longestFiring: { periods: 1, start: "2024-01-02", end: "2024-01-03" },
 *     notices: { ops: 2 }, events: [],
 *   }] }],
 * } }], "csv");
 * assert.match(text, /^config,kpi,condition,severity,periods_held,fired,resolved,longest_periods,longest_start,longest_end,notices\n/);
 * ```
 */
export function formatBacktest(
  backtests: readonly NamedBacktest[],
  format: ReportFormat,
): string {
  switch (format) {
    case "json":
      return JSON.stringify(
        backtests.length === 1 ? backtests[0]!.report : {
          backtests: backtests.map((b) => ({ name: b.name, ...b.report })),
        },
        null,
        2,
      ) + "\n";
    case "csv":
      return toCsv([
        [
          "config",
          "kpi",
          "condition",
          "severity",
          "periods_held",
          "fired",
          "resolved",
          "longest_periods",
          "longest_start",
          "longest_end",
          "notices",
        ],
        ...rows(backtests).map((r) => [
          r.config,
          r.kpi,
          r.rule.condition,
          r.rule.severity,
          r.rule.periodsHeld,
          count(r.rule, "firing"),
          count(r.rule, "resolved"),
          r.rule.longestFiring?.periods ?? 0,
          r.rule.longestFiring?.start ?? "",
          r.rule.longestFiring?.end ?? "",
          notices(r.rule.notices),
        ]),
      ]);
    case "markdown":
    case "table":
      return formatGrid(backtests, format === "markdown");
  }
}

interface Row {
  config: string;
  kpi: string;
  rule: BacktestRule;
}

function rows(backtests: readonly NamedBacktest[]): Row[] {
  return backtests.flatMap((b) =>
    b.report.kpis.flatMap((kpi) =>
      kpi.rules.map((rule) => ({ config: b.name, kpi: kpi.name, rule }))
    )
  );
}

function count(rule: BacktestRule, status: "firing" | "resolved"): number {
  return rule.events.filter((e) => e.status === status).length;
}

function notices(byChannel: Readonly<Record<string, number>>): string {
  const entries = Object.entries(byChannel);
  return entries.length === 0
    ? "none"
    : entries.map(([name, n]) => `${name}: ${n}`).join(", ");
}

function formatGrid(
  backtests: readonly NamedBacktest[],
  markdown: boolean,
): string {
  const first = backtests[0]?.report;
  if (!first) return "\n";
  const header = [
    ...(backtests.length > 1 ? ["Config"] : []),
    "KPI",
    "Condition",
    "Severity",
    "Held",
    "Fired",
    "Resolved",
    "Longest",
    "Notices",
  ];
  const body = rows(backtests).map((r) => [
    ...(backtests.length > 1 ? [r.config] : []),
    r.kpi,
    r.rule.condition,
    r.rule.severity,
    `${r.rule.periodsHeld}/${first.periods}`,
    String(count(r.rule, "firing")),
    String(count(r.rule, "resolved")),
    r.rule.longestFiring
      ? `${r.rule.longestFiring.periods} from ${r.rule.longestFiring.start}`
      : "-",
    notices(r.rule.notices),
  ]);
  const title =
    `Backtest: ${first.periods} ${first.grain} periods, ${first.start} to ${first.end} (end excluded); nothing was sent`;
  if (markdown) {
    const line = (cells: string[]) =>
      `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
    return [
      `**${title}**`,
      "",
      line(header),
      line(header.map(() => "---")),
      ...body.map(line),
      "",
    ].join("\n");
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((row) => row[i]!.length))
  );
  const render = (cells: string[]) =>
    cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const totals = backtests.map((b) =>
    `${backtests.length > 1 ? `${b.name}: ` : ""}notices per channel: ${
      notices(b.report.notices)
    }`
  );
  return [title, "", render(header), ...body.map(render), "", ...totals, ""]
    .join("\n");
}
