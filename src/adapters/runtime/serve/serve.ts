/**
 * Serves the REST app with `Deno.serve`: the edge between
 * {@linkcode createApp} and the network, used by `server.ts` and
 * `cli.ts serve`.
 *
 * @module
 */

import { createApp } from "../../../server/create_app.ts";
import type { CreateAppOptions } from "../../../server/create_app.ts";
import { listenMessage } from "./listen_message.ts";

/** Options of {@linkcode serve}: those of `createApp` plus where to listen. */
export interface ServeOptions extends CreateAppOptions {
  /** TCP port; 0 picks a free one. @default 8000 */
  port?: number;
  /**
   * Interface to listen on. Pass `0.0.0.0` to accept connections from other
   * machines (containers, a LAN). @default "127.0.0.1"
   */
  hostname?: string;
  /** Closes the server (gracefully) when aborted. @default undefined */
  signal?: AbortSignal;
  /**
   * Told the address once listening. @default logs
   * `Listening on http://localhost:PORT/ (...)`, and a warning when the
   * bind is not loopback and no token is set
   */
  onListen?: (address: Deno.NetAddr) => void;
  /**
   * Where the listening line and unexpected failures go, a line at a time,
   * each ending in a newline (a stream writer such as the CLI's stderr
   * fits). @default writes to stderr
   */
  log?: (text: string) => void;
}

/**
 * Builds the app with {@linkcode createApp} and serves it on a TCP port.
 * Unexpected failures are logged as `METHOD /path: message` (never
 * headers, so never the token) unless `onError` is given.
 *
 * @param options The engine, token, cache settings and address.
 * @returns The running server; `await server.shutdown()` or abort
 *   `options.signal` to stop it, then `await server.finished`.
 * @throws {RangeError} If the port is not an integer from 0 to 65535.
 * @example Serve on a free port and ask for health
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const engine = {
 *   config: { timezone: "UTC" },
 *   definitions: [],
 *   resolvePeriod: (label: string) =>
 *     ({ label, start: "2024-11-01", end: "2024-12-01", timezone: "UTC" }),
 *   report: () => Promise.resolve({ period: { label: "", start: "", end: "" }, results: [] }),
 *   history: () => Promise.resolve([]),
 * };
 * const server = serve({ engine, port: 0, onListen: () => {} });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/health`);
 * assert.equal(response.status, 200);
 * await response.body?.cancel();
 * await server.shutdown();
 * ```
 */
export function serve(options: ServeOptions): Deno.HttpServer<Deno.NetAddr> {
  const port = options.port ?? 8000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Invalid port ${
        JSON.stringify(port)
      }: expected an integer from 0 to 65535`,
    );
  }
  const write = options.log ??
    ((text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
  const app = createApp({
    ...options,
    onError: options.onError ?? ((error, request) => {
      const path = new URL(request.url).pathname;
      const message = error instanceof Error ? error.message : String(error);
      write(`${request.method} ${path}: ${message}\n`);
    }),
  });
  return Deno.serve({
    port,
    hostname: options.hostname ?? "127.0.0.1",
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onListen: options.onListen ?? ((address) => {
      const secured = options.token !== undefined && options.token !== "";
      for (const line of listenMessage(address, { secured })) {
        write(`${line}\n`);
      }
    }),
  }, app.fetch);
}
