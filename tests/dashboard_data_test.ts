import assert from "node:assert/strict";
import { createApp, type ServerEngine } from "../src/server/create_app.ts";
import { periodText } from "../src/server/_period_text.ts";
import { formatChange, formatValue } from "../src/format/format_number.ts";
import type { KPIDefinition, KPIResult } from "../src/types.ts";
import type { SeriesOptions } from "../src/series/build_series_points.ts";
import {
  KPIS,
  makeEngine,
  MONTHLY_REVENUE,
  NOW,
  openCountingStore,
} from "./_server_fixture.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/** The fixture's KPIs, revenue with a target for two months. */
const WITH_TARGET: KPIDefinition[] = KPIS.map((k) =>
  k.name === "revenue"
    ? {
      ...k,
      target: { "2024-11": 8000, "2024-12": 7000 },
      pace: { minElapsed: 0.6 },
    }
    : k
);

Deno.test("periodText() names years, quarters, months, days and ranges, without the year being looked at", () => {
  assert.equal(periodText("2024-04-01", "2024-07-01"), "Apr–Jun 2024");
  assert.equal(
    periodText("2024-01-01", "2024-04-01", { currentYear: 2024 }),
    "Jan–Mar",
  );
  assert.equal(
    periodText("2023-06-01", "2023-07-01", { currentYear: 2024 }),
    "Jun 2023",
  );
  assert.equal(periodText("2024-01-01", "2025-01-01"), "2024");
  assert.equal(periodText("2024-02-29", "2024-03-01"), "Feb 29, 2024");
  assert.equal(periodText("2024-10-28", "2024-11-04"), "Oct 28 – Nov 3, 2024");
  assert.equal(
    periodText("2024-12-28", "2025-01-04", { currentYear: 2024 }),
    "Dec 28, 2024 – Jan 3, 2025",
  );
});

Deno.test("GET /dashboard.json answers the whole page at once, numbers written by the shared formatter", async () => {
  const engine = makeEngine({ kpis: WITH_TARGET });
  const app = createApp({ engine, now: () => NOW });
  try {
    const response = await app.request("/dashboard.json?period=2024-11");
    assert.equal(response.status, 200);
    const data: Json = await response.json();
    assert.deepEqual(data.period, {
      label: "2024-11",
      start: "2024-11-01",
      end: "2024-12-01",
      text: "Nov 2024",
    });
    const kpis = await (await app.request("/kpis?period=2024-11")).json();
    const strip = (results: KPIResult[]) =>
      results.map(({ queryDurationMs: _, ...rest }) => rest);
    assert.deepEqual(
      strip(data.results),
      strip(kpis.results),
      "the results of /kpis",
    );
    for (const result of data.results as KPIResult[]) {
      const shown = data.display[result.name];
      assert.equal(shown.value, formatValue(result.value, result.unit));
      for (const [code, c] of Object.entries(result.comparisons)) {
        if (c?.changePct == null) continue;
        assert.equal(shown.comparisons[code].change, formatChange(c.changePct));
      }
    }
    assert.equal(data.display.revenue.value, "7,480 USD");
    // On a month: the month before by name, last year's with its year.
    assert.deepEqual(data.display.revenue.comparisons.MoM, {
      label: "vs Oct",
      change: "▲ +12.5%",
      previous: "6,650 USD",
    });
    assert.equal(data.display.revenue.comparisons.YoY.label, "vs Nov 2023");
    // A closed month against its target: 7,480 of 8,000.
    const target = data.display.revenue.target;
    assert.equal(target.target, "8,000 USD");
    assert.equal(target.attainment, "93.5%");
    assert.equal(target.done, 7480 / 8000);
    assert.equal(target.due, 1);
    assert.equal(target.estimate, false);
    assert.equal(data.display.orders.target, null);

    const quarter: Json = await (await app.request(
      "/dashboard.json?period=2024-Q2",
    )).json();
    assert.equal(quarter.period.text, "Apr–Jun 2024");
    // What "MoM" compares on a quarter, said plainly.
    const mom = quarter.results.find((r: KPIResult) => r.name === "revenue")
      .comparisons.MoM;
    assert.equal(
      quarter.display.revenue.comparisons.MoM.label,
      `vs ${periodText(mom.periodStart, mom.periodEnd, { currentYear: 2024 })}`,
    );
    assert.doesNotMatch(quarter.display.revenue.comparisons.MoM.label, /MoM/);

    // Early in December: the projection is an estimate.
    const running: Json = await (await app.request(
      "/dashboard.json?period=this_month",
    )).json();
    const pace = running.display.revenue.target;
    assert.equal(pace.estimate, true);
    assert.ok(pace.due > 0 && pace.due < 1);
    assert.match(pace.summary, /projected .* \(estimate\)$/);

    const bad = await app.request("/dashboard.json?period=last_fortnight");
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).issues[0].path[0], "period");
  } finally {
    await engine.close();
  }
});

