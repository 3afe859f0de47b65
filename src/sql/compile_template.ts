/**
 * Turns a SQL template with `{{ variables }}` into SQL text and bound
 * parameters for one dialect.
 *
 * @module
 */

import type { SqlDialect } from "../types.ts";
import { parseTemplate, PERIOD_VARIABLES, SqlBuilder } from "./_template.ts";

/** SQL text in a dialect's placeholder style and the values it binds. */
export interface CompiledTemplate {
  /** The SQL, with `?` (SQLite, MySQL) or `$1, $2, ...` (PostgreSQL). */
  sql: string;
  /** One value per placeholder, in order. */
  params: unknown[];
}

/** Options of {@linkcode templateVariables}. */
export interface TemplateVariablesOptions {
  /**
   * The dialect whose quoting rules apply (they differ in backslash escapes
   * and `#` comments).
   *
   * @default "postgres"
   */
  dialect?: SqlDialect;
}

/**
 * Compiles a SQL template: every `{{ name }}` becomes a bound parameter,
 * whether it is written bare (`{{ x }}`), as a whole string (`'{{ x }}'`,
 * `"{{ x }}"`) or inside a longer string (`'%{{ x }}%'`, which becomes a
 * concatenation). A typed literal such as `DATE '{{ x }}'` becomes
 * `CAST(? AS DATE)`. Text outside `{{ }}` is kept as written; variables in
 * comments are left alone.
 *
 * @param template The SQL template.
 * @param dialect The dialect to write placeholders for.
 * @param vars The variables by name, usually `period_start`, `period_end`
 * and the configuration's `vars`.
 * @returns The SQL and its parameters.
 * @throws {RangeError} When the template uses a variable `vars` lacks (the
 * message names it and lists the known ones).
 * @throws {SyntaxError} When a placeholder is not a plain name, sits inside
 * a quoted identifier, or the template holds a driver parameter of its own
 * (`?`, `$1`).
 *
 * @example Bound on every dialect, quoted or not
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const template =
 *   "SELECT SUM(amount) FROM orders WHERE day >= '{{ period_start }}'::date AND region = {{ region }}";
 * const { sql, params } = compileTemplate(template, "postgres", {
 *   period_start: "2024-11-01",
 *   region: "EU",
 * });
 * assert.equal(sql, "SELECT SUM(amount) FROM orders WHERE day >= $1::date AND region = $2");
 * assert.deepEqual(params, ["2024-11-01", "EU"]);
 * ```
 */
export function compileTemplate(
  template: string,
  dialect: SqlDialect,
  vars: Readonly<Record<string, unknown>>,
): CompiledTemplate {
  const builder = new SqlBuilder(dialect).template(
    parseTemplate(template, dialect),
    vars,
  );
  return { sql: builder.sql, params: builder.params };
}

/**
 * Lists the variables a template uses, in order of first use, without
 * duplicates. Placeholders in comments are not counted.
 *
 * @param template The SQL template.
 * @param options Which dialect's quoting rules to read it with.
 * @returns The variable names.
 * @throws {SyntaxError} When a placeholder is not a plain name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   templateVariables("SELECT COUNT(*) FROM t WHERE d >= {{ period_start }} AND r = '{{ region }}' -- {{ note }}"),
 *   ["period_start", "region"],
 * );
 * ```
 */
export function templateVariables(
  template: string,
  options: TemplateVariablesOptions = {},
): string[] {
  return parseTemplate(template, options.dialect ?? "postgres").variables
    .slice();
}

/**
 * The variables every SQL template can use without declaring them:
 * `period_start` and `period_end`, ISO dates of the half-open period.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(TEMPLATE_PERIOD_VARIABLES, ["period_start", "period_end"]);
 * ```
 */
export const TEMPLATE_PERIOD_VARIABLES: readonly string[] = PERIOD_VARIABLES;
