/**
 * Scheduled runs: compute the KPIs on a cron schedule, recording history and
 * dispatching alerts at every fire, never two runs at once.
 *
 * Two drivers: a timer loop whose fire times come from `croner` in any IANA
 * time zone (the default), and `Deno.cron` when the entry point hands it in
 * (`denoCron: Deno.cron`) and the schedule is in UTC (Deno.cron knows no
 * other zone). The clock and timers are injected, so tests fire at exact
 * instants.
 *
 * @module
 */

import { Cron } from "croner";
import type { CronRegistrar, SchedulerClock } from "../../../ports.ts";

export type { CronRegistrar, SchedulerClock };
import type { KPIResult } from "../../../types.ts";

/** What a scheduled run returns: the period and the results. */
export interface ScheduledReport {
  /** The period computed. */
  period: { label: string; start: string; end: string };
  /** One result per KPI. */
  results: KPIResult[];
}

/** The part of `KPIEngine` the scheduler uses. */
export interface ScheduleEngine {
  /** The engine's settings; `timezone` is the default zone of the cron. */
  readonly config?: { readonly timezone: string };
  /** Computes, records history and dispatches alerts for a period. */
  report(
    period?: string,
    options?: { kpis?: readonly string[] },
  ): Promise<ScheduledReport>;
}

/** One fire of a schedule. */
export interface FireInfo {
  /** When the cron expression said to run. */
  scheduledAt: Temporal.Instant;
  /** When the run started. */
  startedAt: Temporal.Instant;
}

/** A fire that did not run because the previous run was still going. */
export interface SkipInfo {
  /** When the cron expression said to run. */
  scheduledAt: Temporal.Instant;
  /** When the run that was still going had started. */
  runningSince: Temporal.Instant;
}

/** Counters of a schedule. */
export interface ScheduleStats {
  /** Runs started. */
  started: number;
  /** Runs that finished without throwing. */
  completed: number;
  /** Runs that threw (or whose `onResult` threw). */
  failed: number;
  /** Fires skipped because a run was still going. */
  skipped: number;
  /** Whether a run is going now. */
  running: boolean;
  /** When the last run started, ISO instant, or null. */
  lastStartedAt: string | null;
  /** The last failure's message, or null. */
  lastError: string | null;
}

/** Options of {@linkcode scheduleRuns}. */
export interface ScheduleOptions {
  /** A cron expression: five fields (minute to weekday), or six with seconds first. */
  cron: string;
  /** The period each run computes. @default "last_month" */
  period?: string;
  /** Only these KPIs. @default every KPI */
  kpis?: readonly string[];
  /** IANA zone the cron expression is read in. @default the engine's `config.timezone`, else "UTC" */
  timezone?: string;
  /** Called with each run's report. @default undefined */
  onResult?: (report: ScheduledReport, fire: FireInfo) => void | Promise<void>;
  /** Called when a fire is skipped because the previous run is still going. @default undefined */
  onSkip?: (skip: SkipInfo) => void;
  /** Called when a run (or `onResult`) throws. @default undefined */
  onError?: (error: unknown, fire: FireInfo) => void;
  /**
   * `Deno.cron`, handed in by the entry point that schedules; used for UTC
   * five-field schedules unless `useDenoCron` is false. @default undefined (timer loop)
   */
  denoCron?: CronRegistrar;
  /** Whether `denoCron` may be used when given. @default true */
  useDenoCron?: boolean;
  /** The job's name for `Deno.cron` (letters, digits, spaces, `-`, `_`; at most 64). @default derived from period and cron */
  name?: string;
  /** The clock and timers of the timer loop. @default Temporal.Now, setTimeout, clearTimeout */
  clock?: SchedulerClock;
  /** Stops the schedule (like `stop()`) when aborted. @default undefined */
  signal?: AbortSignal;
}

