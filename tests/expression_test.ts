import assert from "node:assert/strict";
import {
  evaluateExpression,
  ExpressionError,
  parseExpression,
} from "../src/expression/expression.ts";
import { parseCondition } from "../src/expression/condition.ts";

type Scope = Record<string, number | null>;

function value(text: string, scope: Scope = {}): number | null {
  const result = evaluateExpression(parseExpression(text), scope);
  if (result.value !== null) assert.equal(result.reason, null);
  return result.value;
}

function evaluate(
  text: string,
  scope: Scope = {},
): { value: number | null; reason: string | null } {
  return evaluateExpression(parseExpression(text), scope);
}

/** Asserts that parsing throws an ExpressionError with this message and position. */
function rejects(
  text: string,
  message: string | RegExp,
  position?: number,
): ExpressionError {
  let caught: unknown;
  try {
    parseExpression(text);
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof ExpressionError,
    `expected "${text.slice(0, 60)}" to fail, got ${
      String(caught).slice(0, 200)
    }`,
  );
  if (typeof message === "string") assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  if (position !== undefined) assert.equal(caught.position, position);
  return caught;
}

const ALLOWED =
  "use KPI names, numbers, + - * / % ( ), < > <= >= == !=, and, or, not and the functions min, max, abs, round, coalesce, floor, ceil, sqrt, pow, if";

Deno.test("parseExpression() lists referenced KPI names once, in order of first use", () => {
  const expr = parseExpression("a + b * a - coalesce(c, a) / min(b, 2)");
  assert.equal(expr.source, "a + b * a - coalesce(c, a) / min(b, 2)");
  assert.deepEqual(expr.identifiers, ["a", "b", "c"]);
  assert.deepEqual(parseExpression("42").identifiers, []);
});

Deno.test("parseExpression() keeps function names out of the identifiers but treats an uncalled one as a KPI name", () => {
  assert.deepEqual(parseExpression("round(x, 2)").identifiers, ["x"]);
  assert.deepEqual(parseExpression("min + 1").identifiers, ["min"]);
});

Deno.test("evaluateExpression() follows arithmetic precedence and parentheses", () => {
  assert.equal(value("2 + 3 * 4"), 14);
  assert.equal(value("(2 + 3) * 4"), 20);
  assert.equal(value("10 - 4 - 3"), 3);
  assert.equal(value("24 / 4 / 2"), 3);
  assert.equal(value("2 * -3"), -6);
  assert.equal(value("-(2 + 3)"), -5);
  assert.equal(value("+a", { a: 4 }), 4);
  assert.equal(value("7 % 3"), 1);
  assert.equal(value("-7 % 3"), -1);
  assert.equal(value("revenue / orders", { revenue: 600, orders: 20 }), 30);
});

Deno.test("evaluateExpression() reads numbers with separators, decimals and exponents", () => {
  assert.equal(value("1_000_000 + 1"), 1_000_001);
  assert.equal(value("1.5e3"), 1500);
  assert.equal(value("2E-2"), 0.02);
  assert.equal(value(".5 + 5."), 5.5);
  assert.equal(value("1_000.000_5"), 1000.0005);
});

Deno.test("evaluateExpression() gives 1 or 0 for each comparison", () => {
  const cases: [string, number][] = [
    ["2 < 3", 1],
    ["3 < 3", 0],
    ["3 > 2", 1],
    ["2 > 3", 0],
    ["3 <= 3", 1],
    ["4 <= 3", 0],
    ["3 >= 3", 1],
    ["2 >= 3", 0],
    ["3 == 3", 1],
    ["3 == 4", 0],
    ["3 != 4", 1],
    ["3 != 3", 0],
    ["a*2>b", 1],
  ];
  for (const [text, expected] of cases) {
    assert.equal(value(text, { a: 2, b: 3 }), expected, text);
  }
});

