/**
 * `deno task dashboard`: the demo shop on the dashboard, with history for
 * the sparklines. Builds `.demo/shop.db` if needed (it is rebuilt each day,
 * ending today), backfills `.demo/history.db` with the last 13 whole months,
 * 13 whole weeks and 60 whole days of every KPI (`engine.backfill`: one
 * series query per table and grain, rows replaced, so a restart leaves one
 * row per KPI, grain and period), then serves `kpis.example.yaml` on
 * http://localhost:8000/ through the same set-up as `server.ts`.
 *
 * `PORT` and `HOST` choose where it listens (127.0.0.1 unless told);
 * `KPI_API_TOKEN` requires a bearer token, as for `server.ts`.
 *
 * @module
 */

import { resolve } from "node:path";
import type { KPIEngine } from "../../../engine/kpi_engine.ts";
import type { Grain } from "../../../series/series_buckets.ts";
import { ensureDemoDatabase } from "./build_demo_database.ts";
import { serverSettings } from "../serve/server_settings.ts";
import { listenUntilSignal, prepareServer } from "../serve/prepare_server.ts";

/** What is backfilled: whole buckets ending with the last whole one. */
const BACKFILL: readonly { grain: Grain; to: string; last: number }[] = [
  { grain: "month", to: "last_month", last: 13 },
  { grain: "week", to: "last_week", last: 13 },
  { grain: "day", to: "yesterday", last: 60 },
];

async function backfillDemo(
  engine: KPIEngine,
  log: (line: string) => void,
): Promise<void> {
  for (const { grain, to, last } of BACKFILL) {
    const started = performance.now();
    const summary = await engine.backfill([], { grain, to, last });
    log(
      `History: ${summary.written} rows (${summary.kpis.length} KPIs × ${summary.periods} ${grain}s) in ${
        Math.round(performance.now() - started)
      } ms`,
    );
  }
}

if (import.meta.main) {
  const log = (line: string): void =>
    void Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
  const root = resolve(new URL(".", import.meta.url).pathname, "../../../..");
  await ensureDemoDatabase(resolve(root, ".demo/shop.db"), {
    log: (text) => log(text.trimEnd()),
  });
  const server = prepareServer(
    serverSettings(
      { config: resolve(root, "kpis.example.yaml") },
      {
        PORT: Deno.env.get("PORT"),
        HOST: Deno.env.get("HOST"),
        KPI_API_TOKEN: Deno.env.get("KPI_API_TOKEN"),
      },
    ),
    { auditLog: resolve(root, ".demo/history.db"), log },
  );
  const { engine } = await server.ready;
  log("Backfilling .demo/history.db ...");
  await backfillDemo(engine, log);
  await listenUntilSignal(server, { log });
}
