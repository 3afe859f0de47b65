/**
 * Private: the engine's one rule for binary floating-point noise.
 *
 * A float64 holds 15 to 17 significant decimal digits. Arithmetic on decimal
 * data (cents, tenths) leaves a value a few units in the last place (ulps)
 * away from the decimal it stands for: `0.1 + 0.2` is `0.30000000000000004`,
 * a sum of cents `1329.7199999999998`. A value is **noisy** when a decimal of
 * at most 15 significant digits lies within 2⁻⁵¹ of its magnitude (two to
 * four ulps); it is then replaced by that decimal. Any other value is kept as
 * it is, so digits that were in the data survive: `12345678901234.56` has 16
 * significant digits, lies 20 ulps from the nearest 15-digit decimal, and
 * stays `12345678901234.56`; `2 / 3` stays `0.6666666666666666`.
 *
 * @module
 */

/** Relative distance within which a value counts as noise around a decimal. */
const NOISE = 2 ** -51;

/**
 * Drops binary floating-point noise from a computed number (see the module
 * doc for the rule): `0.1 + 0.2` becomes `0.3`, `12345678901234.56` stays.
 */
export function cleanNumber(value: number): number {
  if (!Number.isFinite(value) || Number.isInteger(value)) return value;
  const decimal = decimal15(value);
  return Math.abs(decimal - value) <= Math.abs(value) * NOISE ? decimal : value;
}

/** 10⁰ to 10²², every power of ten a float64 holds exactly. */
const TENS = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * `Number(value.toPrecision(15))` for a finite number that is not whole,
 * without the string where arithmetic gives the same double (a series folds
 * hundreds of values per call, and the string round trip was most of the
 * cost of each): the 15 digits are the whole number nearest to
 * `|value| × 10^k`, and dividing them by `10^k` rounds exactly as reading
 * the decimal does (both exact operands, one correct rounding). The product
 * is below 2⁵⁰, so it is within 1/16 of the exact one: a fraction within
 * 1/8 of a half, or digits not 15 long (`log10` off by one), take the
 * string instead.
 */
function decimal15(value: number): number {
  const magnitude = Math.abs(value);
  const k = 14 - Math.floor(Math.log10(magnitude));
  if (k >= 0 && k <= 22) {
    const scale = TENS[k] as number;
    const scaled = magnitude * scale;
    const whole = Math.floor(scaled);
    const fraction = scaled - whole;
    if (
      whole > 1e14 && whole < 1e15 - 2 && Math.abs(fraction - 0.5) > 0.125
    ) {
      const decimal = (fraction > 0.5 ? whole + 1 : whole) / scale;
      return value < 0 ? -decimal : decimal;
    }
  }
  return Number(value.toPrecision(15));
}

/**
 * Rounds a derived statistic (a baseline, a pace share, a projection) to 12
 * significant digits: more than any KPI's data carries, few enough that
 * float residue from medians and divisions does not show.
 */
export function roundStatistic(value: number): number {
  return Number(value.toPrecision(12));
}

/**
 * Reads a cell as a number: numbers as they are, booleans as 1 or 0,
 * bigints and numeric strings converted; anything missing or not numeric is
 * NaN, which aggregations skip.
 */
export function toNumber(cell: unknown): number {
  switch (typeof cell) {
    case "number":
      return cell;
    case "boolean":
      return cell ? 1 : 0;
    case "bigint":
      return Number(cell);
    case "string":
      return cell.trim() === "" ? NaN : Number(cell);
    default:
      return NaN;
  }
}

/**
 * How many decimals the shortest form of a number shows (`98671.69` → 2,
 * `1e-7` → 7, `1e21` → 0).
 */
export function decimalsOf(value: number): number {
  const text = String(Math.abs(value));
  const e = text.indexOf("e");
  const mantissa = e === -1 ? text : text.slice(0, e);
  const exponent = e === -1 ? 0 : Number(text.slice(e + 1));
  const dot = mantissa.indexOf(".");
  const fraction = dot === -1 ? 0 : mantissa.length - dot - 1;
  return Math.max(0, fraction - exponent);
}

/**
 * `a - b` without the noise of cancellation: both operands are cleaned, and
 * the difference is rounded to the most decimals either shows, which is all
 * the precision they carry (`643077.41 - 544405.72` is `98671.69`,
 * `12345678901234.56 - 12345678901000` is `234.56`).
 */
export function cleanDifference(a: number, b: number): number {
  const x = cleanNumber(a);
  const y = cleanNumber(b);
  const difference = x - y;
  if (!Number.isFinite(difference) || Number.isInteger(difference)) {
    return difference;
  }
  const decimals = Math.max(decimalsOf(x), decimalsOf(y));
  if (decimals > 100) return cleanNumber(difference);
  return cleanNumber(Number(difference.toFixed(decimals)));
}
