/**
 * Load and memory of `cli.ts serve` as its own process, with `wrk` (Debian:
 * `apt-get install -y wrk`): 64 connections against `/health`, the cached
 * KPI route and the KPI list route, one after the other in one run, each
 * with the server's resident memory (from `/proc/PID/status`) before and
 * after. The demo database and a SQLite history file are used; the first
 * route run is also the warm-up that the later ones are compared with.
 *
 * ```sh
 * deno run -A bench/server_memory_load.ts [--duration 20s] [--connections 64] [--threads 2]
 * ```
 *
 * Goals: no errors, resident memory flat after warm-up (within ~50 MB), the
 * cached KPI route at 10,000 requests per second or more. Exits 1 if any
 * request failed.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
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
  requestsPerSec: number;
  requests: number;
  latency: Record<string, string>;
  errors: string[];
}

async function wrk(url: string): Promise<WrkResult> {
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
  for (const match of text.matchAll(/^\s+(50|90|99)%\s+(\S+)/gm)) {
    latency[`p${match[1]}`] = match[2] ?? "";
  }
  return {
    requestsPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0),
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? 0),
    latency,
    errors: [
      ...text.matchAll(
        /^\s*(Socket errors:.*|Non-2xx or 3xx responses:.*)$/gm,
      ),
    ].map((m) => m[1] ?? ""),
  };
}

/** Resident memory of a process, in MB. */
async function rssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

const root = resolve(new URL("..", import.meta.url).pathname);
await ensureDemoDatabase(join(root, ".demo/shop.db"), {
  log: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
});
const tmp = await Deno.makeTempDir({ prefix: "kpi_bench_" });
const config = join(tmp, "kpis.yaml");
await Deno.writeTextFile(
  config,
  (await Deno.readTextFile(join(root, "kpis.example.yaml")))
    .replace(/^connection:.*$/m, `connection: sqlite:${root}/.demo/shop.db`)
    .replace(/^audit_log:.*$/m, "") +
    `\naudit_log: ${join(tmp, "history.db")}\n`,
);
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    join(root, "cli.ts"),
    "serve",
    "-c",
    config,
    "--port",
    "0",
    "--hostname",
    "127.0.0.1",
  ],
  stdout: "null",
  stderr: "piped",
}).spawn();
const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
let failed = false;
try {
  let seen = "";
  let port: string | undefined;
  while (port === undefined) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve did not start: ${seen}`);
    seen += value;
    port = /Listening on http:\/\/[^:]+:(\d+)\//.exec(seen)?.[1];
  }
  // Keep reading so that the server never blocks on a full pipe.
  (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done);
  })();
  const base = `http://127.0.0.1:${port}`;
  const month = (await (await fetch(`${base}/kpis`)).json()).period.start
    .slice(0, 7);
  const routes: [string, string][] = [
    ["/health", `${base}/health`],
    ["cached KPI", `${base}/kpis/revenue?period=${month}`],
    ["KPI list", `${base}/kpis?period=${month}`],
  ];
  for (const [, url] of routes) {
    const warm = await fetch(url);
    await warm.body?.cancel();
    if (warm.status !== 200) throw new Error(`${url} answered ${warm.status}`);
  }
  console.log(
    `wrk -t${values.threads} -c${values.connections} -d${values.duration} --latency, ` +
      `cli.ts serve (pid ${child.pid}) on the demo database, period ${month}\n`,
  );
  console.log(
    "| route | req/s | requests | p50 | p90 | p99 | errors | RSS before | RSS after |\n" +
      "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
  );
  const start = await rssMb(child.pid);
  for (const [label, url] of routes) {
    const before = await rssMb(child.pid);
    const r = await wrk(url);
    const after = await rssMb(child.pid);
    console.log(
      `| ${label} | ${
        r.requestsPerSec.toFixed(0)
      } | ${r.requests} | ${r.latency.p50} | ${r.latency.p90} | ${r.latency.p99} | ${
        r.errors.length === 0 ? "none" : r.errors.join("; ")
      } | ${before.toFixed(1)} MB | ${after.toFixed(1)} MB |`,
    );
    if (r.errors.length > 0) failed = true;
  }
  await new Promise((r) => setTimeout(r, 2000));
  console.log(
    `\nRSS at start ${start.toFixed(1)} MB, idle after the run ${
      (await rssMb(child.pid)).toFixed(1)
    } MB (load average ${
      (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(
        " ",
      )
    } on ${navigator.hardwareConcurrency} cores)`,
  );
} finally {
  child.kill("SIGTERM");
  await child.status;
  await Deno.remove(tmp, { recursive: true });
}
if (failed) Deno.exit(1);
