/**
 * What a server says once it listens: a clickable address and, when it is
 * reachable from other machines without a token, a loud warning. Shared by
 * `serve()`, `server.ts` (under `deno run` and `deno serve`) and
 * `cli.ts serve`.
 *
 * @module
 */

/** Options of {@linkcode listenMessage}. */
export interface ListenMessageOptions {
  /** Whether a bearer token is required. */
  secured: boolean;
}

/**
 * Whether an address only accepts connections from this machine.
 *
 * @param hostname The address listened on.
 * @returns True for 127.0.0.0/8, `::1` and `localhost`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(isLoopback("127.0.0.1"), true);
 * assert.equal(isLoopback("0.0.0.0"), false);
 * ```
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    host === "::ffff:127.0.0.1";
}

/**
 * The lines to print once listening: `Listening on http://localhost:PORT/`
 * (a link a terminal makes clickable; `localhost` stands for loopback and
 * wildcard binds), then a warning when the bind is not loopback and no
 * token is set.
 *
 * @param address Where the server listens.
 * @param options Whether a token is required.
 * @returns One or two lines, without newlines.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const [line] = listenMessage({ hostname: "127.0.0.1", port: 8000 }, { secured: false });
 * assert.equal(line, "Listening on http://localhost:8000/ (bound to 127.0.0.1)");
 * const open = listenMessage({ hostname: "0.0.0.0", port: 8000 }, { secured: false });
 * assert.match(open[1] ?? "", /^WARNING: /);
 * ```
 */
export function listenMessage(
  address: { hostname: string; port: number },
  options: ListenMessageOptions,
): string[] {
  const { hostname, port } = address;
  const wildcard = hostname === "0.0.0.0" || hostname === "::" ||
    hostname === "[::]";
  const shown = isLoopback(hostname) || wildcard
    ? "localhost"
    : hostname.includes(":")
    ? `[${hostname}]`
    : hostname;
  const notes = [
    `bound to ${hostname}`,
    ...(options.secured ? ["bearer token required"] : []),
  ];
  const lines = [
    `Listening on http://${shown}:${port}/ (${notes.join("; ")})`,
  ];
  if (!options.secured && !isLoopback(hostname)) {
    lines.push(
      `WARNING: listening on ${hostname} without KPI_API_TOKEN: anyone who ` +
        "can reach this port can read every KPI and its history. Set " +
        "KPI_API_TOKEN to require a bearer token, or listen on 127.0.0.1 " +
        "(the default without --hostname or HOST).",
    );
  }
  return lines;
}
