/**
 * Private: the command line's commands, flags, help and examples, on
 * commander (which also gives `--version`, `<command> --help` and "did you
 * mean" for mistyped commands and flags).
 *
 * @module
 */

import { Command } from "commander";
import { REPORT_FORMATS } from "../../../format/report_formats.ts";
import { VERSION } from "./version.ts";

/** The flags of every command, by their long names. */
export interface Flags {
  config?: string;
  db?: string;
  period?: string;
  "as-of"?: string;
  kpi?: string[];
  format?: string;
  "fail-on"?: string;
  explain?: boolean;
  "dry-run-alerts"?: boolean;
  "no-history"?: boolean;
  "allow-missing-env"?: boolean;
  n?: string;
  port?: string;
  hostname?: string;
  cron?: string;
  from?: string;
  to?: string;
  grain?: string;
  set?: string[];
  against?: string;
  by?: string[];
  top?: string;
  compare?: string;
  last?: string;
}

/** Where the output goes. */
interface ProgramIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The name the command is installed under (`deno install ... --name kpi`). */
export const COMMAND_NAME = "kpi";

/** The period grammar, for the help of commands that take `--period`. */
export const PERIOD_HELP: string = `
Periods (--period), each a range of whole days in the file's time zone:
  today, yesterday                              one day
  this_week, this_month, this_quarter, this_year
                                                to date, through today
  last_week, last_month, last_quarter, last_year
                                                the whole one before
  last_7_days                                   the N days before today
  last_4_weeks, last_3_months                   the N whole weeks or months
                                                before this one
  2024, 2024-Q3, 2024-11, 2024-W07, 2024-11-05  a year, quarter, month, ISO week, day
  2024-11-01..2024-11-15                        a range of days, both included
Relative periods count from today (--as-of YYYY-MM-DD to pick another day).`;

const FORMATS = REPORT_FORMATS.join("|");

/** Adds one option (or several) to a command. */
type AddOptions = (command: Command) => Command;

/**
 * The options several commands share, each written once. A command lists
 * the ones it takes, in the order its help shows them.
 */
const OPTION = {
  /** The KPI file (YAML). */
  config: (command: Command): Command =>
    command.option(
      "-c, --config <file>",
      "the KPI file (YAML); relative paths in it resolve against its folder",
    ),
  db: (command: Command): Command =>
    command.option(
      "--db <url>",
      "database URL, instead of the file's connection",
    ),
  asOf: (command: Command): Command =>
    command.option(
      "--as-of <YYYY-MM-DD>",
      "the day relative periods count from (default: today)",
    ),
  format: (command: Command): Command =>
    command.option("-f, --format <format>", `output: ${FORMATS}`, "table"),
  explain: (command: Command): Command =>
    command.option(
      "--explain",
      "print the SQL and parameters without running it",
    ),
  grain: (command: Command): Command =>
    command.option("--grain <grain>", "day, week, month, quarter or year"),
  period: (help: string): AddOptions => (command) =>
    command.option("-p, --period <period>", help, "last_month"),
  kpi: (help: string): AddOptions => (command) =>
    command.option("-k, --kpi <name>", help, collect),
  from: (help: string): AddOptions => (command) =>
    command.option("--from <period>", help),
  to: (help: string): AddOptions => (command) =>
    command.option("--to <period>", help),
  last: (help: string): AddOptions => (command) =>
    command.option("--last <n>", help),
  by: (help: string): AddOptions => (command) =>
    command.option("--by <dimension>", help, collect),
  top: (help: string): AddOptions => (command) =>
    command.option("--top <n>", help),
} as const;

/** What `run` and `demo` both take. */
const RUN_OPTIONS: readonly AddOptions[] = [
  OPTION.db,
  OPTION.period("the period to compute"),
  OPTION.asOf,
  OPTION.kpi("only this KPI and what it depends on (repeat for more)"),
  OPTION.format,
];

/** One command of the program. */
interface CommandSpec {
  name: string;
  description: string;
  /** Its options, in help order (the file's `--config` comes first). */
  options: readonly AddOptions[];
  /** Whether `--config` comes first. @default true */
  config?: boolean;
  /** A positional argument and its help. */
  argument?: [string, string];
  /** Whether its help lists the period forms. @default false */
  periods?: boolean;
  /** A note before the examples. */
  note?: string;
  /** Example command lines, without the command name. */
  examples: readonly string[];
}

