import assert from "node:assert/strict";
import type { Hono } from "hono";
import { z } from "zod";
import { createApp } from "../src/server/create_app.ts";
import { openApiDocument } from "../src/server/open_api_document.ts";
import { API_ROUTES } from "../src/server/_api_routes.ts";
import { openSqliteClient } from "../src/adapters/sql/sqlite/sqlite_client.ts";
import { KPIS, makeEngine, NOW } from "./_server_fixture.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

Deno.test("openApiDocument() lists each route's query parameters from the zod schema that validates it", () => {
  const doc = openApiDocument({ kpiNames: ["revenue"], secured: true });
  assert.deepEqual(
    Object.keys(doc.paths).sort(),
    [...new Set(API_ROUTES.map((r) => r.path))].sort(),
  );
  for (const route of API_ROUTES) {
    const op = (doc.paths[route.path] as Json)[route.method];
    const names = (op.parameters ?? [])
      .filter((p: Json) => p.in === "query")
      .map((p: Json) => p.name);
    assert.deepEqual(
      names,
      Object.keys(route.query?.shape ?? {}),
      `${route.path}: one parameter per field of its query schema`,
    );
    for (
      const p of (op.parameters ?? []).filter((p: Json) => p.in === "query")
    ) {
      const field = route.query?.shape[p.name] as z.ZodType;
      const expected = z.toJSONSchema(field, {
        io: "output",
        unrepresentable: "any",
      }) as Json;
      assert.equal(p.schema.type, expected.type, `${route.path} ${p.name}`);
    }
    assert.equal(
      "401" in op.responses,
      route.public !== true,
      `${route.path}: 401 only behind the token`,
    );
  }
});

Deno.test("the bounds /openapi.json gives for n are the ones requests are held to", async () => {
  const engine = makeEngine();
  const app = createApp({ engine, now: () => NOW });
  try {
    const doc = await (await app.request("/openapi.json")).json();
    const n = doc.paths["/kpis/{name}/history"].get.parameters
      .find((p: Json) => p.name === "n").schema;
    assert.equal(n.type, "integer");
    const at = async (value: number): Promise<number> => {
      const r = await app.request(`/kpis/revenue/history?n=${value}`);
      await r.body?.cancel();
      return r.status;
    };
    assert.equal(await at(n.maximum), 200);
    assert.equal(await at(n.maximum + 1), 400);
    assert.equal(await at(n.minimum), 200);
    assert.equal(await at(n.minimum - 1), 400);
    const refresh = doc.paths["/kpis"].get.parameters
      .find((p: Json) => p.name === "refresh").schema;
    assert.equal(refresh.type, "boolean");
    const kpiResult = doc.components.schemas.KPIResult;
    assert.deepEqual(kpiResult.properties.value.type, ["number", "null"]);
    assert.equal(kpiResult.properties.comparisons.required, undefined);
  } finally {
    await engine.close();
  }
});

Deno.test("/openapi.json describes targetNote, which a result carries when its target cannot be read", async () => {
  const sql = await openSqliteClient(":memory:");
  const engine = makeEngine({
    sql,
    kpis: KPIS.map((k) =>
      k.name === "active_users"
        ? { ...k, target: { query: "SELECT users FROM monthly_targets" } }
        : k
    ),
  });
  const app = createApp({ engine, now: () => NOW });
  try {
    const doc = await (await app.request("/openapi.json")).json();
    const result = await (await app.request(
      "/kpis/active_users?period=2024-11",
    )).json();
    assert.match(result.targetNote, /^The target query failed: /);
    const schema = doc.components.schemas.KPIResult;
    for (const key of Object.keys(result)) {
      assert.ok(key in schema.properties, `KPIResult.${key} is described`);
    }
    assert.equal(schema.properties.targetNote.type, "string");
    assert.match(schema.properties.targetNote.description, /target/);
    assert.ok(!schema.required.includes("targetNote"));
  } finally {
    await engine.close();
  }
});

Deno.test("every answer carries Hono's secure headers; pages get a fresh CSP nonce", async () => {
  const engine = makeEngine();
  const app = createApp({ engine, now: () => NOW, token: "t" });
  try {
    for (const path of ["/health", "/kpis", "/", "/nope"]) {
      const response = await app.request(path);
      await response.body?.cancel();
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.equal(response.headers.get("x-frame-options"), "SAMEORIGIN");
      assert.equal(response.headers.get("referrer-policy"), "no-referrer");
      assert.equal(
        response.headers.get("cross-origin-opener-policy"),
        "same-origin",
      );
    }
    const page = await app.request("/");
    assert.equal(page.status, 401, "the page comes, asking for the token");
    const csp = page.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce);
    assert.ok((await page.text()).includes(`<script nonce="${nonce}">`));
  } finally {
    await engine.close();
  }
});

