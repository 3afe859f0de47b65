import { expectedOneOf } from "../config/_suggest.ts";
import { compare } from "../compare/compare.ts";
import {
  bucketOf,
  computeInsights,
  insightFromSeries,
  insightSeries,
  type InsightSeriesCall,
  type KpiInsight,
} from "./_insights.ts";
import {
  targetDefinitions,
  type TargetRead,
  targetRead,
} from "./_target_sources.ts";
import { type BacktestReport, replayAlerts } from "../backtest/run_backtest.ts";
import { DEFAULT_ANOMALY_WINDOW } from "../anomaly/compute_baseline.ts";
import { parseCondition } from "../expression/condition.ts";
import { evaluateCondition } from "../expression/condition.ts";
import type { Condition } from "../expression/condition.ts";
import {
  evaluateExpression,
  parseExpression,
} from "../expression/expression.ts";
import type { Expression } from "../expression/expression.ts";
import { fetchDataFrameValues } from "../dataframe/fetch_dataframe_values.ts";
import type { DataFrameValueRequest } from "../dataframe/fetch_dataframe_values.ts";
import { fetchSqlValues } from "../sql/fetch_sql_values.ts";
import type { SqlValueRequest } from "../sql/fetch_sql_values.ts";
import { parseKpis } from "../config/parse_kpis.ts";
import {
  explainSqlQueries,
  formatExplain,
  planSql,
} from "../sql/plan_sql_queries.ts";
import { resolvePeriod } from "../period/resolve_period.ts";
import { shiftPeriod } from "../period/shift_period.ts";
import { firingAlert } from "../alerts/render_alert_message.ts";
import { type FetchedValue, valueKey } from "../_value_key.ts";
import { cleanNumber } from "../_numbers.ts";
import {
  computeBreakdowns,
  computeDrivers,
  explainBreakdownQueries,
  kpiDimensions,
  type SegmentSources,
} from "../segments/compute_segments.ts";
import {
  fetchSqlSegments,
  segmentDataKey,
} from "../segments/fetch_segments.ts";
import type { KPIBreakdown, KPIDrivers } from "../segments/types.ts";
import {
  checkGrain,
  type Grain,
  type SeriesBucket,
  seriesBuckets,
} from "../series/series_buckets.ts";
import { grainOf } from "../series/grain_of.ts";
import { definitionHash } from "../series/definition_hash.ts";
import { windowPeriod } from "../series/window_period.ts";
import { fetchSeriesSql } from "../series/fetch_series_sql.ts";
import {
  formatSeriesQuery,
  MAX_SERIES_BATCH,
  planSeriesSql,
} from "../series/plan_series_sql.ts";
import {
  type BackfillOptions,
  type BackfillSummary,
  buildSeriesPoints,
  type HistoryOptions,
  type SeriesOptions,
  type SeriesResult,
} from "../series/build_series_points.ts";

/** How a grain's points are called in `--explain` headings. */
const GRAIN_ADJECTIVES: Readonly<Record<Grain, string>> = {
  day: "daily",
  week: "weekly",
  month: "monthly",
  quarter: "quarterly",
  year: "yearly",
};

/** How many of a KPI's newest history rows are searched by grain. */
const HISTORY_SCAN = 5000;
import type {
  AlertBatch,
  AlertNotifier,
  AlertStatus,
  ComparisonCode,
  ComparisonResult,
  DataFrameInput,
  HistoryAndAlertStore,
  HistoryRecord,
  HistoryStore,
  KPIConfig,
  KPIDefinition,
  KPIResult,
  Period,
  RuleDeliveries,
  RuleEvaluation,
  SqlClient,
  TriggeredAlert,
} from "../types.ts";

/** Options of {@linkcode KPIEngine}. */
export interface KPIEngineOptions {
  /** KPI definitions (validated like a YAML file). Ignored when `config` is given. */
  kpis?: readonly KPIDefinition[];
  /** A whole validated configuration, e.g. from `parseKpis()`. */
  config?: KPIConfig;
  /** In-memory tables by name, for `dataframe` KPIs. @default {} */
  dataframes?: Readonly<Record<string, DataFrameInput>>;
  /** The database for `sql` KPIs. @default none */
  sql?: SqlClient;
  /** Where every run is appended (`audit_log`). @default none */
  history?: HistoryStore | HistoryAndAlertStore;
  /** Sends alerts after each run. @default none */
  notifier?: AlertNotifier;
  /** Time zone periods are cut in. @default the config's, else "UTC" */
  timezone?: string;
  /** First day of the week, 1 = Monday. @default the config's, else 1 */
  weekStart?: number;
  /** Extra SQL template variables. @default the config's `vars` */
  vars?: Readonly<Record<string, string | number | boolean>>;
  /** The clock relative periods resolve against. @default Temporal.Now.instant */
  now?: () => Temporal.Instant;
  /** Most SQL queries in flight at once. @default the config's, else 4 */
  maxConcurrency?: number;
  /** Fuse SQL queries to cut round trips. @default true */
  fuseQueries?: boolean;
}

/** Options of one run. */
export interface RunOptions {
  /** Only these KPIs (and what they depend on). @default every KPI */
  kpis?: readonly string[];
  /** Append the results to history. @default true when a store is set */
  record?: boolean;
  /** Hand the results to the alert notifier. @default true when one is set */
  alerts?: boolean;
  /** A notifier for this run only (e.g. a dry run). @default the engine's */
  notifier?: AlertNotifier;
}

/** The results of one run with the period they are for. */
export interface RunReport {
  /** The period computed. */
  period: { label: string; start: string; end: string };
  /** One result per selected KPI, in definition order. */
  results: KPIResult[];
}

/** Options of {@linkcode KPIEngine.breakdown}. */
export interface BreakdownOptions {
  /** The dimension, or dimensions (each broken down on its own). */
  by: string | readonly string[];
  /** Rows kept per dimension before the rest fold into "other". @default 10 */
  top?: number;
  /** Most segments per dimension; the rest are folded and reported. @default 1000 */
  cap?: number;
  /** Comparisons per segment. @default the KPI's own `compare` */
  compare?: readonly ComparisonCode[];
}

/** Options of {@linkcode KPIEngine.backtest}. */
export interface BacktestOptions {
  /** The first period of the span (a period string, e.g. `2024-01`). */
  from: string;
  /** The last period of the span, included. @default "today" */
  to?: string;
  /** The length of each replayed period. */
  grain: Grain;
  /** Only these KPIs. @default every KPI with alert rules */
  kpis?: readonly string[];
}

/** Options of {@linkcode KPIEngine.breakdowns}. */
export interface BreakdownsOptions extends BreakdownOptions {
  /** Only these KPIs. @default every KPI that has all the dimensions */
  kpis?: readonly string[];
}

/** Options of {@linkcode KPIEngine.drivers}. */
export interface DriversOptions {
  /** The comparison to explain. @default the KPI's first, else MoM */
  compare?: ComparisonCode;
  /** The dimensions whose slices are ranked. @default every dimension of the KPI */
  by?: string | readonly string[];
  /** Most drivers listed. @default 5 */
  top?: number;
}

interface Compiled {
  expressions: Map<string, Expression>;
  conditions: Map<string, Condition[]>;
  derivedOrder: string[];
}

