/**
 * The evaluator of the whitelisted {@linkcode ExpressionNode} tree that
 * `_jsep.ts` builds, for derived KPI expressions and alert conditions alike.
 *
 * @module
 */
import type { ConditionInput } from "./condition.ts";
import { display, type ExpressionNode, isRoundDigits } from "./_jsep.ts";

/** What the evaluator reads names and quantities from. */
export interface EvaluationContext {
  /** The source text, to quote sub-expressions in reasons. */
  readonly source: string;
  /** KPI values by name (derived expressions). */
  readonly scope: Readonly<Record<string, number | null>>;
  /** The value and comparisons (conditions). */
  readonly input: ConditionInput | null;
  /** Why the last null came about. */
  reason: string | null;
}

function nothing(context: EvaluationContext, reason: string): null {
  context.reason = reason;
  return null;
}

function sliceOf(node: ExpressionNode, context: EvaluationContext): string {
  return display(context.source.slice(node.start, node.end));
}

function finite(
  value: number,
  node: ExpressionNode,
  context: EvaluationContext,
): number | null {
  return Number.isFinite(value)
    ? value
    : nothing(context, `non-finite result in "${sliceOf(node, context)}"`);
}

/**
 * Evaluates a whitelisted tree. Returns null when a name is null or missing,
 * on division by zero and on a non-finite result, and then sets
 * `context.reason`. Comparisons and logic give 1 or 0; `and`, `or` and `not`
 * follow three-valued logic (null is "unknown").
 *
 * @param node The tree.
 * @param context Where names come from; receives the reason for a null.
 * @returns The number, or null.
 */
export function evaluateNode(
  node: ExpressionNode,
  context: EvaluationContext,
): number | null {
  // A switch over node types, like walkNodeOf's in _jsep.ts in form only:
  // that one checks jsep's raw tree, this one evaluates the checked tree.
  switch (node.type) {
    case "number":
      return node.value;
    case "name": {
      const value = context.scope[node.name];
      if (typeof value === "number") {
        return Number.isFinite(value)
          ? value
          : nothing(context, `"${node.name}" is not a finite number`);
      }
      return nothing(
        context,
        value === null
          ? `"${node.name}" is null`
          : `no value for "${node.name}"`,
      );
    }
    case "quantity":
      return quantity(node, context);
    case "term":
      return term(node, context);
    case "unary": {
      const value = evaluateNode(node.argument, context);
      if (value === null) return null;
      return node.operator === "-"
        ? -value
        : node.operator === "+"
        ? value
        : value === 0
        ? 1
        : 0;
    }
    case "binary":
      return binary(node, context);
    case "logical":
      return logical(node, context);
    case "call":
      return call(node, context);
  }
}

function quantity(
  node: Extract<ExpressionNode, { type: "quantity" }>,
  context: EvaluationContext,
): number | null {
  const input = context.input;
  let value: number | null | undefined;
  if (input === null) value = undefined;
  else if (node.code === null) value = input.value;
  else {
    const comparison = input.comparisons[node.code];
    value = comparison === undefined || node.field === "value"
      ? undefined
      : comparison[node.field];
  }
  if (typeof value === "number" && Number.isFinite(value)) return value;
  const name = node.code === null ? "value" : `${node.code}.${node.field}`;
  return nothing(context, `"${name}" is null`);
}

