/**
 * What a run adds to a KPI's value when the KPI asks for it: an anomaly
 * baseline learned from its own series, and its target with pace and
 * projection. Both come from series of the same grain as the period, so a
 * run needs no stored history to start.
 *
 * @module
 */

import {
  type AnomalyBaseline,
  computeBaseline,
  DEFAULT_ANOMALY_WINDOW,
} from "../anomaly/compute_baseline.ts";
import {
  computePace,
  learnWeekdayWeights,
  type TargetStatus,
} from "../targets/compute_pace.ts";
import { periodGrain } from "../series/period_grain.ts";
import {
  addGrains,
  bucketStart,
  type Grain,
  GRAINS,
} from "../series/series_buckets.ts";
import type {
  SeriesOptions,
  SeriesResult,
} from "../series/build_series_points.ts";
import type { KPIDefinition, Period } from "../types.ts";
import { isTargetSource, type TargetRead } from "./_target_sources.ts";

/** A KPI's anomaly baseline and target status for one period. */
export interface KpiInsight {
  anomaly?: AnomalyBaseline;
  target?: TargetStatus;
  /** Why a target read from the database is missing. */
  targetNote?: string;
}

/** What {@linkcode computeInsights} needs of the engine. */
export interface InsightContext {
  /** The engine's series. */
  series(
    names: readonly string[],
    options: SeriesOptions,
  ): Promise<SeriesResult>;
  /** Resolves an absolute period string (target keys). */
  resolvePeriod(text: string): Period;
  /** Reads the targets of KPIs whose target is read from their database, for one whole period. */
  readTargets(
    definitions: readonly KPIDefinition[],
    bucket: { start: string; end: string },
  ): Promise<Map<string, TargetRead>>;
  /** First day of the week. */
  weekStart: number;
}

/** How many days of daily values teach the weekday pace. */
const PACE_TRAINING_DAYS = 56;

/**
 * The whole bucket a period belongs to: the period itself when it is a
 * bucket, the bucket it starts when it is that bucket to date (a running
 * `this_month`), else null.
 */
export function bucketOf(
  period: Pick<Period, "start" | "end">,
  weekStart: number,
): { grain: Grain; start: string; end: string } | null {
  const exact = periodGrain(period, { weekStart });
  if (exact !== "custom") return { grain: exact, ...period };
  const start = Temporal.PlainDate.from(period.start);
  const end = Temporal.PlainDate.from(period.end);
  for (const grain of GRAINS) {
    if (!bucketStart(start, grain, weekStart).equals(start)) continue;
    const bucketEnd = addGrains(start, grain, 1);
    if (Temporal.PlainDate.compare(end, bucketEnd) < 0) {
      return { grain, start: period.start, end: bucketEnd.toString() };
    }
  }
  return null;
}

/**
 * The target of a KPI for the bucket `[start, end)` from the file, or null
 * (also for a target read from the database: see `readTargets`).
 */
export function targetFor(
  definition: KPIDefinition,
  bucket: { start: string; end: string },
  resolve: (text: string) => Period,
): number | null {
  const target = definition.target;
  if (target === undefined || isTargetSource(target)) return null;
  if (typeof target === "number") return target;
  for (const [key, value] of Object.entries(target)) {
    const period = resolve(key);
    if (period.start === bucket.start && period.end === bucket.end) {
      return value;
    }
  }
  return null;
}

/** One series a run reads for its insights: which KPIs, over which span. */
export interface InsightSeriesCall {
  /** The KPIs whose series is read. */
  names: string[];
  /** The grain and span: `last` buckets ending the day before `to`'s next. */
  options: SeriesOptions & { grain: Grain; to: string; last: number };
}

/**
 * The series a run reads for the insights of one period, as
 * {@linkcode computeInsights} reads them (and `explain` prints them).
 * `anomaly` is null when KPIs ask for a baseline the period cannot have
 * (not a whole bucket), undefined when none asks; `pace` is the daily
 * series that teaches the weekday pace of a period in progress.
 *
 * @param definitions The KPIs of the run.
 * @param period The period computed.
 * @param weekStart First day of the week.
 * @returns The anomaly training series and the pace series.
 */
