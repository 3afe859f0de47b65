/**
 * Breakdowns and drivers of KPIs, from their definitions and the data
 * sources the engine holds: which dimensions each KPI has (derived KPIs
 * inherit those their inputs share), how its segments combine, one fetch
 * per table for every KPI, dimension and period, then
 * {@linkcode assembleBreakdown} and {@linkcode attributeChange}.
 *
 * @module
 */

import { compare } from "../compare/compare.ts";
import { didYouMean } from "../config/_suggest.ts";
import { cleanNumber } from "../_numbers.ts";
import {
  evaluateExpression,
  parseExpression,
} from "../expression/expression.ts";
import type { Expression, ExpressionNode } from "../expression/expression.ts";
import { shiftPeriod } from "../period/shift_period.ts";
import type {
  ComparisonCode,
  ComparisonResult,
  DataFrameInput,
  KPIDefinition,
  Period,
  SqlClient,
} from "../types.ts";
import { assembleBreakdown, type SegmentSeries } from "./assemble_breakdown.ts";
import { attributeChange, type ChangeCell } from "./attribute_change.ts";
import {
  fetchSqlSegments,
  groupDataFrameSegments,
  type SegmentData,
  segmentDataKey,
} from "./fetch_segments.ts";
import { planSegmentQueries } from "./plan_segment_queries.ts";
import type {
  AttributionMethod,
  KPIBreakdown,
  KPIDrivers,
  Segment,
  SegmentMeasure,
} from "./types.ts";

/** What breakdowns need from the engine. */
export interface SegmentSources {
  /** Every KPI definition, by name. */
  definitions: ReadonlyMap<string, KPIDefinition>;
  /** The database, if any. */
  sql?: SqlClient | undefined;
  /** In-memory tables. */
  dataframes: Readonly<Record<string, DataFrameInput>>;
  /** SQL template variables. */
  vars: Readonly<Record<string, string | number | boolean>>;
  /** Most queries in flight at once. */
  maxConcurrency: number;
}

/** Options of {@linkcode computeBreakdowns}. */
export interface ComputeBreakdownsOptions {
  /** The dimensions to break down by, each on its own. */
  by: readonly string[];
  /** Rows kept per dimension before the rest fold into "other". @default 10 */
  top?: number;
  /** Most segments per dimension. @default 1000 */
  cap?: number;
  /** Comparisons per segment. @default each KPI's own `compare` */
  compare?: readonly ComparisonCode[];
}

/** Options of {@linkcode computeDrivers}. */
export interface ComputeDriversOptions {
  /** The comparison to explain. @default the KPI's first, else MoM */
  compare?: ComparisonCode;
  /** The dimensions whose slices are ranked. @default all the KPI has */
  by?: readonly string[];
  /** Most drivers listed. @default 5 */
  top?: number;
}

/** A KPI's dimensions, and why it has no more (for derived KPIs). */
interface Dimensions {
  dimensions: string[];
  /** For a derived KPI whose inputs disagree: what each input has. */
  disagreement: string | null;
}

/** The dimensions a KPI can be broken down by. */
export function kpiDimensions(
  definitions: ReadonlyMap<string, KPIDefinition>,
  name: string,
): Dimensions {
  const definition = definitions.get(name);
  if (!definition) return { dimensions: [], disagreement: null };
  if (definition.source !== "derived") {
    return { dimensions: [...definition.dimensions ?? []], disagreement: null };
  }
  const inputs = parseExpression(definition.expression ?? "0").identifiers;
  const each = inputs.map((input) => ({
    input,
    dimensions: kpiDimensions(definitions, input).dimensions,
  }));
  const first = each[0]?.dimensions ?? [];
  const shared = first.filter((d) =>
    each.every((e) => e.dimensions.includes(d))
  );
  const disagree = each.some((e) => e.dimensions.length !== shared.length);
  return {
    dimensions: shared,
    disagreement: disagree
      ? `its inputs have different dimensions (${
        each.map((e) => `${e.input}: ${e.dimensions.join(", ") || "none"}`)
          .join("; ")
      }), so it has only those they share: ${shared.join(", ") || "none"}`
      : null,
  };
}

