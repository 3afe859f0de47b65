/**
 * Private: calendar days as whole numbers (days since 1970-01-01), for
 * cutting many buckets without a Temporal object per step.
 *
 * @module
 */

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function epochDay(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) +
    day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The year, month and day of a day number. */
export function civilDay(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) -
      Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

/** ISO weekday of a day number: 1 = Monday ... 7 = Sunday. */
export function weekday(days: number): number {
  return ((days + 3) % 7 + 7) % 7 + 1;
}

/** A day number as `YYYY-MM-DD` (as `Temporal.PlainDate` writes it). */
export function isoDay(days: number): string {
  const [year, month, day] = civilDay(days);
  if (year < 0 || year > 9999) {
    return Temporal.PlainDate.from({ year, month, day }).toString();
  }
  return `${String(year).padStart(4, "0")}-${two(month)}-${two(day)}`;
}

/** The ISO week of a day number: `2020-W53`. */
export function isoWeekLabel(days: number): string {
  const thursday = days - weekday(days) + 4;
  const [year] = civilDay(thursday);
  const week = Math.floor((thursday - epochDay(year, 1, 1)) / 7) + 1;
  return `${String(year).padStart(4, "0")}-W${two(week)}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
