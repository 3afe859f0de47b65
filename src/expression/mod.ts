/**
 * Expressions and conditions: derived-KPI formulas and alert conditions
 * parsed with jsep over a whitelist of operators and functions, then
 * evaluated by walking the tree (never `eval`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluateCondition, evaluateExpression, parseCondition, parseExpression } from "./mod.ts";
 *
 * const expression = parseExpression("revenue / orders");
 * assert.equal(
 *   evaluateExpression(expression, { revenue: 100, orders: 4 }).value,
 *   25,
 * );
 * assert.equal(
 *   evaluateCondition(parseCondition("< 100"), { value: 50, comparisons: {} }),
 *   true,
 * );
 * ```
 *
 * @module
 */

export * from "./expression.ts";
export * from "./condition.ts";