Deno.test("evaluateExpression() binds and tighter than or, and comparisons tighter than both", () => {
  assert.equal(value("1 or 0 and 0"), 1);
  assert.equal(value("(1 or 0) and 0"), 0);
  assert.equal(value("1 < 2 and 3 < 4"), 1);
  assert.equal(value("1 < 2 and 3 > 4"), 0);
  assert.equal(value("1 > 2 or 3 < 4"), 1);
  assert.equal(value("not 0"), 1);
  assert.equal(value("not 5"), 0);
  assert.equal(value("not (1 > 2)"), 1);
  assert.equal(value("!0 && 1 || 0"), 1);
  assert.equal(value("1 AND NOT 0 OR 0"), 1);
  assert.equal(value("(a > 0) * 10", { a: 3 }), 10);
});

Deno.test("evaluateExpression() computes min, max, abs, floor, ceil, sqrt and pow", () => {
  assert.equal(value("min(3, 1, 2)"), 1);
  assert.equal(value("max(3, 1, 2)"), 3);
  assert.equal(value("min(4)"), 4);
  assert.equal(value("abs(-4.5)"), 4.5);
  assert.equal(value("floor(-1.5)"), -2);
  assert.equal(value("ceil(1.2)"), 2);
  assert.equal(value("sqrt(16)"), 4);
  assert.equal(value("pow(2, 10)"), 1024);
});

Deno.test("evaluateExpression() rounds half away from zero, to optional digits", () => {
  assert.equal(value("round(2.5)"), 3);
  assert.equal(value("round(-2.5)"), -3);
  assert.equal(value("round(2.4)"), 2);
  assert.equal(value("round(1.005, 2)"), 1.01);
  assert.equal(value("round(a / 3, 3)", { a: 2 }), 0.667);
  assert.equal(value("round(1234.5, -2)"), 1200);
  assert.equal(value("round(-0.4)"), 0);
  assert.ok(Object.is(value("round(-0.4)"), 0));
  assert.deepEqual(evaluate("round(a, d)", { a: 1.5, d: 2.5 }), {
    value: null,
    reason:
      'the digits of "round(a, d)" must be a whole number from -15 to 15, got 2.5',
  });
});

Deno.test("evaluateExpression() evaluates only the chosen branch of if()", () => {
  const expr = parseExpression("if(b != 0, a / b, 0)");
  assert.deepEqual(evaluateExpression(expr, { a: 6, b: 0 }), {
    value: 0,
    reason: null,
  });
  assert.deepEqual(evaluateExpression(expr, { a: 6, b: 3 }), {
    value: 2,
    reason: null,
  });
  assert.deepEqual(evaluateExpression(expr, { a: 6, b: null }), {
    value: null,
    reason: '"b" is null',
  });
});

Deno.test("evaluateExpression() propagates a null through arithmetic with the name as reason", () => {
  assert.deepEqual(
    evaluate("revenue / active_users", { revenue: 100, active_users: null }),
    { value: null, reason: '"active_users" is null' },
  );
  assert.deepEqual(evaluate("a + b * 2", { a: null, b: null }), {
    value: null,
    reason: '"a" is null',
  });
  assert.deepEqual(evaluate("abs(a) + min(b, 1)", { a: 1, b: null }), {
    value: null,
    reason: '"b" is null',
  });
  assert.deepEqual(evaluate("a > 1", { a: null }), {
    value: null,
    reason: '"a" is null',
  });
});

Deno.test("evaluateExpression() lets coalesce() replace a null", () => {
  assert.equal(value("coalesce(a, 0) + 1", { a: null }), 1);
  assert.equal(value("coalesce(a, b, 7)", { a: null, b: 5 }), 5);
  assert.equal(value("coalesce(a, 0)", { a: 3 }), 3);
  assert.deepEqual(evaluate("coalesce(a, b)", { a: null, b: null }), {
    value: null,
    reason: 'every argument of "coalesce(a, b)" is null',
  });
});

Deno.test("evaluateExpression() treats a null as unknown in and, or and not", () => {
  assert.equal(value("x > 0 or 1", { x: null }), 1);
  assert.equal(value("x > 0 and 0", { x: null }), 0);
  assert.equal(value("0 and x / 0", { x: 1 }), 0);
  assert.deepEqual(evaluate("x > 0 and 1", { x: null }), {
    value: null,
    reason: '"x" is null',
  });
  assert.deepEqual(evaluate("0 or not y", { y: null }), {
    value: null,
    reason: '"y" is null',
  });
});

