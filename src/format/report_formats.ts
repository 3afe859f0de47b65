/**
 * The output formats of the CLI, apart from the formatters (which load a CSV
 * writer), so that the command line can check a flag without loading them.
 *
 * @module
 */

/** Every output format of the CLI. */
export const REPORT_FORMATS = ["table", "json", "csv", "markdown"] as const;

/** An output format of the CLI. */
export type ReportFormat = (typeof REPORT_FORMATS)[number];
