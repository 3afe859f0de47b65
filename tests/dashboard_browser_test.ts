/**
 * The dashboard in headless Chromium (Debian's `chromium` package, driven by
 * playwright-core), at desktop and phone sizes in one browser session:
 * loads the page from a running server, checks that each view makes one
 * request and shows the numbers `/dashboard.json` wrote, the comparisons'
 * labels, the target's progress bar, the sparklines of the viewed grain,
 * the inline error of a bad period, the empty-history hint and the phone
 * layout, and saves screenshots to a temporary directory. Fails when
 * Chromium is missing.
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
import type { KPIDefinition } from "../src/types.ts";
import { KPIS, makeEngine, NOW, openCountingStore } from "./_server_fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "dashboard-token";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/**
 * Revenue with a target for November and December 2024; active users with
 * a target read from a table the database does not have.
 */
const WITH_TARGET: KPIDefinition[] = KPIS.map((k) =>
  k.name === "revenue"
    ? {
      ...k,
      target: { "2024-11": 8000, "2024-12": 7000 },
      pace: { minElapsed: 0.6 },
    }
    : k.name === "active_users"
    ? {
      ...k,
      target: {
        query:
          "SELECT users FROM monthly_targets WHERE month = '{{ period_start }}'",
      },
    }
    : k
);

/** The text a card shows and its state, read from the page. */
interface CardView {
  name: string;
  value: string | null;
  text: string;
  status: string;
  changes: { code: string; text: string; label: string; tone: string }[];
  points: string | null;
  grain: string | null;
  source: string | null;
  top: number;
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
  grain: el.querySelector(".spark")?.dataset.grain ?? null,
  source: el.querySelector(".spark")?.dataset.source ?? null,
  top: el.getBoundingClientRect().top,
}))`;

async function readCards(page: Page): Promise<CardView[]> {
  return await page.evaluate(READ_CARDS) as CardView[];
}

const rangeStarts = (day: string): string => `#range[data-start="${day}"]`;

async function waitReady(page: Page): Promise<void> {
  await page.waitForSelector("body[data-state=ready]", { timeout: 15_000 });
}

/** The lines of a card's sparkline title (one per point). */
async function sparkLines(page: Page, kpi: string): Promise<string[]> {
  const text = await page.$eval(
    `.card[data-kpi=${kpi}] .spark svg > title`,
    (t) => t.textContent ?? "",
  );
  return text.split("\n");
}

