import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { serve } from "../src/adapters/runtime/serve/serve.ts";
import { readServerSettings } from "../server.ts";
import { makeEngine, NOW, openCountingStore } from "./_server_fixture.ts";

Deno.test("serve() answers over a real port and stops on its signal", async () => {
  const history = await openCountingStore();
  const engine = makeEngine({ history });
  const stop = new AbortController();
  const lines: string[] = [];
  let listened = false;
  const server = serve({
    engine,
    token: "tok",
    now: () => NOW,
    port: 0,
    hostname: "127.0.0.1",
    signal: stop.signal,
    onListen: () => listened = true,
    log: (text) => lines.push(text),
  });
  try {
    assert.ok(listened);
    const base = `http://127.0.0.1:${server.addr.port}`;
    const denied = await fetch(`${base}/kpis/revenue?period=2024-11`);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    const ok = await fetch(`${base}/kpis/revenue?period=2024-11`, {
      headers: { Authorization: "Bearer tok" },
    });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).value, 7480);
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 401, "the page comes, asking for the token");
    assert.match(await page.text(), /<title>KPI dashboard<\/title>/);
  } finally {
    stop.abort();
    await server.finished;
    await engine.close();
  }
  assert.deepEqual(lines, []);
});

Deno.test("serve() rejects a port out of range", () => {
  assert.throws(
    () => serve({ engine: makeEngine(), port: 70000 }),
    /Invalid port 70000: expected an integer from 0 to 65535/,
  );
});

Deno.test("readServerSettings() takes flags over environment and defaults the rest", () => {
  assert.deepEqual(readServerSettings([], {}), {
    config: "kpis.yaml",
    port: 8000,
    hostname: "127.0.0.1",
    token: undefined,
    connection: undefined,
    deploy: false,
    env: {},
  });
  const env = {
    KPI_CONFIG: "a.yaml",
    PORT: "9000",
    HOST: "127.0.0.1",
    KPI_API_TOKEN: "t",
    KPI_DB: "sqlite:x.db",
  };
  const fromEnv = readServerSettings([], env);
  assert.equal(fromEnv.config, "a.yaml");
  assert.equal(fromEnv.port, 9000);
  assert.equal(fromEnv.hostname, "127.0.0.1");
  assert.equal(fromEnv.token, "t");
  assert.equal(fromEnv.connection, "sqlite:x.db");
  const flags = readServerSettings(
    ["--config", "b.yaml", "--port", "0", "--hostname", "::1", "--db", "y"],
    env,
  );
  assert.equal(flags.config, "b.yaml");
  assert.equal(flags.port, 0);
  assert.equal(flags.hostname, "::1");
  assert.equal(flags.connection, "y");
  assert.equal(readServerSettings([], { KPI_API_TOKEN: "" }).token, undefined);
  assert.throws(() => readServerSettings(["--port", "http"], {}), RangeError);
  assert.throws(() => readServerSettings(["--port", "65536"], {}), RangeError);
  assert.throws(() => readServerSettings(["--bogus"], {}), TypeError);
});

Deno.test("server.ts serves a YAML file, registers its schedules and exits 0 on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_server_" });
  try {
    const db = new DatabaseSync(join(dir, "shop.db"));
    db.exec(
      "CREATE TABLE orders (amount REAL, order_date TEXT);" +
        "INSERT INTO orders VALUES (100, '2024-11-02'), (250.5, '2024-11-20'), (80, '2024-10-05');",
    );
    db.close();
    await Deno.writeTextFile(
      join(dir, "kpis.yaml"),
      [
        "connection: sqlite:./shop.db",
        "audit_log: history.db",
        "schedules:",
        "  - cron: '0 6 * * *'",
        "    period: yesterday",
        "  - cron: '0 7 1 * *'",
        "    timezone: America/Toronto",
        "kpis:",
        "  - name: revenue",
        "    source: sql",
        "    table: orders",
        "    column: amount",
        "    aggregation: sum",
        "    time_column: order_date",
        "    unit: USD",
        "",
      ].join("\n"),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "server.ts",
        "--port",
        "0",
      ],
      cwd: new URL("..", import.meta.url).pathname,
      env: {
        KPI_CONFIG: join(dir, "kpis.yaml"),
        KPI_API_TOKEN: "tok-123",
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    let log = "";
    let port: number | null = null;
    while (port === null) {
      const { value, done } = await reader.read();
      if (done) break;
      log += value;
      const match = /Listening on http:\/\/localhost:(\d+)\//.exec(log);
      if (match) port = Number(match[1]);
    }
    assert.ok(port, log);
    assert.match(
      log,
      /Schedule 1: "0 6 \* \* \*" \(UTC, Deno\.cron\) computes yesterday/,
    );
    assert.match(
      log,
      /Schedule 2: "0 7 1 \* \*" \(America\/Toronto, timer\) computes last_month/,
    );
    assert.match(log, /\(bound to 127\.0\.0\.1; bearer token required\)/);
    assert.ok(!log.includes("tok-123"), "the token is never logged");

    const base = `http://127.0.0.1:${port}`;
    const response = await fetch(`${base}/kpis/revenue?period=2024-11`, {
      headers: { Authorization: "Bearer tok-123" },
    });
    assert.equal(response.status, 200);
    const result = await response.json();
    assert.equal(result.value, 350.5);
    assert.equal(result.unit, "USD");
    const health = await fetch(`${base}/health`);
    assert.deepEqual(
      Object.values((await health.json()).checks).map((c) =>
        (c as { status: string }).status
      ),
      ["ok", "ok"],
    );

    child.kill("SIGTERM");
    const rest = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        log += value;
      }
    })();
    const [status] = await Promise.all([
      child.status,
      rest,
      child.stdout.cancel(),
    ]);
    assert.equal(status.code, 0, log);
    assert.match(log, /Stopping/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
