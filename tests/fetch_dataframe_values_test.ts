import assert from "node:assert/strict";
import { fetchDataFrameValues } from "../src/dataframe/fetch_dataframe_values.ts";
import { valueKey } from "../src/_value_key.ts";
import { foldBuckets } from "../src/series/_fold_buckets.ts";
import type {
  Aggregation,
  DataFrameInput,
  KPIDefinition,
  Period,
} from "../src/types.ts";

const NOV: Period = {
  label: "2024-11",
  start: "2024-11-01",
  end: "2024-12-01",
  timezone: "UTC",
};
const OCT: Period = {
  label: "2024-10",
  start: "2024-10-01",
  end: "2024-11-01",
  timezone: "UTC",
};
const DEC: Period = {
  label: "2024-12",
  start: "2024-12-01",
  end: "2025-01-01",
  timezone: "UTC",
};

function kpi(
  query: string,
  aggregation: Aggregation,
  extra: Partial<KPIDefinition> = {},
): KPIDefinition {
  return { name: "k", source: "dataframe", query, aggregation, ...extra };
}

function valueOf(
  tables: Record<string, DataFrameInput>,
  definition: KPIDefinition,
  period: Period = NOV,
): number | null {
  const got = fetchDataFrameValues(tables, [{ definition, periods: [period] }])
    .get(valueKey(definition.name, period));
  assert.ok(got, "a value for the key");
  assert.equal(got.error, null);
  return got.value;
}

const ROWS = [
  { amount: 10.1, paid: true, day: "2024-10-31" },
  { amount: 0.1, paid: true, day: "2024-11-01" },
  { amount: 0.2, paid: false, day: "2024-11-15" },
  { amount: null, paid: null, day: "2024-11-20" },
  { amount: 5, paid: true, day: "2024-11-30" },
  { amount: 7, paid: true, day: "2024-12-01" },
];

Deno.test("fetchDataFrameValues() sums the rows of the period to the cent", () => {
  assert.equal(valueOf({ orders: ROWS }, kpi("orders.amount", "sum")), 5.3);
});

Deno.test("fetchDataFrameValues() drops binary noise but keeps a sixteenth digit that was in the data", () => {
  const at = { timeColumn: "t" };
  const days = ["2024-11-02", "2024-11-03", "2024-11-04"];
  const big = { t: days, v: [12345678901000, 234.56, 0] };
  assert.equal(valueOf({ big }, kpi("big.v", "sum", at)), 12345678901234.56);
  const rows = days.map((t, i) => ({ t, v: [12345678901000, 234.56, 0][i] }));
  assert.equal(valueOf({ rows }, kpi("rows.v", "sum", at)), 12345678901234.56);
  const tenths = { t: days, v: new Float64Array([0.1, 0.2, 0]) };
  assert.equal(0.1 + 0.2, 0.30000000000000004);
  assert.equal(valueOf({ tenths }, kpi("tenths.v", "sum", at)), 0.3);
  assert.equal(valueOf({ tenths }, kpi("tenths.v", "avg", at)), 0.1);
  const last = { t: days, v: [1, 2, 12345678901234.56] };
  assert.equal(valueOf({ last }, kpi("last.v", "last", at)), 12345678901234.56);
});

Deno.test("fetchDataFrameValues() counts non-missing values, and rows for *", () => {
  assert.equal(valueOf({ orders: ROWS }, kpi("orders.amount", "count")), 3);
  assert.equal(valueOf({ orders: ROWS }, kpi("orders.*", "count")), 4);
});

Deno.test("fetchDataFrameValues() averages non-missing values", () => {
  assert.equal(
    valueOf({ orders: ROWS }, kpi("orders.amount", "avg")),
    5.3 / 3,
  );
});

Deno.test("fetchDataFrameValues() takes the value at the latest time for last", () => {
  const rows = [
    { v: 3, t: "2024-11-20T10:00:00Z" },
    { v: 9, t: "2024-11-29T23:59:00Z" },
    { v: 1, t: "2024-11-02T00:00:00Z" },
  ];
  assert.equal(valueOf({ s: rows }, kpi("s.v", "last")), 9);
});

Deno.test("fetchDataFrameValues() gives the share of truthy values for rate", () => {
  assert.equal(
    valueOf({ orders: ROWS }, kpi("orders.paid", "rate")),
    2 / 3,
  );
  const words = {
    t: ["2024-11-02", "2024-11-03", "2024-11-04", "2024-11-05"],
    ok: ["yes", "no", "false", "1"],
  };
  assert.equal(valueOf({ w: words }, kpi("w.ok", "rate")), 0.5);
});

