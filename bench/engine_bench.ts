/**
 * Engine overhead and cold start, each beside a baseline measured in the
 * same run:
 *
 * - `run()` of 1,000 derived KPIs over two base KPIs on tiny in-memory data
 *   (after warm-up), beside the same arithmetic written as plain closures;
 * - `cli.ts validate` on a 100-KPI file as a whole process, beside
 *   `deno run -A` of an empty file (a Deno process that does nothing).
 *
 * ```sh
 * deno run -A bench/engine_bench.ts
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { KPIEngine } from "../mod.ts";
import type { KPIDefinition } from "../mod.ts";

const RUNS = 15;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function timeAsync(run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

const orders = {
  revenue: [1000, 2000, 3000, 500, 400],
  users: [10, 20, 30, 5, 4],
  order_date: [
    "2024-11-01",
    "2024-11-15",
    "2024-11-28",
    "2024-10-03",
    "2024-10-30",
  ],
};
const kpis: KPIDefinition[] = [
  {
    name: "revenue",
    source: "dataframe",
    query: "orders.revenue",
    aggregation: "sum",
  },
  {
    name: "users",
    source: "dataframe",
    query: "orders.users",
    aggregation: "sum",
  },
];
for (let i = 0; i < 1000; i++) {
  kpis.push({
    name: `derived_${i}`,
    source: "derived",
    expression: `round(revenue / users * ${i + 1}, 2) + min(revenue, ${i})`,
    compare: ["MoM"],
  });
}
const engine = new KPIEngine({ kpis, dataframes: { orders } });
const engineMs = await timeAsync(() => engine.run("2024-11"));

const closures = Array.from(
  { length: 1000 },
  (_, i) => (r: number, u: number) =>
    Math.round(r / u * (i + 1) * 100) / 100 + Math.min(r, i),
);
const baselineMs = await timeAsync(() => {
  const out: number[] = [];
  for (const [r, u] of [[6000, 60], [900, 9]] as const) {
    for (const f of closures) out.push(f(r, u));
  }
  return Promise.resolve(out);
});

const dir = await Deno.makeTempDir();
const file = join(dir, "kpis.yaml");
const lines = ["timezone: UTC", "kpis:"];
for (let i = 0; i < 100; i++) {
  lines.push(
    `  - name: kpi_${i}`,
    `    label: KPI ${i}`,
    `    source: ${i % 3 === 1 ? "derived" : "sql"}`,
    i % 3 === 1
      ? `    expression: kpi_${i + 1} * 2`
      : `    query: SELECT SUM(amount) FROM orders WHERE day >= '{{ period_start }}' AND day < '{{ period_end }}'`,
    `    compare: [MoM, YoY]`,
    `    alerts:`,
    `      - condition: "< ${i * 10}"`,
    `        severity: warning`,
  );
}
await Deno.writeTextFile(file, lines.join("\n") + "\n");
const cli = new URL("../cli.ts", import.meta.url).pathname;
const TIME = await Deno.stat("/usr/bin/time").then(() => true, () => false);

/**
 * Wall time of one whole process and, where `/usr/bin/time` is installed,
 * its CPU time (user + system, which other load on the machine does not
 * inflate); NaN otherwise.
 */
async function processMs(args: string[]): Promise<[number, number]> {
  const started = performance.now();
  const out = await new Deno.Command(TIME ? "/usr/bin/time" : Deno.execPath(), {
    args: TIME ? ["-f", "cpu %U %S", Deno.execPath(), ...args] : args,
    stdout: "null",
    stderr: "piped",
  }).output();
  const wall = performance.now() - started;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(stderr);
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  return [wall, cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN];
}
const empty = join(dir, "empty.ts");
await Deno.writeTextFile(empty, "");
// Interleaved: validate, then the empty process, 11 times (the first pair
// warms the module cache and is dropped).
const validateSamples: [number, number][] = [];
const emptySamples: [number, number][] = [];
for (let i = 0; i < 12; i++) {
  const validate = await processMs([
    "run",
    "-A",
    cli,
    "validate",
    "--config",
    file,
  ]);
  const nothing = await processMs(["run", "-A", empty]);
  if (i === 0) continue;
  validateSamples.push(validate);
  emptySamples.push(nothing);
}
const validateMs = median(validateSamples.map((s) => s[0]));
const emptyMs = median(emptySamples.map((s) => s[0]));
const validateCpu = median(validateSamples.map((s) => s[1]));
const emptyCpu = median(emptySamples.map((s) => s[1]));
await Deno.remove(dir, { recursive: true });

console.log(`| case | median ms |`);
console.log(`| --- | ---: |`);
console.log(
  `| run() of 1,000 derived KPIs (each with MoM) over 2 base KPIs | ${
    engineMs.toFixed(1)
  } |`,
);
console.log(
  `| baseline: the same arithmetic as 2,000 plain closure calls | ${
    baselineMs.toFixed(2)
  } |`,
);
console.log(
  `| \`cli.ts validate\` on a 100-KPI file, whole process | ${
    validateMs.toFixed(0)
  } |`,
);
console.log(
  `| baseline: \`deno run -A\` of an empty file, whole process | ${
    emptyMs.toFixed(0)
  } |`,
);
let load = "unknown";
try {
  load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(
    " ",
  );
} catch { /* not Linux */ }
console.log(
  `\nvalidate costs ${
    (validateMs - emptyMs).toFixed(0)
  } ms more wall time than an empty process (goal: within 120 ms), ${
    (validateCpu - emptyCpu).toFixed(0)
  } ms more CPU time (${validateCpu.toFixed(0)} against ${
    emptyCpu.toFixed(0)
  }); load average ${load}`,
);
