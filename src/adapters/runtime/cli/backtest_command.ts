/**
 * `kpi backtest`: replays a file's alert rules over past periods and shows
 * what they would have sent, optionally beside a changed version of the
 * rules (`--set KPI.PATH=VALUE`, or a second file with `--against`).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { parse as parseYaml, parseDocument } from "yaml";
import { KPIEngine } from "../../../engine/kpi_engine.ts";
import { didYouMean } from "../../../config/_suggest.ts";
import { parseKpis } from "../../../config/parse_kpis.ts";
import type { BacktestReport } from "../../../backtest/run_backtest.ts";
import {
  formatBacktest,
  type NamedBacktest,
} from "../../../format/format_backtest.ts";
import type { ReportFormat } from "../../../format/format_report.ts";
import { checkGrain } from "../../../series/series_buckets.ts";
import type { KPIConfig } from "../../../types.ts";

/** What `kpi backtest` was asked. */
export interface BacktestCommandInput {
  /** The configuration file. */
  config: string;
  /** First period of the span. */
  from: string;
  /** Last period of the span. */
  to?: string | undefined;
  /** The grain of the replayed periods. */
  grain: string;
  /** Only these KPIs. */
  kpis?: readonly string[] | undefined;
  /** Changes to try, `KPI.PATH=VALUE` each (e.g. `revenue.anomaly.sensitivity=4`). */
  set?: readonly string[] | undefined;
  /** A second file to replay beside the first. */
  against?: string | undefined;
  /** A database URL overriding the file's. */
  db?: string | undefined;
  /** The output format. */
  format: ReportFormat;
  /** The clock (from `--as-of`), for `today` and running periods. */
  now?: (() => Temporal.Instant) | undefined;
  /** The environment, for `${VAR}` in files. */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs the backtest and renders it.
 *
 * @param input What was asked.
 * @returns The rendered report.
 * @throws {RangeError} For a bad `--set`, grain or period.
 */
export async function backtestCommand(
  input: BacktestCommandInput,
): Promise<string> {
  checkGrain(input.grain);
  const text = await readText(input.config);
  const runs: NamedBacktest[] = [{
    name: input.config,
    report: await backtestFile(text, input.config, input),
  }];
  if (input.set && input.set.length > 0) {
    const changed = applySettings(text, input.set);
    runs.push({
      name: `with ${input.set.map((s) => `--set ${s}`).join(" ")}`,
      report: await backtestFile(changed, input.config, input, {
        label: `${input.config} as changed by ${
          input.set.map((s) => `--set ${s}`).join(" ")
        }`,
      }),
    });
  }
  if (input.against) {
    runs.push({
      name: input.against,
      report: await backtestFile(
        await readText(input.against),
        input.against,
        input,
      ),
    });
  }
  return formatBacktest(runs, input.format);
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new RangeError(
      `Cannot read "${path}": ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}

async function backtestFile(
  text: string,
  file: string,
  input: BacktestCommandInput,
  { label = file }: { label?: string } = {},
): Promise<BacktestReport> {
  const config: KPIConfig = parseKpis(text, { file: label, env: input.env });
  const connection = input.db ?? config.connection;
  const sql = connection
    ? await (await import("../../sql/open_sql_client.ts")).openSqlClient(
      connection,
      { baseDir: input.db !== undefined ? Deno.cwd() : dirname(resolve(file)) },
    )
    : undefined;
  try {
    const engine = new KPIEngine({
      config,
      ...(sql ? { sql } : {}),
      ...(input.now ? { now: input.now } : {}),
    });
    return await engine.backtest({
      from: input.from,
      ...(input.to === undefined ? {} : { to: input.to }),
      grain: checkGrain(input.grain),
      ...(input.kpis && input.kpis.length > 0 ? { kpis: input.kpis } : {}),
    });
  } finally {
    await sql?.close();
  }
}

/**
 * The file's text with each `KPI.PATH=VALUE` applied to the KPI of that
 * name: `revenue.anomaly.sensitivity=4`, `revenue.alerts.0.condition=< 5`
 * (or `revenue.alerts[0].condition`). Values are read as YAML scalars (`4` is
 * a number, `true` a boolean); text YAML cannot read, such as `> 5`, is kept
 * as it is.
 *
 * @param text The file's text.
 * @param settings The changes.
 * @returns The changed text.
 * @throws {RangeError} For a change that names no KPI or no path.
 */
export function applySettings(
  text: string,
  settings: readonly string[],
): string {
  const document = parseDocument(text);
  const kpis = (document.toJS() as { kpis?: { name?: unknown }[] }).kpis ?? [];
  for (const setting of settings) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\.([^=]+)=(.*)$/s.exec(setting);
    if (!match) {
      throw new RangeError(
        `Invalid --set "${setting}": expected KPI.PATH=VALUE, e.g. revenue.anomaly.sensitivity=4 or revenue.alerts.0.condition="< 5000"`,
      );
    }
    const [, name, path, value] = match as unknown as [
      string,
      string,
      string,
      string,
    ];
    const index = kpis.findIndex((kpi) => kpi?.name === name);
    const names = kpis.map((kpi) => String(kpi?.name));
    if (index === -1) {
      throw new RangeError(
        `Invalid --set "${setting}": no KPI named "${name}"${
          didYouMean(name, names)
        } (expected one of ${names.join(", ")})`,
      );
    }
    const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".").map((key) =>
      /^\d+$/.test(key) ? Number(key) : key
    );
    document.setIn(["kpis", index, ...keys], readValue(value));
  }
  return document.toString();
}

/** A `--set` value as a YAML scalar, or as written when YAML cannot read it. */
function readValue(value: string): unknown {
  try {
    return parseYaml(value) ?? value;
  } catch {
    return value;
  }
}
