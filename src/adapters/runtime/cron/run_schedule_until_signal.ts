/**
 * Runs a schedule in the foreground until SIGINT or SIGTERM, then lets the
 * run in flight finish: the body of `cli.ts schedule`.
 *
 * @module
 */

import { startLoggedSchedule } from "./register_schedules.ts";
import type {
  ScheduleEngine,
  ScheduleOptions,
  ScheduleStats,
} from "./schedule_runs.ts";

/** Options of {@linkcode runScheduleUntilSignal}. */
export interface RunScheduleUntilSignalOptions extends ScheduleOptions {
  /** Signals that stop the schedule. @default ["SIGINT", "SIGTERM"] (SIGINT only on Windows) */
  signals?: readonly Deno.Signal[];
  /**
   * Where progress goes, a line at a time, each ending in a newline (a
   * stream writer such as the CLI's stderr fits). @default writes to stderr
   */
  log?: (text: string) => void;
  /**
   * What a second signal during the wait for the run in flight does.
   * @default exits the process with code 130
   */
  onForce?: () => void;
}

/**
 * Starts a logged schedule ({@linkcode startLoggedSchedule}) and waits for SIGINT or SIGTERM (or
 * `options.signal`). On the first signal it stops firing, waits for the run
 * in flight to finish (its history is recorded and its alerts sent) and
 * resolves; a second signal while waiting exits at once (code 130).
 * Progress goes to `options.log`: the next run time, one line per run,
 * skipped fires and failures. Without `onResult`, `onSkip` or `onError` of
 * its own, the schedule only logs.
 *
 * @param engine The engine (a `KPIEngine`).
 * @param options The schedule, plus which signals stop it.
 * @returns The final counters, once stopped and idle.
 * @throws {RangeError} If the cron expression or time zone is invalid.
 * @example Stop through an AbortSignal
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const engine = {
 *   report: () => Promise.resolve({ period: { label: "", start: "", end: "" }, results: [] }),
 * };
 * const stop = new AbortController();
 * const lines: string[] = [];
 * const done = runScheduleUntilSignal(engine, {
 *   cron: "0 6 * * *", signals: [], signal: stop.signal, log: (text) => lines.push(text),
 * });
 * stop.abort();
 * const stats = await done;
 * assert.equal(stats.started, 0);
 * assert.match(lines[0] ?? "", /^Scheduled "0 6 \* \* \*"/);
 * ```
 */
export async function runScheduleUntilSignal(
  engine: ScheduleEngine,
  options: RunScheduleUntilSignalOptions,
): Promise<ScheduleStats> {
  const write = options.log ??
    ((text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
  const log = (line: string): void => write(`${line}\n`);
  const signals = options.signals ??
    (Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"]);
  const onForce = options.onForce ?? (() => Deno.exit(130));

  let resolveStop: (reason: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => {
    resolveStop = resolve;
  });
  let stopping = false;
  const listeners = signals.map((signal) => {
    const listener = (): void => {
      if (stopping) {
        log(`Received ${signal} again: exiting without waiting`);
        onForce();
        return;
      }
      resolveStop(signal);
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  const onAbort = (): void => resolveStop("abort");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) resolveStop("abort");

  try {
    const { signal: _signal, ...scheduleOptions } = options;
    const runs = startLoggedSchedule(engine, scheduleOptions, { log });
    const reason = await stopRequested;
    stopping = true;
    if (runs.stats().running) {
      log(`Received ${reason}: waiting for the run in flight to finish`);
    }
    const stats = await runs.stop();
    log(
      `Stopped after ${stats.started} run(s): ${stats.completed} completed, ${stats.failed} failed, ${stats.skipped} skipped`,
    );
    return stats;
  } finally {
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
    options.signal?.removeEventListener("abort", onAbort);
  }
}
