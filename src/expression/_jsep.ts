/**
 * The one jsep setup of the project and the whitelist walk from jsep's
 * syntax tree to a small {@linkcode ExpressionNode} tree (evaluated by
 * `_evaluate_node.ts`). Derived KPI expressions and alert conditions both go
 * through here.
 *
 * jsep keeps its operator tables and hooks in globals. Everything this module
 * adds is added once, when the module loads: the word operators `and`, `or`,
 * `not` (and their upper-case forms), a number reader that accepts `_`
 * separators and, while a condition is parsed, a `%` suffix, and source
 * positions on tokens. The hooks act only while this module is parsing.
 *
 * @module
 */
import jsep from "jsep";
import { COMPARISON_CODES, type ComparisonCode } from "../types.ts";

/**
 * A derived expression or alert condition that cannot be parsed, or that uses
 * something outside the whitelist (member access, calls of unlisted
 * functions, strings, assignment, ...). It is a `SyntaxError`.
 *
 * @example Catch the error and read where it happened
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new ExpressionError('Unknown name "x"', { position: 4 });
 * assert.ok(error instanceof SyntaxError);
 * assert.equal(error.position, 4);
 * ```
 */
export class ExpressionError extends SyntaxError {
  /** Always `"ExpressionError"`. */
  override name = "ExpressionError";
  /** 0-based character offset in the expression text, or null if unknown. */
  position: number | null;

  /**
   * Makes an error for a bad expression or condition.
   *
   * @param message What is wrong and what is accepted.
   * @param options Where in the text it is wrong.
   */
  constructor(message: string, options: ExpressionErrorOptions = {}) {
    super(message);
    this.position = options.position ?? null;
  }
}

/** Options of {@linkcode ExpressionError}. */
export interface ExpressionErrorOptions {
  /** 0-based character offset in the expression text. @default null */
  position?: number | null;
}

/** The functions an expression or condition may call. */
export type ExpressionFunction =
  | "min"
  | "max"
  | "abs"
  | "round"
  | "coalesce"
  | "floor"
  | "ceil"
  | "sqrt"
  | "pow"
  | "if";

/**
 * A node of a parsed expression or condition, after the whitelist walk.
 * `start` and `end` are 0-based offsets into the source text (`end`
 * exclusive). `name` nodes are KPI names (derived expressions); `quantity`
 * nodes are the value or a comparison's figure (conditions); `number` nodes
 * with `percent: true` were written with a `%` suffix (conditions).
 * Comparisons, `and`, `or` and `not` give 1 or 0.
 */
export type ExpressionNode =
  | {
    readonly type: "number";
    readonly value: number;
    readonly percent: boolean;
    readonly start: number;
    readonly end: number;
  }
  | {
    readonly type: "name";
    readonly name: string;
    readonly start: number;
    readonly end: number;
  }
  | {
    readonly type: "quantity";
    readonly code: ComparisonCode | null;
    readonly field: "value" | "change" | "changePct" | "previousValue";
    readonly start: number;
    readonly end: number;
  }
  | {
    readonly type: "term";
    readonly term: ConditionTerm;
    readonly start: number;
    readonly end: number;
  }
  | {
    readonly type: "unary";
    readonly operator: "-" | "+" | "not";
    readonly argument: ExpressionNode;
    readonly start: number;
    readonly end: number;
  }
  | {
    readonly type: "binary";
    readonly operator:
      | "+"
      | "-"
      | "*"
      | "/"
      | "%"
      | "<"
      | ">"
      | "<="
      | ">="
      | "=="
      | "!=";
    readonly left: ExpressionNode;
    readonly right: ExpressionNode;
    readonly start: number;
    readonly end: number;
  }
  | {
    readonly type: "logical";
    readonly operator: "and" | "or";
    readonly left: ExpressionNode;
    readonly right: ExpressionNode;
    readonly start: number;
    readonly end: number;
  }
  | {
    readonly type: "call";
    readonly name: ExpressionFunction;
    readonly args: readonly ExpressionNode[];
    readonly start: number;
    readonly end: number;
  };

type BinaryOperator = Extract<ExpressionNode, { type: "binary" }>["operator"];
type QuantityField = Extract<ExpressionNode, { type: "quantity" }>["field"];

// ---------------------------------------------------------------- jsep setup

