/**
 * What the dashboard page asks for in one request (`GET /dashboard.json`):
 * the period's results, each with its numbers already formatted by the
 * project's one formatter (`formatValue`, `formatChange`) and its
 * comparisons labelled by what they compare ("vs Jan–Mar 2024"), and the
 * history points of every KPI for the sparklines.
 *
 * @module
 */

import { z } from "zod";
import type { KPIResult } from "../types.ts";
import { formatChange, formatValue } from "../format/format_value.ts";
import { periodText } from "../format/period_text.ts";
import { component, KPIResultBody, PeriodBody } from "./_api_schemas.ts";
import { period, refresh } from "./_params.ts";

/** The query of `/dashboard.json`: the one of `/kpis`. */
export const dashboardQuery = z.object({
  period: period.optional(),
  refresh: refresh.optional(),
});

/** A comparison as the page shows it. */
const ComparisonText = z.looseObject({
  label: z.string().meta({ examples: ["vs Jan–Mar 2024"] }),
  change: z.string().meta({ examples: ["▲ +20.0%"] }),
  previous: z.string().meta({ examples: ["5,000 USD"] }),
});

/** One sparkline point. */
const HistoryPoint = z.looseObject({
  periodStart: z.string().meta({ format: "date" }),
  periodEnd: z.string().meta({ format: "date" }),
  value: z.number(),
  text: z.string(),
});

/** `GET /dashboard.json`. */
export const DashboardBody = component(
  "Dashboard",
  z.looseObject({
    period: PeriodBody.extend({ text: z.string() }),
    results: z.array(KPIResultBody),
    display: z.record(
      z.string(),
      z.looseObject({
        value: z.string(),
        comparisons: z.record(z.string(), ComparisonText),
      }),
    ).meta({ description: "By KPI name: its numbers as text." }),
    history: z.looseObject({
      kept: z.boolean().meta({
        description: "Whether the file names an `audit_log`.",
      }),
      points: z.record(z.string(), z.array(HistoryPoint)).meta({
        description: "By KPI name: one point per period, oldest first.",
      }),
    }),
  }),
);

/** A comparison as text. */
export interface ComparisonDisplay {
  /** What it compares with: `vs Jan–Mar 2024`. */
  label: string;
  /** The change: `▲ +20.0%`. */
  change: string;
  /** The earlier value: `5,000 USD`. */
  previous: string;
}

/** The body of `GET /dashboard.json` (see `DashboardBody`). */
export interface DashboardData {
  /** The period, with its name as text. */
  period: { label: string; start: string; end: string; text: string };
  /** The results, as `GET /kpis` gives them. */
  results: KPIResult[];
  /** By KPI name, its numbers as text. */
  display: Record<
    string,
    { value: string; comparisons: Record<string, ComparisonDisplay> }
  >;
  /** Whether history is kept, and the sparkline points by KPI name. */
  history: {
    kept: boolean;
    points: Record<
      string,
      { periodStart: string; periodEnd: string; value: number; text: string }[]
    >;
  };
}

/** The parts {@linkcode dashboardData} puts together. */
export interface DashboardParts {
  /** The period computed. */
  period: { label: string; start: string; end: string };
  /** Its results. */
  results: readonly KPIResult[];
  /** Whether history is kept at all. */
  kept: boolean;
  /** By KPI name, the history read (newest first, as stores give it). */
  histories: Readonly<Record<string, readonly KPIResult[]>>;
  /** Most sparkline points per KPI. */
  points: number;
}

/** Builds the body of `GET /dashboard.json`. */
export function dashboardData(parts: DashboardParts): DashboardData {
  const display: DashboardData["display"] = {};
  for (const result of parts.results) {
    const comparisons: Record<string, ComparisonDisplay> = {};
    for (const [code, comparison] of Object.entries(result.comparisons)) {
      if (comparison === undefined) continue;
      comparisons[code] = {
        label: `vs ${periodText(comparison.periodStart, comparison.periodEnd)}`,
        change: comparison.changePct !== null
          ? formatChange(comparison.changePct)
          : comparison.change !== null
          ? `${
            comparison.change > 0 ? "▲ +" : comparison.change < 0 ? "▼ " : "= "
          }${formatValue(comparison.change, result.unit)}`
          : "—",
        previous: formatValue(comparison.previousValue, result.unit),
      };
    }
    display[result.name] = {
      value: formatValue(result.value, result.unit),
      comparisons,
    };
  }
  const points: DashboardData["history"]["points"] = {};
  for (const result of parts.results) {
    points[result.name] = sparkPoints(
      parts.histories[result.name] ?? [],
      parts.points,
      grainOf(parts.period.start, parts.period.end),
    ).map((r) => ({
      periodStart: r.periodStart,
      periodEnd: r.periodEnd,
      value: r.value as number,
      text: `${periodText(r.periodStart, r.periodEnd)}: ${
        formatValue(r.value, r.unit)
      }`,
    }));
  }
  return {
    period: {
      ...parts.period,
      text: periodText(parts.period.start, parts.period.end),
    },
    results: [...parts.results],
    display,
    history: { kept: parts.kept, points },
  };
}

/**
 * The latest result of each period of the shown period's grain with a
 * value, oldest period first: a monthly view draws months only, not the
 * quarters and days that were also computed.
 */
function sparkPoints(
  history: readonly KPIResult[],
  max: number,
  grain: string,
): KPIResult[] {
  const seen = new Set<string>();
  const points: KPIResult[] = [];
  for (const result of history) {
    const key = `${result.periodStart}..${result.periodEnd}`;
    if (
      seen.has(key) || result.value === null || result.error !== null ||
      grainOf(result.periodStart, result.periodEnd) !== grain
    ) {
      continue;
    }
    seen.add(key);
    points.push(result);
  }
  points.sort((a, b) =>
    a.periodStart.localeCompare(b.periodStart) ||
    a.periodEnd.localeCompare(b.periodEnd)
  );
  return points.slice(-max);
}

/** `day`, `week`, `month`, `quarter`, `year`, or `N days` for other ranges. */
function grainOf(start: string, end: string): string {
  const first = Temporal.PlainDate.from(start);
  const next = Temporal.PlainDate.from(end);
  if (first.day === 1 && next.day === 1) {
    const months = (next.year - first.year) * 12 + next.month - first.month;
    if (months === 1) return "month";
    if (months === 3 && (first.month - 1) % 3 === 0) return "quarter";
    if (months === 12 && first.month === 1) return "year";
  }
  const days = first.until(next, { largestUnit: "days" }).days;
  return days === 1 ? "day" : days === 7 ? "week" : `${days} days`;
}
