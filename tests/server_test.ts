import assert from "node:assert/strict";
import { Hono } from "hono";
import { createApp } from "../src/server/create_app.ts";
import type {
  CreateAppOptions,
  ServerEngine,
} from "../src/server/create_app.ts";
import { openSqliteClient } from "../src/adapters/sql/sqlite/sqlite_client.ts";
import type { KPIResult } from "../src/types.ts";
import {
  KPIS,
  makeEngine,
  MONTHLY_REVENUE,
  NOW,
  openCountingStore,
  ordersTable,
} from "./_server_fixture.ts";

const TOKEN = "s3cret-token-\u00e9";
const AUTH = { Authorization: `Bearer ${TOKEN}` };

/** A real engine (dataframes, SQLite in memory, KV history) and its app. */
async function setup(options: Partial<CreateAppOptions> = {}) {
  const history = await openCountingStore();
  const sql = await openSqliteClient(":memory:");
  const orders = ordersTable();
  const engine = makeEngine({ history, sql, orders });
  let reports = 0;
  const counted: ServerEngine = {
    config: engine.config,
    definitions: engine.definitions,
    resolvePeriod: (text) => engine.resolvePeriod(text),
    report: (period, opts) => {
      reports++;
      return engine.report(period, opts);
    },
    history: (name, n) => engine.history(name, n),
    sqlClient: sql,
    historyStore: history,
  };
  const app = createApp({ engine: counted, now: () => NOW, ...options });
  return {
    app,
    engine,
    history,
    sql,
    orders,
    reports: () => reports,
    async [Symbol.asyncDispose]() {
      await engine.close();
    },
  };
}

/** A parsed JSON body, read freely by the assertions. */
// deno-lint-ignore no-explicit-any
type Json = any;

async function json(response: Response): Promise<Json> {
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  return await response.json();
}

Deno.test("GET /kpis?period=2024-11 answers {period, results} with every KPI", async () => {
  await using s = await setup();
  const response = await s.app.request("/kpis?period=2024-11");
  assert.equal(response.status, 200);
  const body = await json(response);
  assert.deepEqual(body.period, {
    label: "2024-11",
    start: "2024-11-01",
    end: "2024-12-01",
  });
  assert.deepEqual(
    body.results.map((r: KPIResult) => r.name),
    KPIS.map((k) => k.name),
  );
  const revenue = body.results[0] as KPIResult;
  assert.equal(revenue.value, MONTHLY_REVENUE["2024-11"]);
  assert.equal(
    revenue.comparisons.MoM?.previousValue,
    MONTHLY_REVENUE["2024-10"],
  );
  assert.equal(
    revenue.comparisons.YoY?.previousValue,
    MONTHLY_REVENUE["2023-11"],
  );
  assert.equal(body.results[4].value, 1275, "the SQL KPI runs on SQLite");
});

Deno.test("GET /kpis without a period computes last_month against the clock", async () => {
  await using s = await setup();
  const body = await json(await s.app.request("/kpis"));
  assert.deepEqual(body.period, {
    label: "last_month",
    start: "2024-11-01",
    end: "2024-12-01",
  });
});

Deno.test("GET /kpis/{name} answers one KPIResult of the contract's shape", async () => {
  await using s = await setup();
  const response = await s.app.request("/kpis/revenue?period=2024-11");
  assert.equal(response.status, 200);
  const result = await json(response) as KPIResult;
  assert.equal(result.name, "revenue");
  assert.equal(result.label, "Revenue");
  assert.equal(result.unit, "USD");
  assert.equal(result.value, 7480);
  assert.equal(result.periodStart, "2024-11-01");
  assert.equal(result.periodEnd, "2024-12-01");
  assert.equal(result.alertStatus, "ok");
  assert.equal(result.error, null);
  assert.equal(
    result.momChangePct,
    result.comparisons.MoM?.changePct,
  );
  const low = await json(await s.app.request("/kpis/revenue?period=2024-01"));
  assert.equal(low.alertStatus, "warning");
  assert.equal(low.alertsTriggered[0].message, "Revenue below $5K");
});

