import assert from "node:assert/strict";
import { join } from "node:path";
import { scheduleRuns } from "../src/adapters/runtime/cron/schedule_runs.ts";
import type {
  CronRegistrar,
  ScheduledReport,
  ScheduledRuns,
  ScheduleEngine,
  SchedulerClock,
  SkipInfo,
} from "../src/adapters/runtime/cron/schedule_runs.ts";
import type { AlertBatch, AlertNotifier } from "../src/types.ts";
import { makeEngine, openCountingStore } from "./_server_fixture.ts";

/** A clock whose timers fire only when the test moves time forward. */
class FakeClock implements SchedulerClock {
  #t: number;
  #id = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  /** Every delay asked for, in order. */
  readonly delays: number[] = [];

  constructor(start: string) {
    this.#t = Temporal.Instant.from(start).epochMilliseconds;
  }

  now = (): Temporal.Instant => Temporal.Instant.fromEpochMilliseconds(this.#t);

  setTimer = (fn: () => void, delayMs: number): unknown => {
    const id = ++this.#id;
    this.delays.push(delayMs);
    this.#timers.set(id, { at: this.#t + delayMs, fn });
    return id;
  };

  clearTimer = (handle: unknown): void => {
    this.#timers.delete(handle as number);
  };

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves to `iso`, firing due timers in order; waits for runs in between. */
  async advanceTo(iso: string, runs?: ScheduledRuns): Promise<void> {
    const target = Temporal.Instant.from(iso).epochMilliseconds;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) {
          next = entry;
        }
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#t = next[1].at;
      next[1].fn();
      await settle(runs);
    }
    this.#t = target;
  }
}

/** Lets promise chains and in-memory I/O finish; waits while a run goes. */
async function settle(runs?: ScheduledRuns): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  while (runs?.stats().running) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A notifier that keeps the batches it is handed. */
function recordingNotifier(): AlertNotifier & { batches: AlertBatch[] } {
  const batches: AlertBatch[] = [];
  return {
    batches,
    notify: (batch) => {
      batches.push(batch);
      return Promise.resolve([]);
    },
  };
}

const wall = (instant: string, zone: string): string =>
  Temporal.Instant.from(instant).toZonedDateTimeISO(zone).toString({
    timeZoneName: "never",
  });

/** A schedule over a real engine (Toronto time) with history and alerts. */
async function torontoSchedule(cron: string, start: string) {
  const clock = new FakeClock(start);
  const history = await openCountingStore();
  const notifier = recordingNotifier();
  const engine = makeEngine({
    history,
    notifier,
    now: clock.now,
    timezone: "America/Toronto",
  });
  const reports: ScheduledReport[] = [];
  const runs = scheduleRuns(engine, {
    cron,
    period: "yesterday",
    kpis: ["revenue", "refunds"],
    clock,
    onResult: (report) => void reports.push(report),
  });
  return { clock, history, notifier, engine, runs, reports };
}

Deno.test("scheduleRuns() fires 0 2 * * * in America/Toronto at 03:00 EDT on the spring-forward day", async () => {
  const s = await torontoSchedule("0 2 * * *", "2024-03-08T12:00:00Z");
  try {
    assert.equal(s.runs.mode, "timer");
    assert.equal(s.runs.timezone, "America/Toronto");
    assert.equal(s.runs.nextRun()?.toString(), "2024-03-09T07:00:00Z");
    await s.clock.advanceTo("2024-03-12T12:00:00Z", s.runs);
    const fired = [...new Set(s.history.appended.map((r) => r.runAt))];
    assert.deepEqual(fired, [
      "2024-03-09T07:00:00Z",
      "2024-03-10T07:00:00Z",
      "2024-03-11T06:00:00Z",
      "2024-03-12T06:00:00Z",
    ]);
    assert.deepEqual(fired.map((at) => wall(at, "America/Toronto")), [
      "2024-03-09T02:00:00-05:00",
      "2024-03-10T03:00:00-04:00", // 02:00 does not exist that day
      "2024-03-11T02:00:00-04:00",
      "2024-03-12T02:00:00-04:00",
    ]);
    // Every run recorded history and handed alerts to the notifier.
    assert.equal(s.history.appended.length, 4 * 2);
    assert.equal(s.notifier.batches.length, 4);
    assert.deepEqual(
      s.reports.map((r) => r.period.start),
      ["2024-03-08", "2024-03-09", "2024-03-10", "2024-03-11"],
    );
    assert.deepEqual(s.runs.stats(), {
      started: 4,
      completed: 4,
      failed: 0,
      skipped: 0,
      running: false,
      lastStartedAt: "2024-03-12T06:00:00Z",
      lastError: null,
    });
  } finally {
    await s.runs.stop();
    await s.engine.close();
  }
});

