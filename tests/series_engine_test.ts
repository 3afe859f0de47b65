import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { KPIEngine, parseKpis } from "../mod.ts";
import type { KPIDefinition, Period } from "../mod.ts";
import { openSqlClient } from "../src/adapters/sql/open_sql_client.ts";
import { counting } from "./_sql_backend_suite.ts";

const NOW = Temporal.Instant.from("2024-03-20T12:00:00Z");

/** Two orders a day from 2023-12-01 to 2024-03-20, shuffled. */
const ORDERS = (() => {
  const rows: { day: string; amount: number; customer: number }[] = [];
  const first = Temporal.PlainDate.from("2023-12-01");
  for (let d = 0; d < 111; d++) {
    const day = first.add({ days: d }).toString();
    rows.push({ day, amount: (d * 7) % 50 + 1, customer: d % 9 });
    rows.push({ day, amount: (d * 11) % 30 + 0.5, customer: (d * 5) % 13 });
  }
  // A fixed shuffle, so the rows are not in time order.
  for (let i = rows.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return rows;
})();

function within(start: string, end: string) {
  return ORDERS.filter((o) => o.day >= start && o.day < end);
}

function minusDays(day: string, n: number): string {
  return Temporal.PlainDate.from(day).subtract({ days: n }).toString();
}

function near(actual: number | null | undefined, wanted: number, what: string) {
  assert.ok(
    actual !== null && actual !== undefined &&
      Math.abs(actual - wanted) <= 1e-9 * Math.max(1, Math.abs(wanted)),
    `${what}: ${actual} is not ${wanted}`,
  );
}

const WINDOWED: KPIDefinition[] = [
  {
    name: "revenue_28d",
    source: "dataframe",
    query: "orders.amount",
    aggregation: "sum",
    window: "28d",
  },
  {
    name: "basket_7d",
    source: "dataframe",
    query: "orders.amount",
    aggregation: "avg",
    window: "7d",
  },
  {
    name: "orders_mtd",
    source: "dataframe",
    query: "orders.amount",
    aggregation: "count",
    window: "mtd",
  },
];

Deno.test("rolling windows: each daily point is the aggregate over the trailing window, as summed here independently", async () => {
  const engine = new KPIEngine({
    kpis: WINDOWED,
    dataframes: { orders: ORDERS },
    now: () => NOW,
  });
  const { points } = await engine.series([], {
    grain: "day",
    from: "2024-02-01",
    to: "2024-03-10",
  });
  assert.equal(points["revenue_28d"]?.length, 39);
  for (const [i, point] of points["revenue_28d"]!.entries()) {
    const end = point.periodEnd;
    const sum = within(minusDays(end, 28), end).reduce(
      (s, o) => s + o.amount,
      0,
    );
    near(point.value, sum, `revenue_28d ${point.periodStart}`);
    const week = within(minusDays(end, 7), end);
    near(
      points["basket_7d"]![i]!.value,
      week.reduce((s, o) => s + o.amount, 0) / week.length,
      `basket_7d ${point.periodStart}`,
    );
    const monthStart = `${point.periodStart.slice(0, 7)}-01`;
    near(
      points["orders_mtd"]![i]!.value,
      within(monthStart, end).length,
      `orders_mtd ${point.periodStart}`,
    );
  }
  // A single run of a windowed KPI is the same window.
  const single = await engine.runKpi("revenue_28d", "2024-02-20");
  near(
    single.value,
    within("2024-01-24", "2024-02-21").reduce((s, o) => s + o.amount, 0),
    "runKpi revenue_28d",
  );
});

Deno.test("rolling windows on SQLite: additive KPIs roll up from one grouped query, a distinct-count template runs per window", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_window_" });
  const path = join(dir, "shop.db");
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE orders (day TEXT, amount REAL, customer INTEGER)");
  const insert = db.prepare("INSERT INTO orders VALUES (?, ?, ?)");
  db.exec("BEGIN");
  for (const o of ORDERS) insert.run(o.day, o.amount, o.customer);
  db.exec("COMMIT");
  db.close();
  const counter = counting(await openSqlClient(`sqlite:${path}`));
  try {
    const engine = new KPIEngine({
      kpis: [
        {
          name: "revenue_28d",
          source: "sql",
          table: "orders",
          column: "amount",
          aggregation: "sum",
          timeColumn: "day",
          window: "28d",
          compare: ["WoW"],
        },
        {
          name: "basket_7d",
          source: "sql",
          table: "orders",
          column: "amount",
          aggregation: "avg",
          timeColumn: "day",
          window: "7d",
        },
        {
          name: "customers_7d",
          source: "sql",
          query:
            "SELECT COUNT(DISTINCT customer) FROM orders WHERE day >= {{ period_start }} AND day < {{ period_end }}",
          window: "7d",
        },
      ],
      sql: counter.client,
      now: () => NOW,
    });
    const { points } = await engine.series([], {
      grain: "day",
      from: "2024-02-01",
      to: "2024-02-29",
    });
    assert.equal(counter.sent.length, 2, counter.sent.join("\n---\n"));
    for (const [i, point] of points["revenue_28d"]!.entries()) {
      const end = point.periodEnd;
      near(
        point.value,
        within(minusDays(end, 28), end).reduce((s, o) => s + o.amount, 0),
        `revenue_28d ${point.periodStart}`,
      );
      const previousEnd = minusDays(end, 7);
      near(
        point.comparisons?.WoW?.previousValue,
        within(minusDays(previousEnd, 28), previousEnd).reduce(
          (s, o) => s + o.amount,
          0,
        ),
        `revenue_28d WoW ${point.periodStart}`,
      );
      const week = within(minusDays(end, 7), end);
      near(
        points["basket_7d"]![i]!.value,
        week.reduce((s, o) => s + o.amount, 0) / week.length,
        `basket_7d ${point.periodStart}`,
      );
      near(
        points["customers_7d"]![i]!.value,
        new Set(week.map((o) => o.customer)).size,
        `customers_7d ${point.periodStart}`,
      );
    }
    const plan = engine.explainSeries([], {
      grain: "day",
      from: "2024-02-01",
      to: "2024-02-29",
    });
    assert.match(
      plan,
      /-- Query 1 of 1: series, table "orders"; KPIs: revenue_28d, basket_7d/,
    );
    assert.match(plan, /GROUP BY 1/);
    assert.match(plan, /at most 100 periods per query/);
  } finally {
    await counter.client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("series() on unsorted columns: 111 daily points in one pass equal separate single-day runs", async () => {
  const engine = new KPIEngine({
    kpis: [
      {
        name: "revenue",
        source: "dataframe",
        query: "orders.amount",
        aggregation: "sum",
        compare: ["DoD", "MoM"],
      },
      {
        name: "latest",
        source: "dataframe",
        query: "orders.amount",
        aggregation: "last",
      },
    ],
    dataframes: {
      orders: {
        day: ORDERS.map((o) => o.day),
        amount: Float64Array.from(ORDERS.map((o) => o.amount)),
      },
    },
    now: () => NOW,
  });
  const { points } = await engine.series(["revenue", "latest"], {
    grain: "day",
    from: "2023-12-01",
    to: "2024-03-20",
  });
  assert.equal(points["revenue"]?.length, 111);
  for (const name of ["revenue", "latest"]) {
    for (const point of points[name]!) {
      const period: Period = {
        label: point.periodStart,
        start: point.periodStart,
        end: point.periodEnd,
        timezone: "UTC",
      };
      const single = await engine.runKpi(name, period);
      assert.equal(point.value, single.value, `${name} ${point.periodStart}`);
      if (name === "revenue") {
        assert.deepEqual(point.comparisons, single.comparisons);
      }
    }
  }
  // The last day is today: partial, and equal to a run of "today".
  const today = points["revenue"]!.at(-1)!;
  assert.equal(today.partial, true);
  assert.equal(today.value, (await engine.runKpi("revenue", "today")).value);
});

Deno.test("series() marks the current month partial and compares it like this_month", async () => {
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.amount",
      aggregation: "sum",
      compare: ["MoM"],
    }],
    dataframes: { orders: ORDERS },
    now: () => NOW,
  });
  const { points } = await engine.series("revenue", {
    grain: "month",
    last: 2,
  });
  const [feb, mar] = points["revenue"]!;
  assert.equal(feb!.partial, false);
  assert.equal(mar!.partial, true);
  assert.equal(mar!.periodEnd, "2024-03-21");
  const thisMonth = await engine.runKpi("revenue", "this_month");
  assert.equal(mar!.value, thisMonth.value);
  assert.deepEqual(mar!.comparisons, thisMonth.comparisons);
  assert.equal(mar!.comparisons?.MoM?.periodEnd, "2024-02-21");
});

