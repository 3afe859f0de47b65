import assert from "node:assert/strict";
import {
  type ConditionInput,
  evaluateCondition,
  parseCondition,
} from "../src/expression/condition.ts";
import { ExpressionError } from "../src/expression/expression.ts";

/** A result with value 45,000 that fell 25% month over month and grew 5% year over year. */
const INPUT: ConditionInput = {
  value: 45_000,
  comparisons: {
    MoM: { previousValue: 60_000, change: -15_000, changePct: -25 },
    YoY: { previousValue: 42_857, change: 2_143, changePct: 5 },
  },
};

function holds(text: string, input: ConditionInput = INPUT): boolean {
  return evaluateCondition(parseCondition(text), input);
}

function withValue(value: number | null): ConditionInput {
  return { value, comparisons: {} };
}

function rejects(
  text: string,
  message: string | RegExp,
  position?: number,
): void {
  let caught: unknown;
  try {
    parseCondition(text);
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof ExpressionError,
    `expected "${text}" to fail, got ${String(caught).slice(0, 200)}`,
  );
  if (typeof message === "string") assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  if (position !== undefined) assert.equal(caught.position, position, text);
}

Deno.test("evaluateCondition() accepts the reference package's forms on the value", () => {
  const cases: [string, number, boolean][] = [
    ["< 1000", 999, true],
    ["< 1000", 1000, false],
    ["> 0.15", 0.16, true],
    ["> 0.15", 0.15, false],
    ["<= 100", 100, true],
    ["<= 100", 100.5, false],
    [">= 500", 500, true],
    [">= 500", 499, false],
    ["== 0", 0, true],
    ["== 0", 1, false],
  ];
  for (const [text, value, expected] of cases) {
    assert.equal(holds(text, withValue(value)), expected, `${value} ${text}`);
  }
});

Deno.test("evaluateCondition() accepts each operator without a space, != too", () => {
  const cases: [string, number, boolean][] = [
    ["<1000", 999, true],
    [">0.15", 0.1, false],
    ["<=100", 100, true],
    [">=500", 499, false],
    ["==0", 0, true],
    ["!=0", 0, false],
    ["!= 0", 3, true],
    ["  <  5  ", 4, true],
    ["<-5", -6, true],
    ["<= -5", -5, true],
    ["< 1_000_000", 999_999, true],
    ["< 1e6", 1e6, false],
  ];
  for (const [text, value, expected] of cases) {
    assert.equal(holds(text, withValue(value)), expected, `${value} ${text}`);
  }
});

Deno.test("evaluateCondition() reads value, a bare code as its percent change, and the fields", () => {
  assert.equal(holds("value < 100000"), true);
  assert.equal(holds("value >= 45000"), true);
  assert.equal(holds("MoM < -10%"), true);
  assert.equal(holds("MoM < -30%"), false);
  assert.equal(holds("MoM<-10%"), true);
  assert.equal(holds("MoM < -10 %"), true);
  assert.equal(holds("MoM < -10"), true, "a plain number means the same");
  assert.equal(holds("MoM.changePct <= -25"), true);
  assert.equal(holds("YoY <= -5%"), false);
  assert.equal(holds("YoY >= 5%"), true);
  assert.equal(holds("MoM.change < -5000"), true);
  assert.equal(holds("MoM.change < -20000"), false);
  assert.equal(holds("MoM.previous > 50000"), true);
  assert.equal(holds("MoM.previousValue == 60000"), true);
  assert.equal(holds("abs(MoM) > 20%"), true);
  assert.equal(holds("value < MoM.previous * 0.8"), true);
  assert.equal(holds("value - MoM.previous < -10_000"), true);
});

Deno.test("evaluateCondition() combines with and, or, not and parentheses, and before or", () => {
  assert.equal(holds("MoM < -10% and value < 50000"), true);
  assert.equal(holds("MoM < -10% and value < 40000"), false);
  assert.equal(holds("MoM > 0 or value < 50000"), true);
  assert.equal(holds("MoM > 0 or value > 50000"), false);
  // or binds looser than and: true or (false and false)
  assert.equal(holds("value > 1 or value > 50000 and MoM > 0"), true);
  assert.equal(holds("(value > 1 or value > 50000) and MoM > 0"), false);
  assert.equal(holds("not (MoM < -10%)"), false);
  assert.equal(holds("not(YoY < 0)"), true);
  assert.equal(holds("!(value > 1)"), false);
  assert.equal(holds("MoM < 0 && YoY > 0"), true);
  assert.equal(holds("MoM > 0 || YoY > 0"), true);
  assert.equal(holds("MoM < 0 AND NOT (YoY < 0)"), true);
  assert.equal(holds("< 50000 and MoM < -10%"), true, "a leading operator");
  assert.equal(holds("< 40000 or YoY > 1%"), true);
});

