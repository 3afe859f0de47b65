import assert from "node:assert/strict";
import {
  computeBaseline,
  computePace,
  formatReport,
  KPIEngine,
  learnWeekdayWeights,
  parseKpis,
} from "../mod.ts";

/** Daily orders: 100 on weekdays, 40 on weekends, through `last`. */
function dailyOrders(
  first: string,
  last: string,
  override: Record<string, number> = {},
): { day: string[]; orders: number[] } {
  const day: string[] = [];
  const orders: number[] = [];
  for (
    let d = Temporal.PlainDate.from(first);
    Temporal.PlainDate.compare(d, Temporal.PlainDate.from(last)) <= 0;
    d = d.add({ days: 1 })
  ) {
    day.push(d.toString());
    const wobble = ((d.day * 7) % 5) - 2; // -2..2, deterministic
    orders.push(
      override[d.toString()] ?? (d.dayOfWeek > 5 ? 40 : 100) + wobble,
    );
  }
  return { day, orders };
}

function engineOn(
  frame: { day: string[]; orders: number[] },
  yaml: string,
  now: string,
): KPIEngine {
  return new KPIEngine({
    config: parseKpis(yaml),
    dataframes: { shop: { day: frame.day, orders: frame.orders } },
    now: () => Temporal.Instant.from(`${now}T12:00:00Z`),
  });
}

const ANOMALY_FILE = `
kpis:
  - name: orders
    source: dataframe
    query: shop.orders
    aggregation: sum
    time_column: day
    anomaly: { direction: drop }
    alerts:
      - condition: anomaly
        severity: warning
        message: "{{ label }} {{ value }}, expected {{ expected }} ({{ lower }} to {{ upper }}, score {{ score }})"
`;

Deno.test("computeBaseline() matches the median and MAD computed by hand", () => {
  const values = [10, 12, 11, 30, 9, 10, 13, 11];
  const earlier = values.map((value, i) => ({
    periodStart: Temporal.PlainDate.from("2024-01-01").add({ months: i })
      .toString(),
    value,
  }));
  const b = computeBaseline(5, "2024-09-01", earlier, "month", {
    sensitivity: 2,
    trend: false,
  });
  // sorted 9 10 10 11 11 12 13 30 → median 11; |x−11| sorted 0 0 1 1 1 2 2 19 → MAD 1.
  assert.equal(b.expected, 11);
  assert.equal(b.lower, Number((11 - 2 * 1.4826).toPrecision(12)));
  assert.equal(b.upper, Number((11 + 2 * 1.4826).toPrecision(12)));
  assert.equal(b.score, Math.round(((5 - 11) / 1.4826) * 100) / 100);
  assert.equal(b.baselinePoints, 8);
  assert.equal(b.anomalous, true);
  // A tiny move never fires, however steady the series.
  const steady = earlier.map((p) => ({ ...p, value: 100 }));
  const tiny = computeBaseline(97, "2024-09-01", steady, "month");
  assert.equal(tiny.expected, 100);
  assert.equal(tiny.anomalous, false, "3% is below the 10% minimum change");
  assert.equal(
    computeBaseline(80, "2024-09-01", steady, "month").anomalous,
    true,
  );
});

Deno.test("computeBaseline() with too little data says so and does not fire", () => {
  const earlier = [{ periodStart: "2024-01-01", value: 10 }, {
    periodStart: "2024-02-01",
    value: null,
  }];
  const b = computeBaseline(1000, "2024-03-01", earlier, "month");
  assert.equal(b.expected, null);
  assert.equal(b.anomalous, false);
  assert.equal(b.baselinePoints, 1);
  assert.match(b.note ?? "", /Too little data/);
});

Deno.test("an anomaly rule learns weekdays: a weekend dip does not fire, a Tuesday drop does", async () => {
  const frame = dailyOrders("2024-01-01", "2024-03-31", { "2024-03-19": 60 });
  // Saturday 2024-03-16: 40 orders, as every weekend.
  const saturday = await engineOn(frame, ANOMALY_FILE, "2024-03-20").runKpi(
    "orders",
    "2024-03-16",
  );
  assert.equal(saturday.anomaly?.anomalous, false);
  assert.equal(saturday.alertStatus, "ok");
  assert.equal(saturday.anomaly?.baselinePoints, 7); // 8 Saturdays, the first without a week before it
  assert.ok(Math.abs((saturday.anomaly?.expected ?? 0) - 40) <= 2);
  // Tuesday 2024-03-19: 60 orders where ~100 are usual.
  const tuesday = await engineOn(frame, ANOMALY_FILE, "2024-03-20").runKpi(
    "orders",
    "2024-03-19",
  );
  assert.equal(tuesday.value, 60);
  assert.equal(tuesday.anomaly?.anomalous, true);
  assert.ok((tuesday.anomaly?.score ?? 0) < -3);
  assert.ok((tuesday.anomaly?.lower ?? 0) > 60);
  assert.equal(tuesday.alertStatus, "warning");
  const a = tuesday.anomaly!;
  assert.equal(
    tuesday.alertsTriggered[0]?.message,
    `orders 60, expected ${a.expected!.toFixed(2)} (${a.lower!.toFixed(2)} to ${
      a.upper!.toFixed(2)
    }, score ${a.score})`,
  );
  const table = formatReport({
    period: { label: "2024-03-19", start: "2024-03-19", end: "2024-03-20" },
    results: [tuesday],
  }, "table");
  assert.match(table, /unusual: expected 98.33 \(92.93 to 103.72\)/);
});

