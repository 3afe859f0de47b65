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
import type { ComparisonCode } from "../types.ts";
import type { ServerEngine } from "./create_app.ts";
import {
  breakdownQuery,
  driversQuery,
  type ParamIssue,
  parseQuery,
} from "./_params.ts";
import { badRequest, resolve, unknownKpi } from "./_kpi_routes.ts";
import { breakdownText, driversText } from "./_segment_text.ts";

/** What {@linkcode addSegmentRoutes} needs. */
export interface SegmentRoutesOptions {
  /** The engine. */
  engine: ServerEngine;
  /** The period when a request names none. */
  defaultPeriod: string;
}

/** Adds `/kpis/{name}/breakdown` and `/kpis/{name}/drivers`. */
export function addSegmentRoutes(
  app: Hono,
  options: SegmentRoutesOptions,
): void {
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
  const known = (c: Context): string | Response => {
    const name = c.req.param("name") ?? "";
    return names.has(name) ? name : unknownKpi(c, name, names);
  };

  app.get("/kpis/:name/breakdown", async (c) => {
    const name = known(c);
    if (name instanceof Response) return name;
    const query = parseQuery(breakdownQuery, c.req.query());
    if (!query.ok) return badRequest(c, query.issues);
    const period = resolve(c, options, query.value.period);
    if (period instanceof Response) return period;
    const issue = missingDimension(name, query.value.by);
    if (issue) return badRequest(c, [issue]);
    if (!engine.breakdown) {
      return c.json({ error: "This engine does not break KPIs down" }, 501);
    }
    const compare = (query.value.compare ?? []) as ComparisonCode[];
    c.header("cache-control", "no-store");
    const breakdown = await engine.breakdown(name, period.label, {
      by: query.value.by,
      ...(query.value.top === undefined ? {} : { top: query.value.top }),
      ...(compare.length > 0 ? { compare } : {}),
    });
    return c.json({ ...breakdown, text: breakdownText(breakdown) });
  });

  app.get("/kpis/:name/drivers", async (c) => {
    const name = known(c);
    if (name instanceof Response) return name;
    const query = parseQuery(driversQuery, c.req.query());
    if (!query.ok) return badRequest(c, query.issues);
    const period = resolve(c, options, query.value.period);
    if (period instanceof Response) return period;
    const by = query.value.by ?? [];
    const issue = missingDimension(name, by);
    if (issue) return badRequest(c, [issue]);
    if (!engine.drivers) {
      return c.json({ error: "This engine does not explain changes" }, 501);
    }
    const code = query.value.compare?.[0] as ComparisonCode | undefined;
    c.header("cache-control", "no-store");
    const drivers = await engine.drivers(name, period.label, {
      ...(by.length > 0 ? { by } : {}),
      ...(query.value.top === undefined ? {} : { top: query.value.top }),
      ...(code === undefined ? {} : { compare: code }),
    });
    return c.json({ ...drivers, text: driversText(drivers) });
  });
}
