/**
 * Private: whether a table has an index led by its time column, asked of
 * the database's catalogue once per client and table. The planner reads a
 * table without one in a single scan for all period ranges, and one with
 * one range by range through the index.
 *
 * @module
 */

import type { SqlClient } from "../types.ts";

/** Marks the catalogue query, so that it can be told from KPI queries. */
export const TIME_INDEX_MARK = "/* kpi-engine: time index lookup */";

const known = new WeakMap<SqlClient, Map<string, Promise<boolean>>>();

/**
 * Whether an index of `table` (possibly schema-qualified) has `column` as
 * its first column. Unknown (a dialect without a lookup, a catalogue that
 * cannot be read) counts as no index. Remembered per client for its
 * lifetime: reopen the client after adding or dropping an index.
 */
export function hasTimeIndex(
  client: SqlClient,
  table: string,
  column: string,
  timeoutMs: number,
): Promise<boolean> {
  let byTable = known.get(client);
  if (!byTable) {
    byTable = new Map();
    known.set(client, byTable);
  }
  const key = `${table}\u0000${column}`;
  let found = byTable.get(key);
  if (found === undefined) {
    found = lookup(client, table, column, timeoutMs);
    byTable.set(key, found);
  }
  return found;
}

async function lookup(
  client: SqlClient,
  table: string,
  column: string,
  timeoutMs: number,
): Promise<boolean> {
  const parts = table.split(".");
  const name = parts.pop() as string;
  const schema = parts.pop() ?? null;
  let sql: string;
  let params: unknown[];
  switch (client.dialect) {
    case "postgres":
      sql = `${TIME_INDEX_MARK} SELECT COUNT(*) FROM pg_index i ` +
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] " +
        "WHERE i.indrelid = to_regclass($1) AND a.attname = $2";
      params = [
        (schema === null ? [name] : [schema, name]).map((part) => `"${part}"`)
          .join("."),
        column,
      ];
      break;
    case "mysql":
      sql =
        `${TIME_INDEX_MARK} SELECT COUNT(*) FROM information_schema.statistics ` +
        "WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? " +
        "AND column_name = ? AND seq_in_index = 1";
      params = [schema, name, column];
      break;
    case "sqlite":
      sql =
        `${TIME_INDEX_MARK} SELECT COUNT(*) FROM pragma_index_list(?, ?) l, ` +
        "pragma_index_info(l.name, ?) i WHERE i.seqno = 0 AND i.name = ?";
      params = [name, schema ?? "main", schema ?? "main", column];
      break;
    default:
      return false;
  }
  try {
    const rows = await client.query(sql, params, {
      timeoutMs,
      timezone: "UTC",
    });
    return Number(rows[0]?.[0] ?? 0) > 0;
  } catch {
    return false;
  }
}
