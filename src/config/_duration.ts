/** A duration such as `4h`, `30m`, `1d` or `1h30m`. */
export const DURATION_PATTERN: RegExp = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Milliseconds in a duration such as `4h`, `30m`, `1d`, `1h30m` or `90s`.
 *
 * @throws {RangeError} When the text is not such a duration or is zero.
 */
export function parseDurationMs(text: string): number {
  const trimmed = text.trim();
  if (!DURATION_PATTERN.test(trimmed)) {
    throw new RangeError(
      `Invalid duration "${text}": expected a number and a unit (ms, s, m, h, d, w), e.g. "30m", "4h" or "1d"`,
    );
  }
  let total = 0;
  for (const [, n, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) {
    total += Number(n) * UNIT_MS[unit!]!;
  }
  if (total <= 0) {
    throw new RangeError(
      `Invalid duration "${text}": it must be longer than zero`,
    );
  }
  return total;
}
