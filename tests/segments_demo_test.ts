import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { openEngine } from "../src/adapters/mod.ts";
import { fillDemoDatabase } from "../src/adapters/runtime/demo/build_demo_database.ts";

const EXAMPLE = new URL("../kpis.example.yaml", import.meta.url).pathname;

Deno.test("a drop injected into one segment of the demo shop ranks first among the drivers with most of the change", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "shop.db");
    const db = new DatabaseSync(path);
    fillDemoDatabase(db, Temporal.PlainDate.from("2024-12-31"), 400, 42);
    const channels = db.prepare(
      "SELECT channel, COUNT(*) AS n FROM orders GROUP BY channel ORDER BY channel",
    ).all().map((row) => row["channel"]);
    assert.deepEqual(channels, ["ads", "email", "partner", "web"]);
    // Ads lose 70% of their November revenue.
    db.exec(
      "UPDATE orders SET amount = round(amount * 0.3, 2) WHERE channel = 'ads' AND order_date >= '2024-11-01' AND order_date < '2024-12-01'",
    );
    db.close();
    const engine = await openEngine(EXAMPLE, {
      connection: `sqlite:${path}`,
      env: {},
    });
    try {
      assert.deepEqual(engine.dimensions("average_order_value"), [
        "region",
        "channel",
        "device",
      ]);
      const why = await engine.drivers("revenue", "2024-11", {
        compare: "MoM",
      });
      assert.equal(why.error, null);
      assert.ok(why.change !== null && why.change < 0, `change ${why.change}`);
      const [first] = why.drivers;
      assert.deepEqual(first?.segment, { channel: "ads" });
      assert.ok(
        (first?.contributionPct ?? 0) >= 70,
        `ads explain ${first?.contributionPct}%`,
      );
      const [result] = await engine.run("2024-11", {
        kpis: ["revenue"],
        record: false,
        alerts: false,
      });
      assert.equal(why.value, result?.value);
      assert.equal(why.change, result?.comparisons.MoM?.change);
      const basket = await engine.drivers("average_order_value", "2024-11", {
        compare: "MoM",
        by: "channel",
      });
      assert.equal(basket.method, "ratio");
      assert.deepEqual(basket.drivers[0]?.segment, { channel: "ads" });
      assert.ok((basket.drivers[0]?.rateEffect ?? 0) < 0);
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
