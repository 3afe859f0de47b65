/**
 * The one schedule set-up: starts the file's `schedules:` (or one schedule
 * from `cli.ts schedule --cron`) with the same log lines everywhere, on
 * `Deno.cron` when the entry point hands it in. `server.ts`, `cli.ts serve`
 * and `cli.ts schedule` all come through here.
 *
 * Everything here is synchronous, so an entry point can register its jobs
 * at the top level before its first `await`, as Deno Deploy requires of
 * `Deno.cron`: the engine may still be opening (pass an engine whose
 * `report` awaits it).
 *
 * @module
 */

import { scheduleRuns } from "./schedule_runs.ts";
import type {
  CronRegistrar,
  ScheduledReport,
  ScheduledRuns,
  ScheduleEngine,
  ScheduleOptions,
} from "./schedule_runs.ts";
import type { ScheduleConfig } from "../../../types.ts";

/** Options of {@linkcode startLoggedSchedule}. */
export interface LoggedScheduleOptions {
  /** Where progress goes, a line at a time, without newline. */
  log: (line: string) => void;
  /**
   * How the lines name the schedule, e.g. `Schedule 1`. @default undefined
   * (lines read `Scheduled ...`, `Ran ...`)
   */
  name?: string;
}

/**
 * Starts {@linkcode scheduleRuns} with callbacks that log each run, skip
 * and failure (callbacks given in `options` win), and logs when it runs next.
 *
 * @param engine The engine, or an object whose `report` awaits it.
 * @param options The schedule.
 * @param logging Where the lines go and how they name the schedule.
 * @returns The running schedule.
 * @throws {RangeError} If the cron expression or time zone is invalid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const engine = {
 *   report: () => Promise.resolve({ period: { label: "", start: "", end: "" }, results: [] }),
 * };
 * const runs = startLoggedSchedule(engine, { cron: "0 6 * * *", period: "yesterday" }, {
 *   log: (line) => lines.push(line), name: "Schedule 1",
 * });
 * await runs.stop();
 * assert.match(lines[0] ?? "", /^Schedule 1: "0 6 \* \* \*" \(UTC, timer\) computes yesterday/);
 * ```
 */
export function startLoggedSchedule(
  engine: ScheduleEngine,
  options: ScheduleOptions,
  logging: LoggedScheduleOptions,
): ScheduledRuns {
  const { log, name } = logging;
  const who = name ?? "The schedule";
  const runs = scheduleRuns(engine, {
    ...options,
    onResult: options.onResult ??
      ((report) =>
        log(
          `${name === undefined ? "Ran" : `${name} ran`} ${summary(report)}`,
        )),
    onSkip: options.onSkip ?? ((skip) =>
      log(
        `${
          name === undefined ? "Skipped" : `${name} skipped`
        } the run due at ${skip.scheduledAt}: the run started at ${skip.runningSince} is still going`,
      )),
    onError: options.onError ?? ((error, fire) =>
      log(
        `${who} failed the run due at ${fire.scheduledAt}: ${
          error instanceof Error ? error.message : String(error)
        }`,
      )),
  });
  log(
    `${name === undefined ? "Scheduled" : `${name}:`} ${
      JSON.stringify(options.cron)
    } (${runs.timezone}, ${
      runs.mode === "deno_cron" ? "Deno.cron" : "timer"
    }) computes ${options.period ?? "last_month"}; next run at ${
      runs.nextRun() ?? "never"
    }`,
  );
  return runs;
}

/** Options of {@linkcode registerSchedules}. */
export interface RegisterSchedulesOptions {
  /** Where progress goes, a line at a time, without newline. */
  log: (line: string) => void;
  /**
   * `Deno.cron`, for UTC schedules (needed on Deno Deploy, where timers do
   * not outlive a request). @default undefined (timer loop)
   */
  denoCron?: CronRegistrar | undefined;
}

/**
 * Starts every schedule of a file's `schedules:`, named `Schedule 1`,
 * `Schedule 2`, ... in the log and in `Deno.cron`. Synchronous: call it at
 * the top level of the entry point. If one schedule cannot start, those
 * already started are stopped and the error is thrown.
 *
 * @param engine The engine, or an object whose `report` awaits it.
 * @param schedules The file's `schedules:`.
 * @param options Where lines go and `Deno.cron`.
 * @returns The running schedules, in file order.
 * @throws {RangeError} If a cron expression or time zone is invalid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const engine = {
 *   report: () => Promise.resolve({ period: { label: "", start: "", end: "" }, results: [] }),
 * };
 * const runs = registerSchedules(engine, [{ cron: "0 6 * * *" }], { log: () => {} });
 * assert.equal(runs.length, 1);
 * await Promise.all(runs.map((r) => r.stop()));
 * ```
 */
export function registerSchedules(
  engine: ScheduleEngine,
  schedules: readonly ScheduleConfig[],
  options: RegisterSchedulesOptions,
): ScheduledRuns[] {
  const started: ScheduledRuns[] = [];
  try {
    schedules.forEach((schedule, i) => {
      started.push(startLoggedSchedule(engine, {
        cron: schedule.cron,
        period: schedule.period ?? "last_month",
        ...(schedule.kpis === undefined ? {} : { kpis: schedule.kpis }),
        ...(schedule.timezone === undefined
          ? {}
          : { timezone: schedule.timezone }),
        ...(options.denoCron === undefined
          ? {}
          : { denoCron: options.denoCron }),
        name: `kpi-engine schedule ${i + 1}`,
      }, { log: options.log, name: `Schedule ${i + 1}` }));
    });
  } catch (error) {
    for (const runs of started) void runs.stop();
    throw error;
  }
  return started;
}

/**
 * `Deno.cron` when this process has it (Deno Deploy; locally with
 * `--unstable-cron` or `"unstable": ["cron"]` in deno.json), else undefined.
 *
 * @returns The registrar or undefined.
 */
export function availableDenoCron(): CronRegistrar | undefined {
  const cron = (Deno as { cron?: unknown }).cron;
  return typeof cron === "function" ? cron as CronRegistrar : undefined;
}

function summary(report: ScheduledReport): string {
  const count = (status: string): number =>
    report.results.filter((r) => r.alertStatus === status).length;
  const { label, start, end } = report.period;
  return `${label} (${start}..${end}): ${report.results.length} KPI(s), ${
    count("warning")
  } warning, ${count("critical")} critical, ${count("error")} error`;
}