Deno.test("scheduleRuns() fires 30 1 * * * once on the fall-back day, at 01:30 EDT", async () => {
  const s = await torontoSchedule("30 1 * * *", "2024-11-01T12:00:00Z");
  try {
    await s.clock.advanceTo("2024-11-05T12:00:00Z", s.runs);
    const fired = [...new Set(s.history.appended.map((r) => r.runAt))];
    assert.deepEqual(fired.map((at) => wall(at, "America/Toronto")), [
      "2024-11-02T01:30:00-04:00",
      "2024-11-03T01:30:00-04:00", // not again at 01:30 EST
      "2024-11-04T01:30:00-05:00",
      "2024-11-05T01:30:00-05:00",
    ]);
    assert.equal(s.notifier.batches.length, 4);
  } finally {
    await s.runs.stop();
    await s.engine.close();
  }
});

Deno.test("scheduleRuns() fires an hourly schedule once in the repeated hour of the fall-back day", async () => {
  const s = await torontoSchedule("0 * * * *", "2024-11-03T03:30:00Z");
  try {
    await s.clock.advanceTo("2024-11-03T09:30:00Z", s.runs);
    const fired = [...new Set(s.history.appended.map((r) => r.runAt))];
    assert.deepEqual(fired.map((at) => wall(at, "America/Toronto")), [
      "2024-11-03T00:00:00-04:00",
      "2024-11-03T01:00:00-04:00",
      "2024-11-03T02:00:00-05:00",
      "2024-11-03T03:00:00-05:00",
      "2024-11-03T04:00:00-05:00",
    ]);
  } finally {
    await s.runs.stop();
    await s.engine.close();
  }
});

/** An engine whose runs wait until the test releases them. */
function gatedEngine() {
  const started: string[] = [];
  const gates: (() => void)[] = [];
  let fail: Error | null = null;
  const engine: ScheduleEngine = {
    config: { timezone: "UTC" },
    report: async (period = "last_month") => {
      started.push(period);
      await new Promise<void>((resolve) => gates.push(resolve));
      if (fail) throw fail;
      return { period: { label: period, start: "", end: "" }, results: [] };
    },
  };
  return {
    engine,
    started,
    release: () => gates.shift()?.(),
    failNext: (error: Error) => fail = error,
  };
}

Deno.test("scheduleRuns() skips a fire while the previous run is still going and says so", async () => {
  const clock = new FakeClock("2024-05-01T00:00:00Z");
  const gated = gatedEngine();
  const skips: SkipInfo[] = [];
  const runs = scheduleRuns(gated.engine, {
    cron: "*/5 * * * *",
    clock,
    onSkip: (skip) => skips.push(skip),
  });
  await clock.advanceTo("2024-05-01T00:05:00Z");
  await settle();
  assert.equal(gated.started.length, 1);
  assert.equal(runs.stats().running, true);
  await clock.advanceTo("2024-05-01T00:17:00Z");
  await settle();
  assert.equal(gated.started.length, 1, "no second run while the first goes");
  assert.deepEqual(
    skips.map((s) => [s.scheduledAt.toString(), s.runningSince.toString()]),
    [
      ["2024-05-01T00:10:00Z", "2024-05-01T00:05:00Z"],
      ["2024-05-01T00:15:00Z", "2024-05-01T00:05:00Z"],
    ],
  );
  gated.release();
  await settle();
  assert.equal(runs.stats().running, false);
  assert.equal(runs.nextRun()?.toString(), "2024-05-01T00:20:00Z");
  await clock.advanceTo("2024-05-01T00:20:00Z");
  await settle();
  assert.equal(gated.started.length, 2, "runs again once the first finished");
  gated.release();
  const stats = await runs.stop();
  assert.equal(stats.started, 2);
  assert.equal(stats.completed, 2);
  assert.equal(stats.skipped, 2);
});

