/**
 * Private: exact decimal arithmetic for attribution. Each number is read as
 * the shortest decimal that round-trips (`0.1` is 0.1, not
 * 0.1000000000000000055...), held as a big integer of units of
 * `10^-scale`, added without rounding and turned back into the nearest
 * double once. Contributions computed this way add up to the change
 * exactly as decimals (to the cent for sums of cents).
 *
 * @module
 */

/** A decimal: `units * 10^-scale`. */
export interface Decimal {
  /** The digits, as a whole number. */
  units: bigint;
  /** How many digits are after the point. */
  scale: number;
}

/** The most digits after the point kept when reading a double. */
const MAX_SCALE = 40;

/** Reads a finite double as its shortest round-trip decimal. */
export function toDecimal(value: number): Decimal {
  if (!Number.isFinite(value)) {
    throw new RangeError(
      `Cannot read ${value} as a decimal: expected a finite number`,
    );
  }
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(text);
  if (!match) throw new RangeError(`Cannot read ${text} as a decimal`);
  const [, sign = "", whole = "0", fraction = "", exponentText = "0"] = match;
  const exponent = Number(exponentText);
  let digits = whole + fraction;
  let scale = fraction.length - exponent;
  if (scale < 0) {
    digits += "0".repeat(-scale);
    scale = 0;
  }
  if (scale > MAX_SCALE) {
    // Below 10^-40: rounded away (far beneath any unit a KPI is shown in).
    const cut = scale - MAX_SCALE;
    digits = digits.length > cut ? digits.slice(0, digits.length - cut) : "0";
    scale = MAX_SCALE;
  }
  const units = BigInt(digits);
  return { units: sign === "-" ? -units : units, scale };
}

/** Brings a decimal to a larger scale. */
export function rescale(decimal: Decimal, scale: number): bigint {
  return decimal.units * 10n ** BigInt(scale - decimal.scale);
}

/** The nearest double to `units * 10^-scale` (rounded once). */
export function fromUnits(units: bigint, scale: number): number {
  if (scale <= 0) return Number(units * 10n ** BigInt(-scale));
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(
    scale + 1,
    "0",
  );
  const text = `${negative ? "-" : ""}${digits.slice(0, -scale)}.${
    digits.slice(-scale)
  }`;
  const out = Number(text);
  return Object.is(out, -0) ? 0 : out;
}

/** The largest scale among the numbers (how finely to count them). */
export function commonScale(values: Iterable<number>): number {
  let scale = 0;
  for (const value of values) {
    scale = Math.max(scale, toDecimal(value).scale);
  }
  return scale;
}

/** Whole units of `10^-scale` of a double, exactly. */
export function toUnits(value: number, scale: number): bigint {
  return rescale(toDecimal(value), scale);
}

/**
 * The exact decimal sum of the numbers (each read as its shortest
 * decimal), rounded once to the nearest double.
 */
export function decimalSum(values: readonly number[]): number {
  const scale = commonScale(values);
  let total = 0n;
  for (const value of values) total += toUnits(value, scale);
  return fromUnits(total, scale);
}

/**
 * Rounds shares of a whole so that they add up to it exactly: each part is
 * rounded to whole units and the units the rounding lost or gained go, one
 * at a time, to the parts whose remainders were largest (largest remainder
 * method). `parts` are in units (fractional); `total` is the whole, in
 * whole units.
 */
export function apportion(parts: readonly number[], total: bigint): bigint[] {
  const floors = parts.map((part) => Math.floor(part));
  const rounded = floors.map((f) => BigInt(f));
  let left = total - rounded.reduce((a, b) => a + b, 0n);
  const order = parts.map((part, i) => ({
    i,
    rest: part - (floors[i] as number),
  }));
  if (left > 0n) order.sort((a, b) => b.rest - a.rest || a.i - b.i);
  else order.sort((a, b) => a.rest - b.rest || a.i - b.i);
  let k = 0;
  while (left !== 0n && order.length > 0) {
    const { i } = order[k % order.length] as { i: number };
    const step = left > 0n ? 1n : -1n;
    rounded[i] = (rounded[i] as bigint) + step;
    left -= step;
    k++;
  }
  return rounded;
}
