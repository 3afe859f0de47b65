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

/** Most issues one error holds; the rest are counted in a last issue. */
export const MAX_CONFIG_ISSUES = 50;

/** Most characters of one issue's message or path. */
const MAX_TEXT = 500;

/** Whether a character is a control character or reorders text on a terminal. */
function isUnsafe(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e || code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

/**
 * Makes text from a file safe to print: control characters are shown as
 * `\uXXXX` escapes (never sent to the terminal) and long text is cut.
 */
function cleanText(text: string): string {
  const safe = text.replace(/[^ -~]/g, (c) => {
    const code = c.charCodeAt(0);
    return isUnsafe(code) ? `\\u${code.toString(16).padStart(4, "0")}` : c;
  });
  return safe.length <= MAX_TEXT
    ? safe
    : `${safe.slice(0, MAX_TEXT)}… (${safe.length - MAX_TEXT} more characters)`;
}

/** The first issues, cleaned, and a count of those left out. */
function boundIssues(issues: readonly KPIConfigIssue[]): KPIConfigIssue[] {
  const shown = issues.slice(0, MAX_CONFIG_ISSUES).map((issue) => ({
    ...issue,
    path: cleanText(issue.path),
    message: cleanText(issue.message),
  }));
  const more = issues.length - shown.length;
  if (more > 0) {
    shown.push({
      path: "",
      line: null,
      column: null,
      message: `${more} more issue${
        more === 1 ? "" : "s"
      } not shown (fix these first)`,
    });
  }
  return shown;
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
    const file = cleanText(options.file ?? "<inline>");
    const shown = boundIssues(issues);
    super(formatConfigIssues(shown, file));
    this.name = "KPIConfigError";
    this.issues = shown;
    this.file = file;
  }
}
