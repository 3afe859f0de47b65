/**
 * The checks a schema cannot make: what each source needs, duplicate names,
 * template variables, expressions and their dependency cycles, alert
 * conditions and channels, schedules. They read the raw (expanded) values
 * defensively, so they run even where the schema found problems, and every
 * problem of a file is reported at once.
 *
 * @module
 */

import {
  asList,
  asRecord,
  asString,
  type PathSegment,
  type RawIssue,
} from "./_path.ts";
import {
  MAX_NAME_LENGTH,
  NAME_PATTERN,
  TARGET_SOURCE_MARKS,
} from "./_schema.ts";
import { didYouMean } from "./_suggest.ts";
import {
  TEMPLATE_PERIOD_VARIABLES,
  templateVariables,
} from "../sql/compile_template.ts";
import { resolvePeriod } from "../period/resolve_period.ts";
import { channelKind } from "../adapters/channels/channel_kinds.ts";
import { COMPARISON_CODES, type SqlDialect } from "../types.ts";
import { filterProblem, nameProblem } from "../sql/_structured.ts";
import {
  KNOWN_PLACEHOLDERS_TEXT,
  unknownPlaceholders,
} from "../alerts/_message_placeholders.ts";

/** The two parsers the checks need, from `expression.ts` and `condition.ts`. */
export interface ConfigParsers {
  /** Parses a derived KPI's expression; throws on a bad one. */
  parseExpression(text: string): { readonly identifiers: readonly string[] };
  /** Parses an alert condition; throws on a bad one. */
  parseCondition(
    text: string,
  ): {
    readonly comparisons: readonly string[];
    readonly terms?: readonly string[];
  };
}

/** The condition terms an anomaly baseline provides. */
const ANOMALY_TERMS: readonly string[] = [
  "anomaly",
  "expected",
  "lower",
  "upper",
  "score",
];

/** Template variables every SQL template has. */
export const PERIOD_VARS: readonly string[] = TEMPLATE_PERIOD_VARIABLES;

/** What each source-specific key is for, in messages. */
const KEY_USE: Readonly<Record<string, string>> = {
  query: "sql and dataframe KPIs",
  expression: "derived KPIs",
  aggregation: "sql and dataframe KPIs",
  time_column: "dataframe and structured SQL KPIs",
  table: "structured SQL KPIs",
  column: "structured SQL KPIs",
  filter: "structured SQL KPIs",
  window: "sql and dataframe KPIs; a derived KPI follows its inputs",
  dimensions:
    "sql and dataframe KPIs; a derived KPI inherits the dimensions its inputs share",
};

/** What every check reads, and where it reports. */
interface CheckContext {
  issues: RawIssue[];
  parsers: ConfigParsers;
  spell: (key: string) => string;
  /** A key as the file spells it, quoted. */
  k: (key: string) => string;
  /** Each KPI name and the index that first defines it. */
  firstIndex: Map<string, number>;
  names: string[];
  /** Template variables: the period's and the file's `vars`. */
  knownVars: string[];
  channels: Record<string, unknown>;
  channelNames: string[];
  /** What each derived KPI reads, for the cycle check. */
  deps: Map<string, string[]>;
  /** Whose quoting rules a structured KPI's filter follows. */
  dialect: SqlDialect;
}

/** One KPI under check, with helpers that report at its keys. */
interface KpiScope {
  kpi: Record<string, unknown>;
  i: number;
  at: (...rest: PathSegment[]) => PathSegment[];
  has: (key: string) => boolean;
  notFor: (keys: readonly string[], what: string) => void;
  need: (key: string, why: string) => void;
  templates: (key: string) => void;
}

/**
 * Runs every check on one configuration, in the file's spelling: names,
 * variables, each KPI (its source, comparisons and alerts), dependency
 * cycles, channels and schedules.
 */
