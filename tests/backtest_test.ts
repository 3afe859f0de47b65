import assert from "node:assert/strict";
import { KPIEngine, parseKpis } from "../mod.ts";
import { createNotifier } from "../src/adapters/channels/create_notifier.ts";
import { openHistoryStore } from "../src/adapters/history/open_history_store.ts";
import { applySettings } from "../src/adapters/runtime/cli/backtest_command.ts";
import { startReceiver } from "./_alert_receiver.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** Generated daily orders: weekly pattern, noise, two drops and a slump. */
function generated(): { day: string[]; orders: number[]; refunds: number[] } {
  let seed = 42;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const day: string[] = [];
  const orders: number[] = [];
  const refunds: number[] = [];
  let d = Temporal.PlainDate.from("2024-01-01");
  for (let i = 0; i < 200; i++, d = d.add({ days: 1 })) {
    let n = (d.dayOfWeek > 5 ? 60 : 120) * (0.92 + 0.16 * random());
    if (i === 90 || i === 131) n *= 0.45; // single-day drops
    if (i >= 150 && i < 164) n *= 0.6; // a two-week slump
    day.push(d.toString());
    orders.push(Math.round(n));
    refunds.push(Math.round(n * (0.02 + 0.05 * random())));
  }
  return { day, orders, refunds };
}

function fileFor(url: string): string {
  return `
channels:
  ops: { type: webhook, url: "${url}/ops" }
  pager: { type: webhook, url: "${url}/pager" }
kpis:
  - name: orders
    source: dataframe
    query: shop.orders
    aggregation: sum
    time_column: day
    compare: [WoW]
    anomaly: { direction: drop }
    alerts:
      - condition: anomaly
        severity: critical
        channels: [pager]
      - condition: WoW < -25%
        severity: warning
  - name: refunds
    source: dataframe
    query: shop.refunds
    aggregation: sum
    time_column: day
    alerts:
      - condition: "> 7"
        severity: warning
`;
}

Deno.test("backtest equals live runs replayed period by period: same fires, resolves and notices per channel", async () => {
  const receiver = startReceiver();
  const store = await openHistoryStore("kv::memory:");
  try {
    const frame = generated();
    const config = parseKpis(fileFor(receiver.url));
    const from = "2024-02-26";
    const to = "2024-07-18";
    const backtest = await new KPIEngine({
      config,
      dataframes: { shop: frame },
      now: () => Temporal.Instant.from("2024-08-01T00:00:00Z"),
    }).backtest({ from, to, grain: "day" });

    // Live: one scheduled run at the end of each day, state in the store.
    let clock = Temporal.Instant.from("2024-02-27T00:00:00Z");
    const engine = new KPIEngine({
      config,
      dataframes: { shop: frame },
      history: store,
      notifier: createNotifier({
        channels: config.channels,
        store: store as
          & Parameters<typeof createNotifier>[0]["store"]
          & object,
        now: () => clock,
      }),
      now: () => clock,
    });
    const live = new Map<string, string[]>();
    for (
      let day = Temporal.PlainDate.from(from);
      Temporal.PlainDate.compare(day, Temporal.PlainDate.from(to)) <= 0;
      day = day.add({ days: 1 })
    ) {
      clock = day.add({ days: 1 }).toZonedDateTime("UTC").toInstant();
      await engine.runKpi("orders", day.toString());
      await engine.runKpi("refunds", day.toString());
    }
    for (const request of receiver.requests) {
      const body = request.json as {
        status: string;
        kpi: { name: string };
        condition: string;
        period: { start: string };
      };
      const key = `${request.path} ${body.kpi.name} ${body.condition}`;
      live.set(key, [
        ...(live.get(key) ?? []),
        `${body.status} ${body.period.start}`,
      ]);
    }

    const replayed = new Map<string, string[]>();
    for (const kpi of backtest.kpis) {
      for (const rule of kpi.rules) {
        for (const event of rule.events) {
          for (const channel of event.channels) {
            const key = `/${channel} ${kpi.name} ${rule.condition}`;
            replayed.set(key, [
              ...(replayed.get(key) ?? []),
              `${event.status} ${event.period.start}`,
            ]);
          }
        }
      }
    }
    assert.ok(receiver.requests.length > 10, "the data makes rules fire");
    assert.deepEqual(
      [...replayed].sort(),
      [...live].sort(),
      "every notice of the live runs, and no other",
    );
    const perChannel: Record<string, number> = {};
    for (const request of receiver.requests) {
      const channel = request.path.slice(1);
      perChannel[channel] = (perChannel[channel] ?? 0) + 1;
    }
    assert.deepEqual(backtest.notices, perChannel);
    // The anomaly rule caught both single-day drops and the slump's start.
    const anomaly = backtest.kpis[0]!.rules[0]!;
    const fired = anomaly.events.filter((e) => e.status === "firing").map((
      e,
    ) => e.period.start);
    for (const day of ["2024-03-31", "2024-05-11", "2024-05-30"]) {
      assert.ok(fired.includes(day), `fired on ${day}: ${fired}`);
    }
    const slump = backtest.kpis[0]!.rules[1]!.longestFiring;
    assert.ok((slump?.periods ?? 0) >= 5, "the slump holds WoW below -25%");
    assert.equal(backtest.kpis[0]!.points.length, backtest.periods);
  } finally {
    await store.close?.();
    await receiver.close();
  }
});

