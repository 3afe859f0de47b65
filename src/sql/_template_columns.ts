/**
 * Private: which column each `{{ period_start }}` / `{{ period_end }}` of a
 * template is compared with (`at >= {{ period_start }}`,
 * `{{ period_end }} > at`, `at BETWEEN ... AND ...`), and which tables the
 * template reads (`FROM`/`JOIN`, comma lists included). The MySQL planner
 * uses it to send a period's exact instants where a variable meets a
 * `TIMESTAMP` column and the server has no data for the zone.
 *
 * @module
 */

import { type ParsedTemplate, PERIOD_VARIABLES } from "./_template.ts";

const IDENT = "(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_$]*)";
const COLUMN = `(?:${IDENT}\\s*\\.\\s*)?(${IDENT})`;
const OP = "(?:<=>|>=|<=|<>|!=|=|<|>)";
const BEFORE = new RegExp(`${COLUMN}\\s*${OP}\\s*$`);
const BETWEEN = new RegExp(`${COLUMN}\\s+(?:NOT\\s+)?BETWEEN\\s*$`, "i");
const BETWEEN_AND = /^\s*AND\s*$/i;
const AFTER = new RegExp(`^\\s*${OP}\\s*${COLUMN}`);
const TABLE = new RegExp(
  `^\\s*(${IDENT})(?:\\s*\\.\\s*(${IDENT}))?(?:\\s+(?:AS\\s+)?(${IDENT}))?`,
  "i",
);
const NOT_ALIAS = new Set([
  "where",
  "group",
  "order",
  "having",
  "limit",
  "join",
  "inner",
  "left",
  "right",
  "cross",
  "natural",
  "straight_join",
  "on",
  "using",
  "union",
  "window",
  "for",
  "lock",
]);

/** A table a template reads. */
export interface TemplateTable {
  /** Its schema (database), when written. */
  schema: string | null;
  /** Its name, without quotes. */
  name: string;
}

/** What a template compares its period variables with. */
export interface TemplateComparisons {
  /** Index of a period variable's part → the column it is compared with. */
  columns: Map<number, string>;
  /** The tables named after `FROM` and `JOIN`. */
  tables: TemplateTable[];
}

/**
 * Finds the column each period variable is compared with, and the tables.
 *
 * @param parsed A parsed template.
 * @returns Columns (lower case, unquoted) by part index, and tables.
 */
export function templateComparisons(
  parsed: ParsedTemplate,
): TemplateComparisons {
  const columns = new Map<number, string>();
  const { parts } = parsed;
  parts.forEach((part, i) => {
    if (part.kind !== "var" || !PERIOD_VARIABLES.includes(part.name)) return;
    if (part.cast === "DATE") return;
    const before = parts[i - 1];
    const after = parts[i + 1];
    const text = before?.kind === "sql" ? before.text : "";
    let match = BEFORE.exec(text) ?? BETWEEN.exec(text);
    if (match === null && BETWEEN_AND.test(text)) {
      const first = columns.get(i - 2);
      const between = parts[i - 3];
      if (
        first !== undefined && between?.kind === "sql" &&
        BETWEEN.test(between.text)
      ) {
        columns.set(i, first);
        return;
      }
    }
    if (match === null && after?.kind === "sql") match = AFTER.exec(after.text);
    if (match !== null) {
      columns.set(i, unquote(match[1] as string).toLowerCase());
    }
  });
  return { columns, tables: tablesOf(parsed) };
}

function tablesOf(parsed: ParsedTemplate): TemplateTable[] {
  const sql = parsed.parts.map((part) =>
    part.kind === "sql" ? part.text : part.kind === "comment" ? " " : " ? "
  ).join("");
  const out: TemplateTable[] = [];
  for (const m of sql.matchAll(/\b(?:FROM|JOIN)\b/gi)) {
    let rest = sql.slice((m.index as number) + m[0].length);
    for (;;) {
      const table = TABLE.exec(rest);
      if (table === null) break;
      const [whole, first, second, alias] = table;
      const schema = second === undefined ? null : unquote(first as string);
      const name = unquote((second ?? first) as string);
      if (NOT_ALIAS.has(name.toLowerCase())) break;
      out.push({ schema, name });
      rest = rest.slice(
        alias !== undefined && NOT_ALIAS.has(alias.toLowerCase())
          ? whole.length - alias.length
          : whole.length,
      );
      const comma = /^\s*,/.exec(rest);
      if (comma === null) break;
      rest = rest.slice(comma[0].length);
    }
  }
  return out;
}

function unquote(identifier: string): string {
  return identifier.startsWith("`")
    ? identifier.slice(1, -1).replaceAll("``", "`")
    : identifier;
}
