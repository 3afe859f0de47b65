import assert from "node:assert/strict";
import {
  computeBaseline,
  computePace,
  KPIEngine,
  learnWeekdayWeights,
  parseKpis,
} from "../mod.ts";
import { formatReport } from "../src/format/mod.ts";
import { formatNumber } from "../src/format/format_number.ts";

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

/** 56 days before `today` of 100 × a weekday factor × e^(0.004·t), t in days from today, times e^(noise(t)). */
function multiplicativeDays(
  today: string,
  noise: (t: number) => number,
): { periodStart: string; value: number }[] {
  const factors = [0.9, 0.92, 0.95, 1, 1.1, 1.3, 1.2]; // Monday first
  const end = Temporal.PlainDate.from(today);
  return Array.from({ length: 56 }, (_, i) => {
    const t = i - 56;
    const day = end.add({ days: t });
    return {
      periodStart: day.toString(),
      value: 100 * factors[day.dayOfWeek - 1]! * Math.exp(0.004 * t + noise(t)),
    };
  });
}

Deno.test("computeBaseline() of a day: weekday level and trend on the log scale, band from the noise and the fit's own error", () => {
  // Tuesday 2024-03-19 (weekday factor 0.92). Noise: +c in weeks 1, 4, 5
  // and 8 of the window, −c in the others, so that every weekday has four
  // of each and the noise is uncorrelated with time: least squares
  // recovers the level and trend exactly, and the noise's deviation is
  // c × √(56 / (56 − 7 levels − 1 slope)).
  const c = 0.05;
  const plus = new Set([0, 3, 4, 7]);
  const earlier = multiplicativeDays(
    "2024-03-19",
    (t) => plus.has(Math.floor((t + 56) / 7)) ? c : -c,
  );
  const expected = 100 * 0.92; // e^(0.004 × 0) at today
  const noise = c * Math.sqrt(56 / 48);
  // Today's level is the mean of 8 Tuesdays (t = −7 ... −56, mean −31.5)
  // moved along a slope whose spread of t within weekdays is
  // 7 weekdays × 49 × Σ(k − 3.5)² = 7 × 49 × 42.
  const deviation = noise * Math.sqrt(1 + 1 / 8 + 31.5 ** 2 / (7 * 49 * 42));
  const b = computeBaseline(60, "2024-03-19", earlier, "day");
  const close = (actual: number | null, wanted: number) =>
    assert.ok(
      Math.abs((actual ?? NaN) - wanted) <= 1e-9 * Math.abs(wanted),
      `${actual} vs ${wanted}`,
    );
  close(b.expected, expected);
  close(b.lower, expected * Math.exp(-3 * deviation));
  close(b.upper, expected * Math.exp(3 * deviation));
  assert.equal(
    b.score,
    Math.round(Math.log(60 / expected) / deviation * 100) / 100,
  );
  assert.equal(b.baselinePoints, 8);
  assert.equal(b.anomalous, true);
  // Within the band and below the 10% minimum change: not anomalous.
  assert.equal(
    computeBaseline(expected * 1.05, "2024-03-19", earlier, "day").anomalous,
    false,
  );
  // Rises count too, unless the direction is drop.
  assert.equal(
    computeBaseline(140, "2024-03-19", earlier, "day").anomalous,
    true,
  );
  assert.equal(
    computeBaseline(140, "2024-03-19", earlier, "day", { direction: "drop" })
      .anomalous,
    false,
  );
});

