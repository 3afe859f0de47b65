import assert from "node:assert/strict";
import { join } from "node:path";
import postgres from "postgres";

const ROOT = new URL("../", import.meta.url);

const DOCS: [string, string][] = [];
for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
  if (entry.isFile && entry.name.endsWith(".md")) {
    const path = `docs/${entry.name}`;
    DOCS.push([path, await Deno.readTextFile(new URL(path, ROOT))]);
  }
}
DOCS.sort(([a], [b]) => a.localeCompare(b));
/** README first, then every page of docs/ by name. */
const PAGES: [string, string][] = [
  ["README.md", await Deno.readTextFile(new URL("README.md", ROOT))],
  ...DOCS,
];

interface Example {
  page: string;
  code: string;
}

/** The fenced code blocks of a language in README and docs, in order. */
function examples(language: string): Example[] {
  const pattern = new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g");
  return PAGES.flatMap(([page, text]) =>
    [...text.matchAll(pattern)].map((m) => ({ page, code: m[1] as string }))
  );
}

function blocks(language: string): string[] {
  return examples(language).map((e) => e.code);
}

function block(language: string, marker: string): string {
  const found = blocks(language).find((b) => b.includes(marker));
  assert.ok(found, `README has a ${language} block with ${marker}`);
  return found;
}

async function runScript(
  dir: string,
  code: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const path = join(dir, "example.ts");
  await Deno.writeTextFile(path, code);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${new URL("deno.json", ROOT).pathname}`,
      path,
    ],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("README's YAML quick start runs as written on PostgreSQL from TypeScript", async () => {
  const database = `kpi_readme_${crypto.randomUUID().slice(0, 8)}`;
  const admin = postgres("postgres://postgres@127.0.0.1:5432/test", {
    onnotice: () => {},
  });
  const dir = await Deno.makeTempDir();
  try {
    await admin.unsafe(`CREATE DATABASE ${database}`);
    const sql = postgres(`postgres://postgres@127.0.0.1:5432/${database}`, {
      onnotice: () => {},
    });
    const today = Temporal.Now.plainDateISO("UTC");
    const lastMonth = today.toPlainYearMonth().subtract({ months: 1 });
    const day = (ym: Temporal.PlainYearMonth, d: number): string =>
      ym.toPlainDate({ day: d }).toString();
    try {
      await sql`CREATE TABLE orders (order_date date, amount numeric(12, 2))`;
      const rows = [
        [day(lastMonth, 1), 100000.25],
        [day(lastMonth, 20), 49999.75],
        [day(lastMonth.subtract({ months: 1 }), 5), 100000],
        [day(lastMonth.subtract({ years: 1 }), 9), 75000],
        [day(today.toPlainYearMonth(), 1), 1],
      ] as const;
      for (const [d, amount] of rows) {
        await sql`INSERT INTO orders VALUES (${d}, ${amount})`;
      }
    } finally {
      await sql.end();
    }
    const yaml = block("yaml", "# kpis.yaml");
    await Deno.writeTextFile(join(dir, "kpis.yaml"), yaml);
    const script = block("ts", 'openEngine("kpis.yaml"').replace(
      "postgresql://user:pass@host/db",
      `postgresql://postgres@127.0.0.1:5432/${database}`,
    );
    const { code, stdout, stderr } = await runScript(dir, script);
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout,
      "Monthly Revenue: 150,000.00 USD\n  MoM: +50.0%\n  Status: ok\n",
    );
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README's TypeScript quick start computes 6,000 for November 2024", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = block("ts", "dataframes: { orders }") +
      "\nconsole.log(JSON.stringify(results));\n";
    const { code, stdout, stderr } = await runScript(dir, script);
    assert.equal(code, 0, stderr);
    const [revenue] = JSON.parse(stdout);
    assert.equal(revenue.value, 6000);
    assert.equal(revenue.label, "Monthly Revenue");
    assert.equal(revenue.alertStatus, "ok");
    assert.deepEqual(Object.keys(revenue.comparisons), ["MoM"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Examples import the package by its name, as a user does: with the
 * checkout's deno.json, `@kpi-engine/kpi-engine` (and its subpaths) is this
 * checkout (see tests/jsr_consumer_test.ts for a project that gets it
 * through `jsr:` and `links`).
 */
function asScript(code: string): string {
  return code;
}

Deno.test("README and docs examples import the package by name, never a path of the checkout", () => {
  for (const example of examples("ts")) {
    for (const [, source] of example.code.matchAll(/from "([^"]+)"/g)) {
      assert.doesNotMatch(
        source!,
        /^\.{1,2}\//,
        `${example.page} imports "${source}": write "@kpi-engine/kpi-engine"`,
      );
    }
  }
});

Deno.test("every TypeScript example in README and docs type-checks", async () => {
  const all = examples("ts");
  assert.ok(all.length >= 12, `found ${all.length} examples`);
  assert.ok(all.some((e) => e.page.startsWith("docs/")));
  const dir = await Deno.makeTempDir();
  try {
    const paths: string[] = [];
    for (const [i, example] of all.entries()) {
      const name = `${example.page.replace(/[^a-z0-9]+/gi, "_")}_${i}.ts`;
      await Deno.writeTextFile(join(dir, name), asScript(example.code));
      paths.push(join(dir, name));
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "check",
        `--config=${new URL("deno.json", ROOT).pathname}`,
        ...paths,
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the examples that need only the core run as written", async () => {
  // An example runs here when it imports nothing but the core (no file,
  // database or channel to set up first).
  const pure = examples("ts").filter(({ code }) => {
    const sources = [...code.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    return sources.length > 0 &&
      sources.every((s) => s === "@kpi-engine/kpi-engine") &&
      !code.includes("Deno.readTextFile");
  });
  assert.ok(
    pure.some((e) => e.page === "docs/periods.md") &&
      pure.some((e) => e.page === "docs/expressions.md") &&
      pure.some((e) => e.page === "docs/in-memory.md"),
    `runnable examples: ${pure.map((e) => e.page).join(", ")}`,
  );
  const dir = await Deno.makeTempDir();
  try {
    for (const example of pure) {
      const { code, stderr } = await runScript(dir, example.code);
      assert.equal(code, 0, `${example.page}: ${stderr}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
