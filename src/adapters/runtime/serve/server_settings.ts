/**
 * The server's settings, read once from flags and environment: the one
 * reading shared by `server.ts` and `cli.ts serve`.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** What the server entry points read from flags and environment, once. */
export interface ServerSettings {
  /** The YAML file. */
  config: string;
  /** TCP port. */
  port: number;
  /**
   * Interface to listen on: `127.0.0.1` unless `--hostname`, `HOST` or Deno
   * Deploy (`DENO_DEPLOYMENT_ID`, where the platform routes traffic in) say
   * otherwise.
   */
  hostname: string;
  /** Bearer token, or undefined for none. */
  token: string | undefined;
  /** A database URL overriding the file's `connection`, if any. */
  connection: string | undefined;
  /** Whether the process runs on Deno Deploy (`DENO_DEPLOYMENT_ID` is set). */
  deploy: boolean;
  /** Variables for `${VAR}` in the file. */
  env: Readonly<Record<string, string | undefined>>;
}

/** Flags already parsed by a command line, as {@linkcode serverSettings} takes them. */
export interface ServerFlags {
  /** `--config FILE`. @default `KPI_CONFIG`, else "kpis.yaml" */
  config?: string | undefined;
  /** `--port N`, as typed. @default `PORT`, else "8000" */
  port?: string | undefined;
  /** `--hostname H`. @default `HOST`, else "127.0.0.1" ("0.0.0.0" on Deno Deploy) */
  hostname?: string | undefined;
  /** `--db URL`. @default `KPI_DB` */
  db?: string | undefined;
}

/** The interface a server listens on when nothing says otherwise. */
export const DEFAULT_HOSTNAME = "127.0.0.1";

/**
 * Combines parsed flags with the environment into the server's settings.
 * Flags win over environment; the bind address is loopback unless told.
 *
 * @param flags The flags a command line parsed.
 * @param env The environment.
 * @returns The settings.
 * @throws {RangeError} For a port that is not an integer from 0 to 65535.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(serverSettings({}, {}).hostname, "127.0.0.1");
 * assert.equal(serverSettings({}, { HOST: "0.0.0.0" }).hostname, "0.0.0.0");
 * assert.equal(serverSettings({}, { DENO_DEPLOYMENT_ID: "x1" }).hostname, "0.0.0.0");
 * ```
 */
export function serverSettings(
  flags: ServerFlags,
  env: Readonly<Record<string, string | undefined>>,
): ServerSettings {
  const portText = flags.port ?? env["PORT"] ?? "8000";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new RangeError(
      `Invalid port "${portText}": expected an integer from 0 to 65535`,
    );
  }
  let deploy = false;
  try {
    deploy = (env["DENO_DEPLOYMENT_ID"] ?? "") !== "";
  } catch {
    // A narrow --allow-env without it: not on Deno Deploy.
  }
  const token = env["KPI_API_TOKEN"];
  return {
    config: flags.config ?? env["KPI_CONFIG"] ?? "kpis.yaml",
    port,
    hostname: flags.hostname ?? nonEmpty(env["HOST"]) ??
      (deploy ? "0.0.0.0" : DEFAULT_HOSTNAME),
    token: token === undefined || token === "" ? undefined : token,
    connection: flags.db ?? env["KPI_DB"],
    deploy,
    env,
  };
}

/**
 * Reads the server's settings from command-line flags and environment.
 *
 * @param args Command-line arguments (`Deno.args`); a leading `--` is skipped.
 * @param env The environment.
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
 * assert.equal(settings.hostname, "127.0.0.1");
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
      args: args[0] === "--" ? args.slice(1) : [...args],
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
  return serverSettings(values, env);
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === "" ? undefined : text.trim();
}
