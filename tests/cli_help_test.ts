import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../cli.ts";
import { VERSION } from "../src/adapters/runtime/cli/version.ts";

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => stdout += text,
    stderr: (text) => stderr += text,
    isTerminal: false,
    env,
  });
  return { code, stdout, stderr };
}

Deno.test("kpi run --help lists each flag with its description and default, the period grammar and examples", async () => {
  const { code, stdout } = await cli(["run", "--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: kpi run \[options\]/);
  assert.match(
    stdout,
    /-p, --period <period>\s+the period to compute \(default: "last_month"\)/,
  );
  assert.match(
    stdout,
    /-f, --format <format>\s+output: table\|json\|csv\|markdown \(default: "table"\)/,
  );
  assert.match(
    stdout,
    /--no-history\s+record nothing; the audit_log is never opened/,
  );
  assert.match(
    stdout,
    /--as-of <YYYY-MM-DD>\s+the day relative periods count from \(default: today\)/,
  );
  assert.match(stdout, /Periods \(--period\)/);
  assert.match(
    stdout,
    /2024-11-01\.\.2024-11-15\s+a range of days, both included/,
  );
  assert.match(stdout, /Examples:\n {2}\$ kpi run --config kpis.yaml\n/);
  const viaHelp = await cli(["help", "run"]);
  assert.equal(viaHelp.stdout, stdout);
});

Deno.test("kpi --help and kpi with no command show the commands; only --help exits 0", async () => {
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  for (
    const command of ["run", "validate", "history", "serve", "schedule", "demo"]
  ) {
    assert.match(help.stdout, new RegExp(`\\n {2}${command} `));
  }
  assert.match(help.stdout, /Exit codes: 0 done; 1 --fail-on/);
  const none = await cli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Usage: kpi \[options\] \[command\]/);
});

Deno.test("kpi --version prints the version of deno.json", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  ) as { version: string };
  assert.equal(VERSION, config.version);
  const { code, stdout } = await cli(["--version"]);
  assert.equal(code, 0);
  assert.equal(stdout, `${config.version}\n`);
});

Deno.test("kpi suggests the command, flag or period that was meant and exits 2", async () => {
  const command = await cli(["rnu"]);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /unknown command 'rnu'\n\(Did you mean run\?\)/);
  const flag = await cli(["run", "--perod", "last_month"]);
  assert.equal(flag.code, 2);
  assert.match(
    flag.stderr,
    /unknown option '--perod'\n\(Did you mean --period\?\)/,
  );
  assert.match(
    flag.stderr,
    /kpi <command> --help shows its flags and examples/,
  );
  const dir = await Deno.makeTempDir({ prefix: "kpi_cli_help_" });
  try {
    const file = join(dir, "kpis.yaml");
    await Deno.writeTextFile(
      file,
      "kpis:\n  - name: revenue\n    source: dataframe\n    query: orders.amount\n    aggregation: sum\n",
    );
    const period = await cli(["run", "-c", file, "-p", "last_mnth"]);
    assert.equal(period.code, 2);
    assert.match(
      period.stderr,
      /Cannot resolve period "last_mnth": did you mean "last_month"\?/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kpi validate --allow-missing-env turns unset variables into warnings and exits 0; without it they are errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_cli_env_" });
  try {
    const file = join(dir, "kpis.yaml");
    await Deno.writeTextFile(
      file,
      [
        "connection: ${DATABASE_URL}",
        "channels:",
        '  hook: { type: webhook, url: "${HOOK_URL}", secret: "${HOOK_SECRET}" }',
        '  mail: { type: email, smtp_host: smtp.example.com, smtp_port: "${SMTP_PORT}", from: a@example.com, to: [b@example.com] }',
        "kpis:",
        "  - name: revenue",
        "    source: sql",
        "    query: SELECT SUM(amount) FROM orders WHERE day >= {{ period_start }}",
        "",
      ].join("\n"),
    );
    const strict = await cli(["validate", "-c", file], { HOOK_SECRET: "s" });
    assert.equal(strict.code, 2);
    assert.match(
      strict.stderr,
      /✖ Environment variable "DATABASE_URL" is not set/,
    );
    const lenient = await cli(
      ["validate", "-c", file, "--allow-missing-env"],
      { HOOK_SECRET: "s" },
    );
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.match(
      lenient.stdout,
      /^✔ .*kpis\.yaml: 1 KPI \(1 sql\), 2 channel\(s\)/,
    );
    assert.match(
      lenient.stderr,
      /⚠ Environment variable "DATABASE_URL" is not set \(a warning under --allow-missing-env\)\n {2}→ at connection \(.*kpis\.yaml:1:13\)/,
    );
    assert.match(
      lenient.stderr,
      /⚠ Environment variable "HOOK_URL" is not set/,
    );
    assert.match(
      lenient.stderr,
      /⚠ Environment variable "SMTP_PORT" is not set/,
    );
    assert.doesNotMatch(lenient.stderr, /HOOK_SECRET/);
    // Other problems still fail the file.
    await Deno.writeTextFile(
      file,
      "connection: ${DATABASE_URL}\nkpis:\n  - name: revenue\n    source: sql\n    agregation: sum\n",
    );
    const broken = await cli(["validate", "-c", file, "--allow-missing-env"]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /Unknown key "agregation"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kpi help with an unknown command says so and suggests the meant one", async () => {
  const typo = await cli(["help", "valdate"]);
  assert.equal(typo.code, 2);
  assert.match(
    typo.stderr,
    /unknown command 'valdate'\s+\(Did you mean validate\?\)/,
  );
  const none = await cli(["help", "frobnicate"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /unknown command 'frobnicate'/);
});

Deno.test("a flag of another command names the commands that take it", async () => {
  const compare = await cli(["run", "-c", "kpis.yaml", "--compare", "MoM"]);
  assert.equal(compare.code, 2);
  assert.match(
    compare.stderr,
    /unknown option '--compare' for run: it is an option of explain/,
  );
  const top = await cli(["series", "--top=3"]);
  assert.equal(top.code, 2);
  assert.match(
    top.stderr,
    /unknown option '--top' for series: it is an option of run, explain/,
  );
  const typo = await cli(["run", "--perod", "x"]);
  assert.match(typo.stderr, /Did you mean --period\?/);
});