/**
 * Computes KPIs for periods, compares them with earlier periods, evaluates
 * alert rules, appends history and hands alerts to a notifier.
 *
 * The engine itself opens nothing: the SQL client, in-memory tables,
 * history store, notifier and clock are passed in. `openEngine` (from the
 * `./adapters` entry point) is the door that reads a file and opens what it
 * names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const engine = new KPIEngine({
 *   kpis: [{
 *     name: "revenue", label: "Monthly Revenue", source: "dataframe",
 *     query: "orders.revenue", aggregation: "sum", unit: "USD", compare: ["MoM"],
 *     alerts: [{ condition: "< 1000", severity: "warning" }],
 *   }],
 *   dataframes: {
 *     orders: {
 *       revenue: [1000, 2000, 3000, 500],
 *       order_date: ["2024-11-01", "2024-11-15", "2024-11-28", "2024-10-03"],
 *     },
 *   },
 * });
 * const [revenue] = await engine.run("2024-11");
 * assert.equal(revenue?.value, 6000);
 * assert.equal(revenue?.momChangePct, 1100);
 * assert.equal(revenue?.alertStatus, "ok");
 * ```
 */
export class KPIEngine {
  /** The validated configuration. */
  readonly config: KPIConfig;
  /** The KPI definitions, in file order. */
  readonly definitions: readonly KPIDefinition[];
  readonly #byName: Map<string, KPIDefinition>;
  readonly #compiled: Compiled;
  readonly #dataframes: Readonly<Record<string, DataFrameInput>>;
  readonly #sql: SqlClient | undefined;
  readonly #history: HistoryStore | HistoryAndAlertStore | undefined;
  readonly #notifier: AlertNotifier | undefined;
  readonly #now: () => Temporal.Instant;
  readonly #fuse: boolean;

  /**
   * Builds an engine over the definitions and whatever sources, stores and
   * clock are handed in; the definitions are validated like a file.
   *
   * @param options Definitions (or a whole config), data sources and ports.
   * @throws {KPIConfigError} when the definitions are invalid.
   * @throws {TypeError} when `now` is not a function.
   */
  constructor(options: KPIEngineOptions) {
    const base = options.config ??
      parseKpis({ kpis: options.kpis ?? [] }, { file: "<KPIEngine options>" });
    this.config = {
      ...base,
      timezone: options.timezone ?? base.timezone,
      weekStart: options.weekStart ?? base.weekStart,
      vars: { ...base.vars, ...options.vars },
      maxConcurrency: options.maxConcurrency ?? base.maxConcurrency,
    };
    this.definitions = this.config.kpis;
    this.#byName = new Map(this.definitions.map((d) => [d.name, d]));
    this.#compiled = compile(this.definitions);
    this.#dataframes = options.dataframes ?? {};
    this.#sql = options.sql;
    this.#history = options.history;
    this.#notifier = options.notifier;
    this.#now = checkedClock(options.now);
    this.#fuse = options.fuseQueries ?? true;
  }

  /**
   * Resolves a period string against the engine's clock and time zone.
   *
   * @param text A period string such as `last_month` or `2024-Q3`.
   * @returns The period.
   * @throws {RangeError} when the string is not a period.
   */
  resolvePeriod(text: string): Period {
    return resolvePeriod(text, {
      now: this.#now(),
      timezone: this.config.timezone,
      weekStart: this.config.weekStart,
    });
  }

