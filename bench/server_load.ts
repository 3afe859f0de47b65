/**
 * Load test of the REST server with `wrk` (Debian: `apt-get install -y wrk`):
 * `GET /kpis/revenue?period=<last closed month>` on the demo database,
 * first served from the cache, then with `refresh=true` (recomputed and
 * recorded in history every time), in the same run.
 *
 * ```sh
 * deno run -A bench/server_load.ts [--duration 20s] [--connections 64] [--threads 2]
 * ```
 *
 * The server runs in this process (one isolate, as `server.ts` runs);
 * history goes to a temporary SQLite file. Exits 1 if any request failed.
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
    duration: { type: "string", default: "20s" },
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
let failed = false;
try {
  const month = engine.resolvePeriod("last_month").start.slice(0, 7);
  const url =
    `http://127.0.0.1:${server.addr.port}/kpis/revenue?period=${month}`;
  const warm = await fetch(url);
  const body = await warm.json();
  if (warm.status !== 200 || warm.headers.get("x-cache") !== "MISS") {
    throw new Error(`Warm-up failed: ${warm.status} ${JSON.stringify(body)}`);
  }
  const check = await fetch(url);
  await check.body?.cancel();
  if (check.headers.get("x-cache") !== "HIT") {
    throw new Error("The second request was not served from the cache");
  }

  console.log(
    `wrk -t${values.threads} -c${values.connections} -d${values.duration} --latency ` +
      `"${url}[&refresh=true]"  (revenue ${month} = ${body.value})\n`,
  );
  const results = [
    await wrk("cached", url),
    await wrk("refresh=true", `${url}&refresh=true`),
  ];
  console.log(
    "| run | req/s | requests | p50 | p75 | p90 | p99 | errors |\n" +
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  );
  for (const r of results) {
    console.log(
      `| ${r.label} | ${
        r.requestsPerSec.toFixed(0)
      } | ${r.requests} | ${r.latency.p50} | ${r.latency.p75} | ${r.latency.p90} | ${r.latency.p99} | ${
        r.errors.length === 0 ? "none" : r.errors.join("; ")
      } |`,
    );
    if (r.errors.length > 0) failed = true;
  }
  const cached = results[0];
  if (cached && cached.requestsPerSec < 10_000) {
    console.log(
      `\nBelow the goal of 10,000 cached requests per second (${
        cached.requestsPerSec.toFixed(0)
      }).`,
    );
  }
} finally {
  stop.abort();
  await server.finished;
  await engine.close();
  await Deno.remove(tmp, { recursive: true });
}
if (failed) Deno.exit(1);