Deno.test("applySettings() changes one KPI's setting and keeps the rest of the file", () => {
  const text = fileFor("http://127.0.0.1:9");
  const changed = applySettings(text, [
    "orders.anomaly.sensitivity=5",
    'orders.alerts.1.condition="WoW < -40%"',
  ]);
  const config = parseKpis(changed);
  assert.equal(config.kpis[0]?.anomaly?.sensitivity, 5);
  assert.equal(config.kpis[0]?.alerts?.[1]?.condition, "WoW < -40%");
  assert.equal(config.kpis[1]?.alerts?.[0]?.condition, "> 7");
  assert.throws(
    () => applySettings(text, ["revenue.target=5"]),
    /no KPI named "revenue"/,
  );
  assert.throws(
    () => applySettings(text, ["orders"]),
    /expected KPI\.PATH=VALUE/,
  );
});

Deno.test("applySettings() takes the bracketed index the docs show and conditions YAML would misread", () => {
  const text = fileFor("http://127.0.0.1:9");
  const changed = applySettings(text, [
    "orders.alerts[1].condition=> 40",
    "refunds.alerts[0].condition=>= 9",
  ]);
  const config = parseKpis(changed);
  assert.equal(config.kpis[0]?.alerts?.[1]?.condition, "> 40");
  assert.equal(config.kpis[1]?.alerts?.[0]?.condition, ">= 9");
  assert.equal(config.kpis[0]?.alerts?.[0]?.condition, "anomaly");
  assert.throws(
    () => applySettings(text, ["ordrs.alerts[0].condition=< 5"]),
    /no KPI named "ordrs": did you mean "orders"\?/,
  );
});

Deno.test("cli.ts backtest prints each rule's fires and notices, beside a --set variant, in every format", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi-backtest-" });
  try {
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(`${dir}/shop.db`);
    db.exec("CREATE TABLE orders (day TEXT, n INTEGER)");
    const insert = db.prepare("INSERT INTO orders VALUES (?, ?)");
    const frame = generated();
    frame.day.forEach((day, i) => insert.run(day, frame.orders[i]!));
    db.close();
    await Deno.writeTextFile(
      `${dir}/kpis.yaml`,
      `connection: sqlite:./shop.db
channels:
  ops: { type: webhook, url: "http://127.0.0.1:9/ops" }
kpis:
  - name: orders
    source: sql
    table: orders
    column: n
    aggregation: sum
    time_column: day
    anomaly: {}
    alerts:
      - condition: anomaly
        severity: critical
`,
    );
    const run = async (...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          CLI,
          "backtest",
          "--config",
          `${dir}/kpis.yaml`,
          ...args,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      };
    };
    const json = await run(
      "--from",
      "2024-03-01",
      "--to",
      "2024-06-30",
      "--grain",
      "day",
      "--format",
      "json",
      "--set",
      "orders.anomaly.sensitivity=50",
    );
    assert.equal(json.code, 0, json.stderr);
    const both = JSON.parse(json.stdout) as {
      backtests: {
        name: string;
        notices: Record<string, number>;
        periods: number;
      }[];
    };
    assert.equal(both.backtests.length, 2);
    assert.equal(both.backtests[0]!.periods, 122);
    assert.ok((both.backtests[0]!.notices.ops ?? 0) >= 4);
    assert.ok(
      (both.backtests[1]!.notices.ops ?? 0) <
        (both.backtests[0]!.notices.ops ?? 0),
      "a far wider band fires less",
    );
    const table = await run(
      "--from",
      "2024-03-01",
      "--to",
      "2024-06-30",
      "--grain",
      "day",
    );
    assert.match(
      table.stdout,
      /Backtest: 122 day periods, 2024-03-01 to 2024-07-01/,
    );
    assert.match(table.stdout, /orders\s+anomaly\s+critical/);
    assert.match(table.stdout, /nothing was sent/);
    const csv = await run(
      "--from",
      "2024-03-01",
      "--to",
      "2024-06-30",
      "--grain",
      "day",
      "--format",
      "csv",
    );
    assert.match(csv.stdout, /^config,kpi,condition/);
    const typo = await run(
      "--from",
      "2024-03-01",
      "--to",
      "2024-03-31",
      "--grain",
      "day",
      "--set",
      "orders.alerts.0.conditon=> 9",
    );
    assert.equal(typo.code, 2);
    assert.match(
      typo.stderr,
      /Unknown key "conditon": did you mean "condition"\?[^\n]*\n\s*→ at kpis\[0\]\.alerts\[0\]\.conditon \([^\n]*kpis\.yaml as changed by --set orders\.alerts\.0\.conditon=> 9:\d+:\d+\)/,
    );
    const bad = await run("--from", "2024-03-01", "--grain", "fortnight");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /fortnight/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
