/**
 * Private: the steps every SQL planner takes the same way (the value
 * planner here, the segments planner in `segments/`): the periods asked for
 * once each, the template variables a query may use and their values for a
 * range, and a KPI's template parsed and checked.
 *
 * @module
 */

import type { Period, SqlDialect } from "../types.ts";
import {
  checkVariables,
  type ParsedTemplate,
  parseTemplate,
  PERIOD_VARIABLES,
  SqlBuilder,
  trimTerminator,
} from "./_template.ts";

/** How long a KPI's query may run when it does not say. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The periods in their first order, each range once.
 *
 * @param periods The periods, perhaps repeated.
 * @returns The distinct periods.
 */
export function uniquePeriods(periods: readonly Period[]): Period[] {
  const seen = new Map<string, Period>();
  for (const period of periods) {
    const key = `${period.start}/${period.end}`;
    if (!seen.has(key)) seen.set(key, period);
  }
  return [...seen.values()];
}

/** The template variables of a plan. */
export interface TemplateVariables {
  /** Every variable a template may name: the period's and the `vars`. */
  known: string[];
  /** The values of the variables for one range. */
  varsFor(range: Period): Record<string, unknown>;
}

/**
 * The template variables of a plan: `period_start`, `period_end` and the
 * configured `vars`.
 *
 * @param vars The configured variables.
 * @param extra More values for a range (e.g. its instants), if any.
 * @returns The known names and the values for a range.
 */
export function templateVariables(
  vars: Readonly<Record<string, unknown>>,
  extra?: (range: Period) => Record<string, unknown>,
): TemplateVariables {
  return {
    known: [
      ...PERIOD_VARIABLES,
      ...Object.keys(vars).filter((name) => !PERIOD_VARIABLES.includes(name)),
    ],
    varsFor: (range) => ({
      ...vars,
      period_start: range.start,
      period_end: range.end,
      ...extra?.(range),
    }),
  };
}

/**
 * A KPI's query template, parsed and checked: every variable known, one
 * statement only.
 *
 * @param name The KPI's name, for messages.
 * @param query The template.
 * @param dialect The SQL dialect.
 * @param known The variables it may name.
 * @returns The parsed template.
 * @throws {SyntaxError} For an unknown variable or several statements.
 */
export function parseKpiTemplate(
  name: string,
  query: string,
  dialect: SqlDialect,
  known: readonly string[],
): ParsedTemplate {
  const parsed = parseTemplate(query, dialect);
  checkVariables(parsed, known);
  if (parsed.multipleStatements) {
    throw new SyntaxError(
      `Query of KPI "${name}" holds more than one statement: write a single SELECT`,
    );
  }
  return parsed;
}

/**
 * One query for a template over several ranges: each range's instance as a
 * derived table, its rows tagged `p` with the range's index, joined with
 * UNION ALL.
 *
 * @param dialect The SQL dialect.
 * @param parsed The KPI's template.
 * @param ranges The ranges, in tag order.
 * @param varsFor The variables' values for a range.
 * @returns The SQL and its parameters.
 */
export function taggedTemplateUnion(
  dialect: SqlDialect,
  parsed: ParsedTemplate,
  ranges: readonly Period[],
  varsFor: (range: Period) => Record<string, unknown>,
): { sql: string; params: unknown[] } {
  const nested = trimTerminator(parsed);
  const b = new SqlBuilder(dialect);
  ranges.forEach((range, tag) => {
    if (tag > 0) b.text("\nUNION ALL\n");
    b.text(`SELECT ${tag} AS p, t.* FROM (\n`);
    b.template(nested, varsFor(range));
    b.text("\n) AS t");
  });
  return { sql: b.sql, params: b.params };
}