Deno.test("series() keeps one failing KPI from sinking the others", async () => {
  const engine = new KPIEngine({
    kpis: [
      {
        name: "revenue",
        source: "dataframe",
        query: "orders.amount",
        aggregation: "sum",
      },
      {
        name: "broken",
        source: "dataframe",
        query: "orders.nope",
        aggregation: "sum",
      },
    ],
    dataframes: { orders: ORDERS },
    now: () => NOW,
  });
  const { points } = await engine.series([], { grain: "month", last: 3 });
  assert.ok(points["revenue"]!.every((p) => p.error === undefined));
  assert.ok(
    points["broken"]!.every((p) => /Unknown column "nope"/.test(p.error ?? "")),
  );
  assert.ok(points["broken"]!.every((p) => p.value === null));
});

Deno.test("window is read from YAML and refused on derived KPIs with the field named", () => {
  const config = parseKpis(
    `kpis:
  - name: active
    source: dataframe
    query: events.user
    aggregation: count
    window: 28d
`,
    { file: "kpis.yaml" },
  );
  assert.equal(config.kpis[0]?.window, "28d");
  assert.throws(
    () =>
      parseKpis(
        `kpis:
  - name: active
    source: dataframe
    query: events.user
    aggregation: count
    window: 4w
`,
        { file: "kpis.yaml" },
      ),
    /Invalid window "4w"/,
  );
  assert.throws(
    () =>
      parseKpis(
        `kpis:
  - { name: a, source: dataframe, query: t.x, aggregation: sum }
  - { name: b, source: derived, expression: a * 2, window: 7d }
`,
        { file: "kpis.yaml" },
      ),
    (error: Error) =>
      /window/.test(error.message) && /kpis\.yaml:3:/.test(error.message),
  );
});
