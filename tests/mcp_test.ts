import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { KPIResult } from "../mod.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** Orders of 2024: one a day, amount = day of month, in a SQLite file. */
async function withShop(
  body: (configPath: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kpi-mcp-" });
  try {
    const db = new DatabaseSync(join(dir, "shop.db"));
    db.exec(
      "CREATE TABLE orders (order_date TEXT, amount REAL, region TEXT)",
    );
    const insert = db.prepare("INSERT INTO orders VALUES (?, ?, ?)");
    let day = Temporal.PlainDate.from("2024-01-01");
    while (day.year === 2024) {
      insert.run(day.toString(), day.day, day.day % 2 === 0 ? "EU" : "US");
      day = day.add({ days: 1 });
    }
    db.close();
    const configPath = join(dir, "kpis.yaml");
    await Deno.writeTextFile(
      configPath,
      `connection: sqlite:./shop.db
audit_log: history.db
kpis:
  - name: revenue
    label: Revenue
    source: sql
    table: orders
    column: amount
    aggregation: sum
    time_column: order_date
    unit: USD
    dimensions: [region]
    compare: [MoM]
    alerts:
      - condition: "< 100"
        severity: critical
  - name: orders
    source: sql
    table: orders
    column: "*"
    aggregation: count
    time_column: order_date
    polarity: higher_is_better
`,
    );
    await body(configPath, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function structured(result: unknown): Record<string, unknown> {
  const value = (result as { structuredContent?: Record<string, unknown> })
    .structuredContent;
  assert.ok(value, "the tool answers structured content");
  return value;
}

function text(result: unknown): string {
  const content = (result as { content: { type: string; text: string }[] })
    .content;
  return content.map((part) => part.text).join("\n");
}

async function withStdioClient(
  configPath: string,
  body: (client: Client) => Promise<void>,
): Promise<void> {
  const client = new Client({ name: "kpi-test", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", CLI, "mcp", "--config", configPath],
    stderr: "pipe",
  });
  await client.connect(transport);
  try {
    await body(client);
  } finally {
    await client.close();
  }
}

Deno.test("cli.ts mcp serves the tools and resources over stdio", async (t) => {
  await withShop(async (configPath) => {
    await withStdioClient(configPath, async (client) => {
      await t.step(
        "lists the tools over stdio, each with an input schema",
        async () => {
          const { tools } = await client.listTools();
          const names = tools.map((tool: { name: string }) => tool.name).sort();
          for (
            const expected of [
              "get_kpi",
              "history",
              "list_kpis",
              "validate_config",
            ]
          ) {
            assert.ok(names.includes(expected), `${expected} in ${names}`);
          }
          for (const tool of tools) {
            assert.equal(tool.inputSchema.type, "object");
            assert.ok(tool.description && tool.description.length > 20);
          }
        },
      );
      await t.step("list_kpis carries units and polarity", async () => {
        const listed = structured(
          await client.callTool({ name: "list_kpis", arguments: {} }),
        );
        const kpis = listed.kpis as Record<string, unknown>[];
        assert.deepEqual(kpis.map((kpi) => kpi.name), ["revenue", "orders"]);
        assert.equal(kpis[0]!.unit, "USD");
        assert.equal(kpis[0]!.polarity, "higher_is_better");
        assert.equal(kpis[0]!.label, "Revenue");
        assert.deepEqual(kpis[0]!.compare, ["MoM"]);
        assert.equal(listed.timezone, "UTC");
      });
      await t.step(
        "get_kpi computes the value and comparisons the engine computes",
        async () => {
          const answer = structured(
            await client.callTool({
              name: "get_kpi",
              arguments: { name: "revenue", period: "2024-03" },
            }),
          );
          const result = answer.result as KPIResult;
          // March: days 1..31 → 496; February (leap year): days 1..29 → 435.
          assert.equal(result.value, 496);
          assert.equal(result.comparisons.MoM?.previousValue, 435);
          assert.equal(result.comparisons.MoM?.change, 61);
          assert.deepEqual(answer.period, {
            label: "2024-03",
            start: "2024-03-01",
            end: "2024-04-01",
            timezone: "UTC",
          });
          assert.equal((answer.kpi as Record<string, unknown>).unit, "USD");
        },
      );
      await t.step(
        "bad arguments are tool errors with the CLI's messages",
        async () => {
          const badPeriod = await client.callTool({
            name: "get_kpi",
            arguments: { name: "revenue", period: "last_fortnight" },
          });
          assert.equal(badPeriod.isError, true);
          assert.match(
            text(badPeriod),
            /Cannot resolve period "last_fortnight"/,
          );
          const unknown = await client.callTool({
            name: "get_kpi",
            arguments: { name: "profit" },
          });
          assert.equal(unknown.isError, true);
          assert.match(text(unknown), /Unknown KPI "profit"/);
          const wrongType = await client.callTool({
            name: "history",
            arguments: { name: "revenue", n: "ten" },
          });
          assert.equal(wrongType.isError, true);
          const badDimension = await client.callTool({
            name: "breakdown",
            arguments: { name: "revenue", by: ["country"], period: "2024-03" },
          });
          assert.equal(badDimension.isError, true);
          assert.match(
            text(badDimension),
            /^Cannot break "revenue" down: .*"country".*region/,
          );
          const badDrivers = await client.callTool({
            name: "explain_change",
            arguments: { name: "revenue", by: ["country"], period: "2024-03" },
          });
          assert.equal(badDrivers.isError, true);
          assert.match(
            text(badDrivers),
            /^Cannot explain the change of "revenue": .*"country".*region/,
          );
        },
      );
      await t.step(
        "series, breakdown and explain_change answer the engine's numbers",
        async () => {
          const series = structured(
            await client.callTool({
              name: "series",
              arguments: {
                name: "revenue",
                grain: "month",
                last: 3,
                to: "2024-03",
              },
            }),
          );
          const points = series.points as {
            periodStart: string;
            value: number;
          }[];
          // Days 1..n summed: January 496, February (leap) 435, March 496.
          assert.deepEqual(points.map((p) => [p.periodStart, p.value]), [
            ["2024-01-01", 496],
            ["2024-02-01", 435],
            ["2024-03-01", 496],
          ]);
          assert.equal(series.grain, "month");
          const breakdown = structured(
            await client.callTool({
              name: "breakdown",
              arguments: { name: "revenue", by: ["region"], period: "2024-03" },
            }),
          ).breakdown as {
            dimensions: {
              rows: { segment: { region: string }; value: number }[];
            }[];
          };
          const rows = breakdown.dimensions[0]!.rows.map((r) => [
            r.segment.region,
            r.value,
          ]);
          // Even days are EU: 2 + 4 + ... + 30 = 240; odd days US: 256.
          assert.deepEqual(rows, [["US", 256], ["EU", 240]]);
          const why = structured(
            await client.callTool({
              name: "explain_change",
              arguments: { name: "revenue", period: "2024-03" },
            }),
          ).drivers as {
            drivers: { segment: { region: string }; contribution: number }[];
          };
          // February: EU 2 + ... + 28 = 210, US 1 + ... + 29 = 225.
          assert.deepEqual(
            why.drivers.map((d) => [d.segment.region, d.contribution]),
            [["US", 31], ["EU", 30]],
          );
        },
      );

      await t.step("validate_config reports file, line and field", async () => {
        const good = structured(
          await client.callTool({
            name: "validate_config",
            arguments: {
              yaml:
                "kpis:\n  - name: a\n    source: derived\n    expression: 1 + 1\n",
            },
          }),
        );
        assert.equal(good.valid, true);
        const bad = await client.callTool({
          name: "validate_config",
          arguments: {
            yaml:
              "kpis:\n  - name: a\n    source: derived\n    expression: 1 +\n    compare: [mom]\n",
            file: "mine.yaml",
          },
        });
        assert.equal(bad.isError, true);
        assert.match(text(bad), /mine\.yaml:5/);
        assert.match(text(bad), /did you mean "MoM"/);
        const issues = structured(bad).issues as { path: string }[];
        assert.ok(issues.some((issue) => issue.path === "kpis[0].compare[0]"));
      });
      await t.step("the KPI definitions are resources", async () => {
        const { resources } = await client.listResources();
        const uris = resources.map((resource: { uri: string }) => resource.uri)
          .sort();
        assert.deepEqual(uris, [
          "kpi://definitions",
          "kpi://definitions/orders",
          "kpi://definitions/revenue",
        ]);
        const read = await client.readResource({
          uri: "kpi://definitions/revenue",
        });
        const content = read.contents[0] as { text: string };
        const definition = JSON.parse(content.text);
        assert.equal(definition.unit, "USD");
        assert.equal(definition.aggregation, "sum");
      });
    });
  });
});

Deno.test("cli.ts mcp: history answers what runs recorded, newest first", async () => {
  await withShop(async (configPath) => {
    for (const period of ["2024-02", "2024-03"]) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          CLI,
          "run",
          "--config",
          configPath,
          "--period",
          period,
        ],
        stdout: "null",
        stderr: "null",
      }).output();
      assert.equal(out.code, 0);
    }
    await withStdioClient(configPath, async (client) => {
      const answer = structured(
        await client.callTool({
          name: "history",
          arguments: { name: "revenue", n: 5 },
        }),
      );
      const results = answer.results as KPIResult[];
      assert.deepEqual(results.map((r) => r.periodStart), [
        "2024-03-01",
        "2024-02-01",
      ]);
      assert.deepEqual(results.map((r) => r.value), [496, 435]);
    });
  });
});

