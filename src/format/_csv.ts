/**
 * CSV text for the report (RFC 4180: comma-separated, `\n` line ends, a
 * field quoted only when it holds a comma, a quote or a line break, quotes
 * doubled). Written here rather than taken from `csv-stringify` so that the
 * core in `mod.ts` loads no CSV package; the history store, which also
 * parses CSV, keeps using `csv-stringify` and `csv-parse`.
 *
 * @module
 */

/** One CSV cell: text or a number; empty text for a missing value. */
export type CsvCell = string | number;

/**
 * Renders rows as CSV text ending with a line break.
 *
 * @param rows The rows, the header first.
 * @returns The CSV text.
 */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return rows.map((row) => row.map(csvField).join(",") + "\n").join("");
}

function csvField(cell: CsvCell): string {
  const text = String(cell);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