Deno.test("evaluateExpression() reports the null that decides, not one that was masked", () => {
  assert.deepEqual(evaluate("x + (a > 0 or 1)", { x: null, a: null }), {
    value: null,
    reason: '"x" is null',
  });
  assert.deepEqual(evaluate("coalesce(a, 1) * b", { a: null, b: null }), {
    value: null,
    reason: '"b" is null',
  });
});

Deno.test("evaluateExpression() gives null and a reason on division or modulo by zero", () => {
  assert.deepEqual(
    evaluate("revenue / active_users", { revenue: 10, active_users: 0 }),
    { value: null, reason: 'division by zero in "revenue / active_users"' },
  );
  assert.deepEqual(evaluate("a + b / (c - c)", { a: 1, b: 2, c: 3 }), {
    value: null,
    reason: 'division by zero in "b / (c - c)"',
  });
  assert.deepEqual(evaluate("0 / 0"), {
    value: null,
    reason: 'division by zero in "0 / 0"',
  });
  assert.deepEqual(evaluate("a % 0", { a: 5 }), {
    value: null,
    reason: 'division by zero in "a % 0"',
  });
});

Deno.test("evaluateExpression() never returns Infinity or NaN", () => {
  const scope = { big: 1e200, neg: -4, inf: Infinity, nan: NaN, zero: 0 };
  const cases: [string, string][] = [
    ["big * big", 'non-finite result in "big * big"'],
    ["-big * big - big", 'non-finite result in "-big * big"'],
    ["sqrt(neg)", 'non-finite result in "sqrt(neg)"'],
    ["pow(10, 400)", 'non-finite result in "pow(10, 400)"'],
    ["pow(neg, 0.5)", 'non-finite result in "pow(neg, 0.5)"'],
    ["pow(zero, -1)", 'non-finite result in "pow(zero, -1)"'],
    ["inf - 1", '"inf" is not a finite number'],
    ["nan + 1", '"nan" is not a finite number'],
    ["1 / zero", 'division by zero in "1 / zero"'],
  ];
  for (const [text, reason] of cases) {
    assert.deepEqual(evaluate(text, scope), { value: null, reason }, text);
  }
});

Deno.test("evaluateExpression() gives 0, not -0", () => {
  assert.ok(Object.is(value("0 * -1"), 0));
  assert.ok(Object.is(value("-a", { a: 0 }), 0));
});

Deno.test("evaluateExpression() does not read names from the scope's prototype", () => {
  assert.deepEqual(evaluate("constructor + 1", {}), {
    value: null,
    reason: 'no value for "constructor"',
  });
  assert.deepEqual(evaluate("toString", { a: 1 }), {
    value: null,
    reason: 'no value for "toString"',
  });
  assert.deepEqual(evaluate("missing * 2", { a: 1 }), {
    value: null,
    reason: 'no value for "missing"',
  });
});

Deno.test("parseExpression() refuses member access and names what is allowed", () => {
  const error = rejects(
    "revenue.constructor",
    `Member access "revenue.constructor" is not allowed in an expression; ${ALLOWED}`,
    0,
  );
  assert.ok(error instanceof SyntaxError);
  assert.equal(error.name, "ExpressionError");
  rejects(
    'a + revenue["constructor"]',
    /^Member access "revenue\["constructor"\]" is not allowed in an expression; use KPI names/,
    4,
  );
  rejects("a.b.c", /^Member access "a\.b\.c" is not allowed/, 0);
});

Deno.test("parseExpression() refuses calls of unlisted names", () => {
  rejects(
    "foo(1)",
    `Function "foo" is not allowed in an expression; ${ALLOWED}`,
    0,
  );
  rejects("1 + constructor()", /^Function "constructor" is not allowed/, 4);
  rejects("eval(a)", /^Function "eval" is not allowed/, 0);
  rejects("Math.max(a, b)", /^Call of "Math\.max" is not allowed/, 0);
  rejects("a.toString()", /^Call of "a\.toString" is not allowed/, 0);
  rejects("(a)(1)", /^Function "a" is not allowed/, 0);
});

