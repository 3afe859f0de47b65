/**
 * Registers the tools and resources of `createMcpServer` on the
 * protocol SDK's `McpServer`. Loaded on demand, so that the SDK stays out
 * of programs that never serve MCP.
 *
 * @module
 */

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { KPIDefinition } from "../types.ts";
import { KPIConfigError } from "../config/kpi_config_error.ts";
import { mcpToolError, mcpToolResult } from "./_tool_result.ts";
import { describeKpi, type KPIDescription } from "./_describe_kpi.ts";
import type { CreateMcpServerOptions, McpEngine } from "./create_mcp_server.ts";

const PERIOD_HELP =
  "A period: today, yesterday, last_week, last_month, last_quarter, last_year, this_week, this_month, this_quarter, this_year, last_N_days (e.g. last_7_days), 2024, 2024-Q3, 2024-11, 2024-W07, 2024-11-05, or a range 2024-11-01..2024-11-15. Default last_month.";

/** Builds the server `createMcpServer` describes. */
export function buildMcpServer(options: CreateMcpServerOptions): McpServer {
  const { engine } = options;
  const server = new McpServer({
    name: options.name ?? "kpi-engine",
    version: options.version ?? "0.0.0",
  }, {
    instructions:
      "Business KPIs computed from their definitions. Call list_kpis first to see names, units and polarity; get_kpi computes one KPI for a period with its comparisons.",
  });
  const timezone = engine.config.timezone;

  server.registerTool("list_kpis", {
    title: "List KPIs",
    description:
      "Lists every KPI with its label, unit, polarity (whether higher or lower is better), source, comparisons and alert rules.",
    inputSchema: {},
  }, () =>
    mcpToolResult({
      timezone,
      kpis: engine.definitions.map(describeKpi),
    }));

  server.registerTool("get_kpi", {
    title: "Compute a KPI",
    description:
      "Computes one KPI (or several) for a period: value, unit, polarity, the period's start and end (end excluded), comparisons with earlier periods and alert status.",
    inputSchema: {
      name: z.string().describe("The KPI's name, as list_kpis gives it."),
      period: z.string().optional().describe(PERIOD_HELP),
    },
  }, async (
    { name, period }: { name: string; period?: string | undefined },
  ) => {
    try {
      const definition = findDefinition(engine, name);
      const report = await engine.report(period ?? "last_month", {
        kpis: [name],
        record: false,
        alerts: false,
      });
      const result = report.results[0];
      return mcpToolResult(
        {
          period: { ...report.period, timezone },
          kpi: describeKpi(definition),
          result,
        },
        result?.error
          ? `KPI "${name}" could not be computed: ${result.error}`
          : undefined,
      );
    } catch (error) {
      return mcpToolError(error);
    }
  });

  server.registerTool("history", {
    title: "KPI history",
    description:
      "The last n recorded results of one KPI, newest first, each with its period and comparisons.",
    inputSchema: {
      name: z.string().describe("The KPI's name."),
      n: z.number().int().min(1).max(1000).optional().describe(
        "How many results, newest first. Default 10.",
      ),
    },
  }, async ({ name, n }: { name: string; n?: number | undefined }) => {
    try {
      const definition = findDefinition(engine, name);
      const results = await engine.history(name, n ?? 10);
      return mcpToolResult({ kpi: describeKpi(definition), timezone, results });
    } catch (error) {
      return mcpToolError(error);
    }
  });

  server.registerTool("validate_config", {
    title: "Validate a KPI file",
    description:
      "Checks the text of a kpis.yaml file without opening any database: answers the KPIs it defines, or the problems with their line numbers and fields.",
    inputSchema: {
      yaml: z.string().max(1_000_000).describe("The whole file's text."),
      file: z.string().max(200).optional().describe(
        'The file name used in messages. Default "kpis.yaml".',
      ),
    },
  }, ({ yaml, file }: { yaml: string; file?: string | undefined }) => {
    const name = file ?? "kpis.yaml";
    try {
      const config = options.validate(yaml, name);
      return mcpToolResult({
        valid: true,
        file: name,
        kpis: config.kpis.map(describeKpi),
      });
    } catch (error) {
      if (error instanceof KPIConfigError) {
        return mcpToolResult(
          { valid: false, file: name, issues: error.issues },
          error.message,
          true,
        );
      }
      return mcpToolError(error);
    }
  });

  registerDefinitionResources(server, engine);
  return server;
}

function findDefinition(engine: McpEngine, name: string): KPIDefinition {
  const definition = engine.definitions.find((kpi) => kpi.name === name);
  if (definition) return definition;
  const known = engine.definitions.map((kpi) => kpi.name).join(", ");
  throw new RangeError(`Unknown KPI "${name}": expected one of ${known}`);
}

function registerDefinitionResources(
  server: McpServer,
  engine: McpEngine,
): void {
  server.registerResource("kpi-definitions", "kpi://definitions", {
    title: "KPI definitions",
    description: "Every KPI's definition, in file order.",
    mimeType: "application/json",
  }, (uri: URL) => ({
    contents: [{
      uri: uri.href,
      mimeType: "application/json",
      text: JSON.stringify(engine.definitions.map(describeKpi), null, 2),
    }],
  }));
  for (const definition of engine.definitions) {
    const description: KPIDescription = describeKpi(definition);
    server.registerResource(
      `kpi-${definition.name}`,
      `kpi://definitions/${definition.name}`,
      {
        title: description.label,
        description: definition.description ??
          `The definition of ${description.label}.`,
        mimeType: "application/json",
      },
      (uri: URL) => ({
        contents: [{
          uri: uri.href,
          mimeType: "application/json",
          text: JSON.stringify(description, null, 2),
        }],
      }),
    );
  }
}
