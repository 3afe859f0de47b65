/**
 * Servers that cannot be reached: a database that accepts connections but
 * never answers is given up on after `connect_timeout_ms`, and a history
 * store that cannot be opened is named (kind, host, database) without its
 * password.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { openEngine } from "../src/adapters/mod.ts";
import { freePort } from "./_private_postgres.ts";

/** A TCP server on 127.0.0.1 that accepts connections and never answers. */
function blackHole(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch {
      // closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const conn of held) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

for (const scheme of ["postgres", "mysql"] as const) {
  Deno.test(`connect_timeout_ms bounds connecting to a ${scheme} server that never answers`, async () => {
    const hole = blackHole();
    const dir = await Deno.makeTempDir();
    try {
      const file = join(dir, "kpis.yaml");
      await Deno.writeTextFile(
        file,
        `connection: ${scheme}://kpi@127.0.0.1:${hole.port}/shop
connect_timeout_ms: 300
kpis:
  - name: one
    source: sql
    query: SELECT 1
    timeout_ms: 60000
`,
      );
      const engine = await openEngine(file);
      try {
        const started = performance.now();
        const [result] = await engine.run("2024-11");
        const elapsed = performance.now() - started;
        assert.equal(result!.value, null);
        assert.match(
          String(result!.error),
          new RegExp(
            `Cannot connect to (PostgreSQL|MySQL) at 127\\.0\\.0\\.1:${hole.port}.* within connect_timeout_ms`,
          ),
        );
        // The default (and the driver's own) would wait 5 to 10 s.
        assert.ok(elapsed < 4000, `took ${elapsed} ms`);
      } finally {
        await engine.close();
      }
    } finally {
      hole.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("cli.ts serve names an unreachable PostgreSQL history store by kind, host and database, without its password", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const port = freePort();
    const file = join(dir, "kpis.yaml");
    await Deno.writeTextFile(
      file,
      `connection: "sqlite::memory:"
audit_log: postgres://kpi:s3cret-pw@127.0.0.1:${port}/analytics
kpis:
  - name: one
    source: sql
    query: SELECT 1
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../cli.ts", import.meta.url).pathname,
        "serve",
        "-c",
        file,
        "--port",
        "0",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 3, stderr);
    assert.match(
      stderr,
      new RegExp(
        `history store \\(audit_log: PostgreSQL at 127\\.0\\.0\\.1:${port}, database "analytics"`,
      ),
    );
    assert.match(stderr, /ECONNREFUSED/);
    assert.doesNotMatch(stderr, /s3cret-pw/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
