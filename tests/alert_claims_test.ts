/**
 * Overlapping runs send each notice once: several `cli.ts run` processes
 * started together on the same history store (SQLite, CSV, Deno KV in a
 * file, PostgreSQL) each decide to fire the same alert, and a local webhook
 * receiver counts exactly one notice per dedup key.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { startReceiver } from "./_alert_receiver.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const PROCESSES = 4;

async function runTogether(auditLog: string): Promise<Map<string, number>> {
  const receiver = startReceiver();
  const dir = await Deno.makeTempDir({ prefix: "kpi_claims_" });
  try {
    const db = new DatabaseSync(join(dir, "shop.db"));
    db.exec("CREATE TABLE orders (day TEXT, amount REAL)");
    db.exec("INSERT INTO orders VALUES ('2024-11-02', 5), ('2024-11-03', 7)");
    db.close();
    const config = join(dir, "kpis.yaml");
    await Deno.writeTextFile(
      config,
      `connection: sqlite:./shop.db
audit_log: "${auditLog.replace("DIR", dir)}"
channels:
  hook: { type: webhook, url: "${receiver.url}/hook" }
kpis:
  - name: revenue
    source: sql
    table: orders
    column: amount
    aggregation: sum
    time_column: day
    alerts:
      - condition: "< 100"
        severity: critical
      - condition: "< 1000"
        severity: warning
`,
    );
    const runs = Array.from(
      { length: PROCESSES },
      () =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", CLI, "run", "-c", config, "--period", "2024-11"],
          stdout: "null",
          stderr: "piped",
        }).output(),
    );
    for (const out of await Promise.all(runs)) {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    const counts = new Map<string, number>();
    for (const request of receiver.on("/hook")) {
      const body = request.json as { dedupKey: string; status: string };
      const key = `${body.status} ${body.dedupKey}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  } finally {
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function assertOnceEach(counts: Map<string, number>): void {
  assert.equal(counts.size, 2, JSON.stringify([...counts]));
  for (const [key, n] of counts) {
    assert.equal(n, 1, `${key} was sent ${n} times`);
    assert.match(key, /^firing kpi-engine\/revenue\//);
  }
}

Deno.test(`${PROCESSES} overlapping runs on a SQLite history send each notice once`, async () => {
  assertOnceEach(await runTogether("DIR/history.db"));
});

Deno.test(`${PROCESSES} overlapping runs on a CSV history send each notice once`, async () => {
  assertOnceEach(await runTogether("DIR/audit.csv"));
});

Deno.test(`${PROCESSES} overlapping runs on a Deno KV file history send each notice once`, async () => {
  assertOnceEach(await runTogether("kv:DIR/kpi.kv"));
});

Deno.test(`${PROCESSES} overlapping runs on a fresh PostgreSQL history send each notice once`, async () => {
  const schema = `kpi_claims_${
    crypto.randomUUID().replaceAll("-", "").slice(0, 12)
  }`;
  try {
    assertOnceEach(await runTogether(`${PG_URL}?schema=${schema}`));
  } finally {
    const sql = postgres(PG_URL, { onnotice: () => {} });
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await sql.end({ timeout: 5 });
  }
});
