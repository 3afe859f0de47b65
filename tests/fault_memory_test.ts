/**
 * Memory stays flat under load: `cli.ts serve` on SQLite (database and
 * history) answers a fixed number of requests to `/health`, the history
 * route and a KPI route, and its resident memory (from `/proc/PID/status`)
 * after them is compared with the memory after a warm-up of the same kind.
 * A ratio of request counts and memory, never a duration.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** Resident memory of a process, in MB. */
async function rssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb / 1024;
}

/** Sends `total` GET requests, `concurrency` at a time, cycling over paths. */
async function hammer(
  base: string,
  paths: readonly string[],
  total: number,
  concurrency: number,
): Promise<number> {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < total) {
      const path = paths[next++ % paths.length]!;
      const response = await fetch(`${base}${path}`);
      if (response.status !== 200) failures++;
      await response.body?.cancel();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
}

Deno.test("cli.ts serve keeps resident memory flat over 20,000 requests to /health, history and a KPI", async () => {
  const dir = await Deno.makeTempDir();
  const db = new DatabaseSync(join(dir, "shop.db"));
  db.exec("CREATE TABLE orders (day TEXT, amount REAL)");
  db.exec(
    "INSERT INTO orders VALUES ('2024-10-05', 10.5), ('2024-11-02', 20.25)",
  );
  db.close();
  const config = join(dir, "kpis.yaml");
  await Deno.writeTextFile(
    config,
    `connection: sqlite:./shop.db
audit_log: history.db
kpis:
  - name: revenue
    source: sql
    table: orders
    column: amount
    aggregation: sum
    time_column: day
`,
  );
  // One history row, so the history route reads something.
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", "-c", config, "--period", "2024-11"],
    stdout: "null",
  }).output();
  assert.equal(run.code, 0);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "serve",
      "-c",
      config,
      "--port",
      "0",
      "--hostname",
      "127.0.0.1",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream())
    .getReader();
  try {
    let seen = "";
    let port: string | undefined;
    while (port === undefined) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve did not start: ${seen}`);
      seen += value;
      port = /Listening on http:\/\/[^:]+:(\d+)\//.exec(seen)?.[1];
    }
    const base = `http://127.0.0.1:${port}`;
    // The KPI route is cached after its first answer; history and /health
    // reach SQLite (the health probe at most every few seconds).
    const paths = [
      "/health",
      "/kpis/revenue/history?n=5",
      "/kpis/revenue?period=2024-11",
      "/kpis/revenue/history?n=1",
    ];
    assert.equal(await hammer(base, paths, 4_000, 16), 0);
    const warm = await rssMb(child.pid);
    assert.equal(await hammer(base, paths, 20_000, 16), 0);
    const after = await rssMb(child.pid);
    assert.ok(
      after < warm * 1.25 && after - warm < 50,
      `RSS grew from ${warm.toFixed(1)} MB to ${after.toFixed(1)} MB`,
    );
    console.log(
      `RSS ${warm.toFixed(1)} MB after warm-up, ${after.toFixed(1)} MB after`,
    );
  } finally {
    child.kill("SIGTERM");
    await child.status;
    reader.releaseLock();
    await child.stderr.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