Deno.test("fetchDataFrameValues() gives 0 for sum and count and null otherwise on a period with no rows", () => {
  const tables = { orders: ROWS };
  const empty: Period = { ...NOV, start: "2023-01-01", end: "2023-02-01" };
  assert.equal(valueOf(tables, kpi("orders.amount", "sum"), empty), 0);
  assert.equal(valueOf(tables, kpi("orders.amount", "count"), empty), 0);
  assert.equal(valueOf(tables, kpi("orders.amount", "avg"), empty), null);
  assert.equal(valueOf(tables, kpi("orders.amount", "last"), empty), null);
  assert.equal(valueOf(tables, kpi("orders.paid", "rate"), empty), null);
});

Deno.test("fetchDataFrameValues() reads columns, typed arrays and every kind of date", () => {
  const nov5 = Date.UTC(2024, 10, 5);
  const columns = {
    amount: new Float64Array([1, 2, 4, 8, 16, 32]),
    at: [
      new Date(nov5),
      nov5 + 1000,
      Temporal.Instant.fromEpochMilliseconds(nov5),
      Temporal.PlainDate.from("2024-11-30"),
      "2024-12-01T00:00:00Z",
      Temporal.ZonedDateTime.from(
        "2024-10-31T22:00:00-03:00[America/Sao_Paulo]",
      ),
    ],
  };
  // The last one is 2024-11-01T01:00Z, so it counts.
  assert.equal(
    valueOf({ t: columns }, kpi("t.amount", "sum")),
    1 + 2 + 4 + 8 + 32,
  );
});

Deno.test("fetchDataFrameValues() cuts days in the period's time zone", () => {
  const rows = [
    { v: 1, at: "2024-11-01T03:00:00Z" }, // Oct 31, 23:00 in Toronto
    { v: 2, at: "2024-11-01T05:00:00Z" }, // Nov 1, 01:00 in Toronto
    { v: 4, at: "2024-11-15" }, // a date-only string: that day in the zone
  ];
  const toronto = { ...NOV, timezone: "America/Toronto" };
  assert.equal(valueOf({ r: rows }, kpi("r.v", "sum"), toronto), 6);
  assert.equal(valueOf({ r: rows }, kpi("r.v", "sum"), NOV), 7);
});

Deno.test("fetchDataFrameValues() computes every period of a KPI, sorted or not", () => {
  const n = 1000;
  const start = Date.UTC(2024, 9, 1);
  const day = 86_400_000;
  const times = new Float64Array(n);
  const amounts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    times[i] = start + (i % 92) * day + i;
    amounts[i] = (i % 7) + 0.01;
  }
  const expected = (p: Period): number => {
    const lo = Date.parse(p.start);
    const hi = Date.parse(p.end);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (times[i]! >= lo && times[i]! < hi) sum += amounts[i]!;
    }
    return Number(sum.toPrecision(12));
  };
  const sortedOrder = [...times.keys()].sort((a, b) => times[a]! - times[b]!);
  const sorted = {
    at: Float64Array.from(sortedOrder, (i) => times[i]!),
    amount: Float64Array.from(sortedOrder, (i) => amounts[i]!),
  };
  for (const table of [{ at: times, amount: amounts }, sorted]) {
    const definition = kpi("t.amount", "sum");
    const got = fetchDataFrameValues({ t: table }, [{
      definition,
      periods: [NOV, OCT, DEC],
    }]);
    for (const p of [NOV, OCT, DEC]) {
      assert.equal(
        Number(got.get(valueKey("k", p))!.value!.toPrecision(12)),
        expected(p),
      );
    }
  }
});

Deno.test("fetchDataFrameValues() finds the one date column and names the choices otherwise", () => {
  const two = [{ a: 1, created: "2024-11-02", shipped: "2024-11-03" }];
  const got = fetchDataFrameValues({ t: two }, [{
    definition: kpi("t.a", "sum"),
    periods: [NOV],
  }]);
  assert.match(
    got.get(valueKey("k", NOV))!.error!,
    /several date columns \(created, shipped\): set time_column/,
  );
  assert.equal(
    valueOf({ t: two }, kpi("t.a", "sum", { timeColumn: "shipped" })),
    1,
  );
  const none = [{ a: 1 }];
  const got2 = fetchDataFrameValues({ t: none }, [{
    definition: kpi("t.a", "sum"),
    periods: [NOV],
  }]);
  assert.match(
    got2.get(valueKey("k", NOV))!.error!,
    /no column of dates: set time_column/,
  );
});