/** A running schedule. */
export interface ScheduledRuns {
  /** Which driver fires the runs. */
  readonly mode: "deno_cron" | "timer";
  /** The zone the cron expression is read in. */
  readonly timezone: string;
  /** A snapshot of the counters. */
  stats(): ScheduleStats;
  /** The next fire time, or null when stopped or the expression has no more. */
  nextRun(): Temporal.Instant | null;
  /**
   * Stops firing; resolves, with the final counters, after the run in flight
   * (if any) has finished.
   */
  stop(): Promise<ScheduleStats>;
}

/** Longest single timer; longer waits are re-armed (setTimeout's limit is about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
const UTC_ZONES = new Set([
  "UTC",
  "ETC/UTC",
  "ETC/UCT",
  "UCT",
  "ETC/GMT",
  "GMT",
  "ZULU",
  "ETC/ZULU",
  "UNIVERSAL",
  "ETC/UNIVERSAL",
]);

const systemClock: SchedulerClock = {
  now: () => Temporal.Now.instant(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as number),
};

/**
 * Runs `engine.report(period, { kpis })` at every fire of a cron
 * expression. Each run records history and dispatches alerts as the engine
 * does for any run. A fire that comes while the previous run is still going
 * is skipped and reported through `onSkip` and `stats().skipped`.
 *
 * Daylight saving time (timer loop, as `croner` computes it): a fire time
 * that does not exist on the day clocks spring forward runs at the same
 * wall-clock offset after the gap (`0 2 * * *` in America/Toronto runs at
 * 03:00 on 2024-03-10); a fire time that occurs twice when clocks fall back
 * runs once, at its first occurrence (`30 1 * * *` on 2024-11-03 runs at
 * 01:30 EDT only), and so does an hourly schedule in the repeated hour.
 *
 * With `denoCron` (pass `Deno.cron` from the entry point), a UTC five-field
 * schedule is registered there instead; `Deno.cron` itself never overlaps
 * runs, so fires it skipped while a run was going are reported when that run
 * ends.
 *
 * @param engine The engine (a `KPIEngine`).
 * @param options The cron expression, period, callbacks and clock.
 * @returns The running schedule; call `stop()` to end it.
 * @throws {RangeError} If the cron expression or time zone is invalid.
 * @example Fire at exact instants with an injected clock
 * ```ts
 * import assert from "node:assert/strict";
 *
 * let now = Temporal.Instant.from("2024-03-09T23:59:00Z");
 * const timers: (() => void)[] = [];
 * const periods: string[] = [];
 * const engine = {
 *   report: (period = "last_month") => {
 *     periods.push(`${period} at ${now}`);
 *     return Promise.resolve({ period: { label: period, start: "", end: "" }, results: [] });
 *   },
 * };
 * const runs = scheduleRuns(engine, {
 *   cron: "0 0 * * *", period: "yesterday", timezone: "UTC",
 *   clock: {
 *     now: () => now,
 *     setTimer: (callback, ms) => { now = now.add({ milliseconds: ms }); timers.push(callback); },
 *     clearTimer: () => {},
 *   },
 * });
 * assert.equal(runs.nextRun()?.toString(), "2024-03-10T00:00:00Z");
 * timers.shift()?.();
 * const stats = await runs.stop();
 * assert.deepEqual(periods, ["yesterday at 2024-03-10T00:00:00Z"]);
 * assert.equal(stats.completed, 1);
 * ```
 */
