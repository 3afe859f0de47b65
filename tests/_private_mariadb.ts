/**
 * Test helper: a private MariaDB server for fault tests, with its data
 * folder and socket in a temporary folder, listening on a free port of
 * 127.0.0.1 and stopped by its own process id, so the machine's own server
 * is never touched.
 */

import { join } from "node:path";
import mysql from "mysql2/promise";
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
  let port = freePort();
  const socket = join(root, "sock");
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    const server = new Deno.Command("/usr/sbin/mariadbd", {
      args: [
        "--no-defaults",
        `--datadir=${data}`,
        ...user,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--socket=${socket}`,
        `--pid-file=${join(root, "pid")}`,
        "--innodb-buffer-pool-size=16M",
        "--skip-log-bin",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    child = server;
    let exited = false;
    server.status.then(() => exited = true);
    // Ready once the server on the port answers a query and is this one (its
    // socket is ours): another program that took the port in between would
    // otherwise be taken for it.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !exited) {
      try {
        const conn = await mysql.createConnection({
          host: "127.0.0.1",
          port,
          user: "root",
          connectTimeout: 2_000,
        });
        try {
          const [rows] = await conn.query("SELECT @@socket AS socket");
          const [row] = rows as { socket: string }[];
          if (row?.socket === socket) return;
          throw new Error(
            `Port ${port} is held by another MariaDB (${row?.socket})`,
          );
        } finally {
          await conn.end().catch(() => {});
        }
      } catch (error) {
        if (/another MariaDB/.test(String(error))) {
          await stop("SIGKILL");
          throw error;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await stop("SIGKILL");
    throw new Error(
      exited
        ? `MariaDB exited before listening on port ${port} (taken?)`
        : `MariaDB did not listen on port ${port}`,
    );
  };
  const stop = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
    if (child === undefined) return;
    const running = child;
    child = undefined;
    try {
      running.kill(signal);
    } catch {
      // Already ended (it could not bind its port, say).
    }
    await running.status;
  };
  // A port found free can be taken before the server binds it: try others.
  for (let attempt = 1;; attempt++) {
    try {
      await start();
      break;
    } catch (error) {
      if (attempt === 5) {
        await Deno.remove(root, { recursive: true });
        throw error;
      }
      port = freePort();
    }
  }
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