Deno.test("fetchDataFrameValues() reports an unknown table or column on that KPI only", () => {
  const bad = { ...kpi("nope.amount", "sum"), name: "bad" };
  const badColumn = { ...kpi("orders.amunt", "sum"), name: "bad_column" };
  const good = kpi("orders.amount", "sum");
  const got = fetchDataFrameValues({ orders: ROWS }, [
    { definition: bad, periods: [NOV] },
    { definition: badColumn, periods: [NOV] },
    { definition: good, periods: [NOV] },
  ]);
  assert.match(
    got.get(valueKey("bad", NOV))!.error!,
    /Unknown table "nope".*expected one of orders/,
  );
  assert.match(
    got.get(valueKey("bad_column", NOV))!.error!,
    /Unknown column "amunt" in table "orders"/,
  );
  assert.equal(got.get(valueKey("k", NOV))!.value, 5.3);
});

Deno.test("fetchDataFrameValues() rejects columns of different lengths", () => {
  const got = fetchDataFrameValues(
    { t: { a: [1, 2], at: ["2024-11-01"] } },
    [{ definition: kpi("t.a", "sum"), periods: [NOV] }],
  );
  assert.match(got.get(valueKey("k", NOV))!.error!, /different lengths/);
});

Deno.test("fetchDataFrameValues() takes last from sorted and shuffled columns alike, skipping missing values", () => {
  const times = ["2024-11-01", "2024-11-02", "2024-11-03", "2024-11-04"];
  const values = [1, 2, 3, NaN];
  const sorted = { at: times, v: new Float64Array(values) };
  const shuffled = {
    at: [times[2], times[0], times[3], times[1]],
    v: new Float64Array([values[2]!, values[0]!, values[3]!, values[1]!]),
  };
  assert.equal(valueOf({ t: sorted }, kpi("t.v", "last")), 3);
  assert.equal(valueOf({ t: shuffled }, kpi("t.v", "last")), 3);
  assert.equal(valueOf({ t: shuffled }, kpi("t.v", "sum")), 6);
  assert.equal(valueOf({ t: shuffled }, kpi("t.v", "count")), 3);
});

Deno.test("fetchDataFrameValues() adds a million cents to exactly 10,000", () => {
  const n = 1_000_000;
  const start = Date.UTC(2024, 10, 1);
  const at = new Float64Array(n);
  for (let i = 0; i < n; i++) at[i] = start + (i * 7919 % n) * 2000;
  const cents = new Float64Array(n).fill(0.01);
  assert.equal(valueOf({ t: { at, cents } }, kpi("t.cents", "sum")), 10000);
  const rows = Array.from(
    { length: n },
    (_, i) => ({ at: at[i]!, cents: 0.01 }),
  );
  assert.equal(valueOf({ t: rows }, kpi("t.cents", "sum")), 10000);
  let naive = 0;
  for (let i = 0; i < n; i++) naive += 0.01;
  assert.notEqual(naive, 10000, "a plain float sum drifts");
});

