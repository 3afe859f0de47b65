import assert from "node:assert/strict";
import {
  bucketLabel,
  periodInstants,
  resolvePeriod,
  seriesBuckets,
} from "../mod.ts";
import {
  addGrains,
  bucketStart,
  type Grain,
  GRAINS,
} from "../src/series/series_buckets.ts";

const spans = (list: { start: string; end: string }[]) =>
  list.map((b) => `${b.start}/${b.end}`);

Deno.test("seriesBuckets() labels every bucket with a period string that resolves to the same days", () => {
  for (const grain of ["day", "week", "month", "quarter", "year"] as const) {
    for (const weekStart of [1, 7]) {
      const buckets = seriesBuckets(grain, {
        from: "2019-12-20",
        to: "2021-01-10",
        weekStart,
        timezone: "America/Toronto",
      });
      for (const bucket of buckets) {
        const again = resolvePeriod(bucket.label, {
          weekStart,
          timezone: "America/Toronto",
        });
        assert.equal(again.start, bucket.start, bucket.label);
        assert.equal(again.end, bucket.end, bucket.label);
      }
      assert.ok(buckets.length >= 2);
    }
  }
});

Deno.test("seriesBuckets() cuts days at local midnight across DST: 23 and 25 hours in Toronto", () => {
  const days = seriesBuckets("day", {
    from: "2024-03-09",
    to: "2024-03-11",
    timezone: "America/Toronto",
  });
  assert.deepEqual(
    days.map((d) => {
      const { startMs, endMs } = periodInstants(d);
      return (endMs - startMs) / 3_600_000;
    }),
    [24, 23, 24],
  );
  const fall = seriesBuckets("day", {
    from: "2024-11-03",
    to: "2024-11-03",
    timezone: "America/Toronto",
  });
  const { startMs, endMs } = periodInstants(fall[0]!);
  assert.equal((endMs - startMs) / 3_600_000, 25);
});

Deno.test("seriesBuckets() follows ISO week 53 and the turn of the ISO year", () => {
  const weeks = seriesBuckets("week", { from: "2020-12-14", to: "2021-01-10" });
  assert.deepEqual(weeks.map((w) => w.label), [
    "2020-W51",
    "2020-W52",
    "2020-W53",
    "2021-W01",
  ]);
  assert.equal(weeks[2]!.start, "2020-12-28");
  assert.equal(weeks[2]!.end, "2021-01-04");
  // 2026 has 53 ISO weeks as well; 2025 has 52.
  assert.equal(
    bucketLabel(Temporal.PlainDate.from("2026-12-28"), "week"),
    "2026-W53",
  );
  assert.equal(
    bucketLabel(Temporal.PlainDate.from("2025-12-29"), "week"),
    "2026-W01",
  );
});

Deno.test("seriesBuckets() starts weeks on week_start, labelled as ranges when not Monday", () => {
  const weeks = seriesBuckets("week", {
    from: "2024-11-06",
    to: "2024-11-20",
    weekStart: 7,
  });
  assert.deepEqual(weeks.map((w) => w.label), [
    "2024-11-03..2024-11-09",
    "2024-11-10..2024-11-16",
    "2024-11-17..2024-11-23",
  ]);
});

Deno.test("seriesBuckets() keeps leap days: February 2024 has 29 days and 2024 has 366", () => {
  const days = seriesBuckets("day", { from: "2024-02-27", to: "2024-03-01" });
  assert.deepEqual(days.map((d) => d.label), [
    "2024-02-27",
    "2024-02-28",
    "2024-02-29",
    "2024-03-01",
  ]);
  const [feb] = seriesBuckets("month", { from: "2024-02", to: "2024-02" });
  assert.equal(feb!.end, "2024-03-01");
  assert.equal(
    seriesBuckets("day", { from: "2024", to: "2024" }).length,
    366,
  );
  assert.equal(
    seriesBuckets("day", { from: "2023", to: "2023" }).length,
    365,
  );
});

Deno.test("seriesBuckets() with last: N ends at the bucket of `to`, whole grains", () => {
  const quarters = seriesBuckets("quarter", { last: 3, to: "2024-08-14" });
  assert.deepEqual(spans(quarters), [
    "2024-01-01/2024-04-01",
    "2024-04-01/2024-07-01",
    "2024-07-01/2024-10-01",
  ]);
  assert.deepEqual(quarters.map((q) => q.label), [
    "2024-Q1",
    "2024-Q2",
    "2024-Q3",
  ]);
  const years = seriesBuckets("year", { last: 2, to: "2024-Q3" });
  assert.deepEqual(years.map((y) => y.label), ["2023", "2024"]);
});

