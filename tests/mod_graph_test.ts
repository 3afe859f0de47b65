import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/**
 * The npm packages the pure core may load, all pure JavaScript without I/O:
 * `yaml` (the core parses the text of a KPI file), `zod` (the schema the
 * file is validated against) and `jsep` (the expression parser). Reports
 * as CSV text (`csv-stringify`) are on the `./format` subpath. Everything
 * else a run needs (drivers, HTTP, SMTP, cron, CSV files) is an adapter,
 * handed in from outside.
 */
const CORE_PACKAGES = new Set(["yaml", "zod", "jsep"]);

interface ModuleInfo {
  specifier: string;
  size?: number;
}

async function graphOf(entry: string): Promise<ModuleInfo[]> {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: ModuleInfo[];
  };
  return info.modules;
}

function npmPackage(specifier: string): string | null {
  const match = /^npm:\/?((?:@[^/]+\/)?[^@/]+)/.exec(specifier);
  return match?.[1] ?? null;
}

Deno.test("mod.ts loads no npm package but yaml, zod and jsep, and no node: module", async () => {
  const modules = await graphOf("mod.ts");
  const packages = new Set(
    modules.map((m) => npmPackage(m.specifier)).filter((p) => p !== null),
  );
  assert.deepEqual(
    [...packages].filter((p) => !CORE_PACKAGES.has(p)),
    [],
    "mod.ts reaches npm packages outside the pure core",
  );
  for (
    const name of [
      "postgres",
      "mysql2",
      "nodemailer",
      "hono",
      "croner",
      "csv-parse",
      "csv-stringify",
    ]
  ) {
    assert.ok(!packages.has(name), `mod.ts reaches ${name}`);
  }
  const nodeModules = modules
    .map((m) => m.specifier)
    .filter((s) => s.startsWith("node:"));
  assert.deepEqual(nodeModules, [], "mod.ts reaches node: modules");
});

/**
 * The only adapter files the core may load: the pure descriptions of the
 * channel kinds (settings schema, key descriptions, payload builders), which
 * the configuration's schema, checks and loader read. Their senders stay
 * out.
 */
const PURE_CHANNEL_FILE =
  /\/src\/adapters\/channels\/(channel_kinds?\.ts|[a-z]+\/([a-z]+_kind|build_[a-z_]+)\.ts)$/;

Deno.test("mod.ts loads no file of the adapters or the server but the channel kinds' pure descriptions", async () => {
  const modules = await graphOf("mod.ts");
  const local = modules
    .map((m) => m.specifier)
    .filter((s) => s.startsWith("file:"));
  assert.ok(local.length > 10, "the graph lists the core's own files");
  const outside = local.filter((s) =>
    (s.includes("/src/adapters/") && !PURE_CHANNEL_FILE.test(s)) ||
    s.includes("/src/server/")
  );
  assert.deepEqual(outside, []);
  const kinds = local.filter((s) =>
    /channels\/[a-z]+\/[a-z]+_kind\.ts$/.test(s)
  ).map((s) => s.replace(/^.*\/channels\//, "")).sort();
  assert.deepEqual(kinds, [
    "email/email_kind.ts",
    "pagerduty/pagerduty_kind.ts",
    "slack/slack_kind.ts",
    "webhook/webhook_kind.ts",
  ]);
  assert.deepEqual(local.filter((s) => /\/(create_|_sender)/.test(s)), []);
});

Deno.test("the adapters entry point does load the drivers mod.ts leaves out", async () => {
  // The same measurement on the entry point that opens things: if this
  // failed, the checks above would prove nothing.
  const modules = await graphOf("src/adapters/mod.ts");
  const packages = new Set(
    modules.map((m) => npmPackage(m.specifier)).filter((p) => p !== null),
  );
  for (const name of ["postgres", "mysql2", "nodemailer", "croner"]) {
    assert.ok(packages.has(name), `adapters reach ${name}`);
  }
  assert.ok(modules.some((m) => m.specifier === "node:sqlite"));
});

Deno.test("the ./format subpath loads csv-stringify for CSV reports, and no driver or node: module", async () => {
  const modules = await graphOf("src/format/mod.ts");
  const packages = new Set(
    modules.map((m) => npmPackage(m.specifier)).filter((p) => p !== null),
  );
  assert.ok(packages.has("csv-stringify"), "./format reaches csv-stringify");
  assert.deepEqual(
    [...packages].filter((p) => p !== "csv-stringify" && !CORE_PACKAGES.has(p)),
    [],
  );
  assert.deepEqual(
    modules.map((m) => m.specifier).filter((s) => s.startsWith("node:")),
    [],
  );
});
