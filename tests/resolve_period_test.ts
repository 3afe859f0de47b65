import assert from "node:assert/strict";
import {
  PERIOD_FORMS,
  resolvePeriod,
  type ResolvePeriodOptions,
} from "../src/period/resolve_period.ts";

/** Resolves and returns just `[start, end]`. */
function days(
  text: string,
  options: ResolvePeriodOptions = {},
): [string, string] {
  const p = resolvePeriod(text, options);
  return [p.start, p.end];
}

// 2024-11-15 is a Friday.
const FRI = { now: "2024-11-15" };

Deno.test("resolvePeriod() treats today and yesterday as single days", () => {
  assert.deepEqual(days("today", FRI), ["2024-11-15", "2024-11-16"]);
  assert.deepEqual(days("yesterday", FRI), ["2024-11-14", "2024-11-15"]);
  assert.deepEqual(days("yesterday", { now: "2024-03-01" }), [
    "2024-02-29",
    "2024-03-01",
  ]);
  assert.deepEqual(days("today", { now: "2024-12-31" }), [
    "2024-12-31",
    "2025-01-01",
  ]);
});

Deno.test("resolvePeriod() returns label, start, end and timezone", () => {
  assert.deepEqual(
    resolvePeriod("  last_month ", { now: "2024-11-15", timezone: "UTC" }),
    {
      label: "last_month",
      start: "2024-10-01",
      end: "2024-11-01",
      timezone: "UTC",
    },
  );
  assert.equal(resolvePeriod("2024").timezone, "UTC");
  assert.equal(
    resolvePeriod("2024", { timezone: "america/toronto" }).timezone,
    "America/Toronto",
  );
});

Deno.test("resolvePeriod() runs this_* periods to date, through today", () => {
  assert.deepEqual(days("this_week", FRI), ["2024-11-11", "2024-11-16"]);
  assert.deepEqual(days("this_month", FRI), ["2024-11-01", "2024-11-16"]);
  assert.deepEqual(days("this_quarter", FRI), ["2024-10-01", "2024-11-16"]);
  assert.deepEqual(days("this_year", FRI), ["2024-01-01", "2024-11-16"]);
  // On the first day of each, the period is that one day.
  const jan1 = { now: "2025-01-01" };
  for (const p of ["this_month", "this_quarter", "this_year"]) {
    assert.deepEqual(days(p, jan1), ["2025-01-01", "2025-01-02"], p);
  }
  assert.deepEqual(days("this_quarter", { now: "2024-03-31" }), [
    "2024-01-01",
    "2024-04-01",
  ]);
  assert.deepEqual(days("this_quarter", { now: "2024-06-30" }), [
    "2024-04-01",
    "2024-07-01",
  ]);
});

Deno.test("resolvePeriod() treats last_* periods as whole periods before the current one", () => {
  assert.deepEqual(days("last_week", FRI), ["2024-11-04", "2024-11-11"]);
  assert.deepEqual(days("last_month", FRI), ["2024-10-01", "2024-11-01"]);
  assert.deepEqual(days("last_quarter", FRI), ["2024-07-01", "2024-10-01"]);
  assert.deepEqual(days("last_year", FRI), ["2023-01-01", "2024-01-01"]);
  const jan15 = { now: "2024-01-15" };
  assert.deepEqual(days("last_month", jan15), ["2023-12-01", "2024-01-01"]);
  assert.deepEqual(days("last_quarter", jan15), ["2023-10-01", "2024-01-01"]);
  assert.deepEqual(days("last_month", { now: "2024-03-31" }), [
    "2024-02-01",
    "2024-03-01",
  ]);
  // On a Monday, last_week is the seven days just before it.
  assert.deepEqual(days("last_week", { now: "2024-11-11" }), [
    "2024-11-04",
    "2024-11-11",
  ]);
  assert.deepEqual(days("this_week", { now: "2024-11-11" }), [
    "2024-11-11",
    "2024-11-12",
  ]);
  // On a Sunday, the Monday week is nearly over.
  assert.deepEqual(days("last_week", { now: "2024-11-17" }), [
    "2024-11-04",
    "2024-11-11",
  ]);
  assert.deepEqual(days("last_week", { now: "2025-01-02" }), [
    "2024-12-23",
    "2024-12-30",
  ]);
});