export function checkConfig(
  raw: Record<string, unknown>,
  parsers: ConfigParsers,
  spell: (key: string) => string,
): RawIssue[] {
  const issues: RawIssue[] = [];
  const kpis = asList(raw.kpis);
  const vars = asRecord(raw.vars) ?? {};
  const channels = asRecord(raw.channels) ?? {};
  const firstIndex = checkNames(kpis, issues);
  checkVars(vars, issues);
  checkNameLengths(vars, channels, issues);
  const ctx: CheckContext = {
    issues,
    parsers,
    spell,
    k: (key) => JSON.stringify(spell(key)),
    firstIndex,
    names: [...firstIndex.keys()],
    knownVars: [...new Set([...PERIOD_VARS, ...Object.keys(vars)])],
    channels,
    channelNames: Object.keys(channels),
    deps: new Map(),
    dialect: dialectOf(raw.connection),
  };
  kpis.forEach((item, i) => {
    const kpi = asRecord(item);
    if (kpi !== undefined) checkKpi(ctx, kpiScope(ctx, kpi, i));
  });
  issues.push(...checkCycles(kpis, ctx.deps, firstIndex));
  checkChannels(ctx);
  checkSchedules(ctx, asList(raw.schedules));
  return issues;
}

/** Variable and channel names: bounded, so messages and stores stay small. */
function checkNameLengths(
  vars: Record<string, unknown>,
  channels: Record<string, unknown>,
  issues: RawIssue[],
): void {
  for (
    const [section, map] of [["vars", vars], ["channels", channels]] as const
  ) {
    for (const key of Object.keys(map)) {
      if (key.length > MAX_NAME_LENGTH) {
        issues.push({
          path: [section, key],
          atKey: true,
          message:
            `Name of ${key.length} characters is too long: expected at most ${MAX_NAME_LENGTH}`,
        });
      }
    }
  }
}

/** The dialect a connection URL names; PostgreSQL's rules where unknown. */
function dialectOf(connection: unknown): SqlDialect {
  const url = asString(connection) ?? "";
  if (/^(mysql|mariadb)[:+]/i.test(url)) return "mysql";
  if (/^sqlite:/i.test(url)) return "sqlite";
  if (/^duckdb:/i.test(url)) return "duckdb";
  if (/^clickhouses?:/i.test(url)) return "clickhouse";
  if (/^bigquery:/i.test(url)) return "bigquery";
  if (/^snowflake:/i.test(url)) return "snowflake";
  return "postgres";
}

/**
 * Checks a structured KPI's table, column and time column (plain,
 * optionally schema-qualified identifiers) and its filter (one expression,
 * no statement separator), as the SQL writer will at run time.
 */
function structuredNames(scope: KpiScope, ctx: CheckContext): void {
  const { kpi, at } = scope;
  const fields: [string, boolean][] = [
    ["table", true],
    ["column", false],
    ["time_column", false],
  ];
  for (const [key, qualified] of fields) {
    const value = asString(kpi[key]);
    if (value === undefined || (key === "column" && value.trim() === "*")) {
      continue;
    }
    const problem = nameProblem(value, ctx.spell(key), qualified, ctx.dialect);
    if (problem !== null) ctx.issues.push({ path: at(key), message: problem });
  }
  const filter = asString(kpi.filter);
  if (filter !== undefined && filter.trim() !== "") {
    let problem: string | null = null;
    try {
      problem = filterProblem(filter, ctx.dialect);
    } catch {
      // Reported by the template check.
    }
    if (problem !== null) {
      ctx.issues.push({
        path: at("filter"),
        message: `Invalid filter ${JSON.stringify(filter)}: ${problem}`,
      });
    }
  }
}

/** Duplicate KPI names; returns the first index of each name. */
function checkNames(
  kpis: readonly unknown[],
  issues: RawIssue[],
): Map<string, number> {
  const firstIndex = new Map<string, number>();
  kpis.forEach((item, i) => {
    const name = asString(asRecord(item)?.name);
    if (name === undefined) return;
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, i);
    else {
      issues.push({
        path: ["kpis", i, "name"],
        message: `Duplicate KPI name ${
          JSON.stringify(name)
        } (already defined by kpis[${first}])`,
      });
    }
  });
  return firstIndex;
}