const COMMANDS: readonly CommandSpec[] = [
  {
    name: "run",
    description: "compute the KPIs for a period, compare, alert and record",
    options: [
      ...RUN_OPTIONS,
      (command) =>
        command.option(
          "--fail-on <severity>",
          "exit 1 when an alert of this severity (warning|critical) or worse holds",
        ),
      OPTION.explain,
      (command) =>
        command
          .option(
            "--dry-run-alerts",
            "describe the alerts that would be sent, send none, record nothing",
          )
          .option(
            "--no-history",
            "record nothing; the audit_log is never opened",
          ),
      OPTION.by("also break each KPI down by this dimension (repeat, or a,b)"),
      OPTION.top("with --by, only the n largest segments"),
    ],
    periods: true,
    examples: [
      "run --config kpis.yaml",
      "run -c kpis.yaml --period 2024-Q3 --format json",
      "run -c kpis.yaml -p last_7_days --kpi revenue --no-history",
      "run -c kpis.yaml --fail-on critical   # for CI",
    ],
  },
  {
    name: "explain",
    description: "explain a KPI's change by segment: which ones drove it",
    options: [
      OPTION.kpi("the KPI whose change to explain (repeat for more)"),
      OPTION.db,
      OPTION.period("the period to explain"),
      OPTION.asOf,
      (command) =>
        command.option(
          "--compare <code>",
          "the comparison to explain: DoD, WoW, MoM, QoQ or YoY (default: the KPI's first)",
        ),
      OPTION.by(
        "the dimensions to split by (repeat, or a,b; default: the KPI's)",
      ),
      OPTION.top("only the n largest drivers"),
      OPTION.format,
    ],
    periods: true,
    examples: [
      "explain --config kpis.yaml --kpi revenue --compare MoM --by region",
    ],
  },
  {
    name: "validate",
    description: "check a file without touching a database",
    options: [
      (command) =>
        command.option(
          "--allow-missing-env",
          "an unset ${VAR} is a warning, not an error (check a file without its secrets)",
        ),
    ],
    examples: [
      "validate --config kpis.yaml",
      "validate -c kpis.yaml --allow-missing-env   # in CI",
    ],
  },
  {
    name: "history",
    description:
      "print what runs recorded in the audit_log for a KPI, newest first",
    argument: ["[name]", "the KPI"],
    options: [
      OPTION.db,
      (command) => command.option("-n, --n <count>", "how many results", "10"),
      (command) =>
        command.option(
          "--grain <grain>",
          "only periods of this grain (day, week, month, quarter, year, custom), one per period",
        ),
      OPTION.format,
    ],
    examples: [
      "history --config kpis.yaml revenue",
      "history -c kpis.yaml revenue --grain month -n 13",
      "history -c kpis.yaml revenue -n 30 --format csv",
    ],
  },
  {
    name: "series",
    description:
      "compute KPIs for every day, week, month, quarter or year of a span",
    options: [
      OPTION.grain,
      OPTION.last("how many points, ending with the bucket of --to"),
      OPTION.from("the first period (instead of --last)"),
      OPTION.to("the last period (default: today)"),
      OPTION.db,
      OPTION.asOf,
      OPTION.kpi("only this KPI (repeat for more)"),
      OPTION.explain,
      OPTION.format,
    ],
    periods: true,
    examples: [
      "series --config kpis.yaml --kpi revenue --grain month --last 24",
      "series -c kpis.yaml --grain day --from 2024-11 --format csv",
    ],
  },
  {
    name: "backfill",
    description:
      "write KPIs for every whole bucket of a span into the audit_log (no alerts)",
    options: [
      OPTION.grain,
      OPTION.from("the first period"),
      OPTION.to("the last period (default: today)"),
      OPTION.last("how many buckets, instead of --from"),
      OPTION.db,
      OPTION.asOf,
      OPTION.kpi("only this KPI (repeat for more)"),
    ],
    periods: true,
    examples: [
      "backfill --config kpis.yaml --grain month --from 2024-01 --to 2024-12",
    ],
  },
  {
    name: "serve",
    description:
      "serve the REST API and dashboard, and run the file's schedules",
    options: [
      OPTION.db,
      (command) =>
        command
          .option(
            "--port <port>",
            "port to listen on (0 picks a free one; default PORT, else 8000)",
          )
          .option(
            "--hostname <host>",
            "address to listen on (default HOST, else 127.0.0.1; 0.0.0.0 on Deno Deploy)",
          ),
    ],
    note: `
Environment: KPI_API_TOKEN, when set, is the bearer token every route but
/health requires; without it, listening beyond 127.0.0.1 prints a WARNING.
PORT and HOST are read as server.ts reads them.`,
    examples: [
      "serve --config kpis.yaml",
      "serve -c kpis.yaml --port 8080 --hostname 127.0.0.1",
    ],
  },
  {
    name: "schedule",
    description: "compute on a cron schedule until stopped",
    options: [
      (command) =>
        command.option(
          "--cron <expr>",
          'when to run, e.g. "0 6 * * *" (06:00 daily)',
        ),
      OPTION.db,
      OPTION.period("the period each run computes"),
      OPTION.kpi("only this KPI and what it depends on (repeat for more)"),
    ],
    periods: true,
    examples: [
      'schedule --config kpis.yaml --cron "0 6 * * *" --period yesterday',
    ],
  },
  {
    name: "backtest",
    description:
      "replay the alert rules over past periods: what would have fired, and when",
    options: [
      OPTION.from("the first period"),
      OPTION.to("the last period (default: today)"),
      OPTION.grain,
      OPTION.db,
      OPTION.asOf,
      OPTION.kpi("only this KPI (repeat for more)"),
      (command) =>
        command
          .option(
            "--set <KPI.PATH=VALUE>",
            'try a changed setting, e.g. revenue.alerts[0].condition="< 900" (repeat)',
            collect,
          )
          .option(
            "--against <file>",
            "compare with the rules of another file",
          ),
      OPTION.format,
    ],
    periods: true,
    examples: [
      "backtest --config kpis.yaml --from 2024-01 --to 2024-12 --grain month",
    ],
  },
  {
    name: "mcp",
    description:
      "serve the file's KPIs to AI assistants over MCP (stdin/stdout)",
    options: [OPTION.db],
    examples: ["mcp --config kpis.yaml"],
  },
  {
    name: "schema",
    description: "print the JSON Schema of kpis.yaml (for editors)",
    config: false,
    options: [],
    examples: ["schema > kpis.schema.json"],
  },
  {
    name: "demo",
    description: "build a demo shop database and run the example file on it",
    config: false,
    options: [
      ...RUN_OPTIONS,
      (command) =>
        command.option(
          "-c, --config <file>",
          "a KPI file to run on the demo database (default: the bundled kpis.example.yaml)",
        ),
    ],
    periods: true,
    examples: ["demo"],
  },
];

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;
}