Deno.test("the dashboard: one request per view, the server's numbers, targets, trends of the viewed grain, at desktop and phone sizes", async () => {
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
  const engine = makeEngine({ history, sql, kpis: WITH_TARGET });
  // Twelve months recorded, and quarters beside them: a monthly trend
  // must read only the months.
  for (let m = 0; m < 12; m++) {
    await engine.report(
      Temporal.PlainYearMonth.from("2023-12").add({ months: m }).toString(),
    );
  }
  await engine.report("2024-Q2");
  await engine.report("2024-Q3");
  const bare = makeEngine();
  const shots = await Deno.makeTempDir({ prefix: "kpi-dashboard-shots-" });
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
  const apiGet = async (path: string): Promise<Json> =>
    await (await fetch(`${base}${path}`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    })).json();
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
    const apiCalls: string[] = [];
    const consoleErrors: string[] = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.protocol === "data:") return;
      if (url.hostname !== "127.0.0.1") external.push(url.href);
      else if (url.pathname !== "/" && url.pathname !== "/kpi") {
        apiCalls.push(url.pathname + url.search);
      }
    });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(error.message));

    /** Checks the cards against what /dashboard.json wrote for the period. */
    const expectView = async (period: string): Promise<Json> => {
      const data = await apiGet(
        `/dashboard.json?period=${encodeURIComponent(period)}`,
      );
      const cards = await readCards(page);
      assert.deepEqual(
        cards.map((c) => c.name),
        data.results.map((r: Json) => r.name),
      );
      for (const result of data.results) {
        const card = cards.find((c) => c.name === result.name);
        assert.ok(card, result.name);
        const shown = data.display[result.name];
        if (result.error) continue;
        assert.equal(card.text, shown.value, result.name);
        assert.equal(card.value, String(result.value), result.name);
        assert.equal(card.status, result.alertStatus, result.name);
        for (const change of card.changes) {
          assert.equal(change.text, shown.comparisons[change.code].change);
          assert.equal(change.label, shown.comparisons[change.code].label);
          assert.doesNotMatch(change.label, /^(DoD|WoW|MoM|QoQ|YoY)$/);
        }
        assert.equal(card.grain, data.trend.grain, result.name);
        assert.equal(
          card.points,
          String(data.trend.points[result.name].length),
          result.name,
        );
      }
      return data;
    };

    // ---- Desktop: the token is asked for once and kept for the tab.
    await page.goto(`${base}/`);
    await page.waitForSelector("#token-dialog[open]");
    await page.fill("#token-input", TOKEN);
    await page.click("#token-form button[type=submit]");
    await waitReady(page);
    assert.equal(
      await page.evaluate('sessionStorage.getItem("kpi-engine-token")'),
      TOKEN,
    );
    // One request for the whole view (the first, without the token, was refused).
    assert.deepEqual(apiCalls, [
      "/dashboard.json?period=last_month",
      "/dashboard.json?period=last_month",
    ]);
    await expectView("last_month");
    let cards = await readCards(page);
    const byName = Object.fromEntries(cards.map((c) => [c.name, c]));
    assert.equal(byName.revenue?.text, "7,480 USD");
    assert.equal(byName.refund_rate?.text, "2.01%");
    // 6,650 → 7,480 is +12.5%, good news; refunds 133 → 150 is bad news.
    assert.deepEqual(byName.revenue?.changes, [
      { code: "MoM", text: "▲ +12.5%", label: "vs Oct", tone: "good" },
      { code: "YoY", text: "▲ +55.8%", label: "vs Nov 2023", tone: "good" },
    ]);
    assert.equal(byName.refunds?.changes[0]?.tone, "bad");
    assert.equal(
      await page.textContent(".card[data-kpi=refunds] .badge"),
      "Critical",
    );
    // The target: 7,480 of 8,000, a closed month (no projection).
    const target = ".card[data-kpi=revenue] .target";
    assert.match(
      await page.textContent(`${target} .line`) ?? "",
      /^7,480 USD of 8,000 USD target · 93\.5%$/,
    );
    assert.equal(
      await page.$eval(`${target} .fill`, (e) => e.getAttribute("style")),
      "width: 93.5%;",
    );
    // A target that could not be read: the card says why, without a bar.
    const lastMonth = await apiGet("/dashboard.json?period=last_month");
    const usersNote = lastMonth.results
      .find((r: Json) => r.name === "active_users").targetNote;
    assert.match(usersNote, /^The target query failed: .*monthly_targets/);
    assert.equal(
      await page.textContent(".card[data-kpi=active_users] .target-note"),
      usersNote,
    );
    assert.equal(
      await page.locator(".card[data-kpi=active_users] .target").count(),
      0,
    );
    assert.equal(await page.locator(`${target} .mark`).count(), 0);
    assert.equal(
      await page.locator(".card[data-kpi=orders] .target").count(),
      0,
    );
    // The trend of a month: the twelve months ending with it, from history.
    assert.equal(byName.revenue?.source, "history");
    let lines = await sparkLines(page, "revenue");
    assert.equal(lines.length, 12);
    assert.equal(lines[0], "Dec 2023: 5,100 USD");
    assert.equal(lines[11], "Nov 2024: 7,480 USD");
    // A point's period and value on hover.
    await page.hover(
      '.card[data-kpi=revenue] .spark rect.hit[data-start="2024-06-01"]',
    );
    assert.equal(
      await page.textContent(".card[data-kpi=revenue] .spark-readout"),
      "Jun 2024: 6,300 USD",
    );
    assert.match(
      await page.textContent("#range") ?? "",
      /last_month · Nov 2024/,
    );
    assert.equal(await page.isHidden("#hint"), true, "history is kept");
    assert.match(await page.textContent("#summary") ?? "", /6 KPIs/);
    await page.screenshot({ path: `${shots}/desktop.png`, fullPage: true });

    // A preset period from the picker: a quarter, its quarters.
    apiCalls.length = 0;
    await page.selectOption("#period-select", "last_quarter");
    await page.waitForSelector(rangeStarts("2024-07-01"));
    await waitReady(page);
    assert.deepEqual(apiCalls, ["/dashboard.json?period=last_quarter"]);
    assert.match(page.url(), /\?period=last_quarter$/);
    await expectView("last_quarter");
    cards = await readCards(page);
    assert.equal(cards.find((c) => c.name === "revenue")?.text, "20,200 USD");
    lines = await sparkLines(page, "revenue");
    assert.equal(lines.at(-1), "Jul–Sep 2024: 20,200 USD");
    for (const line of lines) assert.match(line, /^[A-Z][a-z]{2}–[A-Z]/);

    // A period typed by hand: after the quarter, the monthly trend shows
    // only months.
    await page.selectOption("#period-select", "custom");
    await page.fill("#period-custom", "2024-01");
    await page.click("#apply");
    await page.waitForSelector(rangeStarts("2024-01-01"));
    await waitReady(page);
    await expectView("2024-01");
    lines = await sparkLines(page, "revenue");
    assert.equal(lines.length, 12);
    for (const line of lines) {
      assert.match(line, /^[A-Z][a-z]{2} \d{4}: /, `not a month: ${line}`);
    }
    assert.equal(lines[11], "Jan 2024: 4,300 USD");
    cards = await readCards(page);
    assert.equal(cards.find((c) => c.name === "revenue")?.status, "warning");
    assert.match(
      await page.textContent(".card[data-kpi=revenue] .alerts") ?? "",
      /Revenue below \$5K/,
    );

    // A bad period: an inline error under the picker, the last view kept.
    await page.fill("#period-custom", "last_fortnight");
    await page.click("#apply");
    await page.waitForSelector("#period-error:not([hidden])");
    await page.waitForSelector("body[data-state=invalid]");
    assert.match(
      await page.textContent("#period-error") ?? "",
      /Invalid query parameter "period".*last_fortnight/,
    );
    assert.equal(await page.isHidden("#banner"), true);
    assert.match(page.url(), /\?period=2024-01$/);
    assert.equal(
      (await readCards(page)).find((c) => c.name === "revenue")?.text,
      "4,300 USD",
    );

    // A link with a bad period: the error under the picker, and the
    // default period's view below it rather than an empty page.
    await page.goto(`${base}/?period=last_fortnight`);
    await page.waitForSelector("body[data-state=invalid]");
    assert.match(
      await page.textContent("#period-error") ?? "",
      /Invalid query parameter "period".*last_fortnight/,
    );
    assert.equal(await page.inputValue("#period-custom"), "last_fortnight");
    await page.waitForSelector(rangeStarts("2024-11-01"));
    assert.equal(
      (await readCards(page)).find((c) => c.name === "revenue")?.text,
      "7,480 USD",
    );
    assert.match(page.url(), /\?period=last_month$/);

    // Early in the month: the projection is marked an estimate.
    await page.selectOption("#period-select", "this_month");
    await page.waitForSelector(rangeStarts("2024-12-01"));
    await waitReady(page);
    assert.equal(await page.isHidden("#period-error"), true);
    assert.equal(await page.textContent(`${target} .estimate`), "estimate");
    assert.equal(await page.locator(`${target} .mark`).count(), 1);
    assert.equal(await page.locator(`${target} .due`).count(), 1);
    assert.match(await page.textContent(`${target} .line`) ?? "", /projected/);
    await page.screenshot({ path: `${shots}/target.png`, fullPage: true });

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
    const doc = await apiGet("/openapi.json");
    assert.equal(
      await page.locator("section.op .method").count(),
      Object.values(doc.paths as Record<string, Json>)
        .flatMap((ops) => Object.keys(ops)).length,
      "one section per operation",
    );
    assert.match(
      await page.textContent("#getDashboard") ?? "",
      /\/dashboard\.json/,
    );
    // On a phone the reference fits the screen: no cell runs off its right
    // edge, so every description can be read without scrolling sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(`(() => {
      const width = document.documentElement.clientWidth;
      const cells = [...document.querySelectorAll("td, th")]
        .filter((cell) => cell.getBoundingClientRect().width > 0);
      return {
        page: document.documentElement.scrollWidth - width,
        cells: cells.filter((cell) =>
          cell.getBoundingClientRect().right > width + 1).length,
        total: cells.length,
      };
    })()`) as { page: number; cells: number; total: number };
    assert.ok(overflow.total > 0);
    assert.deepEqual({ page: overflow.page, cells: overflow.cells }, {
      page: 0,
      cells: 0,
    });
    await page.screenshot({ path: `${shots}/docs-phone.png` });
    await page.setViewportSize({ width: 1280, height: 760 });

    // Mounted under a prefix, on an engine that keeps no history: the
    // page calls the API under that prefix and says how to keep history.
    const parent = new Hono();
    parent.mount("/kpi", createApp({ engine: bare, now: () => NOW }).fetch);
    const mounted = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      parent.fetch,
    );
    try {
      apiCalls.length = 0;
      await page.goto(
        `http://127.0.0.1:${mounted.addr.port}/kpi?period=2024-11`,
      );
      await waitReady(page);
      assert.deepEqual(apiCalls, ["/kpi/dashboard.json?period=2024-11"]);
      const shown = await readCards(page);
      assert.equal(shown.find((c) => c.name === "revenue")?.text, "7,480 USD");
      assert.equal(shown.find((c) => c.name === "revenue")?.source, "computed");
      const hint = await page.textContent("#hint") ?? "";
      assert.match(hint, /No history yet/);
      assert.match(hint, /audit_log:/);
      assert.match(hint, /deno task dashboard/);
      await page.screenshot({ path: `${shots}/no-history.png` });
    } finally {
      await mounted.shutdown();
    }
    await context.close();

    // ---- Phone: a small header, the KPIs in alert first.
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: "en-US",
      timezoneId: "UTC",
      colorScheme: "light",
    });
    await phone.addInitScript(
      `sessionStorage.setItem("kpi-engine-token", ${JSON.stringify(TOKEN)})`,
    );
    const small = await phone.newPage();
    small.on("pageerror", (error) => consoleErrors.push(error.message));
    await small.goto(`${base}/?period=2024-01`);
    await waitReady(small);
    const header = await small.$eval(
      "header",
      (h) => h.getBoundingClientRect().height,
    );
    assert.ok(header <= 120, `the header takes ${header}px of 844`);
    const onPhone = (await readCards(small)).sort((a, b) => a.top - b.top);
    const rank = (s: string) =>
      s === "critical" || s === "error" ? 0 : s === "warning" ? 1 : 2;
    assert.deepEqual(
      onPhone.map((c) => rank(c.status)),
      onPhone.map((c) => rank(c.status)).sort(),
      "cards in alert come first",
    );
    assert.notEqual(onPhone[0]?.status, "ok");
    assert.equal(
      await small.evaluate(
        'getComputedStyle(document.querySelector(".grid")).gridTemplateColumns.split(" ").length',
      ),
      1,
      "one column",
    );
    await small.screenshot({ path: `${shots}/phone.png`, fullPage: true });
    await phone.close();

    for (const name of ["desktop", "target", "no-history", "phone"]) {
      assert.ok((await Deno.stat(`${shots}/${name}.png`)).size > 10_000, name);
    }
    assert.deepEqual(external, [], "nothing is fetched from the internet");
    assert.deepEqual(
      consoleErrors.filter((e) => !/status of 40[01]/.test(e)),
      [],
    );
  } finally {
    await browser.close();
    stop.abort();
    await server.finished;
    await engine.close();
    await bare.close();
  }
});