Deno.test("stop() resolves only after the run in flight finishes, and nothing fires after", async () => {
  const clock = new FakeClock("2024-05-01T00:00:00Z");
  const gated = gatedEngine();
  const runs = scheduleRuns(gated.engine, { cron: "* * * * *", clock });
  await clock.advanceTo("2024-05-01T00:01:00Z");
  await settle();
  assert.equal(runs.stats().running, true);
  let stopped = false;
  const stopping = runs.stop().then((stats) => {
    stopped = true;
    return stats;
  });
  await settle();
  await settle();
  assert.equal(stopped, false, "still waiting for the run in flight");
  assert.equal(clock.pending, 0, "no timer left");
  assert.equal(runs.nextRun(), null);
  gated.release();
  const stats = await stopping;
  assert.equal(stopped, true);
  assert.equal(stats.completed, 1);
  assert.equal(stats.running, false);
  await clock.advanceTo("2024-05-01T01:00:00Z");
  assert.equal(gated.started.length, 1, "nothing fires after stop()");
});

Deno.test("an AbortSignal stops the schedule like stop()", async () => {
  const clock = new FakeClock("2024-05-01T00:00:00Z");
  const gated = gatedEngine();
  const abort = new AbortController();
  const runs = scheduleRuns(gated.engine, {
    cron: "* * * * *",
    clock,
    signal: abort.signal,
  });
  assert.equal(clock.pending, 1);
  abort.abort();
  assert.equal(clock.pending, 0);
  assert.equal(runs.nextRun(), null);
  await runs.stop();
});

Deno.test("a failed run is counted and reported, and the schedule goes on", async () => {
  const clock = new FakeClock("2024-05-01T00:00:00Z");
  const gated = gatedEngine();
  const errors: string[] = [];
  const runs = scheduleRuns(gated.engine, {
    cron: "0 * * * *",
    clock,
    onError: (error, fire) =>
      errors.push(`${fire.scheduledAt}: ${(error as Error).message}`),
  });
  gated.failNext(new Error("database is down"));
  await clock.advanceTo("2024-05-01T01:00:00Z");
  gated.release();
  await settle(runs);
  assert.deepEqual(errors, ["2024-05-01T01:00:00Z: database is down"]);
  assert.equal(runs.stats().failed, 1);
  assert.equal(runs.stats().lastError, "database is down");
  assert.equal(runs.nextRun()?.toString(), "2024-05-01T02:00:00Z");
  await runs.stop();
});

Deno.test("a timer that fires hours late runs once and goes on from the next fire after now", async () => {
  let now = Temporal.Instant.from("2024-05-01T00:00:00Z");
  const callbacks: (() => void)[] = [];
  const gated = gatedEngine();
  const fires: string[] = [];
  const runs = scheduleRuns(gated.engine, {
    cron: "0 * * * *",
    onResult: (_report, fire) => void fires.push(fire.scheduledAt.toString()),
    clock: {
      now: () => now,
      setTimer: (callback) => callbacks.push(callback),
      clearTimer: () => {},
    },
  });
  // The machine slept: the 01:00 timer fires at 03:30.
  now = Temporal.Instant.from("2024-05-01T03:30:00Z");
  callbacks.shift()?.();
  gated.release();
  await settle(runs);
  assert.deepEqual(fires, ["2024-05-01T01:00:00Z"]);
  assert.equal(runs.stats().started, 1);
  assert.equal(runs.nextRun()?.toString(), "2024-05-01T04:00:00Z");
  await runs.stop();
});