Deno.test("/openapi.json lists exactly the routes the app answers, method by method", async () => {
  const engine = makeEngine();
  const app = createApp({ engine, now: () => NOW });
  try {
    const doc = await (await app.request("/openapi.json")).json();
    const documented = Object.entries(doc.paths as Record<string, Json>)
      .flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)
      )
      .sort();
    // The app's own table, middleware ("ALL *") left out, `:name` written
    // as OpenAPI writes it.
    const served = [
      ...new Set(
        (app as unknown as Hono).routes
          .filter((r) => r.method !== "ALL")
          .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
      ),
    ].sort();
    assert.deepEqual(documented, served);
    for (
      const path of [
        "/kpis/{name}/series",
        "/kpis/{name}/breakdown",
        "/kpis/{name}/drivers",
        "/mcp",
        "/schema/kpis.json",
      ]
    ) assert.ok(path in doc.paths, path);
  } finally {
    await engine.close();
  }
});

Deno.test("the series parameters /openapi.json gives are the ones requests are held to", async () => {
  const engine = makeEngine();
  const app = createApp({ engine, now: () => NOW });
  try {
    const doc = await (await app.request("/openapi.json")).json();
    const params = doc.paths["/kpis/{name}/series"].get.parameters;
    const grain = params.find((p: Json) => p.name === "grain");
    assert.equal(grain.required, true);
    const last = params.find((p: Json) => p.name === "last").schema;
    const at = async (query: string): Promise<number> => {
      const r = await app.request(`/kpis/revenue/series?${query}`);
      await r.body?.cancel();
      return r.status;
    };
    for (const g of grain.schema.enum) {
      assert.equal(await at(`grain=${g}&to=2024-11&last=2`), 200, g);
    }
    assert.equal(await at("grain=fortnight"), 400);
    assert.equal(
      await at(`grain=month&to=2024-11&last=${last.maximum + 1}`),
      400,
    );
    assert.equal(await at("last=3"), 400, "grain is required");
  } finally {
    await engine.close();
  }
});

Deno.test("GET and DELETE /mcp answer what /openapi.json says: 405, POST allowed", async () => {
  const engine = makeEngine();
  const app = createApp({ engine, now: () => NOW });
  try {
    const doc = await (await app.request("/openapi.json")).json();
    for (const method of ["GET", "DELETE"]) {
      const documented = Object.keys(
        doc.paths["/mcp"][method.toLowerCase()].responses,
      );
      const response = await app.request("/mcp", {
        method,
        headers: { accept: "application/json, text/event-stream" },
      });
      assert.deepEqual(documented, [String(response.status)], method);
      assert.equal(response.headers.get("allow"), "POST");
      assert.equal((await response.json()).error.code, -32000);
    }
  } finally {
    await engine.close();
  }
});

Deno.test("/openapi.json says which routes answer 401 without the token, as the app does", async () => {
  const engine = makeEngine();
  const secured = createApp({ engine, now: () => NOW, token: "t" });
  const open = createApp({ engine, now: () => NOW });
  try {
    const doc = await (await secured.request("/openapi.json", {
      headers: { authorization: "Bearer t" },
    })).json();
    const plain = await (await open.request("/openapi.json")).json();
    let checked = 0;
    for (
      const [path, ops] of Object.entries(doc.paths as Record<string, Json>)
    ) {
      if (path.includes("{") || ops.get === undefined) continue;
      const response = await secured.request(path);
      await response.body?.cancel();
      assert.equal(
        response.status === 401,
        "401" in ops.get.responses,
        `GET ${path} answered ${response.status}`,
      );
      assert.equal(
        "401" in (plain.paths[path] as Json).get.responses,
        false,
        `GET ${path}: no 401 listed without a token`,
      );
      checked++;
    }
    assert.ok(checked >= 6, `${checked} routes checked`);
    const page = doc.paths["/"].get;
    assert.equal(page.security, undefined, "the dashboard is behind the token");
    assert.ok(page.responses["401"].content["text/html"]);
  } finally {
    await engine.close();
  }
});
