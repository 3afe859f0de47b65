/**
 * The HTTP server entry point: reads its settings once, builds the engine
 * from a YAML file, registers the file's `schedules:` and serves the REST
 * API and dashboard.
 *
 * ```sh
 * KPI_API_TOKEN=s3cret deno run -A server.ts --config kpis.yaml --port 8000
 * ```
 *
 * Settings (flags win over environment): `--config FILE` or `KPI_CONFIG`
 * (default `kpis.yaml`); `--port N` or `PORT` (default 8000); `--hostname H`
 * or `HOST` (default `0.0.0.0`); `--db URL` or `KPI_DB` (overrides the
 * file's `connection`); `KPI_API_TOKEN` (bearer token; unset means no
 * authentication). `${VAR}` in the file expands from the environment.
 *
 * On Deno Deploy the same file is the entry point (`deno run` semantics:
 * `import.meta.main` is true); set `KPI_CONFIG` and `KPI_API_TOKEN` in the
 * project's environment and use `audit_log: kv:` for history in the
 * platform's KV. UTC schedules are registered with `Deno.cron` before the
 * server starts, as Deploy requires.
 *
 * `deno serve` needs a module with a default export, which this package
 * does not have; a three-line module of your own does it:
 *
 * ```ts ignore
 * import { buildServer, readServerSettings } from "jsr:@kpi-engine/kpi-engine/server";
 * const { app } = await buildServer(readServerSettings([], Deno.env.toObject()), { denoCron: Deno.cron });
 * export default { fetch: app.fetch };
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { KPIEngine } from "./mod.ts";
import { openEngine, processEnv, scheduleRuns } from "./src/adapters/mod.ts";
import type { CronRegistrar } from "./mod.ts";
import type { ScheduledRuns } from "./src/adapters/mod.ts";
import { createApp } from "./src/server/create_app.ts";
import type { KPIApp } from "./src/server/create_app.ts";

export {
  createApp,
  type CreateAppOptions,
  type HealthCheck,
  type KPIApp,
  type ServerCacheOptions,
  type ServerEngine,
  type ServerRunOptions,
  type ServerRunReport,
} from "./src/server/create_app.ts";
export {
  type OpenApiDocument,
  openApiDocument,
  type OpenApiDocumentOptions,
} from "./src/server/open_api_document.ts";

/** What the server entry reads from flags and environment, once. */
export interface ServerSettings {
  /** The YAML file. */
  config: string;
  /** TCP port. */
  port: number;
  /** Interface to listen on. */
  hostname: string;
  /** Bearer token, or undefined for none. */
  token: string | undefined;
  /** A database URL overriding the file's `connection`, if any. */
  connection: string | undefined;
  /** Variables for `${VAR}` in the file. */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads the server's settings from command-line flags and environment.
 *
 * @param args Command-line arguments (`Deno.args`).
 * @param env The environment, e.g. `processEnv()` from `./adapters`, which
 * reads each variable only when asked.
 * @returns The settings.
 * @throws {TypeError} For an unknown flag or a flag without its value.
 * @throws {RangeError} For a port that is not an integer from 0 to 65535.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const settings = readServerSettings(["--port", "9000"], {
 *   KPI_CONFIG: "shop.yaml",
 *   KPI_API_TOKEN: "s3cret",
 * });
 * assert.equal(settings.config, "shop.yaml");
 * assert.equal(settings.port, 9000);
 * assert.equal(settings.token, "s3cret");
 * ```
 */
export function readServerSettings(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ServerSettings {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: "string", short: "c" },
        port: { type: "string", short: "p" },
        hostname: { type: "string" },
        db: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new TypeError(
      `${
        error instanceof Error ? error.message : String(error)
      }; expected --config FILE, --port N, --hostname HOST, --db URL`,
    );
  }
  const portText = values.port ?? env["PORT"] ?? "8000";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new RangeError(
      `Invalid port "${portText}": expected an integer from 0 to 65535`,
    );
  }
  const token = env["KPI_API_TOKEN"];
  return {
    config: values.config ?? env["KPI_CONFIG"] ?? "kpis.yaml",
    port,
    hostname: values.hostname ?? env["HOST"] ?? "0.0.0.0",
    token: token === undefined || token === "" ? undefined : token,
    connection: values.db ?? env["KPI_DB"],
    env,
  };
}

/** Options of {@linkcode buildServer}. */
export interface BuildServerOptions {
  /**
   * `Deno.cron`, to run UTC schedules on it (required on Deno Deploy);
   * without it every schedule runs on a timer loop. @default undefined
   */
  denoCron?: CronRegistrar;
  /** Where progress and failures go, a line at a time. @default stderr */
  log?: (line: string) => void;
}

/** The engine, the app and the schedules the entry point built. */
export interface BuiltServer {
  /** The REST app; serve `app.fetch`. */
  app: KPIApp;
  /** The engine. */
  engine: KPIEngine;
  /** The running schedules from the file's `schedules:`. */
  schedules: ScheduledRuns[];
  /** Stops the schedules (after their runs in flight) and closes the engine. */
  close(): Promise<void>;
}

/**
 * Builds the engine from the YAML file, registers its `schedules:` and
 * creates the app: everything but listening.
 *
 * @param settings From {@linkcode readServerSettings}.
 * @param options `Deno.cron` and a logger.
 * @returns The app, engine and schedules.
 * @throws {KPIConfigError} When the file is invalid.
 */
export async function buildServer(
  settings: ServerSettings,
  options: BuildServerOptions = {},
): Promise<BuiltServer> {
  const log = options.log ??
    ((line: string) =>
      Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`)));
  const engine = await openEngine(settings.config, {
    env: settings.env,
    ...(settings.connection === undefined
      ? {}
      : { connection: settings.connection }),
  });
  const schedules: ScheduledRuns[] = [];
  try {
    engine.config.schedules.forEach((schedule, i) => {
      const period = schedule.period ?? "last_month";
      const runs = scheduleRuns(engine, {
        cron: schedule.cron,
        period,
        ...(schedule.kpis === undefined ? {} : { kpis: schedule.kpis }),
        ...(schedule.timezone === undefined
          ? {}
          : { timezone: schedule.timezone }),
        ...(options.denoCron === undefined
          ? {}
          : { denoCron: options.denoCron }),
        name: `kpi-engine schedule ${i + 1}`,
        onResult: (report, fire) => {
          const bad = report.results.filter((r) => r.alertStatus !== "ok");
          log(
            `Schedule ${i + 1} (${schedule.cron}) ran ${report.period.label} ` +
              `due at ${fire.scheduledAt}: ${report.results.length} KPI(s), ` +
              `${bad.length} not ok`,
          );
        },
        onSkip: (skip) =>
          log(
            `Schedule ${i + 1} (${schedule.cron}) skipped the run due at ` +
              `${skip.scheduledAt}: the run started at ${skip.runningSince} ` +
              "is still going",
          ),
        onError: (error, fire) =>
          log(
            `Schedule ${i + 1} (${schedule.cron}) failed the run due at ` +
              `${fire.scheduledAt}: ${
                error instanceof Error ? error.message : String(error)
              }`,
          ),
      });
      schedules.push(runs);
      log(
        `Schedule ${i + 1}: ${
          JSON.stringify(schedule.cron)
        } (${runs.timezone}, ${
          runs.mode === "deno_cron" ? "Deno.cron" : "timer"
        }) computes ${period}; next run at ${runs.nextRun() ?? "never"}`,
      );
    });
  } catch (error) {
    await Promise.all(schedules.map((s) => s.stop()));
    await engine.close();
    throw error;
  }
  const app = createApp({
    engine,
    token: settings.token,
    onError: (error, request) => {
      const path = new URL(request.url).pathname;
      log(
        `${request.method} ${path}: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    },
  });
  return {
    app,
    engine,
    schedules,
    close: async () => {
      await Promise.all(schedules.map((s) => s.stop()));
      await engine.close();
    },
  };
}

if (import.meta.main) {
  const log = (line: string): void =>
    void Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
  try {
    const settings = readServerSettings(Deno.args, processEnv());
    const built = await buildServer(settings, {
      ...(typeof Deno.cron === "function" ? { denoCron: Deno.cron } : {}),
      log,
    });
    const server = Deno.serve({
      port: settings.port,
      hostname: settings.hostname,
      onListen: ({ hostname, port }) =>
        log(
          `Listening on http://${
            hostname.includes(":") ? `[${hostname}]` : hostname
          }:${port}/${settings.token ? " (bearer token required)" : ""}`,
        ),
    }, built.app.fetch);
    let stopping = false;
    const stop = async (): Promise<void> => {
      if (stopping) Deno.exit(130);
      stopping = true;
      log("Stopping: finishing requests and runs in flight");
      await server.shutdown();
      await built.close();
      Deno.exit(0);
    };
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(signal, () => void stop());
      } catch {
        // Signals are not available everywhere (Windows SIGTERM, Deploy).
      }
    }
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    Deno.exit(2);
  }
}
