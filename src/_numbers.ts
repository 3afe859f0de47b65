/**
 * Drops binary floating-point noise from a computed number, so that sums of
 * cents stay cents: `0.1 + 0.2` becomes `0.3`. Fifteen significant digits is
 * what a float64 carries exactly.
 */
export function cleanNumber(value: number): number {
  if (!Number.isFinite(value) || Number.isInteger(value)) return value;
  return Number(value.toPrecision(15));
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
 * `a - b` without the noise of cancellation: the result is rounded to the
 * fifteenth significant digit of the larger operand, the precision both
 * operands actually carry (`643077.41 - 544405.72` is `98671.69`).
 */
export function cleanDifference(a: number, b: number): number {
  const difference = a - b;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  if (!Number.isFinite(difference) || scale === 0) return difference;
  const exponent = Math.floor(Math.log10(scale)) - 14;
  if (exponent >= 0) return difference;
  const factor = 10 ** -exponent;
  return cleanNumber(Math.round(difference * factor) / factor);
}
