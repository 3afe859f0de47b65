import assert from "node:assert/strict";
import postgres from "postgres";
import { parse } from "csv-parse/sync";
import { openHistoryStore } from "../src/adapters/history/open_history_store.ts";

const WRITER = new URL("./_history_writer.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const WRITERS = 3;
const COUNT = 120;
const BATCH = 2;

/** Runs the writers as separate processes at once; returns their spans. */
async function runWriters(
  target: string,
): Promise<{ first: number; last: number }[]> {
  const sync = await Deno.makeTempDir({ prefix: "kpi_history_sync_" });
  try {
    const children = Array.from(
      { length: WRITERS },
      (_, writer) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--config",
            CONFIG,
            WRITER,
            target,
            String(writer + 1),
            String(COUNT),
            String(BATCH),
            sync,
          ],
          stdout: "piped",
          stderr: "piped",
        }).spawn(),
    );
    const outputs = Promise.all(children.map((child) => child.output()));
    // Start them together once every one has its store open.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = [];
      for await (const entry of Deno.readDir(sync)) ready.push(entry.name);
      if (ready.length >= WRITERS || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Deno.writeTextFile(`${sync}/go`, "");
    return (await outputs).map((output, i) => {
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, `writer ${i + 1} failed: ${stderr}`);
      return JSON.parse(new TextDecoder().decode(output.stdout));
    });
  } finally {
    await Deno.remove(sync, { recursive: true });
  }
}

/** Checks that every writer's every row came back, whole and in order. */
async function checkAllRows(
  target: string,
  spans: { first: number; last: number }[],
): Promise<void> {
  // The writers really overlapped in time.
  const latestStart = Math.max(...spans.map((s) => s.first));
  const earliestEnd = Math.min(...spans.map((s) => s.last));
  assert.ok(
    latestStart < earliestEnd,
    `writers did not overlap: ${JSON.stringify(spans)}`,
  );

  const store = await openHistoryStore(target);
  try {
    const results = await store.history("load", WRITERS * COUNT + 10);
    assert.equal(results.length, WRITERS * COUNT);
    const seen = new Set(results.map((r) => r.value));
    assert.equal(seen.size, WRITERS * COUNT);
    for (let w = 1; w <= WRITERS; w++) {
      for (let j = 0; j < COUNT; j++) {
        assert.ok(
          seen.has(w * 100_000 + j + 0.5),
          `row ${j} of writer ${w} lost`,
        );
      }
    }
    for (const result of results) {
      const j = result.queryDurationMs;
      const writer = Math.floor(result.value! / 100_000);
      assert.deepStrictEqual(result, {
        name: "load",
        label: `Load, "writer" ${writer}`,
        unit: null,
        value: writer * 100_000 + j + 0.5,
        periodStart: "2024-11-01",
        periodEnd: "2024-12-01",
        comparisons: {},
        momChangePct: null,
        yoyChangePct: null,
        alertStatus: "ok",
        alertsTriggered: [],
        queryDurationMs: j,
        error: j % 7 === 0 ? `line one\nline two of ${j}` : null,
        note: null,
      });
    }
    // Newest first: the run second j of every writer before second j - 1.
    const seconds = results.map((r) => r.queryDurationMs);
    assert.deepStrictEqual(seconds, [...seconds].sort((a, b) => b - a));
    const deliveries = await store.deliveries("load", 10_000);
    assert.equal(deliveries.length, WRITERS * (COUNT / BATCH));
    for (let w = 1; w <= WRITERS; w++) {
      const state = await store.getAlertState("load", `writer-${w}`);
      assert.equal(
        state?.lastSentAt,
        new Date(Date.UTC(2024, 11, 1, 0, 0, COUNT - BATCH)).toISOString(),
      );
    }
  } finally {
    await store.close();
  }
}

Deno.test("SQLite history loses no row with three processes appending at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_history_" });
  try {
    const target = `${dir}/history.db`;
    await checkAllRows(target, await runWriters(target));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CSV history loses no row with three processes appending at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_history_" });
  try {
    const target = `${dir}/audit.csv`;
    await checkAllRows(target, await runWriters(target));
    // Every line of the file parses into a whole row; one header.
    const rows = parse(await Deno.readTextFile(target)) as string[][];
    assert.equal(rows.length, 1 + WRITERS * COUNT);
    assert.equal(rows.filter((r) => r[0] === "schema_version").length, 1);
    assert.ok(rows.every((r) => r.length === rows[0]!.length));
    const states = JSON.parse(
      await Deno.readTextFile(`${dir}/audit.alerts.json`),
    );
    assert.equal(states.states.length, WRITERS);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KV history in a file loses no row with three processes appending at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_history_" });
  try {
    const target = `kv:${dir}/kpi.kv`;
    await checkAllRows(target, await runWriters(target));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PostgreSQL history loses no row with three processes appending at once", async () => {
  const schema = `kpi_conc_${
    crypto.randomUUID().replaceAll("-", "").slice(0, 12)
  }`;
  try {
    const target = `${PG_URL}?schema=${schema}`;
    await checkAllRows(target, await runWriters(target));
  } finally {
    const sql = postgres(PG_URL, { onnotice: () => {} });
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await sql.end({ timeout: 5 });
  }
});