Deno.test("the REST app serves MCP at /mcp behind its token, and the JSON Schema at /schema/kpis.json", async () => {
  const { KPIEngine, kpiConfigJsonSchema } = await import("../mod.ts");
  const { createApp } = await import("../server.ts");
  const { StreamableHTTPClientTransport } = await import(
    "@modelcontextprotocol/sdk/client/streamableHttp.js"
  );
  const engine = new KPIEngine({
    kpis: [{
      name: "orders",
      source: "dataframe",
      query: "shop.n",
      aggregation: "sum",
      timeColumn: "day",
      unit: "orders",
    }],
    dataframes: { shop: { day: ["2024-03-01", "2024-03-02"], n: [4, 5] } },
  });
  const app = createApp({ engine, token: "s3cret" });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    app.fetch,
  );
  const url = new URL(`http://127.0.0.1:${server.addr.port}/mcp`);
  try {
    const schema = await fetch(new URL("/schema/kpis.json", url));
    assert.equal(schema.status, 200, "the schema needs no token");
    assert.deepEqual(await schema.json(), kpiConfigJsonSchema());

    const refused = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();

    const client = new Client({ name: "kpi-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { authorization: "Bearer s3cret" } },
      }),
    );
    try {
      const { tools } = await client.listTools();
      assert.ok(
        tools.some((tool: { name: string }) => tool.name === "get_kpi"),
      );
      const answer = structured(
        await client.callTool({
          name: "get_kpi",
          arguments: { name: "orders", period: "2024-03" },
        }),
      );
      assert.equal((answer.result as KPIResult).value, 9);
      assert.equal((answer.kpi as { unit: string }).unit, "orders");
    } finally {
      await client.close();
    }
  } finally {
    await server.shutdown();
  }
});
