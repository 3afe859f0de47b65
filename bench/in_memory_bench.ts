/**
 * The in-memory source against the floor (one bare loop over a
 * Float64Array of the same length) and against pandas, on the same data.
 *
 * A `sum` with its MoM and YoY bases over `--rows` orders spread over two
 * years: columns in time order and shuffled, and row objects (shuffled),
 * each on its first call (fresh arrays, so nothing is cached) and on
 * repeated calls (the same arrays: the time index and columnar copies are
 * built by then; a first call gets new typed-array views over the same
 * memory, and a new array of the same row objects). Every contender runs once per round, the order rotating
 * by one each round, for `--rounds` rounds; medians are printed with the
 * spread and the load average. pandas (when `python3` has it) runs in a
 * process of its own on the very same times and amounts, loaded once, and
 * is asked for one run per round between the others. Every result is
 * checked against a plain loop (the slow path).
 *
 * Series (`--no-series` leaves them out): `engine.series()` of the same
 * rows into 730 daily buckets, beside `engine.run()` of one period over the
 * same two years (the single-period time) on the same columns in the same
 * state (first call on new arrays, or repeated calls on the same ones), in
 * time order and shuffled; every point is checked against a plain loop per
 * day.
 *
 * ```sh
 * deno run -A bench/in_memory_bench.ts                 # 10 million rows
 * deno run -A bench/in_memory_bench.ts --rows 2000000 --rounds 5
 * deno run -A bench/in_memory_bench.ts --no-rows   # without row objects
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { fetchDataFrameValues } from "../src/dataframe/fetch_dataframe_values.ts";
import { KPIEngine } from "../src/engine/kpi_engine.ts";
import type { DataFrameInput, KPIDefinition, Period } from "../src/types.ts";
import { shiftPeriod } from "../src/period/shift_period.ts";
import { periodInstants } from "../src/period/period_instants.ts";
import { cleanNumber } from "../src/_numbers.ts";
import { valueKey } from "../src/_value_key.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "10000000" },
    rounds: { type: "string", default: "7" },
    // Without the row objects: 10 million live objects make every garbage
    // collection of the process (and its CPU time) heavier for all others.
    "no-rows": { type: "boolean", default: false },
    "no-series": { type: "boolean", default: false },
  },
});
const ROWS = Number(flags.rows);
const ROUNDS = Number(flags.rounds);
const DAY = 86_400_000;
const FIRST = Date.UTC(2023, 0, 1);
const SPAN_DAYS = 730;

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3)
      .join(" ");
  } catch {
    return "unknown";
  }
}
const loadBefore = loadAverage();

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
const ROW_OBJECTS = !flags["no-rows"];
if (ROW_OBJECTS) console.error("Building row objects ...");
const rows = Array.from({ length: ROW_OBJECTS ? ROWS : 0 }, (_, i) => ({
  at: shuffledTimes[i] as number,
  amount: shuffledAmounts[i] as number,
  region: i % 4,
}));

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

/** The slow path: a plain compensated loop per period. */
const expected = periods.map((p) => {
  const { startMs, endMs } = periodInstants(p);
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < ROWS; i++) {
    const t = shuffledTimes[i] as number;
    if (t < startMs || t >= endMs) continue;
    const v = shuffledAmounts[i] as number;
    const next = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v)
      ? (sum - next) + v
      : (v - next) + sum;
    sum = next;
  }
  return cleanNumber(sum + compensation);
});

function check(name: string, got: readonly (number | null)[]): void {
  got.forEach((value, i) => {
    const want = expected[i] as number;
    if (value === null || Math.abs(value - want) > 1e-9 * Math.abs(want)) {
      throw new Error(`${name}: ${value} where the slow path gives ${want}`);
    }
    if (value !== want) inexact.add(`${name}: ${value} vs ${want}`);
  });
}
const inexact = new Set<string>();

type Sample = [wall: number, cpu: number];

/** Wall and CPU milliseconds of `run` (CPU time: immune to other load). */
function timed(run: () => void): Sample {
  const cpu = process.cpuUsage();
  const started = performance.now();
  run();
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return [wall, (used.user + used.system) / 1000];
}