export function scheduleRuns(
  engine: ScheduleEngine,
  options: ScheduleOptions,
): ScheduledRuns {
  const clock = options.clock ?? systemClock;
  const timezone = options.timezone ?? engine.config?.timezone ?? "UTC";
  const period = options.period ?? "last_month";
  const expression = options.cron.trim();
  const job = parseCron(expression, timezone);
  const useDenoCron = options.denoCron !== undefined &&
    options.useDenoCron !== false && denoCronCanRun(expression, timezone);
  const runner = createRunner(engine, period, options, clock);
  const driver = useDenoCron && options.denoCron !== undefined
    ? startDenoCron(options.denoCron, runner, {
      name: options.name ?? cronName(period, expression),
      expression,
      clock,
      onSkip: options.onSkip,
    })
    : startTimerLoop(runner, job, clock);
  let stopped = false;

  const stop = async (): Promise<ScheduleStats> => {
    stopped = true;
    driver.stop();
    await runner.idle();
    await driver.done;
    return { ...runner.stats };
  };

  if (options.signal !== undefined) {
    if (options.signal.aborted) void stop();
    else {
      options.signal.addEventListener("abort", () => void stop(), {
        once: true,
      });
    }
  }

  return {
    mode: useDenoCron ? "deno_cron" : "timer",
    timezone,
    stats: () => ({ ...runner.stats }),
    nextRun: () => {
      if (stopped) return null;
      const at = driver.nextDue() ??
        (useDenoCron
          ? nextAfterDate(job, clock.now().epochMilliseconds)
          : null);
      return at === null ? null : Temporal.Instant.fromEpochMilliseconds(at);
    },
    stop,
  };
}

/**
 * Whether `Deno.cron` can honour a schedule: it reads five-field
 * expressions in UTC only.
 */
function denoCronCanRun(expression: string, timezone: string): boolean {
  return UTC_ZONES.has(timezone.toUpperCase()) &&
    expression.split(/\s+/).length === 5 && !expression.startsWith("@");
}

/** Runs the engine at each fire, one run at a time, counting as it goes. */
interface Runner {
  /** The live counters. */
  readonly stats: ScheduleStats;
  /** Starts a run unless one is going (then counts a skip); the run or null. */
  fire(scheduledAt: Temporal.Instant): Promise<void> | null;
  /** Resolves once no run is in flight. */
  idle(): Promise<void>;
}

/** Step 1: the part that runs the engine, never two runs at once. */
function createRunner(
  engine: ScheduleEngine,
  period: string,
  options: ScheduleOptions,
  clock: SchedulerClock,
): Runner {
  const stats: ScheduleStats = {
    started: 0,
    completed: 0,
    failed: 0,
    skipped: 0,
    running: false,
    lastStartedAt: null,
    lastError: null,
  };
  let inFlight: Promise<void> | null = null;
  let runningSince: Temporal.Instant | null = null;

  const run = async (info: FireInfo): Promise<void> => {
    try {
      const report = await engine.report(
        period,
        options.kpis === undefined ? {} : { kpis: options.kpis },
      );
      await options.onResult?.(report, info);
      stats.completed++;
    } catch (error) {
      stats.failed++;
      stats.lastError = error instanceof Error ? error.message : String(error);
      options.onError?.(error, info);
    } finally {
      stats.running = false;
      runningSince = null;
      inFlight = null;
    }
  };

  return {
    stats,
    fire(scheduledAt) {
      if (inFlight !== null) {
        stats.skipped++;
        options.onSkip?.({
          scheduledAt,
          runningSince: runningSince ?? scheduledAt,
        });
        return null;
      }
      const startedAt = clock.now();
      stats.started++;
      stats.running = true;
      stats.lastStartedAt = startedAt.toString();
      runningSince = startedAt;
      inFlight = run({ scheduledAt, startedAt });
      return inFlight;
    },
    async idle() {
      while (inFlight !== null) await inFlight;
    },
  };
}

/** What fires the runner: a timer loop or `Deno.cron`. */
interface Driver {
  /** Stops firing. */
  stop(): void;
  /** Settles once the driver has let go. */
  done: Promise<void>;
  /** The next fire time it has planned (epoch ms), or null. */
  nextDue(): number | null;
}

/**
 * Step 2a: the timer loop. The next fire is planned before a run starts,
 * so a slow run cannot delay the schedule (its fires are skipped instead).
 */
