/**
 * Alert wording shared by the alert message, the payload builders and the
 * dry-run description: values as alerts write them and date ranges.
 * The numbers themselves come from the one formatter in
 * `format/format_number.ts`.
 */

import { formatValue } from "../format/format_number.ts";

/** A value with its unit as alerts write it: `6,000 USD`, `12.5%`, `n/a`. */
export function formatAlertValue(
  value: number | null | undefined,
  unit: string | null | undefined,
): string {
  return formatValue(value, unit, { missing: "n/a" });
}

/** The last day of a half-open `[start, end)` range of days. */
function lastDay(end: string): string {
  try {
    return Temporal.PlainDate.from(end).subtract({ days: 1 }).toString();
  } catch {
    return end;
  }
}

/** `2024-11-01 to 2024-11-30`, or one day when the range is one day. */
export function formatRange(start: string, end: string): string {
  const last = lastDay(end);
  return last === start ? start : `${start} to ${last}`;
}
