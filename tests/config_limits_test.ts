/**
 * Files that cannot run, or that try to hurt the reader, are refused by
 * `validate` with bounded, printable messages naming file, line and field.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { KPIConfigError, parseKpis } from "../mod.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

function issuesOf(yaml: string): KPIConfigError {
  try {
    parseKpis(yaml, { file: "kpis.yaml" });
  } catch (error) {
    assert.ok(error instanceof KPIConfigError, String(error));
    return error;
  }
  assert.fail("expected a KPIConfigError");
}

function structured(fields: string): string {
  return `kpis:
  - name: revenue
    source: sql
    aggregation: sum
${fields}`;
}

Deno.test("parseKpis() refuses structured table, column and time_column that are not plain identifiers", () => {
  const error = issuesOf(structured(`    table: "orders; DROP TABLE x"
    column: "amount)"
    time_column: "day--"
`));
  const byPath = new Map(error.issues.map((i) => [i.path, i]));
  assert.match(byPath.get("kpis[0].table")!.message, /Invalid table/);
  assert.equal(byPath.get("kpis[0].table")!.line, 5);
  assert.match(byPath.get("kpis[0].column")!.message, /Invalid column/);
  assert.match(
    byPath.get("kpis[0].time_column")!.message,
    /Invalid time_column/,
  );
});

Deno.test("parseKpis() accepts schema-qualified tables and refuses a filter with a statement separator", () => {
  const ok = parseKpis(structured(`    table: analytics.orders
    column: amount
    time_column: day
    filter: "region = 'a;b' AND note <> 'x;y'"
`));
  assert.equal(ok.kpis[0]!.table, "analytics.orders");
  const error = issuesOf(structured(`    table: orders
    column: amount
    time_column: day
    filter: "1=1; DELETE FROM orders"
`));
  assert.equal(error.issues.length, 1);
  assert.equal(error.issues[0]!.path, "kpis[0].filter");
  assert.equal(error.issues[0]!.line, 8);
  assert.match(error.issues[0]!.message, /no ";" outside quoted strings/);
});

Deno.test("cli.ts validate exits 2 for a structured KPI that cannot run; run computes a filter with ';' in a string", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = new DatabaseSync(join(dir, "shop.db"));
    db.exec("CREATE TABLE orders (day TEXT, amount REAL, region TEXT)");
    db.exec(
      "INSERT INTO orders VALUES ('2024-11-02', 20, 'a;b'), ('2024-11-03', 5, 'c')",
    );
    db.close();
    const bad = join(dir, "bad.yaml");
    await Deno.writeTextFile(
      bad,
      `connection: sqlite:./shop.db
${
        structured(`    table: orders
    column: amount
    time_column: "day; DROP TABLE orders"
`)
      }`,
    );
    const validate = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "validate", "-c", bad],
    }).output();
    assert.equal(validate.code, 2);
    assert.match(
      new TextDecoder().decode(validate.stderr),
      /Invalid time_column[^\n]*\n\s*→ at kpis\[0\]\.time_column \([^)]*bad\.yaml:8/,
    );
    const good = join(dir, "good.yaml");
    await Deno.writeTextFile(
      good,
      `connection: sqlite:./shop.db
${
        structured(`    table: orders
    column: amount
    time_column: day
    filter: "region = 'a;b'"
`)
      }`,
    );
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        CLI,
        "run",
        "-c",
        good,
        "--period",
        "2024-11",
        "--format",
        "json",
      ],
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    const report = JSON.parse(new TextDecoder().decode(run.stdout));
    assert.equal(report.results[0].value, 20);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseKpis() refuses YAML nested 3,000 levels deep with a KPIConfigError naming the line", () => {
  const flow = `kpis: ${"[".repeat(3000)}${"]".repeat(3000)}\n`;
  const error = issuesOf(flow);
  assert.equal(error.issues.length, 1);
  assert.match(error.issues[0]!.message, /nested more than 64 levels deep/);
  assert.equal(error.issues[0]!.line, 1);
  assert.equal(error.issues[0]!.column, 7 + 64);
  const lines = ["kpis:"];
  for (let i = 0; i < 3000; i++) lines.push(`${" ".repeat(2 + i)}a:`);
  const block = issuesOf(`${lines.join("\n")} 1\n`);
  assert.equal(block.issues.length, 1);
  assert.match(block.issues[0]!.message, /nested more than 64 levels deep/);
  assert.equal(typeof block.issues[0]!.line, "number");
  // Brackets inside strings are text, not nesting.
  const quoted = parseKpis(`kpis:
  - name: a
    source: sql
    query: "SELECT '${"[".repeat(200)}'"
`);
  assert.equal(quoted.kpis.length, 1);
});

Deno.test("parseKpis() reports at most 50 issues and counts the rest", () => {
  const error = issuesOf(`${'"'.repeat(20_000)}\n`);
  assert.equal(error.issues.length, 51);
  assert.match(error.issues[50]!.message, /^\d+ more issues not shown/);
  assert.ok(error.message.length < 20_000, `${error.message.length} chars`);
});

/** Control characters but the newline, and a right-to-left override. */
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

