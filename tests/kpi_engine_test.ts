import assert from "node:assert/strict";
import { KPIConfigError, KPIEngine } from "../mod.ts";
import type {
  AlertBatch,
  AlertNotifier,
  HistoryStore,
  KPIDefinition,
  KPIResult,
} from "../mod.ts";

const ORDERS = {
  revenue: [1000, 2000, 3000, 500, 400, 2500],
  users: [10, 20, 30, 0, 0, 5],
  order_date: [
    "2024-11-01",
    "2024-11-15",
    "2024-11-28",
    "2024-10-03",
    "2024-10-30",
    "2023-11-11",
  ],
};

Deno.test("KPIEngine runs the reference quick start written in TypeScript", async () => {
  const kpis: KPIDefinition[] = [{
    name: "revenue",
    label: "Monthly Revenue",
    source: "dataframe",
    aggregation: "sum",
    unit: "USD",
    query: "orders.revenue",
    compare: ["MoM"],
    alerts: [{ condition: "< 1000", severity: "warning" }],
  }];
  const engine = new KPIEngine({ kpis, dataframes: { orders: ORDERS } });
  const results = await engine.run("2024-11");
  assert.equal(results.length, 1);
  const [revenue] = results;
  assert.ok(revenue);
  assert.equal(revenue.name, "revenue");
  assert.equal(revenue.label, "Monthly Revenue");
  assert.equal(revenue.unit, "USD");
  assert.equal(revenue.value, 6000);
  assert.equal(revenue.periodStart, "2024-11-01");
  assert.equal(revenue.periodEnd, "2024-12-01");
  assert.deepEqual(revenue.comparisons.MoM, {
    previousValue: 900,
    change: 5100,
    changePct: Number((5100 / 900 * 100).toPrecision(15)),
    periodStart: "2024-10-01",
    periodEnd: "2024-11-01",
    favorable: true,
  });
  assert.equal(revenue.momChangePct, revenue.comparisons.MoM?.changePct);
  assert.equal(revenue.yoyChangePct, null);
  assert.equal(revenue.alertStatus, "ok");
  assert.deepEqual(revenue.alertsTriggered, []);
  assert.equal(revenue.error, null);
  assert.equal(typeof revenue.queryDurationMs, "number");
});

Deno.test("KPIEngine computes derived KPIs for the period and each comparison base", async () => {
  const engine = new KPIEngine({
    kpis: [
      {
        name: "revenue",
        source: "dataframe",
        query: "orders.revenue",
        aggregation: "sum",
      },
      {
        name: "users",
        source: "dataframe",
        query: "orders.users",
        aggregation: "sum",
      },
      {
        name: "arpu",
        source: "derived",
        expression: "revenue / users",
        compare: ["YoY", "MoM"],
      },
    ],
    dataframes: { orders: ORDERS },
  });
  const [arpu] = await engine.run("2024-11", { kpis: ["arpu"] });
  assert.ok(arpu);
  assert.equal(arpu.value, 100);
  assert.equal(arpu.comparisons.YoY?.previousValue, 500);
  assert.equal(arpu.comparisons.YoY?.changePct, -80);
  assert.equal(arpu.comparisons.YoY?.favorable, false);
  // October has revenue but no users: division by zero gives null, with a reason.
  assert.equal(arpu.comparisons.MoM?.previousValue, null);
  assert.equal(arpu.comparisons.MoM?.changePct, null);
  const [october] = await engine.run("2024-10", { kpis: ["arpu"] });
  assert.equal(october?.value, null);
  assert.equal(october?.error, null);
  assert.match(october?.note ?? "", /division by zero/);
});

