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
  return (await listing(dir)).filter((name) => name.endsWith(".tmp"));
}

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** Files beside the store a user might keep: none is the store's to remove. */
const USER_FILES = [
  "audit.csv.notes.tmp",
  "audit.csv.v0.bak.mine.tmp",
  "other.csv.0b9f3c52-8a4e-4c1e-9d6b-3f2a1c0e9b7d.tmp",
  "audit.csv.0b9f3c52-8a4e-4c1e-9d6b-3f2a1c0e9b7d.tmp.keep",
];

Deno.test("CSV history killed while upgrading a version 0 file keeps the old file whole, the next open removes what it left, and the upgrade completes on the next append", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_csv_migration_" });
  try {
    const path = `${dir}/audit.csv`;
    const original = legacyCsv();
    await Deno.writeTextFile(path, original);
    for (const name of USER_FILES) {
      await Deno.writeTextFile(`${dir}/${name}`, "mine\n");
    }

    // Kill the appender with SIGKILL once it has written part of the new
    // layout and of the backup (both temporary files hold some bytes).
    const child = appender(path);
    let exited = false;
    child.status.then(() => exited = true);
    let started = false;
    while (!started && !exited) {
      const temps = (await tempFiles(dir)).filter((n) =>
        !USER_FILES.includes(n)
      );
      const backup = temps.find((n) => n.startsWith("audit.csv.v0.bak."));
      const layout = temps.find((n) => !n.startsWith("audit.csv.v0.bak."));
      started = backup !== undefined && layout !== undefined &&
        (await sizeOf(`${dir}/${backup}`)) > 0 &&
        (await sizeOf(`${dir}/${layout}`)) > 64 * 1024;
      if (!started) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    try {
      child.kill("SIGKILL");
    } catch {
      // Already ended: the status below says so.
    }
    const status = await child.status;
    assert.ok(started, "the upgrade ended before writing part of its files");
    assert.equal(
      status.signal,
      "SIGKILL",
      "the upgrade finished before the kill",
    );

    // The kill left temporary files, and no backup under a backup's name:
    // a partial copy is never taken for a whole one.
    const afterKill = await listing(dir);
    assert.ok(
      afterKill.some((n) =>
        /^audit\.csv\.v0\.bak\.[0-9a-f-]{36}\.tmp$/.test(n)
      ),
      `no partial backup left to clean: ${afterKill}`,
    );
    assert.ok(
      afterKill.some((n) => /^audit\.csv\.[0-9a-f-]{36}\.tmp$/.test(n)),
      `no partial new layout left to clean: ${afterKill}`,
    );
    assert.deepEqual(afterKill.filter((n) => n.endsWith(".bak")), []);

    // The original is untouched and reads as before.
    assert.equal(await Deno.readTextFile(path), original);
    let store = await openCsvHistoryStore(path);
    // Opening removed what the killed upgrade left, and only that.
    assert.deepEqual(
      await listing(dir),
      ["audit.csv", ...USER_FILES].sort(),
    );
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
    // Exactly one backup, a whole copy of the original, and nothing else.
    assert.deepEqual(
      await listing(dir),
      ["audit.csv", "audit.csv.v0.bak", ...USER_FILES].sort(),
    );
    assert.equal(await Deno.readTextFile(`${dir}/audit.csv.v0.bak`), original);
    for (const name of USER_FILES) {
      assert.equal(await Deno.readTextFile(`${dir}/${name}`), "mine\n");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("opening a CSV history while another process upgrades it leaves that upgrade's files alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_csv_migration_" });
  try {
    const path = `${dir}/audit.csv`;
    const original = legacyCsv();
    await Deno.writeTextFile(path, original);
    const child = appender(path);
    let exited = false;
    child.status.then(() => exited = true);
    // Open while the other process writes its temporary files.
    while (!exited && (await tempFiles(dir)).length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assert.ok(!exited, "the upgrade ended before it could be watched");
    const store = await openCsvHistoryStore(path);
    await store.close();
    // The open waited for the upgrade's lock: the upgrade still completed.
    const done = await child.output();
    assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
    assert.deepEqual(await listing(dir), ["audit.csv", "audit.csv.v0.bak"]);
    assert.equal(await Deno.readTextFile(`${dir}/audit.csv.v0.bak`), original);
    assert.ok(
      (await Deno.readTextFile(path)).startsWith("schema_version,run_id,"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