  /**
   * Computes the KPIs for a period and returns them with the period.
   *
   * @param period A period string. @default "last_month"
   * @param options Which KPIs, and whether to record history and alert.
   * @returns The period and one result per KPI.
   * @throws {RangeError} for a bad period or an unknown KPI name.
   */
  async report(
    period: string | Period = "last_month",
    options: RunOptions = {},
  ): Promise<RunReport> {
    const resolved = typeof period === "string"
      ? this.resolvePeriod(period)
      : period;
    const selected = this.#select(options.kpis);
    const needed = this.#neededPeriods(selected, [resolved]);
    const values = await this.#fetch(needed);
    this.#evaluateDerived(needed, values);
    const insights = await this.#insights(selected, resolved, values);
    const runAt = this.#now().toString();
    const runId = crypto.randomUUID();
    const evaluations = new Map<string, RuleEvaluation[]>();
    let results = selected.map((definition) => {
      const { result, rules } = this.#buildResult(
        definition,
        resolved,
        values,
        insights.get(definition.name),
      );
      evaluations.set(definition.name, rules);
      return result;
    });
    await this.#attachDrivers(selected, resolved, results, evaluations);
    const notifier = options.notifier ?? this.#notifier;
    if (notifier && options.alerts !== false) {
      const batch: AlertBatch = {
        runId,
        runAt,
        period: resolved,
        items: selected.flatMap((definition, i) =>
          (definition.alerts ?? []).length === 0 ? [] : [{
            definition,
            result: results[i] as KPIResult,
            rules: evaluations.get(definition.name) ?? [],
          }]
        ),
      };
      if (batch.items.length > 0) {
        results = withDeliveries(
          results,
          evaluations,
          await notifier.notify(batch),
        );
      }
    }
    if (this.#history && options.record !== false) {
      const grain = grainOf(resolved, this.config.weekStart);
      await this.#history.append(
        results.map((result) => ({
          runId,
          runAt,
          periodLabel: resolved.label,
          result: {
            ...result,
            grain,
            recordedAt: new Date(Date.parse(runAt)).toISOString(),
            definitionHash: this.#hash(result.name),
          },
        })),
      );
    }
    return {
      period: {
        label: resolved.label,
        start: resolved.start,
        end: resolved.end,
      },
      results,
    };
  }

  /**
   * Computes the KPIs for a period.
   *
   * @param period A period string. @default "last_month"
   * @param options Which KPIs, and whether to record history and alert.
   * @returns One result per KPI, in definition order.
   * @throws {RangeError} for a bad period or an unknown KPI name.
   */
  async run(
    period: string | Period = "last_month",
    options: RunOptions = {},
  ): Promise<KPIResult[]> {
    return (await this.report(period, options)).results;
  }

  /**
   * Computes one KPI (and what it depends on) for a period.
   *
   * @param name The KPI's name.
   * @param period A period string. @default "last_month"
   * @returns Its result.
   * @throws {RangeError} for a bad period or an unknown KPI name.
   */
  async runKpi(
    name: string,
    period: string | Period = "last_month",
  ): Promise<KPIResult> {
    const [result] = await this.run(period, { kpis: [name] });
    return result as KPIResult;
  }

  /**
   * Computes KPIs as series: one point per bucket of `grain` (day, week,
   * month, quarter or year) over a span, each point cut by the same rules
   * as a single period (time zone, week start, ISO weeks) and equal to
   * `runKpi` for that period. Every bucket and comparison base is fetched
   * at once; derived KPIs are computed per bucket. The bucket holding today
   * is marked `partial` and runs to the end of today. Nothing is recorded
   * and no alerts are sent.
   *
   * @param names One KPI name, or several; empty means every KPI.
   * @param options The grain and the span (`from`/`to`, or `last` ending at `to`).
   * @returns The grain and, per KPI, its points oldest first.
   * @throws {RangeError} For an unknown KPI, grain or period, or a bad span.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const engine = new KPIEngine({
   *   kpis: [{ name: "orders", source: "dataframe", query: "orders.id", aggregation: "count" }],
   *   dataframes: { orders: { id: [1, 2, 3], day: ["2024-09-03", "2024-10-07", "2024-10-09"] } },
   *   now: () => Temporal.Instant.from("2024-11-15T12:00:00Z"),
   * });
   * const { points } = await engine.series("orders", { grain: "month", last: 3 });
   * assert.deepEqual(points.orders?.map((p) => [p.periodStart, p.value, p.partial]), [
   *   ["2024-09-01", 1, false],
   *   ["2024-10-01", 2, false],
   *   ["2024-11-01", 0, true],
   * ]);
   * ```
   */
  async series(
    names: string | readonly string[],
    options: SeriesOptions,
  ): Promise<SeriesResult> {
    const buckets = this.#spanBuckets(options);
    const selected = this.#selectNames(names);
    const comparisons = options.comparisons ?? true;
    const needed = this.#neededPeriods(selected, buckets, comparisons);
    const values = await this.#fetch(needed, true);
    this.#evaluateDerived(needed, values);
    const points: SeriesResult["points"] = {};
    for (const definition of selected) {
      points[definition.name] = buildSeriesPoints(
        definition,
        buckets,
        (name, period) => values.get(valueKey(name, period)) ?? null,
        { comparisons },
      );
    }
    return { grain: options.grain, points };
  }

  /**
   * Prints the SQL queries a series would send, with their parameters,
   * without running anything (`series --explain`).
   *
   * @param names One KPI name, or several; empty means every KPI.
   * @param options The grain and the span, as for {@linkcode KPIEngine.series}.
   * @returns The printable plan.
   * @throws {RangeError} For an unknown KPI, grain or period, or a bad span.
   */
  explainSeries(
    names: string | readonly string[],
    options: SeriesOptions,
  ): string {
    return this.#seriesPlan(names, options);
  }

  /**
   * The queries `series(names, options)` sends, printed: grouped series
   * queries where queries are fused, else the single-period plan.
   */
  #seriesPlan(
    names: string | readonly string[],
    options: SeriesOptions,
  ): string {
    const buckets = this.#spanBuckets(options);
    const selected = this.#selectNames(names);
    const needed = this.#neededPeriods(
      selected,
      buckets,
      options.comparisons ?? true,
    );
    const requests: SqlValueRequest[] = [];
    for (const [name, periods] of needed) {
      const definition = this.#definition(name);
      if (definition.source !== "sql") continue;
      const window = definition.window;
      requests.push({
        definition,
        periods: [...periods.values()].map((p) =>
          window === undefined ? p : windowPeriod(p, window)
        ),
      });
    }
    const dialect = this.#sql?.dialect ?? "sqlite";
    if (!this.#fuse) {
      return explainSqlQueries(dialect, requests, {
        vars: this.config.vars,
        fuse: false,
      });
    }
    const plan = planSeriesSql(dialect, requests, { vars: this.config.vars });
    const total = plan.queries.length;
    const parts = plan.queries.map((query, i) =>
      formatSeriesQuery(query, i + 1, total)
    );
    plan.batches.forEach((batch, i) => {
      parts.push(
        `-- Batch ${
          i + 1
        } of ${plan.batches.length} (at most ${MAX_SERIES_BATCH} periods per query), planned as for single periods:\n` +
          explainSqlQueries(dialect, batch, { vars: this.config.vars }),
      );
    });
    if (parts.length === 0) parts.push("-- No SQL queries\n");
    return parts.join("\n");
  }

  /**
   * The series a run reads for the selected KPIs' anomaly baselines and
   * weekday pace, each under a heading that says what it is for, printed
   * as `series --explain` prints them; "" when no KPI reads one.
   */
  #explainInsights(
    period: Period,
    options: Pick<RunOptions, "kpis">,
  ): string {
    const asking = this.#select(options.kpis).filter((d) =>
      d.anomaly !== undefined || d.target !== undefined
    );
    const { anomaly, pace } = insightSeries(
      asking,
      period,
      this.config.weekStart,
    );
    const section = (
      what: string,
      call: InsightSeriesCall,
      why = "",
    ): string =>
      `\n-- ${what} of ${call.names.join(", ")}: ${call.options.last} ${
        GRAIN_ADJECTIVES[call.options.grain]
      } points before ${
        Temporal.PlainDate.from(call.options.to).add({ days: 1 })
      }${why}\n` + this.#seriesPlan(call.names, call.options);
    let out = "";
    if (anomaly === null) {
      out +=
        `\n-- Anomaly baseline: not learned for ${period.label}: baselines are learned for whole days, weeks, months, quarters and years\n`;
    } else if (anomaly !== undefined) {
      out += section("Anomaly baseline", anomaly);
    }
    if (pace !== undefined) {
      out += section(
        "Weekday pace",
        pace,
        ", which weigh the days of the period in progress",
      );
    }
    return out;
  }

  /**
   * Reads one KPI's past results back from history. With a number (or
   * `{ n }`), the last `n` results recorded, newest first. With
   * `{ grain, n }`, the latest result of each of the last `n` periods of
   * that grain, newest period first; rows written before grains were kept
   * get the grain their days have (the newest 5000 rows of the KPI are
   * searched).
   *
   * @param name The KPI's name.
   * @param options How many, or `{ n, grain }`. @default 10
   * @returns The results; empty without a history store.
   * @throws {RangeError} for an unknown KPI name, a bad `n` or grain.
   */
  async history(
    name: string,
    options: number | HistoryOptions = 10,
  ): Promise<KPIResult[]> {
    this.#definition(name);
    const { n = 10, grain } = typeof options === "number"
      ? { n: options }
      : options;
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(
        `Cannot read ${n} results: expected a whole number of at least 1`,
      );
    }
    if (!this.#history) return [];
    if (grain === undefined) return await this.#history.history(name, n);
    if (grain !== "custom") checkGrain(grain);
    const rows = await this.#history.history(name, HISTORY_SCAN);
    const seen = new Set<string>();
    const out: KPIResult[] = [];
    for (const row of rows) {
      const rowGrain = row.grain ??
        grainOf(
          { start: row.periodStart, end: row.periodEnd },
          this.config.weekStart,
        );
      if (rowGrain !== grain) continue;
      const key = `${row.periodStart}/${row.periodEnd}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ ...row, grain: rowGrain });
    }
    out.sort((a, b) =>
      a.periodStart < b.periodStart ? 1 : a.periodStart > b.periodStart ? -1 : 0
    );
    return out.slice(0, n);
  }

  /**
   * Computes KPIs for every whole bucket of a grain over a span and writes
   * them into the history store: one row per KPI and bucket, with the grain,
   * the time it was computed and a hash of the KPI's definition. Running it
   * again replaces the rows of the same KPI and period (stores with
   * `replace`; others append, and `history(name, { grain })` reads the
   * latest). No alerts are sent. The bucket holding today is left out.
   *
   * @param names One KPI name, or several; empty means every KPI.
   * @param options The grain, the span and a progress callback.
   * @returns What was written.
   * @throws {TypeError} Without a history store.
   * @throws {RangeError} For an unknown KPI, grain or period, or a bad span.
   */
  async backfill(
    names: string | readonly string[],
    options: BackfillOptions,
  ): Promise<BackfillSummary> {
    const store = this.#history;
    if (!store) {
      throw new TypeError(
        "Cannot backfill without a history store: set audit_log in the file, or history in the engine options",
      );
    }
    const chunkSize = options.chunkSize ?? 50;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new RangeError(
        `Invalid chunkSize ${chunkSize}: expected a whole number of at least 1`,
      );
    }
    const buckets = this.#spanBuckets(options).filter((bucket) =>
      !bucket.partial
    );
    const selected = this.#selectNames(names);
    const hashes = new Map(selected.map((d) => [d.name, this.#hash(d.name)]));
    // What is there already, to count rows of another definition.
    const before = new Map<string, string | undefined>();
    for (const definition of selected) {
      for (const row of await store.history(definition.name, HISTORY_SCAN)) {
        const key = valueKey(definition.name, {
          start: row.periodStart,
          end: row.periodEnd,
        });
        if (!before.has(key)) before.set(key, row.definitionHash);
      }
    }
    const summary: BackfillSummary = {
      grain: options.grain,
      kpis: selected.map((d) => d.name),
      periods: buckets.length,
      written: 0,
      stale: 0,
      failed: 0,
      replaced: store.replace !== undefined,
    };
    const runId = crypto.randomUUID();
    for (let i = 0; i < buckets.length; i += chunkSize) {
      const chunk = buckets.slice(i, i + chunkSize);
      const needed = this.#neededPeriods(selected, chunk, true);
      const values = await this.#fetch(needed, true);
      this.#evaluateDerived(needed, values);
      const recordedAt = new Date(this.#now().epochMilliseconds)
        .toISOString();
      const records: HistoryRecord[] = [];
      for (const bucket of chunk) {
        for (const definition of selected) {
          const { result } = this.#buildResult(definition, bucket, values);
          const hash = hashes.get(definition.name) as string;
          const key = valueKey(definition.name, bucket);
          if (before.has(key) && before.get(key) !== hash) summary.stale++;
          if (result.error !== null) summary.failed++;
          records.push({
            runId,
            runAt: recordedAt,
            periodLabel: bucket.label,
            result: {
              ...result,
              grain: options.grain,
              recordedAt,
              definitionHash: hash,
            },
          });
        }
      }
      if (store.replace) await store.replace(records);
      else await store.append(records);
      summary.written += records.length;
      options.onProgress?.({
        done: Math.min(i + chunkSize, buckets.length),
        total: buckets.length,
        period: (chunk[chunk.length - 1] as SeriesBucket).label,
      });
    }
    return summary;
  }

  /**
   * Prints the SQL queries a run would send, with their parameters, without
   * running anything.
   *
   * @param period A period string. @default "last_month"
   * @param options Which KPIs.
   * @returns The printable plan.
   * @throws {RangeError} for a bad period or an unknown KPI name.
   */
  explain(
    period: string | Period = "last_month",
    options: Pick<RunOptions, "kpis"> = {},
  ): string {
    const resolved = typeof period === "string"
      ? this.resolvePeriod(period)
      : period;
    const dialect = this.#sql?.dialect ?? "sqlite";
    const planOptions = { vars: this.config.vars, fuse: this.#fuse };
    const targets = this.#explainTargets(resolved, options);
    return explainSqlQueries(
      dialect,
      this.#explainRequests(resolved, options),
      planOptions,
    ) + this.#explainInsights(resolved, options) + (targets === null
      ? ""
      : targets.heading + (targets.requests.length > 0
        ? explainSqlQueries(dialect, targets.requests, planOptions)
        : ""));
  }

  /**
   * Like {@linkcode KPIEngine.explain}, and where the database can dry-run a
   * query (BigQuery), each query is followed by the bytes it would read:
   * `-- Dry run: 1,234,567 bytes (1.2 MB) would be processed`. Nothing is
   * run.
   *
   * @param period A period string. @default "last_month"
   * @param options Which KPIs.
   * @returns The printable plan.
   * @throws {RangeError} for a bad period or an unknown KPI name.
   */
  async explainWithDryRun(
    period: string | Period = "last_month",
    options: Pick<RunOptions, "kpis"> = {},
  ): Promise<string> {
    const resolved = typeof period === "string"
      ? this.resolvePeriod(period)
      : period;
    const targets = this.#explainTargets(resolved, options);
    return await this.#dryRunPlan(this.#explainRequests(resolved, options)) +
      this.#explainInsights(resolved, options) +
      (targets === null
        ? ""
        : targets.heading + (targets.requests.length > 0
          ? await this.#dryRunPlan(targets.requests)
          : ""));
  }

  /** Plans the requests and prints them, each with its dry run where the database has one. */
  async #dryRunPlan(requests: SqlValueRequest[]): Promise<string> {
    const { queries, failures } = planSql(
      this.#sql?.dialect ?? "sqlite",
      requests,
      { vars: this.config.vars, fuse: this.#fuse },
    );
    const sql = this.#sql;
    const estimate = sql?.estimateBytes?.bind(sql);
    if (!estimate) return formatExplain(queries, failures);
    const notes = await Promise.all(queries.map(async (query) => {
      try {
        const bytes = await estimate(query.sql, query.params, {
          timeoutMs: query.timeoutMs,
          timezone: query.timezone,
        });
        return `Dry run: ${bytes.toLocaleString("en-US")} bytes (${
          humanBytes(bytes)
        }) would be processed`;
      } catch (error) {
        return `Dry run failed: ${
          error instanceof Error ? error.message : String(error)
        }`;
      }
    }));
    return formatExplain(queries, failures, notes);
  }

  /**
   * The queries that read the selected KPIs' targets from their database
   * (run apart from the values, for the whole period the explained one
   * belongs to), under a heading; null when no selected KPI reads one.
   */
  #explainTargets(
    period: Period,
    options: Pick<RunOptions, "kpis">,
  ): { heading: string; requests: SqlValueRequest[] } | null {
    const sourced = this.#select(options.kpis).flatMap((definition) => {
      const read = targetDefinitions(definition);
      return read === null ? [] : [read];
    });
    if (sourced.length === 0) return null;
    const bucket = bucketOf(period, this.config.weekStart);
    if (bucket === null) {
      return {
        heading:
          `\n-- Targets: not read for ${period.label}: a target is read for a whole day, week, month, quarter or year, or one to date\n`,
        requests: [],
      };
    }
    const whole: Period = {
      label: `${bucket.start}..${bucket.end}`,
      start: bucket.start,
      end: bucket.end,
      timezone: this.config.timezone,
    };
    return {
      heading:
        `\n-- Targets, read apart from the values for the whole ${bucket.grain} ${bucket.start}..${bucket.end}\n`,
      requests: sourced.flatMap(({ read, rows }) => [
        {
          definition: { ...read, name: `${read.name}:target` },
          periods: [whole],
        },
        ...(rows === null ? [] : [{ definition: rows, periods: [whole] }]),
      ]),
    };
  }

  #explainRequests(
    period: string | Period,
    options: Pick<RunOptions, "kpis">,
  ): SqlValueRequest[] {
    const resolved = typeof period === "string"
      ? this.resolvePeriod(period)
      : period;
    const needed = this.#neededPeriods(this.#select(options.kpis), [resolved]);
    const requests: SqlValueRequest[] = [];
    for (const [name, periods] of needed) {
      const definition = this.#definition(name);
      if (definition.source === "sql") {
        requests.push({ definition, periods: [...periods.values()] });
      }
    }
    return requests;
  }

  /**
   * The dimensions a KPI can be broken down by: its own `dimensions`, or
   * for a derived KPI those its inputs share.
   *
   * @param name The KPI's name.
   * @returns The dimensions, possibly none.
   * @throws {RangeError} for an unknown KPI name.
   */
  dimensions(name: string): string[] {
    this.#definition(name);
    return kpiDimensions(this.#byName, name).dimensions;
  }

  /**
   * Breaks one KPI down by one or more dimensions (each on its own): per
   * segment its value, share of the total and comparisons, largest first,
   * the top N kept and the rest folded into an "other" row.
   *
   * @param name The KPI's name.
   * @param period A period string. @default "last_month"
   * @param options The dimensions, top N, cap and comparisons.
   * @returns The breakdown; `error` says why when it cannot be had.
   * @throws {RangeError} for a bad period, an unknown KPI or a bad `top`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const engine = new KPIEngine({
   *   kpis: [{ name: "revenue", source: "dataframe", query: "orders.amount",
   *     aggregation: "sum", timeColumn: "day", dimensions: ["region"], compare: ["MoM"] }],
   *   dataframes: { orders: [
   *     { day: "2024-10-05", amount: 50, region: "EU" },
   *     { day: "2024-11-02", amount: 30, region: "EU" },
   *     { day: "2024-11-03", amount: 70, region: "US" },
   *   ] },
   * });
   * const breakdown = await engine.breakdown("revenue", "2024-11", { by: "region" });
   * const [us, eu] = breakdown.dimensions[0]?.rows ?? [];
   * assert.deepEqual([us?.segment, us?.value, us?.share], [{ region: "US" }, 70, 0.7]);
   * assert.equal(eu?.comparisons.MoM?.change, -20);
   * ```
   */
  async breakdown(
    name: string,
    period: string | Period = "last_month",
    options: BreakdownOptions,
  ): Promise<KPIBreakdown> {
    this.#definition(name);
    const [one] = await this.breakdowns(period, { ...options, kpis: [name] });
    return one as KPIBreakdown;
  }

  /**
   * Breaks several KPIs down at once: every KPI, dimension and period of
   * a table in one query.
   *
   * @param period A period string. @default "last_month"
   * @param options The KPIs, dimensions, top N, cap and comparisons.
   * @returns One breakdown per KPI, in definition order.
   * @throws {RangeError} for a bad period, an unknown KPI or a bad `top`.
   */
  async breakdowns(
    period: string | Period = "last_month",
    options: BreakdownsOptions,
  ): Promise<KPIBreakdown[]> {
    const resolved = typeof period === "string"
      ? this.resolvePeriod(period)
      : period;
    const by = typeof options.by === "string" ? [options.by] : [...options.by];
    const names = options.kpis
      ? this.#select(options.kpis).map((d) => d.name)
      : this.definitions.filter((d) =>
        by.every((dim) => this.dimensions(d.name).includes(dim))
      ).map((d) => d.name);
    const request = { by } as {
      by: string[];
      top?: number;
      cap?: number;
      compare?: readonly ComparisonCode[];
    };
    if (options.top !== undefined) request.top = options.top;
    if (options.cap !== undefined) request.cap = options.cap;
    if (options.compare !== undefined) request.compare = options.compare;
    for (const [key, value] of [["top", options.top], ["cap", options.cap]]) {
      if (
        value !== undefined && !(Number.isInteger(value) && Number(value) >= 1)
      ) {
        throw new RangeError(
          `Invalid ${key} ${value}: expected a whole number of at least 1`,
        );
      }
    }
    return await computeBreakdowns(
      this.#segmentSources(),
      names,
      resolved,
      request,
    );
  }

  /**
   * Says why a KPI changed: each segment's contribution to the change
   * against one comparison (rate and mix effects for ratios), the slices of
   * every dimension ranked together, and what they leave unexplained.
   *
   * @param name The KPI's name.
   * @param period A period string. @default "last_month"
   * @param options The comparison, dimensions and how many drivers.
   * @returns The drivers; `note` says why there are none for KPIs whose
   *   segments do not add up.
   * @throws {RangeError} for a bad period, an unknown KPI or a bad `top`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const engine = new KPIEngine({
   *   kpis: [{ name: "revenue", source: "dataframe", query: "orders.amount",
   *     aggregation: "sum", timeColumn: "day", dimensions: ["region"] }],
   *   dataframes: { orders: [
   *     { day: "2024-10-05", amount: 100.1, region: "EU" },
   *     { day: "2024-10-06", amount: 50.2, region: "US" },
   *     { day: "2024-11-02", amount: 40.05, region: "EU" },
   *     { day: "2024-11-03", amount: 55.2, region: "US" },
   *   ] },
   * });
   * const why = await engine.drivers("revenue", "2024-11", { compare: "MoM" });
   * assert.equal(why.change, -55.05);
   * assert.deepEqual(why.drivers.map((d) => [d.segment.region, d.contribution]), [
   *   ["EU", -60.05], ["US", 5],
   * ]);
   * assert.equal(why.unexplained, 0);
   * ```
   */
  async drivers(
    name: string,
    period: string | Period = "last_month",
    options: DriversOptions = {},
  ): Promise<KPIDrivers> {
    this.#definition(name);
    const resolved = typeof period === "string"
      ? this.resolvePeriod(period)
      : period;
    const request: { compare?: ComparisonCode; by?: string[]; top?: number } =
      {};
    if (options.compare !== undefined) request.compare = options.compare;
    if (options.by !== undefined) {
      request.by = typeof options.by === "string"
        ? [options.by]
        : [...options.by];
    }
    if (options.top !== undefined) {
      if (!(Number.isInteger(options.top) && options.top >= 1)) {
        throw new RangeError(
          `Invalid top ${options.top}: expected a whole number of at least 1`,
        );
      }
      request.top = options.top;
    }
    const [one] = await computeDrivers(
      this.#segmentSources(),
      [name],
      resolved,
      request,
    );
    return one as KPIDrivers;
  }

  /**
   * Prints the breakdown queries `breakdowns()` would send, without
   * running them.
   *
   * @param period A period string. @default "last_month"
   * @param options The KPIs, dimensions and comparisons.
   * @returns The printable plan.
   * @throws {RangeError} for a bad period or an unknown KPI name.
   */
  explainBreakdown(
    period: string | Period = "last_month",
    options: BreakdownsOptions,
  ): string {
    const resolved = typeof period === "string"
      ? this.resolvePeriod(period)
      : period;
    const by = typeof options.by === "string" ? [options.by] : [...options.by];
    const names = this.#select(options.kpis).map((d) => d.name);
    const request: { by: string[]; compare?: readonly ComparisonCode[] } = {
      by,
    };
    if (options.compare !== undefined) request.compare = options.compare;
    return explainBreakdownQueries(
      this.#segmentSources(),
      names,
      resolved,
      request,
    );
  }

  /**
   * For each KPI with dimensions whose alert fired: the drivers of its
   * first comparison, on the result and in the rendered messages.
   */
  async #attachDrivers(
    selected: readonly KPIDefinition[],
    period: Period,
    results: readonly KPIResult[],
    evaluations: Map<string, RuleEvaluation[]>,
  ): Promise<void> {
    const wanted = selected.filter((definition, i) =>
      (results[i]?.alertsTriggered.length ?? 0) > 0 &&
      (definition.compare ?? []).length > 0 &&
      this.dimensions(definition.name).length > 0
    );
    if (wanted.length === 0) return;
    let all: KPIDrivers[];
    try {
      all = await computeDrivers(
        this.#segmentSources(),
        wanted.map((d) => d.name),
        period,
      );
    } catch {
      return; // Drivers add to an alert; they never keep it from going out.
    }
    for (const drivers of all) {
      if (drivers.error || drivers.note || drivers.drivers.length === 0) {
        continue;
      }
      const result = results.find((r) => r.name === drivers.name);
      if (!result) continue;
      result.drivers = {
        compare: drivers.compare,
        change: drivers.change,
        drivers: drivers.drivers,
        unexplained: drivers.unexplained,
      };
      for (const evaluation of evaluations.get(drivers.name) ?? []) {
        if (evaluation.triggered) {
          // The drivers are part of the firing text: word it again.
          evaluation.triggered.message =
            firingAlert(evaluation.rule, result, period.label).message;
        }
      }
    }
  }

  #segmentSources(): SegmentSources {
    return {
      definitions: this.#byName,
      sql: this.#sql,
      dataframes: this.#dataframes,
      vars: this.config.vars,
      maxConcurrency: this.config.maxConcurrency,
    };
  }

  /** The history store, if any (for health checks and alert state). */
  get historyStore(): HistoryStore | HistoryAndAlertStore | undefined {
    return this.#history;
  }

  /** The SQL client, if any (for health checks). */
  get sqlClient(): SqlClient | undefined {
    return this.#sql;
  }

  /** Closes the SQL client and the history store. */
  async close(): Promise<void> {
    await Promise.all([this.#sql?.close(), this.#history?.close()]);
  }

  #hash(name: string): string {
    return definitionHash(this.#definition(name), this.config.vars);
  }

  #definition(name: string): KPIDefinition {
    const definition = this.#byName.get(name);
    if (!definition) {
      throw new RangeError(
        `Unknown KPI "${name}"${expectedOneOf(name, [...this.#byName.keys()])}`,
      );
    }
    return definition;
  }

  /** The buckets of a series or backfill span, in the engine's zone. */
  #spanBuckets(
    options: Pick<SeriesOptions, "grain" | "from" | "to" | "last">,
  ): SeriesBucket[] {
    return seriesBuckets(options.grain, {
      now: this.#now(),
      timezone: this.config.timezone,
      weekStart: this.config.weekStart,
      ...(options.from === undefined ? {} : { from: options.from }),
      ...(options.to === undefined ? {} : { to: options.to }),
      ...(options.last === undefined ? {} : { last: options.last }),
    });
  }

  /** Like `#select`, for one KPI name or several. */
  #selectNames(names: string | readonly string[]): KPIDefinition[] {
    return this.#select(typeof names === "string" ? [names] : names);
  }

  #select(names: readonly string[] | undefined): KPIDefinition[] {
    if (names === undefined || names.length === 0) {
      return [...this.definitions];
    }
    const wanted = new Set(names.map((name) => this.#definition(name).name));
    return this.definitions.filter((d) => wanted.has(d.name));
  }

  /** Every KPI needed (with dependencies) and the periods each needs. */
  #neededPeriods(
    selected: readonly KPIDefinition[],
    periods: readonly Period[],
    comparisons = true,
  ): Map<string, Map<string, Period>> {
    const needed = new Map<string, Map<string, Period>>();
    const add = (name: string, p: Period): void => {
      let periods = needed.get(name);
      if (!periods) needed.set(name, periods = new Map());
      const key = valueKey("", p);
      if (periods.has(key)) return;
      periods.set(key, p);
      const expression = this.#compiled.expressions.get(name);
      for (const dependency of expression?.identifiers ?? []) {
        add(dependency, p);
      }
    };
    for (const definition of selected) {
      for (const period of periods) {
        add(definition.name, period);
        if (!comparisons) continue;
        for (const code of definition.compare ?? []) {
          add(definition.name, shiftPeriod(period, code));
        }
      }
    }
    return needed;
  }

  async #fetch(
    needed: Map<string, Map<string, Period>>,
    series = false,
  ): Promise<Map<string, FetchedValue>> {
    const sqlRequests: SqlValueRequest[] = [];
    const frameRequests: DataFrameValueRequest[] = [];
    const segmentedTemplates: SqlValueRequest[] = [];
    // A windowed KPI is fetched over each period's window, then filed
    // under the period itself.
    const windows: [string, string][] = [];
    for (const [name, periods] of needed) {
      const definition = this.#definition(name);
      let list = [...periods.values()];
      if (definition.window !== undefined && definition.source !== "derived") {
        const window = definition.window;
        list = list.map((period) => {
          const wide = windowPeriod(period, window);
          windows.push([valueKey(name, period), valueKey(name, wide)]);
          return wide;
        });
      }
      const request = { definition, periods: list };
      if (isSegmentedTemplate(definition)) segmentedTemplates.push(request);
      else if (definition.source === "sql") sqlRequests.push(request);
      if (definition.source === "dataframe") frameRequests.push(request);
    }
    const values = new Map<string, FetchedValue>();
    const sqlValues = this.#fetchSql(sqlRequests, series);
    for (
      const [key, value] of fetchDataFrameValues(
        this.#dataframes,
        frameRequests,
      )
    ) {
      values.set(key, value);
    }
    for (const [key, value] of await sqlValues) values.set(key, value);
    for (
      const [key, value] of await this.#fetchSegmentedTemplates(
        segmentedTemplates,
      )
    ) {
      values.set(key, value);
    }
    for (const [key, wide] of windows) {
      const value = values.get(wide);
      if (value) values.set(key, value);
    }
    return values;
  }

  /** Templates with dimensions return one row per segment: the total adds them. */
  async #fetchSegmentedTemplates(
    requests: readonly SqlValueRequest[],
  ): Promise<Map<string, FetchedValue>> {
    const out = new Map<string, FetchedValue>();
    if (requests.length === 0) return out;
    if (!this.#sql) return await this.#fetchSql(requests);
    for (const request of requests) {
      const started = performance.now();
      const data = await fetchSqlSegments(this.#sql, [request], [
        request.definition.dimensions ?? [],
      ], { vars: this.config.vars });
      const durationMs = performance.now() - started;
      const { name } = request.definition;
      for (const period of request.periods) {
        const error = data.errors.get(name) ?? null;
        const cells =
          data.cells.get(segmentDataKey(name, period))?.[0]?.cells ??
            [];
        let sum = 0;
        for (const cell of cells) sum += cell.n;
        out.set(valueKey(name, period), {
          value: error ? null : cleanNumber(sum),
          error,
          durationMs,
        });
      }
    }
    return out;
  }

  async #fetchSql(
    requests: readonly SqlValueRequest[],
    series = false,
  ): Promise<Map<string, FetchedValue>> {
    if (requests.length === 0) return new Map();
    if (!this.#sql) {
      const out = new Map<string, FetchedValue>();
      for (const { definition, periods } of requests) {
        for (const period of periods) {
          out.set(valueKey(definition.name, period), {
            value: null,
            error:
              "No database connection: set `connection` in the file, `--db` on the command line, or `sql` in the engine options",
            durationMs: 0,
          });
        }
      }
      return out;
    }
    if (series && this.#fuse) {
      return await fetchSeriesSql(this.#sql, requests, {
        vars: this.config.vars,
        maxConcurrency: this.config.maxConcurrency,
      });
    }
    return await fetchSqlValues(this.#sql, requests, {
      vars: this.config.vars,
      maxConcurrency: this.config.maxConcurrency,
      fuse: this.#fuse,
    });
  }

  #evaluateDerived(
    needed: Map<string, Map<string, Period>>,
    values: Map<string, FetchedValue>,
  ): void {
    for (const name of this.#compiled.derivedOrder) {
      const periods = needed.get(name);
      const expression = this.#compiled.expressions.get(name);
      if (!periods || !expression) continue;
      for (const period of periods.values()) {
        const started = performance.now();
        const scope: Record<string, number | null> = {};
        let failed: string | null = null;
        for (const dependency of expression.identifiers) {
          const got = values.get(valueKey(dependency, period));
          if (got?.error) {
            failed ??= `Depends on "${dependency}", which failed: ${got.error}`;
          }
          scope[dependency] = got?.value ?? null;
        }
        if (failed) {
          values.set(valueKey(name, period), {
            value: null,
            error: failed,
            durationMs: 0,
          });
          continue;
        }
        const { value, reason } = evaluateExpression(expression, scope);
        const fetched: FetchedValue = {
          value: value === null ? null : cleanNumber(value),
          error: null,
          durationMs: performance.now() - started,
        };
        if (reason !== null) fetched.note = reason;
        values.set(valueKey(name, period), fetched);
      }
    }
  }

  /**
   * Replays the alert rules over past periods, as scheduled runs at the end
   * of each period would have met them: the same evaluation, planning and
   * state machine as live runs, on a simulated clock, with nothing sent and
   * no state or history written. Anomaly baselines learn from the periods
   * before each one, so no stored history is needed.
   *
   * @param options The span (`from`, `to`: period strings), the grain and the KPIs.
   * @returns When each rule would have fired and resolved, notices per
   *   channel, and each period's value for a chart.
   * @throws {RangeError} For a bad grain, period or KPI name.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { KPIEngine, parseKpis } from "@kpi-engine/kpi-engine";
   *
   * const config = parseKpis({
   *   kpis: [{
   *     name: "orders", source: "dataframe", query: "shop.n", aggregation: "sum",
   *     timeColumn: "day", alerts: [{ condition: "< 5", severity: "warning" }],
   *   }],
   *   channels: { ops: { type: "webhook", url: "https://example.com/hook" } },
   * });
   * const engine = new KPIEngine({
   *   config,
   *   dataframes: { shop: { day: ["2024-01-01", "2024-01-02", "2024-01-03"], n: [9, 3, 8] } },
   * });
   * const report = await engine.backtest({ from: "2024-01-01", to: "2024-01-03", grain: "day" });
   * const rule = report.kpis[0]!.rules[0]!;
   * assert.deepEqual(rule.events.map((e) => [e.status, e.period.start]), [
   *   ["firing", "2024-01-02"],
   *   ["resolved", "2024-01-03"],
   * ]);
   * assert.deepEqual(report.notices, { ops: 2 });
   * ```
   */
  async backtest(options: BacktestOptions): Promise<BacktestReport> {
    const grain = checkGrain(options.grain);
    const spanOptions = {
      now: this.#now(),
      timezone: this.config.timezone,
      weekStart: this.config.weekStart,
    };
    const periods = seriesBuckets(grain, {
      ...spanOptions,
      from: options.from,
      ...(options.to === undefined ? {} : { to: options.to }),
    });
    const selected = this.#select(options.kpis).filter((d) =>
      (d.alerts ?? []).length > 0
    );
    const window = Math.max(
      0,
      ...selected.map((d) =>
        d.anomaly ? d.anomaly.window ?? DEFAULT_ANOMALY_WINDOW[grain] : 0
      ),
    );
    const first = periods[0];
    const training = window > 0 && first
      ? seriesBuckets(grain, {
        ...spanOptions,
        to: Temporal.PlainDate.from(first.start).subtract({ days: 1 })
          .toString(),
        last: window,
      })
      : [];
    const all = [...training, ...periods];
    const needed = this.#neededPeriods(selected, all);
    const values = await this.#fetch(needed);
    this.#evaluateDerived(needed, values);
    const valueOf = (name: string, period: Period): number | null => {
      const fetched = values.get(valueKey(name, period));
      return fetched === undefined || fetched.error ? null : fetched.value;
    };
    const targets = await this.#readTargets(selected, periods, true);
    const positions = new Map<Period, number>(all.map((p, i) => [p, i]));
    const series = new Map<
      string,
      { periodStart: string; value: number | null }[]
    >();
    return replayAlerts({
      definitions: selected,
      periods,
      grain,
      channels: Object.keys(this.config.channels ?? {}),
      evaluate: (definition, period) => {
        const index = positions.get(period) ?? 0;
        let samples = series.get(definition.name);
        if (samples === undefined) {
          samples = all.map((p) => ({
            periodStart: p.start,
            value: valueOf(definition.name, p),
          }));
          series.set(definition.name, samples);
        }
        const insight = insightFromSeries(
          definition,
          period,
          grain,
          samples.slice(Math.max(0, index - window), index),
          valueOf(definition.name, period),
          (text) => this.resolvePeriod(text),
          targets.get(valueKey(definition.name, period)),
        );
        return this.#buildResult(definition, period, values, insight);
      },
      runAt: (period) =>
        Temporal.PlainDate.from(period.end).toZonedDateTime({
          timeZone: this.config.timezone,
        }).toInstant(),
    });
  }

  async #insights(
    selected: readonly KPIDefinition[],
    period: Period,
    values: Map<string, FetchedValue>,
  ): Promise<Map<string, KpiInsight>> {
    const asking = selected.filter((d) =>
      d.anomaly !== undefined || d.target !== undefined
    );
    if (asking.length === 0) return new Map();
    const current = new Map(asking.map((d) => {
      const fetched = values.get(valueKey(d.name, period));
      return [d.name, fetched?.error ? null : fetched?.value ?? null];
    }));
    return await computeInsights(asking, period, current, {
      series: (names, options) => this.series(names, options),
      resolvePeriod: (text) => this.resolvePeriod(text),
      readTargets: (definitions, bucket) =>
        this.#readTargets(definitions, [{
          label: `${bucket.start}..${bucket.end}`,
          start: bucket.start,
          end: bucket.end,
          timezone: this.config.timezone,
        }]).then((read) =>
          new Map(
            definitions.map((d) => [
              d.name,
              read.get(valueKey(d.name, bucket)) ?? targetRead(undefined),
            ]),
          )
        ),
      weekStart: this.config.weekStart,
    });
  }

  /**
   * Reads the targets of KPIs whose target comes from their database, for
   * whole periods, on the engine's SQL connection (one fused query per
   * table for a series of periods).
   */
  async #readTargets(
    definitions: readonly KPIDefinition[],
    periods: readonly Period[],
    series = false,
  ): Promise<Map<string, TargetRead>> {
    const reads = definitions.flatMap((definition) => {
      const read = targetDefinitions(definition);
      return read === null ? [] : [read];
    });
    const out = new Map<string, TargetRead>();
    if (reads.length === 0) return out;
    const fetched = await this.#fetchSql(
      reads.flatMap(({ read, rows }) =>
        [read, rows].flatMap((definition) =>
          definition === null ? [] : [{ definition, periods }]
        )
      ),
      series,
    );
    for (const { read, rows } of reads) {
      for (const period of periods) {
        const key = valueKey(read.name, period);
        out.set(
          key,
          targetRead(
            fetched.get(key),
            rows === null
              ? undefined
              : fetched.get(valueKey(rows.name, period)),
          ),
        );
      }
    }
    return out;
  }

  #buildResult(
    definition: KPIDefinition,
    period: Period,
    values: Map<string, FetchedValue>,
    insight?: KpiInsight,
  ): { result: KPIResult; rules: RuleEvaluation[] } {
    const current = values.get(valueKey(definition.name, period)) ??
      { value: null, error: "No value was computed", durationMs: 0 };
    const comparisons: Partial<Record<ComparisonCode, ComparisonResult>> = {};
    for (const code of definition.compare ?? []) {
      const previousPeriod = shiftPeriod(period, code);
      const previous = values.get(valueKey(definition.name, previousPeriod));
      comparisons[code] = compare(current.value, previous?.value ?? null, {
        polarity: definition.polarity ?? "higher_is_better",
        previousPeriod,
      });
    }
    const result: KPIResult = {
      name: definition.name,
      label: definition.label ?? definition.name,
      unit: definition.unit ?? null,
      value: current.error ? null : current.value,
      periodStart: period.start,
      periodEnd: period.end,
      comparisons,
      momChangePct: comparisons.MoM?.changePct ?? null,
      yoyChangePct: comparisons.YoY?.changePct ?? null,
      alertStatus: "ok",
      alertsTriggered: [],
      queryDurationMs: Math.round(current.durationMs * 1000) / 1000,
      error: current.error,
      note: current.note !== undefined && !current.error ? current.note : null,
    };
    if (insight?.anomaly) result.anomaly = insight.anomaly;
    if (insight?.targetNote) result.targetNote = insight.targetNote;
    if (insight?.target) {
      result.target = insight.target.target;
      result.attainment = insight.target.attainment;
      result.projected = insight.target.projected;
      result.pace = insight.target.pace;
    }
    const rules = this.#evaluateRules(definition, result, period, insight);
    result.alertsTriggered = rules.flatMap((r) =>
      r.triggered ? [r.triggered] : []
    );
    result.alertStatus = current.error
      ? "error"
      : worstStatus(result.alertsTriggered);
    return { result, rules };
  }

  #evaluateRules(
    definition: KPIDefinition,
    result: KPIResult,
    period: Period,
    insight?: KpiInsight,
  ): RuleEvaluation[] {
    const conditions = this.#compiled.conditions.get(definition.name) ?? [];
    return (definition.alerts ?? []).map((rule, i) => {
      const holds = result.error === null &&
        evaluateCondition(conditions[i] ?? rule.condition, {
          value: result.value,
          comparisons: result.comparisons,
          anomaly: insight?.anomaly ?? null,
          target: insight?.target?.target ?? null,
          attainment: insight?.target?.attainment ?? null,
          projected: insight?.target?.projected ?? null,
          pace: insight?.target?.pace ?? null,
        });
      const triggered = holds ? firingAlert(rule, result, period.label) : null;
      return {
        rule,
        ruleId: `${rule.severity}:${rule.condition}`,
        holds,
        triggered,
      };
    });
  }
}

