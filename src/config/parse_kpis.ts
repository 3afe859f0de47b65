/**
 * Loading and validating KPI definitions from YAML text or TypeScript values.
 *
 * @module
 */

import { loadConfig } from "./_load.ts";
import { parseCondition } from "../expression/condition.ts";
import { parseExpression } from "../expression/expression.ts";
import type { KPIConfig } from "../types.ts";
import type { KPIConfigIssue } from "./kpi_config_error.ts";

/** Options for {@linkcode parseKpis}. */
export interface ParseKpisOptions {
  /** The file name shown in messages. @default "<inline>" */
  file?: string;
  /**
   * Variables for `${VAR}` in string values. `parseKpis` never reads the
   * environment itself: pass e.g. `Deno.env.toObject()`.
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Makes an unset `${VAR}` a warning instead of an error, so that a file can
   * be checked without its secrets (CLI `validate --allow-missing-env`). The
   * values that name an unset variable are left out of the returned
   * configuration and their shape is not checked: use it for checking only.
   * @default false
   */
  allowMissingEnv?: boolean;
  /**
   * Receives each warning (with `allowMissingEnv`, each unset variable), with
   * its path, line and column.
   * @default none
   */
  onWarning?: (issue: KPIConfigIssue) => void;
}

/**
 * Reads a configuration, checks all of it and fills in the defaults.
 *
 * `source` is YAML text (keys in snake_case, as in the file format), or an
 * already-built value: a whole configuration object, or a list of
 * `KPIDefinition`s, with camelCase keys (snake_case is accepted too).
 * `${VAR}` in string values expands from `options.env` before validation;
 * the values are substituted after the YAML is parsed, so a variable cannot
 * inject structure.
 *
 * Every problem is collected and thrown at once, each with its path and,
 * for YAML, its line and column: unknown keys, wrong types, duplicate names,
 * what each source needs, unknown template variables, unknown KPIs in
 * expressions, dependency cycles, conditions using comparisons the KPI does
 * not compute, unknown channels and unset variables.
 *
 * @param source YAML text, a configuration object or a list of KPI definitions.
 * @param options File name for messages and variables for `${VAR}`.
 * @returns The validated configuration with defaults filled in.
 * @throws {KPIConfigError} When the configuration has problems; its
 * `issues` lists them and its message renders them.
 * @throws {TypeError} When `source` is neither text, an object nor a list.
 *
 * @example Loading YAML
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const config = parseKpis(`
 * kpis:
 *   - name: revenue
 *     source: dataframe
 *     query: orders.amount
 *     aggregation: sum
 *     compare: [MoM]
 *     alerts:
 *       - condition: "MoM < -10%"
 * `);
 * assert.equal(config.kpis[0]?.label, "revenue");
 * assert.equal(config.kpis[0]?.alerts?.[0]?.severity, "warning");
 * assert.equal(config.timezone, "UTC");
 * ```
 *
 * @example Every problem at once, with lines
 * ```ts
 * import assert from "node:assert/strict";
 * import { KPIConfigError } from "./kpi_config_error.ts";
 *
 * const yaml = [
 *   "kpis:",
 *   "  - name: revenue",
 *   "    source: dataframe",
 *   "    query: orders.amount",
 *   "    agregation: sum",
 *   "  - name: revenue",
 *   "    source: derived",
 *   "    expression: revenue * 2",
 * ].join("\n");
 * try {
 *   parseKpis(yaml, { file: "kpis.yaml" });
 *   assert.fail("expected an error");
 * } catch (error) {
 *   assert.ok(error instanceof KPIConfigError);
 *   assert.match(error.message, /Unknown key "agregation": did you mean "aggregation"\?/);
 *   assert.match(error.message, /at kpis\[0\]\.agregation \(kpis\.yaml:5:5\)/);
 *   assert.match(error.message, /Duplicate KPI name "revenue"/);
 * }
 * ```
 *
 * @example TypeScript definitions and environment variables
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const config = parseKpis({
 *   connection: "postgres://kpi:${DB_PASSWORD}@localhost/shop",
 *   kpis: [{ name: "orders", source: "dataframe", query: "orders.id", aggregation: "count" }],
 * }, { env: { DB_PASSWORD: "secret" } });
 * assert.equal(config.connection, "postgres://kpi:secret@localhost/shop");
 * ```
 */
export function parseKpis(
  source: unknown,
  options: ParseKpisOptions = {},
): KPIConfig {
  return loadConfig(source, {
    file: options.file ?? "<inline>",
    env: options.env ?? {},
    allowMissingEnv: options.allowMissingEnv ?? false,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  }, { parseExpression, parseCondition });
}
