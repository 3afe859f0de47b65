/**
 * A KPI definition as the MCP tools and resources show it: what it means
 * (label, unit, polarity) before how it is computed.
 *
 * @module
 */

import type { KPIDefinition } from "../types.ts";

/** One KPI as an agent reads it. */
export interface KPIDescription {
  /** The KPI's name, as tools take it. */
  name: string;
  /** The human-readable name. */
  label: string;
  /** The unit of its values (e.g. `USD`), or null. */
  unit: string | null;
  /** Whether a rise is good news (`higher_is_better`) or bad. */
  polarity: "higher_is_better" | "lower_is_better";
  /** What it means, when the file says. */
  description: string | null;
  /** Where its value comes from: `sql`, `dataframe` or `derived`. */
  source: "sql" | "dataframe" | "derived";
  /** How rows are combined (`sum`, `avg`, `count`, `last`, `rate`), or null. */
  aggregation: string | null;
  /** The formula of a derived KPI, or null. */
  expression: string | null;
  /** The comparisons computed with it (`MoM`, `YoY`, ...). */
  compare: string[];
  /** Free-form tags. */
  tags: string[];
  /** The columns it can be broken down by (`breakdown`, `explain_change`). */
  dimensions: string[];
  /** Its alert rules. */
  alerts: { condition: string; severity: string; message: string | null }[];
}

/** Describes one definition for an agent. */
export function describeKpi(definition: KPIDefinition): KPIDescription {
  return {
    name: definition.name,
    label: definition.label ?? definition.name,
    unit: definition.unit ?? null,
    polarity: definition.polarity ?? "higher_is_better",
    description: definition.description ?? null,
    source: definition.source,
    aggregation: definition.aggregation ?? null,
    expression: definition.expression ?? null,
    compare: [...(definition.compare ?? [])],
    tags: [...(definition.tags ?? [])],
    dimensions: [...(definition.dimensions ?? [])],
    alerts: (definition.alerts ?? []).map((rule) => ({
      condition: rule.condition,
      severity: rule.severity ?? "warning",
      message: rule.message ?? null,
    })),
  };
}
