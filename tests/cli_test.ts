import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import type { KPIResult } from "../mod.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

interface Order {
  day: string;
  amount: number;
  user: number;
  refunded: boolean;
}

/** Deterministic orders over 2023-10-01 .. 2024-12-31. */
function makeOrders(): Order[] {
  const orders: Order[] = [];
  let seed = 11;
  const random = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  let day = Temporal.PlainDate.from("2023-10-01");
  const last = Temporal.PlainDate.from("2024-12-31");
  while (Temporal.PlainDate.compare(day, last) <= 0) {
    const n = 3 + Math.floor(random() * 5);
    for (let i = 0; i < n; i++) {
      orders.push({
        day: day.toString(),
        amount: Math.round(random() * 20000) / 100,
        user: 1 + Math.floor(random() * 40),
        refunded: random() < 0.1,
      });
    }
    day = day.add({ days: 1 });
  }
  return orders;
}

function inRange(order: Order, start: string, end: string): boolean {
  return order.day >= start && order.day < end;
}

function clean(x: number): number {
  return Number(x.toPrecision(15));
}

async function withShop(
  yaml: (dbPath: string) => string,
  body: (configPath: string, orders: Order[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kpi-cli-" });
  try {
    const dbPath = join(dir, "shop.db");
    const orders = makeOrders();
    const db = new DatabaseSync(dbPath);
    db.exec(
      "CREATE TABLE orders (order_date TEXT, amount REAL, user_id INTEGER, refunded INTEGER)",
    );
    const insert = db.prepare("INSERT INTO orders VALUES (?, ?, ?, ?)");
    db.exec("BEGIN");
    for (const o of orders) {
      insert.run(o.day, o.amount, o.user, o.refunded ? 1 : 0);
    }
    db.exec("COMMIT");
    db.close();
    const configPath = join(dir, "kpis.yaml");
    await Deno.writeTextFile(configPath, yaml(dbPath));
    await body(configPath, orders);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function cli(
  ...args: string[]
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

const SHOP_YAML = (dbPath: string): string => `
connection: sqlite:${dbPath}
kpis:
  - name: revenue
    label: Revenue
    source: sql
    query: >
      SELECT SUM(amount) FROM orders
      WHERE order_date >= '{{ period_start }}' AND order_date < '{{ period_end }}'
    unit: USD
    compare: [MoM, YoY]
    alerts:
      - condition: "< 100"
        severity: critical
      - condition: ">1"
        severity: warning
        message: Some revenue
  - name: orders
    source: sql
    table: orders
    column: "*"
    aggregation: count
    time_column: order_date
    compare: [MoM, YoY]
  - name: refunds
    source: sql
    table: orders
    column: amount
    aggregation: sum
    time_column: order_date
    filter: refunded = 1
    polarity: lower_is_better
    compare: [MoM]
  - name: average_order_value
    source: derived
    expression: revenue / orders
    compare: [MoM, YoY]
  - name: active_users
    source: sql
    query: >
      SELECT COUNT(DISTINCT user_id) FROM orders
      WHERE order_date >= {{ period_start }} AND order_date < {{ period_end }}
    compare: [QoQ]
`;

Deno.test("cli.ts run --format json prints every number as computed independently", async () => {
  await withShop(SHOP_YAML, async (config, orders) => {
    const { code, stdout, stderr } = await cli(
      "run",
      "--config",
      config,
      "--period",
      "2024-11",
      "--format",
      "json",
    );
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as {
      period: { label: string; start: string; end: string };
      results: KPIResult[];
    };
    assert.deepEqual(report.period, {
      label: "2024-11",
      start: "2024-11-01",
      end: "2024-12-01",
    });
    const sum = (s: string, e: string, f = (_: Order) => true): number =>
      clean(
        orders.filter((o) => inRange(o, s, e) && f(o)).reduce(
          (a, o) => a + o.amount,
          0,
        ),
      );
    const count = (s: string, e: string): number =>
      orders.filter((o) => inRange(o, s, e)).length;
    const users = (s: string, e: string): number =>
      new Set(orders.filter((o) => inRange(o, s, e)).map((o) => o.user)).size;
    const byName = Object.fromEntries(report.results.map((r) => [r.name, r]));
    const pct = (now: number, before: number): number =>
      clean((now - before) / Math.abs(before) * 100);

    const revenue = byName.revenue!;
    const rNov = sum("2024-11-01", "2024-12-01");
    const rOct = sum("2024-10-01", "2024-11-01");
    const rNov23 = sum("2023-11-01", "2023-12-01");
    assert.ok(Math.abs(revenue.value! - rNov) < 1e-6);
    assert.ok(Math.abs(revenue.comparisons.MoM!.previousValue! - rOct) < 1e-6);
    assert.ok(
      Math.abs(revenue.comparisons.YoY!.previousValue! - rNov23) < 1e-6,
    );
    assert.ok(Math.abs(revenue.momChangePct! - pct(rNov, rOct)) < 1e-9);
    assert.ok(Math.abs(revenue.yoyChangePct! - pct(rNov, rNov23)) < 1e-9);
    assert.equal(revenue.comparisons.MoM!.periodStart, "2024-10-01");
    assert.equal(revenue.comparisons.YoY!.periodEnd, "2023-12-01");
    assert.equal(revenue.alertStatus, "warning");
    assert.deepEqual(revenue.alertsTriggered.map((a) => a.message), [
      "Some revenue",
    ]);
    assert.equal(revenue.unit, "USD");
    assert.equal(revenue.label, "Revenue");

    const ordersResult = byName.orders!;
    assert.equal(ordersResult.value, count("2024-11-01", "2024-12-01"));
    assert.equal(
      ordersResult.comparisons.MoM!.previousValue,
      count("2024-10-01", "2024-11-01"),
    );
    assert.equal(
      ordersResult.comparisons.YoY!.previousValue,
      count("2023-11-01", "2023-12-01"),
    );

    const refunds = byName.refunds!;
    const fNov = sum("2024-11-01", "2024-12-01", (o) => o.refunded);
    const fOct = sum("2024-10-01", "2024-11-01", (o) => o.refunded);
    assert.ok(Math.abs(refunds.value! - fNov) < 1e-6);
    assert.ok(Math.abs(refunds.comparisons.MoM!.previousValue! - fOct) < 1e-6);
    assert.equal(refunds.comparisons.MoM!.favorable, fNov < fOct);

    const aov = byName.average_order_value!;
    assert.ok(
      Math.abs(aov.value! - rNov / count("2024-11-01", "2024-12-01")) < 1e-9,
    );
    assert.ok(
      Math.abs(
        aov.comparisons.YoY!.previousValue! -
          rNov23 / count("2023-11-01", "2023-12-01"),
      ) < 1e-9,
    );

    const active = byName.active_users!;
    assert.equal(active.value, users("2024-11-01", "2024-12-01"));
    assert.equal(
      active.comparisons.QoQ!.previousValue,
      users("2024-08-01", "2024-09-01"),
    );
    for (const r of report.results) {
      assert.equal(r.error, null);
      assert.equal(typeof r.queryDurationMs, "number");
    }
  });
});

Deno.test("cli.ts run prints csv, markdown and a plain table when piped", async () => {
  await withShop(SHOP_YAML, async (config) => {
    const json = JSON.parse(
      (await cli("run", "-c", config, "-p", "2024-11", "-f", "json")).stdout,
    ) as { results: KPIResult[] };
    const csv = await cli("run", "-c", config, "-p", "2024-11", "-f", "csv");
    assert.equal(csv.code, 0);
    const rows = parseCsv(csv.stdout, { columns: true }) as Record<
      string,
      string
    >[];
    assert.equal(rows.length, json.results.length);
    assert.equal(Number(rows[0]!.value), json.results[0]!.value);
    assert.equal(
      Number(rows[0]!.MoM_change_pct),
      json.results[0]!.momChangePct,
    );
    const md = await cli(
      "run",
      "-c",
      config,
      "-p",
      "2024-11",
      "-f",
      "markdown",
    );
    assert.match(md.stdout, /^\*\*2024-11\*\*/);
    assert.match(
      md.stdout,
      /\| KPI \| Value \| MoM \| QoQ \| YoY \| Status \| Notes \|/,
    );
    const table = await cli("run", "-c", config, "-p", "2024-11");
    assert.equal(table.code, 0);
    assert.ok(!table.stdout.includes("\x1b["), "no ANSI codes when piped");
    assert.match(table.stdout, /Revenue +[\d,.]+ USD +▲|▼/);
  });
});

Deno.test("cli.ts run exits 3 when one KPI fails and still prints the others", async () => {
  await withShop(
    (db) =>
      SHOP_YAML(db) + `
  - name: broken
    source: sql
    query: SELECT SUM(nope) FROM orders WHERE order_date >= {{ period_start }}
`,
    async (config) => {
      const { code, stdout } = await cli(
        "run",
        "--config",
        config,
        "--period",
        "2024-11",
        "--format",
        "json",
      );
      assert.equal(code, 3);
      const { results } = JSON.parse(stdout) as { results: KPIResult[] };
      const broken = results.find((r) => r.name === "broken")!;
      assert.equal(broken.value, null);
      assert.equal(broken.alertStatus, "error");
      assert.match(broken.error!, /nope/);
      assert.ok(results.find((r) => r.name === "revenue")!.value! > 0);
    },
  );
});

Deno.test("cli.ts run --fail-on exits 1 when the severity is reached", async () => {
  await withShop(SHOP_YAML, async (config) => {
    const warning = await cli(
      "run",
      "-c",
      config,
      "-p",
      "2024-11",
      "--fail-on",
      "warning",
    );
    assert.equal(warning.code, 1);
    const critical = await cli(
      "run",
      "-c",
      config,
      "-p",
      "2024-11",
      "--fail-on",
      "critical",
    );
    assert.equal(critical.code, 0);
  });
});

Deno.test("cli.ts run --kpi and --as-of choose KPIs and the day relative periods start from", async () => {
  await withShop(SHOP_YAML, async (config) => {
    const { code, stdout } = await cli(
      "run",
      "-c",
      config,
      "--as-of",
      "2024-12-15",
      "--kpi",
      "orders",
      "--kpi",
      "average_order_value",
      "-f",
      "json",
    );
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as {
      period: { start: string };
      results: KPIResult[];
    };
    assert.equal(report.period.start, "2024-11-01");
    assert.deepEqual(report.results.map((r) => r.name), [
      "orders",
      "average_order_value",
    ]);
  });
});

Deno.test("cli.ts exits 2 with the accepted forms for a bad period, format or command", async () => {
  await withShop(SHOP_YAML, async (config) => {
    const period = await cli("run", "-c", config, "-p", "last_fortnight");
    assert.equal(period.code, 2);
    assert.match(
      period.stderr,
      /Cannot resolve period "last_fortnight": expected one of/,
    );
    const format = await cli("run", "-c", config, "-f", "xml");
    assert.equal(format.code, 2);
    assert.match(
      format.stderr,
      /Unknown --format "xml": expected one of table, json, csv, markdown/,
    );
    const command = await cli("frobnicate");
    assert.equal(command.code, 2);
    const asOf = await cli("run", "-c", config, "--as-of", "2024-13-01");
    assert.equal(asOf.code, 2);
    assert.match(asOf.stderr, /Invalid --as-of "2024-13-01"/);
    const kpi = await cli("run", "-c", config, "--kpi", "nope");
    assert.equal(kpi.code, 2);
    assert.match(kpi.stderr, /Unknown KPI "nope"/);
  });
});

Deno.test("cli.ts suggests the meant value for a mistyped KPI name, format, grain, comparison or --fail-on", async () => {
  await withShop(SHOP_YAML, async (config) => {
    const cases: [string[], RegExp][] = [
      [
        ["run", "-c", config, "--kpi", "ordrs"],
        /Unknown KPI "ordrs": did you mean "orders"\?/,
      ],
      [
        ["run", "-c", config, "--fail-on", "warn"],
        /Unknown --fail-on "warn": did you mean "warning"\?/,
      ],
      [
        ["run", "-c", config, "-f", "jsno"],
        /Unknown --format "jsno": did you mean "json"\?/,
      ],
      [
        ["run", "-c", config, "--fail-on", "critcal"],
        /Unknown --fail-on "critcal": did you mean "critical"\?/,
      ],
      [
        ["series", "-c", config, "--grain", "mnth"],
        /Invalid grain "mnth": did you mean "month"\?/,
      ],
      [
        ["explain", "-c", config, "--kpi", "orders", "--compare", "MoN"],
        /Invalid --compare "MoN": did you mean "MoM"\?/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await cli(...args);
      assert.equal(code, 2, args.join(" "));
      assert.match(stderr, message);
    }
  });
});

Deno.test("cli.ts series and backfill name the flags when --from and --last are both given", async () => {
  await withShop(SHOP_YAML, async (config) => {
    for (const command of ["series", "backfill"]) {
      const { code, stderr } = await cli(
        command,
        "-c",
        config,
        "--grain",
        "month",
        "--from",
        "2024-01",
        "--last",
        "3",
      );
      assert.equal(code, 2, command);
      assert.match(stderr, /Cannot use both --from and --last/);
    }
  });
});

Deno.test("cli.ts validate names file, line and field of every problem and exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "bad.yaml");
    await Deno.writeTextFile(
      path,
      [
        "kpis:",
        "  - name: revenue",
        "    source: dataframe",
        "    query: orders.amount",
        "    agregation: sum",
        "  - name: revenue",
        "    source: derived",
        "    expression: revenue.constructor",
        "",
      ].join("\n"),
    );
    const { code, stderr, stdout } = await cli("validate", "--config", path);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, /agregation/);
    assert.match(stderr, new RegExp(`bad\\.yaml:5`));
    assert.match(stderr, /kpis\[1\]\.name/);
    assert.match(stderr, /member access "revenue.constructor" is not allowed/);
    const good = join(dir, "good.yaml");
    await Deno.writeTextFile(
      good,
      "kpis:\n  - name: revenue\n    source: sql\n    query: SELECT 1\n",
    );
    const ok = await cli("validate", "--config", good);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /1 KPI \(1 sql\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli.ts history prints what runs appended to audit_log, newest first", async () => {
  await withShop(
    (db) => `audit_log: history.db\n` + SHOP_YAML(db),
    async (config, orders) => {
      for (const period of ["2024-10", "2024-11"]) {
        const run = await cli("run", "-c", config, "-p", period);
        assert.equal(run.code, 0, run.stderr);
      }
      const { code, stdout, stderr } = await cli(
        "history",
        "-c",
        config,
        "orders",
        "-n",
        "5",
        "-f",
        "json",
      );
      assert.equal(code, 0, stderr);
      const history = JSON.parse(stdout) as {
        name: string;
        results: KPIResult[];
      };
      assert.equal(history.name, "orders");
      assert.deepEqual(
        history.results.map((r) => [r.periodStart, r.value]),
        [
          [
            "2024-11-01",
            orders.filter((o) => inRange(o, "2024-11-01", "2024-12-01")).length,
          ],
          [
            "2024-10-01",
            orders.filter((o) => inRange(o, "2024-10-01", "2024-11-01")).length,
          ],
        ],
      );
      const none = await cli(
        "run",
        "-c",
        config,
        "-p",
        "2024-09",
        "--no-history",
      );
      assert.equal(none.code, 0);
      const after = await cli("history", "-c", config, "orders", "-f", "json");
      assert.equal(JSON.parse(after.stdout).results.length, 2);
    },
  );
});

Deno.test("cli.ts run --dry-run-alerts describes the alerts without sending them", async () => {
  const received: unknown[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      received.push(await request.json());
      return new Response("ok");
    },
  );
  try {
    await withShop(
      (db) =>
        `channels:\n  hook: { type: webhook, url: "http://127.0.0.1:${server.addr.port}/kpi" }\n` +
        SHOP_YAML(db),
      async (config) => {
        const dry = await cli(
          "run",
          "-c",
          config,
          "-p",
          "2024-11",
          "--dry-run-alerts",
        );
        assert.equal(dry.code, 0, dry.stderr);
        assert.equal(received.length, 0);
        assert.match(dry.stderr, /hook/);
        assert.match(dry.stderr, /Some revenue/);
        const real = await cli(
          "run",
          "-c",
          config,
          "-p",
          "2024-11",
          "-f",
          "json",
        );
        assert.equal(real.code, 0, real.stderr);
        assert.equal(received.length, 1);
        const body = received[0] as { status: string; kpi: { name: string } };
        assert.equal(body.status, "firing");
        assert.equal(body.kpi.name, "revenue");
        const [revenue] =
          (JSON.parse(real.stdout) as { results: KPIResult[] }).results;
        assert.deepEqual(
          revenue?.alertsTriggered[0]?.deliveries?.map((
            d,
          ) => [d.channel, d.ok]),
          [["hook", true]],
        );
      },
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("cli.ts run --explain prints the SQL and parameters without running it", async () => {
  await withShop(SHOP_YAML, async (config) => {
    const { code, stdout } = await cli(
      "run",
      "-c",
      config,
      "-p",
      "2024-11",
      "--explain",
    );
    assert.equal(code, 0);
    assert.match(stdout, /-- Query 1 of \d+/);
    assert.match(stdout, /"2024-11-01"/);
    assert.match(stdout, /"2023-11-01"/);
    assert.doesNotMatch(stdout, /order_date >= '2024/);
  });
});
