import assert from "node:assert/strict";
import { cleanNumber } from "../src/_numbers.ts";

/** The rule as the module doc states it, through the decimal string. */
function byString(value: number): number {
  if (!Number.isFinite(value) || Number.isInteger(value)) return value;
  const decimal = Number(value.toPrecision(15));
  return Math.abs(decimal - value) <= Math.abs(value) * 2 ** -51
    ? decimal
    : value;
}

let seed = 11;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}

Deno.test("cleanNumber() drops float noise and keeps digits that were in the data", () => {
  assert.equal(cleanNumber(0.1 + 0.2), 0.3);
  assert.equal(cleanNumber(1329.7199999999998), 1329.72);
  assert.equal(cleanNumber(-1329.7199999999998), -1329.72);
  assert.equal(cleanNumber(12345678901234.56), 12345678901234.56);
  assert.equal(cleanNumber(2 / 3), 0.6666666666666666);
  assert.equal(cleanNumber(1e-12 + 2e-12), 3e-12);
  assert.equal(cleanNumber(Infinity), Infinity);
  assert.ok(Number.isNaN(cleanNumber(NaN)));
});

Deno.test("cleanNumber() gives the same double as reading the 15-digit decimal, across magnitudes and halves", () => {
  const values: number[] = [];
  for (let i = 0; i < 200_000; i++) {
    const exponent = Math.floor(random() * 40) - 20;
    const decimal = Number(
      `${(random() * 9 + 1).toFixed(14)}e${exponent}`,
    );
    // A decimal, a few ulps away from it either way, and its negative.
    const ulps = Math.floor(random() * 9) - 4;
    const noisy = decimal + ulps * Number.EPSILON * Math.abs(decimal);
    values.push(decimal, noisy, -noisy);
    // Sums of cents, as a series adds them.
    let sum = 0;
    for (let k = 0; k < 5; k++) sum += Math.round(random() * 1e6) / 100;
    values.push(sum);
    // Exactly half way between two 15-digit decimals (as near as a
    // double gets), where the digits round up.
    values.push(Number(`${(random() * 9 + 1).toFixed(14)}5e${exponent}`));
    values.push(random() * 10 ** exponent);
  }
  let differing = 0;
  for (const value of values) {
    if (!Object.is(cleanNumber(value), byString(value))) differing++;
  }
  assert.equal(differing, 0);
});