export function insightSeries(
  definitions: readonly KPIDefinition[],
  period: Period,
  weekStart: number,
): {
  anomaly: InsightSeriesCall | null | undefined;
  pace: InsightSeriesCall | undefined;
} {
  const anomalous = definitions.filter((d) => d.anomaly !== undefined);
  let anomaly: InsightSeriesCall | null | undefined;
  if (anomalous.length > 0) {
    const exact = periodGrain(period, { weekStart });
    anomaly = exact === "custom" ? null : {
      names: anomalous.map((d) => d.name),
      options: {
        grain: exact,
        to: Temporal.PlainDate.from(period.start).subtract({ days: 1 })
          .toString(),
        last: Math.max(
          ...anomalous.map((d) =>
            d.anomaly?.window ?? DEFAULT_ANOMALY_WINDOW[exact]
          ),
        ),
        comparisons: false,
      },
    };
  }
  const bucket = bucketOf(period, weekStart);
  const weekday = definitions.filter((d) =>
    d.target !== undefined && d.pace?.method === "weekday"
  );
  const pace = bucket !== null && bucket.end !== period.end &&
      weekday.length > 0
    ? {
      names: weekday.map((d) => d.name),
      options: {
        grain: "day" as const,
        to: Temporal.PlainDate.from(bucket.start).subtract({ days: 1 })
          .toString(),
        last: PACE_TRAINING_DAYS,
        comparisons: false,
      },
    }
    : undefined;
  return { anomaly, pace };
}

/**
 * Computes the insights of the KPIs that ask for them, for one period:
 * one series query per grain for the anomaly baselines' training points,
 * and one for the weekday pace where it is used.
 *
 * @param definitions The KPIs of the run.
 * @param period The period computed.
 * @param values Each KPI's value for the period.
 * @param context The engine's series and settings.
 * @returns The insights by KPI name.
 */
export async function computeInsights(
  definitions: readonly KPIDefinition[],
  period: Period,
  values: ReadonlyMap<string, number | null>,
  context: InsightContext,
): Promise<Map<string, KpiInsight>> {
  const insights = new Map<string, KpiInsight>();
  const plan = insightSeries(definitions, period, context.weekStart);
  const anomalous = definitions.filter((d) => d.anomaly !== undefined);
  if (plan.anomaly === null) {
    for (const definition of anomalous) {
      insights.set(definition.name, {
        anomaly: noBaseline(
          `No anomaly baseline for ${period.label}: baselines are learned for whole days, weeks, months, quarters and years`,
        ),
      });
    }
  } else if (plan.anomaly !== undefined) {
    const { names, options } = plan.anomaly;
    const training = await context.series(names, options);
    for (const definition of anomalous) {
      insights.set(definition.name, {
        anomaly: computeBaseline(
          values.get(definition.name) ?? null,
          period.start,
          training.points[definition.name] ?? [],
          options.grain,
          definition.anomaly,
        ),
      });
    }
  }

  const bucket = bucketOf(period, context.weekStart);
  const targeted = definitions.filter((d) => d.target !== undefined);
  if (bucket !== null && targeted.length > 0) {
    const daily = plan.pace
      ? await context.series(plan.pace.names, plan.pace.options)
      : null;
    const sourced = targeted.filter((d) => isTargetSource(d.target));
    const read = sourced.length > 0
      ? await context.readTargets(sourced, bucket)
      : new Map<string, TargetRead>();
    for (const definition of targeted) {
      const fromDatabase = read.get(definition.name);
      const target = fromDatabase
        ? fromDatabase.value
        : targetFor(definition, bucket, context.resolvePeriod);
      if (target === null) {
        if (fromDatabase?.note) {
          insights.set(definition.name, {
            ...insights.get(definition.name),
            targetNote: fromDatabase.note,
          });
        }
        continue;
      }
      const weights = daily?.points[definition.name];
      const status = computePace(
        values.get(definition.name) ?? null,
        target,
        bucket,
        period.end,
        {
          method: definition.pace?.method ?? "calendar",
          ...(weights ? { weekdayWeights: learnWeekdayWeights(weights) } : {}),
          ...(definition.pace?.minElapsed === undefined
            ? {}
            : { minElapsed: definition.pace.minElapsed }),
        },
      );
      insights.set(definition.name, {
        ...insights.get(definition.name),
        target: status,
      });
    }
  }
  return insights;
}

/**
 * The insight of a closed period from values already at hand (a backtest):
 * the baseline from the earlier points of the same series, and the target
 * status of the whole period.
 */
export function insightFromSeries(
  definition: KPIDefinition,
  period: Period,
  grain: Grain,
  earlier: readonly { periodStart: string; value: number | null }[],
  value: number | null,
  resolve: (text: string) => Period,
  read?: TargetRead,
): KpiInsight | undefined {
  const insight: KpiInsight = {};
  if (definition.anomaly !== undefined) {
    insight.anomaly = computeBaseline(
      value,
      period.start,
      earlier,
      grain,
      definition.anomaly,
    );
  }
  const target = read ? read.value : targetFor(definition, period, resolve);
  if (target !== null) {
    insight.target = computePace(value, target, period, period.end);
  } else if (read?.note) insight.targetNote = read.note;
  return insight.anomaly || insight.target || insight.targetNote
    ? insight
    : undefined;
}

function noBaseline(note: string): AnomalyBaseline {
  return {
    expected: null,
    lower: null,
    upper: null,
    score: null,
    baselinePoints: 0,
    anomalous: false,
    note,
  };
}