Deno.test("parseExpression() refuses assignment, this, strings, arrays, literals and ?:", () => {
  rejects(
    "a = 1",
    'Assignment "=" is not allowed in an expression; use == to compare',
    2,
  );
  rejects(
    "this",
    `The keyword "this" is not allowed in an expression; ${ALLOWED}`,
    0,
  );
  rejects("this.a + 1", /^Member access "this\.a" is not allowed/, 0);
  rejects(
    "a + 'revenue'",
    /^String "'revenue'" is not allowed in an expression; KPI names take no quotes; use KPI names/,
    4,
  );
  rejects('"x"', /^String ""x"" is not allowed/, 0);
  rejects("[1, 2]", /^Array "\[1, 2\]" is not allowed in an expression/, 0);
  rejects("true + 1", /^Literal "true" is not allowed/, 0);
  rejects("null", /^Literal "null" is not allowed/, 0);
  rejects(
    "a > 0 ? a : b",
    'Conditional "a > 0 ? a : b" is not allowed in an expression; use if(test, a, b)',
    0,
  );
});

Deno.test("parseExpression() refuses operators outside the whitelist with a hint", () => {
  rejects(
    "a ** 2",
    'Operator "**" is not allowed in an expression; use pow(a, b)',
    2,
  );
  rejects(
    "a ^ 2",
    'Operator "^" is not allowed in an expression; use pow(a, b)',
    2,
  );
  rejects(
    "a === b",
    'Operator "===" is not allowed in an expression; use ==',
    2,
  );
  rejects(
    "a !== b",
    'Operator "!==" is not allowed in an expression; use !=',
    2,
  );
  rejects("a & b", 'Operator "&" is not allowed in an expression; use and', 2);
  rejects("a | b", 'Operator "|" is not allowed in an expression; use or', 2);
  rejects(
    "a ?? 0",
    'Operator "??" is not allowed in an expression; use coalesce(a, b)',
    2,
  );
  rejects(
    "a << 2",
    `Operator "<<" is not allowed in an expression; ${ALLOWED}`,
    2,
  );
  rejects("~a", `Operator "~" is not allowed in an expression; ${ALLOWED}`, 0);
});

Deno.test("parseExpression() refuses names that are not KPI names", () => {
  rejects(
    "$x + 1",
    'Name "$x" is not a KPI name in an expression; KPI names match [A-Za-z_][A-Za-z0-9_]*',
    0,
  );
  rejects("a + café", /^Name "café" is not a KPI name/, 4);
});

