import assert from "node:assert/strict";
import { createApp } from "../src/server/create_app.ts";
import { periodText } from "../src/format/period_text.ts";
import { makeEngine, NOW, openCountingStore } from "./_server_fixture.ts";

Deno.test("periodText() names years, quarters, months, days and ranges", () => {
  assert.equal(periodText("2024-04-01", "2024-07-01"), "Apr–Jun 2024");
  assert.equal(periodText("2024-06-01", "2024-09-01"), "Jun–Aug 2024");
  assert.equal(periodText("2024-02-01", "2024-03-01"), "Feb 2024");
  assert.equal(periodText("2024-01-01", "2025-01-01"), "2024");
  assert.equal(periodText("2024-02-29", "2024-03-01"), "Feb 29, 2024");
  assert.equal(periodText("2024-10-28", "2024-11-04"), "Oct 28 – Nov 3, 2024");
  assert.equal(
    periodText("2023-07-01", "2024-07-01"),
    "Jul 1, 2023 – Jun 30, 2024",
  );
});

Deno.test("GET /dashboard.json answers the whole page at once, numbers as text by the shared formatter", async () => {
  const history = await openCountingStore();
  const engine = makeEngine({ history });
  const app = createApp({ engine, now: () => NOW });
  try {
    for (const period of ["2023-Q4", "2024-Q1", "2024-08", "2024-Q2"]) {
      await engine.report(period);
    }
    const response = await app.request("/dashboard.json?period=2024-Q3");
    assert.equal(response.status, 200);
    const data = await response.json();
    assert.deepEqual(data.period, {
      label: "2024-Q3",
      start: "2024-07-01",
      end: "2024-10-01",
      text: "Jul–Sep 2024",
    });
    assert.deepEqual(
      data.results.map((r: { name: string }) => r.name),
      engine.definitions.map((d) => d.name),
    );
    assert.equal(data.display.revenue.value, "20,200 USD");
    // What "MoM" compares on a quarter, said plainly.
    assert.equal(data.display.revenue.comparisons.MoM.label, "vs Jun–Aug 2024");
    assert.match(data.display.revenue.comparisons.MoM.change, /^[▲▼=] /);
    assert.equal(data.history.kept, true);
    assert.deepEqual(
      data.history.points.revenue.map((p: { periodStart: string }) =>
        p.periodStart
      ),
      ["2023-10-01", "2024-01-01", "2024-04-01", "2024-07-01"],
      "one point per quarter, oldest first: the month run is left out",
    );
    assert.match(data.history.points.revenue[1].text, /^Jan–Mar 2024: .* USD$/);

    const bad = await app.request("/dashboard.json?period=last_fortnight");
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).issues[0].path[0], "period");
  } finally {
    await engine.close();
  }
  const bare = makeEngine();
  try {
    const data = await (await createApp({ engine: bare, now: () => NOW })
      .request("/dashboard.json?period=2024-11")).json();
    assert.equal(data.history.kept, false);
    assert.deepEqual(data.history.points.revenue, []);
  } finally {
    await bare.close();
  }
});
