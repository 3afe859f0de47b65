import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  assembleBreakdown,
  attributeChange,
  KPIConfigError,
  KPIEngine,
  parseKpis,
} from "../mod.ts";
import type { KPIDefinition } from "../mod.ts";
import { decimalSum } from "../src/segments/_exact.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";

const m = (numerator: number, denominator = 1) => ({
  value: denominator === 0 ? null : numerator / denominator,
  numerator,
  denominator,
});

Deno.test("attributeChange() splits a ratio into rate and mix effects that add up to the change (worked by hand)", () => {
  // Period 0: A 50/100 (0.5), B 20/100 (0.2) -> R0 = 70/200 = 0.35
  // Period 1: A 90/150 (0.6), B 10/50 (0.2)  -> R1 = 100/200 = 0.5
  // Weights w0 = (.5, .5), w1 = (.75, .25); mean ratio R̄ = 0.425.
  // A: rate = .625 * .1 = .0625; mix = .25 * (.55 - .425) = .03125
  // B: rate = .375 * 0 = 0;     mix = -.25 * (.2 - .425) = .05625
  const result = attributeChange([
    { segment: { region: "A" }, previous: m(50, 100), current: m(90, 150) },
    { segment: { region: "B" }, previous: m(20, 100), current: m(10, 50) },
  ], { method: "ratio", dimensions: ["region"] });
  assert.equal(result.change, 0.15);
  assert.deepEqual(
    result.drivers.map((d) => [
      d.segment.region,
      d.rateEffect,
      d.mixEffect,
      d.contribution,
    ]),
    [["A", 0.0625, 0.03125, 0.09375], ["B", 0, 0.05625, 0.05625]],
  );
  const parts = result.drivers.flatMap((d) => [d.rateEffect!, d.mixEffect!]);
  assert.equal(decimalSum(parts), result.change);
  assert.equal(result.unexplained, 0);
});

Deno.test("attributeChange() keeps rate and mix exact on awkward ratios", () => {
  const cells = Array.from({ length: 7 }, (_, i) => ({
    segment: { s: `s${i}` },
    previous: m(10 + i * 3.3, 7 + i),
    current: m(11 + i * 2.9, 9 + (i % 3)),
  }));
  const result = attributeChange(cells, {
    method: "ratio",
    dimensions: ["s"],
    top: 7,
    minPct: 0,
  });
  const parts = result.drivers.flatMap((d) => [d.rateEffect!, d.mixEffect!]);
  assert.equal(decimalSum(parts), result.change);
  assert.equal(
    decimalSum(result.drivers.map((d) => d.contribution)),
    result.change,
  );
  const r0 = cells.reduce((a, c) => a + c.previous.numerator, 0) /
    cells.reduce((a, c) => a + c.previous.denominator, 0);
  const r1 = cells.reduce((a, c) => a + c.current.numerator, 0) /
    cells.reduce((a, c) => a + c.current.denominator, 0);
  assert.ok(Math.abs(result.change! - (r1 - r0)) < 1e-11);
});

Deno.test("additive contributions add up to the change to the cent over many cents", async () => {
  const rows = Array.from({ length: 5000 }, (_, i) => ({
    day: i % 2 === 0 ? "2024-10-15" : "2024-11-15",
    amount: Number(((i * 7919) % 100000 / 100).toFixed(2)) + 0.01,
    region: ["EU", "US", "APAC", "LATAM", "AFR"][i % 5] ?? null,
  }));
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.amount",
      aggregation: "sum",
      timeColumn: "day",
      dimensions: ["region"],
    }],
    dataframes: { orders: rows },
  });
  const why = await engine.drivers("revenue", "2024-11", {
    compare: "MoM",
    top: 10,
  });
  const cents = (day: string) =>
    rows.filter((r) => r.day === day).reduce(
      (a, r) => a + Math.round(r.amount * 100),
      0,
    );
  assert.equal(
    Math.round(why.change! * 100),
    cents("2024-11-15") - cents("2024-10-15"),
  );
  assert.equal(why.drivers.length, 5);
  assert.equal(decimalSum(why.drivers.map((d) => d.contribution)), why.change);
  assert.equal(why.unexplained, 0);
  const [result] = await engine.run("2024-11");
  assert.equal(why.value, result?.value);
});

Deno.test("a segment that appears or vanishes between periods is all change (and all mix for ratios)", () => {
  const additive = attributeChange([
    { segment: { r: "old" }, previous: m(30), current: null },
    { segment: { r: "new" }, previous: null, current: m(50) },
    { segment: { r: "same" }, previous: m(20), current: m(20) },
  ], { method: "additive", dimensions: ["r"] });
  assert.equal(additive.change, 20);
  assert.deepEqual(
    additive.drivers.map((d) => [d.segment.r, d.contribution, d.previousValue]),
    [["new", 50, 0], ["old", -30, 30]],
  );
  const ratio = attributeChange([
    { segment: { r: "old" }, previous: m(5, 10), current: null },
    { segment: { r: "kept" }, previous: m(2, 10), current: m(2, 10) },
    { segment: { r: "new" }, previous: null, current: m(8, 10) },
  ], { method: "ratio", dimensions: ["r"] });
  assert.equal(ratio.change, 0.15);
  for (const driver of ratio.drivers) {
    assert.equal(driver.rateEffect, 0, `${driver.segment.r} is all mix`);
  }
  assert.equal(decimalSum(ratio.drivers.map((d) => d.contribution)), 0.15);
});

