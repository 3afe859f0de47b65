/**
 * Private date helpers shared by the period modules.
 *
 * @module
 */

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parses a strict `YYYY-MM-DD` day; returns null when the text has another
 * shape and throws when the shape is right but the day does not exist.
 */
export function parseIsoDay(text: string): Temporal.PlainDate | null {
  const match = ISO_DAY.exec(text);
  if (match === null) return null;
  return plainDate(Number(match[1]), Number(match[2]), Number(match[3]), text);
}

/** Builds a day, throwing a RangeError that quotes `shown` if it does not exist. */
export function plainDate(
  year: number,
  month: number,
  day: number,
  shown: string,
): Temporal.PlainDate {
  if (month < 1 || month > 12) {
    throw new RangeError(
      `Invalid date "${shown}": month ${month} is out of range (1 to 12)`,
    );
  }
  try {
    return Temporal.PlainDate.from({ year, month, day }, {
      overflow: "reject",
    });
  } catch {
    const last = Temporal.PlainYearMonth.from({ year, month }).daysInMonth;
    throw new RangeError(
      `Invalid date "${shown}": day ${day} is out of range (1 to ${last})`,
    );
  }
}

/**
 * Checks an IANA time zone name (or UTC offset) and returns Temporal's
 * canonical spelling of it.
 */
export function canonicalTimeZone(timezone: unknown): string {
  if (typeof timezone !== "string") {
    throw new TypeError(
      `Invalid time zone ${
        JSON.stringify(String(timezone))
      }: expected an IANA time zone name such as "UTC" or "Europe/London"`,
    );
  }
  try {
    return Temporal.PlainDate.from("2000-01-01").toZonedDateTime(timezone)
      .timeZoneId;
  } catch {
    throw new RangeError(
      `Invalid time zone "${timezone}": expected an IANA time zone name such as "UTC" or "Europe/London"`,
    );
  }
}

/** Reads one of a period's days (`start` or `end`). */
export function periodDay(value: unknown, field: string): Temporal.PlainDate {
  if (typeof value !== "string") {
    throw new TypeError(
      `Invalid period ${field} ${
        JSON.stringify(String(value))
      }: expected an ISO date YYYY-MM-DD`,
    );
  }
  const day = parseIsoDay(value);
  if (day === null) {
    throw new RangeError(
      `Invalid period ${field} "${value}": expected an ISO date YYYY-MM-DD`,
    );
  }
  return day;
}
