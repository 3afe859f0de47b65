/**
 * The numbers of a breakdown and of drivers as text, written by the
 * project's one formatter, for the dashboard's drivers dialog: the
 * `/breakdown` and `/drivers` answers carry them as `text`, so the page
 * formats nothing itself.
 *
 * @module
 */

import type { KPIBreakdown, KPIDrivers } from "../segments/types.ts";
import {
  formatChange,
  formatSigned,
  formatValue,
  withUnit,
} from "../format/format_number.ts";
import { segmentLabel } from "../format/format_segments.ts";

/** A share or percentage with one decimal, as the CLI writes it: `62.5%`. */
function percent(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return "—";
  return `${pct.toFixed(1)}%`;
}

/** The text of `GET /kpis/{name}/drivers`. */
export interface DriversText {
  /** The value: `7,480 USD`. */
  value: string;
  /** The compared value. */
  previousValue: string;
  /** The change in percent with its arrow: `▲ +12.5%`. */
  change: string;
  /** What the listed drivers leave unexplained. */
  unexplained: string;
  /** Each driver, in the answer's order. */
  drivers: {
    segment: string;
    contribution: string;
    contributionPct: string;
    rateEffect?: string;
    mixEffect?: string;
  }[];
}

/** The drivers' numbers as text. */
export function driversText(d: KPIDrivers): DriversText {
  const signed = (x: number) => withUnit(formatSigned(x), d.unit);
  return {
    value: formatValue(d.value, d.unit),
    previousValue: formatValue(d.previousValue, d.unit),
    change: formatChange(d.changePct),
    unexplained: formatValue(d.unexplained, d.unit),
    drivers: d.drivers.map((driver) => ({
      segment: segmentLabel(driver.segment),
      contribution: signed(driver.contribution),
      contributionPct: percent(driver.contributionPct),
      ...(driver.rateEffect === undefined
        ? {}
        : { rateEffect: signed(driver.rateEffect) }),
      ...(driver.mixEffect === undefined
        ? {}
        : { mixEffect: signed(driver.mixEffect) }),
    })),
  };
}

/** The text of `GET /kpis/{name}/breakdown`: rows by dimension. */
export interface BreakdownText {
  /** Per dimension, in the answer's order. */
  dimensions: {
    dimension: string;
    rows: {
      segment: string;
      value: string;
      share: string;
      comparisons: Record<string, string>;
    }[];
  }[];
}

/** The breakdown's numbers as text. */
export function breakdownText(b: KPIBreakdown): BreakdownText {
  return {
    dimensions: b.dimensions.map((d) => ({
      dimension: d.dimension,
      rows: d.rows.map((row) => ({
        segment: segmentLabel(row.segment, row.other),
        value: formatValue(row.value, b.unit),
        share: percent(row.share === null ? null : row.share * 100),
        comparisons: Object.fromEntries(
          Object.entries(row.comparisons).map(([code, c]) => [
            code,
            formatChange(c?.changePct ?? null),
          ]),
        ),
      })),
    })),
  };
}