Deno.test("resolvePeriod() cuts weeks at weekStart", () => {
  // Sunday weeks.
  assert.deepEqual(days("this_week", { ...FRI, weekStart: 7 }), [
    "2024-11-10",
    "2024-11-16",
  ]);
  assert.deepEqual(days("last_week", { ...FRI, weekStart: 7 }), [
    "2024-11-03",
    "2024-11-10",
  ]);
  // Friday weeks: today is the first day.
  assert.deepEqual(days("this_week", { ...FRI, weekStart: 5 }), [
    "2024-11-15",
    "2024-11-16",
  ]);
  assert.deepEqual(days("last_week", { ...FRI, weekStart: 5 }), [
    "2024-11-08",
    "2024-11-15",
  ]);
  // Saturday weeks.
  assert.deepEqual(days("last_week", { ...FRI, weekStart: 6 }), [
    "2024-11-02",
    "2024-11-09",
  ]);
  assert.deepEqual(days("last_2_weeks", { ...FRI, weekStart: 7 }), [
    "2024-10-27",
    "2024-11-10",
  ]);
  // ISO weeks ignore weekStart.
  assert.deepEqual(days("2024-W07", { weekStart: 7 }), [
    "2024-02-12",
    "2024-02-19",
  ]);
});

Deno.test("resolvePeriod() treats last_N_days as the N whole days before today", () => {
  assert.deepEqual(days("last_7_days", FRI), ["2024-11-08", "2024-11-15"]);
  assert.deepEqual(days("last_1_days", FRI), days("yesterday", FRI));
  assert.deepEqual(days("last_30_days", FRI), ["2024-10-16", "2024-11-15"]);
  assert.deepEqual(days("last_7_days", { now: "2024-03-02" }), [
    "2024-02-24",
    "2024-03-02",
  ]);
  assert.deepEqual(days("last_365_days", { now: "2025-01-01" }), [
    "2024-01-02",
    "2025-01-01",
  ]);
  assert.deepEqual(days("LAST_7_DAYS", FRI), ["2024-11-08", "2024-11-15"]);
});

Deno.test("resolvePeriod() treats last_N_weeks and last_N_months as whole weeks and months", () => {
  assert.deepEqual(days("last_4_weeks", FRI), ["2024-10-14", "2024-11-11"]);
  assert.deepEqual(days("last_1_weeks", FRI), days("last_week", FRI));
  assert.deepEqual(days("last_3_months", FRI), ["2024-08-01", "2024-11-01"]);
  assert.deepEqual(days("last_1_months", FRI), days("last_month", FRI));
  assert.deepEqual(days("last_12_months", { now: "2024-01-31" }), [
    "2023-01-01",
    "2024-01-01",
  ]);
});

Deno.test("resolvePeriod() treats 2024 as the whole year", () => {
  assert.deepEqual(days("2024"), ["2024-01-01", "2025-01-01"]);
  assert.deepEqual(days("1999"), ["1999-01-01", "2000-01-01"]);
});

Deno.test("resolvePeriod() treats 2024-Q3 as July 1 to October 1", () => {
  assert.deepEqual(days("2024-Q3"), ["2024-07-01", "2024-10-01"]);
  assert.deepEqual(days("2024-q3"), ["2024-07-01", "2024-10-01"]);
  assert.deepEqual(days("2024-Q1"), ["2024-01-01", "2024-04-01"]);
  assert.deepEqual(days("2024-Q2"), ["2024-04-01", "2024-07-01"]);
  assert.deepEqual(days("2024-Q4"), ["2024-10-01", "2025-01-01"]);
  assert.equal(resolvePeriod("2024-q3").label, "2024-q3");
});

Deno.test("resolvePeriod() treats 2024-11 as the whole month", () => {
  assert.deepEqual(days("2024-11"), ["2024-11-01", "2024-12-01"]);
  assert.deepEqual(days("2024-02"), ["2024-02-01", "2024-03-01"]);
  assert.deepEqual(days("2024-12"), ["2024-12-01", "2025-01-01"]);
});

