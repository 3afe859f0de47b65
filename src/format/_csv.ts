/**
 * CSV text for reports: `csv-stringify` (RFC 4180, `\n` line ends, a field
 * quoted only when it holds a comma, a quote or a line break).
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";

/** One CSV cell: text or a number; empty text for a missing value. */
export type CsvCell = string | number;

/**
 * Renders rows as CSV text ending with a line break.
 *
 * @param rows The rows, the header first.
 * @returns The CSV text.
 */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return stringify(rows.map((row) => [...row]));
}
