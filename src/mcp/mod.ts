/**
 * The engine as a Model Context Protocol server, for editors and AI agents:
 * {@linkcode createMcpServer} builds it over a `KPIEngine`; `kpi mcp`
 * serves it on standard input and output, and the REST app at `/mcp`.
 *
 * @example
 * ```ts
 * import { createMcpServer } from "@kpi-engine/kpi-engine/mcp";
 * import { KPIEngine, parseKpis } from "@kpi-engine/kpi-engine";
 *
 * const engine = new KPIEngine({ kpis: [] });
 * const server = await createMcpServer({
 *   engine,
 *   validate: (text, file) => parseKpis(text, { file }),
 * });
 * ```
 *
 * @module
 */

export * from "./create_mcp_server.ts";
export type { KPIDescription } from "./_describe_kpi.ts";