function engine(name: string, table: () => DataFrameInput): () => Sample {
  return () => {
    const input = table();
    let out = new Map<string, { value: number | null }>();
    const ms = timed(() => {
      out = fetchDataFrameValues({ orders: input }, [{ definition, periods }]);
    });
    check(
      name,
      periods.map((p) => out.get(valueKey("revenue", p))?.value ?? null),
    );
    return ms;
  };
}

/** pandas in a process of its own, on the same data, one run per request. */
async function startPandas(): Promise<
  { run: () => Promise<Sample>; stop: () => Promise<void> } | null
> {
  const dir = await Deno.makeTempDir({ prefix: "kpi_bench_" });
  await Deno.writeFile(`${dir}/t.f64`, new Uint8Array(shuffledTimes.buffer));
  await Deno.writeFile(`${dir}/v.f64`, new Uint8Array(shuffledAmounts.buffer));
  const ranges = periods.map((p) => {
    const { startMs, endMs } = periodInstants(p);
    return [startMs, endMs];
  });
  const script = `
import sys, time, numpy as np, pandas as pd
t = np.fromfile(${JSON.stringify(`${dir}/t.f64`)}, dtype="<f8")
v = np.fromfile(${JSON.stringify(`${dir}/v.f64`)}, dtype="<f8")
df = pd.DataFrame({"at": pd.to_datetime(t.astype("int64"), unit="ms"), "amount": v})
ranges = [(pd.Timestamp(a, unit="ms"), pd.Timestamp(b, unit="ms")) for a, b in ${
    JSON.stringify(ranges)
  }]
def run():
    return [float(df.loc[(df["at"] >= a) & (df["at"] < b), "amount"].sum()) for a, b in ranges]
run()
print("ready " + pd.__version__, flush=True)
for line in sys.stdin:
    s = time.perf_counter(); c = time.process_time(); out = run()
    print((time.perf_counter() - s) * 1000, (time.process_time() - c) * 1000, *out, flush=True)
`;
  let child: Deno.ChildProcess;
  try {
    // Debian's python3-pandas lives beside the system python3.
    const python = await Deno.stat("/usr/bin/python3").then(
      () => "/usr/bin/python3",
      () => "python3",
    );
    child = new Deno.Command(python, {
      args: ["-c", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch {
    return null;
  }
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const readLine = async (): Promise<string | null> => {
    while (!buffer.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) return null;
      buffer += value;
    }
    const at = buffer.indexOf("\n");
    const line = buffer.slice(0, at);
    buffer = buffer.slice(at + 1);
    return line;
  };
  const writer = child.stdin.getWriter();
  const stop = async () => {
    await writer.close().catch(() => {});
    await child.status;
    await Deno.remove(dir, { recursive: true });
  };
  const ready = await readLine();
  if (ready === null || !ready.startsWith("ready")) {
    await stop();
    return null;
  }
  pandasVersion = ready.slice(6);
  return {
    run: async () => {
      await writer.write(new TextEncoder().encode("run\n"));
      const [wall, cpu, ...sums] = (await readLine() ?? "").split(" ").map(
        Number,
      );
      check("pandas", sums.map((s) => cleanNumber(s)));
      return [wall as number, cpu as number];
    },
    stop,
  };
}
let pandasVersion = "";

/** The floor: the median of five bare loops (it is short, so noisier). */
const floor = (): Sample => {
  const five = Array.from({ length: 5 }, () =>
    timed(() => {
      let sum = 0;
      for (let i = 0; i < amounts.length; i++) sum += amounts[i] as number;
      if (sum < 0) throw new Error("unreachable");
    }));
  const mid = (k: 0 | 1) =>
    five.map((s) => s[k]).sort((a, b) => a - b)[2] as number;
  return [mid(0), mid(1)];
};
const shuffled = { at: shuffledTimes, amount: shuffledAmounts };
const sorted = { at: sortedTimes, amount: amounts };
const contenders: Record<string, () => Sample | Promise<Sample>> = {
  "floor: bare loop over one Float64Array": floor,
  // New views over the same memory: new arrays to every cache, no copy.
  "columns shuffled, first call": engine("columns shuffled, first", () => ({
    at: new Float64Array(shuffledTimes.buffer),
    amount: new Float64Array(shuffledAmounts.buffer),
  })),
  "columns shuffled, repeated calls": engine(
    "columns shuffled, repeated",
    () => shuffled,
  ),
  "columns in time order, first call": engine("sorted, first", () => ({
    at: new Float64Array(sortedTimes.buffer),
    amount: new Float64Array(amounts.buffer),
  })),
  "columns in time order, repeated calls": engine(
    "sorted, repeated",
    () => sorted,
  ),
};
if (ROW_OBJECTS) {
  contenders["row objects shuffled, first call"] = engine(
    "rows, first",
    () => rows.slice(),
  );
  contenders["row objects shuffled, repeated calls"] = engine(
    "rows, repeated",
    () => rows,
  );
}

/** The slow path of the series: a plain compensated sum per UTC day. */
const SERIES = !flags["no-series"];
const dailyExpected = (() => {
  if (!SERIES) return [];
  const sums = new Float64Array(SPAN_DAYS);
  const compensations = new Float64Array(SPAN_DAYS);
  for (let i = 0; i < ROWS; i++) {
    const d = Math.floor(((sortedTimes[i] as number) - FIRST) / DAY);
    const v = amounts[i] as number;
    const sum = sums[d] as number;
    const next = sum + v;
    compensations[d] = (compensations[d] as number) +
      (Math.abs(sum) >= Math.abs(v) ? (sum - next) + v : (v - next) + sum);
    sums[d] = next;
  }
  return Array.from(
    sums,
    (sum, d) => cleanNumber(sum + (compensations[d] as number)),
  );
})();
let wholeSpan = 0;
for (const v of dailyExpected) wholeSpan += v;

const seriesKpi: KPIDefinition = { ...definition };
const clock = () => Temporal.Instant.from("2025-01-01T12:00:00Z");
/** An engine over the columns; new typed-array views for a first call. */
function engineOver(
  columns: { at: Float64Array; amount: Float64Array },
  fresh: boolean,
): KPIEngine {
  return new KPIEngine({
    kpis: [seriesKpi],
    dataframes: {
      orders: fresh
        ? {
          at: new Float64Array(columns.at.buffer),
          amount: new Float64Array(columns.amount.buffer),
        }
        : columns,
    },
    now: clock,
  });
}
function seriesRun(
  name: string,
  columns: { at: Float64Array; amount: Float64Array },
  fresh: boolean,
): () => Promise<Sample> {
  const kept = engineOver(columns, false);
  return async () => {
    const engine = fresh ? engineOver(columns, true) : kept;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const { points } = await engine.series("revenue", {
      grain: "day",
      from: "2023-01-01",
      to: "2024-12-30",
      comparisons: false,
    });
    const wall = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const got = points.revenue ?? [];
    if (got.length !== SPAN_DAYS) {
      throw new Error(`${name}: ${got.length} points, not ${SPAN_DAYS}`);
    }
    got.forEach((point, d) => {
      const want = dailyExpected[d] as number;
      if (
        point.value === null ||
        Math.abs(point.value - want) > 1e-9 * Math.abs(want)
      ) {
        throw new Error(
          `${name}: ${point.periodStart} is ${point.value} where a plain loop gives ${want}`,
        );
      }
      if (point.value !== want) {
        inexact.add(`${name} ${point.periodStart}: ${point.value} vs ${want}`);
      }
    });
    return [wall, (used.user + used.system) / 1000];
  };
}
function singleRun(
  name: string,
  columns: { at: Float64Array; amount: Float64Array },
  fresh: boolean,
): () => Promise<Sample> {
  const kept = engineOver(columns, false);
  return async () => {
    const engine = fresh ? engineOver(columns, true) : kept;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const [result] = await engine.run("2023-01-01..2024-12-30", {
      record: false,
    });
    const wall = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const value = result?.value ?? null;
    if (
      value === null || Math.abs(value - wholeSpan) > 1e-9 * wholeSpan
    ) {
      throw new Error(
        `${name}: ${value} where a plain loop gives ${wholeSpan}`,
      );
    }
    return [wall, (used.user + used.system) / 1000];
  };
}
/** Series cases and the single-period case each is measured against. */
const seriesPairs: [series: string, single: string][] = [];
if (SERIES) {
  for (
    const [layout, columns] of [
      ["in time order", sorted],
      ["shuffled", shuffled],
    ] as const
  ) {
    for (const fresh of [true, false]) {
      const state = fresh ? "first call" : "repeated calls";
      const single = `one period of two years, ${layout}, ${state}`;
      const series = `730 daily buckets, ${layout}, ${state}`;
      contenders[single] = singleRun(single, columns, fresh);
      contenders[series] = seriesRun(series, columns, fresh);
      seriesPairs.push([series, single]);
    }
  }
}

console.error("Starting pandas if python3 has it ...");
const pandas = await startPandas();
if (pandas) {
  contenders[`pandas ${pandasVersion}, three boolean masks`] = pandas.run;
}

// Warm-up: twice each (the second call on the same arrays builds the
// index and the columnar copy of the rows).
for (const run of Object.values(contenders)) {
  await run();
  await run();
}
const names = Object.keys(contenders);
const samples = new Map<string, Sample[]>(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  console.error(`Round ${round + 1} of ${ROUNDS} ...`);
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + round) % names.length] as string;
    samples.get(name)!.push(await contenders[name]!());
  }
}
await pandas?.stop();