/** Variable names: valid, and not the period's own. */
function checkVars(vars: Record<string, unknown>, issues: RawIssue[]): void {
  for (const key of Object.keys(vars)) {
    if (key.length > MAX_NAME_LENGTH) continue;
    if (!NAME_PATTERN.test(key)) {
      issues.push({
        path: ["vars", key],
        atKey: true,
        message: `Invalid variable name ${
          JSON.stringify(key)
        } (expected letters, digits and underscores, not starting with a digit)`,
      });
    } else if (PERIOD_VARS.includes(key)) {
      issues.push({
        path: ["vars", key],
        atKey: true,
        message: `Variable ${
          JSON.stringify(key)
        } is reserved: the engine sets period_start and period_end`,
      });
    }
  }
}

/** The helpers that report at one KPI's keys. */
function kpiScope(
  ctx: CheckContext,
  kpi: Record<string, unknown>,
  i: number,
): KpiScope {
  const { issues, k, spell, knownVars } = ctx;
  const at = (...rest: PathSegment[]): PathSegment[] => ["kpis", i, ...rest];
  const has = (key: string) => kpi[key] !== undefined;
  const notFor = (keys: readonly string[], what: string) => {
    for (const key of keys) {
      if (!has(key)) continue;
      issues.push({
        path: at(key),
        atKey: true,
        message: `Key ${k(key)} does not apply to ${what} (it is for ${
          KEY_USE[key]
        })`,
      });
    }
  };
  const need = (key: string, why: string) => {
    if (!has(key)) {
      issues.push({
        path: at(key),
        message: `Missing required key ${k(key)} (${why})`,
      });
    }
  };
  const templates = (key: string) => {
    const text = asString(kpi[key]);
    if (text !== undefined) {
      issues.push(...checkTemplate(text, knownVars, at(key), spell(key)));
    }
  };
  return { kpi, i, at, has, notFor, need, templates };
}

/** One KPI: the keys its source needs, its comparisons and alerts. */
function checkKpi(ctx: CheckContext, scope: KpiScope): void {
  const source = asString(scope.kpi.source);
  if (source === "sql") checkSqlKpi(ctx, scope);
  else if (source === "dataframe") checkDataFrameKpi(ctx, scope);
  else if (source === "derived") checkDerivedKpi(ctx, scope);
  checkDimensions(ctx, scope, source);
  checkComparisonsAndAlerts(ctx, scope);
}

/** A sql KPI: a template, or table, aggregation and time column. */
function checkSqlKpi(ctx: CheckContext, scope: KpiScope): void {
  const { issues, k } = ctx;
  const { kpi, at, has, notFor, need, templates } = scope;
  if (has("query") && has("table")) {
    issues.push({
      path: at("table"),
      atKey: true,
      message: `A sql KPI takes either ${k("query")} (a SQL template) or ${
        k("table")
      } with ${k("aggregation")} and ${
        k("time_column")
      } (structured), not both`,
    });
  } else if (has("query")) {
    notFor(
      ["expression", "column", "filter", "time_column"],
      "a SQL template KPI",
    );
    templates("query");
    const aggregation = asString(kpi.aggregation);
    if (
      asList(kpi.dimensions).length > 0 && aggregation !== "sum" &&
      aggregation !== "count"
    ) {
      issues.push({
        path: at(has("aggregation") ? "aggregation" : "dimensions"),
        atKey: !has("aggregation"),
        message:
          `A SQL template with dimensions returns one row per segment; set ${
            k("aggregation")
          } to sum or count so that the rows add up to the total${
            aggregation === undefined
              ? ""
              : ` (got ${JSON.stringify(aggregation)})`
          }`,
      });
    }
  } else if (has("table")) {
    notFor(["expression"], "a sql KPI");
    const why = "a structured SQL KPI needs table, aggregation and time_column";
    need("aggregation", why);
    need("time_column", why);
    const aggregation = asString(kpi.aggregation);
    const column = asString(kpi.column);
    if (aggregation !== undefined && aggregation !== "count") {
      need(
        "column",
        `aggregation ${aggregation} needs a column; only count takes "*"`,
      );
      if (column === "*") {
        issues.push({
          path: at("column"),
          message: `Column "*" works only with aggregation count, not ${
            JSON.stringify(aggregation)
          }`,
        });
      }
    }
    templates("filter");
    structuredNames(scope, ctx);
  } else {
    issues.push({
      path: at("query"),
      message: `A sql KPI needs ${k("query")} (a SQL template) or ${
        k("table")
      }, ${k("aggregation")} and ${k("time_column")} (structured)`,
    });
  }
}