/** The help after a command's flags: a note or the periods, then examples. */
function helpAfter(spec: CommandSpec): string {
  const shown = examples(
    ...spec.examples.map((line) => `${COMMAND_NAME} ${line}`),
  );
  if (spec.note !== undefined) return `${spec.note}\n${shown}`;
  return spec.periods ? `${PERIOD_HELP}\n${shown}` : shown;
}

/**
 * Builds the program. `run` receives the command's name, its flags and
 * its other arguments.
 *
 * @param io Where help, version and errors are written.
 * @param run What to do with a parsed command.
 * @returns The program; `parseAsync` throws a `CommanderError` for help,
 * the version and bad usage (exit code 0 for the first two).
 */
export function buildProgram(
  io: ProgramIo,
  run: (command: string, flags: Flags, rest: string[]) => Promise<void>,
): Command {
  const program = new Command(COMMAND_NAME)
    .description("Declarative KPIs: compute, compare, alert, keep history.")
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .addHelpCommand("help [command]", "show help for a command")
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
    })
    .showHelpAfterError(
      `(${COMMAND_NAME} <command> --help shows its flags and examples)`,
    )
    .exitOverride()
    .addHelpText(
      "after",
      `
Exit codes: 0 done; 1 --fail-on severity reached; 2 bad usage or invalid file;
3 at least one KPI could not be computed (the others are still printed).
${
        examples(
          `${COMMAND_NAME} validate --config kpis.yaml`,
          `${COMMAND_NAME} run --config kpis.yaml --period last_month`,
          `${COMMAND_NAME} run --help`,
        )
      }`,
    );

  const action =
    (name: string) => async (...args: unknown[]): Promise<void> => {
      // commander passes the arguments, then the options, then the command.
      const command = args[args.length - 1] as Command;
      const options = command.opts() as Record<string, unknown>;
      const rest = (args.slice(0, -2) as (string | string[] | undefined)[])
        .flat().filter((arg): arg is string => arg !== undefined);
      await run(name, toFlags(options), rest);
    };

  for (const spec of COMMANDS) {
    let command = program.command(spec.name).description(spec.description);
    if (spec.config ?? true) command = OPTION.config(command);
    if (spec.argument) command = command.argument(...spec.argument);
    for (const add of spec.options) command = add(command);
    command.addHelpText("after", helpAfter(spec)).action(action(spec.name));
  }
  return program;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** commander's camelCase options, back to the long flag names. */
function toFlags(options: Record<string, unknown>): Flags {
  const flags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === "history") {
      if (value === false) flags["no-history"] = true;
      continue;
    }
    flags[key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = value;
  }
  return flags as Flags;
}