/**
 * New results whose triggered alerts carry what the notifier delivered for
 * their rule; results without deliveries are returned as they were.
 */
function withDeliveries(
  results: readonly KPIResult[],
  evaluations: ReadonlyMap<string, readonly RuleEvaluation[]>,
  sent: readonly RuleDeliveries[],
): KPIResult[] {
  const byRule = new Map(
    sent.map((s) => [`${s.kpi}\u0000${s.ruleId}`, s.deliveries]),
  );
  return results.map((result) => {
    const rules = evaluations.get(result.name) ?? [];
    if (!rules.some((r) => byRule.has(`${result.name}\u0000${r.ruleId}`))) {
      return result;
    }
    return {
      ...result,
      alertsTriggered: rules.flatMap((r) => {
        if (r.triggered === null) return [];
        const deliveries = byRule.get(`${result.name}\u0000${r.ruleId}`);
        return [
          deliveries === undefined
            ? r.triggered
            : { ...r.triggered, deliveries: [...deliveries] },
        ];
      }),
    };
  });
}

function isSegmentedTemplate(definition: KPIDefinition): boolean {
  return definition.source === "sql" &&
    typeof definition.query === "string" &&
    (definition.dimensions ?? []).length > 0;
}

function worstStatus(triggered: readonly TriggeredAlert[]): AlertStatus {
  if (triggered.some((t) => t.severity === "critical")) return "critical";
  if (triggered.some((t) => t.severity === "warning")) return "warning";
  return "ok";
}