/** A dataframe KPI: `table.column` and an aggregation. */
function checkDataFrameKpi(ctx: CheckContext, scope: KpiScope): void {
  const { issues } = ctx;
  const { kpi, at, notFor, need } = scope;
  notFor(["expression", "table", "column", "filter"], "a dataframe KPI");
  need("query", 'a dataframe KPI reads "table.column"');
  need("aggregation", "a dataframe KPI folds rows with it");
  const query = asString(kpi.query);
  if (query !== undefined && !isTableColumn(query)) {
    const hint = /\bselect\b/i.test(query)
      ? "; for a SQL query use source: sql"
      : "";
    issues.push({
      path: at("query"),
      message: `A dataframe KPI's query must be "table.column", got ${
        JSON.stringify(query)
      }${hint}`,
    });
  }
}

/** A derived KPI: an expression over KPIs that exist. */
function checkDerivedKpi(ctx: CheckContext, scope: KpiScope): void {
  const { issues, parsers, firstIndex, names, deps } = ctx;
  const { kpi, i, at, notFor, need } = scope;
  notFor(
    [
      "query",
      "aggregation",
      "time_column",
      "table",
      "column",
      "filter",
      "dimensions",
      "window",
    ],
    "a derived KPI",
  );
  need("expression", "a derived KPI computes it from other KPIs");
  const expression = asString(kpi.expression);
  const name = asString(kpi.name);
  if (expression !== undefined && expression.trim() !== "") {
    try {
      const parsed = parsers.parseExpression(expression);
      const used: string[] = [];
      for (const id of parsed.identifiers) {
        if (firstIndex.has(id)) {
          if (!used.includes(id)) used.push(id);
        } else {
          issues.push({
            path: at("expression"),
            message: `Unknown KPI ${JSON.stringify(id)} in expression ${
              JSON.stringify(expression)
            }${didYouMean(id, names)}`,
          });
        }
      }
      if (name !== undefined && firstIndex.get(name) === i) {
        deps.set(name, used);
      }
    } catch (error) {
      issues.push({
        path: at("expression"),
        message: `Invalid expression ${JSON.stringify(expression)}: ${
          errorText(error)
        }`,
      });
    }
  }
}

/** Dimensions: listed once, and only where segments can be folded. */
function checkDimensions(
  ctx: CheckContext,
  scope: KpiScope,
  source: string | undefined,
): void {
  const { issues } = ctx;
  const { kpi, at } = scope;
  const dimensions = asList(kpi.dimensions);
  dimensions.forEach((dimension, n) => {
    if (
      typeof dimension === "string" && dimensions.indexOf(dimension) !== n
    ) {
      issues.push({
        path: at("dimensions", n),
        message: `Dimension ${JSON.stringify(dimension)} is listed twice`,
      });
    }
  });
  if (
    dimensions.length > 0 && source !== "derived" &&
    asString(kpi.aggregation) === "last"
  ) {
    issues.push({
      path: at("dimensions"),
      atKey: true,
      message:
        `Dimensions do not apply to aggregation "last" (a breakdown needs sum, count, avg or rate)`,
    });
  }
}

/** Comparisons listed once; targets; alert conditions use computed comparisons and known channels. */
function checkComparisonsAndAlerts(ctx: CheckContext, scope: KpiScope): void {
  const compare = checkComparisons(ctx, scope);
  checkTargets(ctx, scope);
  asList(scope.kpi.alerts).forEach((alertItem, j) => {
    const alert = asRecord(alertItem);
    if (alert === undefined) return;
    checkCondition(ctx, scope, j, asString(alert.condition), compare);
    checkMessage(ctx, scope, j, asString(alert.message));
    checkAlertChannels(ctx, scope, j, asList(alert.channels));
  });
}