Deno.test("anomaly terms combine with comparisons in one condition", async () => {
  const frame = dailyOrders("2024-01-01", "2024-03-31", { "2024-03-19": 60 });
  const yaml = ANOMALY_FILE.replace(
    "condition: anomaly",
    'condition: "anomaly and WoW < -20% and value < lower and score < -3"',
  ).replace("time_column: day", "time_column: day\n    compare: [WoW]");
  const result = await engineOn(frame, yaml, "2024-03-20").runKpi(
    "orders",
    "2024-03-19",
  );
  assert.equal(result.alertStatus, "warning");
  assert.throws(
    () =>
      parseKpis(ANOMALY_FILE.replace("    anomaly: { direction: drop }\n", "")),
    /uses anomaly, which needs anomaly settings/,
  );
});

Deno.test("targets: pro-rated, attainment and projection on a hand-worked running month", async () => {
  // November 2024 so far (1st to 15th, today the 15th): 100 a day → 1,500.
  const day: string[] = [];
  const orders: number[] = [];
  for (let d = 1; d <= 15; d++) {
    day.push(`2024-11-${String(d).padStart(2, "0")}`);
    orders.push(100);
  }
  const yaml = `
kpis:
  - name: orders
    source: dataframe
    query: shop.orders
    aggregation: sum
    time_column: day
    target: { "2024-11": 4000, "2024-12": 5000 }
    alerts:
      - condition: projected < target
        severity: critical
      - condition: attainment < 80%
        severity: warning
`;
  const engine = engineOn({ day, orders }, yaml, "2024-11-15");
  const result = await engine.runKpi("orders", "this_month");
  assert.equal(result.value, 1500);
  assert.equal(result.target, 4000);
  assert.equal(result.pace?.elapsed, 0.5); // 15 of 30 days
  assert.equal(result.pace?.targetToDate, 2000);
  assert.equal(result.attainment, 0.75);
  assert.equal(result.projected, 3000);
  assert.equal(result.pace?.estimate, false);
  assert.deepEqual(result.alertsTriggered.map((a) => a.severity), [
    "critical",
    "warning",
  ]);
  // Closed month: attainment against the whole target; no target for October.
  const october = await engine.runKpi("orders", "2024-10");
  assert.equal(october.target, undefined);
  assert.equal(october.alertStatus, "ok");
});

Deno.test("targets: an early projection is an estimate and is not alerted on", async () => {
  const yaml = `
kpis:
  - name: orders
    source: dataframe
    query: shop.orders
    aggregation: sum
    time_column: day
    target: 10000
    pace: { min_elapsed: 0.2 }
    alerts:
      - condition: projected < target
`;
  const engine = engineOn(
    { day: ["2024-11-01", "2024-11-02"], orders: [10, 10] },
    yaml,
    "2024-11-02",
  );
  const result = await engine.runKpi("orders", "this_month");
  assert.equal(result.projected, 300);
  assert.equal(result.pace?.estimate, true);
  assert.equal(result.alertStatus, "ok");
});

Deno.test("computePace() by weekday weights: a Monday-to-Friday shop is on pace after the first week", () => {
  const earlier = Array.from({ length: 28 }, (_, i) => {
    const d = Temporal.PlainDate.from("2024-10-07").add({ days: i });
    return { periodStart: d.toString(), value: d.dayOfWeek > 5 ? 0 : 100 };
  });
  const weights = learnWeekdayWeights(earlier);
  // November 2024: Fri 1st ... the first 3 days are Fri, Sat, Sun → 1 of 21 weekdays.
  const status = computePace(
    100,
    2100,
    {
      start: "2024-11-01",
      end: "2024-12-01",
    },
    "2024-11-04",
    { method: "weekday", weekdayWeights: weights },
  );
  assert.equal(status.pace.elapsed, Number((1 / 21).toPrecision(12)));
  assert.equal(status.projected, 2100);
  const calendar = computePace(100, 2100, {
    start: "2024-11-01",
    end: "2024-12-01",
  }, "2024-11-04");
  assert.equal(calendar.projected, 1000);
});
