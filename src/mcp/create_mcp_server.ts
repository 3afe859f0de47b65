/**
 * The engine as a Model Context Protocol server: tools that compute KPIs,
 * read history and check configuration files, and the KPI definitions as
 * resources. {@linkcode createMcpServer} builds the server; a transport
 * (stdio from the CLI, Streamable HTTP at `/mcp` in the REST app) connects
 * it. It opens nothing itself: the engine and the validator are handed in.
 *
 * @module
 */

import type { KPIDefinition, KPIResult, Period } from "../types.ts";

/** The part of `KPIEngine` the MCP server uses; a `KPIEngine` fits as is. */
export interface McpEngine {
  /** The engine's settings; the time zone is reported with every period. */
  readonly config: { readonly timezone: string };
  /** The KPI definitions, in file order. */
  readonly definitions: readonly KPIDefinition[];
  /** Resolves a period string; throws `RangeError` for a bad one. */
  resolvePeriod(text: string): Period;
  /** Computes KPIs for a period. */
  report(
    period?: string,
    options?: { kpis?: readonly string[]; record?: boolean; alerts?: boolean },
  ): Promise<
    {
      period: { label: string; start: string; end: string };
      results: KPIResult[];
    }
  >;
  /** The last `n` results of one KPI, newest first. */
  history(name: string, n?: number): Promise<KPIResult[]>;
  /** A KPI for every bucket of a grain (the `series` tool). */
  series?(
    names: readonly string[],
    options: {
      grain: "day" | "week" | "month" | "quarter" | "year";
      from?: string;
      to?: string;
      last?: number;
    },
  ): Promise<unknown>;
  /** A KPI by segment (the `breakdown` tool). */
  breakdown?(
    name: string,
    period: string,
    options: { by: readonly string[]; top?: number },
  ): Promise<unknown>;
  /** The segments that explain a change (the `explain_change` tool). */
  drivers?(
    name: string,
    period: string,
    options: {
      compare?: "DoD" | "WoW" | "MoM" | "QoQ" | "YoY";
      by?: readonly string[];
      top?: number;
    },
  ): Promise<unknown>;
}

/** Checks a configuration file's text; throws `KPIConfigError` when it is bad. */
export type McpConfigValidator = (
  source: string,
  file: string,
) => { kpis: readonly KPIDefinition[] };

/** Options of {@linkcode createMcpServer}. */
export interface CreateMcpServerOptions {
  /** The engine whose KPIs the tools compute. */
  engine: McpEngine;
  /**
   * Checks the text of a configuration file for `validate_config`, the
   * same way `kpi validate` does (without opening anything it names).
   */
  validate: McpConfigValidator;
  /** The server's name, as clients show it. @default "kpi-engine" */
  name?: string;
  /** The version clients are told. @default "0.0.0" */
  version?: string;
}

/**
 * A message channel between the server and one client: the SDK's
 * `Transport` (stdio, Streamable HTTP or in-memory) fits it.
 */
export interface McpTransport {
  /** Starts receiving messages. */
  start(): Promise<void>;
  /** Sends one JSON-RPC message. */
  send(message: unknown, options?: unknown): Promise<void>;
  /** Closes the channel. */
  close(): Promise<void>;
}

/** The MCP server {@linkcode createMcpServer} returns. */
export interface KPIMcpServer {
  /** Serves the tools and resources over a transport until it closes. */
  connect(transport: McpTransport): Promise<void>;
  /** Closes the server and its transport. */
  close(): Promise<void>;
}

/**
 * Builds an MCP server over an engine. Tools: `list_kpis`, `get_kpi`,
 * `history`, `validate_config`, and `series`, `breakdown` and
 * `explain_change` when the engine has those methods. Resources:
 * `kpi://definitions` and `kpi://definitions/{name}`. A tool that fails
 * answers an MCP tool error (`isError: true`) with the message the CLI
 * prints.
 *
 * @param options The engine, the validator and the server's name.
 * @returns A server to connect to a transport; the protocol's SDK is
 *   loaded on the first call.
 * @example
 * ```ts
 * import { createMcpServer } from "@kpi-engine/kpi-engine/mcp";
 * import { KPIEngine, parseKpis } from "@kpi-engine/kpi-engine";
 *
 * const engine = new KPIEngine({
 *   kpis: [{ name: "orders", source: "dataframe", query: "orders.id", aggregation: "count", timeColumn: "day" }],
 *   dataframes: { orders: [{ id: 1, day: "2024-11-05" }] },
 * });
 * const server = await createMcpServer({
 *   engine,
 *   validate: (text, file) => parseKpis(text, { file }),
 * });
 * ```
 */
export async function createMcpServer(
  options: CreateMcpServerOptions,
): Promise<KPIMcpServer> {
  const { buildMcpServer } = await import("./_build_mcp_server.ts");
  return buildMcpServer(options);
}
