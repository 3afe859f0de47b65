import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const CONFIG = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
  tasks: Record<string, string | { description?: string; command: string }>;
};

Deno.test("every task in deno.json has a description that `deno task` lists", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const listing = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  for (const [name, task] of Object.entries(CONFIG.tasks)) {
    assert.equal(typeof task, "object", `task ${name} uses the object form`);
    const description = typeof task === "object" ? task.description ?? "" : "";
    assert.ok(description.length > 10, `task ${name} has a description`);
    assert.ok(listing.includes(description), `deno task lists ${name}'s`);
  }
});

Deno.test("the check task's doc lint prints no wall of type-resolution warnings", async () => {
  const check = CONFIG.tasks["check"];
  const command = typeof check === "object" ? check.command : check ?? "";
  const docLint = command.split("&&").map((part) => part.trim())
    .find((part) => part.startsWith("deno doc"));
  assert.ok(docLint, "the check task runs deno doc --lint");
  const output = await new Deno.Command(Deno.execPath(), {
    args: docLint.split(/\s+/).slice(1),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  assert.doesNotMatch(text, /Failed resolving types/);
});

/** Reads the child's stderr until `pattern` matches (or 3 minutes pass). */
async function waitFor(
  reader: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
  seen: string[],
): Promise<RegExpExecArray> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const match = pattern.exec(seen.join(""));
    if (match) return match;
    const { value, done } = await reader.read();
    if (done) break;
    seen.push(value);
  }
  throw new Error(`No ${pattern} in: ${seen.join("")}`);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts `deno task dashboard` on a free port; returns it once it listens. */
async function startDashboard(): Promise<{
  port: number;
  stop(): Promise<string>;
}> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "dashboard"],
    cwd: ROOT,
    env: { NO_COLOR: "1", PORT: String(freePort()) },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const seen: string[] = [];
  const stop = async (): Promise<string> => {
    child.kill("SIGTERM");
    const status = await child.status;
    reader.releaseLock();
    await child.stderr.cancel().catch(() => {});
    assert.equal(status.code, 0, seen.join(""));
    return seen.join("");
  };
  try {
    const [, port] = await waitFor(
      reader,
      /Listening on http:\/\/localhost:(\d+)\/ \(bound to 127\.0\.0\.1\)/,
      seen,
    );
    return { port: Number(port), stop };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

Deno.test("deno task dashboard builds the demo, backfills months, weeks and days into .demo/history.db and serves on 127.0.0.1; a restart leaves one row per period", async () => {
  const { openHistoryStore } = await import(
    "../src/adapters/history/open_history_store.ts"
  );
  const today = Temporal.Now.plainDateISO("UTC");
  const thisMonth = today.toPlainYearMonth();
  const monday = today.subtract({ days: today.dayOfWeek - 1 });
  const expected: Record<string, string[]> = {
    month: Array.from(
      { length: 13 },
      (_, i) => thisMonth.subtract({ months: 13 - i }).toPlainDate({ day: 1 }),
    ).map(String),
    week: Array.from(
      { length: 13 },
      (_, i) => monday.subtract({ weeks: 13 - i }),
    ).map(String),
    day: Array.from({ length: 60 }, (_, i) => today.subtract({ days: 60 - i }))
      .map(String),
  };
  for (let start = 0; start < 2; start++) {
    const dashboard = await startDashboard();
    let lastMonth: number | null = null;
    try {
      const page = await fetch(`http://127.0.0.1:${dashboard.port}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>KPI dashboard<\/title>/);
      const live = await fetch(
        `http://127.0.0.1:${dashboard.port}/kpis/revenue?period=last_month`,
      );
      assert.equal(live.status, 200);
      const revenue = await live.json();
      lastMonth = revenue.value;
      // The demo's revenue has a target (its daily plan), so the card
      // draws a progress bar.
      assert.ok(revenue.target > 0, JSON.stringify(revenue));
      assert.ok(
        Math.abs(revenue.attainment - revenue.value / revenue.target) < 1e-9,
        JSON.stringify(revenue),
      );
    } finally {
      const log = await dashboard.stop();
      assert.match(log, /History: 91 rows \(7 KPIs × 13 months\)/);
      assert.match(log, /History: 420 rows \(7 KPIs × 60 days\)/);
    }
    const store = await openHistoryStore(`${ROOT}.demo/history.db`);
    try {
      const rows = await store.history("revenue", 5000);
      for (const [grain, starts] of Object.entries(expected)) {
        const inSpan = rows.filter((r) =>
          r.grain === grain && starts.includes(r.periodStart)
        );
        assert.deepEqual(
          inSpan.map((r) => r.periodStart).sort(),
          starts,
          `start ${start + 1}: one ${grain} row per period`,
        );
      }
      const month = rows.find((r) =>
        r.grain === "month" && r.periodStart === expected.month!.at(-1)
      );
      assert.ok(lastMonth !== null && lastMonth > 0);
      assert.equal(month?.value, lastMonth);
    } finally {
      await store.close();
    }
  }
});
