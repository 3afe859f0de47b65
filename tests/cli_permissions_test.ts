/**
 * Runs each command with exactly the permission flags docs/cli.md lists for
 * it, so that the documented minimum is the tested one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";

const ROOT = new URL("..", import.meta.url).pathname;
const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

/** The permissions table of docs/cli.md: command text → flags. */
async function documentedFlags(): Promise<Map<string, string[]>> {
  const text = await Deno.readTextFile(join(ROOT, "docs/cli.md"));
  const section = text.slice(text.indexOf("## Permissions"));
  const rows = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    const m = /^\| (`[a-z]+`.*?)\s*\| `(--allow[^`]*)`\s*\|$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.split(" "));
  }
  return rows;
}

function command(flags: string[], args: string[], env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "cli.ts", ...args],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
}

async function runWith(
  flags: string[],
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await command(flags, args, env).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return {
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
  };
}

/** Starts a long-running command, waits for a line, then stops it. */
async function untilLine(
  flags: string[],
  args: string[],
  env: Record<string, string>,
  wanted: RegExp,
  then: (match: RegExpExecArray) => Promise<void>,
): Promise<string> {
  const child = command(flags, args, env).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
      const match = wanted.exec(seen);
      if (match) {
        await then(match);
        break;
      }
    }
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // It has ended already.
    }
    reader.releaseLock();
    await child.stderr.cancel().catch(() => {});
    await child.stdout.cancel();
    await child.status;
  }
  return seen;
}

Deno.test("each command runs with exactly the permission flags docs/cli.md lists", async () => {
  const flags = await documentedFlags();
  const flagsOf = (row: string): string[] => {
    const found = flags.get(row);
    assert.ok(found, `docs/cli.md lists ${row}: ${[...flags.keys()]}`);
    return found;
  };
  const dir = await Deno.makeTempDir({ prefix: "kpi_permissions_" });
  const schema = `kpi_p_${
    crypto.randomUUID().replaceAll("-", "").slice(0, 12)
  }`;
  const sql = postgres(PG_URL, { onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE SCHEMA ${schema}`);
    await sql.unsafe(
      `CREATE TABLE ${schema}.orders (day date, amount numeric); INSERT INTO ${schema}.orders VALUES ('2024-11-05', 40), ('2024-11-20', 2)`,
    );
    const db = new DatabaseSync(join(dir, "shop.db"));
    db.exec(
      "CREATE TABLE orders (day TEXT, amount REAL); INSERT INTO orders VALUES ('2024-11-05', 40), ('2024-11-20', 2)",
    );
    db.close();
    const kpi = (table: string) =>
      [
        "kpis:",
        "  - name: revenue",
        "    source: sql",
        `    table: ${table}`,
        "    column: amount",
        "    aggregation: sum",
        "    time_column: day",
      ].join("\n");
    await Deno.writeTextFile(
      join(dir, "pg.yaml"),
      `connection: \${DATABASE_URL}\n${kpi(`${schema}.orders`)}\n`,
    );
    await Deno.writeTextFile(
      join(dir, "pg_history.yaml"),
      // Under --no-history the audit_log is never opened (no --allow-write).
      `connection: \${DATABASE_URL}\naudit_log: history.db\n${
        kpi(`${schema}.orders`)
      }\n`,
    );
    await Deno.writeTextFile(
      join(dir, "lite.yaml"),
      `connection: sqlite:./shop.db\naudit_log: history.db\n${kpi("orders")}\n`,
    );
    const pgEnv = { DATABASE_URL: PG_URL };
    const pg = join(dir, "pg.yaml");
    const lite = join(dir, "lite.yaml");

    const validate = await runWith(
      flagsOf("`validate`"),
      ["validate", "-c", pg],
      pgEnv,
    );
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout, /✔/);
    // Only the variables read are needed: the whole environment is not.
    const narrow = await runWith(
      ["--allow-read", "--allow-env=LOG_TOKENS,LOG_STREAM,DATABASE_URL"],
      ["validate", "-c", pg],
      { ...pgEnv, OTHER_SECRET: "x" },
    );
    assert.equal(narrow.code, 0, narrow.stderr);

    const runPg = await runWith(
      flagsOf(
        "`run` on PostgreSQL or MySQL, with `--no-history` or no `audit_log`",
      ),
      [
        "run",
        "-c",
        join(dir, "pg_history.yaml"),
        "-p",
        "2024-11",
        "-f",
        "csv",
        "--no-history",
      ],
      pgEnv,
    );
    assert.equal(runPg.code, 0, runPg.stderr);
    assert.match(runPg.stdout, /\nrevenue,revenue,,42,2024-11-01,2024-12-01,/);
    assert.equal(
      await Deno.stat(join(dir, "history.db")).then(() => true, () => false),
      false,
    );

    const runLite = await runWith(
      flagsOf("`run` on SQLite with a file `audit_log` (SQLite, CSV or KV)"),
      ["run", "-c", lite, "-p", "2024-11", "-f", "csv"],
    );
    assert.equal(runLite.code, 0, runLite.stderr);
    assert.match(runLite.stdout, /\nrevenue,revenue,,42,/);

    const history = await runWith(
      flagsOf("`history` from a file `audit_log`"),
      ["history", "-c", lite, "revenue", "-f", "csv"],
    );
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /\nrevenue,revenue,,42,2024-11-01,/);

    const served = await untilLine(
      flagsOf("`serve` on PostgreSQL or MySQL"),
      ["serve", "-c", pg, "--port", "0", "--hostname", "127.0.0.1"],
      pgEnv,
      /http:\/\/(?:127\.0\.0\.1|localhost):(\d+)\//,
      async (match) => {
        const response = await fetch(
          `http://127.0.0.1:${match[1]}/kpis/revenue?period=2024-11`,
        );
        assert.equal(response.status, 200);
        assert.equal((await response.json()).value, 42);
      },
    );
    assert.doesNotMatch(served, /Requires .* access/);

    const scheduled = await untilLine(
      flagsOf("`schedule` on PostgreSQL or MySQL"),
      ["schedule", "-c", pg, "--cron", "0 6 * * *"],
      pgEnv,
      /Scheduled "0 6 \* \* \*".*next run at/,
      () => Promise.resolve(),
    );
    assert.doesNotMatch(scheduled, /Requires .* access/);
    assert.equal(flags.size, 6, "every documented row is run here");
  } finally {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.end();
    await Deno.remove(dir, { recursive: true });
  }
});