Deno.test("fetchDataFrameValues() gives the same values on every run over shuffled data, once a time index and columnar copies are built", () => {
  const n = 100_000;
  let seed = 11;
  const random = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) /
    2147483648;
  const start = Date.UTC(2024, 0, 1);
  // Times to the millisecond over a year, some missing; amounts in cents,
  // some missing; flags for rate.
  const at = new Float64Array(n);
  const amount: (number | null)[] = [];
  const paid: boolean[] = [];
  for (let i = 0; i < n; i++) {
    at[i] = i % 997 === 0
      ? NaN
      : start + Math.floor(random() * 366 * 86_400_000);
    amount.push(i % 101 === 0 ? null : Math.round(random() * 100_000) / 100);
    paid.push(random() < 0.3);
  }
  const rows = Array.from({ length: n }, (_, i) => ({
    at: at[i] as number,
    amount: amount[i],
    paid: paid[i],
  }));
  const zone = "Asia/Kathmandu"; // UTC+05:45: days start off the hour
  const periods = [
    {
      label: "2024-11",
      start: "2024-11-01",
      end: "2024-12-01",
      timezone: zone,
    },
    {
      label: "2024-10",
      start: "2024-10-01",
      end: "2024-11-01",
      timezone: zone,
    },
    { label: "w", start: "2024-03-04", end: "2024-03-11", timezone: zone },
  ];
  const slow = (aggregation: Aggregation, p: (typeof periods)[number]) => {
    const lo = Temporal.PlainDate.from(p.start).toZonedDateTime(zone)
      .epochMilliseconds;
    const hi = Temporal.PlainDate.from(p.end).toZonedDateTime(zone)
      .epochMilliseconds;
    let sum = 0, count = 0, trues = 0, rated = 0;
    let last: number | null = null, lastAt = -Infinity;
    for (let i = 0; i < n; i++) {
      const t = at[i] as number;
      if (!(t >= lo && t < hi)) continue;
      rated++;
      if (paid[i]) trues++;
      const v = amount[i];
      if (v === null || v === undefined) continue;
      sum += v;
      count++;
      if (t >= lastAt) {
        lastAt = t;
        last = v;
      }
    }
    switch (aggregation) {
      case "sum":
        return sum;
      case "count":
        return count;
      case "avg":
        return sum / count;
      case "rate":
        return trues / rated;
      default:
        return last;
    }
  };
  const aggregations: Aggregation[] = ["sum", "count", "avg", "last", "rate"];
  const requests = aggregations.map((aggregation) => ({
    definition: kpi(
      `t.${aggregation === "rate" ? "paid" : "amount"}`,
      aggregation,
      { name: aggregation, timeColumn: "at" },
    ),
    periods,
  }));
  const columns = { at, amount, paid };
  for (const table of [columns, rows]) {
    for (let run = 0; run < 4; run++) {
      const got = fetchDataFrameValues({ t: table }, requests);
      for (const aggregation of aggregations) {
        for (const p of periods) {
          const value = got.get(valueKey(aggregation, p));
          assert.equal(value?.error, null);
          const want = slow(aggregation, p) as number;
          assert.ok(
            Math.abs((value?.value as number) - want) <=
              1e-9 * Math.abs(want),
            `${
              Array.isArray(table) ? "rows" : "columns"
            } run ${run} ${aggregation} ${p.label}: ${value?.value} vs ${want}`,
          );
        }
      }
    }
  }
  // A longer array is new data: the index is rebuilt, not reused.
  const longer = {
    at: new Float64Array([...at, start]),
    amount: [...amount, 5],
    paid: [...paid, true],
  };
  const once = fetchDataFrameValues({ t: longer }, requests.slice(0, 1));
  assert.equal(
    once.get(valueKey("sum", periods[0]!))?.value,
    fetchDataFrameValues({ t: longer }, requests.slice(0, 1)).get(
      valueKey("sum", periods[0]!),
    )?.value,
  );
});

