import { expectedOneOf } from "../../../config/_suggest.ts";
import { type Command, CommanderError } from "commander";
import { parseKpis } from "../../../config/parse_kpis.ts";
import { KPIConfigError } from "../../../config/kpi_config_error.ts";
import { formatConfigIssues } from "../../../config/format_config_issues.ts";
import {
  REPORT_FORMATS,
  type ReportFormat,
} from "../../../format/report_formats.ts";
import type { KPIEngine } from "../../../engine/kpi_engine.ts";
import { checkGrain, type Grain } from "../../../series/series_buckets.ts";
import type { SeriesOptions } from "../../../series/build_series_points.ts";
import type { OpenEngineOptions } from "../../open_engine.ts";
import { buildProgram, type Flags } from "./_program.ts";
import { COMPARISON_CODES } from "../../../types.ts";
import type {
  AlertNotifier,
  ComparisonCode,
  HistoryGrain,
  KPIConfig,
  KPIResult,
  Severity,
} from "../../../types.ts";

/** Where the command line writes, and what it knows of its surroundings. */
export interface CliIo {
  /** Writes to standard output. */
  stdout: (text: string) => void;
  /** Writes to standard error. */
  stderr: (text: string) => void;
  /** Whether standard output is a terminal (tables get colors). */
  isTerminal: boolean;
  /** The environment, for `${VAR}` in files and `NO_COLOR`. */
  env: Readonly<Record<string, string | undefined>>;
  /** A signal that stops `serve` and `schedule`. @default SIGINT/SIGTERM */
  signal?: AbortSignal;
}

/** Exit codes of the command line. */
export const EXIT = {
  ok: 0,
  failOn: 1,
  usage: 2,
  kpiFailed: 3,
} as const;

class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Runs the command line with the given arguments.
 *
 * @param args The arguments after `cli.ts`.
 * @param io Output streams and environment.
 * @returns The exit code.
 */
