/**
 * The REST routes as data: for each, its path, the zod schema that
 * validates its query string and the zod schemas of its answers. The
 * OpenAPI document (`/openapi.json`) is generated from this list, so a
 * route and its description cannot drift apart.
 *
 * To add a route: write its query schema in `_params.ts` (validate the
 * request with `parseQuery(schema, c.req.query())` in the route's handler),
 * its answer schemas in `_api_schemas.ts` (wrapped in `component("Name",
 * ...)` to get a `$ref`), and one entry here.
 *
 * @module
 */

import type { z } from "zod";
import {
  breakdownQuery,
  driversQuery,
  historyQuery,
  kpisQuery,
  seriesQuery,
} from "./_params.ts";
import {
  BreakdownBody,
  DriversBody,
  ErrorBody,
  HealthBody,
  HistoryBody,
  KPIResultBody,
  RunReportBody,
  SeriesBody,
} from "./_api_schemas.ts";
import { DashboardBody, dashboardQuery } from "./_dashboard_data.ts";

/** One answer of a route. */
export interface ApiResponse {
  /** What the answer means. */
  description: string;
  /** The JSON body's schema. @default none */
  body?: z.ZodType;
  /** The media type when the body is not JSON (`text/html`). @default undefined */
  mediaType?: string;
}

/** One route as the OpenAPI document describes it. */
export interface ApiRoute {
  /** The HTTP method. */
  method: "get" | "post" | "delete";
  /** The OpenAPI path template, e.g. `/kpis/{name}/history`. */
  path: string;
  /** A unique id, e.g. `getKpiHistory`. */
  operationId: string;
  /** One line. */
  summary: string;
  /** More, when needed. @default undefined */
  description?: string;
  /** Whether the route needs no bearer token. @default false */
  public?: boolean;
  /** The schema validating the query string (a `z.object`). @default none */
  query?: z.ZodObject;
  /** The request body's media type and description. @default none */
  requestBody?: { mediaType: string; description: string };
  /**
   * Answers by status code; a 401 with the error body is added to routes
   * behind the token unless the route describes its own.
   */
  responses: Record<string, ApiResponse>;
}

const failure = (description: string): ApiResponse => ({
  description,
  body: ErrorBody,
});
/** GET and DELETE on `/mcp`: a stateless MCP server has no stream or session. */
function mcpNotAllowed(method: "get" | "delete"): ApiRoute {
  return {
    method,
    path: "/mcp",
    operationId: method === "get" ? "mcpGet" : "mcpDelete",
    summary: "Answers 405: a stateless MCP server keeps no stream or session",
    responses: { "405": { description: "Method not allowed." } },
  };
}
const html: ApiResponse = { description: "HTML page.", mediaType: "text/html" };

/**
 * A page requested without the token: it is sent all the same, with status
 * 401, so that a browser shows it and it asks for the token.
 */
const pageAskingForToken: ApiResponse = {
  description: "Without the token: the same page, which asks for it.",
  mediaType: "text/html",
};

