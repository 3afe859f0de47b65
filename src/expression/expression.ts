/**
 * Derived KPI expressions: arithmetic over other KPIs' values, parsed once
 * with jsep over a whitelist and evaluated cheaply, with `null` (and a
 * reason) instead of Infinity or NaN.
 *
 * @example Average order value from two KPIs
 * ```ts
 * import assert from "node:assert/strict";
 * const aov = parseExpression("revenue / orders");
 * assert.deepEqual(aov.identifiers, ["revenue", "orders"]);
 * assert.deepEqual(evaluateExpression(aov, { revenue: 600, orders: 20 }), {
 *   value: 30,
 *   reason: null,
 * });
 * ```
 *
 * @module
 */
import { type ExpressionNode, parseTree } from "./_jsep.ts";
import { evaluateNode } from "./_evaluate_node.ts";

export {
  ExpressionError,
  type ExpressionErrorOptions,
  type ExpressionFunction,
  type ExpressionNode,
} from "./_jsep.ts";
import { expectText } from "./_expect_text.ts";

/** A parsed derived KPI expression. */
export interface Expression {
  /** The text as written. */
  readonly source: string;
  /** KPI names referenced, deduplicated, in order of first use. */
  readonly identifiers: readonly string[];
  /** The whitelisted syntax tree. */
  readonly ast: ExpressionNode;
}

/** The outcome of {@linkcode evaluateExpression}. */
export interface ExpressionValue {
  /** The value; null when it cannot be computed. */
  value: number | null;
  /** Why `value` is null (e.g. `"orders" is null`), else null. */
  reason: string | null;
}

/**
 * Parses a derived KPI expression. Accepted: KPI names, numbers (`1_000`,
 * `1.5e3`), `+ - * / %`, `< > <= >= == !=` (giving 1 or 0), `and`, `or`,
 * `not` (also `&&`, `||`, `!`), parentheses and the functions `min`, `max`,
 * `abs`, `round(x, digits?)`, `coalesce`, `floor`, `ceil`, `sqrt`, `pow` and
 * `if(test, a, b)`. Anything else is refused.
 *
 * @param text The expression, e.g. `revenue / active_users`.
 * @returns The parsed expression, with the KPI names it references.
 * @throws {ExpressionError} On a syntax error (with its `position`) or on
 * anything outside the whitelist, such as member access, calls of other
 * functions, strings or assignment.
 * @throws {TypeError} If `text` is not a string.
 *
 * @example Member access is refused
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => parseExpression("revenue.constructor"),
 *   /Member access "revenue.constructor" is not allowed/,
 * );
 * ```
 */
export function parseExpression(text: string): Expression {
  expectText(text, "an expression");
  const { ast, identifiers } = parseTree(text, { mode: "expression" });
  return { source: text, identifiers, ast };
}

/**
 * Evaluates a parsed expression against KPI values. A null or missing name,
 * a division (or `%`) by zero and any non-finite result give
 * `{ value: null, reason }`; `coalesce(x, 0)` turns a null into a number.
 * `and`/`or` treat null as unknown: `x > 0 or 1` is 1 even when `x` is null.
 *
 * @param expr A result of {@linkcode parseExpression}.
 * @param scope KPI values by name.
 * @returns The value, or null with the reason.
 *
 * @example Division by zero gives null with a reason
 * ```ts
 * import assert from "node:assert/strict";
 * const rate = parseExpression("refunds / orders");
 * assert.deepEqual(evaluateExpression(rate, { refunds: 3, orders: 0 }), {
 *   value: null,
 *   reason: 'division by zero in "refunds / orders"',
 * });
 * ```
 */
export function evaluateExpression(
  expr: Expression,
  scope: Readonly<Record<string, number | null>>,
): ExpressionValue {
  const context = { source: expr.source, scope, input: null, reason: null };
  const value = evaluateNode(expr.ast, context);
  if (value === null) {
    return { value: null, reason: context.reason ?? "no value" };
  }
  return { value: value === 0 ? 0 : value, reason: null };
}