function compile(definitions: readonly KPIDefinition[]): Compiled {
  const expressions = new Map<string, Expression>();
  const conditions = new Map<string, Condition[]>();
  for (const definition of definitions) {
    if (definition.source === "derived" && definition.expression) {
      expressions.set(definition.name, parseExpression(definition.expression));
    }
    conditions.set(
      definition.name,
      (definition.alerts ?? []).map((rule) => parseCondition(rule.condition)),
    );
  }
  const derivedOrder: string[] = [];
  const visited = new Set<string>();
  const visit = (name: string): void => {
    if (visited.has(name)) return;
    visited.add(name);
    for (const dependency of expressions.get(name)?.identifiers ?? []) {
      visit(dependency);
    }
    if (expressions.has(name)) derivedOrder.push(name);
  };
  for (const name of expressions.keys()) visit(name);
  return { expressions, conditions, derivedOrder };
}

/** `1.2 MB`, `3.4 GB`: decimal units, as BigQuery bills. */
function humanBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * The engine's clock: `now` itself, checked to be a function that returns a
 * `Temporal.Instant` (a fixed value such as a string is refused at once,
 * with the way to write it).
 */
function checkedClock(
  now: (() => Temporal.Instant) | undefined,
): () => Temporal.Instant {
  if (now === undefined) return () => Temporal.Now.instant();
  const example =
    '() => Temporal.Instant.from("2024-12-01T00:00:00Z") for a fixed time';
  if (typeof now !== "function") {
    throw new TypeError(
      `Invalid now ${
        typeof now === "string" ? JSON.stringify(now) : `(${typeof now})`
      }: expected a function returning a Temporal.Instant, e.g. ${example}`,
    );
  }
  return () => {
    const instant: unknown = now();
    if (!(instant instanceof Temporal.Instant)) {
      throw new TypeError(
        `Invalid now(): it returned ${
          typeof instant === "string" ? JSON.stringify(instant) : typeof instant
        }, expected a Temporal.Instant, e.g. ${example}`,
      );
    }
    return instant;
  };
}