Deno.test("a long wait is re-armed in steps setTimeout can hold", async () => {
  const clock = new FakeClock("2024-01-01T00:00:00Z");
  const gated = gatedEngine();
  const runs = scheduleRuns(gated.engine, { cron: "0 0 1 1 *", clock });
  assert.equal(runs.nextRun()?.toString(), "2025-01-01T00:00:00Z");
  await clock.advanceTo("2024-12-31T23:59:59Z");
  assert.equal(gated.started.length, 0);
  assert.ok(clock.delays.every((d) => d <= 2 ** 31 - 1));
  assert.ok(clock.delays.length > 1);
  await clock.advanceTo("2025-01-01T00:00:00Z");
  await settle();
  assert.equal(gated.started.length, 1);
  gated.release();
  await runs.stop();
});

/** A stand-in for Deno.cron that lets the test call the handler. */
function fakeDenoCron() {
  const calls: {
    name: string;
    schedule: string;
    signal: AbortSignal | undefined;
    handler: () => Promise<void> | void;
  }[] = [];
  const registrar: CronRegistrar = (name, schedule, options, handler) => {
    calls.push({ name, schedule, signal: options.signal, handler });
    return new Promise<void>((resolve) =>
      options.signal?.addEventListener("abort", () => resolve())
    );
  };
  return { calls, registrar };
}

Deno.test("scheduleRuns() uses Deno.cron for a UTC five-field schedule and reports fires it skipped", async () => {
  const clock = new FakeClock("2024-05-01T05:59:00Z");
  const gated = gatedEngine();
  const cron = fakeDenoCron();
  const skips: string[] = [];
  const runs = scheduleRuns(gated.engine, {
    cron: "*/10 * * * *",
    timezone: "UTC",
    period: "yesterday",
    clock,
    denoCron: cron.registrar,
    onSkip: (skip) => skips.push(skip.scheduledAt.toString()),
  });
  assert.equal(runs.mode, "deno_cron");
  assert.equal(clock.pending, 0, "no timer of its own");
  assert.equal(cron.calls.length, 1);
  const [call] = cron.calls;
  assert.ok(call);
  assert.equal(call.schedule, "*/10 * * * *");
  assert.match(call.name, /^[A-Za-z0-9 _-]{1,64}$/);
  assert.equal(runs.nextRun()?.toString(), "2024-05-01T06:00:00Z");

  await clock.advanceTo("2024-05-01T06:00:00.250Z");
  const handled = call.handler();
  await settle();
  assert.deepEqual(gated.started, ["yesterday"]);
  await clock.advanceTo("2024-05-01T06:25:00Z");
  gated.release();
  await handled;
  assert.deepEqual(skips, ["2024-05-01T06:10:00Z", "2024-05-01T06:20:00Z"]);
  const stats = await runs.stop();
  assert.equal(call.signal?.aborted, true);
  assert.equal(stats.completed, 1);
  assert.equal(stats.skipped, 2);
});

Deno.test("scheduleRuns() keeps the timer loop when Deno.cron cannot honour the schedule", async () => {
  const cron = fakeDenoCron();
  const gated = gatedEngine();
  for (
    const options of [
      { cron: "0 6 * * *", timezone: "Europe/Paris" },
      { cron: "0 6 * * *", timezone: "UTC", useDenoCron: false },
      { cron: "30 0 6 * * *", timezone: "UTC" },
      { cron: "@daily", timezone: "UTC" },
    ]
  ) {
    const clock = new FakeClock("2024-05-01T00:00:00Z");
    const runs = scheduleRuns(gated.engine, {
      ...options,
      clock,
      denoCron: cron.registrar,
    });
    assert.equal(runs.mode, "timer", JSON.stringify(options));
    assert.equal(clock.pending, 1);
    await runs.stop();
  }
  assert.equal(cron.calls.length, 0);
});

