/**
 * Test helper: a private PostgreSQL server for fault tests. It is
 * initialized into a temporary folder, listens on a free port of 127.0.0.1,
 * runs as the `postgres` user and is stopped by its own data folder and
 * process id, so the machine's own server is never touched.
 */

import { join } from "node:path";

/** The newest installed PostgreSQL's programs (Debian's layout). */
const BIN = (() => {
  const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
    .map((entry) => entry.name)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  return `/usr/lib/postgresql/${versions[0] ?? "15"}/bin`;
})();

/** A running private PostgreSQL server. */
export interface PrivatePostgres {
  /** The port it listens on. */
  port: number;
  /** A connection URL for its `postgres` database (trust, no password). */
  url: string;
  /** The process id of the postmaster. */
  pid(): Promise<number>;
  /** Stops the server (`pg_ctl stop -m MODE`). */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it if running and removes its folder. */
  destroy(): Promise<void>;
}

/** Picks a free TCP port of 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Runs a program as the `postgres` user (directly when not root). */
async function asPostgres(args: string[]): Promise<Deno.CommandOutput> {
  const asRoot = Deno.uid() === 0;
  const command = asRoot
    ? new Deno.Command("runuser", { args: ["-u", "postgres", "--", ...args] })
    : new Deno.Command(args[0]!, { args: args.slice(1) });
  return await command.output();
}

async function check(args: string[]): Promise<void> {
  const out = await asPostgres(args);
  if (!out.success) {
    throw new Error(
      `${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}${
        new TextDecoder().decode(out.stdout)
      }`,
    );
  }
}

/** Initializes and starts a private server; `destroy()` it when done. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = await Deno.makeTempDir({ prefix: "kpi-pg-" });
  await Deno.chmod(root, 0o777);
  const data = join(root, "data");
  await check([
    `${BIN}/initdb`,
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "--no-sync",
    "-E",
    "UTF8",
  ]);
  let port = freePort();
  const start = () =>
    check([
      `${BIN}/pg_ctl`,
      "-D",
      data,
      "-w",
      "-l",
      join(root, "log"),
      "-o",
      `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "start",
    ]);
  // A port found free can be taken (by another test run, say) before the
  // server binds it: then it does not start, and another port is tried.
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
  let running = true;
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async pid() {
      const text = await Deno.readTextFile(join(data, "postmaster.pid"));
      return Number(text.split("\n")[0]);
    },
    async stop(mode = "fast") {
      await check([`${BIN}/pg_ctl`, "-D", data, "-w", "-m", mode, "stop"]);
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) {
        await asPostgres([
          `${BIN}/pg_ctl`,
          "-D",
          data,
          "-w",
          "-m",
          "immediate",
          "stop",
        ]);
      }
      await Deno.remove(root, { recursive: true });
    },
  };
}