/** How a KPI's segments combine, or null when they do not. */
export function kpiMethod(
  definitions: ReadonlyMap<string, KPIDefinition>,
  name: string,
): AttributionMethod | null {
  const definition = definitions.get(name);
  if (!definition) return null;
  if (definition.source === "derived") {
    const ast = parseExpression(definition.expression ?? "0").ast;
    const additive = (node: ExpressionNode): boolean => {
      if (node.type === "name") {
        return kpiMethod(definitions, node.name) === "additive";
      }
      if (node.type === "unary") {
        return node.operator !== "not" && additive(node.argument);
      }
      if (node.type === "binary") {
        return (node.operator === "+" || node.operator === "-") &&
          additive(node.left) && additive(node.right);
      }
      return false;
    };
    if (additive(ast)) return "additive";
    if (
      ast.type === "binary" && ast.operator === "/" && additive(ast.left) &&
      additive(ast.right)
    ) return "ratio";
    return null;
  }
  if (definition.source === "sql" && definition.table === undefined) {
    return definition.aggregation === "sum" ||
        definition.aggregation === "count"
      ? "additive"
      : null;
  }
  switch (definition.aggregation) {
    case "sum":
    case "count":
      return "additive";
    case "avg":
    case "rate":
      return "ratio";
    default:
      return null;
  }
}

/** The base (sql and dataframe) KPIs a KPI reads, itself included. */
function baseInputs(
  definitions: ReadonlyMap<string, KPIDefinition>,
  name: string,
  out: Set<string> = new Set(),
): Set<string> {
  const definition = definitions.get(name);
  if (!definition) return out;
  if (definition.source !== "derived") out.add(name);
  else {
    for (
      const input of parseExpression(definition.expression ?? "0").identifiers
    ) {
      baseInputs(definitions, input, out);
    }
  }
  return out;
}

/** Fetches every base KPI's segments by the sets, one query per table. */
async function fetchSegments(
  sources: SegmentSources,
  names: Iterable<string>,
  periods: readonly Period[],
  sets: readonly (readonly string[])[],
): Promise<SegmentData> {
  const sqlRequests = [];
  const frameRequests = [];
  for (const name of names) {
    const definition = sources.definitions.get(name);
    if (!definition) continue;
    const request = { definition, periods };
    if (definition.source === "sql") sqlRequests.push(request);
    else if (definition.source === "dataframe") frameRequests.push(request);
  }
  const frames = groupDataFrameSegments(
    sources.dataframes,
    frameRequests,
    sets,
  );
  if (sqlRequests.length === 0) return frames;
  if (!sources.sql) {
    for (const { definition } of sqlRequests) {
      frames.errors.set(
        definition.name,
        "No database connection: set `connection` in the file, `--db` on the command line, or `sql` in the engine options",
      );
    }
    return frames;
  }
  const sql = await fetchSqlSegments(sources.sql, sqlRequests, sets, {
    vars: sources.vars,
    maxConcurrency: sources.maxConcurrency,
  });
  for (const [key, value] of frames.cells) sql.cells.set(key, value);
  for (const [key, value] of frames.errors) sql.errors.set(key, value);
  return sql;
}

/**
 * Prints the breakdown queries a call would send, without running them.
 *
 * @param sources Definitions and sources.
 * @param names The KPIs.
 * @param period The period.
 * @param options Dimensions and comparisons.
 * @returns The printable plan.
 */
