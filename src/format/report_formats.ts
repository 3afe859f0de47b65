/**
 * The output formats of the CLI, apart from the formatters (which load a CSV
 * writer), so that the command line can check a flag without loading them.
 *
 * @module
 */

/** An output format of the CLI. */
export type ReportFormat = "table" | "json" | "csv" | "markdown";

/** Every output format. */
export const REPORT_FORMATS: readonly ReportFormat[] = [
  "table",
  "json",
  "csv",
  "markdown",
];