Deno.test("parseCondition() lists the comparison codes a condition needs", () => {
  assert.deepEqual(
    parseCondition("MoM < -10% and YoY.change < 0 or MoM.previous > 5")
      .comparisons,
    ["MoM", "YoY"],
  );
  assert.deepEqual(parseCondition("< 1000").comparisons, []);
  assert.deepEqual(
    parseCondition("QoQ.changePct > 1 or DoD < 0 or WoW < 0").comparisons,
    [
      "QoQ",
      "DoD",
      "WoW",
    ],
  );
  assert.equal(parseCondition("< 1000").source, "< 1000");
});

Deno.test("evaluateCondition() never holds on a null value, whatever the operator", () => {
  for (const text of ["< 100", "> 100", "<= 100", ">= 100", "== 0", "!= 0"]) {
    assert.equal(holds(text, withValue(null)), false, text);
  }
  assert.equal(holds("not (value > 100)", withValue(null)), false);
});

Deno.test("evaluateCondition() never holds on a null or missing change", () => {
  const nullChange: ConditionInput = {
    value: 10,
    comparisons: {
      MoM: { previousValue: 0, change: 10, changePct: null },
    },
  };
  assert.equal(holds("MoM < -10%", nullChange), false);
  assert.equal(holds("MoM > -10%", nullChange), false);
  assert.equal(holds("MoM != 0", nullChange), false);
  assert.equal(holds("not (MoM < -10%)", nullChange), false);
  assert.equal(holds("MoM.change > 5", nullChange), true);
  assert.equal(holds("YoY < 0", nullChange), false, "YoY was not computed");
  assert.equal(holds("not (YoY < 0)", nullChange), false);
});

Deno.test("evaluateCondition() lets a known comparison decide an or/and beside an unknown one", () => {
  const input: ConditionInput = { value: 5, comparisons: {} };
  assert.equal(holds("value < 10 or MoM < -10%", input), true);
  assert.equal(holds("value < 10 and MoM < -10%", input), false);
  assert.equal(holds("value > 10 and MoM < -10%", input), false);
  assert.equal(holds("value > 10 or MoM < -10%", input), false);
});

Deno.test("evaluateCondition() treats division by zero in a condition as unknown", () => {
  const input: ConditionInput = {
    value: 5,
    comparisons: { MoM: { previousValue: 0, change: 5, changePct: null } },
  };
  assert.equal(holds("value / MoM.previous > 2", input), false);
  assert.equal(holds("value / MoM.previous <= 2", input), false);
});

Deno.test("evaluateCondition() accepts the condition as a string", () => {
  assert.equal(evaluateCondition("< 1000", withValue(10)), true);
  assert.equal(evaluateCondition("MoM < -10%", INPUT), true);
  assert.equal(evaluateCondition("MoM < -10%", INPUT), true);
  assert.throws(
    () => evaluateCondition("revenue < 5", INPUT),
    ExpressionError,
  );
});

Deno.test("parseCondition() refuses a percent compared with the value, a change or a previous value", () => {
  rejects(
    "value < 10%",
    'The percent "10%" is compared with "value", which is not a percent change; a percent goes with DoD, WoW, MoM, QoQ, YoY or their .changePct, so for "value" write a plain number',
    8,
  );
  rejects(
    "> 5%",
    /^The percent "5%" is compared with "value", which is not a percent change/,
    2,
  );
  rejects("< -5%", /^The percent "-5%" is compared with "value"/, 2);
  rejects(
    "MoM.change < -10%",
    /^The percent "-10%" is compared with "MoM\.change"/,
    13,
  );
  rejects(
    "-10% > MoM.previous",
    /^The percent "-10%" is compared with "MoM\.previous"/,
    0,
  );
  rejects("value + 5% > 1", /^The percent "5%" is combined with "value"/, 8);
});

Deno.test("parseCondition() refuses a percent used as a factor", () => {
  rejects(
    "value < MoM.previous * 90%",
    'The percent "90%" cannot be used in "*"; a percent is compared with a percent change (MoM < -10%), so for a share write a plain number such as 0.9',
    23,
  );
  rejects(
    "round(10%) < MoM",
    /^The percent "10%" cannot be used in round\(\)/,
    6,
  );
});

