/**
 * The HTTP server entry point: reads its settings once, validates the YAML
 * file, registers the file's `schedules:` (on `Deno.cron` where it exists),
 * opens the engine and serves the REST API and dashboard.
 *
 * ```sh
 * deno serve -A --host 127.0.0.1 --port 8000 server.ts --config kpis.yaml
 * deno run -A server.ts --config kpis.yaml --port 8000
 * ```
 *
 * Both commands work: `deno serve` uses this module's default export (see
 * {@linkcode serverEntry}); under `deno run` the module listens itself.
 * Settings (flags win over environment): `--config FILE` or `KPI_CONFIG`
 * (default `kpis.yaml`); `--port N` or `PORT` (default 8000); `--hostname H`
 * or `HOST` (default `127.0.0.1`; `0.0.0.0` on Deno Deploy); `--db URL` or
 * `KPI_DB` (overrides the file's `connection`); `KPI_API_TOKEN` (bearer
 * token; unset means no authentication, and the server warns when it is
 * reachable from other machines). Under `deno serve`, Deno's own `--port`
 * and `--host` decide where it listens (Deno's default host is `0.0.0.0`).
 * `${VAR}` in the file expands from the environment.
 *
 * Imported as a library (`@kpi-engine/kpi-engine/server`), the module only
 * exports {@linkcode createApp} and the set-up pieces; it reads nothing and
 * starts nothing.
 *
 * @module
 */

import type { PreparedServer } from "./src/adapters/runtime/serve/prepare_server.ts";
import {
  listenUntilSignal,
  prepareServer,
} from "./src/adapters/runtime/serve/prepare_server.ts";
import { readServerSettings } from "./src/adapters/runtime/serve/server_settings.ts";
import { availableDenoCron } from "./src/adapters/runtime/cron/register_schedules.ts";
import { processEnv } from "./src/adapters/runtime/process_env.ts";

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
export {
  readServerSettings,
  type ServerFlags,
  type ServerSettings,
  serverSettings,
} from "./src/adapters/runtime/serve/server_settings.ts";
export {
  listenUntilSignal,
  type ListenUntilSignalOptions,
  type PreparedServer,
  prepareServer,
  type PrepareServerOptions,
} from "./src/adapters/runtime/serve/prepare_server.ts";

/** The server this module runs as the main module; undefined when imported. */
let running: PreparedServer | undefined;
/** Set once `deno serve` (or Deno Deploy) listens through the default export. */
let listenedByDeno = false;

const log = (line: string): void =>
  void Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));

if (import.meta.main) {
  try {
    // Everything up to `ready` is synchronous: the file's schedules are
    // registered with Deno.cron here, at the top level before the first
    // await, as Deno Deploy requires.
    running = prepareServer(
      readServerSettings(Deno.args, processEnv()),
      { denoCron: availableDenoCron(), log },
    );
    await running.ready;
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    await running?.close();
    Deno.exit(2);
  }
  // `deno serve` starts listening through the default export as soon as
  // this module has finished evaluating, before any timer fires. If
  // nobody did, this is `deno run`: listen here.
  setTimeout(() => {
    if (listenedByDeno || running === undefined) return;
    listenUntilSignal(running, { log }).then(
      () => Deno.exit(0),
      (error: unknown) => {
        log(error instanceof Error ? error.message : String(error));
        Deno.exit(2);
      },
    );
  }, 0);
}

/**
 * What `deno serve server.ts` (and Deno Deploy) calls: Deno's contract for
 * a served module is a default export with `fetch`. This is an entry
 * point's export, not a library's (the package has no other default
 * export); imported as a library it answers 503, since only the main
 * module reads the settings and opens the engine.
 */
const serverEntry: Deno.ServeDefaultExport = {
  fetch(request: Request): Promise<Response> | Response {
    if (running === undefined) {
      return Response.json({
        error:
          "server.ts serves only as the main module (deno serve server.ts); " +
          "use createApp() in a module of your own",
      }, { status: 503 });
    }
    return running.fetch(request);
  },
  onListen(address: Deno.Addr): void {
    listenedByDeno = true;
    const server = running;
    if (server === undefined || address.transport !== "tcp") return;
    server.onListen(address);
    let stopping = false;
    const stop = (): void => {
      if (stopping) Deno.exit(130);
      stopping = true;
      log("Stopping: finishing scheduled runs in flight");
      server.close().then(() => Deno.exit(0));
    };
    for (
      const signal of Deno.build.os === "windows"
        ? ["SIGINT" as const]
        : ["SIGINT" as const, "SIGTERM" as const]
    ) {
      Deno.addSignalListener(signal, stop);
    }
  },
};
export default serverEntry;
