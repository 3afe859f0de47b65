/**
 * `deno task dashboard`: the demo shop on the dashboard, with a year of
 * history for the sparklines. Builds `.demo/shop.db` if needed, keeps
 * history in `.demo/history.db` (filled with the last twelve months on the
 * first start) and serves `kpis.example.yaml` on http://localhost:8000/
 * through the same set-up as `server.ts`.
 *
 * @module
 */

import { resolve } from "node:path";
import { ensureDemoDatabase } from "./build_demo_database.ts";
import { serverSettings } from "../serve/server_settings.ts";
import { listenUntilSignal, prepareServer } from "../serve/prepare_server.ts";

/** Months of history written on the first start. */
const MONTHS = 12;

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
  const first = engine.definitions[0]?.name;
  if (first !== undefined && (await engine.history(first, 1)).length === 0) {
    log(`Writing ${MONTHS} months of history to .demo/history.db ...`);
    let month = Temporal.Now.plainDateISO("UTC").toPlainYearMonth();
    const months: string[] = [];
    for (let i = 0; i < MONTHS; i++) {
      month = month.subtract({ months: 1 });
      months.unshift(month.toString());
    }
    for (const label of months) {
      await engine.report(label, { alerts: false });
    }
  }
  await listenUntilSignal(server, { log });
}
