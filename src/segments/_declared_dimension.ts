/**
 * Private: a KPI can be broken down only by the dimensions it declares;
 * the SQL planner and the in-memory fetcher check each one the same way.
 *
 * @module
 */

import type { KPIDefinition } from "../types.ts";

/**
 * Checks that a KPI declares a dimension.
 *
 * @param definition The KPI.
 * @param dimension The dimension asked for.
 * @throws {RangeError} When the KPI does not declare it.
 */
export function checkDeclaredDimension(
  definition: KPIDefinition,
  dimension: string,
): void {
  const own = definition.dimensions ?? [];
  if (own.includes(dimension)) return;
  throw new RangeError(
    `KPI "${definition.name}" has no dimension "${dimension}": ${
      own.length === 0
        ? "it declares none (add `dimensions:` to it)"
        : `expected one of ${own.join(", ")}`
    }`,
  );
}
