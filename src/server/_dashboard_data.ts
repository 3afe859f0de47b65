/**
 * What the dashboard page gets in one request (`GET /dashboard.json`): the
 * period's results, their numbers already written by the project's one
 * formatter (`formatValue`, `formatChange`), comparisons labelled by what
 * they compare ("vs Jan–Mar"), the target's progress, and each KPI's
 * sparkline points. This module builds the text and declares the answer's
 * schema; `_dashboard_route.ts` gathers the data.
 *
 * @module
 */

import { z } from "zod";
import type { ComparisonResult, KPIResult } from "../types.ts";
import {
  changeArrow,
  formatChange,
  formatNumber,
  formatSigned,
  formatValue,
  withUnit,
} from "../format/format_number.ts";
import { periodText } from "./_period_text.ts";
import { component, KPIResultBody, PeriodBody } from "./_api_schemas.ts";
import { period, refresh } from "./_params.ts";

/** The query of `/dashboard.json`. */
export const dashboardQuery = z.object({
  period: period.optional(),
  refresh: refresh.optional(),
});

const ComparisonText = z.looseObject({
  label: z.string().meta({ examples: ["vs Jan–Mar"] }),
  change: z.string().meta({ examples: ["▲ +20.0%"] }),
  previous: z.string().meta({ examples: ["5,000 USD"] }),
});

const TargetText = z.looseObject({
  target: z.string().meta({ examples: ["8,000 USD"] }),
  attainment: z.string().meta({
    description: "The value over the target due by now.",
    examples: ["94%"],
  }),
  projected: z.string(),
  done: z.number().meta({ description: "value ÷ target, for the bar." }),
  due: z.number().meta({ description: "The share of the period passed." }),
  mark: z.number().nullable().meta({ description: "projected ÷ target." }),
  estimate: z.boolean().meta({
    description: "Too early in the period to trust the projection.",
  }),
  summary: z.string(),
});

const TrendPoint = z.looseObject({
  periodStart: z.string().meta({ format: "date" }),
  periodEnd: z.string().meta({ format: "date" }),
  value: z.number(),
  partial: z.boolean(),
  text: z.string().meta({ examples: ["Nov 2024: 7,480 USD"] }),
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
        target: TargetText.nullable(),
      }),
    ).meta({ description: "By KPI name: its numbers as text." }),
    trend: z.looseObject({
      grain: z.enum(["day", "week", "month", "quarter", "year"]),
      kept: z.boolean().meta({
        description: "Whether the server keeps history (`audit_log`).",
      }),
      points: z.record(z.string(), z.array(TrendPoint)).meta({
        description: "By KPI name: one point per period of the grain, " +
          "oldest first, ending with the viewed period.",
      }),
      source: z.record(z.string(), z.enum(["history", "computed"])),
    }),
  }),
);

/** A comparison as text. */
export interface ComparisonDisplay {
  /** What it compares with: `vs Jan–Mar`. */
  label: string;
  /** The change: `▲ +20.0%`. */
  change: string;
  /** The earlier value: `5,000 USD`. */
  previous: string;
}

/** A KPI's progress towards its target, as the card draws it. */
export interface TargetDisplay {
  /** The target: `8,000 USD`. */
  target: string;
  /** Value over the target due by now: `94%`. */
  attainment: string;
  /** The projection: `8,100 USD`. */
  projected: string;
  /** value ÷ target (the bar's fill). */
  done: number;
  /** The share of the period passed (where the fill should be). */
  due: number;
  /** projected ÷ target (the projection's marker), or null. */
  mark: number | null;
  /** Whether the projection is an early estimate. */
  estimate: boolean;
  /** One line: `7,480 USD of 8,000 USD · 94% of pace · projected 8,100 USD`. */
  summary: string;
}

/** One KPI's numbers as text. */
export interface KpiDisplay {
  /** The value. */
  value: string;
  /** By comparison code. */
  comparisons: Record<string, ComparisonDisplay>;
  /** The target's progress, or null without a target. */
  target: TargetDisplay | null;
}

/**
 * A KPI's numbers as text, by the shared formatter.
 *
 * @param result The result.
 * @param viewYear The year of the viewed period: comparisons inside it are
 *   named without it (`vs Jun`), others with it (`vs Jun 2023`).
 */
export function displayOf(result: KPIResult, viewYear: number): KpiDisplay {
  const comparisons: Record<string, ComparisonDisplay> = {};
  for (const [code, comparison] of Object.entries(result.comparisons)) {
    if (comparison === undefined) continue;
    comparisons[code] = comparisonDisplay(comparison, result.unit, viewYear);
  }
  return {
    value: formatValue(result.value, result.unit),
    comparisons,
    target: targetDisplay(result),
  };
}

function comparisonDisplay(
  comparison: ComparisonResult,
  unit: string | null,
  viewYear: number,
): ComparisonDisplay {
  const { change, changePct } = comparison;
  return {
    label: `vs ${
      periodText(comparison.periodStart, comparison.periodEnd, {
        currentYear: viewYear,
      })
    }`,
    change: changePct !== null
      ? formatChange(changePct)
      : change !== null
      ? `${changeArrow(change)} ${withUnit(formatSigned(change), unit)}`
      : "n/a",
    previous: formatValue(comparison.previousValue, unit),
  };
}

function targetDisplay(result: KPIResult): TargetDisplay | null {
  const { target, pace, unit } = result;
  if (target === undefined || pace === undefined || target === 0) return null;
  const value = result.value ?? 0;
  const projected = result.projected ?? null;
  const attainment = result.attainment ?? null;
  const percent = (x: number | null) =>
    x === null ? "n/a" : `${formatNumber(Math.round(x * 1000) / 10)}%`;
  const projectedText = formatValue(projected, unit);
  const closed = pace.elapsed >= 1;
  return {
    target: formatValue(target, unit),
    attainment: percent(attainment),
    projected: projectedText,
    done: value / target,
    due: pace.elapsed,
    mark: projected === null ? null : projected / target,
    estimate: pace.estimate,
    summary: `${formatValue(result.value, unit)} of ${
      formatValue(target, unit)
    } target · ${percent(attainment)}${closed ? "" : " of pace"}${
      closed
        ? ""
        : ` · projected ${projectedText}${pace.estimate ? " (estimate)" : ""}`
    }`,
  };
}