Deno.test("parseExpression() reports syntax errors with their 0-based position", () => {
  rejects(
    "a +",
    'Cannot parse expression "a +" at column 4: expected expression after +',
    3,
  );
  rejects(
    "(a + b",
    /^Cannot parse expression "\(a \+ b" at column 7: unclosed \(/,
    6,
  );
  rejects(
    "a b",
    'Cannot parse expression "a b" at column 3: expected an operator before "b"',
    2,
  );
  rejects("a and", /at column 6: expected expression after and$/, 5);
  rejects("revenue orders", /: expected an operator before "orders"$/, 8);
  rejects(
    "a, b",
    'Cannot parse expression "a, b" at column 4: unexpected "," before "b"; commas separate arguments of a function only',
    3,
  );
  rejects("(a, b)", /^List "\(a, b\)" is not allowed/, 0);
  rejects("", "The expression is empty", 0);
  rejects("   ", "The expression is empty", 0);
  rejects(
    "1e",
    /^Cannot parse expression "1e" at column 1: invalid number "1e"$/,
    0,
  );
  rejects("a + 1_", /invalid number "1_"$/, 4);
  rejects("10abc", /invalid number "10abc"$/, 0);
  rejects("1.2.3", /invalid number "1\.2\.3"$/, 0);
  rejects("1e999", /number "1e999" is too large$/, 0);
  rejects(
    "a * 10%",
    /^Cannot parse expression "a \* 10%" at column 8: expected expression after %$/,
    7,
  );
});

Deno.test("parseExpression() checks the number of arguments of each function", () => {
  rejects(
    "round(a, 1, 2)",
    'Function round() takes 1 or 2 arguments, got 3 in "round(a, 1, 2)"',
    0,
  );
  rejects("abs()", 'Function abs() takes 1 argument, got 0 in "abs()"', 0);
  rejects("pow(2)", 'Function pow() takes 2 arguments, got 1 in "pow(2)"', 0);
  rejects(
    "min()",
    'Function min() takes at least 1 argument, got 0 in "min()"',
    0,
  );
  rejects(
    "if(a, b)",
    'Function if() takes 3 arguments, got 2 in "if(a, b)"',
    0,
  );
  rejects(
    "round(a, 20)",
    'The digits of round() must be a whole number from -15 to 15, got "20"',
    9,
  );
  rejects("round(a, -1.5)", /got "-1\.5"$/, 9);
});

Deno.test("parseExpression() refuses 'not a < b', which would negate only a", () => {
  rejects(
    "not a < b",
    '"not" applies only to the term right after it, so "not a < b" would compare "not a"; write not (a < b) to negate the comparison',
    0,
  );
  rejects("!a == 1", /^"!" applies only to the term right after it/, 0);
  assert.equal(value("(not a) < b", { a: 0, b: 2 }), 1);
});

Deno.test("parseExpression() reads expressions over several lines and quotes them on one", () => {
  assert.deepEqual(
    evaluate("revenue /\n  orders\n", { revenue: 1, orders: 0 }),
    {
      value: null,
      reason: 'division by zero in "revenue / orders"',
    },
  );
});

Deno.test("parseExpression() refuses trees deeper than 1,000 levels instead of overflowing the stack", () => {
  assert.equal(value("(".repeat(500) + "a" + ")".repeat(500), { a: 2 }), 2);
  assert.equal(value("a" + " + a".repeat(900), { a: 1 }), 901);
  rejects(
    "(".repeat(5000) + "a" + ")".repeat(5000),
    /^The expression "\(+…" is too long or nested too deeply; at most 1000 levels are allowed$/,
  );
  rejects("a" + " + a".repeat(20_000), /is too long or nested too deeply/);
});

Deno.test("parseExpression() throws a TypeError for a non-string", () => {
  assert.throws(
    () => parseExpression(42 as unknown as string),
    new TypeError("Expected an expression string, got number"),
  );
});

Deno.test("parseExpression() reads % as modulo even right after a condition used it as a percent", () => {
  parseCondition("MoM < -10%");
  assert.throws(() => parseCondition("MoM < -10% and"), ExpressionError);
  assert.equal(value("7 % 4"), 3);
  assert.equal(value("a % 4", { a: 10 }), 2);
});

Deno.test("evaluateExpression() evaluates 1,000 parsed expressions, with and without a null input (speed: bench/)", () => {
  const exprs = Array.from(
    { length: 1000 },
    (_, i) =>
      parseExpression(
        `round(coalesce(a, 0) / max(b, 1) * ${i} + abs(c - ${i}), 2)`,
      ),
  );
  const scope = { a: 120, b: 7, c: null };
  const scopeFull = { a: 120, b: 7, c: 3 };
  for (const expr of exprs) evaluateExpression(expr, scopeFull);
  let sum = 0;
  let expected = 0;
  for (const [i, expr] of exprs.entries()) {
    sum += evaluateExpression(expr, scopeFull).value ?? 0;
    expected += Math.round((120 / 7 * i + Math.abs(3 - i)) * 100) / 100;
    // c is null: abs(null - i) is null, so the sum is null and round() too.
    assert.equal(evaluateExpression(expr, scope).value, null);
    if (i === 2) {
      assert.equal(evaluateExpression(expr, scopeFull).value, 35.29);
    }
  }
  assert.ok(
    Math.abs(sum - expected) < 1e-6,
    `sum ${sum}, expected ${expected}`,
  );
});
