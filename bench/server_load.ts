/**
 * Load test of the REST server with `wrk` (Debian: `apt-get install -y wrk`)
 * on the demo database, for the last closed month:
 *
 * - `bare`: a bare `Deno.serve` answering the very bytes the single route
 *   answers (the floor);
 * - `single`: `GET /kpis/revenue?period=...`, served from the cache;
 * - `list`: `GET /kpis?period=...`, served from the cache;
 * - `refresh=true`: the single route recomputed and recorded in history on
 *   every request.
 *
 * Each runs `--duration` per round, in an order rotating each round, for
 * `--rounds` rounds; medians are printed with the load average, and the
 * goals as ratios: list to single, single to bare. Socket errors and
 * timeouts are reported in the table, not fatal; the process exits 1 only
 * if a response was not 2xx.
 *
 * ```sh
 * deno run -A bench/server_load.ts [--duration 5s] [--rounds 3] [--connections 64] [--threads 2]
 * ```
 *
 * The servers run in this process (one isolate each, as `server.ts` runs);
 * history goes to a temporary SQLite file.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { openEngine } from "../src/adapters/open_engine.ts";
import { serve } from "../src/adapters/runtime/serve/serve.ts";
import { ensureDemoDatabase } from "../src/adapters/runtime/demo/build_demo_database.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "5s" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "64" },
    threads: { type: "string", default: "2" },
  },
});

interface WrkResult {
  label: string;
  requestsPerSec: number;
  requests: number;
  latency: Record<string, string>;
  errors: string[];
  timeouts: number;
  non2xx: number;
}

async function wrk(label: string, url: string): Promise<WrkResult> {
  const output = await new Deno.Command("wrk", {
    args: [
      `-t${values.threads}`,
      `-c${values.connections}`,
      `-d${values.duration}`,
      "--latency",
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `wrk failed: ${new TextDecoder().decode(output.stderr)}${text}`,
    );
  }
  const latency: Record<string, string> = {};
  for (const match of text.matchAll(/^\s+(50|75|90|99)%\s+(\S+)/gm)) {
    latency[`p${match[1]}`] = match[2] ?? "";
  }
  const errors = [
    ...text.matchAll(/^\s*(Socket errors:.*|Non-2xx or 3xx responses:.*)$/gm),
  ].map((m) => m[1] ?? "");
  return {
    label,
    requestsPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0),
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? 0),
    latency,
    errors,
    timeouts: Number(/timeout (\d+)/.exec(text)?.[1] ?? 0),
    non2xx: Number(/Non-2xx or 3xx responses:\s*(\d+)/.exec(text)?.[1] ?? 0),
  };
}

const root = resolve(new URL("..", import.meta.url).pathname);
await ensureDemoDatabase(join(root, ".demo/shop.db"), {
  log: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
});
const tmp = await Deno.makeTempDir({ prefix: "kpi_bench_" });
const engine = await openEngine(join(root, "kpis.example.yaml"), {
  auditLog: join(tmp, "history.db"),
});
const stop = new AbortController();
const server = serve({
  engine,
  port: 0,
  hostname: "127.0.0.1",
  signal: stop.signal,
  onListen: () => {},
});
function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3)
      .join(" ");
  } catch {
    return "unknown";
  }
}

let failed = false;
let bare: Deno.HttpServer | null = null;
try {
  const month = engine.resolvePeriod("last_month").start.slice(0, 7);
  const base = `http://127.0.0.1:${server.addr.port}`;
  const single = `${base}/kpis/revenue?period=${month}`;
  const list = `${base}/kpis?period=${month}`;
  const warm = await fetch(single);
  const bytes = new Uint8Array(await warm.arrayBuffer());
  const headers = [...warm.headers];
  if (warm.status !== 200 || warm.headers.get("x-cache") !== "MISS") {
    throw new Error(`Warm-up failed: ${warm.status}`);
  }
  for (const url of [single, list, list]) {
    const check = await fetch(url);
    await check.body?.cancel();
    if (url === single && check.headers.get("x-cache") !== "HIT") {
      throw new Error("The second request was not served from the cache");
    }
  }
  bare = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    () => new Response(bytes, { headers }),
  );
  const bareUrl = `http://127.0.0.1:${(bare.addr as Deno.NetAddr).port}/`;
  const loadBefore = loadAverage();
  const runs: Record<string, string> = {
    bare: bareUrl,
    single,
    list,
    "refresh=true": `${single}&refresh=true`,
  };
  const names = Object.keys(runs);
  const all = new Map<string, WrkResult[]>(names.map((n) => [n, []]));
  const rounds = Number(values.rounds);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length] as string;
      console.error(`Round ${round + 1} of ${rounds}: ${name} ...`);
      all.get(name)!.push(await wrk(name, runs[name] as string));
    }
  }
  const median = (list: number[]) =>
    [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
  const rps = (name: string) =>
    median(all.get(name)!.map((r) => r.requestsPerSec));
  console.log(
    `\nwrk -t${values.threads} -c${values.connections} -d${values.duration} --latency, ` +
      `${rounds} interleaved rounds, medians; revenue ${month}; load average ${loadBefore} before, ${loadAverage()} after\n`,
  );
  console.log(
    "| run | req/s (median) | min–max | p50 | p99 | timeouts | socket errors | non-2xx | ratio |\n" +
      "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |",
  );
  const ratios: Record<string, string> = {
    single: `${(rps("single") / rps("bare")).toFixed(2)}× bare (goal ≥ 0.7)`,
    list: `${(rps("list") / rps("single")).toFixed(2)}× single (goal ≥ 0.9)`,
  };
  for (const name of names) {
    const results = all.get(name)!;
    const mid = results.slice().sort((a, b) =>
      a.requestsPerSec - b.requestsPerSec
    )[Math.floor(results.length / 2)]!;
    const speeds = results.map((r) => r.requestsPerSec);
    const timeouts = results.reduce((n, r) => n + r.timeouts, 0);
    const non2xx = results.reduce((n, r) => n + r.non2xx, 0);
    if (non2xx > 0) failed = true;
    console.log(
      `| ${name} | ${rps(name).toFixed(0)} | ${
        Math.min(...speeds).toFixed(0)
      }–${
        Math.max(...speeds).toFixed(0)
      } | ${mid.latency.p50} | ${mid.latency.p99} | ${timeouts} | ${
        results.flatMap((r) => r.errors).filter((e) => e.startsWith("Socket"))
          .join("; ") || "none"
      } | ${non2xx} | ${ratios[name] ?? ""} |`,
    );
  }
} finally {
  await bare?.shutdown();
  stop.abort();
  await server.finished;
  await engine.close();
  await Deno.remove(tmp, { recursive: true });
}
if (failed) Deno.exit(1);
