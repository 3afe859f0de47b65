/**
 * The document routes: `/openapi.json` (generated once per app from the
 * route table), `/schema/kpis.json`, `/docs` and the dashboard at `/`,
 * each page with the CSP nonce of its response.
 *
 * @module
 */

import type { Hono } from "hono";
import { openApiDocument } from "./open_api_document.ts";
import { dashboardHtml } from "./dashboard_html.ts";
import { docsHtml } from "./docs_html.ts";
import { pageNonce } from "./_guard.ts";
import { kpiConfigJsonSchema } from "../config/kpi_config_json_schema.ts";

/** What {@linkcode addPageRoutes} needs. */
export interface PageRoutesOptions {
  /** KPI names, listed in the OpenAPI document. */
  kpiNames: readonly string[];
  /** Whether a token is required. */
  secured: boolean;
  /** The period used when a request names none. */
  defaultPeriod: string;
  /** The pages' title. */
  title: string;
}

const JSON_TYPE = "application/json; charset=utf-8";
const HTML_TYPE = "text/html; charset=utf-8";
/** The JSON Schema of `kpis.yaml`, served at `/schema/kpis.json`. */
let kpiSchemaText: string | undefined;

/**
 * Adds `GET /openapi.json`, `GET /schema/kpis.json`, `GET /docs` and
 * `GET /`.
 */
export function addPageRoutes(app: Hono, options: PageRoutesOptions): void {
  const { title, defaultPeriod } = options;
  const openApi = JSON.stringify(openApiDocument(options));
  app.get("/openapi.json", (c) => {
    c.header("cache-control", "no-cache");
    return c.body(openApi, 200, { "content-type": JSON_TYPE });
  });
  app.get("/schema/kpis.json", (c) => {
    kpiSchemaText ??= JSON.stringify(kpiConfigJsonSchema(), null, 2);
    c.header("cache-control", "no-cache");
    return c.body(kpiSchemaText, 200, { "content-type": JSON_TYPE });
  });
  app.get(
    "/docs",
    (c) =>
      c.body(docsHtml({ nonce: pageNonce(c), title }), 200, {
        "content-type": HTML_TYPE,
        "cache-control": "no-cache",
      }),
  );
  app.get(
    "/",
    (c) =>
      c.body(
        dashboardHtml({ nonce: pageNonce(c), title, defaultPeriod }),
        200,
        {
          "content-type": HTML_TYPE,
          "cache-control": "no-cache",
        },
      ),
  );
}