export async function main(args: string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, async (command, flags, rest) => {
    code = await dispatch(command, flags, rest, io);
  });
  if (args.length === 0) {
    io.stderr(program.helpInformation());
    return EXIT.usage;
  }
  // `help NAME` for a command that does not exist: the unknown-command
  // error with its suggestion, as `NAME` alone gives, not the general help.
  const named = args[0] === "help" ? args[1] : undefined;
  const known = program.commands.some((c) =>
    c.name() === named || c.aliases().includes(named ?? "")
  );
  const parsed = named !== undefined && !known ? [named] : args;
  const misplaced = flagOfOtherCommands(program, args);
  if (misplaced) {
    io.stderr(`error: ${misplaced}\n`);
    return EXIT.usage;
  }
  try {
    await program.parseAsync(parsed, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
  return code;
}

/**
 * `unknown option '--x' for run: it is an option of explain` when a flag the
 * command lacks belongs to other commands; undefined otherwise (commander
 * then reports unknown flags itself, with its near-miss suggestion).
 */
function flagOfOtherCommands(
  program: Command,
  args: readonly string[],
): string | undefined {
  const command = program.commands.find((c) => c.name() === args[0]);
  if (!command) return undefined;
  const longs = (c: Command): string[] =>
    c.options.flatMap((o) => o.long ? [o.long] : []);
  const own = new Set([...longs(command), "--help", "--version"]);
  for (const arg of args.slice(1)) {
    if (arg === "--") break;
    if (!arg.startsWith("--")) continue;
    const flag = arg.split("=")[0]!;
    if (own.has(flag)) continue;
    const others = program.commands
      .filter((c) => c !== command && longs(c).includes(flag))
      .map((c) => c.name());
    if (others.length > 0) {
      return `unknown option '${flag}' for ${command.name()}: it is an option of ${
        others.join(", ")
      }`;
    }
  }
  return undefined;
}

/** What each command does, by name; its exit code. */
const COMMANDS: Readonly<
  Record<
    string,
    (flags: Flags, io: CliIo, rest: string[]) => number | Promise<number>
  >
> = {
  run: runCommand,
  explain: explainCommand,
  validate: validateCommand,
  history: (flags, io, rest) => historyCommand(flags, rest, io),
  series: seriesCommand,
  backfill: backfillCommand,
  serve: serveCommand,
  schedule: scheduleCommand,
  backtest: runBacktest,
  mcp: mcpCommand,
  schema: (_flags, io) => schemaCommand(io),
  demo: demoCommand,
};

async function dispatch(
  command: string,
  flags: Flags,
  rest: string[],
  io: CliIo,
): Promise<number> {
  try {
    const handler = COMMANDS[command] ?? demoCommand;
    return await handler(flags, io, rest);
  } catch (error) {
    if (error instanceof KPIConfigError) {
      io.stderr(`${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof UsageError || error instanceof RangeError) {
      io.stderr(`Error: ${error.message}\n`);
      return EXIT.usage;
    }
    io.stderr(`Error: ${messageOf(error)}\n`);
    return EXIT.kpiFailed;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function requireConfig(flags: Flags): string {
  if (!flags.config) throw new UsageError("Missing --config FILE");
  return flags.config;
}

function readFormat(flags: Flags): ReportFormat {
  const format = flags.format ?? "table";
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(
      `Unknown --format "${format}"${expectedOneOf(format, REPORT_FORMATS)}`,
    );
  }
  return format as ReportFormat;
}

/** The span commands' `--grain`, required. */
function readGrain(flags: Flags): Grain {
  if (flags.grain === undefined) {
    throw new UsageError(
      "Missing --grain: expected one of day, week, month, quarter, year",
    );
  }
  return checkGrain(flags.grain);
}

/** The span commands' `--last N`, a whole number of at least 1, if given. */
function readLast(flags: Flags): number | undefined {
  if (flags.last === undefined) return undefined;
  if (flags.from !== undefined) {
    throw new UsageError(
      "Cannot use both --from and --last: give a start period, or a number of points ending at --to",
    );
  }
  const last = Number(flags.last);
  if (!/^\d+$/.test(flags.last) || last < 1) {
    throw new UsageError(
      `Invalid --last "${flags.last}": expected a whole number of at least 1`,
    );
  }
  return last;
}

function readFailOn(flags: Flags): Severity | null {
  const failOn = flags["fail-on"];
  if (failOn === undefined) return null;
  if (failOn !== "warning" && failOn !== "critical") {
    throw new UsageError(
      `Unknown --fail-on "${failOn}"${
        expectedOneOf(failOn, ["warning", "critical"], "warning or critical")
      }`,
    );
  }
  return failOn;
}

/** Reads and validates a file without opening anything it names. */
async function loadConfig(
  path: string,
  io: CliIo,
  allowMissingEnv = false,
): Promise<KPIConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(`Cannot read --config "${path}": ${messageOf(error)}`);
  }
  return parseKpis(text, {
    file: path,
    env: io.env,
    allowMissingEnv,
    onWarning: (issue) =>
      io.stderr(
        `${
          formatConfigIssues([{
            ...issue,
            message: `${issue.message} (a warning under --allow-missing-env)`,
          }], path).replace(/^✖/, "⚠")
        }\n`,
      ),
  });
}

function clockFor(
  asOf: string | undefined,
  timezone: string,
): (() => Temporal.Instant) | undefined {
  if (asOf === undefined) return undefined;
  let day: Temporal.PlainDate;
  try {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw new Error("not a date");
    day = Temporal.PlainDate.from(asOf, { overflow: "reject" });
  } catch {
    throw new UsageError(`Invalid --as-of "${asOf}": expected YYYY-MM-DD`);
  }
  const instant = day.toZonedDateTime({ timeZone: timezone }).toInstant();
  return () => instant;
}

async function openEngine(
  flags: Flags,
  io: CliIo,
  extra: (config: KPIConfig) => Promise<OpenEngineOptions> = () =>
    Promise.resolve({}),
): Promise<KPIEngine> {
  const path = requireConfig(flags);
  const loaded = await loadConfig(path, io);
  // Under --no-history the audit_log is never opened.
  const config: KPIConfig = { ...loaded };
  if (flags["no-history"]) delete config.auditLog;
  const now = clockFor(flags["as-of"], config.timezone);
  const { dirname, resolve } = await import("node:path");
  const options: OpenEngineOptions & { baseDir: string } = {
    ...await extra(config),
    baseDir: dirname(resolve(path)),
  };
  if (flags.db !== undefined) options.connection = flags.db;
  if (now) options.now = now;
  // Loaded on demand, so that `validate` starts without the drivers.
  const [{ KPIEngine }, { openEngineOptions }] = await Promise.all([
    import("../../../engine/kpi_engine.ts"),
    import("../../open_engine.ts"),
  ]);
  return new KPIEngine(await openEngineOptions(config, options));
}

function exitCodeFor(
  results: readonly KPIResult[],
  failOn: Severity | null,
): number {
  if (results.some((r) => r.error !== null)) return EXIT.kpiFailed;
  if (failOn !== null) {
    const reached = results.some((r) =>
      r.alertStatus === "critical" ||
      (failOn === "warning" && r.alertStatus === "warning")
    );
    if (reached) return EXIT.failOn;
  }
  return EXIT.ok;
}

function useColor(io: CliIo): boolean {
  return io.isTerminal && !io.env["NO_COLOR"];
}

async function runCommand(flags: Flags, io: CliIo): Promise<number> {
  // The formatters load on demand: `validate` prints one line.
  const [{ formatReport }, { formatBreakdowns }] = await Promise.all([
    import("../../../format/format_report.ts"),
    import("../../../format/format_segments.ts"),
  ]);
  const format = readFormat(flags);
  const failOn = readFailOn(flags);
  const dryRun = flags["dry-run-alerts"] === true;
  const engine = await openEngine(flags, io);
  try {
    let notifier: AlertNotifier | undefined;
    if (dryRun) {
      const [{ createNotifier }, { isAlertStateStore }] = await Promise.all([
        import("../../channels/create_notifier.ts"),
        import("../../open_engine.ts"),
      ]);
      const store = engine.historyStore;
      notifier = createNotifier({
        channels: engine.config.channels,
        dryRun: true,
        ...(store && isAlertStateStore(store) ? { store } : {}),
        log: (text) => io.stderr(text.endsWith("\n") ? text : `${text}\n`),
      });
    }
    const period = engine.resolvePeriod(flags.period ?? "last_month");
    const kpis = flags.kpi ?? [];
    if (flags.explain) {
      io.stdout(await engine.explainWithDryRun(period, { kpis }));
      const by = readBy(flags);
      if (by.length > 0) {
        io.stdout(
          "\n" + engine.explainBreakdown(period, {
            by,
            ...(kpis.length > 0 ? { kpis } : {}),
          }),
        );
      }
      return EXIT.ok;
    }
    const report = await engine.report(period, {
      kpis,
      ...(flags["no-history"] || dryRun ? { record: false } : {}),
      ...(notifier ? { notifier } : {}),
    });
    const by = readBy(flags);
    if (by.length === 0) {
      io.stdout(formatReport(report, format, { color: useColor(io) }));
      return exitCodeFor(report.results, failOn);
    }
    const breakdowns = await engine.breakdowns(period, {
      by,
      ...(kpis.length > 0 ? { kpis } : {}),
      ...readTop(flags),
    });
    if (format === "json") {
      io.stdout(JSON.stringify({ ...report, breakdowns }, null, 2) + "\n");
    } else {
      io.stdout(formatReport(report, format, { color: useColor(io) }));
      io.stdout(
        "\n" + formatBreakdowns(breakdowns, format, { bars: io.isTerminal }),
      );
    }
    const code = exitCodeFor(report.results, failOn);
    return code === EXIT.ok && breakdowns.some((b) => b.error)
      ? EXIT.kpiFailed
      : code;
  } finally {
    await engine.close();
  }
}

function readBy(flags: Flags): string[] {
  return (flags.by ?? []).flatMap((text) =>
    text.split(",").map((d) => d.trim()).filter((d) => d !== "")
  );
}

function readTop(flags: Flags): { top?: number } {
  if (flags.top === undefined) return {};
  const top = Number(flags.top);
  if (!Number.isInteger(top) || top < 1) {
    throw new UsageError(
      `Invalid --top "${flags.top}": expected a whole number of at least 1`,
    );
  }
  return { top };
}

async function explainCommand(flags: Flags, io: CliIo): Promise<number> {
  const { formatDrivers } = await import("../../../format/format_segments.ts");
  const format = readFormat(flags);
  const names = flags.kpi ?? [];
  if (names.length === 0) {
    throw new UsageError(
      "explain needs --kpi NAME (the KPI whose change to explain)",
    );
  }
  let compare: ComparisonCode | undefined;
  if (flags.compare !== undefined) {
    if (!(COMPARISON_CODES as readonly string[]).includes(flags.compare)) {
      throw new UsageError(
        `Invalid --compare "${flags.compare}"${
          expectedOneOf(flags.compare, COMPARISON_CODES)
        }`,
      );
    }
    compare = flags.compare as ComparisonCode;
  }
  const engine = await openEngine(flags, io);
  try {
    const period = engine.resolvePeriod(flags.period ?? "last_month");
    const by = readBy(flags);
    const all = [];
    for (const name of names) {
      all.push(
        await engine.drivers(name, period, {
          ...(compare ? { compare } : {}),
          ...(by.length > 0 ? { by } : {}),
          ...readTop(flags),
        }),
      );
    }
    io.stdout(formatDrivers(all, format, { bars: io.isTerminal }));
    return all.some((d) => d.error) ? EXIT.kpiFailed : EXIT.ok;
  } finally {
    await engine.close();
  }
}

async function validateCommand(flags: Flags, io: CliIo): Promise<number> {
  const path = requireConfig(flags);
  const config = await loadConfig(
    path,
    io,
    flags["allow-missing-env"] === true,
  );
  const sources = new Map<string, number>();
  for (const kpi of config.kpis) {
    sources.set(kpi.source, (sources.get(kpi.source) ?? 0) + 1);
  }
  const summary = [...sources].map(([source, n]) => `${n} ${source}`).join(
    ", ",
  );
  io.stdout(
    `✔ ${path}: ${config.kpis.length} KPI${
      config.kpis.length === 1 ? "" : "s"
    } (${summary || "none"}), ${
      Object.keys(config.channels).length
    } channel(s), time zone ${config.timezone}\n`,
  );
  const { deployWarnings } = await import("../serve/deploy_warnings.ts");
  for (const line of deployWarnings(config, io.env)) io.stderr(`${line}\n`);
  return EXIT.ok;
}

async function historyCommand(
  flags: Flags,
  rest: string[],
  io: CliIo,
): Promise<number> {
  const [{ formatReport }, { formatHistory }] = await Promise.all([
    import("../../../format/format_report.ts"),
    import("../../../format/format_series.ts"),
  ]);
  const format = readFormat(flags);
  const [name, ...extra] = rest;
  if (!name || extra.length > 0) {
    throw new UsageError(
      "Expected exactly one KPI name: history --config FILE NAME [-n 10]",
    );
  }
  const n = flags.n === undefined ? 10 : Number(flags.n);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(
      `Invalid -n "${flags.n}": expected a whole number of at least 1`,
    );
  }
  const engine = await openEngine(flags, io);
  try {
    if (!engine.historyStore) {
      throw new UsageError(
        `No history is kept: set audit_log in ${flags.config}`,
      );
    }
    let grain: HistoryGrain | undefined;
    if (flags.grain !== undefined) {
      grain = flags.grain === "custom" ? "custom" : checkGrain(flags.grain);
    }
    const results = await engine.history(
      name,
      grain === undefined ? n : { n, grain },
    );
    io.stdout(
      format === "table" || format === "markdown"
        ? formatHistory(results, format)
        : formatReport({ results }, format, {
          color: useColor(io),
          extra: { name },
        }),
    );
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

async function seriesCommand(flags: Flags, io: CliIo): Promise<number> {
  const { formatSeries } = await import("../../../format/format_series.ts");
  const format = readFormat(flags);
  const grain = readGrain(flags);
  const last = readLast(flags);
  const options: SeriesOptions = {
    grain,
    ...(flags.from === undefined ? {} : { from: flags.from }),
    ...(flags.to === undefined ? {} : { to: flags.to }),
    ...(last === undefined ? {} : { last }),
  };
  const engine = await openEngine(flags, io);
  try {
    const kpis = flags.kpi ?? [];
    if (flags.explain) {
      io.stdout(engine.explainSeries(kpis, options));
      return EXIT.ok;
    }
    const result = await engine.series(kpis, options);
    const info = Object.fromEntries(
      engine.definitions.map((d) => [d.name, {
        label: d.label ?? d.name,
        unit: d.unit ?? null,
      }]),
    );
    io.stdout(
      formatSeries(result, format, { kpis: info, color: useColor(io) }),
    );
    const failed = Object.values(result.points).some((points) =>
      points.some((p) => p.error !== undefined)
    );
    return failed ? EXIT.kpiFailed : EXIT.ok;
  } finally {
    await engine.close();
  }
}

async function backfillCommand(flags: Flags, io: CliIo): Promise<number> {
  const grain = readGrain(flags);
  if (flags.from === undefined && flags.last === undefined) {
    throw new UsageError("Missing --from P (or --last N)");
  }
  const last = readLast(flags);
  const engine = await openEngine(flags, io);
  try {
    if (!engine.historyStore) {
      throw new UsageError(
        `No history is kept: set audit_log in ${flags.config}`,
      );
    }
    const started = performance.now();
    const width = 30;
    const summary = await engine.backfill(flags.kpi ?? [], {
      grain,
      ...(flags.from === undefined ? {} : { from: flags.from }),
      ...(flags.to === undefined ? {} : { to: flags.to }),
      ...(last === undefined ? {} : { last }),
      onProgress: ({ done, total, period }) => {
        if (io.isTerminal) {
          const filled = Math.round(done / total * width);
          io.stderr(
            `\r${"█".repeat(filled)}${
              "░".repeat(width - filled)
            } ${done}/${total} ${period}\x1b[K`,
          );
          if (done === total) io.stderr("\n");
        } else {io.stderr(
            `backfill: ${done}/${total} periods, up to ${period}\n`,
          );}
      },
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    io.stdout(
      `Backfilled ${summary.written} rows: ${summary.kpis.length} KPI${
        summary.kpis.length === 1 ? "" : "s"
      } × ${summary.periods} ${summary.grain} periods in ${seconds} s; ${summary.stale} replaced a row of an older definition; ${summary.failed} could not be computed${
        summary.replaced
          ? ""
          : " (this store appends: history by grain reads the latest row per period)"
      }.\n`,
    );
    return summary.failed > 0 ? EXIT.kpiFailed : EXIT.ok;
  } finally {
    await engine.close();
  }
}

function stopSignal(io: CliIo): AbortSignal {
  if (io.signal) return io.signal;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  controller.signal.addEventListener("abort", () => {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  });
  return controller.signal;
}

async function serveCommand(flags: Flags, io: CliIo): Promise<number> {
  // The same set-up as server.ts: settings, schedules on Deno.cron, engine.
  const [{ serverSettings }, { prepareServer, listenUntilSignal }, cron] =
    await Promise.all([
      import("../serve/server_settings.ts"),
      import("../serve/prepare_server.ts"),
      import("../cron/register_schedules.ts"),
    ]);
  let settings;
  try {
    settings = serverSettings({
      config: requireConfig(flags),
      port: flags.port,
      hostname: flags.hostname,
      db: flags.db,
    }, io.env);
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
  const log = (line: string): void => io.stderr(`${line}\n`);
  // A missing or invalid file is bad usage (exit 2), as for `run`.
  const config = await loadConfig(settings.config, io);
  const now = flags["as-of"] === undefined
    ? undefined
    : clockFor(flags["as-of"], config.timezone);
  const server = prepareServer(settings, {
    denoCron: cron.availableDenoCron(),
    log,
    ...(now === undefined ? {} : { now }),
  });
  await listenUntilSignal(server, { signal: io.signal, log });
  return EXIT.ok;
}

async function schemaCommand(io: CliIo): Promise<number> {
  const { kpiConfigJsonSchema } = await import(
    "../../../config/kpi_config_json_schema.ts"
  );
  io.stdout(`${JSON.stringify(kpiConfigJsonSchema(), null, 2)}\n`);
  return EXIT.ok;
}

async function runBacktest(flags: Flags, io: CliIo): Promise<number> {
  if (!flags.from) throw new UsageError("Missing --from P (the first period)");
  if (!flags.grain) {
    throw new UsageError("Missing --grain day|week|month|quarter|year");
  }
  const path = requireConfig(flags);
  const { backtestCommand } = await import("./backtest_command.ts");
  const timezone = (await loadConfig(path, io)).timezone;
  const now = clockFor(flags["as-of"], timezone);
  io.stdout(
    await backtestCommand({
      config: path,
      from: flags.from,
      to: flags.to,
      grain: flags.grain,
      kpis: flags.kpi,
      set: flags.set,
      against: flags.against,
      db: flags.db,
      format: readFormat(flags),
      now,
      env: io.env,
    }),
  );
  return EXIT.ok;
}

async function mcpCommand(flags: Flags, io: CliIo): Promise<number> {
  const engine = await openEngine(flags, io);
  try {
    const { serveMcpStdio } = await import("../mcp/serve_mcp_stdio.ts");
    await serveMcpStdio({
      engine,
      validate: (text, file) => parseKpis(text, { file, env: io.env }),
      signal: stopSignal(io),
    });
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

async function scheduleCommand(flags: Flags, io: CliIo): Promise<number> {
  if (!flags.cron) throw new UsageError("Missing --cron EXPR");
  const engine = await openEngine(flags, io);
  try {
    const [{ runScheduleUntilSignal }, { availableDenoCron }] = await Promise
      .all([
        import("../cron/run_schedule_until_signal.ts"),
        import("../cron/register_schedules.ts"),
      ]);
    const denoCron = availableDenoCron();
    await runScheduleUntilSignal(engine, {
      cron: flags.cron,
      period: flags.period ?? "last_month",
      ...(denoCron === undefined ? {} : { denoCron }),
      ...(flags.kpi ? { kpis: flags.kpi } : {}),
      ...(io.signal ? { signal: io.signal, signals: [] } : {}),
      log: io.stderr,
    });
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

async function demoCommand(flags: Flags, io: CliIo): Promise<number> {
  const { ensureDemoDatabase } = await import("../demo/build_demo_database.ts");
  const { dirname, resolve } = await import("node:path");
  const root = resolve(
    dirname(new URL(import.meta.url).pathname),
    "../../../..",
  );
  await ensureDemoDatabase(resolve(root, ".demo/shop.db"), {
    log: io.stderr,
  });
  return await runCommand({
    ...flags,
    config: flags.config ?? resolve(root, "kpis.example.yaml"),
  }, io);
}
