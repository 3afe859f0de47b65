/**
 * `/mcp`: the engine's MCP tools over Streamable HTTP, stateless (a server
 * and transport per request, JSON answers), so that it runs on any number
 * of instances, Deno Deploy included. The protocol's SDK is loaded on the
 * first request.
 *
 * @module
 */

import type { Hono } from "hono";
import type { McpEngine } from "../mcp/create_mcp_server.ts";
import { parseKpis } from "../config/parse_kpis.ts";

/**
 * Answers one MCP request (POST with a JSON-RPC message).
 *
 * @param request The HTTP request.
 * @param engine The engine whose KPIs the tools compute.
 * @returns The response.
 */
export async function handleMcpRequest(
  request: Request,
  engine: McpEngine,
): Promise<Response> {
  const [{ WebStandardStreamableHTTPServerTransport }, { createMcpServer }] =
    await Promise.all([
      import("@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"),
      import("../mcp/create_mcp_server.ts"),
    ]);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  const server = await createMcpServer({
    engine,
    validate: (text, file) => parseKpis(text, { file }),
  });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    await server.close();
  }
}

/**
 * Adds `/mcp`: POST carries the JSON-RPC messages; GET (a stream of server
 * messages) and DELETE (ending a session) answer 405, since a stateless
 * server has neither (as the Streamable HTTP transport allows).
 */
export function addMcpRoute(app: Hono, engine: McpEngine): void {
  app.post("/mcp", (c) => handleMcpRequest(c.req.raw, engine));
  app.on(["GET", "DELETE"], "/mcp", (c) => {
    c.header("allow", "POST");
    return c.json({
      jsonrpc: "2.0",
      error: {
        code: -32000,
        message: "Method not allowed: this MCP server is stateless; POST " +
          "each JSON-RPC message",
      },
      id: null,
    }, 405);
  });
}