Deno.test("parseCondition() refuses unknown names and lists the accepted ones", () => {
  const accepted =
    "use value or one of DoD, WoW, MoM, QoQ, YoY (a percent change), optionally followed by .change, .changePct or .previous, or anomaly, expected, lower, upper, score (an anomaly baseline), target, attainment, projected (a target)";
  rejects(
    "revenue < 5",
    `Unknown name "revenue" in a condition; ${accepted}`,
    0,
  );
  rejects("WoM < 1%", `Unknown name "WoM" in a condition; ${accepted}`, 0);
  rejects(
    "value < 5 and mom < 0",
    `Unknown name "mom" in a condition; ${accepted}`,
    14,
  );
  rejects("WoM.change < 1", /^Unknown name "WoM"/, 0);
  rejects(
    "MoM.foo > 1",
    'Field "MoM.foo" is not allowed in a condition; use MoM (its percent change), MoM.change, MoM.changePct or MoM.previous',
    0,
  );
  rejects('MoM["change"] > 1', /^Field "MoM\["change"\]" is not allowed/, 0);
  rejects(
    "value.x > 1",
    /^Member access "value\.x" is not allowed in a condition; "value" has no fields/,
    0,
  );
  rejects(
    "MoM.change.x > 1",
    /^Member access "MoM\.change\.x" is not allowed in a condition; use value/,
    0,
  );
});

Deno.test("parseCondition() refuses a condition that does not compare", () => {
  rejects(
    "value",
    'A condition must compare, as in "< 1000" or "MoM < -10%"; "value" is a number',
    0,
  );
  rejects("1000", /^A condition must compare/, 0);
  rejects("MoM.change * 2", /^A condition must compare/, 0);
  rejects(
    "MoM < -10% and value",
    '"value" is a number, not a comparison, in a condition; and, or, not combine comparisons such as value < 100000',
    15,
  );
  rejects("not value", /^"value" is a number, not a comparison/, 4);
  rejects(
    "(value < 5) < 1",
    '"(value < 5)" is true or false, not a number, in a condition; compare numbers and combine comparisons with and, or, not',
    0,
  );
  rejects(
    "not MoM < -10%",
    '"not" applies only to the term right after it, so "not MoM < -10%" would compare "not MoM"; write not (MoM < -10%) to negate the comparison',
    0,
  );
});

Deno.test("parseCondition() refuses what derived expressions refuse", () => {
  rejects("MoM % 2 > 1", /^The % sign marks a percent right after a number/, 4);
  rejects(
    "= 5",
    'Assignment "=" is not allowed in a condition; use == to compare',
    0,
  );
  rejects(
    "value = 5",
    'Assignment "=" is not allowed in a condition; use == to compare',
    6,
  );
  rejects(
    "value === 5",
    'Operator "===" is not allowed in a condition; use ==',
    6,
  );
  rejects(
    "foo(value) > 1",
    /^Function "foo" is not allowed in a condition; use value, DoD/,
    0,
  );
  rejects("this > 1", /^The keyword "this" is not allowed in a condition/, 0);
  rejects(
    "value == 'high'",
    /^String "'high'" is not allowed in a condition/,
    9,
  );
  rejects("value > 1 ? 1 : 0", /^Conditional .* use if\(test, a, b\)$/, 0);
});

Deno.test("parseCondition() reports syntax errors at their position in the text as written", () => {
  rejects(
    "<",
    'Cannot parse condition "<" at column 2: expected expression after <',
    1,
  );
  rejects(
    "MoM <",
    /^Cannot parse condition "MoM <" at column 6: expected expression after </,
    5,
  );
  rejects("<= 10 and", /^Cannot parse condition "<= 10 and" at column 10:/, 9);
  rejects("(value < 5", /unclosed \($/, 10);
  rejects(
    "< 10 20",
    'Cannot parse condition "< 10 20" at column 6: expected an operator before "20"',
    5,
  );
  rejects("", "The condition is empty", 0);
  rejects("< 1e", /invalid number "1e"$/, 2);
});

Deno.test("parseCondition() throws a TypeError for a non-string", () => {
  assert.throws(
    () => parseCondition(undefined as unknown as string),
    new TypeError("Expected a condition string, got undefined"),
  );
});
