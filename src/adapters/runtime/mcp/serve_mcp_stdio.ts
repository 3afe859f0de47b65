import process from "node:process";
/**
 * The MCP server over standard input and output, for `kpi mcp --config F`:
 * an editor or agent starts the command and speaks JSON-RPC on its pipes.
 * Nothing else may write to standard output while it runs; messages go to
 * standard error.
 *
 * @module
 */

import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  createMcpServer,
  type CreateMcpServerOptions,
} from "../../../mcp/create_mcp_server.ts";

/** Options of {@linkcode serveMcpStdio}. */
export interface ServeMcpStdioOptions extends CreateMcpServerOptions {
  /** Stops the server (e.g. on SIGINT). @default never */
  signal?: AbortSignal;
}

/**
 * Serves the engine's MCP tools on standard input and output until the
 * client closes its end of the pipe or `signal` aborts.
 *
 * @param options The engine, the validator and an optional stop signal.
 * @returns A promise that settles when the session is over.
 */
export async function serveMcpStdio(
  options: ServeMcpStdioOptions,
): Promise<void> {
  const { signal, ...serverOptions } = options;
  const server = await createMcpServer(serverOptions);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  await server.connect(transport);
  const ended = new Promise<void>((resolve) => {
    process.stdin.once("end", () => resolve());
    signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  await Promise.race([closed, ended]);
  await server.close();
}
