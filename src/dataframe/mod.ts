/**
 * In-memory tables: row, columnar and typed-array input, aggregated per
 * period by a kernel that reads each sorted slice once.
 *
 * @module
 */

export * from "./fetch_dataframe_values.ts";
