/**
 * A user's project that gets the package as JSR would: its deno.json maps
 * `@kpi-engine/kpi-engine` to `jsr:@kpi-engine/kpi-engine@*` and lists this
 * checkout under `links`, so nothing is fetched from jsr.io. The README's
 * TypeScript quick start and the command line run there as a user runs them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

async function run(
  dir: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
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

Deno.test("a project consuming jsr:@kpi-engine/kpi-engine through links runs the README's quick start and the CLI", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  // The first screen says how to get it.
  const firstScreen = readme.split("\n").slice(0, 30).join("\n");
  for (
    const command of [
      "deno add jsr:@kpi-engine/kpi-engine",
      "deno run -A jsr:@kpi-engine/kpi-engine/cli run",
      "deno install -g -A --name kpi jsr:@kpi-engine/kpi-engine/cli",
    ]
  ) {
    assert.ok(
      firstScreen.includes(command),
      `README's first screen: ${command}`,
    );
  }
  const quickStart = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .find((code) => code.includes("new KPIEngine({ kpis, dataframes"));
  assert.ok(quickStart, "README has the TypeScript quick start");
  assert.match(quickStart, /from "@kpi-engine\/kpi-engine"/);

  const dir = await Deno.makeTempDir({ prefix: "kpi_jsr_user_" });
  try {
    await Deno.writeTextFile(
      join(dir, "deno.json"),
      JSON.stringify({
        imports: { "@kpi-engine/kpi-engine": "jsr:@kpi-engine/kpi-engine@*" },
        links: [ROOT],
      }),
    );
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      `${quickStart}console.log(results[0]?.value);\n`,
    );
    await Deno.writeTextFile(
      join(dir, "kpis.yaml"),
      "kpis:\n  - name: revenue\n    source: dataframe\n    query: orders.amount\n    aggregation: sum\n",
    );
    await Deno.writeTextFile(
      join(dir, "adapters.ts"),
      'import { openEngine } from "@kpi-engine/kpi-engine/adapters";\n' +
        'const engine = await openEngine("kpis.yaml", {\n' +
        '  dataframes: { orders: [{ date: "2024-11-05", amount: 40 }] },\n' +
        "});\n" +
        'console.log((await engine.run("2024-11"))[0]?.value);\n' +
        "await engine.close();\n",
    );

    const quick = await run(dir, ["run", "main.ts"]);
    assert.equal(quick.code, 0, quick.stderr);
    assert.equal(quick.stdout, "6000\n");

    const adapters = await run(dir, ["run", "-A", "adapters.ts"]);
    assert.equal(adapters.code, 0, adapters.stderr);
    assert.equal(adapters.stdout, "40\n");

    const lock = JSON.parse(await Deno.readTextFile(join(dir, "deno.lock")));
    assert.ok(
      Object.keys(lock.workspace?.links ?? {}).some((key) =>
        key.startsWith("jsr:@kpi-engine/kpi-engine@")
      ),
      "the lock file records the link",
    );

    const version = await run(dir, [
      "run",
      "-A",
      "jsr:@kpi-engine/kpi-engine/cli",
      "--version",
    ]);
    assert.equal(version.code, 0, version.stderr);
    const { version: expected } = JSON.parse(
      await Deno.readTextFile(join(ROOT, "deno.json")),
    ) as { version: string };
    assert.equal(version.stdout, `${expected}\n`);

    const validate = await run(dir, [
      "run",
      "-A",
      "jsr:@kpi-engine/kpi-engine/cli",
      "validate",
      "--config",
      "kpis.yaml",
    ]);
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout, /^✔ kpis\.yaml: 1 KPI \(1 dataframe\)/);

    const help = await run(dir, [
      "run",
      "-A",
      "jsr:@kpi-engine/kpi-engine/cli",
      "run",
      "--help",
    ]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: kpi run \[options\]/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
