/**
 * The dashboard in headless Chromium (Debian's `chromium` package, driven by
 * playwright-core): loads the page from a running server, checks the cards'
 * numbers against the API, switches periods and saves a screenshot to
 * `tests/screenshots/` (and to `docs/dashboard.png` with
 * `UPDATE_SCREENSHOT=1`). Fails when Chromium is missing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import type { Page } from "playwright-core";
import { Hono } from "hono";
import { serve } from "../src/adapters/runtime/serve/serve.ts";
import { createApp } from "../src/server/create_app.ts";
import { openSqliteClient } from "../src/adapters/sql/sqlite/sqlite_client.ts";
import type { KPIResult } from "../src/types.ts";
import { makeEngine, NOW, openCountingStore } from "./_server_fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "dashboard-token";
const SHOTS = new URL("./screenshots/", import.meta.url);

/** The text a card shows and its state, read from the page. */
interface CardView {
  name: string;
  value: string | null;
  text: string;
  status: string;
  changes: { code: string; text: string; tone: string }[];
  points: string | null;
}

/** Runs in the page (as text: these tests have no DOM types). */
const READ_CARDS =
  `[...document.querySelectorAll(".card[data-kpi]")].map((el) => ({
  name: el.dataset.kpi || "",
  value: el.dataset.value === undefined ? null : el.dataset.value,
  text: el.querySelector(".kpi-value")?.textContent || "",
  status: el.dataset.status || "",
  changes: [...el.querySelectorAll(".change")].map((c) => ({
    code: c.dataset.comparison || "",
    text: c.querySelector(".delta")?.textContent || "",
    tone: ["good", "bad", "flat"].find((t) => c.classList.contains(t)) || "",
  })),
  points: el.querySelector(".spark")?.dataset.points ?? null,
}))`;

async function readCards(page: Page): Promise<CardView[]> {
  return await page.evaluate(READ_CARDS) as CardView[];
}

const rangeStarts = (day: string): string => `#range[data-start="${day}"]`;

async function waitReady(page: Page): Promise<void> {
  await page.waitForSelector("body[data-state=ready]", { timeout: 15_000 });
}