Deno.test("parseKpis() never echoes control characters and bounds names and labels", () => {
  const binary = issuesOf(
    `kpis:\n  - name: a\n    source: sql\n    query: SELECT 1\n    "\u001b[2J\u009b31m\u202eevil": 1\n`,
  );
  assert.doesNotMatch(binary.message, UNPRINTABLE);
  assert.match(binary.message, /\\u009b31m/);
  const longName = issuesOf(
    `kpis:\n  - name: ${
      "a".repeat(1_000_000)
    }\n    source: sql\n    query: SELECT 1\n`,
  );
  assert.match(longName.issues[0]!.message, /too long: expected at most 63/);
  assert.ok(longName.message.length < 2000);
  const longLabel = issuesOf(
    `kpis:\n  - name: a\n    label: ${
      "L".repeat(201)
    }\n    source: sql\n    query: SELECT 1\n`,
  );
  assert.equal(longLabel.issues[0]!.path, "kpis[0].label");
  // Binary input: the error is printable and short.
  const bytes = new Uint8Array(3000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
  const garbage = issuesOf(new TextDecoder().decode(bytes));
  assert.doesNotMatch(garbage.message, UNPRINTABLE);
  assert.ok(garbage.issues.length <= 51);
});

Deno.test("parseKpis() refuses __proto__ as a channel name or vars key instead of routing alerts nowhere", () => {
  const error = issuesOf(`vars:
  __proto__: 5
channels:
  __proto__: { type: webhook, url: "http://127.0.0.1:9/x" }
kpis:
  - name: a
    source: sql
    query: SELECT 1
    alerts:
      - condition: "> 0"
        channels: [__proto__]
`);
  const messages = error.issues.map((i) => `${i.path}@${i.line}: ${i.message}`);
  assert.ok(
    messages.some((m) =>
      /^vars\.__proto__@2: Invalid name "__proto__"/.test(m)
    ),
    messages.join("\n"),
  );
  assert.ok(
    messages.some((m) =>
      /^channels\.__proto__@4: Invalid name "__proto__"/.test(m)
    ),
    messages.join("\n"),
  );
  assert.ok(
    messages.some((m) =>
      /alerts\[0\]\.channels\[0\]@11: Unknown channel "__proto__"/.test(m)
    ),
    messages.join("\n"),
  );
  // TypeScript input too.
  const channels = JSON.parse(
    '{"__proto__": {"type": "webhook", "url": "http://127.0.0.1:9/x"}}',
  );
  assert.throws(
    () =>
      parseKpis({
        channels,
        kpis: [{ name: "a", source: "sql", query: "SELECT 1" }],
      }),
    (e: unknown) =>
      e instanceof KPIConfigError &&
      e.issues.some((i) => /Invalid name "__proto__"/.test(i.message)),
  );
});
