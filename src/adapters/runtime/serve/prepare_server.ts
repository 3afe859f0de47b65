/**
 * The one server set-up shared by `server.ts` (under `deno run`,
 * `deno serve` and Deno Deploy) and `cli.ts serve`: read the file, start
 * its schedules, open the engine, build the app, listen, stop on a signal.
 *
 * {@linkcode prepareServer} is synchronous up to the schedules, so an
 * entry point registers `Deno.cron` jobs at its top level before its first
 * `await` (Deno Deploy only sees jobs registered that way); the engine
 * opens afterwards and scheduled runs wait for it.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { parseKpis } from "../../../config/parse_kpis.ts";
import { KPIEngine } from "../../../engine/kpi_engine.ts";
import type { KPIConfig } from "../../../types.ts";
import type {
  CronRegistrar,
  ScheduledRuns,
  ScheduleEngine,
} from "../cron/schedule_runs.ts";
import { openEngineOptions } from "../../open_engine.ts";
import { createApp, type KPIApp } from "../../../server/create_app.ts";
import { registerSchedules } from "../cron/register_schedules.ts";
import type { ServerSettings } from "./server_settings.ts";
import { listenMessage } from "./listen_message.ts";
import { deployWarnings } from "./deploy_warnings.ts";

/** Options of {@linkcode prepareServer}. */
export interface PrepareServerOptions {
  /**
   * `Deno.cron`, to run UTC schedules on it (required on Deno Deploy).
   * @default undefined (every schedule runs on a timer loop)
   */
  denoCron?: CronRegistrar | undefined;
  /** Where progress and failures go, a line at a time. @default stderr */
  log?: (line: string) => void;
  /** The engine's clock (`--as-of`). @default Temporal.Now.instant */
  now?: () => Temporal.Instant;
  /** A history store target overriding the file's `audit_log`. @default the file's */
  auditLog?: string;
  /** Reads the YAML file synchronously. @default Deno.readTextFileSync */
  readTextFileSync?: (path: string) => string;
}

/** A server whose schedules run and whose engine is opening. */
export interface PreparedServer {
  /** The settings it was prepared with. */
  readonly settings: ServerSettings;
  /** The validated file. */
  readonly config: KPIConfig;
  /** The running schedules from the file's `schedules:`. */
  readonly schedules: readonly ScheduledRuns[];
  /** Resolves once the engine is open and the app built; rejects if the engine cannot open. */
  readonly ready: Promise<{ app: KPIApp; engine: KPIEngine }>;
  /** Answers a request (waiting for `ready`). */
  fetch(request: Request): Promise<Response>;
  /** Prints where it listens and warns when open to all without a token. */
  onListen(address: { hostname: string; port: number }): void;
  /** Stops the schedules (after their runs in flight) and closes the engine. */
  close(): Promise<void>;
}

/**
 * Reads and validates the file (synchronously), starts its `schedules:` and
 * starts opening the engine. Nothing listens yet.
 *
 * @param settings From `readServerSettings` or `serverSettings`.
 * @param options `Deno.cron`, a logger and a clock.
 * @returns The prepared server.
 * @throws {KPIConfigError} When the file is invalid.
 * @throws {Error} When the file cannot be read.
 * @throws {RangeError} When a schedule's cron expression or zone is invalid.
 */