/** Every route of the server, in the order the document lists them. */
export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: "get",
    path: "/kpis",
    operationId: "listKpis",
    summary: "Compute every KPI for a period",
    query: kpisQuery,
    responses: {
      "200": { description: "Every KPI's result.", body: RunReportBody },
      "400": failure(
        "Bad `period`, `refresh` or `record` (or `record` on a server that keeps no history).",
      ),
      "500": failure("Unexpected failure."),
    },
  },
  {
    method: "get",
    path: "/kpis/{name}",
    operationId: "getKpi",
    summary: "Compute one KPI for a period",
    query: kpisQuery,
    responses: {
      "200": { description: "The KPI's result.", body: KPIResultBody },
      "400": failure(
        "Bad `period`, `refresh` or `record` (or `record` on a server that keeps no history).",
      ),
      "404": failure("No KPI of that name."),
      "500": failure("Unexpected failure."),
    },
  },
  {
    method: "get",
    path: "/kpis/{name}/history",
    operationId: "getKpiHistory",
    summary: "Past results of one KPI, newest first",
    query: historyQuery,
    responses: {
      "200": { description: "Past results.", body: HistoryBody },
      "400": failure("Bad `n`."),
      "404": failure("No KPI of that name."),
      "500": failure("Unexpected failure."),
    },
  },
  {
    method: "get",
    path: "/kpis/{name}/breakdown",
    operationId: "getKpiBreakdown",
    summary: "One KPI per segment of one or more dimensions",
    query: breakdownQuery,
    responses: {
      "200": { description: "The breakdown.", body: BreakdownBody },
      "400": failure("Bad `by`, `period`, `compare` or `top`."),
      "404": failure("No KPI of that name."),
      "500": failure("Unexpected failure."),
    },
  },
  {
    method: "get",
    path: "/kpis/{name}/drivers",
    operationId: "getKpiDrivers",
    summary: "The segments that explain a KPI's change",
    query: driversQuery,
    responses: {
      "200": { description: "The drivers.", body: DriversBody },
      "400": failure("Bad `by`, `period`, `compare` or `top`."),
      "404": failure("No KPI of that name."),
      "500": failure("Unexpected failure."),
    },
  },
  {
    method: "get",
    path: "/kpis/{name}/series",
    operationId: "getKpiSeries",
    summary: "One KPI for every bucket of a grain over a span",
    description:
      "Points oldest first; the bucket holding today is marked partial. " +
      "Give `last` (points ending with the bucket of `to`) or `from`/`to`.",
    query: seriesQuery,
    responses: {
      "200": { description: "The points.", body: SeriesBody },
      "400": failure("Bad `grain`, `from`, `to` or `last`."),
      "404": failure("No KPI of that name."),
      "500": failure("Unexpected failure."),
      "501": failure("The engine computes no series."),
    },
  },
  {
    method: "get",
    path: "/dashboard.json",
    operationId: "getDashboard",
    summary: "What the dashboard shows, in one request",
    description: "The period's results with their numbers as text, " +
      "comparisons labelled by what they compare, target progress, and " +
      "each KPI's sparkline: the series of the period's grain ending with " +
      "it, from history where recorded, else computed.",
    query: dashboardQuery,
    responses: {
      "200": { description: "The dashboard's data.", body: DashboardBody },
      "400": failure("Bad `period` or `refresh`."),
      "500": failure("Unexpected failure."),
    },
  },
  {
    method: "get",
    path: "/health",
    operationId: "health",
    summary: "Reachability of the database and history store",
    description: "Needs no token. Error details only with the token.",
    public: true,
    responses: {
      "200": { description: "Everything reachable.", body: HealthBody },
      "503": { description: "Something unreachable.", body: HealthBody },
    },
  },
  {
    method: "get",
    path: "/schema/kpis.json",
    operationId: "kpisSchema",
    summary: "The JSON Schema of kpis.yaml",
    description: "Needs no token: editors fetch it to check KPI files.",
    public: true,
    responses: { "200": { description: "JSON Schema (draft 2020-12)." } },
  },
  {
    method: "post",
    path: "/mcp",
    operationId: "mcp",
    summary: "MCP over Streamable HTTP: the engine's tools for AI clients",
    description: "One JSON-RPC message per request, answered as JSON " +
      "(stateless: no session id).",
    requestBody: {
      mediaType: "application/json",
      description: "A JSON-RPC 2.0 message.",
    },
    responses: {
      "200": { description: "The JSON-RPC answer." },
      "202": { description: "A notification, accepted." },
    },
  },
  mcpNotAllowed("get"),
  mcpNotAllowed("delete"),
  {
    method: "get",
    path: "/openapi.json",
    operationId: "openapi",
    summary: "This document",
    responses: { "200": { description: "OpenAPI 3.1 document." } },
  },
  {
    method: "get",
    path: "/docs",
    operationId: "docs",
    summary: "This document rendered as a page",
    description: "A self-contained page; it asks for the token when needed.",
    responses: { "200": html, "401": pageAskingForToken },
  },
  {
    method: "get",
    path: "/",
    operationId: "dashboard",
    summary: "Dashboard page",
    description: "A self-contained page; it asks for the token when needed " +
      "and keeps it in sessionStorage.",
    responses: { "200": html, "401": pageAskingForToken },
  },
];