const median = (list: number[]) =>
  [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
const of = (name: string, k: 0 | 1) => samples.get(name)!.map((s) => s[k]);
const floorName = names[0] as string;
const floorCpu = median(of(floorName, 1));
const floorWall = median(of(floorName, 0));
const goals: Record<string, string> = {
  "columns shuffled, first call": "≤ 4",
  "columns in time order, first call": "one scan",
  "columns shuffled, repeated calls": "≤ 0.5",
  "row objects shuffled, repeated calls": "≤ 10",
};
console.log(
  `\n${
    ROWS.toLocaleString("en-US")
  } rows; a sum with its MoM and YoY bases; medians of ${ROUNDS} interleaved rounds; ` +
    `load average ${loadBefore} before, ${loadAverage()} after; ` +
    `every result checked against a plain loop${
      inexact.size === 0 ? " (all equal to the last digit)" : ""
    }${pandas ? "" : "; pandas not available to python3"}. ` +
    `CPU time is the process's own (user + system), which other load on the machine does not inflate\n`,
);
console.log(
  `| case | CPU ms | × floor (CPU) | goal | wall ms | wall min–max | × floor (wall) |`,
);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
const inSeries = new Set(seriesPairs.flat());
for (const name of names.filter((n) => !inSeries.has(n))) {
  const cpu = median(of(name, 1));
  const walls = of(name, 0);
  const wall = median(walls);
  console.log(
    `| ${name} | ${cpu.toFixed(1)} | ${(cpu / floorCpu).toFixed(2)} | ${
      goals[name] ?? ""
    } | ${wall.toFixed(1)} | ${Math.min(...walls).toFixed(1)}–${
      Math.max(...walls).toFixed(1)
    } | ${(wall / floorWall).toFixed(2)} |`,
  );
}
if (seriesPairs.length > 0) {
  console.log(
    `\nSeries: \`engine.series()\` into 730 daily buckets against \`engine.run()\` of one period over the same two years, on the same columns in the same state (goal: within 3×)\n`,
  );
  console.log(
    `| series | CPU ms | single period CPU ms | × single (CPU) | wall ms | single period wall ms | × single (wall) |`,
  );
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
  for (const [series, single] of seriesPairs) {
    const cpu = median(of(series, 1));
    const singleCpu = median(of(single, 1));
    const wall = median(of(series, 0));
    const singleWall = median(of(single, 0));
    console.log(
      `| ${series} | ${cpu.toFixed(1)} | ${singleCpu.toFixed(1)} | ${
        (cpu / singleCpu).toFixed(2)
      } | ${wall.toFixed(1)} | ${singleWall.toFixed(1)} | ${
        (wall / singleWall).toFixed(2)
      } |`,
    );
  }
}
for (const line of inexact) console.log(`not to the last digit: ${line}`);
