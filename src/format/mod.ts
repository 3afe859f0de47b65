/**
 * Formatting: values and changes for people, and whole reports as a
 * table, JSON, CSV or Markdown.
 *
 * @module
 */

export * from "./format_number.ts";
export * from "./format_report.ts";
export * from "./format_series.ts";
