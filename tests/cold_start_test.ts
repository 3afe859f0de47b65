import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

interface Dependency {
  code?: { specifier?: string };
  isDynamic?: boolean;
}

interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * The modules loaded before any `import()` runs: `entry` and what it
 * imports statically, transitively (dynamic imports are not followed).
 */
async function staticGraph(...entries: string[]): Promise<string[]> {
  const seen = new Set<string>();
  for (const entry of entries) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const info = JSON.parse(new TextDecoder().decode(stdout)) as {
      roots: string[];
      modules: ModuleInfo[];
    };
    const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
    const stack = [...info.roots];
    while (stack.length > 0) {
      const specifier = stack.pop() as string;
      if (seen.has(specifier)) continue;
      seen.add(specifier);
      for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
        const next = dependency.code?.specifier;
        if (next && !dependency.isDynamic) stack.push(next);
      }
    }
  }
  return [...seen].map((s) => s.replace(`file://${ROOT}`, ""));
}

/**
 * Drivers, the server, channel senders, cron, MCP and the formatters, which
 * `validate` does not need (and `run` on SQLite needs only the formatters
 * of). A channel's kind (`<kind>_kind.ts`: its settings schema and a pure
 * payload builder) is part of checking a file and may load; what sends
 * (`_sender.ts`, `create_*_channel.ts`, the notifier) may not.
 */
const HEAVY = [
  /^npm:\/?(postgres|mysql2|hono|nodemailer|croner|@duckdb|@modelcontextprotocol|smtp-server|csv-parse)\b/,
  /^src\/server\//,
  /^src\/mcp\//,
  /^src\/adapters\/channels\/(_senders|_deliver_alert|_post_json|create_notifier)\.ts$/,
  /^src\/adapters\/channels\/[a-z]+\/(_sender|create_[a-z]+_channel)\.ts$/,
  /^src\/adapters\/sql\/(postgres|mysql|duckdb|snowflake|bigquery|clickhouse)\//,
  /^src\/adapters\/history\/(postgres|kv|csv)\//,
  /^src\/adapters\/runtime\/(serve|cron|mcp|demo)\//,
];

/** What only printing results needs: `validate` prints one line. */
const FORMATTERS = [
  /^npm:\/?csv-stringify\b/,
  /^src\/format\/(format_report|format_series|format_segments|_csv)\.ts$/,
  /^src\/config\/kpi_config_json_schema\.ts$/,
];

function heavy(modules: readonly string[]): string[] {
  return modules.filter((m) => HEAVY.some((pattern) => pattern.test(m)));
}

Deno.test("cli.ts validate loads no driver, server, channel sender, cron module or formatter", async () => {
  const modules = await staticGraph("cli.ts");
  assert.ok(modules.includes("src/config/parse_kpis.ts"));
  assert.deepEqual(heavy(modules), []);
  assert.deepEqual(
    modules.filter((m) => FORMATTERS.some((pattern) => pattern.test(m))),
    [],
  );
  // The node: compatibility layer is not needed to check a file.
  assert.deepEqual(modules.filter((m) => m.startsWith("node:")), []);
});

Deno.test("cli.ts run on SQLite, with a SQLite history, loads no other driver, no server and no channel sender", async () => {
  // What `run` imports on demand for a SQLite connection and audit_log.
  const modules = await staticGraph(
    "cli.ts",
    "src/engine/kpi_engine.ts",
    "src/adapters/open_engine.ts",
    "src/adapters/sql/sqlite/sqlite_client.ts",
    "src/adapters/history/sqlite/open_sqlite_history_store.ts",
  );
  assert.deepEqual(heavy(modules), []);
});
