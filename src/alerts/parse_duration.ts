/**
 * Reads a duration such as `4h`, `30m` or `1d`, as written for an alert
 * rule's `repeat_interval`.
 *
 * @module
 */

import { parseDurationMs } from "../config/_duration.ts";

/**
 * Milliseconds in a duration written as one or more numbers with a unit:
 * `ms`, `s`, `m`, `h`, `d` or `w` (`4h`, `30m`, `1d`, `1h30m`, `90s`).
 * Surrounding blanks are ignored; the total must be above zero.
 *
 * @param text The duration, e.g. `4h`.
 * @returns The duration in milliseconds.
 * @throws {RangeError} When the text is not such a duration, or is zero.
 *
 * @example Reading repeat intervals
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseDuration("4h"), 4 * 60 * 60 * 1000);
 * assert.equal(parseDuration("1h30m"), 90 * 60 * 1000);
 * assert.throws(() => parseDuration("four hours"), RangeError);
 * ```
 */
export function parseDuration(text: string): number {
  if (typeof text !== "string") {
    throw new TypeError(
      `Invalid duration ${
        JSON.stringify(text) ?? String(text)
      }: expected a string such as "30m", "4h" or "1d"`,
    );
  }
  return parseDurationMs(text);
}
