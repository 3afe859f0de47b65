/**
 * Starts a real ClickHouse server on 127.0.0.1 for the tests and benches:
 * the engine of the npm package `chdb` (libchdb, ClickHouse 26.7) running
 * `clickhouse-local` with its HTTP listener, in a child process that ends
 * with the process that started it. The library is installed with npm on
 * first use (see `.ci/setup.sh`).
 *
 * @module
 */

import { join } from "node:path";

/** The libchdb package the server runs. */
export const CHDB_PACKAGE = "@chdb/lib-linux-x64-gnu@26.7.3-stable.1";

/** A running server. */
export interface ClickHouseServer {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** The port. */
  port: number;
  /** Runs SQL as the (writable) default user; returns the body. */
  admin(sql: string, settings?: Record<string, string>): Promise<string>;
}

function chdbDir(): string {
  return Deno.env.get("KPI_CHDB_DIR") ??
    join(Deno.env.get("HOME") ?? "/tmp", ".cache", "kpi-engine", "chdb");
}

/** Path of libchdb.so, installing it with npm when it is not there yet. */
export async function libchdbPath(): Promise<string> {
  const dir = chdbDir();
  const lib = join(
    dir,
    "node_modules",
    "@chdb",
    "lib-linux-x64-gnu",
    "libchdb.so",
  );
  try {
    await Deno.stat(lib);
    return lib;
  } catch {
    await Deno.mkdir(dir, { recursive: true });
    const out = await new Deno.Command("npm", {
      args: [
        "install",
        "--no-save",
        "--no-package-lock",
        "--no-audit",
        "--no-fund",
        "--prefix",
        dir,
        CHDB_PACKAGE,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `npm install ${CHDB_PACKAGE} failed: ${
          new TextDecoder().decode(out.stderr)
        }`,
      );
    }
    return lib;
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts a server. Call it at module level (outside a test): the child
 * process lives as long as the test process.
 */
export async function startClickHouse(): Promise<ClickHouseServer> {
  const lib = await libchdbPath();
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "kpi_clickhouse_" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      new URL("./_clickhouse_process.ts", import.meta.url).pathname,
      lib,
      String(port),
      dataDir,
      "3600",
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  child.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const response = await fetch(`${endpoint}/ping`);
      if ((await response.text()).trim() === "Ok.") break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`ClickHouse did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    port,
    async admin(sql, settings = {}) {
      const url = new URL(endpoint);
      for (const [key, value] of Object.entries(settings)) {
        url.searchParams.set(key, value);
      }
      const response = await fetch(url, { method: "POST", body: sql });
      const body = await response.text();
      if (!response.ok) throw new Error(body);
      return body;
    },
  };
}
