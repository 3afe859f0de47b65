/**
 * The error a bad configuration file or definition list raises.
 *
 * @module
 */

import { formatConfigIssues } from "./format_config_issues.ts";

/** One problem found in a configuration. */
export interface KPIConfigIssue {
  /** Where in the configuration, e.g. `kpis[2].alerts[0].condition`; `""` for the whole file. */
  path: string;
  /** 1-based line in the file, or null when unknown (e.g. TypeScript input). */
  line: number | null;
  /** 1-based column in the file, or null when unknown. */
  column: number | null;
  /** What is wrong, in a sentence. */
  message: string;
}

/** Options for {@linkcode KPIConfigError}. */
export interface KPIConfigErrorOptions {
  /** The file the issues were found in. @default "<inline>" */
  file?: string;
}

/**
 * Every problem found in one configuration, reported at once. Its `message`
 * is the issues as {@linkcode formatConfigIssues} renders them; `issues`
 * holds them as data (for a JSON answer, say).
 *
 * @example Raising and reading one
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const error = new KPIConfigError([
 *   { path: "kpis[0].source", line: 3, column: 13, message: 'Unknown source "sq"' },
 * ], { file: "kpis.yaml" });
 * assert.ok(error instanceof SyntaxError);
 * assert.equal(error.issues.length, 1);
 * assert.match(error.message, /kpis\.yaml:3:13/);
 * ```
 */
export class KPIConfigError extends SyntaxError {
  /** The problems, in file order. */
  readonly issues: readonly KPIConfigIssue[];
  /** The file they were found in. */
  readonly file: string;

  /**
   * Creates the error; its message is the formatted issues.
   *
   * @param issues The problems found.
   * @param options Where they were found.
   */
  constructor(
    issues: readonly KPIConfigIssue[],
    options: KPIConfigErrorOptions = {},
  ) {
    const file = options.file ?? "<inline>";
    super(formatConfigIssues(issues, file));
    this.name = "KPIConfigError";
    this.issues = issues;
    this.file = file;
  }
}