export function explainBreakdownQueries(
  sources: SegmentSources,
  names: readonly string[],
  period: Period,
  options: ComputeBreakdownsOptions,
): string {
  const base = new Set<string>();
  const periods = [period];
  for (const name of names) {
    if (
      !options.by.every((d) =>
        kpiDimensions(sources.definitions, name).dimensions.includes(d)
      )
    ) continue;
    baseInputs(sources.definitions, name, base);
    for (
      const code of options.compare ?? sources.definitions.get(name)?.compare ??
        []
    ) {
      periods.push(shiftPeriod(period, code));
    }
  }
  const requests = [...base].flatMap((name) => {
    const definition = sources.definitions.get(name);
    return definition?.source === "sql" ? [{ definition, periods }] : [];
  });
  const { queries, failures } = planSegmentQueries(
    sources.sql?.dialect ?? "sqlite",
    requests,
    options.by.map((d) => [d]),
    { vars: sources.vars },
  );
  const lines: string[] = [];
  queries.forEach((query, i) => {
    lines.push(
      `-- Breakdown query ${i + 1} of ${queries.length}: ${
        query.kind === "structured" ? `table ${query.table}` : "template"
      }; KPIs: ${query.kpis.join(", ")}; by: ${
        query.sets.map((s) => s.join(" x ")).join(", ")
      }; periods: ${
        query.ranges.map((r) => `${r.start}..${r.end}`).join(", ")
      }`,
    );
    lines.push(query.sql.trimEnd() + ";");
    lines.push(
      `-- Parameters: ${
        query.params.map((v, j) => `${j + 1} = ${JSON.stringify(v)}`).join(
          ", ",
        ) ||
        "none"
      }`,
    );
    lines.push("");
  });
  for (const [name, message] of failures) {
    lines.push(`-- ${name}: no breakdown: ${message}`);
  }
  if (lines.length === 0) lines.push("-- No breakdown queries");
  return lines.join("\n").trimEnd() + "\n";
}

interface Measured {
  segment: Segment;
  measure: SegmentMeasure | null;
}

/** Reads one KPI's measures in one range, rolled up to `keep`. */
class Measurer {
  readonly #sources: SegmentSources;
  readonly #data: SegmentData;
  readonly #expressions = new Map<string, Expression>();

  constructor(sources: SegmentSources, data: SegmentData) {
    this.#sources = sources;
    this.#data = data;
  }

  /** The error that keeps a KPI from being broken down, if any. */
  error(name: string): string | null {
    for (const base of baseInputs(this.#sources.definitions, name)) {
      const error = this.#data.errors.get(base);
      if (error !== undefined) {
        return base === name
          ? error
          : `Depends on "${base}", which failed: ${error}`;
      }
    }
    return null;
  }

  /** Segment id -> measure, by the dimensions `keep`. */
  measure(
    name: string,
    range: Period,
    keep: readonly string[],
  ): Map<string, Measured> {
    const definitions = this.#sources.definitions;
    const definition = definitions.get(name) as KPIDefinition;
    if (definition.source !== "derived") {
      return this.#baseMeasure(definition, range, keep);
    }
    let expression = this.#expressions.get(name);
    if (!expression) {
      expression = parseExpression(definition.expression ?? "0");
      this.#expressions.set(name, expression);
    }
    const inputs = expression.identifiers.map((input) => ({
      input,
      method: kpiMethod(definitions, input),
      cells: this.measure(input, range, keep),
    }));
    const method = kpiMethod(definitions, name);
    const ids = new Map<string, Segment>();
    for (const { cells } of inputs) {
      for (const [id, cell] of cells) ids.set(id, cell.segment);
    }
    const out = new Map<string, Measured>();
    for (const [id, segment] of ids) {
      const scope: Record<string, number | null> = {};
      for (const { input, method: m, cells } of inputs) {
        const cell = cells.get(id);
        scope[input] = cell?.measure?.value ?? (m === "additive" ? 0 : null);
      }
      const { value } = evaluateExpression(expression, scope);
      const clean = value === null ? null : cleanNumber(value);
      if (method === "ratio" && expression.ast.type === "binary") {
        const { left, right } = expression.ast;
        const part = (node: ExpressionNode): number =>
          node.type === "name" ? scope[node.name] ?? 0 : 0;
        const numerator = evaluatePart(left, scope) ?? part(left);
        const denominator = evaluatePart(right, scope) ?? part(right);
        out.set(id, {
          segment,
          measure: { value: clean, numerator, denominator },
        });
      } else {
        out.set(id, {
          segment,
          measure: clean === null && method === null
            ? null
            : { value: clean, numerator: clean ?? 0, denominator: 1 },
        });
      }
    }
    return out;
  }

  #baseMeasure(
    definition: KPIDefinition,
    range: Period,
    keep: readonly string[],
  ): Map<string, Measured> {
    const sets = this.#data.cells.get(segmentDataKey(definition.name, range)) ??
      [];
    const source = sets
      .filter((s) => keep.every((d) => s.dimensions.includes(d)))
      .sort((a, b) => a.dimensions.length - b.dimensions.length)[0];
    const out = new Map<string, Measured>();
    if (!source) return out;
    const positions = keep.map((d) => source.dimensions.indexOf(d));
    const sums = new Map<
      string,
      { segment: Segment; n: number[]; d: number[] }
    >();
    for (const cell of source.cells) {
      const values = positions.map((p) => cell.values[p] ?? null);
      const id = JSON.stringify(values);
      let sum = sums.get(id);
      if (!sum) {
        const segment: Segment = {};
        keep.forEach((d, i) => segment[d] = values[i] ?? null);
        sums.set(id, sum = { segment, n: [], d: [] });
      }
      sum.n.push(cell.n);
      sum.d.push(cell.d);
    }
    const aggregation = definition.aggregation ?? "sum";
    for (const [id, { segment, n, d }] of sums) {
      const numerator = exactish(n);
      const denominator = exactish(d);
      const ratio = aggregation === "avg" || aggregation === "rate";
      out.set(id, {
        segment,
        measure: ratio
          ? {
            value: denominator === 0
              ? null
              : cleanNumber(numerator / denominator),
            numerator,
            denominator,
          }
          : { value: numerator, numerator, denominator: 1 },
      });
    }
    return out;
  }
}