function term(
  node: Extract<ExpressionNode, { type: "term" }>,
  context: EvaluationContext,
): number | null {
  const input = context.input;
  const anomaly = input?.anomaly ?? null;
  const estimate = input?.pace?.estimate === true;
  let value: number | boolean | null | undefined;
  switch (node.term) {
    case "anomaly":
      value = anomaly?.expected == null ? null : anomaly.anomalous;
      break;
    case "expected":
    case "lower":
    case "upper":
    case "score":
      value = anomaly?.[node.term];
      break;
    case "target":
      value = input?.target;
      break;
    case "attainment":
      // A percent in conditions, like a change: `attainment < 90%`.
      value = input?.attainment == null ? null : input.attainment * 100;
      break;
    case "projected":
      // An early projection is an estimate: not alerted on.
      value = estimate ? null : input?.projected;
      break;
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  const why = node.term === "projected" && estimate
    ? `"projected" is an estimate this early in the period`
    : (node.term === "target" || node.term === "attainment" ||
        node.term === "projected")
    ? `"${node.term}" is null (no target for this period)`
    : `"${node.term}" is null (${anomaly?.note ?? "no anomaly baseline"})`;
  return nothing(context, why);
}

function binary(
  node: Extract<ExpressionNode, { type: "binary" }>,
  context: EvaluationContext,
): number | null {
  const left = evaluateNode(node.left, context);
  if (left === null) return null;
  const right = evaluateNode(node.right, context);
  if (right === null) return null;
  switch (node.operator) {
    case "+":
      return finite(left + right, node, context);
    case "-":
      return finite(left - right, node, context);
    case "*":
      return finite(left * right, node, context);
    case "/":
      return right === 0
        ? nothing(context, `division by zero in "${sliceOf(node, context)}"`)
        : finite(left / right, node, context);
    case "%":
      return right === 0
        ? nothing(context, `division by zero in "${sliceOf(node, context)}"`)
        : finite(left % right, node, context);
    case "<":
      return left < right ? 1 : 0;
    case ">":
      return left > right ? 1 : 0;
    case "<=":
      return left <= right ? 1 : 0;
    case ">=":
      return left >= right ? 1 : 0;
    case "==":
      return left === right ? 1 : 0;
    case "!=":
      return left !== right ? 1 : 0;
  }
}

function logical(
  node: Extract<ExpressionNode, { type: "logical" }>,
  context: EvaluationContext,
): number | null {
  const left = evaluateNode(node.left, context);
  const leftReason = context.reason;
  if (node.operator === "and") {
    if (left === 0) return 0;
    const right = evaluateNode(node.right, context);
    if (right === 0) return 0;
    if (left === null) return nothing(context, leftReason ?? "unknown");
    return right === null ? null : 1;
  }
  if (left !== null && left !== 0) return 1;
  const right = evaluateNode(node.right, context);
  if (right !== null && right !== 0) return 1;
  if (left === null) return nothing(context, leftReason ?? "unknown");
  return right === null ? null : 0;
}

function call(
  node: Extract<ExpressionNode, { type: "call" }>,
  context: EvaluationContext,
): number | null {
  const args = node.args;
  switch (node.name) {
    case "coalesce": {
      for (const arg of args) {
        const value = evaluateNode(arg, context);
        if (value !== null) return value;
      }
      return nothing(
        context,
        `every argument of "${sliceOf(node, context)}" is null`,
      );
    }
    case "if": {
      const test = evaluateNode(args[0] as ExpressionNode, context);
      if (test === null) return null;
      return evaluateNode(
        (test !== 0 ? args[1] : args[2]) as ExpressionNode,
        context,
      );
    }
    case "min":
    case "max": {
      let result = evaluateNode(args[0] as ExpressionNode, context);
      if (result === null) return null;
      for (let i = 1; i < args.length; i++) {
        const value = evaluateNode(args[i] as ExpressionNode, context);
        if (value === null) return null;
        if (node.name === "min" ? value < result : value > result) {
          result = value;
        }
      }
      return result;
    }
  }
  const first = evaluateNode(args[0] as ExpressionNode, context);
  if (first === null) return null;
  switch (node.name) {
    case "abs":
      return Math.abs(first);
    case "floor":
      return Math.floor(first);
    case "ceil":
      return Math.ceil(first);
    case "sqrt":
      return finite(Math.sqrt(first), node, context);
    case "pow": {
      const exponent = evaluateNode(args[1] as ExpressionNode, context);
      if (exponent === null) return null;
      return finite(first ** exponent, node, context);
    }
    case "round": {
      if (args.length < 2) return roundHalfAway(first, 0);
      const digits = evaluateNode(args[1] as ExpressionNode, context);
      if (digits === null) return null;
      if (!isRoundDigits(digits)) {
        return nothing(
          context,
          `the digits of "${
            sliceOf(node, context)
          }" must be a whole number from -15 to 15, got ${digits}`,
        );
      }
      return finite(roundHalfAway(first, digits), node, context);
    }
  }
}

/** Rounds half away from zero to `digits` decimals, without float noise. */
function roundHalfAway(value: number, digits: number): number {
  const factor = 10 ** digits;
  const scaled = Number((Math.abs(value) * factor).toPrecision(15));
  const rounded = Math.sign(value) * Math.round(scaled) / factor;
  return rounded === 0 ? 0 : rounded;
}
