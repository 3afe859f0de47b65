/**
 * Reading the cells of a time column as epoch milliseconds. A date-only
 * string or `Temporal.PlainDate` means midnight of that day in the table's
 * time zone; an ISO string without an offset is a wall-clock time there.
 */

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_PREFIX =
  /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?(\[[^\]]+\])?$/;
const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})(\[[^\]]+\])?$/;

/** Epoch milliseconds bounds beyond which a number is not taken for a time. */
const EPOCH_MS_MIN = 1e11; // 1973-03-03
const EPOCH_MS_MAX = 1e14; // year 5138

/** Converts time cells to epoch milliseconds, remembering parsed strings. */
export class TimeCellReader {
  readonly #timeZone: string;
  readonly #strings = new Map<string, number>();

  /** @param timeZone IANA zone that dates without an offset are read in. */
  constructor(timeZone: string) {
    this.#timeZone = timeZone;
  }

  /** Epoch milliseconds of a cell, or NaN when it holds no time. */
  read(cell: unknown): number {
    if (typeof cell === "number") return cell;
    if (cell instanceof Date) return cell.getTime();
    if (typeof cell === "string") return this.#readString(cell);
    if (typeof cell === "bigint") return Number(cell);
    if (cell instanceof Temporal.Instant) return cell.epochMilliseconds;
    if (cell instanceof Temporal.ZonedDateTime) return cell.epochMilliseconds;
    if (cell instanceof Temporal.PlainDate) {
      return cell.toZonedDateTime({ timeZone: this.#timeZone })
        .epochMilliseconds;
    }
    if (cell instanceof Temporal.PlainDateTime) {
      return cell.toZonedDateTime(this.#timeZone).epochMilliseconds;
    }
    return NaN;
  }

  #readString(text: string): number {
    const known = this.#strings.get(text);
    if (known !== undefined) return known;
    const ms = this.#parseString(text.trim());
    if (this.#strings.size < 1_000_000) this.#strings.set(text, ms);
    return ms;
  }

  #parseString(text: string): number {
    if (!ISO_DATE_PREFIX.test(text)) return NaN;
    try {
      if (DATE_ONLY.test(text)) {
        return Temporal.PlainDate.from(text).toZonedDateTime({
          timeZone: this.#timeZone,
        }).epochMilliseconds;
      }
      const normalized = text.replace(" ", "T");
      if (HAS_OFFSET.test(normalized)) {
        return Temporal.Instant.from(normalized.replace(/\[[^\]]+\]$/, ""))
          .epochMilliseconds;
      }
      return Temporal.PlainDateTime.from(normalized).toZonedDateTime(
        this.#timeZone,
      ).epochMilliseconds;
    } catch {
      return NaN;
    }
  }
}

/** Whether a cell looks like a point in time (used to find the time column). */
export function looksLikeTime(cell: unknown): boolean {
  if (cell instanceof Date) return !Number.isNaN(cell.getTime());
  if (
    cell instanceof Temporal.Instant ||
    cell instanceof Temporal.ZonedDateTime ||
    cell instanceof Temporal.PlainDate || cell instanceof Temporal.PlainDateTime
  ) return true;
  if (typeof cell === "string") return ISO_DATE_PREFIX.test(cell.trim());
  if (typeof cell === "number") {
    return Number.isInteger(cell) && cell >= EPOCH_MS_MIN &&
      cell < EPOCH_MS_MAX;
  }
  return false;
}
