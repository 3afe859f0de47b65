import type { Period } from "./types.ts";

/** Key of one KPI's value for one period, e.g. `revenue@2024-11-01/2024-12-01`. */
export function valueKey(
  name: string,
  period: Pick<Period, "start" | "end">,
): string {
  if (!Object.isFrozen(period)) return `${name}@${period.start}/${period.end}`;
  let byName = keysOfFrozen.get(period);
  if (byName === undefined) keysOfFrozen.set(period, byName = new Map());
  let key = byName.get(name);
  if (key === undefined) {
    byName.set(name, key = `${name}@${period.start}/${period.end}`);
  }
  return key;
}

/**
 * Keys of frozen periods (the buckets of a series are), made once per KPI:
 * the same string each time, whose hash the map already knows.
 */
const keysOfFrozen = new WeakMap<object, Map<string, string>>();

/** A fetched value, or why it could not be had. */
export interface FetchedValue {
  /** The value; null when there were no rows or it failed. */
  value: number | null;
  /** Why it failed, or null. */
  error: string | null;
  /** Time spent fetching it, in milliseconds. */
  durationMs: number;
  /** Why the value is null without an error, if known. */
  note?: string;
}
