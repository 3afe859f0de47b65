import assert from "node:assert/strict";
import { COMPARISON_SHIFTS, shiftPeriod } from "../src/period/shift_period.ts";
import { resolvePeriod } from "../src/period/resolve_period.ts";
import {
  COMPARISON_CODES,
  type ComparisonCode,
  type Period,
} from "../src/types.ts";

function period(start: string, end: string, timezone = "UTC"): Period {
  return { label: `${start}..${end}`, start, end, timezone };
}

function shifted(
  start: string,
  end: string,
  code: ComparisonCode,
): [string, string] {
  const p = shiftPeriod(period(start, end), code);
  return [p.start, p.end];
}

Deno.test("shiftPeriod() shifts a whole month back one month for MoM", () => {
  assert.deepEqual(shifted("2024-10-01", "2024-11-01", "MoM"), [
    "2024-09-01",
    "2024-10-01",
  ]);
  assert.deepEqual(shifted("2024-02-01", "2024-03-01", "MoM"), [
    "2024-01-01",
    "2024-02-01",
  ]);
  assert.deepEqual(shifted("2024-03-01", "2024-04-01", "MoM"), [
    "2024-02-01",
    "2024-03-01",
  ]);
  assert.deepEqual(shifted("2024-01-01", "2024-02-01", "MoM"), [
    "2023-12-01",
    "2024-01-01",
  ]);
});

Deno.test("shiftPeriod() compares month-to-date with the same days of the month before", () => {
  assert.deepEqual(shifted("2024-11-01", "2024-11-29", "MoM"), [
    "2024-10-01",
    "2024-10-29",
  ]);
  // From resolvePeriod: this_month on November 15 runs through the 15th.
  const mtd = resolvePeriod("this_month", { now: "2024-11-15" });
  const before = shiftPeriod(mtd, "MoM");
  assert.deepEqual([before.start, before.end], ["2024-10-01", "2024-10-16"]);
});

Deno.test("shiftPeriod() clamps a shifted day that does not exist to the month's last day", () => {
  // MoM of March 31 is February 29 in a leap year, 28 otherwise.
  assert.deepEqual(shifted("2024-03-31", "2024-04-01", "MoM"), [
    "2024-02-29",
    "2024-03-01",
  ]);
  assert.deepEqual(shifted("2023-03-31", "2023-04-01", "MoM"), [
    "2023-02-28",
    "2023-03-01",
  ]);
  assert.deepEqual(shifted("2024-05-31", "2024-06-01", "MoM"), [
    "2024-04-30",
    "2024-05-01",
  ]);
  // QoQ of May 31 is February 29.
  assert.deepEqual(shifted("2024-05-31", "2024-06-01", "QoQ"), [
    "2024-02-29",
    "2024-03-01",
  ]);
  // A range ending on the 31st: the end clamps too.
  assert.deepEqual(shifted("2024-07-15", "2024-07-31", "MoM"), [
    "2024-06-15",
    "2024-06-30",
  ]);
});

Deno.test("shiftPeriod() keeps at least one day when clamping collapses a period", () => {
  // March 30 and 31 both fall on February 29: end becomes start + 1 day.
  assert.deepEqual(shifted("2024-03-30", "2024-03-31", "MoM"), [
    "2024-02-29",
    "2024-03-01",
  ]);
  assert.deepEqual(shifted("2024-03-29", "2024-03-31", "MoM"), [
    "2024-02-29",
    "2024-03-01",
  ]);
  assert.deepEqual(shifted("2023-03-29", "2023-03-30", "MoM"), [
    "2023-02-28",
    "2023-03-01",
  ]);
});

Deno.test("shiftPeriod() shifts a leap day back one year to February 28", () => {
  assert.deepEqual(shifted("2024-02-29", "2024-03-01", "YoY"), [
    "2023-02-28",
    "2023-03-01",
  ]);
  assert.deepEqual(shifted("2025-03-01", "2025-03-02", "YoY"), [
    "2024-03-01",
    "2024-03-02",
  ]);
  // A whole leap February compares with the whole February before.
  assert.deepEqual(shifted("2024-02-01", "2024-03-01", "YoY"), [
    "2023-02-01",
    "2023-03-01",
  ]);
  assert.deepEqual(shifted("2024-01-01", "2025-01-01", "YoY"), [
    "2023-01-01",
    "2024-01-01",
  ]);
});

Deno.test("shiftPeriod() shifts a quarter back three months for QoQ", () => {
  assert.deepEqual(shifted("2024-01-01", "2024-04-01", "QoQ"), [
    "2023-10-01",
    "2024-01-01",
  ]);
  assert.deepEqual(shifted("2024-07-01", "2024-10-01", "QoQ"), [
    "2024-04-01",
    "2024-07-01",
  ]);
});

