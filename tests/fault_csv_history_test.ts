/**
 * A CSV history in a bad state is refused loudly rather than worked around:
 * a corrupt alert-state file sends no notice again, and a file written by a
 * newer schema version is neither read nor appended to.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { startReceiver } from "./_alert_receiver.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function shop(dir: string, extra: string): Promise<string> {
  const db = new DatabaseSync(join(dir, "shop.db"));
  db.exec("CREATE TABLE orders (day TEXT, amount REAL)");
  db.exec("INSERT INTO orders VALUES ('2024-11-02', 5)");
  db.close();
  const config = join(dir, "kpis.yaml");
  await Deno.writeTextFile(
    config,
    `connection: sqlite:./shop.db
audit_log: audit.csv
${extra}
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
`,
  );
  return config;
}

async function run(config: string): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", "-c", config, "--period", "2024-11"],
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("a corrupt alert-state file beside a CSV history is reported with its path and sends no notice", async () => {
  const receiver = startReceiver();
  const dir = await Deno.makeTempDir();
  try {
    const config = await shop(
      dir,
      `channels:\n  hook: { type: webhook, url: "${receiver.url}/hook" }`,
    );
    // A first run fires once and keeps the state.
    assert.equal((await run(config)).code, 0);
    assert.equal(receiver.on("/hook").length, 1);
    await Deno.writeTextFile(join(dir, "audit.alerts.json"), "{not json");
    for (let i = 0; i < 2; i++) {
      const out = await run(config);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.match(
        stderr,
        /Cannot read alert state "[^"]*audit\.alerts\.json": it is not valid JSON/,
      );
      assert.match(stderr, /no notice is sent for it/);
    }
    assert.equal(receiver.on("/hook").length, 1, "no notice sent again");
    assert.equal(
      await Deno.readTextFile(join(dir, "audit.alerts.json")),
      "{not json",
      "the file is left for a person to look at",
    );
  } finally {
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a CSV history written by a newer schema version is not appended to", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = await shop(dir, "");
    assert.equal((await run(config)).code, 0);
    const path = join(dir, "audit.csv");
    const [header, row] = (await Deno.readTextFile(path)).split("\n");
    const newer = `${header}\n${row!.replace(/^1,/, "2,")}\n`;
    assert.notEqual(newer, `${header}\n${row}\n`);
    await Deno.writeTextFile(path, newer);
    const out = await run(config);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.match(stderr, /schema version 2/);
    assert.notEqual(out.code, 0);
    assert.equal(await Deno.readTextFile(path), newer, "the file is unchanged");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
