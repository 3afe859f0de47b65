/**
 * Private: which time columns of structured KPIs, and which period
 * variables of templates, meet MySQL `TIMESTAMP` columns (instants, which a
 * server without time zone tables would cut at a fixed offset), asked of
 * `information_schema` once per client and table.
 *
 * @module
 */

import type { SqlClient } from "../types.ts";
import { instantColumnKey, type SqlValueRequest } from "./plan_sql_queries.ts";
import { parseTemplate } from "./_template.ts";
import {
  type TemplateComparisons,
  templateComparisons,
  type TemplateTable,
} from "./_template_columns.ts";

/** Per client, whether a `table`/`time_column` pair is a TIMESTAMP column. */
const instantColumnCache = new WeakMap<
  SqlClient,
  Map<string, Promise<boolean>>
>();

/**
 * The time columns of structured KPIs in zones other than UTC that are MySQL
 * `TIMESTAMP` columns (instants, which the server would cut at its own idea
 * of the zone), looked up once per client in `information_schema`. A lookup
 * that fails counts as "not an instant column".
 */
export async function mysqlInstantColumns(
  client: SqlClient,
  requests: readonly SqlValueRequest[],
): Promise<Set<string>> {
  let cache = instantColumnCache.get(client);
  if (!cache) {
    cache = new Map();
    instantColumnCache.set(client, cache);
  }
  const checks: Promise<[string, boolean]>[] = [];
  const seen = new Set<string>();
  for (const { definition, periods } of requests) {
    const { table, timeColumn } = definition;
    if (
      definition.source !== "sql" || table === undefined ||
      timeColumn === undefined ||
      (typeof definition.query === "string" && definition.query.trim() !== "")
    ) continue;
    if (
      periods.every((p) => p.timezone === "UTC" || p.timezone === "Etc/UTC")
    ) {
      continue;
    }
    const key = instantColumnKey(table, timeColumn);
    if (seen.has(key)) continue;
    seen.add(key);
    let known = cache.get(key);
    if (!known) {
      const parts = table.trim().split(".");
      const name = parts[parts.length - 1] ?? "";
      const schema = parts.length >= 2 ? parts[parts.length - 2] : null;
      known = client.query(
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE DATA_TYPE = 'timestamp' AND TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND COLUMN_NAME = ?",
        [schema, name, timeColumn.trim()],
        { timezone: "UTC" },
      ).then((rows) => Number(rows[0]?.[0] ?? 0) > 0, () => {
        cache.delete(key);
        return false;
      });
      cache.set(key, known);
    }
    checks.push(known.then((instant) => [key, instant]));
  }
  const out = new Set<string>();
  for (const [key, instant] of await Promise.all(checks)) {
    if (instant) out.add(key);
  }
  return out;
}

/** Per client, whether the server has time zone data for a zone. */
const zoneCache = new WeakMap<SqlClient, Map<string, Promise<boolean>>>();

/** Whether the server knows a named zone (has its time zone tables). */
function mysqlKnowsZone(client: SqlClient, zone: string): Promise<boolean> {
  let cache = zoneCache.get(client);
  if (!cache) {
    cache = new Map();
    zoneCache.set(client, cache);
  }
  let known = cache.get(zone);
  if (!known) {
    known = client.query(
      "SELECT CONVERT_TZ('2000-01-01 00:00:00', '+00:00', ?)",
      [zone],
      { timezone: "UTC" },
    ).then(
      (rows) => rows[0]?.[0] !== null && rows[0]?.[0] !== undefined,
      () => {
        cache.delete(zone);
        return true;
      },
    );
    cache.set(zone, known);
  }
  return known;
}

/** Per client, the TIMESTAMP columns of a table, lower case. */
const tableCache = new WeakMap<SqlClient, Map<string, Promise<Set<string>>>>();

function timestampColumns(
  client: SqlClient,
  table: TemplateTable,
): Promise<Set<string>> {
  let cache = tableCache.get(client);
  if (!cache) {
    cache = new Map();
    tableCache.set(client, cache);
  }
  const key = `${table.schema ?? ""}\u0000${table.name}`;
  let found = cache.get(key);
  if (!found) {
    found = client.query(
      "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE DATA_TYPE = 'timestamp' AND TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
      [table.schema, table.name],
      { timezone: "UTC" },
    ).then(
      (rows) => new Set(rows.map((row) => String(row[0]).toLowerCase())),
      () => {
        cache.delete(key);
        return new Set<string>();
      },
    );
    cache.set(key, found);
  }
  return found;
}

/**
 * For MySQL templates run in a zone the server has no data for: the parts
 * (indexes into the parsed template) where `{{ period_start }}` or
 * `{{ period_end }}` is compared with a `TIMESTAMP` column of a table the
 * template reads, by KPI name. There the planner sends the period's exact
 * instant, written at the session's offset. Lookups that fail count as
 * "no TIMESTAMP column".
 */
export async function mysqlTemplateInstants(
  client: SqlClient,
  requests: readonly SqlValueRequest[],
): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>();
  await Promise.all(requests.map(async ({ definition, periods }) => {
    const query = definition.query;
    if (
      definition.source !== "sql" || typeof query !== "string" ||
      query.trim() === ""
    ) return;
    const zones = new Set(periods.map((p) => p.timezone));
    zones.delete("UTC");
    zones.delete("Etc/UTC");
    if (zones.size === 0) return;
    let found: TemplateComparisons;
    try {
      found = templateComparisons(parseTemplate(query, "mysql"));
    } catch {
      return; // The planner reports it.
    }
    if (found.columns.size === 0 || found.tables.length === 0) return;
    const known = await Promise.all(
      [...zones].map((zone) => mysqlKnowsZone(client, zone)),
    );
    if (known.every(Boolean)) return;
    const timestamps = new Set<string>();
    for (
      const columns of await Promise.all(
        found.tables.map((table) => timestampColumns(client, table)),
      )
    ) {
      for (const column of columns) timestamps.add(column);
    }
    const parts = new Set<number>();
    for (const [index, column] of found.columns) {
      if (timestamps.has(column)) parts.add(index);
    }
    if (parts.size > 0) out.set(definition.name, parts);
  }));
  return out;
}
