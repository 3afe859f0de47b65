import assert from "node:assert/strict";
import { periodInstants } from "../src/period/period_instants.ts";
import { resolvePeriod } from "../src/period/resolve_period.ts";
import type { Period } from "../src/types.ts";

const HOUR = 3_600_000;

function day(date: string, timezone: string): Period {
  return resolvePeriod(date, { timezone });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

Deno.test("periodInstants() gives midnight UTC for UTC periods", () => {
  assert.deepEqual(periodInstants(resolvePeriod("2024-11")), {
    startMs: Date.UTC(2024, 10, 1),
    endMs: Date.UTC(2024, 11, 1),
  });
});

Deno.test("periodInstants() gives midnight in zones either side of UTC", () => {
  const la = periodInstants(day("2024-11-15", "America/Los_Angeles"));
  assert.equal(iso(la.startMs), "2024-11-15T08:00:00.000Z");
  assert.equal(iso(la.endMs), "2024-11-16T08:00:00.000Z");
  const akl = periodInstants(day("2024-11-15", "Pacific/Auckland"));
  assert.equal(iso(akl.startMs), "2024-11-14T11:00:00.000Z");
  assert.equal(iso(akl.endMs), "2024-11-15T11:00:00.000Z");
});

Deno.test("periodInstants() makes spring-forward days 23 hours and fall-back days 25", () => {
  const cases: [string, string, number, string][] = [
    ["2024-03-10", "America/Toronto", 23, "2024-03-10T05:00:00.000Z"],
    ["2024-11-03", "America/Toronto", 25, "2024-11-03T04:00:00.000Z"],
    ["2024-03-31", "Europe/London", 23, "2024-03-31T00:00:00.000Z"],
    ["2024-10-27", "Europe/London", 25, "2024-10-26T23:00:00.000Z"],
    ["2024-10-06", "Australia/Sydney", 23, "2024-10-05T14:00:00.000Z"],
    ["2024-04-07", "Australia/Sydney", 25, "2024-04-06T13:00:00.000Z"],
    ["2024-09-29", "Pacific/Auckland", 23, "2024-09-28T12:00:00.000Z"],
  ];
  for (const [date, tz, hours, start] of cases) {
    const { startMs, endMs } = periodInstants(day(date, tz));
    assert.equal(iso(startMs), start, `${date} ${tz}`);
    assert.equal((endMs - startMs) / HOUR, hours, `${date} ${tz}`);
  }
  // The day after a change is 24 hours again.
  const after = periodInstants(day("2024-03-11", "America/Toronto"));
  assert.equal((after.endMs - after.startMs) / HOUR, 24);
});

Deno.test("periodInstants() starts a day whose midnight is skipped at its first instant", () => {
  // Chile moved clocks from 00:00 to 01:00 on 2024-09-08.
  const { startMs, endMs } = periodInstants(
    day("2024-09-08", "America/Santiago"),
  );
  assert.equal(iso(startMs), "2024-09-08T04:00:00.000Z");
  assert.equal((endMs - startMs) / HOUR, 23);
});

Deno.test("periodInstants() spans a whole month with its DST change", () => {
  const march = periodInstants(
    resolvePeriod("2024-03", { timezone: "America/Toronto" }),
  );
  assert.equal((march.endMs - march.startMs) / HOUR, 31 * 24 - 1);
  const oct = periodInstants(
    resolvePeriod("2024-10", { timezone: "Europe/London" }),
  );
  assert.equal((oct.endMs - oct.startMs) / HOUR, 31 * 24 + 1);
});

Deno.test("periodInstants() rejects a malformed period", () => {
  assert.throws(
    () =>
      periodInstants({
        label: "x",
        start: "2024-11-01",
        end: "2024-12-01",
        timezone: "Nowhere",
      }),
    { name: "RangeError", message: /^Invalid time zone "Nowhere"/ },
  );
  assert.throws(
    () =>
      periodInstants({
        label: "x",
        start: "2024-11-01",
        end: "Dec 1",
        timezone: "UTC",
      }),
    {
      name: "RangeError",
      message: 'Invalid period end "Dec 1": expected an ISO date YYYY-MM-DD',
    },
  );
  assert.throws(() => periodInstants(undefined as unknown as Period), {
    name: "TypeError",
    message: /^Cannot convert period "undefined"/,
  });
});
