/**
 * A database that goes away in the middle of a query: the KPI running on it
 * gets an error, the others are computed, `cli.ts run` exits 3 and
 * `cli.ts serve` keeps answering and recovers once the database is back.
 * Each test starts its own PostgreSQL or MariaDB server (see
 * `_private_postgres.ts` and `_private_mariadb.ts`) and stops it mid-query.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startPrivatePostgres } from "./_private_postgres.ts";
import { startPrivateMariaDb } from "./_private_mariadb.ts";
import postgres from "postgres";
import mysql from "mysql2/promise";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/**
 * The slow KPI's query sleeps far longer than the test lets it run (the
 * server is stopped once it is seen running), and less than `timeout_ms`'s
 * default (30 s), so that only the stop can end it.
 */
const SLOW = {
  postgres: "SELECT 1 + 0*length(pg_sleep(20)::text)",
  mysql: "SELECT 1 + 0*SLEEP(20)",
};

/**
 * The fast KPI's query takes a session lock as it runs, so another
 * connection can see when it has finished (its session holds the lock and
 * is idle).
 */
const FAST = {
  postgres: "SELECT 2 + 0*pg_try_advisory_lock(4242)::int",
  mysql: "SELECT 2 + 0*GET_LOCK('kpi_fast_done', 0)",
};

/** How long to wait for a condition before saying it never came. */
const PATIENCE_MS = 120_000;

/**
 * Resolves once the slow query is running on the server (seen from another
 * connection) and, with `fastDone`, once the fast query has finished, so the
 * server is stopped mid-query, after the fast KPI got its answer, however
 * loaded the machine is.
 */
async function whenRunning(url: string, fastDone = false): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  if (url.startsWith("postgres")) {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      while (Date.now() < deadline) {
        const [row] = await sql.unsafe(
          `SELECT
             EXISTS (SELECT 1 FROM pg_stat_activity
                     WHERE query LIKE '%pg' || '_sleep(20)%' AND state = 'active'
                       AND pid <> pg_backend_pid()) AS slow,
             EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                     WHERE l.locktype = 'advisory' AND l.objid = 4242
                       AND l.granted AND a.state = 'idle') AS fast`,
        );
        if (row!.slow && (!fastDone || row!.fast)) return;
        await sleep(20);
      }
    } finally {
      await sql.end({ timeout: 0 });
    }
  } else {
    const conn = await mysql.createConnection({ uri: url });
    try {
      while (Date.now() < deadline) {
        const [rows] = await conn.query(
          `SELECT
             (SELECT COUNT(*) FROM information_schema.processlist
              WHERE info LIKE CONCAT('%SLEEP', '(20)%') AND id <> CONNECTION_ID()) AS slow,
             (SELECT COUNT(*) FROM information_schema.processlist
              WHERE id = IS_USED_LOCK('kpi_fast_done') AND command = 'Sleep') AS fast`,
        );
        const [row] = rows as { slow: number; fast: number }[];
        if (Number(row!.slow) > 0 && (!fastDone || Number(row!.fast) > 0)) {
          return;
        }
        await sleep(20);
      }
    } finally {
      await conn.end();
    }
  }
  throw new Error(
    fastDone
      ? "The slow query never started, or the fast one never finished"
      : "The slow query never started",
  );
}