Deno.test("seriesBuckets() marks the bucket holding today partial, cuts it after today, and leaves out the future", () => {
  const now = Temporal.Instant.from("2024-11-15T03:00:00Z");
  // Still November 14 in Toronto.
  const months = seriesBuckets("month", {
    last: 2,
    now,
    timezone: "America/Toronto",
  });
  assert.deepEqual(
    months.map((m) => [m.label, m.start, m.end, m.partial]),
    [
      ["2024-10", "2024-10-01", "2024-11-01", false],
      ["2024-11-01..2024-11-14", "2024-11-01", "2024-11-15", true],
    ],
  );
  const future = seriesBuckets("month", {
    from: "2024-10",
    to: "2025-03",
    now,
    timezone: "America/Toronto",
  });
  assert.equal(future.length, 2);
  const today = seriesBuckets("day", { last: 1, now: "2024-11-14" });
  assert.deepEqual(today.map((d) => [d.label, d.partial]), [[
    "2024-11-14",
    true,
  ]]);
});

Deno.test("seriesBuckets() refuses bad grains, spans and sizes with a clear message", () => {
  assert.throws(
    () => seriesBuckets("fortnight" as "day", { last: 2, to: "2024-11" }),
    /Invalid grain "fortnight": expected one of day, week, month, quarter, year/,
  );
  assert.throws(
    () => seriesBuckets("month", { last: 0, to: "2024-11" }),
    /Invalid last 0: expected a whole number from 1 to 5000/,
  );
  assert.throws(
    () => seriesBuckets("month", { from: "2024-12", to: "2024-11" }),
    /the start is after the end/,
  );
  assert.throws(
    () => seriesBuckets("month", { from: "2024-01", last: 3, to: "2024-11" }),
    /both `from` and `last`/,
  );
  assert.throws(
    () => seriesBuckets("day", { from: "2000", to: "2024" }),
    /Too many day points/,
  );
  assert.throws(
    () => seriesBuckets("month", { last: 2, to: "next_month" }),
    /Cannot resolve period "next_month"/,
  );
});

Deno.test("seriesBuckets() cuts and labels every grain as Temporal does, across centuries, leap days, ISO week 53 and every week start", () => {
  // The reference: one Temporal step per bucket, as bucketStart, addGrains
  // and bucketLabel define them.
  const reference = (
    grain: Grain,
    from: string,
    to: string,
    weekStart: number,
    today: string,
  ) => {
    const out: [string, string, string, boolean][] = [];
    const last = bucketStart(Temporal.PlainDate.from(to), grain, weekStart);
    const now = Temporal.PlainDate.from(today);
    for (
      let start = bucketStart(Temporal.PlainDate.from(from), grain, weekStart);
      Temporal.PlainDate.compare(start, last) <= 0 &&
      Temporal.PlainDate.compare(start, now) <= 0;
      start = addGrains(start, grain, 1)
    ) {
      const whole = addGrains(start, grain, 1);
      const partial = Temporal.PlainDate.compare(whole, now) > 0;
      const end = partial ? now.add({ days: 1 }) : whole;
      out.push([
        end.equals(whole)
          ? bucketLabel(start, grain, weekStart)
          : `${start}..${end.subtract({ days: 1 })}`,
        start.toString(),
        end.toString(),
        partial,
      ]);
    }
    return out;
  };
  const spans: [string, string, string][] = [
    ["1899-12-20", "1901-03-05", "2030-01-01"],
    ["1999-12-25", "2001-01-10", "2030-01-01"],
    ["2015-12-20", "2016-03-05", "2016-02-29"],
    ["2020-12-01", "2021-01-20", "2021-01-13"],
    ["2023-12-25", "2027-01-05", "2026-06-17"],
  ];
  for (const grain of GRAINS) {
    for (const weekStart of grain === "week" ? [1, 3, 7] : [1]) {
      for (const [from, to, today] of spans) {
        const got = seriesBuckets(grain, { from, to, weekStart, now: today })
          .map((b) => [b.label, b.start, b.end, b.partial]);
        assert.deepEqual(
          got,
          reference(grain, from, to, weekStart, today),
          `${grain} ${weekStart} ${from}..${to} on ${today}`,
        );
      }
    }
  }
});
