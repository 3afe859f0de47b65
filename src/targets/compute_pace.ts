/**
 * Targets and pace: how a KPI stands against its target for a period, and
 * where it is heading when the period is still running.
 *
 * @module
 */

import type { BaselineSample } from "../anomaly/compute_baseline.ts";
import { roundStatistic } from "../_numbers.ts";

/** How the share of a running period that has passed is measured. */
export type PaceMethod = "calendar" | "weekday";

/** Where a KPI stands against its target; the fields a result carries. */
export interface TargetStatus {
  /** The target for the whole period. */
  target: number;
  /**
   * The value over the target due by now: `value ÷ targetToDate` (1 = on
   * pace; for a closed period, `value ÷ target`).
   */
  attainment: number | null;
  /**
   * The value projected to the end of the period: `value ÷ elapsed` (the
   * value itself for a closed period).
   */
  projected: number | null;
  /** How the projection was made. */
  pace: {
    /** The share of the period that has passed, 0 to 1 (1 when closed). */
    elapsed: number;
    /** The part of the target due by now: `target × elapsed`. */
    targetToDate: number;
    /** True while too little of the period has passed to trust `projected`. */
    estimate: boolean;
    /** `calendar` (days) or `weekday` (days weighted by their usual share). */
    method: PaceMethod;
  };
}

/** Options of {@linkcode computePace}. */
export interface ComputePaceOptions {
  /** How elapsed time is weighted. @default "calendar" */
  method?: PaceMethod;
  /**
   * Weight of each day of the week, Monday first (from
   * {@linkcode learnWeekdayWeights}); used by the `weekday` method.
   * @default equal weights
   */
  weekdayWeights?: readonly number[];
  /**
   * The share of the period that must have passed before `projected` is
   * trusted (and alerted on). @default 0.25
   */
  minElapsed?: number;
}

/**
 * Compares a value with its target. `toDate` is the part of the bucket
 * computed so far: `[bucketStart, toDateEnd)`; when it equals the bucket,
 * the period is closed.
 *
 * @param value The value computed for the period so far.
 * @param target The target for the whole bucket.
 * @param bucket The whole period the target is for (`start`, `end` ISO days, end excluded).
 * @param toDateEnd The first day not yet computed (the period's end).
 * @param options The pace method and the estimate threshold.
 * @returns The target, attainment, projection and pace.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * // 15 of November's 30 days have passed; 140,000 of a 300,000 target is in.
 * const status = computePace(140_000, 300_000, { start: "2024-11-01", end: "2024-12-01" }, "2024-11-16");
 * assert.equal(status.pace.elapsed, 0.5);
 * assert.equal(status.pace.targetToDate, 150_000);
 * assert.equal(status.projected, 280_000);
 * assert.equal(Math.round(status.attainment! * 1000) / 1000, 0.933);
 * ```
 */
export function computePace(
  value: number | null,
  target: number,
  bucket: { start: string; end: string },
  toDateEnd: string,
  options: ComputePaceOptions = {},
): TargetStatus {
  const method = options.method ?? "calendar";
  const elapsed = elapsedShare(bucket, toDateEnd, method, options);
  const targetToDate = roundStatistic(target * elapsed);
  const estimate = elapsed < 1 && elapsed < (options.minElapsed ?? 0.25);
  return {
    target,
    attainment: value === null || targetToDate === 0
      ? null
      : roundStatistic(value / targetToDate),
    projected: value === null || elapsed === 0
      ? null
      : roundStatistic(value / elapsed),
    pace: { elapsed: roundStatistic(elapsed), targetToDate, estimate, method },
  };
}

/**
 * The usual weight of each day of the week, Monday first, from earlier
 * daily values: each weekday's mean over the mean of all days (1 = an
 * average day). Days without data weigh 1.
 *
 * @param daily Earlier daily points (e.g. the last 8 weeks).
 * @returns Seven weights, Monday first.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * // Weekends sell nothing: weekdays weigh 1.4, Saturday and Sunday 0.
 * const days = Array.from({ length: 14 }, (_, i) => {
 *   const day = Temporal.PlainDate.from("2024-01-01").add({ days: i });
 *   return { periodStart: day.toString(), value: day.dayOfWeek > 5 ? 0 : 10 };
 * });
 * assert.deepEqual(learnWeekdayWeights(days), [1.4, 1.4, 1.4, 1.4, 1.4, 0, 0]);
 * ```
 */
export function learnWeekdayWeights(
  daily: readonly BaselineSample[],
): number[] {
  const sums = new Array<number>(7).fill(0);
  const counts = new Array<number>(7).fill(0);
  for (const point of daily) {
    if (typeof point.value !== "number" || !Number.isFinite(point.value)) {
      continue;
    }
    const d = Temporal.PlainDate.from(point.periodStart).dayOfWeek - 1;
    sums[d]! += point.value;
    counts[d]! += 1;
  }
  const means = sums.map((sum, d) => counts[d]! > 0 ? sum / counts[d]! : null);
  const known = means.filter((m): m is number => m !== null);
  const overall = known.reduce((a, b) => a + b, 0) / (known.length || 1);
  if (known.length === 0 || overall <= 0) return new Array<number>(7).fill(1);
  return means.map((m) => m === null ? 1 : roundStatistic(m / overall));
}

function elapsedShare(
  bucket: { start: string; end: string },
  toDateEnd: string,
  method: PaceMethod,
  options: ComputePaceOptions,
): number {
  const start = Temporal.PlainDate.from(bucket.start);
  const end = Temporal.PlainDate.from(bucket.end);
  const cut = Temporal.PlainDate.from(toDateEnd);
  if (Temporal.PlainDate.compare(cut, end) >= 0) return 1;
  const weights = method === "weekday" && options.weekdayWeights?.length === 7
    ? options.weekdayWeights
    : null;
  let total = 0;
  let done = 0;
  for (
    let day = start;
    Temporal.PlainDate.compare(day, end) < 0;
    day = day.add({ days: 1 })
  ) {
    const weight = weights ? weights[day.dayOfWeek - 1]! : 1;
    total += weight;
    if (Temporal.PlainDate.compare(day, cut) < 0) done += weight;
  }
  return total === 0 ? 0 : done / total;
}
