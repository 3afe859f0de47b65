/**
 * Alert conditions: the reference package's `< 1000` and a richer grammar
 * over the value and each comparison's change (`MoM < -10% and value <
 * 50000`), parsed once with jsep over the same whitelist as derived KPIs.
 *
 * @example A drop of more than 10% month over month
 * ```ts
 * import assert from "node:assert/strict";
 * const condition = parseCondition("MoM < -10%");
 * assert.deepEqual(condition.comparisons, ["MoM"]);
 * const input = {
 *   value: 45_000,
 *   comparisons: {
 *     MoM: { previousValue: 60_000, change: -15_000, changePct: -25 },
 *   },
 * };
 * assert.equal(evaluateCondition(condition, input), true);
 * ```
 *
 * @module
 */
import { type ConditionTerm, type ExpressionNode, parseTree } from "./_jsep.ts";
export type { ConditionTerm } from "./_jsep.ts";
import type { AnomalyBaseline } from "../anomaly/compute_baseline.ts";
import { evaluateNode } from "./_evaluate_node.ts";
import type { ComparisonCode } from "../types.ts";
import { expectText } from "./_expect_text.ts";

/** A parsed alert condition. */
export interface Condition {
  /** The text as written. */
  readonly source: string;
  /** Comparison codes referenced, deduplicated, in order of first use. */
  readonly comparisons: readonly ComparisonCode[];
  /** Anomaly and target terms referenced (`anomaly`, `target`, ...), in order of first use. */
  readonly terms: readonly ConditionTerm[];
  /**
   * The whitelisted syntax tree. A leading operator (`< 1000`) reads as
   * `value < 1000`; a bare code (`MoM`) is its percent change.
   */
  readonly ast: ExpressionNode;
}

/** What a condition is evaluated against: one KPI result's figures. */
export interface ConditionInput {
  /** The KPI's value for the period. */
  value: number | null;
  /** Each computed comparison's figures, by code. */
  comparisons: Partial<
    Record<ComparisonCode, {
      previousValue: number | null;
      change: number | null;
      changePct: number | null;
    }>
  >;
  /** The anomaly baseline, when the KPI has one (`anomaly`, `expected`, ...). */
  anomaly?: AnomalyBaseline | null;
  /** The period's target, when the KPI has one (`target`). */
  target?: number | null;
  /** The value over the target due by now (`attainment`, a percent in conditions). */
  attainment?: number | null;
  /** The value projected to the period's end (`projected`). */
  projected?: number | null;
  /** Whether `projected` is still an estimate, too early to alert on. */
  pace?: { readonly estimate: boolean } | null;
}

const LEADING_OPERATOR = /^\s*(?:<=|>=|==|!=|<|>)/;
const VALUE_PREFIX = "value ";
const CACHE_SIZE = 256;
const cache = new Map<string, Condition>();

/**
 * Parses an alert condition.
 *
 * Accepted: a leading operator on the value (`< 1000`, `<1000`, `!= 0`,
 * the reference package's forms), `value`, a comparison code for its
 * percent change (`MoM < -10%`, `YoY <= -5`), `MoM.change` (absolute),
 * `MoM.changePct`, `MoM.previous` (or `.previousValue`), numbers (`1_000`,
 * `1e6`, `-10%`), `< > <= >= == !=`, `+ - * /`, `and`, `or`, `not` (also
 * `&&`, `||`, `!`), parentheses and the functions of derived expressions.
 * A `%` literal goes with a percent change only: `value < 10%` is refused.
 *
 * @param text The condition, e.g. `MoM < -10% and value < 50000`.
 * @returns The parsed condition, with the comparison codes it needs.
 * @throws {ExpressionError} On a syntax error (with its `position`), an
 * unknown name (`revenue`, `WoM`), a condition that does not compare, or
 * anything outside the whitelist.
 * @throws {TypeError} If `text` is not a string.
 *
 * @example Bare operator, with or without a space
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(evaluateCondition(parseCondition("<1000"), { value: 999, comparisons: {} }), true);
 * assert.throws(() => parseCondition("WoM < 1%"), /Unknown name "WoM"/);
 * ```
 */
export function parseCondition(text: string): Condition {
  expectText(text, "a condition");
  const prefix = LEADING_OPERATOR.test(text) ? VALUE_PREFIX : "";
  const { ast, comparisons, terms } = parseTree(text, {
    mode: "condition",
    prefix,
  });
  return { source: text, comparisons, terms, ast };
}

/**
 * Tells whether a condition holds for a KPI result's figures. Missing data
 * never makes a condition hold: a comparison with a null (or absent) value,
 * change or previous value is unknown, `not` of unknown is unknown, `and` /
 * `or` follow three-valued logic, and an unknown outcome is `false`.
 * Arithmetic in a condition that divides by zero is unknown too.
 *
 * @param condition A result of {@linkcode parseCondition}, or its text.
 * @param input The value and comparisons of one result.
 * @returns Whether the condition holds.
 * @throws {ExpressionError} If `condition` is a string that does not parse.
 *
 * @example A null value never triggers
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(evaluateCondition("< 100", { value: null, comparisons: {} }), false);
 * assert.equal(evaluateCondition("!= 0", { value: null, comparisons: {} }), false);
 * ```
 */
export function evaluateCondition(
  condition: Condition | string,
  input: ConditionInput,
): boolean {
  const parsed = typeof condition === "string"
    ? cachedCondition(condition)
    : condition;
  const context = {
    source: parsed.source,
    scope: {},
    input,
    reason: null,
  };
  const result = evaluateNode(parsed.ast, context);
  return result !== null && result !== 0;
}

function cachedCondition(text: string): Condition {
  let parsed = cache.get(text);
  if (parsed === undefined) {
    parsed = parseCondition(text);
    if (cache.size >= CACHE_SIZE) cache.clear();
    cache.set(text, parsed);
  }
  return parsed;
}
