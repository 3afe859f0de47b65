import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { openEngine } from "../src/adapters/mod.ts";
import { fillDemoDatabase } from "../src/adapters/runtime/demo/build_demo_database.ts";

const EXAMPLE = new URL("../kpis.example.yaml", import.meta.url).pathname;

Deno.test("the demo's revenue target is the sum of its daily plan over any period, and attainment is the value over it", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "shop.db");
  const db = new DatabaseSync(path);
  try {
    fillDemoDatabase(db, Temporal.PlainDate.from("2024-12-31"), 400, 42);
    const planned = db.prepare(
      "SELECT SUM(amount) AS plan, COUNT(*) AS days FROM revenue_plan WHERE day >= ? AND day < ?",
    );
    const sold = db.prepare(
      "SELECT SUM(amount) AS revenue FROM orders WHERE status = 'completed' AND order_date >= ? AND order_date < ?",
    );
    // The plan reaches from the first day of orders to the end of the year.
    const span = db.prepare(
      "SELECT MIN(day) AS first, MAX(day) AS last FROM revenue_plan",
    ).get();
    assert.deepEqual({ ...span }, { first: "2023-11-28", last: "2024-12-31" });
    const engine = await openEngine(EXAMPLE, {
      connection: `sqlite:${path}`,
      env: {},
    });
    try {
      for (
        const [period, start, end, days] of [
          ["2024-11", "2024-11-01", "2024-12-01", 30],
          ["2024-W46", "2024-11-11", "2024-11-18", 7],
          ["2024-11-05", "2024-11-05", "2024-11-06", 1],
          ["2024-Q4", "2024-10-01", "2025-01-01", 92],
        ] as const
      ) {
        const plan = planned.get(start, end)!;
        assert.equal(plan["days"], days, period);
        const [result] = await engine.run(period, {
          kpis: ["revenue"],
          record: false,
          alerts: false,
        });
        assert.equal(result?.targetNote, undefined, period);
        assert.equal(result?.target, plan["plan"], period);
        const revenue = sold.get(start, end)!["revenue"] as number;
        assert.ok(Math.abs(result!.value! - revenue) < 1e-6, period);
        assert.ok(
          Math.abs(result!.attainment! - revenue / (plan["plan"] as number)) <
            1e-9,
          period,
        );
        // A plan 3% above what the shop is expected to sell: attained
        // within a few percent, not to the cent.
        assert.ok(
          result!.attainment! > 0.85 && result!.attainment! < 1.1,
          `${period}: ${result!.attainment}`,
        );
      }
    } finally {
      await engine.close();
    }
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