export function prepareServer(
  settings: ServerSettings,
  options: PrepareServerOptions = {},
): PreparedServer {
  const log = options.log ?? writeLine;
  const config = readConfig(settings, options);
  for (const line of deployWarnings(config, settings.env)) log(line);
  let opened: KPIEngine | undefined;
  const engine = openEngine(settings, config, options).then((engine) => {
    opened = engine;
    return engine;
  });
  // Scheduled runs wait for the engine; the jobs themselves exist now.
  const lazyEngine: ScheduleEngine = {
    config: { timezone: config.timezone },
    report: async (period, runOptions) =>
      await (await engine).report(period, runOptions),
  };
  const schedules = registerSchedules(lazyEngine, config.schedules, {
    log,
    denoCron: options.denoCron,
  });
  if (settings.deploy) {
    schedules.forEach((runs, i) => {
      if (runs.mode === "timer") {
        log(
          `WARNING: Schedule ${i + 1} runs on an in-process timer, which ` +
            "Deno Deploy does not keep alive: write it in UTC so that it " +
            "runs on Deno.cron (which knows no other time zone).",
        );
      }
    });
  }
  const ready = engine.then((engine) => ({
    engine,
    app: createApp({
      engine,
      token: settings.token,
      onError: (error, request) =>
        log(
          `${request.method} ${new URL(request.url).pathname}: ${
            error instanceof Error ? error.message : String(error)
          }`,
        ),
    }),
  }));
  ready.catch(async () => {
    await Promise.all(schedules.map((s) => s.stop()));
  });
  return {
    settings,
    config,
    schedules,
    ready,
    fetch: async (request) => await (await ready).app.fetch(request),
    onListen: (address) => {
      for (
        const line of listenMessage(address, { secured: !!settings.token })
      ) {
        log(line);
      }
    },
    close: async () => {
      await Promise.all(schedules.map((s) => s.stop()));
      await ready.catch(() => undefined);
      await opened?.close();
    },
  };
}

/** Options of {@linkcode listenUntilSignal}. */
export interface ListenUntilSignalOptions {
  /** Stops the server when aborted, instead of SIGINT/SIGTERM. @default undefined */
  signal?: AbortSignal | undefined;
  /** Where progress goes, a line at a time. @default stderr */
  log?: (line: string) => void;
}

/**
 * Waits for the engine, listens on the settings' port and hostname, and
 * on SIGINT or SIGTERM (or `options.signal`) finishes the requests and
 * scheduled runs in flight, closes the engine and resolves. A second signal
 * exits at once with code 130.
 *
 * @param server From {@linkcode prepareServer}.
 * @param options A stop signal and a logger.
 * @returns Once stopped.
 * @throws When the engine cannot open (its database or history store).
 */
export async function listenUntilSignal(
  server: PreparedServer,
  options: ListenUntilSignalOptions = {},
): Promise<void> {
  const log = options.log ?? writeLine;
  let app: KPIApp;
  try {
    ({ app } = await server.ready);
  } catch (error) {
    await server.close();
    throw error;
  }
  const stop = new AbortController();
  const signals: Deno.Signal[] = options.signal !== undefined
    ? []
    : Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  const listener = (): void => {
    if (stop.signal.aborted) Deno.exit(130);
    stop.abort();
  };
  for (const signal of signals) Deno.addSignalListener(signal, listener);
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  try {
    let http: Deno.HttpServer;
    try {
      http = Deno.serve({
        port: server.settings.port,
        hostname: server.settings.hostname,
        signal: stop.signal,
        onListen: server.onListen,
      }, app.fetch);
    } catch (error) {
      await server.close();
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      const { hostname, port } = server.settings;
      throw new Error(
        `Cannot listen on ${hostname}:${port}: the port is in use; ` +
          "choose another with --port or PORT (0 picks a free one)",
      );
    }
    await new Promise<void>((resolve) =>
      stop.signal.aborted
        ? resolve()
        : stop.signal.addEventListener("abort", () => resolve(), { once: true })
    );
    log("Stopping: finishing requests and runs in flight");
    await http.finished;
    await server.close();
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, listener);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

function readConfig(
  settings: ServerSettings,
  options: PrepareServerOptions,
): KPIConfig {
  const read = options.readTextFileSync ?? Deno.readTextFileSync;
  let text: string;
  try {
    text = read(settings.config);
  } catch (error) {
    throw new Error(
      `Cannot read the KPI file "${settings.config}" (--config or KPI_CONFIG): ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  return parseKpis(text, { file: settings.config, env: settings.env });
}

async function openEngine(
  settings: ServerSettings,
  config: KPIConfig,
  options: PrepareServerOptions,
): Promise<KPIEngine> {
  return new KPIEngine(
    await openEngineOptions(config, {
      baseDir: dirname(resolve(settings.config)),
      ...(settings.connection === undefined
        ? {}
        : { connection: settings.connection }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.auditLog === undefined ? {} : { auditLog: options.auditLog }),
    }),
  );
}

function writeLine(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
}
