/**
 * Renders configuration issues for people.
 *
 * @module
 */

import type { KPIConfigIssue } from "./kpi_config_error.ts";

/**
 * Renders configuration issues, one block per issue:
 *
 * ```text
 * ✖ Unknown key "agregation" (accepted: name, label, ...)
 *   → at kpis[2].agregation (kpis.yaml:14:5)
 * ```
 *
 * This is the one place issues are turned into text: `KPIConfigError`'s
 * message, the CLI and the server all use it.
 *
 * @param issues The issues, rendered in the order given.
 * @param file The file name to show beside each line number.
 * @returns The rendered text, without a trailing newline.
 *
 * @example Rendering one issue
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const text = formatConfigIssues([
 *   { path: "kpis[0].compare[0]", line: 9, column: 15, message: 'Unknown comparison "mom": did you mean "MoM"?' },
 * ], "kpis.yaml");
 * assert.equal(
 *   text,
 *   '✖ Unknown comparison "mom": did you mean "MoM"?\n  → at kpis[0].compare[0] (kpis.yaml:9:15)',
 * );
 * ```
 */
export function formatConfigIssues(
  issues: readonly KPIConfigIssue[],
  file: string,
): string {
  return issues.map((issue) => {
    let where = file;
    if (issue.line !== null) {
      where += `:${issue.line}`;
      if (issue.column !== null) where += `:${issue.column}`;
    }
    const at = issue.path === "" ? where : `${issue.path} (${where})`;
    return `✖ ${issue.message}\n  → at ${at}`;
  }).join("\n");
}