Deno.test("assembleBreakdown() keeps NULL as its own segment, applies the cap and folds the rest into other that adds up", () => {
  const segments = Array.from({ length: 30 }, (_, i) => ({
    segment: { city: i === 29 ? null : `c${String(i).padStart(2, "0")}` },
    current: m(100 - i + 0.1),
    previous: { MoM: m(50 + 0.2) },
  }));
  const previousPeriod = {
    label: "2024-10",
    start: "2024-10-01",
    end: "2024-11-01",
    timezone: "UTC",
  };
  const breakdown = assembleBreakdown("city", segments, {
    method: "additive",
    top: 5,
    cap: 20,
    comparisons: { MoM: previousPeriod },
  });
  assert.deepEqual(breakdown.cut, { limit: 20, segments: 30, cut: 10 });
  assert.equal(breakdown.rows.length, 6);
  const other = breakdown.rows[5]!;
  assert.equal(other.other, 25);
  assert.equal(other.segment.city, "(other)");
  const total = decimalSum(segments.map((s) => s.current.value!));
  assert.equal(decimalSum(breakdown.rows.map((r) => r.value!)), total);
  assert.equal(
    other.comparisons.MoM?.previousValue,
    decimalSum(Array(25).fill(50.2)),
  );
  assert.equal(
    decimalSum(breakdown.rows.map((r) => r.share!)) > 0.999999,
    true,
  );
  const all = assembleBreakdown("city", segments, {
    method: "additive",
    top: 50,
  });
  assert.deepEqual(all.rows.at(-1)?.segment, { city: null });
});

Deno.test("drivers rank slices of several dimensions together and say what is left unexplained", async () => {
  const rows: Record<string, unknown>[] = [];
  const regions = ["EU", "US", "APAC"];
  const channels = ["web", "ads"];
  for (const day of ["2024-10-10", "2024-11-10"]) {
    for (const region of regions) {
      for (const channel of channels) {
        let amount = 100;
        if (day === "2024-11-10" && region === "EU") amount = 40;
        if (day === "2024-11-10" && region === "US" && channel === "ads") {
          amount = 90;
        }
        rows.push({ day, region, channel, amount });
      }
    }
  }
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.amount",
      aggregation: "sum",
      timeColumn: "day",
      dimensions: ["region", "channel"],
      compare: ["MoM"],
    }],
    dataframes: { orders: rows },
  });
  const why = await engine.drivers("revenue", "2024-11");
  assert.equal(why.compare, "MoM");
  assert.equal(why.change, -130);
  assert.deepEqual(why.drivers[0]?.segment, { region: "EU" });
  assert.equal(why.drivers[0]?.contribution, -120);
  assert.equal(why.drivers[0]?.contributionPct, cleanPct(120 / 130));
  // channel=web (-60) is all inside EU: it adds nothing and is skipped.
  assert.ok(!why.drivers.some((d) => d.segment.channel === "web"));
  assert.deepEqual(why.drivers[1]?.segment, { region: "US" });
  assert.equal(why.unexplained, 0);
  const top1 = await engine.drivers("revenue", "2024-11", { top: 1 });
  assert.equal(top1.unexplained, -10);
  assert.equal(top1.unexplainedPct, cleanPct(10 / 130));
});

function cleanPct(x: number): number {
  return Number((x * 100).toPrecision(15));
}

const ordersRows = [
  { day: "2024-10-03", amount: 10, region: "EU", seen: "2024-10-03" },
  { day: "2024-11-03", amount: 20, region: "US", seen: "2024-11-03" },
];

Deno.test("non-additive KPIs get a note instead of drivers, and derived KPIs say when their inputs disagree", async () => {
  const engine = new KPIEngine({
    kpis: [
      {
        name: "revenue",
        source: "dataframe",
        query: "orders.amount",
        aggregation: "sum",
        timeColumn: "day",
        dimensions: ["region", "day"],
      },
      {
        name: "orders",
        source: "dataframe",
        query: "orders.amount",
        aggregation: "count",
        timeColumn: "day",
        dimensions: ["region"],
      },
      { name: "aov", source: "derived", expression: "revenue / orders" },
      {
        name: "squared",
        source: "derived",
        expression: "revenue * revenue",
      },
      {
        name: "flat",
        source: "dataframe",
        query: "orders.amount",
        aggregation: "sum",
        timeColumn: "day",
      },
    ],
    dataframes: { orders: ordersRows },
  });
  assert.deepEqual(engine.dimensions("aov"), ["region"]);
  const squared = await engine.drivers("squared", "2024-11");
  assert.equal(squared.drivers.length, 0);
  assert.equal(squared.change, null);
  assert.match(squared.note ?? "", /Attribution is not defined/);
  const flat = await engine.drivers("flat", "2024-11");
  assert.match(flat.note ?? "", /has no dimensions/);
  const byDay = await engine.breakdown("aov", "2024-11", { by: "day" });
  assert.match(
    byDay.error ?? "",
    /cannot be broken down by "day": its inputs have different dimensions \(revenue: region, day; orders: region\)/,
  );
  const aov = await engine.drivers("aov", "2024-11");
  assert.equal(aov.method, "ratio");
  assert.equal(aov.change, 10);
});

