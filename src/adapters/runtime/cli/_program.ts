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

/** What every command that reads a file takes. */
function withConfig(command: Command): Command {
  return command.option(
    "-c, --config <file>",
    "the KPI file (YAML); relative paths in it resolve against its folder",
  );
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;
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

  const runFlags = (command: Command): Command =>
    command
      .option("--db <url>", "database URL, instead of the file's connection")
      .option("-p, --period <period>", "the period to compute", "last_month")
      .option(
        "--as-of <YYYY-MM-DD>",
        "the day relative periods count from (default: today)",
      )
      .option(
        "-k, --kpi <name>",
        "only this KPI and what it depends on (repeat for more)",
        collect,
      )
      .option(
        "-f, --format <format>",
        `output: ${FORMATS}`,
        "table",
      );

  runFlags(withConfig(
    program.command("run").description(
      "compute the KPIs for a period, compare, alert and record",
    ),
  ))
    .option(
      "--fail-on <severity>",
      "exit 1 when an alert of this severity (warning|critical) or worse holds",
    )
    .option("--explain", "print the SQL and parameters without running it")
    .option(
      "--dry-run-alerts",
      "describe the alerts that would be sent, send none, record nothing",
    )
    .option("--no-history", "record nothing; the audit_log is never opened")
    .option(
      "--by <dimension>",
      "also break each KPI down by this dimension (repeat, or a,b)",
      collect,
    )
    .option("--top <n>", "with --by, only the n largest segments")
    .addHelpText(
      "after",
      `${PERIOD_HELP}
${
        examples(
          `${COMMAND_NAME} run --config kpis.yaml`,
          `${COMMAND_NAME} run -c kpis.yaml --period 2024-Q3 --format json`,
          `${COMMAND_NAME} run -c kpis.yaml -p last_7_days --kpi revenue --no-history`,
          `${COMMAND_NAME} run -c kpis.yaml --fail-on critical   # for CI`,
        )
      }`,
    )
    .action(action("run"));

  withConfig(
    program.command("explain").description(
      "explain a KPI's change by segment: which ones drove it",
    ),
  )
    .option(
      "-k, --kpi <name>",
      "the KPI whose change to explain (repeat for more)",
      collect,
    )
    .option("--db <url>", "database URL, instead of the file's connection")
    .option("-p, --period <period>", "the period to explain", "last_month")
    .option(
      "--as-of <YYYY-MM-DD>",
      "the day relative periods count from (default: today)",
    )
    .option(
      "--compare <code>",
      "the comparison to explain: DoD, WoW, MoM, QoQ or YoY (default: the KPI's first)",
    )
    .option(
      "--by <dimension>",
      "the dimensions to split by (repeat, or a,b; default: the KPI's)",
      collect,
    )
    .option("--top <n>", "only the n largest drivers")
    .option("-f, --format <format>", `output: ${FORMATS}`, "table")
    .addHelpText(
      "after",
      `${PERIOD_HELP}