Deno.test("GET /kpis/{name} of an unknown KPI answers 404 naming it", async () => {
  await using s = await setup();
  for (
    const path of [
      "/kpis/nope",
      "/kpis/nope?period=2024-11",
      "/kpis/nope/history",
    ]
  ) {
    const response = await s.app.request(path);
    assert.equal(response.status, 404, path);
    const body = await json(response);
    assert.match(
      body.error,
      /Unknown KPI "nope": expected one of revenue, orders/,
    );
  }
  assert.equal(s.reports(), 0);
});

Deno.test("a bad period answers 400 naming the parameter and the accepted forms", async () => {
  await using s = await setup();
  for (
    const path of [
      "/kpis?period=last_fortnight",
      "/kpis/revenue?period=2024-13",
      "/kpis?period=",
      "/kpis?period=%20%20",
      `/kpis?period=${"x".repeat(200)}`,
    ]
  ) {
    const response = await s.app.request(path);
    assert.equal(response.status, 400, path);
    const body = await json(response);
    assert.match(body.error, /Invalid query parameter "period"/, path);
    assert.deepEqual(body.issues[0].path, ["period"]);
  }
  const body = await json(await s.app.request("/kpis?period=last_fortnight"));
  assert.match(body.error, /last_fortnight/);
  assert.match(body.error, /last_month/);
  assert.equal(s.reports(), 0);
});

Deno.test("a bad n or refresh answers 400 naming the parameter", async () => {
  await using s = await setup();
  for (const n of ["abc", "0", "-1", "1.5", "1001", "", "99999999"]) {
    const response = await s.app.request(`/kpis/revenue/history?n=${n}`);
    assert.equal(response.status, 400, `n=${n}`);
    const body = await json(response);
    assert.match(
      body.error,
      /Invalid query parameter "n": expected an integer from 1 to 1000/,
    );
    assert.deepEqual(body.issues[0].path, ["n"]);
  }
  const response = await s.app.request("/kpis?period=2024-11&refresh=maybe");
  assert.equal(response.status, 400);
  assert.match(
    (await json(response)).error,
    /"refresh": expected true or false, got "maybe"/,
  );
});

Deno.test("GET /kpis/{name}/history answers {name, results}, newest first, n at most", async () => {
  await using s = await setup({ record: true });
  for (const month of ["2024-08", "2024-09", "2024-10", "2024-11"]) {
    await s.app.request(`/kpis?period=${month}`);
  }
  const body = await json(await s.app.request("/kpis/revenue/history?n=3"));
  assert.equal(body.name, "revenue");
  assert.deepEqual(
    body.results.map((r: KPIResult) => [r.periodStart, r.value]),
    [
      ["2024-11-01", 7480],
      ["2024-10-01", 6650],
      ["2024-09-01", 7200],
    ],
  );
  const all = await json(await s.app.request("/kpis/revenue/history"));
  assert.equal(all.results.length, 4, "n defaults to 10");
});