Deno.test("a mistyped dimension gets the one it was likely meant to be", async () => {
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.amount",
      aggregation: "sum",
      timeColumn: "day",
      dimensions: ["region"],
    }],
    dataframes: { orders: ordersRows },
  });
  const typo = await engine.breakdown("revenue", "2024-11", { by: "regoin" });
  assert.equal(
    typo.error,
    'KPI "revenue" cannot be broken down by "regoin": did you mean "region"? (its dimensions are region)',
  );
  const other = await engine.breakdown("revenue", "2024-11", { by: "device" });
  assert.equal(
    other.error,
    'KPI "revenue" cannot be broken down by "device": its dimensions are region',
  );
  const drivers = await engine.drivers("revenue", "2024-11", { by: "regoin" });
  assert.match(drivers.note ?? drivers.error ?? "", /did you mean "region"\?/);
});

Deno.test("configuration: dimensions are checked with file and line", () => {
  const bad = (yaml: string) => {
    try {
      parseKpis(yaml, { file: "kpis.yaml" });
    } catch (error) {
      assert.ok(error instanceof KPIConfigError);
      return error.message;
    }
    assert.fail("expected a KPIConfigError");
  };
  const derived = bad(`kpis:
  - name: a
    source: dataframe
    query: t.x
    aggregation: sum
  - name: b
    source: derived
    expression: a * 2
    dimensions: [region]
`);
  assert.match(derived, /Key "dimensions" does not apply to a derived KPI/);
  assert.match(derived, /kpis\.yaml:9:5/);
  const last = bad(`kpis:
  - name: a
    source: dataframe
    query: t.x
    aggregation: last
    dimensions: [region, region, "bad name"]
`);
  assert.match(last, /Dimensions do not apply to aggregation "last"/);
  assert.match(last, /Dimension "region" is listed twice/);
  assert.match(last, /Invalid dimension "bad name"/);
  const template = bad(`connection: "sqlite::memory:"
kpis:
  - name: a
    source: sql
    query: SELECT region, SUM(x) FROM t GROUP BY region
    dimensions: [region]
`);
  assert.match(template, /set "aggregation" to sum or count/);
});

Deno.test("a SQL template with dimensions returns one row per segment; a wrong shape is a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "shop.db");
    const db = new DatabaseSync(path);
    db.exec(
      "CREATE TABLE orders (day TEXT, region TEXT, amount REAL); " +
        "INSERT INTO orders VALUES ('2024-10-02','EU',10.5),('2024-11-02','EU',4.25),('2024-11-03','US',7),('2024-11-04',NULL,1)",
    );
    db.close();
    const kpis: KPIDefinition[] = [{
      name: "revenue",
      source: "sql",
      aggregation: "sum",
      dimensions: ["region"],
      compare: ["MoM"],
      query:
        "SELECT region, SUM(amount) FROM orders WHERE day >= {{ period_start }} AND day < {{ period_end }} GROUP BY region",
    }, {
      name: "broken",
      source: "sql",
      aggregation: "sum",
      dimensions: ["region"],
      query:
        "SELECT SUM(amount) FROM orders WHERE day >= {{ period_start }} AND day < {{ period_end }}",
    }];
    const sql = await openSqlClient(`sqlite:${path}`);
    const engine = new KPIEngine({ kpis, sql });
    try {
      const [revenue, broken] = await engine.run("2024-11");
      assert.equal(revenue?.value, 12.25);
      assert.equal(revenue?.comparisons.MoM?.previousValue, 10.5);
      assert.match(
        broken?.error ?? "",
        /returned rows of 1 columns; with dimensions \[region\] it must return 2 columns/,
      );
      const breakdown = await engine.breakdown("revenue", "2024-11", {
        by: "region",
      });
      assert.deepEqual(
        breakdown.dimensions[0]?.rows.map((r) => [r.segment.region, r.value]),
        [["US", 7], ["EU", 4.25], [null, 1]],
      );
      const why = await engine.drivers("revenue", "2024-11");
      assert.equal(why.change, 1.75);
      assert.deepEqual(why.drivers[0]?.segment, { region: "US" });
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