${
        examples(
          `${COMMAND_NAME} explain --config kpis.yaml --kpi revenue --compare MoM --by region`,
        )
      }`,
    )
    .action(action("explain"));

  withConfig(
    program.command("validate").description(
      "check a file without touching a database",
    ),
  )
    .option(
      "--allow-missing-env",
      "an unset ${VAR} is a warning, not an error (check a file without its secrets)",
    )
    .addHelpText(
      "after",
      examples(
        `${COMMAND_NAME} validate --config kpis.yaml`,
        `${COMMAND_NAME} validate -c kpis.yaml --allow-missing-env   # in CI`,
      ),
    )
    .action(action("validate"));

  withConfig(
    program.command("history").description(
      "print what runs recorded in the audit_log for a KPI, newest first",
    ),
  )
    .argument("[name]", "the KPI")
    .option("--db <url>", "database URL, instead of the file's connection")
    .option("-n, --n <count>", "how many results", "10")
    .option(
      "--grain <grain>",
      "only periods of this grain (day, week, month, quarter, year, custom), one per period",
    )
    .option("-f, --format <format>", `output: ${FORMATS}`, "table")
    .addHelpText(
      "after",
      examples(
        `${COMMAND_NAME} history --config kpis.yaml revenue`,
        `${COMMAND_NAME} history -c kpis.yaml revenue --grain month -n 13`,
        `${COMMAND_NAME} history -c kpis.yaml revenue -n 30 --format csv`,
      ),
    )
    .action(action("history"));

  withConfig(
    program.command("series").description(
      "compute KPIs for every day, week, month, quarter or year of a span",
    ),
  )
    .option("--grain <grain>", "day, week, month, quarter or year")
    .option("--last <n>", "how many points, ending with the bucket of --to")
    .option("--from <period>", "the first period (instead of --last)")
    .option("--to <period>", "the last period (default: today)")
    .option("--db <url>", "database URL, instead of the file's connection")
    .option(
      "--as-of <YYYY-MM-DD>",
      "the day relative periods count from (default: today)",
    )
    .option("-k, --kpi <name>", "only this KPI (repeat for more)", collect)
    .option("--explain", "print the SQL and parameters without running it")
    .option("-f, --format <format>", `output: ${FORMATS}`, "table")
    .addHelpText(
      "after",
      `${PERIOD_HELP}
${
        examples(
          `${COMMAND_NAME} series --config kpis.yaml --kpi revenue --grain month --last 24`,
          `${COMMAND_NAME} series -c kpis.yaml --grain day --from 2024-11 --format csv`,
        )
      }`,
    )
    .action(action("series"));

  withConfig(
    program.command("backfill").description(
      "write KPIs for every whole bucket of a span into the audit_log (no alerts)",
    ),
  )
    .option("--grain <grain>", "day, week, month, quarter or year")
    .option("--from <period>", "the first period")
    .option("--to <period>", "the last period (default: today)")
    .option("--last <n>", "how many buckets, instead of --from")
    .option("--db <url>", "database URL, instead of the file's connection")
    .option(
      "--as-of <YYYY-MM-DD>",
      "the day relative periods count from (default: today)",
    )
    .option("-k, --kpi <name>", "only this KPI (repeat for more)", collect)
    .addHelpText(
      "after",
      `${PERIOD_HELP}
${
        examples(
          `${COMMAND_NAME} backfill --config kpis.yaml --grain month --from 2024-01 --to 2024-12`,
        )
      }`,
    )
    .action(action("backfill"));

  withConfig(
    program.command("serve").description(
      "serve the REST API and dashboard, and run the file's schedules",
    ),
  )
    .option("--db <url>", "database URL, instead of the file's connection")
    .option(
      "--port <port>",
      "port to listen on (0 picks a free one; default PORT, else 8000)",
    )
    .option(
      "--hostname <host>",
      "address to listen on (default HOST, else 127.0.0.1; 0.0.0.0 on Deno Deploy)",
    )
    .addHelpText(
      "after",
      `
Environment: KPI_API_TOKEN, when set, is the bearer token every route but
/health requires; without it, listening beyond 127.0.0.1 prints a WARNING.
PORT and HOST are read as server.ts reads them.
${
        examples(
          `${COMMAND_NAME} serve --config kpis.yaml`,
          `${COMMAND_NAME} serve -c kpis.yaml --port 8080 --hostname 127.0.0.1`,
        )
      }`,
    )
    .action(action("serve"));

  withConfig(
    program.command("schedule").description(
      "compute on a cron schedule until stopped",
    ),
  )
    .option("--cron <expr>", 'when to run, e.g. "0 6 * * *" (06:00 daily)')
    .option("--db <url>", "database URL, instead of the file's connection")
    .option(
      "-p, --period <period>",
      "the period each run computes",
      "last_month",
    )
    .option(
      "-k, --kpi <name>",
      "only this KPI and what it depends on (repeat for more)",
      collect,
    )
    .addHelpText(
      "after",
      `${PERIOD_HELP}
${
        examples(
          `${COMMAND_NAME} schedule --config kpis.yaml --cron "0 6 * * *" --period yesterday`,
        )
      }`,
    )
    .action(action("schedule"));

  withConfig(
    program.command("backtest").description(
      "replay the alert rules over past periods: what would have fired, and when",
    ),
  )
    .option("--from <period>", "the first period")
    .option("--to <period>", "the last period")
    .option("--grain <grain>", "day, week, month, quarter or year")
    .option("--db <url>", "database URL, instead of the file's connection")
    .option(
      "--as-of <YYYY-MM-DD>",
      "the day relative periods count from (default: today)",
    )
    .option(
      "-k, --kpi <name>",
      "only this KPI (repeat for more)",
      collect,
    )
    .option(
      "--set <KPI.PATH=VALUE>",
      'try a changed setting, e.g. revenue.alerts[0].condition="< 900" (repeat)',
      collect,
    )
    .option("--against <file>", "compare with the rules of another file")
    .option("-f, --format <format>", `output: ${FORMATS}`, "table")
    .addHelpText(
      "after",
      `${PERIOD_HELP}
${
        examples(
          `${COMMAND_NAME} backtest --config kpis.yaml --from 2024-01 --to 2024-12 --grain month`,
        )
      }`,
    )
    .action(action("backtest"));

  withConfig(
    program.command("mcp").description(
      "serve the file's KPIs to AI assistants over MCP (stdin/stdout)",
    ),
  )
    .option("--db <url>", "database URL, instead of the file's connection")
    .addHelpText(
      "after",
      examples(`${COMMAND_NAME} mcp --config kpis.yaml`),
    )
    .action(action("mcp"));

  program.command("schema").description(
    "print the JSON Schema of kpis.yaml (for editors)",
  ).addHelpText(
    "after",
    examples(`${COMMAND_NAME} schema > kpis.schema.json`),
  ).action(action("schema"));

  runFlags(
    program.command("demo").description(
      "build a demo shop database and run the example file on it",
    ),
  )
    .option(
      "-c, --config <file>",
      "a KPI file to run on the demo database (default: the bundled kpis.example.yaml)",
    )
    .addHelpText("after", `${PERIOD_HELP}\n${examples(`${COMMAND_NAME} demo`)}`)
    .action(action("demo"));

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
