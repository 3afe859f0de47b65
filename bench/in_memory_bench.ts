/**
 * The in-memory source on 10 million rows: a `sum` with its MoM and YoY
 * bases, beside the bare-loop floor (summing one Float64Array) measured in
 * the same run, and pandas when Debian's python3-pandas is installed.
 *
 * ```sh
 * deno run -A bench/in_memory_bench.ts [--rows 10000000] [--runs 7]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fetchDataFrameValues } from "../src/dataframe/fetch_dataframe_values.ts";
import type { DataFrameInput, KPIDefinition, Period } from "../src/types.ts";
import { shiftPeriod } from "../src/period/shift_period.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "10000000" },
    runs: { type: "string", default: "7" },
  },
});
const ROWS = Number(flags.rows);
const RUNS = Number(flags.runs);
const DAY = 86_400_000;
const FIRST = Date.UTC(2023, 0, 1);
const SPAN_DAYS = 730;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function time(run: () => unknown): number {
  run(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

let seed = 7;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}

console.error(`Generating ${ROWS.toLocaleString("en-US")} rows ...`);
const sortedTimes = new Float64Array(ROWS);
const amounts = new Float64Array(ROWS);
for (let i = 0; i < ROWS; i++) {
  sortedTimes[i] = FIRST + Math.floor(i / ROWS * SPAN_DAYS * DAY);
  amounts[i] = Math.round(random() * 10000) / 100;
}
const shuffledTimes = new Float64Array(ROWS);
const shuffledAmounts = new Float64Array(ROWS);
{
  const order = new Uint32Array(ROWS);
  for (let i = 0; i < ROWS; i++) order[i] = i;
  for (let i = ROWS - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  for (let i = 0; i < ROWS; i++) {
    shuffledTimes[i] = sortedTimes[order[i] as number] as number;
    shuffledAmounts[i] = amounts[order[i] as number] as number;
  }
}

const period: Period = {
  label: "2024-11",
  start: "2024-11-01",
  end: "2024-12-01",
  timezone: "UTC",
};
const periods = [
  period,
  shiftPeriod(period, "MoM"),
  shiftPeriod(period, "YoY"),
];
const definition: KPIDefinition = {
  name: "revenue",
  source: "dataframe",
  query: "orders.amount",
  aggregation: "sum",
  timeColumn: "at",
};
function engineSum(table: DataFrameInput): () => unknown {
  return () =>
    fetchDataFrameValues({ orders: table }, [{ definition, periods }]);
}

const floor = time(() => {
  let sum = 0;
  for (let i = 0; i < amounts.length; i++) sum += amounts[i] as number;
  return sum;
});
const sortedColumns = time(engineSum({ at: sortedTimes, amount: amounts }));
const unsortedColumns = time(
  engineSum({ at: shuffledTimes, amount: shuffledAmounts }),
);
console.error("Building row objects ...");
const rows = Array.from({ length: ROWS }, (_, i) => ({
  at: shuffledTimes[i] as number,
  amount: shuffledAmounts[i] as number,
  region: i % 4,
}));
const rowObjects = time(engineSum(rows));

async function pandasMs(): Promise<number | null> {
  const script = `
import time, numpy as np, pandas as pd
n = ${ROWS}
rng = np.random.default_rng(7)
start = np.datetime64("2023-01-01")
days = (np.arange(n) * ${SPAN_DAYS} // n).astype("timedelta64[D]")
df = pd.DataFrame({"order_date": start + days, "amount": rng.integers(0, 10000, n) / 100})
df = df.sample(frac=1, random_state=7).reset_index(drop=True)
def run():
    out = []
    for a, b in [("2024-11-01", "2024-12-01"), ("2024-10-01", "2024-11-01"), ("2023-11-01", "2023-12-01")]:
        mask = (df["order_date"] >= a) & (df["order_date"] < b)
        out.append(df.loc[mask, "amount"].sum())
    return out
run()
samples = []
for _ in range(${RUNS}):
    t = time.perf_counter(); run(); samples.append((time.perf_counter() - t) * 1000)
samples.sort()
print(samples[len(samples) // 2])
`;
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", script],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return null;
    return Number(new TextDecoder().decode(out.stdout).trim());
  } catch {
    return null;
  }
}
console.error("Running pandas if installed ...");
const pandas = await pandasMs();

const table = [
  ["bare loop over one Float64Array (floor)", floor],
  ["engine, columnar, rows in time order", sortedColumns],
  ["engine, columnar, rows shuffled", unsortedColumns],
  ["engine, array of row objects, shuffled", rowObjects],
  ...(pandas === null
    ? []
    : [["pandas, three boolean masks (shuffled)", pandas] as const]),
] as const;
console.log(
  `\n${
    ROWS.toLocaleString("en-US")
  } rows; sum with MoM and YoY bases; median of ${RUNS} runs\n`,
);
console.log(`| case | median ms | × floor |`);
console.log(`| --- | ---: | ---: |`);
for (const [name, ms] of table) {
  console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms / floor).toFixed(2)} |`);
}