Deno.test("KPIEngine gives a failing KPI an error result and still computes the others", async () => {
  const engine = new KPIEngine({
    kpis: [
      {
        name: "broken",
        source: "dataframe",
        query: "missing.revenue",
        aggregation: "sum",
      },
      {
        name: "revenue",
        source: "dataframe",
        query: "orders.revenue",
        aggregation: "sum",
      },
      { name: "double_broken", source: "derived", expression: "broken * 2" },
      { name: "sales", source: "sql", query: "SELECT 1" },
    ],
    dataframes: { orders: ORDERS },
  });
  const results = await engine.run("2024-11");
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  assert.equal(byName.revenue?.value, 6000);
  assert.equal(byName.revenue?.error, null);
  assert.equal(byName.broken?.value, null);
  assert.equal(byName.broken?.alertStatus, "error");
  assert.match(byName.broken?.error ?? "", /Unknown table "missing"/);
  assert.match(
    byName.double_broken?.error ?? "",
    /Depends on "broken", which failed/,
  );
  assert.match(byName.sales?.error ?? "", /No database connection/);
});

Deno.test("KPIEngine raises alerts with or without a space after the operator, != too", async () => {
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.revenue",
      aggregation: "sum",
      compare: ["MoM"],
      alerts: [
        { condition: ">5000", severity: "warning", message: "Above 5000" },
        { condition: "!= 6000", severity: "critical", message: "Not 6000" },
        { condition: "== 6000", severity: "info", message: "Exactly 6000" },
        {
          condition: "MoM > 500%",
          severity: "critical",
          message: "Grew a lot",
        },
      ],
    }],
    dataframes: { orders: ORDERS },
  });
  const [revenue] = await engine.run("2024-11");
  assert.deepEqual(
    revenue?.alertsTriggered.map((a) => [a.condition, a.severity, a.message]),
    [
      [">5000", "warning", "Above 5000"],
      ["== 6000", "info", "Exactly 6000"],
      ["MoM > 500%", "critical", "Grew a lot"],
    ],
  );
  assert.equal(revenue?.alertStatus, "critical");
});

Deno.test("KPIEngine marks changes favorable by polarity", async () => {
  const engine = new KPIEngine({
    kpis: [{
      name: "refunds",
      source: "dataframe",
      query: "orders.revenue",
      aggregation: "sum",
      polarity: "lower_is_better",
      compare: ["MoM"],
    }],
    dataframes: { orders: ORDERS },
  });
  const [refunds] = await engine.run("2024-11");
  assert.equal(refunds?.comparisons.MoM?.favorable, false);
});

Deno.test("KPIEngine resolves relative periods against the injected clock and time zone", async () => {
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.revenue",
      aggregation: "sum",
    }],
    dataframes: { orders: ORDERS },
    timezone: "Pacific/Auckland",
    now: () => Temporal.Instant.from("2024-11-30T12:00:00Z"),
  });
  // 12:00 UTC on Nov 30 is already Dec 1 in Auckland.
  const report = await engine.report("last_month");
  assert.deepEqual(report.period, {
    label: "last_month",
    start: "2024-11-01",
    end: "2024-12-01",
  });
  assert.equal(report.results[0]?.value, 6000);
});

Deno.test("KPIEngine rejects invalid definitions, an unknown KPI and a bad period", async () => {
  assert.throws(
    () =>
      new KPIEngine({
        kpis: [
          { name: "a", source: "derived", expression: "b + 1" },
          { name: "b", source: "derived", expression: "a + 1" },
        ],
      }),
    (error: unknown) =>
      error instanceof KPIConfigError && /a → b → a/.test(error.message),
  );
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.revenue",
      aggregation: "sum",
    }],
    dataframes: { orders: ORDERS },
  });
  await assert.rejects(
    engine.runKpi("nope", "2024-11"),
    /Unknown KPI "nope": expected one of revenue/,
  );
  await assert.rejects(engine.run("last_fortnight"), RangeError);
  assert.deepEqual(await engine.history("revenue", 5), []);
});

Deno.test("KPIEngine runs 1,000 derived KPIs over a few base KPIs", async () => {
  const kpis: KPIDefinition[] = [
    {
      name: "revenue",
      source: "dataframe",
      query: "orders.revenue",
      aggregation: "sum",
    },
    {
      name: "users",
      source: "dataframe",
      query: "orders.users",
      aggregation: "sum",
    },
  ];
  for (let i = 0; i < 1000; i++) {
    kpis.push({
      name: `d${i}`,
      source: "derived",
      expression: `round(revenue / users * ${i + 1}, 2) + min(revenue, ${i})`,
      compare: ["MoM"],
    });
  }
  const engine = new KPIEngine({ kpis, dataframes: { orders: ORDERS } });
  const results = await engine.run("2024-11");
  assert.equal(results.length, 1002);
  assert.equal(results.find((r) => r.name === "d9")?.value, 100 * 10 + 9);
});

