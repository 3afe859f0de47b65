/**
 * A writer process for the concurrency tests: opens the history store named
 * by its first argument and appends `count` results of KPI `load`, `batch`
 * per append, plus one delivery and one alert state per append. Prints the
 * instants of its first and last append as JSON.
 *
 * Usage: deno run -A tests/_history_writer.ts TARGET WRITER COUNT BATCH SYNC_DIR
 *
 * Once its store is open it writes `SYNC_DIR/ready-WRITER` and waits for
 * `SYNC_DIR/go`, so that all writers start appending together. After its
 * first append it writes `SYNC_DIR/started-WRITER` and waits until every
 * ready writer has made its first append too, so that the writers' spans
 * overlap even when the machine is too busy to start them at once.
 *
 * @module
 */

import { openHistoryStore } from "../src/adapters/history/open_history_store.ts";
import type { HistoryRecord } from "../src/types.ts";

const [target, writerText, countText, batchText, syncDir] = Deno.args;
const writer = Number(writerText);
const count = Number(countText);
const batch = Number(batchText);

const store = await openHistoryStore(target!);
await Deno.writeTextFile(`${syncDir}/ready-${writer}`, "");
for (;;) {
  try {
    await Deno.stat(`${syncDir}/go`);
    break;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
/** Waits until as many writers have appended once as were ready. */
async function awaitEveryFirstAppend(): Promise<void> {
  for (;;) {
    let ready = 0;
    let started = 0;
    for await (const entry of Deno.readDir(syncDir!)) {
      if (entry.name.startsWith("ready-")) ready++;
      if (entry.name.startsWith("started-")) started++;
    }
    if (started >= ready) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let first = 0;
let last = 0;
for (let i = 0; i < count; i += batch) {
  const records: HistoryRecord[] = [];
  for (let j = i; j < Math.min(count, i + batch); j++) {
    records.push({
      runId: `w${writer}-${j}`,
      runAt: new Date(Date.UTC(2024, 0, 1, 0, 0, j)).toISOString(),
      periodLabel: "2024-11",
      result: {
        name: "load",
        label: `Load, "writer" ${writer}`,
        unit: null,
        value: writer * 100_000 + j + 0.5,
        periodStart: "2024-11-01",
        periodEnd: "2024-12-01",
        comparisons: {},
        momChangePct: null,
        yoyChangePct: null,
        alertStatus: "ok",
        alertsTriggered: [],
        queryDurationMs: j,
        error: j % 7 === 0 ? `line one\nline two of ${j}` : null,
        note: null,
      },
    });
  }
  if (first === 0) first = Date.now();
  await store.append(records);
  await store.appendDeliveries([{
    runId: `w${writer}-${i}`,
    at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
    kpi: "load",
    rule: "warning:> 1",
    status: "firing",
    delivery: {
      channel: `w${writer}`,
      ok: true,
      status: 200,
      attempts: 1,
      error: null,
    },
  }]);
  await store.putAlertState({
    kpi: "load",
    rule: `writer-${writer}`,
    status: "firing",
    severity: "warning",
    periodStart: "2024-11-01",
    periodEnd: "2024-12-01",
    channels: [`w${writer}`],
    firstFiredAt: "2024-12-01T00:00:00.000Z",
    lastSentAt: new Date(Date.UTC(2024, 11, 1, 0, 0, i)).toISOString(),
  });
  if (i === 0) {
    await Deno.writeTextFile(`${syncDir}/started-${writer}`, "");
    await awaitEveryFirstAppend();
    // Later appends fall on a later millisecond than every first one.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  last = Date.now();
}
await store.close();
console.log(JSON.stringify({ first, last }));