function startTimerLoop(
  runner: Runner,
  job: Cron,
  clock: SchedulerClock,
): Driver {
  let nextDue: number | null = null;
  let timer: unknown = undefined;
  let timerSet = false;
  let stopped = false;
  const cancelTimer = (): void => {
    if (timerSet) clock.clearTimer(timer);
    timerSet = false;
  };
  const arm = (): void => {
    cancelTimer();
    if (stopped || nextDue === null) return;
    const delay = nextDue - clock.now().epochMilliseconds;
    if (delay <= 0) {
      const due = nextDue;
      nextDue = nextAfterDate(
        job,
        Math.max(due, clock.now().epochMilliseconds),
      );
      runner.fire(Temporal.Instant.fromEpochMilliseconds(due));
      arm();
      return;
    }
    timer = clock.setTimer(arm, Math.min(delay, MAX_TIMER_MS));
    timerSet = true;
  };
  nextDue = nextAfterDate(job, clock.now().epochMilliseconds);
  arm();
  return {
    stop() {
      stopped = true;
      nextDue = null;
      cancelTimer();
    },
    done: Promise.resolve(),
    nextDue: () => nextDue,
  };
}

/**
 * Step 2b: `Deno.cron`. It gives no fire time, so the last one due is
 * taken; it never overlaps runs itself, so the fires it skipped while a
 * run was going are reported when that run ends.
 */
function startDenoCron(
  denoCron: CronRegistrar,
  runner: Runner,
  settings: {
    name: string;
    expression: string;
    clock: SchedulerClock;
    onSkip: ((skip: SkipInfo) => void) | undefined;
  },
): Driver {
  const { clock } = settings;
  const abort = new AbortController();
  const utc = parseCron(settings.expression, "UTC");
  const done = denoCron(
    settings.name,
    settings.expression,
    { signal: abort.signal },
    async () => {
      if (abort.signal.aborted) return;
      const now = clock.now();
      const scheduledAt = lastFireAtOrBefore(utc, now) ?? now;
      const run = runner.fire(scheduledAt);
      if (run === null) return;
      const since = clock.now();
      await run;
      let t = nextAfterDate(utc, scheduledAt.epochMilliseconds);
      const end = clock.now().epochMilliseconds;
      while (t !== null && t <= end) {
        runner.stats.skipped++;
        settings.onSkip?.({
          scheduledAt: Temporal.Instant.fromEpochMilliseconds(t),
          runningSince: since,
        });
        t = nextAfterDate(utc, t);
      }
    },
  ).catch((error: unknown) => {
    runner.stats.lastError = error instanceof Error
      ? error.message
      : String(error);
  });
  return { stop: () => abort.abort(), done, nextDue: () => null };
}

function parseCron(expression: string, timezone: string): Cron {
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
    return new Cron(expression, { timezone, paused: true, legacyMode: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RangeError(
      `Cannot schedule ${JSON.stringify(expression)} in ${
        JSON.stringify(timezone)
      }: ${reason}; expected five cron fields (minute hour day month weekday), ` +
        "or six with seconds first, and an IANA time zone",
    );
  }
}

function nextAfterDate(job: Cron, epochMs: number): number | null {
  return job.nextRun(new Date(epochMs))?.getTime() ?? null;
}

/**
 * The latest fire time at or before `now` within the last minute (fires of
 * a five-field expression are at least a minute apart), or null.
 */
function lastFireAtOrBefore(
  job: Cron,
  now: Temporal.Instant,
): Temporal.Instant | null {
  const end = now.epochMilliseconds;
  let last: number | null = null;
  let t = nextAfterDate(job, end - 60_001);
  while (t !== null && t <= end) {
    last = t;
    t = nextAfterDate(job, t);
  }
  return last === null ? null : Temporal.Instant.fromEpochMilliseconds(last);
}

/** A `Deno.cron` job name: letters, digits, spaces, `-` and `_`, at most 64. */
function cronName(period: string, expression: string): string {
  const text = `kpi ${period} ${expression}`
    .replaceAll("*", "x")
    .replace(/[^A-Za-z0-9 _-]/g, "_");
  return text.slice(0, 64);
}
