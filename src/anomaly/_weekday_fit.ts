/**
 * Private: the baseline of a daily series with a weekly pattern. Each day
 * is a level per weekday plus a common straight-line trend plus noise,
 * fitted on the logarithms of the values (so weekdays and trends are
 * factors: a Saturday is 1.3 times a Monday whatever the season) when every
 * training value is positive, else on the values themselves.
 *
 * The fit is robust in two steps. First a resistant fit from medians finds
 * the training days far from the rest (a past incident, a slump); then a
 * least-squares fit on the days that remain gives the expected value and the
 * standard deviation of the noise, and the band is that deviation widened by
 * the uncertainty of the fit itself.
 *
 * @module
 */

/** One training day: days before today (negative) and its value. */
export interface DayPoint {
  /** Day relative to today: −1 is yesterday. */
  t: number;
  /** The value. */
  y: number;
}

/** What the fit predicts for today. */
export interface WeekdayFit {
  /** Today's expected value. */
  expected: number;
  /** Lower edge of the band. */
  lower: number;
  /** Upper edge of the band. */
  upper: number;
  /** How far `value` is from expected, in standard deviations of the prediction; null without a value. */
  score: number | null;
  /** Training days of today's weekday the fit kept. */
  points: number;
}

/** Training days further than this many robust deviations from a fit are set aside. */
const REJECT = 3;

/** The scale that makes the MAD a standard deviation for normal data. */
const MAD_SCALE = 1.4826;

/**
 * The smallest standard deviation a band may have: 1% of the value (0.01
 * on the log scale), so that a perfectly steady series still has a band.
 */
const FLOOR = 0.01;

/**
 * Fits the training days and predicts today.
 *
 * @param days Training days, any order.
 * @param value Today's value, or null.
 * @param sensitivity Half-width of the band, in standard deviations.
 * @param trend Whether to fit a trend (else the slope is 0).
 * @returns The prediction, or null when no training day shares today's weekday.
 */
export function weekdayFit(
  days: readonly DayPoint[],
  value: number | null,
  sensitivity: number,
  trend: boolean,
): WeekdayFit | null {
  const log = days.length > 0 && days.every((d) => d.y > 0);
  const scale = (y: number): number => log ? Math.log(y) : y;
  const points = days.map((d) => ({
    t: d.t,
    w: ((d.t % 7) + 7) % 7,
    z: scale(d.y),
  }));
  if (!points.some((p) => p.w === 0)) return null;
  // The floor of a deviation: 1% on the log scale, 1% of the typical size otherwise.
  const floor = log ? FLOOR : FLOOR * median(points.map((p) => Math.abs(p.z)));

  // Step 1, resistant: weekday medians, a resistant line through what is left.
  const firstLevels = weekdayMedians(points, 0);
  const slope0 = trend
    ? resistantSlope(
      points.map((p) => ({ t: p.t, z: p.z - firstLevels[p.w]! })),
    )
    : 0;
  const levels0 = weekdayMedians(points, slope0);
  let kept = keepClose(points, levels0, slope0, floor);

  // Step 2, least squares on the days kept, twice (a day set aside by the
  // resistant fit may come back once the fit is better).
  let fit = leastSquares(kept, trend);
  kept = keepClose(points, fit.levels, fit.slope, floor);
  fit = leastSquares(kept, trend);

  const today = kept.filter((p) => p.w === 0);
  if (today.length === 0) return null;
  const residuals = kept.map((p) => p.z - fit.levels[p.w]! - fit.slope * p.t);
  const weekdays = new Set(kept.map((p) => p.w)).size;
  const freedom = Math.max(1, kept.length - weekdays - (trend ? 1 : 0));
  const noise = Math.sqrt(
    residuals.reduce((sum, r) => sum + r * r, 0) / freedom,
  );
  // Today's level is the mean of its weekday's days moved along the trend;
  // its own error adds to the noise of the day (the usual prediction band).
  const meanT = today.reduce((sum, p) => sum + p.t, 0) / today.length;
  const inflation = 1 + 1 / today.length +
    (!trend || fit.spreadT === 0 ? 0 : meanT * meanT / fit.spreadT);
  const deviation = Math.max(noise, floor) * Math.sqrt(inflation);
  const centre = fit.levels[0]!;
  const unscale = (z: number): number => log ? Math.exp(z) : z;
  return {
    expected: unscale(centre),
    lower: unscale(centre - sensitivity * deviation),
    upper: unscale(centre + sensitivity * deviation),
    // A zero or negative value has no logarithm: it is below any band, unscored.
    score: value === null || (log && value <= 0)
      ? null
      : (scale(value) - centre) / deviation,
    points: today.length,
  };
}

interface Point {
  t: number;
  w: number;
  z: number;
}

/** The median of each weekday's values once the trend is taken off. */
function weekdayMedians(points: readonly Point[], slope: number): number[] {
  const byWeekday: number[][] = [[], [], [], [], [], [], []];
  for (const p of points) byWeekday[p.w]!.push(p.z - slope * p.t);
  return byWeekday.map((values) => values.length === 0 ? 0 : median(values));
}

/**
 * Tukey's resistant line: the slope between the medians of the first and
 * last thirds of the points. Unlike least squares, a few outliers barely
 * move it.
 */
function resistantSlope(points: readonly { t: number; z: number }[]): number {
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const third = Math.floor(sorted.length / 3);
  if (third < 2) return 0;
  const left = sorted.slice(0, third);
  const right = sorted.slice(-third);
  const dt = median(right.map((p) => p.t)) - median(left.map((p) => p.t));
  return dt === 0
    ? 0
    : (median(right.map((p) => p.z)) - median(left.map((p) => p.z))) / dt;
}

/**
 * The days within `REJECT` robust deviations (1.4826 × the median absolute
 * residual, floored) of a fit.
 */
function keepClose(
  points: readonly Point[],
  levels: readonly number[],
  slope: number,
  floor: number,
): Point[] {
  const residuals = points.map((p) => p.z - levels[p.w]! - slope * p.t);
  const spread = Math.max(
    MAD_SCALE * median(residuals.map(Math.abs)),
    floor,
  );
  return points.filter((_, i) => Math.abs(residuals[i]!) <= REJECT * spread);
}

/**
 * Least squares with one level per weekday and a common slope: the slope
 * from each day's distance to its weekday's means, then each level as its
 * weekday's mean moved along the slope to day 0.
 */
function leastSquares(
  points: readonly Point[],
  trend: boolean,
): { levels: number[]; slope: number; spreadT: number } {
  const count = new Array<number>(7).fill(0);
  const sumT = new Array<number>(7).fill(0);
  const sumZ = new Array<number>(7).fill(0);
  for (const p of points) {
    count[p.w]!++;
    sumT[p.w]! += p.t;
    sumZ[p.w]! += p.z;
  }
  let stz = 0;
  let stt = 0;
  for (const p of points) {
    const dt = p.t - sumT[p.w]! / count[p.w]!;
    stt += dt * dt;
    stz += dt * (p.z - sumZ[p.w]! / count[p.w]!);
  }
  const slope = !trend || stt === 0 ? 0 : stz / stt;
  const levels = count.map((n, w) =>
    n === 0 ? 0 : (sumZ[w]! - slope * sumT[w]!) / n
  );
  return { levels, slope, spreadT: stt };
}

/** The median of a non-empty list. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
