/**
 * Test helper: a private MariaDB server for fault tests, with its data
 * folder and socket in a temporary folder, listening on a free port of
 * 127.0.0.1 and stopped by its own process id, so the machine's own server
 * is never touched.
 */

import { join } from "node:path";
import { freePort } from "./_private_postgres.ts";

/** A running private MariaDB server. */
export interface PrivateMariaDb {
  /** The port it listens on. */
  port: number;
  /** A connection URL for its `mysql` database (root, no password). */
  url: string;
  /** Kills the server process (SIGTERM shuts down, SIGKILL crashes it). */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it if running and removes its folder. */
  destroy(): Promise<void>;
}

/** Initializes and starts a private server; `destroy()` it when done. */
export async function startPrivateMariaDb(): Promise<PrivateMariaDb> {
  const root = await Deno.makeTempDir({ prefix: "kpi-mariadb-" });
  const data = join(root, "data");
  const user = Deno.uid() === 0 ? ["--user=root"] : [];
  const install = await new Deno.Command("mariadb-install-db", {
    args: [
      "--no-defaults",
      `--datadir=${data}`,
      ...user,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!install.success) {
    throw new Error(
      `mariadb-install-db failed: ${new TextDecoder().decode(install.stderr)}`,
    );
  }
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    child = new Deno.Command("/usr/sbin/mariadbd", {
      args: [
        "--no-defaults",
        `--datadir=${data}`,
        ...user,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--socket=${join(root, "sock")}`,
        `--pid-file=${join(root, "pid")}`,
        "--innodb-buffer-pool-size=16M",
        "--skip-log-bin",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conn.close();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`MariaDB did not listen on port ${port}`);
  };
  const stop = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
    if (child === undefined) return;
    const running = child;
    child = undefined;
    running.kill(signal);
    await running.status;
  };
  await start();
  return {
    port,
    url: `mysql://root@127.0.0.1:${port}/mysql`,
    stop,
    start,
    async destroy() {
      await stop("SIGKILL");
      await Deno.remove(root, { recursive: true });
    },
  };
}