Deno.test("shiftPeriod() shifts by 7 days for WoW and 1 day for DoD", () => {
  assert.deepEqual(shifted("2024-02-12", "2024-02-19", "WoW"), [
    "2024-02-05",
    "2024-02-12",
  ]);
  assert.deepEqual(shifted("2024-03-03", "2024-03-04", "WoW"), [
    "2024-02-25",
    "2024-02-26",
  ]);
  assert.deepEqual(shifted("2024-03-01", "2024-03-02", "DoD"), [
    "2024-02-29",
    "2024-03-01",
  ]);
  assert.deepEqual(shifted("2025-01-01", "2025-01-02", "DoD"), [
    "2024-12-31",
    "2025-01-01",
  ]);
  // A seven-day range moves by its length, DoD by one day only.
  assert.deepEqual(shifted("2024-11-08", "2024-11-15", "DoD"), [
    "2024-11-07",
    "2024-11-14",
  ]);
});

Deno.test("shiftPeriod() labels the result with the code and keeps the time zone", () => {
  const nov = resolvePeriod("2024-11", { timezone: "Pacific/Auckland" });
  assert.deepEqual(shiftPeriod(nov, "MoM"), {
    label: "2024-11 (MoM)",
    start: "2024-10-01",
    end: "2024-11-01",
    timezone: "Pacific/Auckland",
  });
  assert.equal(shiftPeriod(nov, "YoY").label, "2024-11 (YoY)");
});

Deno.test("shiftPeriod() shifts by the amounts COMPARISON_SHIFTS lists, for every code", () => {
  assert.deepEqual(Object.keys(COMPARISON_SHIFTS), [...COMPARISON_CODES]);
  assert.deepEqual(COMPARISON_SHIFTS, {
    DoD: { days: 1 },
    WoW: { days: 7 },
    MoM: { months: 1 },
    QoQ: { months: 3 },
    YoY: { years: 1 },
  });
  const expected: Record<ComparisonCode, [string, string]> = {
    DoD: ["2024-06-14", "2024-06-20"],
    WoW: ["2024-06-08", "2024-06-14"],
    MoM: ["2024-05-15", "2024-05-21"],
    QoQ: ["2024-03-15", "2024-03-21"],
    YoY: ["2023-06-15", "2023-06-21"],
  };
  for (const code of COMPARISON_CODES) {
    assert.deepEqual(
      shifted("2024-06-15", "2024-06-21", code),
      expected[code],
      code,
    );
  }
});

Deno.test("shiftPeriod() does not depend on the time zone", () => {
  for (
    const tz of ["Pacific/Auckland", "America/Los_Angeles", "Australia/Sydney"]
  ) {
    const p = shiftPeriod(period("2024-03-31", "2024-04-01", tz), "MoM");
    assert.deepEqual([p.start, p.end, p.timezone], [
      "2024-02-29",
      "2024-03-01",
      tz,
    ]);
  }
});

Deno.test("shiftPeriod() rejects an unknown comparison code", () => {
  assert.throws(
    () =>
      shiftPeriod(period("2024-11-01", "2024-12-01"), "mom" as ComparisonCode),
    {
      name: "RangeError",
      message:
        'Unknown comparison "mom": expected one of DoD, WoW, MoM, QoQ, YoY',
    },
  );
  assert.throws(
    () =>
      shiftPeriod(
        period("2024-11-01", "2024-12-01"),
        "toString" as ComparisonCode,
      ),
    { name: "RangeError", message: /^Unknown comparison "toString"/ },
  );
});

Deno.test("shiftPeriod() rejects a malformed period, naming the bad field", () => {
  assert.throws(() => shiftPeriod(period("2024-11-1", "2024-12-01"), "MoM"), {
    name: "RangeError",
    message:
      'Invalid period start "2024-11-1": expected an ISO date YYYY-MM-DD',
  });
  assert.throws(() => shiftPeriod(period("2024-11-01", "2024-02-30"), "MoM"), {
    name: "RangeError",
    message: 'Invalid date "2024-02-30": day 30 is out of range (1 to 29)',
  });
  assert.throws(() => shiftPeriod(period("2024-12-01", "2024-11-01"), "MoM"), {
    name: "RangeError",
    message:
      'Invalid period "2024-12-01..2024-11-01": end 2024-11-01 is not after start 2024-12-01',
  });
  assert.throws(
    () =>
      shiftPeriod(period("2024-11-01", "2024-12-01", "Nowhere/Else"), "MoM"),
    { name: "RangeError", message: /^Invalid time zone "Nowhere\/Else"/ },
  );
  assert.throws(
    () =>
      shiftPeriod(
        {
          label: "x",
          start: 1,
          end: "2024-12-01",
          timezone: "UTC",
        } as unknown as Period,
        "MoM",
      ),
    {
      name: "TypeError",
      message: 'Invalid period start "1": expected an ISO date YYYY-MM-DD',
    },
  );
  assert.throws(() => shiftPeriod(null as unknown as Period, "MoM"), {
    name: "TypeError",
    message:
      'Cannot shift period "null": expected an object with label, start, end and timezone',
  });
});