/** Each comparison listed once; returns the comparisons as listed. */
function checkComparisons(ctx: CheckContext, scope: KpiScope): string[] {
  const compare = asList(scope.kpi.compare).filter((c) =>
    typeof c === "string"
  );
  compare.forEach((code, n) => {
    if (compare.indexOf(code) !== n) {
      ctx.issues.push({
        path: scope.at("compare", n),
        message: `Comparison ${JSON.stringify(code)} is listed twice`,
      });
    }
  });
  return compare;
}

/** A target's source, or its periods: fixed ones only. */
function checkTargets(ctx: CheckContext, scope: KpiScope): void {
  const targets = asRecord(scope.kpi.target);
  const isSource = targets !== undefined &&
    TARGET_SOURCE_MARKS.some((key) => key in targets);
  if (isSource) checkTargetSource(ctx, scope, targets);
  // A key whose value is not a number is reported by the schema.
  const periodKeys = Object.entries(isSource ? {} : targets ?? {})
    .filter(([, value]) => typeof value === "number").map(([key]) => key);
  for (const key of periodKeys) {
    let message: string | null = null;
    try {
      // Absolute periods only: the same range whatever today is.
      const a = resolvePeriod(key, { now: "2000-06-15" });
      const b = resolvePeriod(key, { now: "2031-01-20" });
      if (a.start !== b.start || a.end !== b.end) {
        message = `Target period ${
          JSON.stringify(key)
        } is relative; name fixed periods such as "2024-11", "2024-Q4", "2024" or "2024-11-01..2024-11-15"`;
      }
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    if (message !== null) {
      ctx.issues.push({ path: scope.at("target", key), atKey: true, message });
    }
  }
}

/**
 * An alert's condition parses, and uses only the comparisons the KPI
 * computes and the anomaly or target terms it has settings for.
 */
function checkCondition(
  ctx: CheckContext,
  scope: KpiScope,
  j: number,
  condition: string | undefined,
  compare: readonly string[],
): void {
  if (condition === undefined || condition.trim() === "") return;
  const { kpi, at } = scope;
  const problem = (message: string) =>
    ctx.issues.push({ path: at("alerts", j, "condition"), message });
  let parsed: ReturnType<ConfigParsers["parseCondition"]>;
  try {
    parsed = ctx.parsers.parseCondition(condition);
  } catch (error) {
    problem(
      `Invalid condition ${JSON.stringify(condition)}: ${errorText(error)}`,
    );
    return;
  }
  for (const term of new Set(parsed.terms ?? [])) {
    const needs = ANOMALY_TERMS.includes(term) ? "anomaly" : "target";
    if (kpi[needs] !== undefined) continue;
    problem(
      `Condition ${JSON.stringify(condition)} uses ${term}, which needs ${
        needs === "anomaly"
          ? "anomaly settings on the KPI (add anomaly: {} for the defaults)"
          : "a target on the KPI (add target: 100000, or a mapping of period to number)"
      }`,
    );
  }
  const validCompare = [...new Set(compare)].filter((c) =>
    (COMPARISON_CODES as readonly string[]).includes(c)
  );
  for (const code of new Set(parsed.comparisons)) {
    if (compare.includes(code)) continue;
    problem(
      `Condition ${
        JSON.stringify(condition)
      } uses ${code}, which the KPI does not compute (add it: compare: [${
        [...validCompare, code].join(", ")
      }])`,
    );
  }
}

/** An alert message names only known placeholders. */
function checkMessage(
  ctx: CheckContext,
  scope: KpiScope,
  j: number,
  message: string | undefined,
): void {
  if (message === undefined) return;
  for (const { name, suggestion } of unknownPlaceholders(message)) {
    ctx.issues.push({
      path: scope.at("alerts", j, "message"),
      message: `Unknown placeholder "{{ ${name} }}" in the alert message${
        suggestion === undefined ? "" : `: did you mean "{{ ${suggestion} }}"?`
      } (known: ${KNOWN_PLACEHOLDERS_TEXT})`,
    });
  }
}

/** An alert routes only to configured channels. */
function checkAlertChannels(
  ctx: CheckContext,
  scope: KpiScope,
  j: number,
  routed: readonly unknown[],
): void {
  const { channels, channelNames } = ctx;
  routed.forEach((channel, n) => {
    if (typeof channel !== "string" || Object.hasOwn(channels, channel)) {
      return;
    }
    ctx.issues.push({
      path: scope.at("alerts", j, "channels", n),
      message: `Unknown channel ${JSON.stringify(channel)}${
        channelNames.length === 0
          ? " (no channels are configured: define them under channels:)"
          : `${didYouMean(channel, channelNames)} (configured: ${
            channelNames.join(", ")
          })`
      }`,
    });
  });
}

/** Channels: the settings each kind needs, under one of two names. */
function checkChannels(ctx: CheckContext): void {
  const { issues, k } = ctx;
  for (const [name, value] of Object.entries(ctx.channels)) {
    const channel = asRecord(value);
    const kind = channelKind(channel?.type);
    if (channel === undefined || kind === undefined) continue;
    for (const { key, alternative, what, both } of kind.required) {
      if (channel[key] === undefined && channel[alternative] === undefined) {
        issues.push({
          path: ["channels", name, key],
          message: `Missing required key ${k(key)} (${what}; ${
            k(alternative)
          } is accepted too)`,
        });
      } else if (
        !both && channel[key] !== undefined &&
        channel[alternative] !== undefined
      ) {
        issues.push({
          path: ["channels", name, alternative],
          atKey: true,
          message: `Give ${k(key)} or ${k(alternative)}, not both`,
        });
      }
    }
  }
}

/** Schedules name periods the engine can resolve and KPIs that exist. */
function checkSchedules(
  ctx: CheckContext,
  schedules: readonly unknown[],
): void {
  const { issues, firstIndex, names } = ctx;
  schedules.forEach((item, i) => {
    const period = asString(asRecord(item)?.period);
    if (period !== undefined && period.trim() !== "") {
      try {
        // Only the form is checked: any fixed day will do.
        resolvePeriod(period, { now: "2000-06-15" });
      } catch (error) {
        issues.push({
          path: ["schedules", i, "period"],
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    asList(asRecord(item)?.kpis).forEach((name, n) => {
      if (typeof name !== "string" || firstIndex.has(name)) return;
      issues.push({
        path: ["schedules", i, "kpis", n],
        message: `Unknown KPI ${JSON.stringify(name)} in schedule${
          didYouMean(name, names)
        }`,
      });
    });
  });
}

function isTableColumn(query: string): boolean {
  const parts = query.trim().split(".");
  return parts.length === 2 &&
    parts.every((p) => p.trim() !== "" && !/\s/.test(p));
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 0 ? text[0]!.toLowerCase() + text.slice(1) : text;
}

/**
 * Checks a SQL template's `{{ name }}` placeholders against the known
 * variables, reading it as the SQL compiler does (placeholders in comments
 * do not count).
 */
function checkTemplate(
  text: string,
  known: readonly string[],
  path: PathSegment[],
  field: string,
): RawIssue[] {
  let used: readonly string[];
  try {
    used = templateVariables(text);
  } catch (error) {
    return [{
      path,
      message: `Invalid SQL template in ${field}: ${errorText(error)}`,
    }];
  }
  return used.filter((name) => !known.includes(name)).map((name) => ({
    path,
    message: `Unknown template variable ${JSON.stringify(name)} in ${field}${
      didYouMean(name, known)
    } (known: ${known.join(", ")}; define others under vars:)`,
  }));
}

/**
 * A target read from the database: only on a `source: sql` KPI (it runs on
 * the KPI's own connection), either a template (`query`) or a table with
 * `column` and `time_column`, names and filter as a structured KPI's.
 */
function checkTargetSource(
  ctx: CheckContext,
  scope: KpiScope,
  target: Record<string, unknown>,
): void {
  const { issues, k } = ctx;
  const has = (key: string) => target[key] !== undefined;
  const source = asString(scope.kpi.source);
  if (source !== undefined && source !== "sql") {
    issues.push({
      path: scope.at("target"),
      message: `A target read with ${
        k(has("query") ? "query" : "table")
      } needs a KPI with source: sql (it runs on the KPI's own database); a ${source} KPI takes a number or a mapping of period to number`,
    });
    return;
  }
  const where: TargetSite = {
    target,
    at: (key) => scope.at("target", key),
    has,
  };
  if (has("query")) checkTargetQuery(ctx, where);
  else checkTargetTable(ctx, where);
}

/** A target source, with where its keys are and whether each is given. */
interface TargetSite {
  target: Record<string, unknown>;
  at: (key: string) => PathSegment[];
  has: (key: string) => boolean;
}

/** A target read with a template: no table keys, a valid template. */
function checkTargetQuery(ctx: CheckContext, where: TargetSite): void {
  const { issues, k, knownVars, spell } = ctx;
  const { target, at, has } = where;
  for (const key of ["table", "column", "time_column", "aggregation"]) {
    if (!has(key)) continue;
    issues.push({
      path: at(key),
      atKey: true,
      message: `Key ${k(key)} does not apply to a target read with ${
        k("query")
      }: give either ${k("query")} (a SQL template returning the target) or ${
        k("table")
      } with ${k("column")} and ${k("time_column")}`,
    });
  }
  if (has("filter")) {
    issues.push({
      path: at("filter"),
      atKey: true,
      message: `Key ${k("filter")} does not apply to a target read with ${
        k("query")
      } (write the condition in the template)`,
    });
  }
  const text = asString(target.query);
  if (text !== undefined) {
    issues.push(
      ...checkTemplate(text, knownVars, at("query"), spell("query")),
    );
  }
}

/** A target read from a table: its columns named, names and filter valid. */
function checkTargetTable(ctx: CheckContext, where: TargetSite): void {
  const { issues, k, knownVars, spell } = ctx;
  const { target, at, has } = where;
  for (const key of ["column", "time_column"]) {
    if (!has(key)) {
      issues.push({
        path: at(key),
        message: `Missing required key ${k(key)} (a target read from ${
          k("table")
        } needs the ${
          key === "column"
            ? "column of target values"
            : "column dating each row"
        })`,
      });
    }
  }
  for (
    const [key, qualified] of [["table", true], ["column", false], [
      "time_column",
      false,
    ]] as const
  ) {
    const value = asString(target[key]);
    if (value === undefined) continue;
    const problem = nameProblem(value, spell(key), qualified, ctx.dialect);
    if (problem !== null) issues.push({ path: at(key), message: problem });
  }
  const filter = asString(target.filter);
  if (filter !== undefined && filter.trim() !== "") {
    issues.push(...checkTemplate(filter, knownVars, at("filter"), "filter"));
    let problem: string | null = null;
    try {
      problem = filterProblem(filter, ctx.dialect);
    } catch {
      // Reported by the template check.
    }
    if (problem !== null) {
      issues.push({
        path: at("filter"),
        message: `Invalid filter ${JSON.stringify(filter)}: ${problem}`,
      });
    }
  }
}

/** Finds dependency cycles among derived KPIs, each reported once. */
function checkCycles(
  kpis: readonly unknown[],
  deps: ReadonlyMap<string, readonly string[]>,
  firstIndex: ReadonlyMap<string, number>,
): RawIssue[] {
  const issues: RawIssue[] = [];
  const state = new Map<string, "active" | "done">();
  const stack: string[] = [];
  const reported = new Set<string>();

  const visit = (name: string): void => {
    state.set(name, "active");
    stack.push(name);
    for (const next of deps.get(name) ?? []) {
      const s = state.get(next);
      if (s === "active") {
        const cycle = stack.slice(stack.indexOf(next));
        const key = [...cycle].sort().join("\u0000");
        if (!reported.has(key)) {
          reported.add(key);
          issues.push({
            path: ["kpis", firstIndex.get(next)!, "expression"],
            message: `Dependency cycle: ${[...cycle, next].join(" → ")}`,
          });
        }
      } else if (s === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(name, "done");
  };

  for (const item of kpis) {
    const name = asString(asRecord(item)?.name);
    if (name !== undefined && deps.has(name) && !state.has(name)) visit(name);
  }
  return issues;
}