Deno.test("computeBaseline() of a day sets aside a past incident and a slump in its window", () => {
  // An exact series (no noise) with a single day at half and then a week at
  // 70%: the days that remain fit exactly, so the baseline is the series'
  // own value today and the band is the 1% floor.
  const earlier = multiplicativeDays("2024-03-19", () => 0).map((p, i) => ({
    ...p,
    value: i === 20 ? p.value / 2 : i >= 45 && i < 52 ? p.value * 0.7 : p.value,
  }));
  const b = computeBaseline(100 * 0.92, "2024-03-19", earlier, "day");
  const expected = 100 * 0.92;
  assert.ok(
    Math.abs(b.expected! - expected) <= 1e-9 * expected,
    `${b.expected}`,
  );
  assert.equal(b.anomalous, false);
  assert.equal(b.baselinePoints, 7, "the Tuesday in the slump is set aside");
  // Today's 70% is the slump going on: still unusual.
  assert.equal(
    computeBaseline(100 * 0.92 * 0.7, "2024-03-19", earlier, "day").anomalous,
    true,
  );
  // Without a trend, a growing series is read against its flat mean: the
  // same value is then high.
  const flat = computeBaseline(100 * 0.92, "2024-03-19", earlier, "day", {
    trend: false,
  });
  assert.ok(flat.expected! < expected * 0.95, `${flat.expected}`);
});

Deno.test("computeBaseline() of a day with a zero in its window fits the values as they are", () => {
  // 50 + i a day, 30 fewer on Sundays, and an outage (0) on day 10: no
  // logarithm, so levels and trend are fitted on the values; the outage is
  // set aside and the rest fits exactly.
  const earlier = Array.from({ length: 56 }, (_, i) => {
    const day = Temporal.PlainDate.from("2024-01-22").add({ days: i });
    return {
      periodStart: day.toString(),
      value: i === 10 ? 0 : 50 + i - (day.dayOfWeek === 7 ? 30 : 0),
    };
  });
  // Monday 2024-03-18 is day 56: 50 + 56 on the line.
  const b = computeBaseline(106, "2024-03-18", earlier, "day");
  assert.ok(Math.abs(b.expected! - 106) <= 1e-9, `${b.expected}`);
  assert.equal(b.anomalous, false);
  assert.equal(
    computeBaseline(60, "2024-03-18", earlier, "day").anomalous,
    true,
  );
  // Sunday 2024-03-17 (day 55) from the days before it: 50 + 55 − 30.
  const sunday = computeBaseline(75, "2024-03-17", earlier.slice(0, 55), "day");
  assert.ok(Math.abs(sunday.expected! - 75) <= 1e-9, `${sunday.expected}`);
  assert.equal(sunday.anomalous, false);
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
  // 8 Saturdays in the 56-day window; those further than 3 robust deviations
  // from the fit (the ±2 wobble is ±5% of 40 but ±2% of 100) are set aside.
  const kept = saturday.anomaly?.baselinePoints ?? 0;
  assert.ok(kept >= 4 && kept <= 8, `kept ${kept} Saturdays`);
  assert.ok(Math.abs((saturday.anomaly?.expected ?? 0) - 40) <= 2);
  // Tuesday 2024-03-19: 60 orders where ~100 are usual.
  const tuesday = await engineOn(frame, ANOMALY_FILE, "2024-03-20").runKpi(
    "orders",
    "2024-03-19",
  );
  assert.equal(tuesday.value, 60);
  assert.ok(Math.abs((tuesday.anomaly?.expected ?? 0) - 100) <= 2);
  assert.equal(tuesday.anomaly?.anomalous, true);
  assert.ok((tuesday.anomaly?.score ?? 0) < -3);
  assert.ok((tuesday.anomaly?.lower ?? 0) > 60);
  assert.equal(tuesday.alertStatus, "warning");
  const a = tuesday.anomaly!;
  assert.equal(
    tuesday.alertsTriggered[0]?.message,
    `orders 60, expected ${formatNumber(a.expected)} (${
      formatNumber(a.lower)
    } to ${formatNumber(a.upper)}, score ${a.score})`,
  );
  const table = formatReport({
    period: { label: "2024-03-19", start: "2024-03-19", end: "2024-03-20" },
    results: [tuesday],
  }, "table");
  assert.ok(
    table.includes(
      `unusual: expected ${formatNumber(a.expected)} (${
        formatNumber(a.lower)
      } to ${formatNumber(a.upper)})`,
    ),
    table,
  );
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