/** A compensated sum, cleaned of float noise. */
function exactish(values: readonly number[]): number {
  let sum = 0;
  let c = 0;
  for (const v of values) {
    const next = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? (sum - next) + v : (v - next) + sum;
    sum = next;
  }
  return cleanNumber(sum + c);
}

function evaluatePart(
  node: ExpressionNode,
  scope: Record<string, number | null>,
): number | null {
  const { value } = evaluateExpression(
    { source: "", identifiers: Object.keys(scope), ast: node },
    scope,
  );
  return value;
}

/** The periods a KPI needs for its comparisons. */
function bases(
  period: Period,
  codes: readonly ComparisonCode[],
): Partial<Record<ComparisonCode, Period>> {
  const out: Partial<Record<ComparisonCode, Period>> = {};
  for (const code of codes) out[code] = shiftPeriod(period, code);
  return out;
}

/**
 * Breaks KPIs down by each dimension, fetching every KPI, dimension and
 * period of a table in one query.
 *
 * @param sources Definitions and data sources.
 * @param names The KPIs.
 * @param period The period.
 * @param options Dimensions, top N, cap and comparisons.
 * @returns One breakdown per KPI; a KPI that cannot be broken down carries
 *   `error`.
 */
export async function computeBreakdowns(
  sources: SegmentSources,
  names: readonly string[],
  period: Period,
  options: ComputeBreakdownsOptions,
): Promise<KPIBreakdown[]> {
  const defs = sources.definitions;
  const by = [...new Set(options.by)];
  const fetchable = new Set<string>();
  const periods = new Map<string, Period>([[
    period.start + period.end,
    period,
  ]]);
  const plans = names.map((name) => {
    const definition = defs.get(name) as KPIDefinition;
    const codes = options.compare ?? definition.compare ?? [];
    const { dimensions, disagreement } = kpiDimensions(defs, name);
    const missing = by.filter((d) => !dimensions.includes(d));
    let error: string | null = null;
    if (missing.length > 0) {
      error = cannotBreakDown(name, missing, dimensions, disagreement, {
        hint: true,
      });
    } else {
      baseInputs(defs, name, fetchable);
      for (const p of Object.values(bases(period, codes))) {
        periods.set(p.start + p.end, p);
      }
    }
    return { name, definition, codes, error };
  });
  const data = await fetchSegments(
    sources,
    fetchable,
    [...periods.values()],
    by.map((d) => [d]),
  );
  const measurer = new Measurer(sources, data);
  return plans.map(({ name, definition, codes, error }) => {
    const method = kpiMethod(defs, name);
    const out: KPIBreakdown = {
      name,
      label: definition.label ?? name,
      unit: definition.unit ?? null,
      periodStart: period.start,
      periodEnd: period.end,
      value: null,
      method,
      dimensions: [],
      error: error ?? measurer.error(name),
    };
    if (out.error !== null) return out;
    const comparisons = bases(period, codes);
    const totalOf = (range: Period) => {
      if (by.length === 0) return null;
      const cells = measurer.measure(name, range, []);
      return [...cells.values()][0]?.measure?.value ??
        (method === "additive" ? 0 : null);
    };
    out.value = totalOf(period);
    for (const dimension of by) {
      const current = measurer.measure(name, period, [dimension]);
      const previous = Object.fromEntries(
        codes.map((code) => [
          code,
          measurer.measure(name, comparisons[code] as Period, [dimension]),
        ]),
      ) as Partial<Record<ComparisonCode, Map<string, Measured>>>;
      const ids = new Map<string, Segment>();
      for (const [id, cell] of current) ids.set(id, cell.segment);
      for (const map of Object.values(previous)) {
        for (const [id, cell] of map ?? []) {
          if (!ids.has(id)) ids.set(id, cell.segment);
        }
      }
      const series: SegmentSeries[] = [...ids].map(([id, segment]) => ({
        segment,
        current: current.get(id)?.measure ?? null,
        previous: Object.fromEntries(
          codes.map((code) => [code, previous[code]?.get(id)?.measure ?? null]),
        ),
      }));
      const assembled = assembleBreakdown(dimension, series, {
        method,
        top: options.top ?? 10,
        cap: options.cap ?? 1000,
        comparisons,
        polarity: definition.polarity ?? "higher_is_better",
      });
      out.dimensions.push(assembled);
    }
    return out;
  });
}