Deno.test("KPIEngine results always carry note: null when there is nothing to say, in TypeScript and JSON", async () => {
  const engine = new KPIEngine({
    kpis: [
      {
        name: "revenue",
        source: "dataframe",
        query: "orders.revenue",
        aggregation: "sum",
      },
      {
        name: "basket",
        source: "dataframe",
        query: "orders.revenue",
        aggregation: "avg",
      },
      { name: "broken", source: "derived", expression: "revenue / 0" },
    ],
    dataframes: {
      orders: [{ date: "2024-11-05", revenue: 10, users: 1 }],
    },
  });
  const [revenue, basket, broken] = await engine.run("2024-11");
  assert.ok(revenue && basket && broken);
  assert.ok(Object.hasOwn(revenue, "note"));
  assert.equal(revenue.note, null);
  assert.equal(basket.note, null);
  assert.match(broken.note ?? "", /division by zero/);
  assert.equal(JSON.parse(JSON.stringify(revenue)).note, null);
});

Deno.test("new KPIEngine() refuses a now that is not a clock with a TypeError that shows how to write one", () => {
  const kpis = [{
    name: "revenue",
    source: "dataframe" as const,
    query: "orders.revenue",
    aggregation: "sum" as const,
  }];
  for (const now of ["2024-12-01", new Date(), 5]) {
    assert.throws(
      () => new KPIEngine({ kpis, now: now as never }),
      (error: unknown) =>
        error instanceof TypeError &&
        /^Invalid now .*expected a function returning a Temporal\.Instant, e\.g\. \(\) => Temporal\.Instant\.from\(/
          .test(error.message),
    );
  }
  const fixed = new KPIEngine({
    kpis,
    now: () => Temporal.Instant.from("2024-12-15T12:00:00Z"),
  });
  assert.equal(fixed.resolvePeriod("last_month").start, "2024-11-01");
});

Deno.test("run() puts the notifier's deliveries on new results before history is written, and leaves the batch as it was", async () => {
  const recorded: KPIResult[] = [];
  const history: HistoryStore = {
    append: (records) => {
      recorded.push(...records.map((r) => r.result));
      return Promise.resolve();
    },
    history: () => Promise.resolve([]),
    close: () => Promise.resolve(),
  };
  const batches: AlertBatch[] = [];
  const delivery = {
    channel: "ops",
    ok: true,
    status: 200,
    attempts: 1,
    error: null,
  };
  const notifier: AlertNotifier = {
    notify: (batch) => {
      batches.push(batch);
      return Promise.resolve([{
        kpi: "revenue",
        ruleId: "warning:< 1000",
        deliveries: [delivery],
      }]);
    },
  };
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.amount",
      aggregation: "sum",
      alerts: [
        { condition: "< 1000", severity: "warning" },
        { condition: "< 5000", severity: "info" },
        { condition: "> 1000000", severity: "critical" },
      ],
    }, {
      name: "orders",
      source: "dataframe",
      query: "orders.*",
      aggregation: "count",
    }],
    dataframes: { orders: [{ amount: 500, at: "2024-11-02" }] },
    history,
    notifier,
  });
  const [revenue, orders] = await engine.run("2024-11");
  assert.deepEqual(
    revenue?.alertsTriggered.map((a) => [a.severity, a.deliveries]),
    [["warning", [delivery]], ["info", undefined]],
  );
  assert.equal(revenue?.alertStatus, "warning");
  assert.deepEqual(recorded[0]?.alertsTriggered, revenue?.alertsTriggered);
  assert.equal(orders?.value, 1);
  const handed = batches[0]?.items[0]?.result;
  assert.notEqual(handed, revenue, "the engine built a new result");
  assert.equal(handed?.alertsTriggered[0]?.deliveries, undefined);
});
