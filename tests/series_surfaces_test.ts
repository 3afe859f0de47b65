import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { KPIEngine } from "../mod.ts";
import { createApp } from "../src/server/create_app.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** One order a day from 2024-01-01 to 2024-06-30, amount = day of month. */
const ORDERS = (() => {
  const rows: { day: string; amount: number }[] = [];
  for (
    let d = Temporal.PlainDate.from("2024-01-01");
    Temporal.PlainDate.compare(d, Temporal.PlainDate.from("2024-07-01")) < 0;
    d = d.add({ days: 1 })
  ) rows.push({ day: d.toString(), amount: d.day });
  return rows;
})();

function monthSum(month: string): number {
  return ORDERS.filter((o) => o.day.startsWith(month)).reduce(
    (s, o) => s + o.amount,
    0,
  );
}

async function cli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("cli.ts series prints a table with a sparkline, JSON, CSV and Markdown", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_series_cli_" });
  try {
    const db = new DatabaseSync(join(dir, "shop.db"));
    db.exec("CREATE TABLE orders (order_date TEXT, amount REAL)");
    const insert = db.prepare("INSERT INTO orders VALUES (?, ?)");
    db.exec("BEGIN");
    for (const o of ORDERS) insert.run(o.day, o.amount);
    db.exec("COMMIT");
    db.close();
    const config = join(dir, "kpis.yaml");
    await Deno.writeTextFile(
      config,
      `connection: sqlite:./shop.db
kpis:
  - name: revenue
    label: Revenue
    source: sql
    table: orders
    column: amount
    aggregation: sum
    time_column: order_date
    unit: USD
    compare: [MoM]
`,
    );
    const base = [
      "series",
      "--config",
      config,
      "--kpi",
      "revenue",
      "--grain",
      "month",
      "--last",
      "4",
      "--as-of",
      "2024-06-15",
    ];
    const table = await cli(base);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Revenue by month {2}[▁▂▃▄▅▆▇█]{4}\n/);
    assert.match(
      table.stdout,
      /2024-03 +496 USD +▲ \+14\.0%\n2024-04 +465 USD/,
    );
    assert.match(table.stdout, /2024-06-01\.\.2024-06-15 .* partial/);

    const json = await cli([...base, "--format", "json"]);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.grain, "month");
    assert.deepEqual(
      parsed.points.revenue.map((p: { value: number }) => p.value),
      [monthSum("2024-03"), monthSum("2024-04"), monthSum("2024-05"), 120],
    );
    assert.equal(parsed.points.revenue[3].partial, true);

    const csv = parseCsv(
      (await cli([...base, "--format", "csv"])).stdout,
      { columns: true },
    ) as Record<string, string>[];
    assert.equal(csv.length, 4);
    assert.equal(csv[1]?.["period_start"], "2024-04-01");
    assert.equal(Number(csv[1]?.["MoM_previous"]), monthSum("2024-03"));

    const markdown = await cli([...base, "--format", "markdown"]);
    assert.match(markdown.stdout, /\| 2024-05 \| 496 USD \|/);

    const explain = await cli([...base, "--explain"]);
    assert.match(explain.stdout, /-- Query 1 of 1: series, table "orders"/);

    const bad = await cli([...base.slice(0, 5), "--grain", "fortnight"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Invalid grain "fortnight"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET /kpis/{name}/series names the parameter at fault: a bad `to` is `to`, a missing grain is missing", async () => {
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.amount",
      aggregation: "sum",
    }],
    dataframes: { orders: ORDERS },
    now: () => Temporal.Instant.from("2024-06-15T12:00:00Z"),
  });
  const app = createApp({ engine, cache: false });
  const issuesOf = async (url: string) => {
    const res = await app.request(url);
    assert.equal(res.status, 400, url);
    return (await res.json()) as {
      error: string;
      issues: { path: string[]; message: string }[];
    };
  };
  const badTo = await issuesOf("/kpis/revenue/series?grain=month&to=bogus");
  assert.deepEqual(badTo.issues.map((i) => i.path), [["to"]]);
  assert.match(badTo.error, /"to".*"bogus"/);
  const badFrom = await issuesOf(
    "/kpis/revenue/series?grain=month&from=bogus&to=2024-05",
  );
  assert.deepEqual(badFrom.issues.map((i) => i.path), [["from"]]);
  const both = await issuesOf(
    "/kpis/revenue/series?grain=month&from=nope&to=bogus",
  );
  assert.deepEqual(both.issues.map((i) => i.path), [["from"], ["to"]]);
  const noGrain = await issuesOf("/kpis/revenue/series?last=3");
  assert.deepEqual(noGrain.issues.map((i) => i.path), [["grain"]]);
  assert.doesNotMatch(noGrain.error, /undefined/);
  assert.match(noGrain.error, /missing.*day, week, month, quarter, year/i);
});

Deno.test("GET /kpis/{name}/series answers the points, 400 for a bad grain, 404 for an unknown KPI, and is in the OpenAPI document", async () => {
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.amount",
      aggregation: "sum",
    }],
    dataframes: { orders: ORDERS },
    now: () => Temporal.Instant.from("2024-06-15T12:00:00Z"),
  });
  const app = createApp({ engine, cache: false });
  const ok = await app.request("/kpis/revenue/series?grain=month&last=3");
  assert.equal(ok.status, 200);
  const body = await ok.json();
  assert.equal(body.name, "revenue");
  assert.equal(body.grain, "month");
  assert.deepEqual(
    body.points.map((p: { periodStart: string }) => p.periodStart),
    ["2024-04-01", "2024-05-01", "2024-06-01"],
  );
  assert.equal(body.points[0].value, monthSum("2024-04"));

  const range = await app.request(
    "/kpis/revenue/series?grain=quarter&from=2024-01&to=2024-05",
  );
  assert.equal(
    (await range.json()).points[0].value,
    monthSum("2024-01") + monthSum("2024-02") + monthSum("2024-03"),
  );

  const badGrain = await app.request("/kpis/revenue/series?grain=hour");
  assert.equal(badGrain.status, 400);
  assert.match((await badGrain.json()).error, /grain/);
  const badSpan = await app.request(
    "/kpis/revenue/series?grain=month&from=2024-01&last=2",
  );
  assert.equal(badSpan.status, 400);
  const badPeriod = await app.request(
    "/kpis/revenue/series?grain=month&to=next_month",
  );
  assert.equal(badPeriod.status, 400);
  assert.match((await badPeriod.json()).error, /next_month/);
  assert.equal(
    (await app.request("/kpis/nope/series?grain=month")).status,
    404,
  );
  const doc = await (await app.request("/openapi.json")).json();
  assert.ok(doc.paths["/kpis/{name}/series"]?.get);
  assert.ok(doc.components.schemas.SeriesPoint);
});