Deno.test("scheduleRuns() registers with the real Deno.cron and stops cleanly", async () => {
  const gated = gatedEngine();
  const runs = scheduleRuns(gated.engine, {
    cron: "0 0 1 1 *",
    timezone: "UTC",
    denoCron: Deno.cron,
    name: "kpi-engine schedule test",
  });
  assert.equal(runs.mode, "deno_cron");
  const stats = await runs.stop();
  assert.equal(stats.started, 0);
});

Deno.test("scheduleRuns() rejects a bad cron expression or time zone with RangeError", () => {
  const gated = gatedEngine();
  assert.throws(
    () => scheduleRuns(gated.engine, { cron: "61 * * * *" }),
    (error: unknown) =>
      error instanceof RangeError &&
      /Cannot schedule "61 \* \* \* \*" in "UTC".*expected five cron fields/
        .test(error.message),
  );
  assert.throws(
    () =>
      scheduleRuns(gated.engine, {
        cron: "0 6 * * *",
        timezone: "Mars/Olympus",
      }),
    /Cannot schedule "0 6 \* \* \*" in "Mars\/Olympus"/,
  );
});

Deno.test("runScheduleUntilSignal() stops on SIGTERM after the run in flight finishes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kpi_schedule_" });
  try {
    const moduleUrl = new URL(
      "../src/adapters/runtime/cron/run_schedule_until_signal.ts",
      import.meta.url,
    ).href;
    const script = join(dir, "schedule_child.ts");
    await Deno.writeTextFile(
      script,
      `import { runScheduleUntilSignal } from ${JSON.stringify(moduleUrl)};
const engine = {
  report: async (period = "last_month") => {
    console.log("run started");
    // In flight until the test says so (a line on stdin), after the signal.
    await Deno.stdin.read(new Uint8Array(16));
    console.log("run finished");
    return { period: { label: period, start: "2024-11-01", end: "2024-12-01" }, results: [] };
  },
};
const stats = await runScheduleUntilSignal(engine, { cron: "* * * * * *", period: "2024-11" });
console.log("stats " + JSON.stringify(stats));
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-check",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        script,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    const errors = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    let out = "";
    let stderr = "";
    while (!out.includes("run started")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    if (!out.includes("run started")) {
      for (;;) {
        const { value, done } = await errors.read();
        if (done) break;
        stderr += value;
      }
      await child.status;
      assert.fail(`The child did not start a run: ${out}${stderr}`);
    }
    child.kill("SIGTERM");
    // The run is still in flight when the signal is taken: only then let it
    // finish.
    while (!/Received SIGTERM/.test(stderr)) {
      const { value, done } = await errors.read();
      if (done) break;
      stderr += value;
    }
    const stdin = child.stdin.getWriter();
    await stdin.write(new TextEncoder().encode("go\n"));
    await stdin.close();
    const drain = async (
      from: ReadableStreamDefaultReader<string>,
      add: (text: string) => void,
    ) => {
      for (;;) {
        const { value, done } = await from.read();
        if (done) return;
        add(value);
      }
    };
    const [status] = await Promise.all([
      child.status,
      drain(reader, (text) => out += text),
      drain(errors, (text) => stderr += text),
    ]);
    assert.equal(status.code, 0, stderr);
    assert.ok(
      out.indexOf("run finished") < out.indexOf("stats "),
      "the run in flight finished before the schedule stopped",
    );
    const stats = JSON.parse(out.slice(out.indexOf("stats ") + 6));
    assert.equal(stats.started, 1);
    assert.equal(stats.completed, 1);
    assert.match(stderr, /Scheduled "\* \* \* \* \* \*" \(UTC, timer\)/);
    assert.match(stderr, /Received SIGTERM: waiting for the run in flight/);
    assert.match(stderr, /Ran 2024-11 \(2024-11-01\.\.2024-12-01\)/);
    assert.match(stderr, /Stopped after 1 run\(s\): 1 completed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
