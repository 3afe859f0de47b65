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
import {
  type CallToolResult,
  mcpToolError,
  mcpToolResult,
} from "./_tool_result.ts";
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

  // Every registerTool call below (and in registerAnalysisTools) declares
  // its own title, description and input schema: alike in form only. What
  // they share in behaviour lives in kpiToolResult.
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

  server.registerTool(
    "history",
    {
      title: "KPI history",
      description:
        "The last n recorded results of one KPI, newest first, each with its period and comparisons.",
      inputSchema: {
        name: z.string().describe("The KPI's name."),
        n: z.number().int().min(1).max(1000).optional().describe(
          "How many results, newest first. Default 10.",
        ),
      },
    },
    ({ name, n }: { name: string; n?: number | undefined }) =>
      kpiToolResult(engine, name, timezone, async () => ({
        results: await engine.history(name, n ?? 10),
      })),
  );

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

  registerAnalysisTools(server, engine, timezone);
  registerDefinitionResources(server, engine);
  return server;
}

const GRAINS = ["day", "week", "month", "quarter", "year"] as const;
const CODES = ["DoD", "WoW", "MoM", "QoQ", "YoY"] as const;

/** `series`, `breakdown` and `explain_change`, over the engine's methods. */
function registerAnalysisTools(
  server: McpServer,
  engine: McpEngine,
  timezone: string,
): void {
  const series = engine.series?.bind(engine);
  const breakdown = engine.breakdown?.bind(engine);
  const drivers = engine.drivers?.bind(engine);
  if (series) {
    server.registerTool("series", {
      title: "KPI series",
      description:
        "One KPI for every day, week, month, quarter or year of a span: each point's period (end excluded), value, whether it is still running (partial) and its comparisons. Give last (points ending with to, default today) or from and to.",
      inputSchema: {
        name: z.string().describe("The KPI's name."),
        grain: z.enum(GRAINS).describe("The length of each point."),
        last: z.number().int().min(1).max(5000).optional().describe(
          "How many points, ending with the bucket of `to`. Default 12.",
        ),
        from: z.string().optional().describe(
          "First period of the span (a period string), instead of last.",
        ),
        to: z.string().optional().describe(
          "Last period of the span. Default today.",
        ),
      },
    }, (
      args: {
        name: string;
        grain: (typeof GRAINS)[number];
        last?: number | undefined;
        from?: string | undefined;
        to?: string | undefined;
      },
    ) =>
      kpiToolResult(engine, args.name, timezone, async () => {
        const result = await series([args.name], {
          grain: args.grain,
          ...(args.last === undefined ? {} : { last: args.last }),
          ...(args.from === undefined ? {} : { from: args.from }),
          ...(args.to === undefined ? {} : { to: args.to }),
        }) as { grain: string; points: Record<string, unknown[]> };
        return {
          grain: result.grain,
          points: result.points[args.name] ?? [],
        };
      }));
  }
  if (breakdown) {
    server.registerTool("breakdown", {
      title: "KPI by segment",
      description:
        "One KPI for a period broken down by one or more of its dimensions (e.g. region): each segment's value, share of the total and comparisons, the top segments kept and the rest folded into other.",
      inputSchema: {
        name: z.string().describe("The KPI's name."),
        by: z.array(z.string()).min(1).describe(
          "The dimensions, each broken down on its own (list_kpis names them).",
        ),
        period: z.string().optional().describe(PERIOD_HELP),
        top: z.number().int().min(1).max(1000).optional().describe(
          "Segments kept per dimension before the rest fold into other. Default 10.",
        ),
      },
    }, (
      args: {
        name: string;
        by: string[];
        period?: string | undefined;
        top?: number | undefined;
      },
    ) =>
      kpiToolResult(
        engine,
        args.name,
        timezone,
        async () => ({
          breakdown: await breakdown(
            args.name,
            args.period ?? "last_month",
            {
              by: args.by,
              ...(args.top === undefined ? {} : { top: args.top }),
            },
          ),
        }),
        (fields) =>
          failure(fields.breakdown, `Cannot break "${args.name}" down`),
      ));
  }
  if (drivers) {
    // A declaration alike in form with get_kpi's (see the note there).
    server.registerTool("explain_change", {
      title: "Why did a KPI change",
      description:
        "The segments that explain a KPI's change against an earlier period (default its first comparison, else MoM): each segment's contribution to the change and its share, rate and mix effects for ratios, and what is left unexplained.",
      inputSchema: {
        name: z.string().describe("The KPI's name."),
        period: z.string().optional().describe(PERIOD_HELP),
        compare: z.enum(CODES).optional().describe(
          "The comparison to explain.",
        ),
        by: z.array(z.string()).optional().describe(
          "The dimensions whose segments are ranked. Default every dimension of the KPI.",
        ),
        top: z.number().int().min(1).max(100).optional().describe(
          "Most drivers listed. Default 5.",
        ),
      },
    }, (
      args: {
        name: string;
        period?: string | undefined;
        compare?: (typeof CODES)[number] | undefined;
        by?: string[] | undefined;
        top?: number | undefined;
      },
    ) =>
      kpiToolResult(
        engine,
        args.name,
        timezone,
        async () => ({
          drivers: await drivers(args.name, args.period ?? "last_month", {
            ...(args.compare === undefined ? {} : { compare: args.compare }),
            ...(args.by === undefined ? {} : { by: args.by }),
            ...(args.top === undefined ? {} : { top: args.top }),
          }),
        }),
        (fields) =>
          failure(
            fields.drivers,
            `Cannot explain the change of "${args.name}"`,
          ),
      ));
  }
}

/**
 * The lead sentence of a tool error when an answer carries an `error` (a
 * dimension the KPI does not have, a failed query), else undefined.
 */
function failure(answer: unknown, lead: string): string | undefined {
  const error = (answer as { error?: unknown } | null)?.error;
  return typeof error === "string" && error !== ""
    ? `${lead}: ${error}`
    : undefined;
}

/**
 * The answer of a tool about one KPI: the KPI's description, the time zone
 * and what `compute` adds, or the tool error for an unknown KPI or a failed
 * computation. When `failed` finds what `compute` added to be a failure, the
 * answer is a tool error led by that sentence, its JSON still attached.
 */
async function kpiToolResult(
  engine: McpEngine,
  name: string,
  timezone: string,
  compute: () => Promise<Record<string, unknown>>,
  failed?: (fields: Record<string, unknown>) => string | undefined,
): Promise<CallToolResult> {
  try {
    const definition = findDefinition(engine, name);
    const fields = await compute();
    const data = { kpi: describeKpi(definition), timezone, ...fields };
    const lead = failed?.(fields);
    return lead === undefined
      ? mcpToolResult(data)
      : mcpToolResult(data, lead, true);
  } catch (error) {
    return mcpToolError(error);
  }
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