Deno.test("resolvePeriod() treats 2024-W07 as an ISO week, Monday to Sunday", () => {
  assert.deepEqual(days("2024-W07"), ["2024-02-12", "2024-02-19"]);
  assert.deepEqual(days("2024-w07"), ["2024-02-12", "2024-02-19"]);
  assert.deepEqual(days("2024-W01"), ["2024-01-01", "2024-01-08"]);
  assert.deepEqual(days("2024-W52"), ["2024-12-23", "2024-12-30"]);
  // Week 1 may start in the year before.
  assert.deepEqual(days("2026-W01"), ["2025-12-29", "2026-01-05"]);
  assert.deepEqual(days("2021-W01"), ["2021-01-04", "2021-01-11"]);
  // 2020 has 53 ISO weeks; its last one ends in 2021.
  assert.deepEqual(days("2020-W53"), ["2020-12-28", "2021-01-04"]);
  assert.deepEqual(days("2015-W53"), ["2015-12-28", "2016-01-04"]);
});

Deno.test("resolvePeriod() rejects week 53 in a year that has 52 ISO weeks", () => {
  assert.throws(() => resolvePeriod("2021-W53"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2021-W53": week 53 is out of range (2021 has ISO weeks 1 to 52)',
  });
  assert.throws(() => resolvePeriod("2024-W00"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2024-W00": week 0 is out of range (2024 has ISO weeks 1 to 52)',
  });
  assert.throws(() => resolvePeriod("2020-W54"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2020-W54": week 54 is out of range (2020 has ISO weeks 1 to 53)',
  });
});

Deno.test("resolvePeriod() treats 2024-11-05 as that one day", () => {
  assert.deepEqual(days("2024-11-05"), ["2024-11-05", "2024-11-06"]);
  assert.deepEqual(days("2024-02-29"), ["2024-02-29", "2024-03-01"]);
  assert.deepEqual(days("2024-12-31"), ["2024-12-31", "2025-01-01"]);
});

Deno.test("resolvePeriod() includes both days of a range", () => {
  assert.deepEqual(days("2024-11-01..2024-11-15"), [
    "2024-11-01",
    "2024-11-16",
  ]);
  assert.deepEqual(days("2024-11-05..2024-11-05"), [
    "2024-11-05",
    "2024-11-06",
  ]);
  assert.deepEqual(days("2023-12-25..2024-01-02"), [
    "2023-12-25",
    "2024-01-03",
  ]);
  assert.deepEqual(days("2024-11-01 .. 2024-11-15"), [
    "2024-11-01",
    "2024-11-16",
  ]);
  assert.equal(
    resolvePeriod("2024-11-01..2024-11-15").label,
    "2024-11-01..2024-11-15",
  );
});

Deno.test("resolvePeriod() rejects a range whose start is after its end", () => {
  assert.throws(() => resolvePeriod("2024-11-15..2024-11-01"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2024-11-15..2024-11-01": start 2024-11-15 is after end 2024-11-01; write the earlier day first',
  });
});

Deno.test("resolvePeriod() rejects dates that do not exist, naming them", () => {
  assert.throws(() => resolvePeriod("2024-02-30"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2024-02-30": invalid date "2024-02-30": day 30 is out of range (1 to 29)',
  });
  assert.throws(() => resolvePeriod("2023-02-29"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2023-02-29": invalid date "2023-02-29": day 29 is out of range (1 to 28)',
  });
  assert.throws(() => resolvePeriod("2024-13"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2024-13": invalid date "2024-13": month 13 is out of range (1 to 12)',
  });
  assert.throws(() => resolvePeriod("2024-00"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2024-00": invalid date "2024-00": month 0 is out of range (1 to 12)',
  });
  assert.throws(() => resolvePeriod("2024-04-31"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2024-04-31": invalid date "2024-04-31": day 31 is out of range (1 to 30)',
  });
  assert.throws(() => resolvePeriod("2024-11-01..2024-11-31"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2024-11-01..2024-11-31": invalid date "2024-11-31": day 31 is out of range (1 to 30)',
  });
  assert.throws(() => resolvePeriod("2024-Q5"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2024-Q5": quarter 5 is out of range (Q1 to Q4)',
  });
  assert.throws(() => resolvePeriod("2024-Q0"), {
    name: "RangeError",
    message:
      'Cannot resolve period "2024-Q0": quarter 0 is out of range (Q1 to Q4)',
  });
});

