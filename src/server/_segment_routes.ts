/**
 * `GET /kpis/{name}/breakdown` and `GET /kpis/{name}/drivers`: a KPI per
 * segment of its dimensions, and the segments that explain its change.
 * Their queries are validated by `breakdownQuery` and `driversQuery`, the
 * schemas their OpenAPI entries are generated from. Each answer carries its
 * numbers as `text` too, written by the shared formatter.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import type { z } from "zod";
import type { ComparisonCode, Period } from "../types.ts";
import type { ServerEngine } from "./create_app.ts";
import {
  breakdownQuery,
  driversQuery,
  type ParamIssue,
  parseQueries,
} from "./_params.ts";
import { badRequest, knownKpi, resolve } from "./_kpi_routes.ts";
import { breakdownText, driversText } from "./_segment_text.ts";

/** What {@linkcode addSegmentRoutes} needs. */
export interface SegmentRoutesOptions {
  /** The engine. */
  engine: ServerEngine;
  /** The period when a request names none. */
  defaultPeriod: string;
}

/** What both segment queries carry. */
interface SegmentQuery {
  period?: string | undefined;
  by?: string[] | undefined;
}

/** Adds `/kpis/{name}/breakdown` and `/kpis/{name}/drivers`. */
export function addSegmentRoutes(
  app: Hono,
  options: SegmentRoutesOptions,
): void {
  // Opens like addKpiRoutes (the engine and the names knownKpi checks):
  // two route families, each with its own options.
  const { engine } = options;
  const names = new Set(engine.definitions.map((d) => d.name));
  const missingDimension = (
    name: string,
    by: readonly string[],
  ): ParamIssue | null => {
    if (!engine.dimensions) return null;
    const has = engine.dimensions(name);
    const missing = by.find((d) => !has.includes(d));
    return missing === undefined ? null : {
      path: ["by"],
      message: `KPI "${name}" has no dimension "${missing}": ${
        has.length === 0 ? "it has none" : `expected one of ${has.join(", ")}`
      }`,
    };
  };
  // Both routes check a request the same way: a known KPI, a valid query,
  // a period, and dimensions the KPI has.
  const segmentRequest = <T extends SegmentQuery>(
    c: Context,
    schema: z.ZodType<T>,
  ): { name: string; query: T; period: Period } | Response => {
    const name = knownKpi(c, names);
    if (name instanceof Response) return name;
    const query = parseQueries(schema, c.req.queries());
    if (!query.ok) return badRequest(c, query.issues);
    const period = resolve(c, options, query.value.period);
    if (period instanceof Response) return period;
    const issue = missingDimension(name, query.value.by ?? []);
    if (issue) return badRequest(c, [issue]);
    return { name, query: query.value, period };
  };

  // The two handlers below are alike in form only: each calls its own
  // engine method with its own options and writes its own text.
  app.get("/kpis/:name/breakdown", async (c) => {
    const request = segmentRequest(c, breakdownQuery);
    if (request instanceof Response) return request;
    const { name, query, period } = request;
    if (!engine.breakdown) {
      return c.json({ error: "This engine does not break KPIs down" }, 501);
    }
    const compare = (query.compare ?? []) as ComparisonCode[];
    c.header("cache-control", "no-store");
    const breakdown = await engine.breakdown(name, period.label, {
      by: query.by,
      ...(query.top === undefined ? {} : { top: query.top }),
      ...(compare.length > 0 ? { compare } : {}),
    });
    return c.json({ ...breakdown, text: breakdownText(breakdown) });
  });

  // Alike in form with the breakdown handler above (see there).
  app.get("/kpis/:name/drivers", async (c) => {
    const request = segmentRequest(c, driversQuery);
    if (request instanceof Response) return request;
    const { name, query, period } = request;
    if (!engine.drivers) {
      return c.json({ error: "This engine does not explain changes" }, 501);
    }
    const by = query.by ?? [];
    const code = query.compare?.[0] as ComparisonCode | undefined;
    c.header("cache-control", "no-store");
    const drivers = await engine.drivers(name, period.label, {
      ...(by.length > 0 ? { by } : {}),
      ...(query.top === undefined ? {} : { top: query.top }),
      ...(code === undefined ? {} : { compare: code }),
    });
    return c.json({ ...drivers, text: driversText(drivers) });
  });
}
