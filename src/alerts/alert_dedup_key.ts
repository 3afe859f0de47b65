/**
 * The key that ties a firing alert to its resolve notice (PagerDuty's
 * `dedup_key`, the webhook's `dedupKey`).
 *
 * @module
 */

const MAX_LENGTH = 255;

/**
 * A stable key made of the KPI name, the rule id and the period the alert
 * fired for: `kpi-engine/revenue/critical:< 100000/2024-11-01..2024-12-01`.
 * Keys longer than PagerDuty's 255 characters are shortened, ending in a
 * hash of the whole, so they stay distinct.
 *
 * @param kpi The KPI name.
 * @param rule The rule id within the KPI (`severity:condition`).
 * @param options The period the alert fired for, `[start, end)` ISO days.
 * @returns The key, at most 255 characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   alertDedupKey("revenue", "critical:< 100000", {
 *     periodStart: "2024-11-01", periodEnd: "2024-12-01" }),
 *   "kpi-engine/revenue/critical:< 100000/2024-11-01..2024-12-01",
 * );
 * ```
 */
export function alertDedupKey(
  kpi: string,
  rule: string,
  options: { periodStart: string; periodEnd: string },
): string {
  const key =
    `kpi-engine/${kpi}/${rule}/${options.periodStart}..${options.periodEnd}`;
  if (key.length <= MAX_LENGTH) return key;
  const hash = fnv1a(key);
  return `${key.slice(0, MAX_LENGTH - hash.length - 1)}#${hash}`;
}

/** 64-bit FNV-1a of the UTF-16 code units, as 16 hex digits. */
function fnv1a(text: string): string {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * prime) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0");
}
