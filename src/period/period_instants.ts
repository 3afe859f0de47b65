/**
 * Turns a period's days into instants: midnight at `start` and at `end` in
 * the period's time zone.
 *
 * @module
 */

import type { Period } from "../types.ts";
import { canonicalTimeZone, periodDay } from "./_dates.ts";

/** A period as epoch milliseconds, half-open `[startMs, endMs)`. */
export interface PeriodInstants {
  /** Epoch milliseconds of the start of the first day. */
  startMs: number;
  /** Epoch milliseconds of the start of the first day after the period. */
  endMs: number;
}

/**
 * Gives the epoch milliseconds at which a period starts and ends: the first
 * instant of its `start` day and of its `end` day in `period.timezone`.
 * On a day whose midnight is skipped by a DST change the day starts at the
 * first instant that exists (e.g. 01:00), so days may last 23 or 25 hours.
 *
 * @param period The period.
 * @returns The half-open range `[startMs, endMs)` in epoch milliseconds.
 * @throws {RangeError} For a day that is not a valid `YYYY-MM-DD`, or an
 * invalid time zone.
 * @throws {TypeError} For a period whose fields are not strings.
 *
 * @example A day that lasts 23 hours
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const { startMs, endMs } = periodInstants({
 *   label: "2024-03-10",
 *   start: "2024-03-10",
 *   end: "2024-03-11",
 *   timezone: "America/Toronto",
 * });
 * assert.equal(new Date(startMs).toISOString(), "2024-03-10T05:00:00.000Z");
 * assert.equal((endMs - startMs) / 3_600_000, 23);
 * ```
 */
export function periodInstants(period: Period): PeriodInstants {
  if (typeof period !== "object" || period === null) {
    throw new TypeError(
      `Cannot convert period ${
        JSON.stringify(String(period))
      }: expected an object with label, start, end and timezone`,
    );
  }
  const known = ofFrozen.get(period);
  if (known !== undefined) return { startMs: known[0], endMs: known[1] };
  const timeZone = canonicalTimeZone(period.timezone);
  const startMs = startOfDayMs(period.start, "start", timeZone);
  const endMs = startOfDayMs(period.end, "end", timeZone);
  if (Object.isFrozen(period)) ofFrozen.set(period, [startMs, endMs]);
  return { startMs, endMs };
}

/**
 * Instants of frozen periods (the buckets of a series are), kept with the
 * period: a series of 730 days then asks for no zone or day per bucket.
 */
const ofFrozen = new WeakMap<Period, readonly [number, number]>();

/** Midnights already computed, by zone and day (a series asks for many). */
const midnights = new Map<string, number>();

function startOfDayMs(day: unknown, field: string, timeZone: string): number {
  const key = `${timeZone} ${String(day)}`;
  const known = midnights.get(key);
  if (known !== undefined) return known;
  const ms = periodDay(day, field).toZonedDateTime({ timeZone }).startOfDay()
    .epochMilliseconds;
  if (midnights.size >= 100_000) midnights.clear();
  midnights.set(key, ms);
  return ms;
}
