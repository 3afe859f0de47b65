import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { main } from "../src/adapters/runtime/cli/main.ts";
import { createApp } from "../src/server/create_app.ts";
import { openApiDocument } from "../src/server/open_api_document.ts";
import {
  formatChange,
  formatSigned,
  formatValue,
  withUnit,
} from "../src/format/format_number.ts";
import { openEngine } from "../src/adapters/mod.ts";

/** A shop database: EU drops in November, the other regions hold. */
async function withShop(
  fn: (config: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const db = new DatabaseSync(join(dir, "shop.db"));
    db.exec(
      "CREATE TABLE orders (order_date TEXT, region TEXT, channel TEXT, amount REAL)",
    );
    const insert = db.prepare("INSERT INTO orders VALUES (?, ?, ?, ?)");
    for (const month of ["2024-10", "2024-11"]) {
      for (const region of ["EU", "US", "APAC"]) {
        for (const channel of ["web", "ads"]) {
          const amount = month === "2024-11" && region === "EU" ? 25 : 100;
          insert.run(`${month}-10`, region, channel, amount);
        }
      }
    }
    db.close();
    const config = join(dir, "kpis.yaml");
    await Deno.writeTextFile(
      config,
      `connection: sqlite:${join(dir, "shop.db")}
kpis:
  - name: revenue
    label: Revenue
    source: sql
    table: orders
    column: amount
    aggregation: sum
    time_column: order_date
    dimensions: [region, channel]
    unit: USD
    compare: [MoM]
  - name: orders
    source: sql
    table: orders
    column: "*"
    aggregation: count
    time_column: order_date
`,
    );
    await fn(config);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void err.push(t),
      isTerminal: false,
      env: {},
    },
  };
}

Deno.test("cli run --by prints a breakdown under the results, in every format", async () => {
  await withShop(async (config) => {
    const table = capture();
    const code = await main([
      "run",
      "--config",
      config,
      "--period",
      "2024-11",
      "--by",
      "region",
      "--no-history",
    ], table.io);
    assert.equal(code, 0, table.err.join(""));
    const text = table.out.join("");
    assert.match(
      text,
      /Revenue by region \(2024-11-01 to 2024-12-01, total 450 USD\)/,
    );
    assert.match(text, /region=US +200 USD +44\.4% += 0\.0%/);
    assert.match(text, /region=EU +50 USD +11\.1% +▼ -75\.0%/);

    const json = capture();
    await main([
      "run",
      "--config",
      config,
      "--period",
      "2024-11",
      "--by",
      "region,channel",
      "--format",
      "json",
      "--no-history",
    ], json.io);
    const parsed = JSON.parse(json.out.join(""));
    assert.equal(parsed.results.length, 2);
    assert.equal(parsed.breakdowns.length, 1, "only KPIs with the dimensions");
    assert.deepEqual(
      parsed.breakdowns[0].dimensions.map((d: { dimension: string }) =>
        d.dimension
      ),
      ["region", "channel"],
    );

    for (const format of ["csv", "markdown"]) {
      const c = capture();
      assert.equal(
        await main([
          "run",
          "--config",
          config,
          "--period",
          "2024-11",
          "--by",
          "region",
          "--format",
          format,
          "--no-history",
        ], c.io),
        0,
      );
      assert.match(
        c.out.join(""),
        format === "csv"
          ? /revenue,region,EU,,50,/
          : /\| region=EU \| 50 USD \|/,
      );
    }
  });
});

