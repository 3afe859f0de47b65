/**
 * The dashboard in headless Chromium (Debian's `chromium` package, driven by
 * playwright-core): loads the page from a running server, checks the cards'
 * numbers against the API, switches periods, checks the phone layout and
 * saves screenshots at desktop and phone sizes to `tests/screenshots/` (and
 * to `docs/dashboard.png` with `UPDATE_SCREENSHOT=1`). Fails when Chromium
 * is missing.
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
  changes: { code: string; text: string; label: string; tone: string }[];
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
    label: c.querySelector(".code")?.textContent || "",
    tone: ["good", "bad", "flat"].find((t) => c.classList.contains(t)) || "",
  })),
  points: el.querySelector(".spark")?.dataset.points ?? null,
}))`;

async function readCards(page: Page): Promise<CardView[]> {
  return await page.evaluate(READ_CARDS) as CardView[];
}

const rangeStarts = (day: string): string => `#range[data-start="${day}"]`;

async function waitReady(page: Page): Promise<void> {
  await page.waitForSelector("body[data-state=ready]", { timeout: 30_000 });
}

Deno.test("the dashboard shows the API's numbers in one request, switches periods and is screenshotted at desktop and phone sizes", async () => {
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
    // The machine may be busy with other test runs: allow slow steps.
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    const external: string[] = [];
    const consoleErrors: string[] = [];
    const apiCalls: string[] = [];
    page.on("request", (request) => {
      const url = request.url();
      const path = new URL(url).pathname;
      if (path.endsWith(".json") || path.includes("/kpis")) {
        apiCalls.push(path);
      }
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
      // The project's one number formatter (formatValue), as the CLI prints.
      {
        revenue: "7,480 USD",
        orders: "64",
        refunds: "150 USD",
        aov: "116.88 USD",
        active_users: "1,275",
        refund_rate: "2.01%",
      },
    );
    // One request for the whole page (after the token prompt's retry).
    assert.deepEqual(
      [...new Set(apiCalls)],
      ["/dashboard.json"],
      "the page asks one route, not one per KPI",
    );
    const byName = Object.fromEntries(cards.map((c) => [c.name, c]));
    // 6,650 → 7,480 is +12.5%, good news; refunds 133 → 150 is bad news.
    assert.deepEqual(byName.revenue?.changes, [
      { code: "MoM", text: "▲ +12.5%", label: "vs Oct 2024", tone: "good" },
      { code: "YoY", text: "▲ +55.8%", label: "vs Nov 2023", tone: "good" },
    ]);
    assert.deepEqual(byName.refunds?.changes[0], {
      code: "MoM",
      text: "▲ +12.8%",
      label: "vs Oct 2024",
      tone: "bad",
    });
    assert.equal(byName.refunds?.status, "critical");
    assert.equal(
      await page.textContent(".card[data-kpi=refunds] .badge"),
      "Critical",
    );
    // Ten past months plus the one the page computed.
    assert.equal(byName.revenue?.points, "11");
    assert.equal(
      await page.$$eval(
        ".card[data-kpi=revenue] .spark polyline",
        (lines) => (lines[0]?.getAttribute("points") ?? "").split(" ").length,
      ),
      11,
    );
    assert.match(
      await page.textContent("#range") ?? "",
      /last_month · Nov 2024/,
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
    const quarter = now.find((c) => c.name === "revenue");
    assert.equal(quarter?.text, "20,200 USD");
    // On a quarter, "MoM" compares with the quarter shifted back a month.
    assert.equal(quarter?.changes[0]?.label, "vs Jun–Aug 2024");

    // A period typed by hand.
    await page.selectOption("#period-select", "custom");
    await page.fill("#period-custom", "2024-01");
    await page.click("#apply");
    await page.waitForSelector(rangeStarts("2024-01-01"));
    await waitReady(page);
    now = await readCards(page);
    const january = now.find((c) => c.name === "revenue");
    assert.equal(january?.text, "4,300 USD");
    assert.equal(january?.status, "warning");
    assert.match(
      await page.textContent(".card[data-kpi=revenue] .alerts") ?? "",
      /Revenue below \$5K/,
    );

    // A bad period: the server's message beside the picker, and the last
    // good view stays (cards, range and URL).
    await page.fill("#period-custom", "last_fortnight");
    await page.click("#apply");
    await page.waitForSelector("#period-error:not([hidden])");
    assert.match(
      await page.textContent("#period-error") ?? "",
      /Invalid query parameter "period".*last_fortnight/,
    );
    assert.equal(await page.isHidden("#banner"), true);
    assert.equal(
      (await readCards(page)).find((c) => c.name === "revenue")?.text,
      "4,300 USD",
    );
    assert.match(page.url(), /\?period=2024-01$/);
    assert.match(await page.textContent("#range") ?? "", /Jan 2024/);
    await page.screenshot({
      path: new URL("dashboard-bad-period.png", SHOTS).pathname,
    });

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
      "7,480 USD",
    );

    // The API reference renders /openapi.json with the same token.
    await page.goto(`${base}/docs`);
    await page.waitForSelector("#schema-KPIResult");
    assert.equal(await page.locator("section.op .method").count(), 10);
    assert.match(
      await page.textContent("#getKpiHistory") ?? "",
      /\/kpis\/\{name\}\/history/,
    );

    // Mounted under a prefix, the page calls the API under that prefix.
    // This engine keeps no history: the sparklines say what to do.
    const bare = makeEngine();
    const parent = new Hono();
    parent.mount("/kpi", createApp({ engine: bare, now: () => NOW }).fetch);
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
        "7,480 USD",
      );
      assert.match(
        await page.textContent(".card[data-kpi=revenue] .spark") ?? "",
        /No history yet: add audit_log: to the KPI file, or run deno task dashboard/,
      );
      await page.screenshot({
        path: new URL("dashboard-no-history.png", SHOTS).pathname,
      });
    } finally {
      await mounted.shutdown();
      await bare.close();
    }

    // A phone: a small header, the KPIs in alert first.
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: "en-US",
      timezoneId: "UTC",
      colorScheme: "light",
    });
    phone.setDefaultTimeout(30_000);
    const small = await phone.newPage();
    small.on("pageerror", (error) => consoleErrors.push(error.message));
    await small.goto(`${base}/?period=2024-11`);
    await small.waitForSelector("#token-dialog[open]");
    await small.fill("#token-input", TOKEN);
    await small.click("#token-form button[type=submit]");
    await waitReady(small);
    const header = await small.locator("header").boundingBox();
    assert.ok(header && header.height <= 140, `header ${header?.height}px`);
    const tops = await small.evaluate(
      `[...document.querySelectorAll(".card[data-kpi]")].map((card) => ({
        status: card.dataset.status || "",
        top: card.getBoundingClientRect().top,
      }))`,
    ) as { status: string; top: number }[];
    const firstShown = [...tops].sort((a, b) => a.top - b.top)[0];
    assert.equal(firstShown?.status, "critical", JSON.stringify(tops));
    const firstOk = Math.min(
      ...tops.filter((t) => t.status === "ok").map((t) => t.top),
    );
    for (const alerting of tops.filter((t) => t.status !== "ok")) {
      assert.ok(alerting.top < firstOk, JSON.stringify(tops));
    }
    await small.screenshot({
      path: new URL("dashboard-phone.png", SHOTS).pathname,
      fullPage: true,
    });
    await phone.close();

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