Deno.test("/dashboard.json trends: the viewed grain ending with the viewed period, from history when it holds every point, else computed once", async () => {
  const history = await openCountingStore();
  const engine = makeEngine({ history });
  let seriesCalls: SeriesOptions[] = [];
  const seriesNames: (string | readonly string[])[] = [];
  // The engine as the server sees it, its series calls counted.
  const counting: ServerEngine = {
    config: engine.config,
    definitions: engine.definitions,
    historyStore: engine.historyStore,
    resolvePeriod: (text) => engine.resolvePeriod(text),
    report: (period, options) => engine.report(period, options),
    history: (name, options) => engine.history(name, options),
    series: (names, options) => {
      seriesCalls.push(options);
      seriesNames.push(names);
      return engine.series(names, options);
    },
  };
  const app = createApp({ engine: counting, now: () => NOW });
  try {
    // Twelve months recorded, and two quarters beside them.
    for (let m = 0; m < 12; m++) {
      const month = Temporal.PlainYearMonth.from("2023-12").add({ months: m });
      await engine.report(month.toString());
    }
    await engine.report("2024-Q2");
    await engine.report("2024-Q3");
    const month: Json = await (await app.request(
      "/dashboard.json?period=2024-11",
    )).json();
    assert.equal(month.trend.grain, "month");
    assert.equal(month.trend.kept, true);
    assert.equal(month.trend.source.revenue, "history");
    assert.deepEqual(
      month.trend.points.revenue.map((p: Json) => [p.periodStart, p.value]),
      Object.entries(MONTHLY_REVENUE)
        .filter(([m]) => m >= "2023-12" && m <= "2024-11")
        .map(([m, v]) => [`${m}-01`, v]),
      "twelve months, no quarter among them",
    );
    assert.equal(month.trend.points.revenue[11].text, "Nov 2024: 7,480 USD");
    // active_users (SQL, no database here) failed each run: only it is
    // computed, the others come from history.
    assert.deepEqual(
      Object.entries(month.trend.source).filter(([, s]) => s !== "history"),
      [["active_users", "computed"]],
    );
    assert.deepEqual(seriesNames, [["active_users"]]);

    const quarter: Json = await (await app.request(
      "/dashboard.json?period=2024-Q3",
    )).json();
    assert.equal(quarter.trend.grain, "quarter");
    assert.equal(quarter.trend.source.revenue, "computed");
    const points = quarter.trend.points.revenue;
    assert.equal(points.length, 12);
    assert.equal(points.at(-1).periodStart, "2024-07-01");
    assert.equal(points.at(-1).value, 6100 + 6900 + 7200);
    assert.equal(points.at(-1).text, "Jul–Sep 2024: 20,200 USD");
    assert.deepEqual(
      seriesCalls.slice(1).map((o) => [o.grain, o.to, o.last]),
      [["quarter", "2024-07-01", 12]],
    );
    assert.equal(seriesNames[1]?.length, KPIS.length, "one call for them all");
    // A closed period's computed trend is kept.
    await (await app.request("/dashboard.json?period=2024-Q3")).body?.cancel();
    assert.equal(seriesCalls.length, 2);
    await (await app.request("/dashboard.json?period=2024-Q3&refresh=true"))
      .body?.cancel();
    assert.equal(seriesCalls.length, 3, "refresh recomputes");

    // After the quarter, a month view is months again.
    seriesCalls = [];
    const january: Json = await (await app.request(
      "/dashboard.json?period=2024-01",
    )).json();
    assert.equal(january.trend.grain, "month");
    for (const p of january.trend.points.revenue) {
      assert.equal(
        Temporal.PlainDate.from(p.periodStart).add({ months: 1 }).toString(),
        p.periodEnd,
      );
    }
    assert.equal(january.trend.points.revenue.at(-1).periodStart, "2024-01-01");

    // A range that is no bucket: its days.
    const week: Json = await (await app.request(
      "/dashboard.json?period=2024-11-05..2024-11-11",
    )).json();
    assert.equal(week.trend.grain, "day");
    assert.equal(week.trend.points.revenue.length, 7);
  } finally {
    await engine.close();
  }
  const bare = makeEngine();
  try {
    const data: Json = await (await createApp({ engine: bare, now: () => NOW })
      .request("/dashboard.json?period=2024-11")).json();
    assert.equal(data.trend.kept, false);
    assert.equal(data.trend.source.revenue, "computed");
    assert.equal(data.trend.points.revenue.length, 12);
  } finally {
    await bare.close();
  }
});