Deno.test("cli explain prints the drivers, largest first, with what is left unexplained", async () => {
  await withShop(async (config) => {
    const c = capture();
    const code = await main([
      "explain",
      "--config",
      config,
      "--kpi",
      "revenue",
      "--period",
      "2024-11",
      "--compare",
      "MoM",
    ], c.io);
    assert.equal(code, 0, c.err.join(""));
    const text = c.out.join("");
    assert.match(
      text,
      /Revenue MoM: -150 USD \(▼ -25\.0%\), 600 USD → 450 USD/,
    );
    assert.match(text, /region=EU +-150 USD +100\.0%/);
    assert.match(text, /Unexplained: 0 USD \(0\.0%\)/);
    const json = capture();
    await main([
      "explain",
      "--config",
      config,
      "--kpi",
      "revenue",
      "--period",
      "2024-11",
      "--format",
      "json",
    ], json.io);
    const drivers = JSON.parse(json.out.join(""));
    assert.deepEqual(drivers.drivers[0].segment, { region: "EU" });
    assert.equal(drivers.change, -150);
    const bad = capture();
    assert.equal(
      await main([
        "explain",
        "--config",
        config,
        "--kpi",
        "revenue",
        "--compare",
        "MoX",
      ], bad.io),
      2,
    );
    assert.match(
      bad.err.join(""),
      /Invalid --compare "MoX": did you mean "MoM"\? \(expected one of DoD/,
    );
  });
});

Deno.test("GET /kpis/{name}/breakdown and /drivers answer JSON, 400 on bad parameters, and are in the OpenAPI document", async () => {
  await withShop(async (config) => {
    const engine = await openEngine(config, { env: {} });
    try {
      const app = createApp({ engine });
      const breakdown = await app.request(
        "/kpis/revenue/breakdown?by=channel&period=2024-11&compare=MoM",
      );
      assert.equal(breakdown.status, 200);
      const body = await breakdown.json();
      assert.deepEqual(
        body.dimensions[0].rows.map((
          r: { segment: unknown; value: number },
        ) => [r.segment, r.value]),
        [[{ channel: "ads" }, 225], [{ channel: "web" }, 225]],
      );
      assert.equal(body.dimensions[0].rows[0].comparisons.MoM.change, -75);
      const drivers = await app.request(
        "/kpis/revenue/drivers?period=2024-11&compare=MoM",
      );
      assert.equal(drivers.status, 200);
      const why = await drivers.json();
      assert.equal(why.drivers[0].contributionPct, 100);
      // The same numbers as text, for the dashboard's dialog.
      assert.deepEqual(why.text.drivers[0], {
        segment: "region=EU",
        contribution: withUnit(
          formatSigned(why.drivers[0].contribution),
          "USD",
        ),
        contributionPct: "100.0%",
      });
      assert.equal(why.text.change, formatChange(why.changePct));
      assert.equal(why.text.value, formatValue(why.value, "USD"));
      assert.deepEqual(body.text.dimensions[0].rows[0], {
        segment: "channel=ads",
        value: "225 USD",
        share: "50.0%",
        comparisons: {
          MoM: formatChange(
            body.dimensions[0].rows[0].comparisons.MoM.changePct,
          ),
        },
      });
      for (
        const [url, field] of [
          ["/kpis/revenue/breakdown?period=2024-11", "by"],
          ["/kpis/revenue/breakdown?by=city", "by"],
          ["/kpis/revenue/drivers?compare=MoM,YoY", "compare"],
          ["/kpis/revenue/drivers?top=0", "top"],
          ["/kpis/revenue/drivers?period=soon", "period"],
        ] as const
      ) {
        const response = await app.request(url);
        assert.equal(response.status, 400, url);
        assert.match(JSON.stringify(await response.json()), new RegExp(field));
      }
      assert.equal((await app.request("/kpis/nope/drivers")).status, 404);
      // A list parameter repeated (by=a&by=b) reads as by=a,b: every
      // dimension asked for is broken down, none silently dropped.
      const repeated = await app.request(
        "/kpis/revenue/breakdown?by=channel&by=region&period=2024-11",
      );
      assert.equal(repeated.status, 200);
      assert.deepEqual(
        (await repeated.json()).dimensions.map((d: { dimension: string }) =>
          d.dimension
        ),
        ["channel", "region"],
      );
      const doc = openApiDocument() as { paths: Record<string, unknown> };
      assert.ok("/kpis/{name}/breakdown" in doc.paths);
      assert.ok("/kpis/{name}/drivers" in doc.paths);
    } finally {
      await engine.close();
    }
  });
});