Deno.test("with a token every route but /health answers 401 without it; the pages still come, to ask for it", async () => {
  await using s = await setup({ token: TOKEN });
  const guarded = [
    "/kpis",
    "/kpis?period=2024-11",
    "/kpis/revenue",
    "/kpis/nope",
    "/kpis/revenue/history",
    "/openapi.json",
    "/no-such-route",
  ];
  for (const path of guarded) {
    const missing = await s.app.request(path);
    assert.equal(missing.status, 401, path);
    assert.match((await json(missing)).error, /Missing bearer token/);
    assert.equal(
      missing.headers.get("www-authenticate"),
      'Bearer realm="kpi-engine"',
    );
    for (
      const header of [
        "Bearer wrong",
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Basic ${btoa("user:" + TOKEN)}`,
        TOKEN,
      ]
    ) {
      const wrong = await s.app.request(path, {
        headers: { Authorization: header },
      });
      assert.equal(wrong.status, 401, `${path} with ${header}`);
      const text = await wrong.text();
      assert.ok(!text.includes(TOKEN), "the token is never echoed");
    }
  }
  assert.equal(s.reports(), 0);
  assert.equal((await s.app.request("/health")).status, 200);
  for (const path of ["/", "/docs"]) {
    const page = await s.app.request(path);
    assert.equal(page.status, 401, path);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await page.text(), /sessionStorage/);
    const withToken = await s.app.request(path, { headers: AUTH });
    assert.equal(withToken.status, 200, path);
    await withToken.body?.cancel();
  }
  for (
    const [path, status] of [
      ["/kpis/revenue?period=2024-11", 200],
      ["/kpis", 200],
      ["/kpis/revenue/history", 200],
      ["/openapi.json", 200],
      ["/no-such-route", 404],
    ] as const
  ) {
    const response = await s.app.request(path, { headers: AUTH });
    assert.equal(response.status, status, path);
    await response.body?.cancel();
  }
  const lower = await s.app.request("/kpis/revenue?period=2024-11", {
    headers: { authorization: `bearer   ${TOKEN}` },
  });
  assert.equal(lower.status, 200, "the scheme is case-insensitive");
  await lower.body?.cancel();
});

Deno.test("without a token the routes are open", async () => {
  await using s = await setup({ token: "" });
  const response = await s.app.request("/kpis/orders?period=2024-11");
  assert.equal(response.status, 200);
  assert.equal((await json(response)).value, 64);
});

Deno.test("a closed period is computed once and recorded once (record: true); refresh=true recomputes", async () => {
  await using s = await setup({ record: true });
  const first = await s.app.request("/kpis/revenue?period=2024-11");
  assert.equal(first.headers.get("x-cache"), "MISS");
  assert.equal((await json(first)).value, 7480);
  assert.equal(s.reports(), 1);
  assert.equal(s.history.appended.length, 1);

  // The data changes behind the engine's back: a closed period keeps its
  // cached value until refresh=true.
  s.orders.amount = s.orders.amount.map((v) => v * 2);
  const second = await s.app.request("/kpis/revenue?period=2024-11");
  assert.equal(second.headers.get("x-cache"), "HIT");
  assert.equal((await json(second)).value, 7480);
  assert.equal(s.reports(), 1, "a hit does not compute");
  assert.equal(s.history.appended.length, 1, "a hit does not append history");

  const refreshed = await s.app.request(
    "/kpis/revenue?period=2024-11&refresh=true",
  );
  assert.equal(refreshed.headers.get("x-cache"), "REFRESH");
  assert.equal((await json(refreshed)).value, 14960);
  assert.equal(s.reports(), 2);
  assert.equal(s.history.appended.length, 2);

  const after = await s.app.request("/kpis/revenue?period=2024-11");
  assert.equal(after.headers.get("x-cache"), "HIT");
  assert.equal((await json(after)).value, 14960, "refresh replaced the entry");
});

Deno.test("the cache is keyed by period range and KPI set, not by label", async () => {
  await using s = await setup({ record: true });
  const all = await json(await s.app.request("/kpis?period=2024-11"));
  assert.equal(s.reports(), 1);
  assert.equal(s.history.appended.length, KPIS.length);
  // Same range, other label: a hit, answered with the label asked for.
  const again = await s.app.request("/kpis?period=last_month");
  assert.equal(again.headers.get("x-cache"), "HIT");
  const body = await json(again);
  assert.equal(body.period.label, "last_month");
  assert.deepEqual(body.results, all.results);
  // One KPI of a period whose whole set is cached: a hit too.
  const one = await s.app.request("/kpis/aov?period=2024-11-01..2024-11-30");
  assert.equal(one.headers.get("x-cache"), "HIT");
  assert.deepEqual(await json(one), all.results[3]);
  assert.equal(s.reports(), 1);
  // Another range is another entry.
  const october = await s.app.request("/kpis?period=2024-10");
  assert.equal(october.headers.get("x-cache"), "MISS");
  await october.body?.cancel();
  assert.equal(s.reports(), 2);
});

Deno.test("open periods are never cached", async () => {
  await using s = await setup();
  for (
    const period of ["this_month", "today", "2024-12", "2024-12-15", "2025"]
  ) {
    const a = await s.app.request(`/kpis/revenue?period=${period}`);
    const b = await s.app.request(`/kpis/revenue?period=${period}`);
    assert.equal(a.headers.get("x-cache"), "BYPASS", period);
    assert.equal(b.headers.get("x-cache"), "BYPASS", period);
    await a.body?.cancel();
    await b.body?.cancel();
  }
  assert.equal(s.reports(), 10);
  const before = await json(
    await s.app.request("/kpis/revenue?period=this_month"),
  );
  s.orders.amount = s.orders.amount.map((v) => v + 1);
  const after = await json(
    await s.app.request("/kpis/revenue?period=this_month"),
  );
  const december = ordersTable().order_date.filter((d) =>
    d >= "2024-12-01" && d <= "2024-12-15"
  );
  assert.equal(after.value, before.value + december.length);
  // The period that ended yesterday is closed.
  const yesterday = await s.app.request("/kpis/revenue?period=yesterday");
  assert.equal(yesterday.headers.get("x-cache"), "MISS");
  await yesterday.body?.cancel();
});

Deno.test("concurrent requests for an uncached closed period share one computation", async () => {
  await using s = await setup({ record: true });
  const responses = await Promise.all(
    Array.from(
      { length: 20 },
      () => s.app.request("/kpis/revenue?period=2024-06"),
    ),
  );
  for (const response of responses) {
    assert.equal(response.status, 200);
    assert.equal((await json(response)).value, 6300);
  }
  assert.equal(s.reports(), 1);
  assert.equal(s.history.appended.length, 1);
});

Deno.test("results with an error are not cached", async () => {
  await using s = await setup();
  await s.sql.close();
  const first = await json(await s.app.request("/kpis?period=2024-11"));
  assert.equal(first.results[4].alertStatus, "error");
  const second = await s.app.request("/kpis?period=2024-11");
  assert.equal(second.headers.get("x-cache"), "MISS");
  await second.body?.cancel();
  assert.equal(s.reports(), 2);
});

Deno.test("cache: false computes every request", async () => {
  await using s = await setup({ cache: false });
  const a = await s.app.request("/kpis/revenue?period=2024-11");
  const b = await s.app.request("/kpis/revenue?period=2024-11");
  assert.equal(a.headers.get("x-cache"), "BYPASS");
  assert.equal(b.headers.get("x-cache"), "BYPASS");
  await a.body?.cancel();
  await b.body?.cancel();
  assert.equal(s.reports(), 2);
});

Deno.test("requests are not recorded unless record=true asks: then the results are computed now and appended", async () => {
  await using s = await setup();
  const viewed = await s.app.request("/kpis?period=2024-11");
  await viewed.body?.cancel();
  assert.equal(s.history.appended.length, 0, "a page view is not recorded");
  assert.equal(s.reports(), 1);

  const one = await s.app.request("/kpis/revenue?period=2024-11&record=true");
  assert.equal((await json(one)).value, 7480);
  assert.equal(s.reports(), 2, "record=true computes although cached");
  assert.deepEqual(
    s.history.appended.map((r) => r.result.name),
    ["revenue"],
  );
  const all = await s.app.request("/kpis?period=2024-11&record=1");
  await all.body?.cancel();
  const kpiCount = s.engine.definitions.length;
  assert.equal(s.history.appended.length, 1 + kpiCount);

  const bad = await s.app.request("/kpis?period=2024-11&record=maybe");
  assert.equal(bad.status, 400);
  assert.match(JSON.stringify(await bad.json()), /record/);
});

Deno.test("record=true on a server that keeps no history answers 400 naming record, rather than dropping the results", async () => {
  const engine = makeEngine();
  try {
    const app = createApp({ engine, now: () => NOW });
    for (const url of ["/kpis", "/kpis/revenue"]) {
      const res = await app.request(`${url}?period=2024-11&record=true`);
      assert.equal(res.status, 400, url);
      const body = await json(res);
      assert.deepEqual(body.issues.map((i: Json) => i.path), [["record"]]);
      assert.match(body.error, /"record".*no history.*audit_log/);
    }
    const plain = await app.request("/kpis/revenue?period=2024-11&record=0");
    assert.equal(plain.status, 200);
    assert.equal((await json(plain)).value, 7480);
  } finally {
    await engine.close();
  }
});

Deno.test("a one-value parameter given twice answers 400 naming it, rather than reading the first", async () => {
  await using s = await setup();
  for (
    const [url, field] of [
      ["/kpis?period=2024-10&period=2024-11", "period"],
      ["/kpis/revenue?period=2024-11&refresh=true&refresh=false", "refresh"],
      ["/kpis/revenue/history?n=1&n=5", "n"],
    ] as const
  ) {
    const res = await s.app.request(url);
    assert.equal(res.status, 400, url);
    const body = await json(res);
    assert.deepEqual(body.issues.map((i: Json) => i.path), [[field]], url);
  }
  assert.equal(s.reports(), 0);
});

Deno.test("the cache keeps at most maxEntries and expires after ttlMs", async () => {
  let now = NOW;
  await using s = await setup({
    cache: { maxEntries: 2, ttlMs: 60_000 },
    now: () => now,
  });
  const get = async (period: string): Promise<string | null> => {
    const response = await s.app.request(`/kpis/orders?period=${period}`);
    await response.body?.cancel();
    return response.headers.get("x-cache");
  };
  assert.equal(await get("2024-09"), "MISS");
  assert.equal(await get("2024-10"), "MISS");
  assert.equal(await get("2024-09"), "HIT");
  assert.equal(await get("2024-11"), "MISS"); // evicts 2024-10
  assert.equal(await get("2024-10"), "MISS");
  now = now.add({ minutes: 2 });
  assert.equal(await get("2024-10"), "MISS", "expired");
  assert.throws(
    () => createApp({ engine: s.engine, cache: { maxEntries: 0 } }),
    RangeError,
  );
});

Deno.test("GET /health reports the database and history store", async () => {
  await using s = await setup({ token: TOKEN, healthCacheMs: 0 });
  const ok = await s.app.request("/health");
  assert.equal(ok.status, 200);
  const body = await json(ok);
  assert.equal(body.status, "ok");
  assert.equal(body.checks.database.status, "ok");
  assert.equal(body.checks.history.status, "ok");
  assert.equal(typeof body.checks.database.latencyMs, "number");

  await s.sql.close();
  const down = await s.app.request("/health");
  assert.equal(down.status, 503);
  const downBody = await json(down);
  assert.equal(downBody.status, "degraded");
  assert.equal(downBody.checks.database.status, "error");
  assert.equal(
    downBody.checks.database.error,
    undefined,
    "no details without the token",
  );
  const detailed = await json(
    await s.app.request("/health", { headers: AUTH }),
  );
  assert.equal(typeof detailed.checks.database.error, "string");
});

Deno.test("GET /health says not_configured without a database or store, and times out slow checks", async () => {
  const engine = makeEngine();
  const app = createApp({ engine });
  const body = await json(await app.request("/health"));
  assert.deepEqual(body, {
    status: "ok",
    checks: {
      database: { status: "not_configured", latencyMs: 0 },
      history: { status: "not_configured", latencyMs: 0 },
    },
  });
  let release = (): void => {};
  const slow = createApp({
    engine,
    healthTimeoutMs: 20,
    checks: { history: () => new Promise((resolve) => release = resolve) },
  });
  const response = await slow.request("/health");
  assert.equal(response.status, 503);
  assert.match(
    (await json(response)).checks.history.error,
    /No answer within 20 ms/,
  );
  release();
});

Deno.test("an unexpected failure answers 500 JSON without details and is reported", async () => {
  const engine = makeEngine();
  const errors: unknown[] = [];
  const app = createApp({
    engine: {
      ...engine,
      config: engine.config,
      definitions: engine.definitions,
      resolvePeriod: (text) => engine.resolvePeriod(text),
      report: () =>
        Promise.reject(new Error("connection to db.internal:5432 refused")),
      history: () => Promise.reject(new TypeError("boom")),
    },
    onError: (error) => errors.push(error),
  });
  for (
    const path of [
      "/kpis?period=2024-11",
      "/kpis/revenue",
      "/kpis/revenue/history",
    ]
  ) {
    const response = await app.request(path);
    assert.equal(response.status, 500, path);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), { error: "Internal server error" });
    assert.ok(
      !text.includes("db.internal") && !text.includes("at "),
      "no details leak",
    );
  }
  assert.equal(errors.length, 3);
});

Deno.test("the app mounts under a prefix in another Hono app", async () => {
  await using s = await setup({ token: TOKEN });
  const parent = new Hono();
  parent.mount("/kpi", s.app.fetch);
  const response = await parent.request("/kpi/kpis/orders?period=2024-11", {
    headers: AUTH,
  });
  assert.equal(response.status, 200);
  assert.equal((await json(response)).value, 64);
  const page = await parent.request("/kpi", { headers: AUTH });
  assert.equal(page.status, 200);
  await page.body?.cancel();
});

Deno.test("unknown routes and methods answer 404 JSON", async () => {
  await using s = await setup();
  const cases: [string, string][] = [
    ["GET", "/nope"],
    ["POST", "/kpis"],
    ["DELETE", "/kpis/revenue"],
  ];
  for (const [method, path] of cases) {
    const response = await s.app.request(path, { method });
    assert.equal(response.status, 404, `${method} ${path}`);
    assert.match((await json(response)).error, /Not found/);
  }
});

Deno.test("GET /openapi.json is OpenAPI 3.1 describing every route and the KPIResult fields", async () => {
  await using s = await setup({ token: TOKEN });
  const doc = await json(
    await s.app.request("/openapi.json", { headers: AUTH }),
  );
  assert.equal(doc.openapi, "3.1.0");
  assert.deepEqual(Object.keys(doc.paths).sort(), [
    "/",
    "/dashboard.json",
    "/docs",
    "/health",
    "/kpis",
    "/kpis/{name}",
    "/kpis/{name}/breakdown",
    "/kpis/{name}/drivers",
    "/kpis/{name}/history",
    "/kpis/{name}/series",
    "/mcp",
    "/openapi.json",
    "/schema/kpis.json",
  ]);
  assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
  assert.deepEqual(doc.paths["/health"].get.security, []);
  assert.deepEqual(
    doc.components.parameters.name.schema.enum,
    KPIS.map((k) => k.name),
  );
  const result = await json(
    await s.app.request("/kpis/revenue?period=2024-11", { headers: AUTH }),
  );
  const schema = doc.components.schemas.KPIResult;
  for (const key of Object.keys(result)) {
    assert.ok(key in schema.properties, `KPIResult.${key} is described`);
  }
  for (const key of schema.required) {
    assert.ok(key in result, `${key} is present`);
  }
  const comparison = doc.components.schemas.ComparisonResult;
  assert.deepEqual(
    Object.keys(result.comparisons.MoM).sort(),
    [...comparison.required].sort(),
  );
  // Every $ref resolves.
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
  for (const ref of refs) {
    const path = ref.slice(8, -1).replace(/^#\//, "").split("/");
    const target = path.reduce((o: Json, k) => o?.[k], doc);
    assert.ok(target, `${ref} resolves`);
  }
});

Deno.test("GET /docs and GET / are self-contained pages under a nonce CSP", async () => {
  await using s = await setup();
  for (const path of ["/docs", "/"]) {
    const response = await s.app.request(path);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /text\/html/);
    const csp = response.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    const html = await response.text();
    assert.ok(html.includes(`<script nonce="${nonce}">`));
    assert.ok(html.includes(`<style nonce="${nonce}">`));
    const urls = html.match(/https?:\/\/[^\s"')]+/g) ?? [];
    assert.deepEqual(
      urls.filter((u) => !u.startsWith("http://www.w3.org/2000/svg")),
      [],
      `${path} loads nothing from the internet`,
    );
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)="(?!data:)/);
  }
  const a = (await s.app.request("/")).headers.get("content-security-policy");
  const b = (await s.app.request("/")).headers.get("content-security-policy");
  assert.notEqual(a, b, "a fresh nonce per response");
  const docs = await (await s.app.request("/docs")).text();
  assert.match(docs, /fetch\(BASE \+ "openapi\.json"/);
});
