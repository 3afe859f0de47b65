import assert from "node:assert/strict";
import { openCsvHistoryStore } from "../src/adapters/history/csv/open_csv_history_store.ts";

const STORE = new URL(
  "../src/adapters/history/csv/open_csv_history_store.ts",
  import.meta.url,
).href;
const NAMES = ["revenue", "orders", "active_users", "churn"];
const ROWS_PER_NAME = 25_000;

/** A version 0 file (the reference package's layout) of 100,000 rows. */
function legacyCsv(): string {
  const lines = [
    "timestamp,kpi_name,value,period_start,period_end,alert_status",
  ];
  for (let i = 0; i < ROWS_PER_NAME; i++) {
    const day = new Date(Date.UTC(2000, 0, 1) + i * 3_600_000);
    const at = day.toISOString().slice(0, 19);
    for (const name of NAMES) {
      lines.push(`${at}.120000,${name},${i},2024-09-01,2024-10-01,ok`);
    }
  }
  return lines.join("\n") + "\n";
}

/** A child that opens the store and appends one row (the migration). */
function appender(path: string): Deno.ChildProcess {
  const code = `
    const { openCsvHistoryStore } = await import(${JSON.stringify(STORE)});
    const store = await openCsvHistoryStore(${JSON.stringify(path)});
    await store.append([{
      runId: "after-migration",
      runAt: "2030-01-01T00:00:00Z",
      periodLabel: "last_month",
      result: {
        name: "revenue", label: "revenue", unit: "", value: -1,
        periodStart: "2029-12-01", periodEnd: "2030-01-01", comparisons: {},
        momChangePct: null, yoyChangePct: null, alertStatus: "ok",
        alertsTriggered: [], queryDurationMs: 0.25, error: null, note: null,
      },
    }]);
    await store.close();
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function tempFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".tmp")) names.push(entry.name);
  }
  return names;
}

Deno.test("CSV history killed while upgrading a version 0 file keeps the old file whole, and the upgrade completes on the next append", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_csv_migration_" });
  try {
    const path = `${dir}/audit.csv`;
    const original = legacyCsv();
    await Deno.writeTextFile(path, original);

    // Kill the appender with SIGKILL once it starts writing the new layout
    // (a temporary file appears, or the file itself changes).
    const child = appender(path);
    let started = false;
    for (let i = 0; i < 3000 && !started; i++) {
      started = (await tempFiles(dir)).length > 0 ||
        (await Deno.stat(path)).size !== original.length;
      if (!started) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Let it write part of the new layout before the kill.
    await new Promise((resolve) => setTimeout(resolve, 150));
    try {
      child.kill("SIGKILL");
    } catch {
      // Already ended: the status below says so.
    }
    const status = await child.status;
    assert.ok(started, "the upgrade never started writing");
    assert.equal(
      status.signal,
      "SIGKILL",
      "the upgrade finished before the kill",
    );

    // The original is untouched and reads as before.
    assert.equal(await Deno.readTextFile(path), original);
    let store = await openCsvHistoryStore(path);
    for (const name of NAMES) {
      const rows = await store.history(name, 1_000_000);
      assert.equal(rows.length, ROWS_PER_NAME, name);
      assert.equal(rows[0]!.value, ROWS_PER_NAME - 1);
    }
    await store.close();

    // Run again to completion: every old row plus the new one, new header.
    const done = await appender(path).output();
    assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
    const text = await Deno.readTextFile(path);
    assert.ok(text.startsWith("schema_version,run_id,run_at,"));
    store = await openCsvHistoryStore(path);
    for (const name of NAMES) {
      const rows = await store.history(name, 1_000_000);
      const extra = name === "revenue" ? 1 : 0;
      assert.equal(rows.length, ROWS_PER_NAME + extra, name);
      const values = new Set(rows.map((r) => r.value));
      for (let i = 0; i < ROWS_PER_NAME; i++) assert.ok(values.has(i));
      if (extra) assert.equal(rows[0]!.value, -1);
    }
    await store.close();
    // A whole copy of the original is kept beside it.
    const backups: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (/\.v0(\.\d+)?\.bak$/.test(entry.name)) backups.push(entry.name);
    }
    const copies = await Promise.all(
      backups.map((b) => Deno.readTextFile(`${dir}/${b}`)),
    );
    assert.ok(copies.includes(original), `no whole backup in ${backups}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
