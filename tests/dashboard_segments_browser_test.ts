/**
 * The dashboard's breakdown and drivers in headless Chromium: clicking a
 * card opens what explains its change and, for a KPI with dimensions, its
 * breakdown; a KPI without dimensions says why there is none. Saves a
 * screenshot to `tests/screenshots/dashboard_segments.png`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { serve } from "../src/adapters/runtime/serve/serve.ts";
import { KPIEngine } from "../src/engine/kpi_engine.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = new URL("./screenshots/", import.meta.url);
const NOW = Temporal.Instant.from("2024-12-15T12:00:00Z");

function orders(): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const day of ["2024-10-10", "2024-11-10"]) {
    for (const region of ["EU", "US", "APAC"]) {
      for (const channel of ["web", "ads"]) {
        let amount = 1000;
        if (day === "2024-11-10" && region === "EU") amount = 400;
        rows.push({ day, region, channel, amount });
      }
    }
  }
  return rows;
}

Deno.test("clicking a dashboard card opens its drivers and breakdown", async () => {
  assert.ok(
    await Deno.stat(CHROMIUM).then(() => true, () => false),
    `${CHROMIUM} is missing: install it with apt-get install -y chromium`,
  );
  const engine = new KPIEngine({
    kpis: [
      {
        name: "revenue",
        label: "Revenue",
        source: "dataframe",
        query: "orders.amount",
        aggregation: "sum",
        timeColumn: "day",
        unit: "USD",
        dimensions: ["region", "channel"],
        compare: ["MoM"],
      },
      {
        name: "orders",
        label: "Orders",
        source: "dataframe",
        query: "orders.amount",
        aggregation: "count",
        timeColumn: "day",
        compare: ["MoM"],
      },
    ],
    dataframes: { orders: orders() },
    now: () => NOW,
  });
  const stop = new AbortController();
  const server = serve({
    engine,
    now: () => NOW,
    port: 0,
    hostname: "127.0.0.1",
    signal: stop.signal,
    onListen: () => {},
    title: "Shop KPIs",
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  try {
    const context = await browser.newContext({
      viewport: { width: 1100, height: 900 },
      locale: "en-US",
      timezoneId: "UTC",
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}/?period=2024-11`);
    await page.waitForSelector("body[data-state=ready]", { timeout: 15_000 });

    await page.click('.card[data-kpi="revenue"]');
    await page.waitForSelector("#segments-dialog[open][data-state=ready]", {
      timeout: 15_000,
    });
    assert.equal(await page.textContent("#segments-title"), "Revenue");
    const drivers = await page.textContent("#segments-drivers") ?? "";
    assert.match(drivers, /Why it changed \(MoM\)/);
    // The numbers are the server's text, by the shared formatter.
    const api = await (await fetch(
      `${base}/kpis/revenue/drivers?period=2024-11`,
    )).json();
    assert.match(drivers, /region=EU/);
    assert.ok(drivers.includes(`(${api.text.change})`), api.text.change);
    assert.match(api.text.change, /^▼ -20\.0%$/);
    assert.ok(drivers.includes(api.text.drivers[0].contribution));
    assert.ok(drivers.includes(api.text.drivers[0].contributionPct));
    const breakdown = await page.textContent("#segments-breakdown") ?? "";
    assert.match(breakdown, /By region/);
    assert.match(breakdown, /By channel/);
    assert.equal(
      await page.locator("#segments-breakdown table").count(),
      2,
    );
    await Deno.mkdir(SHOTS, { recursive: true });
    await page.screenshot({
      path: new URL("dashboard_segments.png", SHOTS).pathname,
    });

    await page.click("#segments-close");
    await page.click('.card[data-kpi="orders"]');
    await page.waitForSelector("#segments-dialog[open][data-state=ready]");
    assert.match(
      await page.textContent("#segments-drivers") ?? "",
      /has no dimensions/,
    );
    assert.equal(await page.locator("#segments-breakdown").count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await browser.close();
    stop.abort();
    await server.finished;
    await engine.close();
  }
});
