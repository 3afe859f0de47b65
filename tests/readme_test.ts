import assert from "node:assert/strict";
import { join } from "node:path";
import postgres from "postgres";

const ROOT = new URL("../", import.meta.url);
const README = await Deno.readTextFile(new URL("README.md", ROOT));
const MOD = new URL("mod.ts", ROOT).href;

/** The fenced code blocks of a language, in order. */
function blocks(language: string): string[] {
  const pattern = new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g");
  return [...README.matchAll(pattern)].map((m) => m[1] as string);
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
  await Deno.writeTextFile(path, code.replaceAll('"./mod.ts"', `"${MOD}"`));
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
