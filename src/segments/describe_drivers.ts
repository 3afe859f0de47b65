/**
 * Drivers in one line for alert messages:
 * `region=EU -41,880 (77%), channel=ads -9,100 (17%)`.
 *
 * @module
 */

import type { Driver } from "./types.ts";
export type { AlertDrivers } from "../types.ts";

/** Options of {@linkcode describeDrivers}. */
export interface DescribeDriversOptions {
  /** Most drivers named. @default 3 */
  max?: number;
}

const NUMBER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const SMALL = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 });

function signed(value: number): string {
  const abs = Math.abs(value);
  const text = abs !== 0 && abs < 1 ? SMALL.format(abs) : NUMBER.format(abs);
  return `${value < 0 ? "-" : value > 0 ? "+" : ""}${text}`;
}

/**
 * Names the largest drivers with their contribution and share of the
 * change, e.g. `region=EU -41,880 (77%), channel=ads -9,100 (17%)`; a NULL
 * segment reads `(NULL)`. Empty when there are none.
 *
 * @param drivers The drivers.
 * @param options How many to name.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(describeDrivers([
 *   { segment: { region: "EU" }, contribution: -41880, contributionPct: 77.3, value: 1, previousValue: 2 },
 *   { segment: { channel: null }, contribution: -9100.5, contributionPct: 16.8, value: 1, previousValue: 2 },
 * ]), "region=EU -41,880 (77%), channel=(NULL) -9,100.5 (17%)");
 * ```
 */
export function describeDrivers(
  drivers: readonly Driver[],
  options: DescribeDriversOptions = {},
): string {
  return drivers.slice(0, options.max ?? 3).map((driver) => {
    const segment = Object.entries(driver.segment).map(([d, v]) =>
      `${d}=${v === null ? "(NULL)" : v}`
    ).join(", ");
    const pct = driver.contributionPct === null
      ? ""
      : ` (${Math.round(driver.contributionPct)}%)`;
    return `${segment} ${signed(driver.contribution)}${pct}`;
  }).join(", ");
}