Deno.test("resolvePeriod() lists every accepted form for an unknown string", () => {
  const expected = 'Cannot resolve period "last_fortnight": expected one of ' +
    "today, yesterday, this_week, this_month, this_quarter, this_year, " +
    "last_week, last_month, last_quarter, last_year, " +
    "last_N_days (e.g. last_7_days), last_N_weeks (e.g. last_4_weeks), " +
    "last_N_months (e.g. last_3_months), YYYY (e.g. 2024), " +
    "YYYY-Qn (e.g. 2024-Q3), YYYY-MM (e.g. 2024-11), " +
    "YYYY-Www (e.g. 2024-W07), YYYY-MM-DD (e.g. 2024-11-05), " +
    "YYYY-MM-DD..YYYY-MM-DD (e.g. 2024-11-01..2024-11-15)";
  assert.throws(() => resolvePeriod("last_fortnight", FRI), {
    name: "RangeError",
    message: expected,
  });
  assert.equal(PERIOD_FORMS.length, 19);
  for (
    const bad of [
      "",
      "  ",
      "next_month",
      "last_days",
      "last_-1_days",
      "last_7_years",
      "24-11",
      "2024-1",
      "2024-11-5",
      "2024/11/05",
      "2024-11-01..",
      "..2024-11-01",
      "2024-11..2024-12",
      "2024-11-01...2024-11-02",
      "2024-H1",
      "to day",
    ]
  ) {
    assert.throws(() => resolvePeriod(bad, FRI), (error: unknown) => {
      assert.ok(error instanceof RangeError, bad);
      assert.match(
        error.message,
        /^Cannot resolve period ".*": (did you mean ".*"\? \()?expected one of today, /,
        bad,
      );
      return true;
    });
  }
});

Deno.test("resolvePeriod() rejects last_0_days", () => {
  assert.throws(() => resolvePeriod("last_0_days", FRI), {
    name: "RangeError",
    message:
      'Cannot resolve period "last_0_days": N must be at least 1, as in last_7_days',
  });
});

Deno.test("resolvePeriod() rejects periods that reach past the years 0000 to 9999", () => {
  assert.throws(() => resolvePeriod("last_99999999_days", FRI), {
    name: "RangeError",
    message: /^Cannot resolve period "last_99999999_days": /,
  });
  assert.throws(() => resolvePeriod("9999"), {
    name: "RangeError",
    message:
      'Cannot resolve period "9999": it reaches outside the years 0000 to 9999',
  });
  assert.deepEqual(days("9999-11"), ["9999-11-01", "9999-12-01"]);
});

Deno.test("resolvePeriod() needs now for relative periods only", () => {
  for (
    const p of ["today", "yesterday", "this_month", "last_week", "last_7_days"]
  ) {
    assert.throws(() => resolvePeriod(p), {
      name: "TypeError",
      message:
        `Cannot resolve period "${p}": now is required for relative periods (pass options.now)`,
    });
  }
  assert.deepEqual(days("2024-11"), ["2024-11-01", "2024-12-01"]);
});

Deno.test("resolvePeriod() accepts now as Instant, ZonedDateTime, PlainDate, Date and strings", () => {
  const expected = ["2024-10-01", "2024-11-01"];
  const nows: NonNullable<ResolvePeriodOptions["now"]>[] = [
    Temporal.Instant.from("2024-11-15T10:00:00Z"),
    Temporal.ZonedDateTime.from("2024-11-15T10:00:00[Asia/Tokyo]"),
    Temporal.PlainDate.from("2024-11-15"),
    new Date(Date.UTC(2024, 10, 15, 10)),
    "2024-11-15T10:00:00Z",
    "2024-11-15T10:00:00+05:00",
    "2024-11-15",
  ];
  for (const now of nows) {
    assert.deepEqual(days("last_month", { now }), expected, String(now));
  }
});

Deno.test("resolvePeriod() takes today from now in the period's time zone, not now's own", () => {
  // 2024-11-15T12:00Z is 04:00 on the 15th in Los Angeles and 01:00 on the
  // 16th in Auckland.
  const now = Temporal.Instant.from("2024-11-15T12:00:00Z");
  assert.deepEqual(days("yesterday", { now, timezone: "UTC" }), [
    "2024-11-14",
    "2024-11-15",
  ]);
  assert.deepEqual(
    days("yesterday", { now, timezone: "America/Los_Angeles" }),
    ["2024-11-14", "2024-11-15"],
  );
  assert.deepEqual(days("yesterday", { now, timezone: "Pacific/Auckland" }), [
    "2024-11-15",
    "2024-11-16",
  ]);
  // 2024-11-15T06:00Z is 22:00 on the 14th in Los Angeles.
  const early = "2024-11-15T06:00:00Z";
  assert.deepEqual(
    days("yesterday", { now: early, timezone: "America/Los_Angeles" }),
    ["2024-11-13", "2024-11-14"],
  );
  assert.deepEqual(
    days("yesterday", { now: early, timezone: "Pacific/Auckland" }),
    [
      "2024-11-14",
      "2024-11-15",
    ],
  );
  // A ZonedDateTime in another zone is the same instant: 08:00 on the 16th
  // in Auckland is 19:00 on the 15th in UTC.
  const zoned = Temporal.ZonedDateTime.from(
    "2024-11-16T08:00:00[Pacific/Auckland]",
  );
  assert.deepEqual(
    days("today", { now: zoned, timezone: "Pacific/Auckland" }),
    [
      "2024-11-16",
      "2024-11-17",
    ],
  );
  assert.deepEqual(days("today", { now: zoned, timezone: "UTC" }), [
    "2024-11-15",
    "2024-11-16",
  ]);
  // A Date is an instant too.
  const date = new Date("2024-12-31T12:00:00Z");
  assert.deepEqual(
    days("last_month", { now: date, timezone: "Pacific/Auckland" }),
    [
      "2024-12-01",
      "2025-01-01",
    ],
  );
  assert.deepEqual(
    days("last_month", { now: date, timezone: "America/Los_Angeles" }),
    ["2024-11-01", "2024-12-01"],
  );
  // A day string means that day in the time zone, whatever the zone.
  assert.deepEqual(
    days("today", { now: "2024-11-15", timezone: "Pacific/Auckland" }),
    ["2024-11-15", "2024-11-16"],
  );
  assert.deepEqual(
    days("today", { now: "2024-11-15", timezone: "America/Los_Angeles" }),
    ["2024-11-15", "2024-11-16"],
  );
});

Deno.test("resolvePeriod() finds today across a DST change", () => {
  const tz = "America/Toronto";
  // 23:59 EST on March 9, then 03:00 EDT on March 10 (02:00 is skipped).
  assert.deepEqual(
    days("today", { now: "2024-03-10T04:59:00Z", timezone: tz }),
    [
      "2024-03-09",
      "2024-03-10",
    ],
  );
  assert.deepEqual(
    days("today", { now: "2024-03-10T05:00:00Z", timezone: tz }),
    [
      "2024-03-10",
      "2024-03-11",
    ],
  );
  assert.deepEqual(
    days("today", { now: "2024-03-10T07:30:00Z", timezone: tz }),
    [
      "2024-03-10",
      "2024-03-11",
    ],
  );
  // November 3: 00:00 EDT is 04:00Z; the repeated hour stays on the 3rd.
  assert.deepEqual(
    days("today", { now: "2024-11-03T03:59:00Z", timezone: tz }),
    [
      "2024-11-02",
      "2024-11-03",
    ],
  );
  assert.deepEqual(
    days("today", { now: "2024-11-04T04:59:00Z", timezone: tz }),
    [
      "2024-11-03",
      "2024-11-04",
    ],
  );
  assert.deepEqual(
    days("today", { now: "2024-11-04T05:00:00Z", timezone: tz }),
    [
      "2024-11-04",
      "2024-11-05",
    ],
  );
  // Sydney's clocks go forward on October 6, 2024.
  assert.deepEqual(
    days("yesterday", {
      now: "2024-10-06T13:59:00Z",
      timezone: "Australia/Sydney",
    }),
    ["2024-10-06", "2024-10-07"],
  );
  assert.deepEqual(
    days("yesterday", {
      now: "2024-10-06T12:59:00Z",
      timezone: "Australia/Sydney",
    }),
    ["2024-10-05", "2024-10-06"],
  );
});

Deno.test("resolvePeriod() rejects an invalid time zone, naming it", () => {
  assert.throws(
    () => resolvePeriod("2024", { timezone: "Mars/Olympus_Mons" }),
    {
      name: "RangeError",
      message:
        'Invalid time zone "Mars/Olympus_Mons": expected an IANA time zone name such as "UTC" or "Europe/London"',
    },
  );
  assert.throws(
    () => resolvePeriod("2024", { timezone: 5 as unknown as string }),
    { name: "TypeError", message: /^Invalid time zone "5": / },
  );
});

Deno.test("resolvePeriod() rejects a weekStart outside 1 to 7", () => {
  for (const weekStart of [0, 8, 1.5, -1, NaN]) {
    assert.throws(() => resolvePeriod("this_week", { ...FRI, weekStart }), {
      name: "RangeError",
      message:
        `Invalid weekStart ${weekStart}: expected a whole number from 1 (Monday) to 7 (Sunday)`,
    });
  }
  assert.throws(
    () =>
      resolvePeriod("this_week", {
        ...FRI,
        weekStart: "1" as unknown as number,
      }),
    {
      name: "TypeError",
      message:
        'Invalid weekStart "1": expected a number from 1 (Monday) to 7 (Sunday)',
    },
  );
});

Deno.test("resolvePeriod() rejects an invalid now, naming it", () => {
  assert.throws(() => resolvePeriod("today", { now: "yesterday-ish" }), {
    name: "RangeError",
    message:
      'Invalid now "yesterday-ish": expected an ISO instant with Z or an offset (2024-11-05T10:00:00Z) or a day YYYY-MM-DD',
  });
  assert.throws(() => resolvePeriod("today", { now: "2024-11-05T10:00:00" }), {
    name: "RangeError",
    message: /^Invalid now "2024-11-05T10:00:00": expected an ISO instant/,
  });
  assert.throws(() => resolvePeriod("today", { now: "2024-02-30" }), {
    name: "RangeError",
    message:
      'Invalid now "2024-02-30": invalid date "2024-02-30": day 30 is out of range (1 to 29)',
  });
  assert.throws(() => resolvePeriod("today", { now: new Date(NaN) }), {
    name: "RangeError",
    message: /^Invalid now "Invalid Date"/,
  });
  assert.throws(
    () => resolvePeriod("today", { now: 1731628800000 as unknown as string }),
    {
      name: "TypeError",
      message:
        'Invalid now "1731628800000": expected a Temporal.Instant, Temporal.ZonedDateTime, Temporal.PlainDate, Date or string',
    },
  );
});

Deno.test("resolvePeriod() rejects a text that is not a string", () => {
  assert.throws(() => resolvePeriod(42 as unknown as string), {
    name: "TypeError",
    message: /^Cannot resolve period "42": expected a string, one of today, /,
  });
});

Deno.test("resolvePeriod() suggests the period a mistyped one most likely means", () => {
  const cases: [string, string][] = [
    ["last_mnth", "last_month"],
    ["last-month", "last_month"],
    ["lastmonth", "last_month"],
    ["Last_Quater", "last_quarter"],
    ["last_7_day", "last_7_days"],
    ["past 30 days", "last_30_days"],
    ["2024/11", "2024-11"],
  ];
  for (const [typed, meant] of cases) {
    assert.throws(
      () => resolvePeriod(typed, { now: "2024-11-15" }),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.startsWith(
          `Cannot resolve period "${typed}": did you mean "${meant}"? (expected one of today,`,
        ),
      typed,
    );
  }
  assert.throws(
    () => resolvePeriod("last_fortnight", { now: "2024-11-15" }),
    /^RangeError: Cannot resolve period "last_fortnight": expected one of today,/,
  );
});
