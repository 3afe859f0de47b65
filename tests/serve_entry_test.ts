import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  prepareServer,
  readServerSettings,
  serverSettings,
} from "../server.ts";
import { listenMessage } from "../src/adapters/runtime/serve/listen_message.ts";
import { main } from "../src/adapters/runtime/cli/main.ts";
import type { CronRegistrar } from "../mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function shopDir(extra = ""): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "kpi_serve_entry_" });
  const db = new DatabaseSync(join(dir, "shop.db"));
  db.exec(
    "CREATE TABLE orders (amount REAL, order_date TEXT);" +
      "INSERT INTO orders VALUES (100, '2024-11-02'), (250.5, '2024-11-20');",
  );
  db.close();
  await Deno.writeTextFile(
    join(dir, "kpis.yaml"),
    [
      "connection: sqlite:./shop.db",
      extra,
      "kpis:",
      "  - name: revenue",
      "    source: sql",
      "    table: orders",
      "    column: amount",
      "    aggregation: sum",
      "    time_column: order_date",
      "",
    ].join("\n"),
  );
  return dir;
}

/** Reads a child's stderr until the text read so far matches. */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  seen: { text: string },
): Promise<RegExpExecArray> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const match = pattern.exec(seen.text);
    if (match) return match;
    const { value, done } = await reader.read();
    if (done) break;
    seen.text += value;
  }
  throw new Error(`No ${pattern} in:\n${seen.text}`);
}

async function drain(
  child: Deno.ChildProcess,
  reader: ReadableStreamDefaultReader<string>,
  seen: { text: string },
): Promise<Deno.CommandStatus> {
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      seen.text += value;
    }
  })();
  const [status] = await Promise.all([child.status, rest]);
  return status;
}

Deno.test("serverSettings() binds 127.0.0.1 unless --hostname, HOST or Deno Deploy say otherwise", () => {
  assert.equal(serverSettings({}, {}).hostname, "127.0.0.1");
  assert.equal(readServerSettings([], {}).hostname, "127.0.0.1");
  assert.equal(serverSettings({}, { HOST: "0.0.0.0" }).hostname, "0.0.0.0");
  assert.equal(
    serverSettings({ hostname: "::1" }, { HOST: "0.0.0.0" }).hostname,
    "::1",
  );
  const deploy = serverSettings({}, { DENO_DEPLOYMENT_ID: "abc123" });
  assert.equal(deploy.hostname, "0.0.0.0");
  assert.equal(deploy.deploy, true);
  assert.equal(serverSettings({}, { PORT: "9001" }).port, 9001);
  assert.equal(readServerSettings(["--", "--port", "7"], {}).port, 7);
});

Deno.test("listenMessage() prints a localhost link and warns only when open to others without a token", () => {
  assert.deepEqual(
    listenMessage({ hostname: "127.0.0.1", port: 8000 }, { secured: false }),
    ["Listening on http://localhost:8000/ (bound to 127.0.0.1)"],
  );
  const open = listenMessage({ hostname: "0.0.0.0", port: 8000 }, {
    secured: false,
  });
  assert.equal(
    open[0],
    "Listening on http://localhost:8000/ (bound to 0.0.0.0)",
  );
  assert.match(
    open[1] ?? "",
    /^WARNING: listening on 0\.0\.0\.0 without KPI_API_TOKEN/,
  );
  assert.equal(
    listenMessage({ hostname: "0.0.0.0", port: 80 }, { secured: true }).length,
    1,
  );
  assert.deepEqual(
    listenMessage({ hostname: "10.1.2.3", port: 80 }, { secured: true }),
    ["Listening on http://10.1.2.3:80/ (bound to 10.1.2.3; bearer token required)"],
  );
  assert.equal(
    listenMessage({ hostname: "::1", port: 1 }, { secured: false }).length,
    1,
  );
});