async function writeConfig(
  dir: string,
  url: string,
  dialect: "postgres" | "mysql",
): Promise<string> {
  const config = join(dir, "kpis.yaml");
  await Deno.writeTextFile(
    config,
    `connection: ${url}
kpis:
  - name: slow
    source: sql
    query: ${SLOW[dialect]}
  - name: fast
    source: sql
    query: ${FAST[dialect]}
`,
  );
  return config;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runCliWhileStopping(
  config: string,
  url: string,
  stop: () => Promise<void>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", "-c", config, "--format", "json"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The fast KPI's answer came before the stop: it must be in the report.
  await whenRunning(url, true);
  await stop();
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

function assertPerKpiError(
  out: { code: number; stdout: string; stderr: string },
  server: RegExp,
): void {
  assert.doesNotMatch(out.stderr, /Uncaught/);
  assert.equal(out.code, 3, out.stderr);
  const report = JSON.parse(out.stdout);
  const [slow, fast] = report.results;
  assert.equal(slow.name, "slow");
  assert.equal(slow.value, null);
  assert.match(slow.error, server);
  assert.equal(fast.value, 2);
  assert.equal(fast.error, null);
}

Deno.test("cli.ts run exits 3 with a per-KPI error when PostgreSQL stops mid-query (fast and immediate)", async () => {
  const pg = await startPrivatePostgres();
  const dir = await Deno.makeTempDir();
  try {
    const config = await writeConfig(dir, pg.url, "postgres");
    for (const mode of ["fast", "immediate"] as const) {
      const out = await runCliWhileStopping(
        config,
        pg.url,
        () => pg.stop(mode),
      );
      assertPerKpiError(
        out,
        new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${pg.port}`),
      );
      await pg.start();
    }
  } finally {
    await pg.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli.ts run exits 3 with a per-KPI error when MariaDB is killed mid-query", async () => {
  const db = await startPrivateMariaDb();
  const dir = await Deno.makeTempDir();
  try {
    const config = await writeConfig(dir, db.url, "mysql");
    const out = await runCliWhileStopping(
      config,
      db.url,
      () => db.stop("SIGKILL"),
    );
    assertPerKpiError(out, new RegExp(`MySQL at 127\\.0\\.0\\.1:${db.port}`));
  } finally {
    await db.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Starts `cli.ts serve` on a free port; returns its base URL. */
async function startServe(
  config: string,
): Promise<{ base: string; child: Deno.ChildProcess; log: () => string }> {
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
  const seen: string[] = [];
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + PATIENCE_MS;
  let port: string | undefined;
  while (Date.now() < deadline && port === undefined) {
    const { value, done } = await reader.read();
    if (done) break;
    seen.push(value);
    port = /Listening on http:\/\/[^:]+:(\d+)\//.exec(seen.join(""))?.[1];
  }
  if (port === undefined) throw new Error(`serve did not start: ${seen}`);
  // Keep draining stderr so the child never blocks on a full pipe.
  (async () => {
    while (true) {
      const { value, done } = await reader.read().catch(() => ({
        value: undefined,
        done: true,
      }));
      if (done) break;
      seen.push(value ?? "");
    }
  })();
  return {
    base: `http://127.0.0.1:${port}`,
    child,
    log: () => seen.join(""),
  };
}

async function getJson(
  url: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

async function serveSurvives(
  config: string,
  url: string,
  stop: () => Promise<void>,
  restart: () => Promise<void>,
): Promise<void> {
  const server = await startServe(config);
  try {
    const slow = fetch(`${server.base}/kpis/slow?period=2024-11`);
    await whenRunning(url);
    await stop();
    const answer = await slow;
    assert.equal(answer.status, 200);
    const result = await answer.json();
    assert.equal(result.value, null);
    assert.match(String(result.error), /connection/i);
    // Still serving while the database is down.
    const down = await getJson(`${server.base}/kpis/fast?period=2024-10`);
    assert.equal(down.body.value, null);
    assert.notEqual(down.body.error, null);
    await restart();
    // The next request after the database returns succeeds.
    const up = await getJson(`${server.base}/kpis/fast?period=2024-09`);
    assert.equal(up.status, 200, server.log());
    assert.equal(up.body.value, 2, JSON.stringify(up.body));
    assert.doesNotMatch(server.log(), /Uncaught/);
  } finally {
    server.child.kill("SIGTERM");
    const status = await server.child.status;
    assert.equal(status.code, 0, server.log());
  }
}

Deno.test("cli.ts serve keeps serving when PostgreSQL stops mid-query and answers once it is back", async () => {
  const pg = await startPrivatePostgres();
  const dir = await Deno.makeTempDir();
  try {
    const config = await writeConfig(dir, pg.url, "postgres");
    await serveSurvives(
      config,
      pg.url,
      () => pg.stop("fast"),
      () => pg.start(),
    );
  } finally {
    await pg.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli.ts serve keeps serving when MariaDB is killed mid-query and answers once it is back", async () => {
  const db = await startPrivateMariaDb();
  const dir = await Deno.makeTempDir();
  try {
    const config = await writeConfig(dir, db.url, "mysql");
    await serveSurvives(
      config,
      db.url,
      () => db.stop("SIGKILL"),
      () => db.start(),
    );
  } finally {
    await db.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