Deno.test("the dashboard shows the API's numbers, switches periods and is screenshotted", async () => {
  const chromiumInstalled = await Deno.stat(CHROMIUM).then(
    () => true,
    () => false,
  );
  assert.ok(
    chromiumInstalled,
    `${CHROMIUM} is missing: install it with apt-get install -y chromium`,
  );

  const history = await openCountingStore();
  const sql = await openSqliteClient(":memory:");
  const engine = makeEngine({ history, sql });
  // Past runs for the sparklines.
  for (let month = 1; month <= 10; month++) {
    await engine.report(`2024-${String(month).padStart(2, "0")}`);
  }
  const stop = new AbortController();
  const server = serve({
    engine,
    token: TOKEN,
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
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 760 },
      locale: "en-US",
      timezoneId: "UTC",
      colorScheme: "light",
    });
    const page = await context.newPage();
    const external: string[] = [];
    const consoleErrors: string[] = [];
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith("http://127.0.0.1:") && !url.startsWith("data:")) {
        external.push(url);
      }
    });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(error.message));

    // The token is asked for once and kept for the tab.
    await page.goto(`${base}/`);
    await page.waitForSelector("#token-dialog[open]");
    await page.fill("#token-input", TOKEN);
    await page.click("#token-form button[type=submit]");
    await waitReady(page);
    assert.equal(
      await page.evaluate('sessionStorage.getItem("kpi-engine-token")'),
      TOKEN,
    );

    const api = await fetch(`${base}/kpis?period=last_month`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    const report = await api.json() as { results: KPIResult[] };
    const cards = await readCards(page);
    assert.deepEqual(
      cards.map((c) => c.name),
      report.results.map((r) => r.name),
    );
    for (const result of report.results) {
      const card = cards.find((c) => c.name === result.name);
      assert.ok(card);
      assert.equal(card.value, String(result.value), result.name);
      assert.equal(card.status, result.alertStatus, result.name);
    }
    assert.deepEqual(
      Object.fromEntries(cards.map((c) => [c.name, c.text])),
      {
        revenue: "$7,480",
        orders: "64",
        refunds: "$150",
        aov: "$117",
        active_users: "1,275",
        refund_rate: "2.01%",
      },
    );
    const byName = Object.fromEntries(cards.map((c) => [c.name, c]));
    // 6,650 → 7,480 is +12.5%, good news; refunds 133 → 150 is bad news.
    assert.deepEqual(byName.revenue?.changes, [
      { code: "MoM", text: "▲ 12.5%", tone: "good" },
      { code: "YoY", text: "▲ 55.8%", tone: "good" },
    ]);
    assert.deepEqual(byName.refunds?.changes[0], {
      code: "MoM",
      text: "▲ 12.8%",
      tone: "bad",
    });
    assert.equal(byName.refunds?.status, "critical");
    assert.equal(
      await page.textContent(".card[data-kpi=refunds] .badge"),
      "Critical",
    );
    // The trend of a month: the twelve months ending with it.
    assert.equal(byName.revenue?.points, "12");
    assert.equal(
      await page.$$eval(
        ".card[data-kpi=revenue] .spark polyline",
        (lines) => (lines[0]?.getAttribute("points") ?? "").split(" ").length,
      ),
      12,
    );
    const sparkTitle = () =>
      page.$eval(
        ".card[data-kpi=revenue] .spark svg title",
        (t) => t.textContent ?? "",
      );
    const monthLines = (await sparkTitle()).split("\n");
    assert.equal(monthLines.length, 12);
    assert.match(monthLines[0] ?? "", /^Dec 1 – Dec 31, 2023: /);
    assert.match(monthLines[11] ?? "", /^Nov 1 – Nov 30, 2024: /);
    assert.match(
      await page.textContent("#range") ?? "",
      /last_month · Nov 1 – Nov 30, 2024/,
    );
    assert.match(await page.textContent("#summary") ?? "", /6 KPIs/);
    assert.equal(await page.inputValue("#period-select"), "last_month");

    await Deno.mkdir(SHOTS, { recursive: true });
    await page.screenshot({
      path: new URL("dashboard.png", SHOTS).pathname,
      fullPage: true,
    });
    if (Deno.env.get("UPDATE_SCREENSHOT") === "1") {
      await page.screenshot({
        path: new URL("../docs/dashboard.png", import.meta.url).pathname,
        fullPage: true,
      });
    }

    // A preset period from the picker.
    await page.selectOption("#period-select", "last_quarter");
    await page.waitForSelector(rangeStarts("2024-07-01"));
    await waitReady(page);
    assert.match(page.url(), /\?period=last_quarter$/);
    let now = await readCards(page);
    assert.equal(now.find((c) => c.name === "revenue")?.text, "$20,200");
    assert.equal(
      await page.$eval(
        ".card[data-kpi=revenue] .spark",
        (e) =>
          (e as unknown as { dataset: Record<string, string> }).dataset.grain,
      ),
      "quarter",
    );
    assert.match(
      (await sparkTitle()).split("\n").at(-1) ?? "",
      /^Jul 1 – Sep 30, 2024: /,
    );

    // A period typed by hand.
    await page.selectOption("#period-select", "custom");
    await page.fill("#period-custom", "2024-01");
    await page.click("#apply");
    await page.waitForSelector(rangeStarts("2024-01-01"));
    await waitReady(page);
    now = await readCards(page);
    const january = now.find((c) => c.name === "revenue");
    assert.equal(january?.text, "$4,300");
    // After viewing a quarter, the monthly trend still shows only months.
    const afterQuarter = (await sparkTitle()).split("\n");
    assert.equal(afterQuarter.length, 12);
    for (const line of afterQuarter) {
      // A whole month: from its 1st to its last day, one month name.
      const m = /^([A-Z][a-z]{2}) 1 – ([A-Z][a-z]{2}) (28|29|30|31), \d{4}: /
        .exec(line);
      assert.ok(m && m[1] === m[2], `not a month: ${line}`);
    }
    assert.match(afterQuarter[11] ?? "", /^Jan 1 – Jan 31, 2024: /);
    assert.equal(january?.status, "warning");
    assert.match(
      await page.textContent(".card[data-kpi=revenue] .alerts") ?? "",
      /Revenue below \$5K/,
    );

    // A bad period shows the server's message.
    await page.fill("#period-custom", "last_fortnight");
    await page.click("#apply");
    await page.waitForSelector("#banner:not([hidden])");
    assert.match(
      await page.textContent("#banner") ?? "",
      /Invalid query parameter "period".*last_fortnight/,
    );

    // A KPI that fails is an error card; the others still show.
    await sql.close();
    await page.goto(`${base}/?period=2024-11`);
    await page.click("#refresh");
    await page.waitForSelector(".card.error[data-kpi=active_users]");
    await waitReady(page);
    assert.match(
      await page.textContent(".card[data-kpi=active_users] .error-text") ?? "",
      /\S/,
    );
    assert.equal(
      (await readCards(page)).find((c) => c.name === "revenue")?.text,
      "$7,480",
    );

    // The API reference renders /openapi.json with the same token.
    await page.goto(`${base}/docs`);
    await page.waitForSelector("#schema-KPIResult");
    const doc = await (await fetch(`${base}/openapi.json`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    })).json() as { paths: Record<string, Record<string, unknown>> };
    assert.equal(
      await page.locator("section.op .method").count(),
      Object.values(doc.paths).flatMap((ops) => Object.keys(ops)).length,
      "one section per operation",
    );
    assert.match(
      await page.textContent("#getKpiHistory") ?? "",
      /\/kpis\/\{name\}\/history/,
    );
    assert.match(
      await page.textContent("#getKpiSeries") ?? "",
      /\/kpis\/\{name\}\/series/,
    );

    // Mounted under a prefix, the page calls the API under that prefix.
    const parent = new Hono();
    parent.mount(
      "/kpi",
      createApp({ engine, now: () => NOW }).fetch,
    );
    const mounted = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      parent.fetch,
    );
    try {
      await page.goto(
        `http://127.0.0.1:${mounted.addr.port}/kpi?period=2024-11`,
      );
      await waitReady(page);
      assert.equal(
        (await readCards(page)).find((c) => c.name === "revenue")?.text,
        "$7,480",
      );
    } finally {
      await mounted.shutdown();
    }

    assert.deepEqual(external, [], "nothing is fetched from the internet");
    assert.deepEqual(
      consoleErrors.filter((e) => !/status of 40[01]/.test(e)),
      [],
    );
    await context.close();
  } finally {
    await browser.close();
    stop.abort();
    await server.finished;
    await engine.close();
  }
});