interface ParseState {
  active: boolean;
  percent: boolean;
  starts: number[];
}

const state: ParseState = { active: false, percent: false, starts: [] };

/** A jsep node with the positions the hooks below attach. */
type RawNode = jsep.Expression & {
  start?: number;
  end?: number;
  paren?: boolean;
  percent?: boolean;
};

/** What jsep throws. */
interface JsepError extends Error {
  index: number;
  description: string;
}

const NUMBER =
  /\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d+)?|\.\d(?:_?\d)*(?:[eE][+-]?\d+)?/y;
const NUMBER_RUN = /[\w.$]*/y;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Letters, digits, `_`, `$` and non-ASCII, as jsep reads names. */
function isIdentifierPart(code: number): boolean {
  return isDigit(code) || (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) || code === 95 || code === 36 || code >= 128;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

function jsepError(index: number, description: string): JsepError {
  const error = new Error(`${description} at character ${index}`) as JsepError;
  error.index = index;
  error.description = description;
  return error;
}

/** Reads a number at the cursor: `_` separators, exponents, a `%` suffix. */
function readNumber(scope: jsep.HookScope): RawNode {
  const start = scope.index;
  const text = scope.expr;
  NUMBER.lastIndex = start;
  const raw = NUMBER.exec(text)?.[0] ?? "";
  let index = start + raw.length;
  const next = text.charCodeAt(index);
  if (
    raw === "" || next === 46 /* . */ || isIdentifierPart(next)
  ) {
    NUMBER_RUN.lastIndex = start;
    const run = NUMBER_RUN.exec(text)?.[0] ?? raw;
    throw jsepError(start, `Invalid number "${run}"`);
  }
  const value = Number(raw.replaceAll("_", ""));
  if (!Number.isFinite(value)) {
    throw jsepError(start, `Number "${raw}" is too large`);
  }
  let percent = false;
  if (state.percent) {
    let look = index;
    while (isSpace(text.charCodeAt(look))) look++;
    if (text.charCodeAt(look) === 37 /* % */) {
      percent = true;
      index = look + 1;
    }
  }
  scope.index = index;
  return { type: "Literal", value, raw, percent };
}

function onGobbleToken(
  this: jsep.HookScope,
  env: { node?: jsep.Expression },
): void {
  if (!state.active) return;
  state.starts.push(this.index);
  const code = this.code;
  if (
    isDigit(code) ||
    (code === 46 && isDigit(this.expr.charCodeAt(this.index + 1)))
  ) {
    env.node = readNumber(this);
  }
}

function onAfterToken(
  this: jsep.HookScope,
  env: { node?: jsep.Expression },
): void {
  if (!state.active) return;
  const start = state.starts.pop();
  const node = env.node as RawNode | undefined;
  if (!node || start === undefined) return;
  let end = this.index;
  while (end > start && isSpace(this.expr.charCodeAt(end - 1))) end--;
  node.start = start;
  node.end = end;
  node.paren = this.expr.charCodeAt(start) === 40; /* ( */
  // The inner links of a chain such as `Math.max(a)` start where it starts.
  let inner: RawNode = node;
  while (
    inner.type === "MemberExpression" || inner.type === "CallExpression"
  ) {
    inner = (inner.type === "MemberExpression"
      ? inner.object
      : inner.callee) as RawNode;
    if (inner.start !== undefined) {
      break;
    }
    inner.start = start;
  }
}

jsep.addBinaryOp("or", 1);
jsep.addBinaryOp("OR", 1);
jsep.addBinaryOp("and", 2);
jsep.addBinaryOp("AND", 2);
jsep.addUnaryOp("not");
jsep.addUnaryOp("NOT");
jsep.hooks.add("gobble-token", onGobbleToken, true);
jsep.hooks.add("after-token", onAfterToken, true);

// ------------------------------------------------------------ whitelist walk

/** Which grammar is being parsed. */
export type ExpressionMode = "expression" | "condition";

/** What {@linkcode parseTree} returns. */
export interface ParsedTree {
  /** The whitelisted tree. */
  ast: ExpressionNode;
  /** KPI names referenced, deduplicated, in order (expressions). */
  identifiers: string[];
  /** Comparison codes referenced, deduplicated, in order (conditions). */
  comparisons: ComparisonCode[];
  /** Anomaly and target terms referenced, deduplicated, in order (conditions). */
  terms: ConditionTerm[];
}

type Kind = "bool" | "plain" | "quantity" | "percent";

/**
 * Names a condition may use besides the value and comparisons: an anomaly
 * baseline's figures (`anomaly` is true when the value is unusual) and a
 * target's (`attainment` is a percent: `attainment < 90%`).
 */
export type ConditionTerm =
  | "anomaly"
  | "expected"
  | "lower"
  | "upper"
  | "score"
  | "target"
  | "attainment"
  | "projected";

/** What kind of value each term is, for the whitelist's type checks. */
const TERM_KINDS: ReadonlyMap<string, Kind> = new Map<ConditionTerm, Kind>([
  ["anomaly", "bool"],
  ["expected", "quantity"],
  ["lower", "quantity"],
  ["upper", "quantity"],
  ["score", "plain"],
  ["target", "quantity"],
  ["attainment", "percent"],
  ["projected", "quantity"],
]);

interface Walked {
  node: ExpressionNode;
  kind: Kind;
  /** The text of a `%` literal this subtree stands for, e.g. `-10%`. */
  percent: string | null;
}

interface Walk {
  /** What jsep parsed: the source, maybe behind a prefix. */
  text: string;
  /** Length of the prefix put before the source. */
  offset: number;
  source: string;
  mode: ExpressionMode;
  identifiers: string[];
  comparisons: ComparisonCode[];
  terms: ConditionTerm[];
  depth: number;
}

const KPI_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Longest text quoted in a message or reason. */
const MAX_QUOTE = 120;

/** Deepest tree accepted, so that evaluation stays well within the stack. */
const MAX_DEPTH = 1000;

const FUNCTION_ARITY: ReadonlyMap<string, readonly [number, number]> = new Map<
  ExpressionFunction,
  readonly [number, number]
>([
  ["min", [1, Infinity]],
  ["max", [1, Infinity]],
  ["abs", [1, 1]],
  ["round", [1, 2]],
  ["coalesce", [1, Infinity]],
  ["floor", [1, 1]],
  ["ceil", [1, 1]],
  ["sqrt", [1, 1]],
  ["pow", [2, 2]],
  ["if", [3, 3]],
]);

const FUNCTION_LIST = [...FUNCTION_ARITY.keys()].join(", ");

const BINARY_OPERATORS: ReadonlyMap<string, BinaryOperator | "and" | "or"> =
  new Map<string, BinaryOperator | "and" | "or">([
    ["+", "+"],
    ["-", "-"],
    ["*", "*"],
    ["/", "/"],
    ["%", "%"],
    ["<", "<"],
    [">", ">"],
    ["<=", "<="],
    [">=", ">="],
    ["==", "=="],
    ["!=", "!="],
    ["and", "and"],
    ["AND", "and"],
    ["&&", "and"],
    ["or", "or"],
    ["OR", "or"],
    ["||", "or"],
  ]);

const OPERATOR_HINTS: ReadonlyMap<string, string> = new Map([
  ["**", "use pow(a, b)"],
  ["^", "use pow(a, b)"],
  ["===", "use =="],
  ["!==", "use !="],
  ["&", "use and"],
  ["|", "use or"],
  ["??", "use coalesce(a, b)"],
]);

const COMPARISON_OPERATORS: ReadonlySet<string> = new Set([
  "<",
  ">",
  "<=",
  ">=",
  "==",
  "!=",
]);

const CONDITION_FIELDS: ReadonlyMap<string, QuantityField> = new Map<
  string,
  QuantityField
>([
  ["change", "change"],
  ["changePct", "changePct"],
  ["previous", "previousValue"],
  ["previousValue", "previousValue"],
]);

const CODE_LIST = COMPARISON_CODES.join(", ");
const TERM_LIST =
  "anomaly, expected, lower, upper, score (an anomaly baseline), target, attainment, projected (a target)";

const ALLOWED: Readonly<Record<ExpressionMode, string>> = {
  expression:
    `use KPI names, numbers, + - * / % ( ), < > <= >= == !=, and, or, not and the functions ${FUNCTION_LIST}`,
  condition:
    `use value, ${CODE_LIST} (a percent change) or their .change, .changePct, .previous, ${TERM_LIST}, numbers such as 1000 or -10%, < > <= >= == !=, + - * /, and, or, not, ( ) and the functions ${FUNCTION_LIST}`,
};

const NOUN: Readonly<Record<ExpressionMode, string>> = {
  expression: "an expression",
  condition: "a condition",
};

function fail(walk: Walk, message: string, at: number): never {
  throw new ExpressionError(message, {
    position: Math.max(0, at - walk.offset),
  });
}

function startOf(raw: RawNode): number {
  if (raw.start !== undefined) return raw.start;
  switch (raw.type) {
    case "BinaryExpression":
      return startOf(raw.left as RawNode);
    case "MemberExpression":
      return startOf(raw.object as RawNode);
    case "CallExpression":
      return startOf(raw.callee as RawNode);
    case "ConditionalExpression":
      return startOf(raw.test as RawNode);
    case "Compound": {
      const first = (raw.body as RawNode[])[0];
      return first ? startOf(first) : 0;
    }
    default:
      return 0;
  }
}

function endOf(raw: RawNode, walk: Walk): number {
  if (raw.end !== undefined) return raw.end;
  switch (raw.type) {
    case "BinaryExpression":
      return endOf(raw.right as RawNode, walk);
    case "UnaryExpression":
      return endOf(raw.argument as RawNode, walk);
    case "ConditionalExpression":
      return endOf(raw.alternate as RawNode, walk);
    case "Identifier":
      return startOf(raw) + (raw.name as string).length;
    case "MemberExpression": {
      const property = raw.property as RawNode;
      if (raw.computed === true) {
        return walk.text.indexOf("]", endOf(property, walk)) + 1;
      }
      const name = property.name as string;
      return walk.text.indexOf(name, endOf(raw.object as RawNode, walk)) +
        name.length;
    }
    default:
      return walk.text.length;
  }
}

/** Text for a message: trimmed, white space runs as one space, clipped. */
/** Shortens a quoted text for messages. */
export function display(text: string): string {
  const flat = text.trim().replace(/\s+/g, " ");
  return flat.length > MAX_QUOTE ? `${flat.slice(0, MAX_QUOTE - 1)}…` : flat;
}

function textOf(raw: RawNode, walk: Walk): string {
  return display(walk.text.slice(startOf(raw), endOf(raw, walk)));
}

/** Quotes a node for a message; the implicit `value` of `< 5` is "value". */
function quote(node: ExpressionNode, walk: Walk): string {
  const text = display(walk.source.slice(node.start, node.end));
  return `"${text === "" ? "value" : text}"`;
}

function span(
  raw: RawNode,
  walk: Walk,
): { start: number; end: number } {
  return {
    start: Math.max(0, startOf(raw) - walk.offset),
    end: Math.max(0, endOf(raw, walk) - walk.offset),
  };
}

function notAllowed(
  walk: Walk,
  what: string,
  raw: RawNode,
  hint?: string,
): never {
  return fail(
    walk,
    `${what} "${textOf(raw, walk)}" is not allowed in ${NOUN[walk.mode]}; ${
      hint ?? ALLOWED[walk.mode]
    }`,
    startOf(raw),
  );
}

function requireNumber(walk: Walk, walked: Walked, raw: RawNode): void {
  if (walk.mode !== "condition" || walked.kind !== "bool") return;
  fail(
    walk,
    `"${
      textOf(raw, walk)
    }" is true or false, not a number, in a condition; compare numbers and combine comparisons with and, or, not`,
    startOf(raw),
  );
}

function requireBool(walk: Walk, walked: Walked, raw: RawNode): void {
  if (walk.mode !== "condition" || walked.kind === "bool") return;
  fail(
    walk,
    `"${
      textOf(raw, walk)
    }" is a number, not a comparison, in a condition; and, or, not combine comparisons such as value < 100000`,
    startOf(raw),
  );
}

/** A `%` literal may not meet the value, a change or a previous value. */
function checkPercentMix(
  walk: Walk,
  a: Walked,
  b: Walked,
  verb: string,
): void {
  if (walk.mode !== "condition") return;
  const [percent, other] = a.percent !== null && b.kind === "quantity"
    ? [a, b]
    : b.percent !== null && a.kind === "quantity"
    ? [b, a]
    : [null, null];
  if (percent === null || other === null) return;
  fail(
    walk,
    `The percent "${percent.percent}" is ${verb} ${
      quote(other.node, walk)
    }, which is not a percent change; a percent goes with ${CODE_LIST} or their .changePct, so for ${
      quote(other.node, walk)
    } write a plain number`,
    percent.node.start + walk.offset,
  );
}

function forbidPercent(walk: Walk, walked: Walked, where: string): void {
  if (walk.mode !== "condition" || walked.percent === null) return;
  const share = Number(walked.percent.replace(/[%\s]/g, "")) / 100;
  fail(
    walk,
    `The percent "${walked.percent}" cannot be used in ${where}; a percent is compared with a percent change (MoM < -10%), so for a share write a plain number such as ${share}`,
    walked.node.start + walk.offset,
  );
}

function combine(a: Kind, b: Kind): Kind {
  if (a === b) return a;
  if (a === "plain") return b;
  if (b === "plain") return a;
  return "plain";
}

function walkNode(raw: RawNode, walk: Walk): Walked {
  if (++walk.depth > MAX_DEPTH) throw tooDeep(walk);
  try {
    return walkNodeOf(raw, walk);
  } finally {
    walk.depth--;
  }
}

function walkNodeOf(raw: RawNode, walk: Walk): Walked {
  // One case per jsep node type, each handing over to its own walker or
  // refusal: a dispatch table, alike in form with evaluateNode's switch in
  // _evaluate_node.ts (which evaluates the checked tree) and with itself.
  switch (raw.type) {
    case "Literal":
      return walkLiteral(raw, walk);
    case "Identifier":
      return walkIdentifier(raw, walk);
    case "MemberExpression":
      return walkMember(raw, walk);
    case "CallExpression":
      return walkCall(raw, walk);
    case "UnaryExpression":
      return walkUnary(raw, walk);
    case "BinaryExpression":
      return walkBinary(raw, walk);
    case "ThisExpression":
      return notAllowed(walk, "The keyword", raw);
    case "ArrayExpression":
      return notAllowed(walk, "Array", raw);
    case "ConditionalExpression":
      return notAllowed(walk, "Conditional", raw, "use if(test, a, b)");
    case "SequenceExpression":
      return notAllowed(
        walk,
        "List",
        raw,
        "commas separate arguments of a function only",
      );
    case "Compound":
      return walkCompound(raw, walk);
    default:
      return notAllowed(walk, "Syntax", raw);
  }
}

function walkCompound(raw: RawNode, walk: Walk): never {
  const body = raw.body as RawNode[];
  const second = body[1];
  if (!second) {
    return fail(walk, `The ${walk.mode} is empty`, 0);
  }
  let at = startOf(second);
  const between = walk.text.slice(endOf(body[0] as RawNode, walk), at);
  let problem: string;
  if (/[,;]/.test(between)) {
    problem = `unexpected "${between.trim()}" before "${
      textOf(second, walk)
    }"; commas separate arguments of a function only`;
  } else if (
    second.type === "Identifier" && body.length === 2 &&
    BINARY_OPERATORS.has(second.name as string)
  ) {
    at = endOf(second, walk);
    problem = `expected expression after ${second.name}`;
  } else {
    problem = `expected an operator before "${textOf(second, walk)}"`;
  }
  const position = Math.max(0, at - walk.offset);
  return fail(
    walk,
    `Cannot parse ${walk.mode} "${display(walk.source)}" at column ${
      position + 1
    }: ${problem}`,
    at,
  );
}

function walkLiteral(raw: RawNode, walk: Walk): Walked {
  const { start, end } = span(raw, walk);
  if (typeof raw.value === "number") {
    const percent = raw.percent === true;
    return {
      node: { type: "number", value: raw.value, percent, start, end },
      kind: percent ? "percent" : "plain",
      percent: percent ? display(walk.source.slice(start, end)) : null,
    };
  }
  if (typeof raw.value === "string") {
    return notAllowed(
      walk,
      "String",
      raw,
      walk.mode === "expression"
        ? `KPI names take no quotes; ${ALLOWED[walk.mode]}`
        : undefined,
    );
  }
  return notAllowed(walk, "Literal", raw);
}

function walkIdentifier(raw: RawNode, walk: Walk): Walked {
  const name = raw.name as string;
  const { start, end } = span(raw, walk);
  if (walk.mode === "expression") {
    if (!KPI_NAME.test(name)) {
      return fail(
        walk,
        `Name "${name}" is not a KPI name in an expression; KPI names match [A-Za-z_][A-Za-z0-9_]*`,
        startOf(raw),
      );
    }
    if (!walk.identifiers.includes(name)) walk.identifiers.push(name);
    return {
      node: { type: "name", name, start, end },
      kind: "plain",
      percent: null,
    };
  }
  if (name === "value") {
    return {
      node: { type: "quantity", code: null, field: "value", start, end },
      kind: "quantity",
      percent: null,
    };
  }
  const termKind = TERM_KINDS.get(name);
  if (termKind !== undefined) {
    const term = name as ConditionTerm;
    if (!walk.terms.includes(term)) walk.terms.push(term);
    return {
      node: { type: "term", term, start, end },
      kind: termKind,
      percent: null,
    };
  }
  const code = comparisonCode(name);
  if (code === null) return unknownName(walk, name, startOf(raw));
  noteComparison(walk, code);
  return {
    node: { type: "quantity", code, field: "changePct", start, end },
    kind: "percent",
    percent: null,
  };
}

function comparisonCode(name: string): ComparisonCode | null {
  return (COMPARISON_CODES as readonly string[]).includes(name)
    ? name as ComparisonCode
    : null;
}

function noteComparison(walk: Walk, code: ComparisonCode): void {
  if (!walk.comparisons.includes(code)) walk.comparisons.push(code);
}

function unknownName(walk: Walk, name: string, at: number): never {
  return fail(
    walk,
    `Unknown name "${name}" in a condition; use value or one of ${CODE_LIST} (a percent change), optionally followed by .change, .changePct or .previous, or ${TERM_LIST}`,
    at,
  );
}

function walkMember(raw: RawNode, walk: Walk): Walked {
  if (walk.mode === "expression") {
    return notAllowed(walk, "Member access", raw);
  }
  const object = raw.object as RawNode;
  const property = raw.property as RawNode;
  if (object.type !== "Identifier") {
    return notAllowed(walk, "Member access", raw);
  }
  const name = object.name as string;
  if (name === "value") {
    return notAllowed(
      walk,
      "Member access",
      raw,
      `"value" has no fields; use value, or ${CODE_LIST} with .change, .changePct or .previous`,
    );
  }
  const code = comparisonCode(name);
  if (code === null) return unknownName(walk, name, startOf(raw));
  const field = raw.computed !== true && property.type === "Identifier"
    ? CONDITION_FIELDS.get(property.name as string)
    : undefined;
  if (field === undefined) {
    return notAllowed(
      walk,
      "Field",
      raw,
      `use ${code} (its percent change), ${code}.change, ${code}.changePct or ${code}.previous`,
    );
  }
  noteComparison(walk, code);
  const { start, end } = span(raw, walk);
  return {
    node: { type: "quantity", code, field, start, end },
    kind: field === "changePct" ? "percent" : "quantity",
    percent: null,
  };
}

function walkCall(raw: RawNode, walk: Walk): Walked {
  const callee = raw.callee as RawNode;
  const name = callee.type === "Identifier" ? callee.name as string : null;
  const arity = name === null ? undefined : FUNCTION_ARITY.get(name);
  if (name === null) {
    return notAllowed(walk, "Call of", callee);
  }
  if (arity === undefined) {
    return fail(
      walk,
      `Function "${name}" is not allowed in ${NOUN[walk.mode]}; ${
        ALLOWED[walk.mode]
      }`,
      startOf(raw),
    );
  }
  const rawArgs = raw.arguments as RawNode[];
  const [least, most] = arity;
  if (rawArgs.length < least || rawArgs.length > most) {
    const takes = least === most
      ? `${least} argument${least === 1 ? "" : "s"}`
      : most === Infinity
      ? `at least ${least} argument${least === 1 ? "" : "s"}`
      : `${least} or ${most} arguments`;
    return fail(
      walk,
      `Function ${name}() takes ${takes}, got ${rawArgs.length} in "${
        textOf(raw, walk)
      }"`,
      startOf(raw),
    );
  }
  const args = rawArgs.map((arg) => walkNode(arg, walk));
  const fn = name as ExpressionFunction;
  let kind: Kind = "plain";
  let percent: string | null = null;
  if (fn === "if") {
    const [test, a, b] = args as [Walked, Walked, Walked];
    requireBool(walk, test, rawArgs[0] as RawNode);
    requireNumber(walk, a, rawArgs[1] as RawNode);
    requireNumber(walk, b, rawArgs[2] as RawNode);
    checkPercentMix(walk, a, b, "paired with");
    kind = combine(a.kind, b.kind);
    percent = a.percent ?? b.percent;
  } else {
    args.forEach((arg, i) => requireNumber(walk, arg, rawArgs[i] as RawNode));
    const first = args[0] as Walked;
    if (fn === "min" || fn === "max" || fn === "coalesce" || fn === "abs") {
      kind = first.kind;
      percent = first.percent;
      for (const arg of args.slice(1)) {
        checkPercentMix(walk, first, arg, "paired with");
        kind = combine(kind, arg.kind);
        percent ??= arg.percent;
      }
    } else {
      for (const arg of args) forbidPercent(walk, arg, `${fn}()`);
      kind = fn === "sqrt" || fn === "pow" ? "plain" : first.kind;
      if (fn === "round" && args[1]) checkRoundDigits(walk, args[1]);
    }
  }
  const { start, end } = span(raw, walk);
  return {
    node: { type: "call", name: fn, args: args.map((a) => a.node), start, end },
    kind,
    percent,
  };
}

function checkRoundDigits(walk: Walk, digits: Walked): void {
  const node = digits.node;
  const value = node.type === "number"
    ? node.value
    : node.type === "unary" && node.argument.type === "number"
    ? (node.operator === "-" ? -node.argument.value : node.argument.value)
    : null;
  if (value === null || isRoundDigits(value)) return;
  fail(
    walk,
    `The digits of round() must be a whole number from -15 to 15, got ${
      quote(node, walk)
    }`,
    node.start + walk.offset,
  );
}

/** Whether `round()` accepts this many digits: a whole number from -15 to 15. */
export function isRoundDigits(value: number): boolean {
  return Number.isInteger(value) && value >= -15 && value <= 15;
}

function walkUnary(raw: RawNode, walk: Walk): Walked {
  const operator = raw.operator as string;
  const rawArgument = raw.argument as RawNode;
  if (operator === "~") {
    return fail(
      walk,
      `Operator "~" is not allowed in ${NOUN[walk.mode]}; ${
        ALLOWED[walk.mode]
      }`,
      startOf(raw),
    );
  }
  const argument = walkNode(rawArgument, walk);
  const { start, end } = span(raw, walk);
  if (operator === "-" || operator === "+") {
    requireNumber(walk, argument, rawArgument);
    return {
      node: { type: "unary", operator, argument: argument.node, start, end },
      kind: argument.kind,
      percent: argument.percent === null
        ? null
        : display(walk.source.slice(start, end)),
    };
  }
  requireBool(walk, argument, rawArgument);
  return {
    node: {
      type: "unary",
      operator: "not",
      argument: argument.node,
      start,
      end,
    },
    kind: "bool",
    percent: null,
  };
}

function operatorPosition(raw: RawNode, walk: Walk): number {
  const from = endOf(raw.left as RawNode, walk);
  const at = walk.text.indexOf(raw.operator as string, from);
  return at === -1 ? from : at;
}

function walkBinary(raw: RawNode, walk: Walk): Walked {
  const operatorText = raw.operator as string;
  const operator = BINARY_OPERATORS.get(operatorText);
  if (operator === undefined) {
    return fail(
      walk,
      `Operator "${operatorText}" is not allowed in ${NOUN[walk.mode]}; ${
        OPERATOR_HINTS.get(operatorText) ?? ALLOWED[walk.mode]
      }`,
      operatorPosition(raw, walk),
    );
  }
  if (operator === "%" && walk.mode === "condition") {
    return fail(
      walk,
      `The % sign marks a percent right after a number, as in MoM < -10%; "${
        textOf(raw, walk)
      }" is not allowed in a condition`,
      operatorPosition(raw, walk),
    );
  }
  const rawLeft = raw.left as RawNode;
  const rawRight = raw.right as RawNode;
  if (COMPARISON_OPERATORS.has(operator)) checkNotTrap(walk, raw, rawLeft);
  const left = walkNode(rawLeft, walk);
  const right = walkNode(rawRight, walk);
  const { start, end } = span(raw, walk);
  if (operator === "and" || operator === "or") {
    requireBool(walk, left, rawLeft);
    requireBool(walk, right, rawRight);
    return {
      node: {
        type: "logical",
        operator,
        left: left.node,
        right: right.node,
        start,
        end,
      },
      kind: "bool",
      percent: null,
    };
  }
  requireNumber(walk, left, rawLeft);
  requireNumber(walk, right, rawRight);
  const node: ExpressionNode = {
    type: "binary",
    operator,
    left: left.node,
    right: right.node,
    start,
    end,
  };
  if (COMPARISON_OPERATORS.has(operator)) {
    checkPercentMix(walk, left, right, "compared with");
    return { node, kind: "bool", percent: null };
  }
  if (operator === "+" || operator === "-") {
    checkPercentMix(walk, left, right, "combined with");
    return {
      node,
      kind: combine(left.kind, right.kind),
      percent: left.percent ?? right.percent,
    };
  }
  forbidPercent(walk, left, `"${operator}"`);
  forbidPercent(walk, right, `"${operator}"`);
  const kind = left.kind === "plain"
    ? right.kind
    : right.kind === "plain"
    ? left.kind
    : "plain";
  return { node, kind, percent: null };
}

/** `not a < b` reads as `(not a) < b` in jsep; refuse it with a hint. */
function checkNotTrap(walk: Walk, raw: RawNode, left: RawNode): void {
  if (
    left.type !== "UnaryExpression" || left.paren === true ||
    !["not", "NOT", "!"].includes(left.operator as string)
  ) return;
  const negated = walk.text.slice(
    startOf(left.argument as RawNode),
    endOf(raw, walk),
  );
  fail(
    walk,
    `"${left.operator}" applies only to the term right after it, so "${
      textOf(raw, walk)
    }" would compare "${textOf(left, walk)}"; write not (${
      display(negated)
    }) to negate the comparison`,
    startOf(left),
  );
}

/**
 * Parses `text` with jsep and walks the tree over the whitelist.
 *
 * @param text The expression or condition, as the user wrote it.
 * @param options Which grammar, and a prefix to parse in front of the text.
 * @returns The whitelisted tree and the names it references.
 * @throws {ExpressionError} On a syntax error or anything not whitelisted.
 */
export function parseTree(
  text: string,
  options: { mode: ExpressionMode; prefix?: string },
): ParsedTree {
  const prefix = options.prefix ?? "";
  const walk: Walk = {
    text: prefix + text,
    offset: prefix.length,
    source: text,
    mode: options.mode,
    identifiers: [],
    comparisons: [],
    terms: [],
    depth: 0,
  };
  const raw = runJsep(walk);
  let walked: Walked;
  try {
    walked = walkNode(raw, walk);
  } catch (error) {
    throw error instanceof RangeError ? tooDeep(walk) : error;
  }
  if (options.mode === "condition" && walked.kind !== "bool") {
    fail(
      walk,
      `A condition must compare, as in "< 1000" or "MoM < -10%"; "${
        display(text)
      }" is a number`,
      startOf(raw),
    );
  }
  return {
    ast: walked.node,
    identifiers: walk.identifiers,
    comparisons: walk.comparisons,
    terms: walk.terms,
  };
}

function tooDeep(walk: Walk): ExpressionError {
  return new ExpressionError(
    `The ${walk.mode} "${
      display(walk.source)
    }" is too long or nested too deeply; at most ${MAX_DEPTH} levels are allowed`,
    { position: null },
  );
}

function runJsep(walk: Walk): RawNode {
  state.active = true;
  state.percent = walk.mode === "condition";
  state.starts.length = 0;
  try {
    return jsep(walk.text) as RawNode;
  } catch (error) {
    if (error instanceof RangeError) throw tooDeep(walk);
    const { index, description } = error as Partial<JsepError>;
    if (typeof index !== "number" || typeof description !== "string") {
      throw error;
    }
    const position = Math.max(0, index - walk.offset);
    const message = description === 'Unexpected "="'
      ? `Assignment "=" is not allowed in ${NOUN[walk.mode]}; use == to compare`
      : `Cannot parse ${walk.mode} "${display(walk.source)}" at column ${
        position + 1
      }: ${description.charAt(0).toLowerCase()}${description.slice(1)}`;
    throw new ExpressionError(message, { position });
  } finally {
    state.active = false;
    state.starts.length = 0;
  }
}