Deno.test("prepareServer() registers the file's UTC schedules with Deno.cron before it returns, then opens the engine", async () => {
  const dir = await shopDir(
    [
      "audit_log: history.db",
      "schedules:",
      "  - cron: '0 6 * * *'",
      "    period: 2024-11",
      "  - cron: '0 7 1 * *'",
      "    timezone: America/Toronto",
    ].join("\n"),
  );
  const registered: {
    name: string;
    schedule: string;
    handler: () => unknown;
  }[] = [];
  const fakeCron: CronRegistrar = (name, schedule, options, handler) => {
    registered.push({ name, schedule, handler });
    // Like Deno.cron: settles once its signal aborts.
    return new Promise((resolve) =>
      options.signal?.addEventListener("abort", () => resolve())
    );
  };
  const lines: string[] = [];
  try {
    const server = prepareServer(
      serverSettings({ config: join(dir, "kpis.yaml") }, {}),
      { denoCron: fakeCron, log: (line) => lines.push(line) },
    );
    // Synchronously: no await has happened since the call.
    assert.deepEqual(
      registered.map((r) => [r.name, r.schedule]),
      [["kpi-engine schedule 1", "0 6 * * *"]],
    );
    assert.match(
      lines.join("\n"),
      /Schedule 2: "0 7 1 \* \*" \(America\/Toronto, timer\)/,
    );
    // A cron fire waits for the engine, then computes and records.
    await registered[0]?.handler();
    assert.match(
      lines.join("\n"),
      /Schedule 1 ran 2024-11 \(2024-11-01\.\.2024-12-01\): 1 KPI\(s\)/,
    );
    const { engine } = await server.ready;
    assert.equal((await engine.history("revenue", 5))[0]?.value, 350.5);
    const response = await server.fetch(
      new Request("http://localhost/kpis/revenue?period=2024-11"),
    );
    assert.equal((await response.json()).value, 350.5);
    await server.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("prepareServer() warns on Deno Deploy about a file audit_log and a schedule on a timer", async () => {
  const dir = await shopDir(
    [
      "audit_log: 'sqlite::memory:'",
      "schedules:",
      "  - cron: '0 7 1 * *'",
      "    timezone: America/Toronto",
    ].join("\n"),
  );
  const lines: string[] = [];
  try {
    const server = prepareServer(
      serverSettings({ config: join(dir, "kpis.yaml") }, {
        DENO_DEPLOYMENT_ID: "x1",
      }),
      { log: (line) => lines.push(line) },
    );
    await server.close();
    assert.match(
      lines.join("\n"),
      /WARNING: Schedule 1 runs on an in-process timer, which Deno Deploy does not keep alive/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli.ts validate warns on Deno Deploy when audit_log is a file", async () => {
  const dir = await shopDir("audit_log: history.db");
  try {
    const run = async (env: Record<string, string>) => {
      let out = "";
      let err = "";
      const code = await main(["validate", "-c", join(dir, "kpis.yaml")], {
        stdout: (text) => void (out += text),
        stderr: (text) => void (err += text),
        isTerminal: false,
        env,
      });
      return { code, out, err };
    };
    const local = await run({});
    assert.equal(local.code, 0);
    assert.equal(local.err, "");
    const deploy = await run({ DENO_DEPLOYMENT_ID: "x1" });
    assert.equal(deploy.code, 0);
    assert.match(deploy.out, /✔/);
    assert.match(
      deploy.err,
      /WARNING: audit_log "history\.db" is a SQLITE file, but the file system on Deno Deploy is read-only: use audit_log: kv:/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an audit_log in Deno KV without the unstable KV API says what to add", async () => {
  const dir = await shopDir("audit_log: kv:./history.kv");
  try {
    const denoJson = JSON.parse(
      await Deno.readTextFile(join(ROOT, "deno.json")),
    );
    delete denoJson.unstable;
    await Deno.writeTextFile(
      join(dir, "deno.json"),
      JSON.stringify({ imports: denoJson.imports }),
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-lock",
        "--config",
        join(dir, "deno.json"),
        join(ROOT, "cli.ts"),
        "run",
        "-c",
        join(dir, "kpis.yaml"),
        "--period",
        "2024-11",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.notEqual(output.code, 0);
    assert.doesNotMatch(stderr, /openKv is not a function/);
    assert.match(
      stderr,
      /Cannot open audit_log "kv:\.\/history\.kv": Deno KV is an unstable API here\. Run with --unstable-kv, or add "unstable": \["kv"\] to deno\.json/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server.ts warns loudly when HOST opens it to other machines without a token", async () => {
  const dir = await shopDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "server.ts"],
      cwd: ROOT,
      env: { KPI_CONFIG: join(dir, "kpis.yaml"), HOST: "0.0.0.0", PORT: "0" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    const seen = { text: "" };
    try {
      await readUntil(
        reader,
        /Listening on http:\/\/localhost:\d+\/ \(bound to 0\.0\.0\.0\)\nWARNING: listening on 0\.0\.0\.0 without KPI_API_TOKEN/,
        seen,
      );
    } finally {
      child.kill("SIGTERM");
      assert.equal((await drain(child, reader, seen)).code, 0, seen.text);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno serve server.ts serves the file, registers its schedules and stops on SIGTERM", async () => {
  const dir = await shopDir(
    ["audit_log: history.db", "schedules:", "  - cron: '0 6 * * *'"].join(
      "\n",
    ),
  );
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "serve",
        "-A",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "server.ts",
        "--config",
        join(dir, "kpis.yaml"),
      ],
      cwd: ROOT,
      env: { KPI_API_TOKEN: "tok-9" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    const seen = { text: "" };
    try {
      const [, port] = await readUntil(
        reader,
        /Listening on http:\/\/localhost:(\d+)\/ \(bound to 127\.0\.0\.1; bearer token required\)/,
        seen,
      );
      assert.match(
        seen.text,
        /Schedule 1: "0 6 \* \* \*" \(UTC, Deno\.cron\) computes last_month/,
      );
      const denied = await fetch(`http://127.0.0.1:${port}/kpis`);
      assert.equal(denied.status, 401);
      await denied.body?.cancel();
      const ok = await fetch(
        `http://127.0.0.1:${port}/kpis/revenue?period=2024-11`,
        { headers: { Authorization: "Bearer tok-9" } },
      );
      assert.equal((await ok.json()).value, 350.5);
    } finally {
      child.kill("SIGTERM");
      const status = await drain(child, reader, seen);
      assert.equal(status.code, 0, seen.text);
    }
    assert.doesNotMatch(seen.text, /requires export default/);
    assert.match(seen.text, /Stopping/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the Deno Deploy recipe of docs/server.md serves, schedules on Deno.cron and keeps history in PostgreSQL", async () => {
  const page = await Deno.readTextFile(join(ROOT, "docs/server.md"));
  const block = /```yaml\n( *)(# kpis\.yaml, for Deno Deploy[\s\S]*?)```/
    .exec(page);
  const yaml = block?.[2]?.replaceAll(`\n${block[1]}`, "\n");
  assert.ok(yaml, "docs/server.md has the Deploy recipe's kpis.yaml");
  const dir = await shopDir();
  await Deno.writeTextFile(join(dir, "deploy.yaml"), yaml);
  const schema = `kpi_deploy_${crypto.randomUUID().slice(0, 8)}`;
  const { default: postgres } = await import("postgres");
  const admin = postgres("postgres://postgres@127.0.0.1:5432/test", {
    onnotice: () => {},
  });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "server.ts"],
      cwd: ROOT,
      env: {
        DENO_DEPLOYMENT_ID: "recipe-test",
        KPI_CONFIG: join(dir, "deploy.yaml"),
        KPI_API_TOKEN: "deploy-token",
        DATABASE_URL: `sqlite:${join(dir, "shop.db")}`,
        HISTORY_URL: `postgres://postgres@127.0.0.1:5432/test?schema=${schema}`,
        // Deploy listens on 0.0.0.0; tests stay on loopback.
        HOST: "127.0.0.1",
        PORT: "0",
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    const seen = { text: "" };
    try {
      const [, port] = await readUntil(
        reader,
        /Listening on http:\/\/localhost:(\d+)\//,
        seen,
      );
      assert.match(
        seen.text,
        /Schedule 1: "0 6 \* \* \*" \(UTC, Deno\.cron\) computes yesterday/,
      );
      assert.doesNotMatch(seen.text, /WARNING/);
      const auth = { headers: { Authorization: "Bearer deploy-token" } };
      const base = `http://127.0.0.1:${port}`;
      // A request records history only when it asks to (record=true).
      const result = await fetch(
        `${base}/kpis/revenue?period=2024-11&record=true`,
        auth,
      );
      assert.equal((await result.json()).value, 350.5);
      const history = await fetch(`${base}/kpis/revenue/history?n=5`, auth);
      const { results } = await history.json();
      assert.equal(results[0]?.value, 350.5);
    } finally {
      child.kill("SIGTERM");
      assert.equal((await drain(child, reader, seen)).code, 0, seen.text);
    }
  } finally {
    await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    await Deno.remove(dir, { recursive: true });
  }
});