/**
 * Explains KPIs' changes against one comparison: the segments (slices of
 * every dimension, ranked together) that account for most of it.
 *
 * @param sources Definitions and data sources.
 * @param names The KPIs.
 * @param period The period.
 * @param options The comparison, dimensions and how many drivers.
 * @returns One report per KPI; a KPI whose change cannot be attributed
 *   carries a `note`, one that failed an `error`.
 */
export async function computeDrivers(
  sources: SegmentSources,
  names: readonly string[],
  period: Period,
  options: ComputeDriversOptions = {},
): Promise<KPIDrivers[]> {
  const defs = sources.definitions;
  const plans = names.map((name) => {
    const definition = defs.get(name) as KPIDefinition;
    const code = options.compare ?? definition.compare?.[0] ?? "MoM";
    const { dimensions, disagreement } = kpiDimensions(defs, name);
    const by = options.by ? [...new Set(options.by)] : dimensions;
    const missing = by.filter((d) => !dimensions.includes(d));
    const method = kpiMethod(defs, name);
    let error: string | null = null;
    let note: string | null = null;
    if (missing.length > 0) {
      error = cannotBreakDown(name, missing, dimensions, disagreement, {
        hint: false,
      });
    } else if (by.length === 0) {
      note = `KPI "${name}" has no dimensions${
        disagreement ? ` (${disagreement})` : ""
      }, so its change cannot be attributed to segments (add \`dimensions:\` to it)`;
    } else if (method === null) {
      note = `Attribution is not defined for KPI "${name}": ${
        definition.source === "derived"
          ? "its expression is neither a sum of additive KPIs nor a quotient of two"
          : definition.source === "sql" && definition.table === undefined
          ? "a template's segments add up only with aggregation sum or count"
          : `its segments do not add up (aggregation ${definition.aggregation})`
      }`;
    }
    const previous = shiftPeriod(period, code);
    return { name, definition, code, by, method, error, note, previous };
  });
  // One fetch per distinct dimension set (the finest segments).
  const groups = new Map<string, typeof plans>();
  for (const plan of plans) {
    if (plan.error || plan.note) continue;
    const key = plan.by.join("\u0000");
    const list = groups.get(key);
    if (list) list.push(plan);
    else groups.set(key, [plan]);
  }
  const measurers = new Map<string, Measurer>();
  for (const [key, list] of groups) {
    const fetchable = new Set<string>();
    const periods = new Map<string, Period>([[
      period.start + period.end,
      period,
    ]]);
    for (const plan of list) {
      baseInputs(defs, plan.name, fetchable);
      periods.set(plan.previous.start + plan.previous.end, plan.previous);
    }
    const by = list[0]?.by ?? [];
    const data = await fetchSegments(
      sources,
      fetchable,
      [...periods.values()],
      [by],
    );
    measurers.set(key, new Measurer(sources, data));
  }
  return plans.map((plan) => {
    const { name, definition, code, by, method, previous } = plan;
    const out: KPIDrivers = {
      name,
      label: definition.label ?? name,
      unit: definition.unit ?? null,
      compare: code,
      periodStart: period.start,
      periodEnd: period.end,
      previousStart: previous.start,
      previousEnd: previous.end,
      value: null,
      previousValue: null,
      change: null,
      changePct: null,
      method,
      dimensions: [...by],
      drivers: [],
      unexplained: null,
      unexplainedPct: null,
      note: plan.note,
      error: plan.error,
    };
    const measurer = measurers.get(by.join("\u0000"));
    if (out.error || out.note || !measurer || method === null) return out;
    out.error = measurer.error(name);
    if (out.error) return out;
    const current = measurer.measure(name, period, by);
    const before = measurer.measure(name, previous, by);
    const ids = new Map<string, Segment>();
    for (const map of [current, before]) {
      for (const [id, cell] of map) if (!ids.has(id)) ids.set(id, cell.segment);
    }
    const cells: ChangeCell[] = [...ids].map(([id, segment]) => ({
      segment,
      current: current.get(id)?.measure ?? null,
      previous: before.get(id)?.measure ?? null,
    }));
    const result = attributeChange(cells, {
      method,
      dimensions: by,
      top: options.top ?? 5,
    });
    out.value = result.value;
    out.previousValue = result.previousValue;
    out.change = result.change;
    out.note = result.note;
    out.drivers = result.drivers;
    out.unexplained = result.unexplained;
    const comparison: ComparisonResult = compare(
      result.value,
      result.previousValue,
      {
        previousPeriod: previous,
      },
    );
    out.changePct = comparison.changePct;
    out.unexplainedPct = result.unexplained === null || !result.change
      ? null
      : cleanNumber(result.unexplained / result.change * 100);
    return out;
  });
}

/**
 * Why a KPI cannot be broken down by some dimensions: its own dimensions
 * disagree, it has none (with `hint`, how to declare them), or they are
 * others (naming the one a single mistyped dimension was likely meant to be).
 */
function cannotBreakDown(
  name: string,
  missing: readonly string[],
  dimensions: readonly string[],
  disagreement: string | null | undefined,
  { hint }: { hint: boolean },
): string {
  const none = hint
    ? "it has no dimensions (add `dimensions:` to it)"
    : "it has no dimensions";
  const head = `KPI "${name}" cannot be broken down by ${
    missing.map((d) => `"${d}"`).join(", ")
  }`;
  if (disagreement) return `${head}: ${disagreement}`;
  if (dimensions.length === 0) return `${head}: ${none}`;
  const meant = missing.length === 1 ? didYouMean(missing[0]!, dimensions) : "";
  const reason = `its dimensions are ${dimensions.join(", ")}`;
  return meant === "" ? `${head}: ${reason}` : `${head}${meant} (${reason})`;
}
