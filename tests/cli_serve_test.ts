import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function shopConfig(dir: string, extra = ""): Promise<string> {
  const db = new DatabaseSync(join(dir, "shop.db"));
  db.exec("CREATE TABLE orders (day TEXT, amount REAL)");
  db.exec(
    "INSERT INTO orders VALUES ('2024-10-05', 10.5), ('2024-11-02', 20.25), ('2024-11-20', 30)",
  );
  db.close();
  const config = join(dir, "kpis.yaml");
  await Deno.writeTextFile(
    config,
    `connection: sqlite:./shop.db
audit_log: history.db
${extra}
kpis:
  - name: revenue
    source: sql
    table: orders
    column: amount
    aggregation: sum
    time_column: day
    compare: [MoM]
`,
  );
  return config;
}

/** Reads a child's stderr until a line matches, keeping what was read. */
async function waitFor(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  seen: string[],
): Promise<RegExpExecArray> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const joined = seen.join("");
    const match = pattern.exec(joined);
    if (match) return match;
    const { value, done } = await reader.read();
    if (done) break;
    seen.push(value);
  }
  throw new Error(`No ${pattern} in: ${seen.join("")}`);
}

Deno.test("cli.ts serve reads PORT, binds 127.0.0.1, answers with the token, registers the file's schedules on Deno.cron and stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = await shopConfig(
      dir,
      `schedules:\n  - cron: "0 6 * * *"\n    period: yesterday`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        CLI,
        "serve",
        "-c",
        config,
      ],
      // PORT and HOST are read as server.ts reads them; 127.0.0.1 by default.
      env: { KPI_API_TOKEN: "t0ken", PORT: "0" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    const seen: string[] = [];
    try {
      const [, port] = await waitFor(
        reader,
        /Listening on http:\/\/localhost:(\d+)\/ \(bound to 127\.0\.0\.1; bearer token required\)/,
        seen,
      );
      await waitFor(
        reader,
        /Schedule 1: "0 6 \* \* \*" \(UTC, Deno\.cron\) computes yesterday/,
        seen,
      );
      const denied = await fetch(
        `http://127.0.0.1:${port}/kpis/revenue?period=2024-11`,
      );
      assert.equal(denied.status, 401);
      await denied.body?.cancel();
      const ok = await fetch(
        `http://127.0.0.1:${port}/kpis/revenue?period=2024-11`,
        {
          headers: { Authorization: "Bearer t0ken" },
        },
      );
      assert.equal(ok.status, 200);
      const revenue = await ok.json();
      assert.equal(revenue.value, 50.25);
      assert.equal(revenue.comparisons.MoM.previousValue, 10.5);
    } finally {
      child.kill("SIGTERM");
      const status = await child.status;
      reader.releaseLock();
      await child.stderr.cancel().catch(() => {});
      assert.equal(status.code, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli.ts schedule runs on its cron, records history and finishes the run in flight on SIGINT", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = await shopConfig(dir);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        CLI,
        "schedule",
        "-c",
        config,
        "--cron",
        "* * * * * *",
        "--period",
        "2024-11",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    const seen: string[] = [];
    try {
      await waitFor(reader, /Ran 2024-11[\s\S]*Ran 2024-11/, seen);
    } finally {
      child.kill("SIGINT");
      const status = await child.status;
      reader.releaseLock();
      await child.stderr.cancel().catch(() => {});
      assert.equal(status.code, 0, seen.join(""));
    }
    const history = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        CLI,
        "history",
        "-c",
        config,
        "revenue",
        "-f",
        "json",
      ],
      stdout: "piped",
    }).output();
    const { results } = JSON.parse(new TextDecoder().decode(history.stdout));
    assert.ok(results.length >= 2, `${results.length} runs recorded`);
    assert.equal(results[0].value, 50.25);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli.ts serve with a missing or invalid --config exits 2 (bad usage), as run does, naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = join(dir, "bad.yaml");
    await Deno.writeTextFile(bad, "kpis:\n  - name: x\n    source: nope\n");
    for (
      const [config, pattern] of [
        [join(dir, "missing.yaml"), /missing\.yaml/],
        [bad, /bad\.yaml:3/],
      ] as const
    ) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "serve", "--config", config, "--port", "0"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 2, stderr);
      assert.match(stderr, pattern);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli.ts serve on a port in use says which address and how to choose another", async () => {
  const dir = await Deno.makeTempDir();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const config = await shopConfig(dir);
    const port = (taken.addr as Deno.NetAddr).port;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        CLI,
        "serve",
        "--config",
        config,
        "--port",
        `${port}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0);
    assert.match(
      stderr,
      new RegExp(
        `Cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use.*--port`,
      ),
    );
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});