Deno.test("fetchDataFrameValues() through a time index matches a plain loop at bucket edges, for a few periods and for many", () => {
  const n = 80_000;
  let seed = 5;
  const random = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const quarter = 15 * 60 * 1000;
  const day = 86_400_000;
  // Periods in zones whose midnights fall on and off the index's buckets
  // (a quarter of an hour over two months; two hours over three years).
  const zones = ["UTC", "Asia/Kathmandu", "America/Toronto"];
  for (const spanDays of [60, 3 * 365]) {
    const start = Date.UTC(2024, 9, 1) - (spanDays > 60 ? 2 * 365 * day : 0);
    const at = new Float64Array(n);
    const amount = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // Every third row a fraction of a millisecond around a quarter-hour.
      const base = start + Math.floor(random() * spanDays * day);
      at[i] = i % 3 === 0
        ? Math.round(base / quarter) * quarter + [-0.25, 0, 0.25][i % 9 / 3]!
        : base;
      amount[i] = i % 211 === 0 ? NaN : Math.round(random() * 10_000) / 100;
    }
    for (const zone of zones) {
      const months = ["2024-10-01", "2024-11-01", "2024-12-01"];
      const few: Period[] = [
        { label: "a", start: months[0]!, end: months[1]!, timezone: zone },
        { label: "b", start: months[1]!, end: months[2]!, timezone: zone },
        { label: "c", start: "2024-10-15", end: "2024-10-16", timezone: zone },
      ];
      // 40 days across Toronto's DST change of November 3.
      const many: Period[] = Array.from({ length: 40 }, (_, k) => {
        const d = Temporal.PlainDate.from("2024-10-10").add({ days: k });
        return {
          label: String(d),
          start: String(d),
          end: String(d.add({ days: 1 })),
          timezone: zone,
        };
      });
      const slow = (p: Period, aggregation: Aggregation) => {
        const lo = Temporal.PlainDate.from(p.start).toZonedDateTime(zone)
          .epochMilliseconds;
        const hi = Temporal.PlainDate.from(p.end).toZonedDateTime(zone)
          .epochMilliseconds;
        let sum = 0, count = 0, last: number | null = null, lastAt = -Infinity;
        for (let i = 0; i < n; i++) {
          const t = at[i]!, v = amount[i]!;
          if (!(t >= lo && t < hi) || v !== v) continue;
          sum += v;
          count++;
          if (t >= lastAt) [lastAt, last] = [t, v];
        }
        return aggregation === "sum"
          ? sum
          : aggregation === "count"
          ? count
          : last;
      };
      for (const periods of [few, many]) {
        const aggregations: Aggregation[] = ["sum", "count", "last"];
        const requests = aggregations.map((aggregation) => ({
          definition: kpi("t.amount", aggregation, {
            name: aggregation,
            timeColumn: "at",
          }),
          periods,
        }));
        // Fresh arrays: a first run (a scan), a second (builds the index)
        // and a third (reads through it).
        const table = { at: at.slice(), amount: amount.slice() };
        for (let run = 0; run < 3; run++) {
          const got = fetchDataFrameValues({ t: table }, requests);
          for (const aggregation of aggregations) {
            for (const p of periods) {
              const want = slow(p, aggregation) as number;
              const value = got.get(valueKey(aggregation, p))?.value as number;
              assert.ok(
                Math.abs(value - want) <= 1e-9 * Math.abs(want),
                `${spanDays} days, ${zone}, run ${run}, ${aggregation} ${p.start}: ${value} vs ${want}`,
              );
            }
          }
        }
      }
    }
  }
});

Deno.test("foldBuckets() puts rows of a grid cell cut by a range's edge on the right side of it", () => {
  // Edges a fraction of a millisecond apart from a whole hour: the grid's
  // cells are a quarter of an hour from the first edge, every other edge
  // cuts one, and the rows of a cut cell are placed by a search.
  const n = 20_000;
  const hour = 3_600_000;
  const times = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    times[i] = (i * 7919 % n) * (48 * hour / n);
    values[i] = i % 13;
  }
  const starts = Array.from(
    { length: 40 },
    (_, k) => k * hour + (k % 2) * 0.5,
  );
  const ends = starts.map((s) => s + hour);
  const folds = foldBuckets(times, values, starts, ends, false);
  starts.forEach((lo, r) => {
    let sum = 0, count = 0;
    for (let i = 0; i < n; i++) {
      if (times[i]! >= lo && times[i]! < ends[r]!) {
        sum += values[i]!;
        count++;
      }
    }
    assert.equal(folds[r]!.count, count, `range ${r}`);
    assert.equal(folds[r]!.sum, sum, `range ${r}`);
  });
});

Deno.test("foldBuckets() on a column in time order: overlapping ranges add up their slices, and the latest value skips missing ones", () => {
  const n = 5_000;
  const times = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    times[i] = Math.floor(i / 3) * 60_000;
    values[i] = i % 7 === 6 ? NaN : (i % 101) / 100;
  }
  // Overlapping windows of two hours every half hour, and one range with
  // no rows at all past the end.
  const starts = Array.from({ length: 40 }, (_, k) => k * 1_800_000);
  const ends = starts.map((s) => s + 7_200_000);
  starts.push(times[n - 1]! + 1);
  ends.push(times[n - 1]! + 3_600_000);
  for (const column of [values, null]) {
    const folds = foldBuckets(times, column, starts, ends, true);
    starts.forEach((lo, r) => {
      let sum = 0, count = 0, latest: number | null = null;
      for (let i = 0; i < n; i++) {
        const v = column === null ? 1 : column[i]!;
        if (times[i]! < lo || times[i]! >= ends[r]! || v !== v) continue;
        sum += v;
        count++;
        latest = v;
      }
      const fold = folds[r]!;
      assert.equal(fold.count, count, `range ${r}`);
      assert.ok(Math.abs(fold.sum - sum) < 1e-9, `range ${r}: ${fold.sum}`);
      assert.equal(fold.latest(), latest, `range ${r}`);
    });
  }
});
