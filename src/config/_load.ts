/**
 * The steps of loading a configuration: read YAML (keeping positions),
 * expand `${VAR}`, validate the shape, run the cross checks, and build the
 * typed `KPIConfig` or throw every issue at once.
 *
 * @module
 */

import {
  isCollection,
  isPair,
  Lexer,
  LineCounter,
  type Node,
  parseDocument,
} from "yaml";
import { checkConfig, type ConfigParsers } from "./_checks.ts";
import { ALL_KEYS, expandAll, fromTypeScript, toCamel } from "./_input.ts";
import { type Locator, yamlLocator } from "./_locate.ts";
import { asRecord, describe, formatPath, type RawIssue } from "./_path.ts";
import { channelKind } from "../adapters/channels/channel_kinds.ts";
import {
  type ChannelData,
  type ConfigData,
  configSchema,
  type KpiData,
  TARGET_SOURCE_MARKS,
  type TargetSourceData,
  translateZodIssue,
} from "./_schema.ts";
import { KPIConfigError, type KPIConfigIssue } from "./kpi_config_error.ts";
import { unclosedQuoteOffset } from "./_unclosed_quote.ts";
import type {
  AlertRule,
  ChannelConfig,
  KPIConfig,
  KPIDefinition,
  PaceSettings,
  RollingWindow,
  ScheduleConfig,
  TargetSource,
} from "../types.ts";
import type { AnomalySettings } from "../anomaly/compute_baseline.ts";

/** Options of one load. */
export interface LoadOptions {
  /** File name for messages. */
  file: string;
  /** Variables for `${VAR}`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Unset variables are warnings; their values are left out. */
  allowMissingEnv?: boolean;
  /** Receives the warnings. */
  onWarning?: (issue: KPIConfigIssue) => void;
}

/** Loads and validates a configuration from YAML text or TypeScript values. */
export function loadConfig(
  source: unknown,
  options: LoadOptions,
  parsers: ConfigParsers,
): KPIConfig {
  const input = readInput(source, options.file);
  const { expanded, issues, unset } = expandInput(input, options);
  const result = configSchema.safeParse(expanded, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) {
      for (const translated of translateZodIssue(issue, input.spell)) {
        if (!unset(translated)) issues.push(translated);
      }
    }
  }
  issues.push(
    ...checkConfig(expanded, parsers, input.spell).filter((issue) =>
      !options.allowMissingEnv || !unset(issue)
    ),
  );
  if (issues.length > 0) input.fail(issues);
  if (!result.success) {
    // Only values that name an unset variable are wrong: with
    // allowMissingEnv, the checked input itself, for checking only.
    if (!options.allowMissingEnv) input.fail(issues);
    return build(expanded as ConfigData);
  }
  return build(result.data);
}

/** The input as plain values, and how to report on it. */
interface Input {
  /** The values as read, in the file's (snake_case) spelling. */
  raw: Record<string, unknown>;
  /** Where a path is in the text (YAML only). */
  locate: Locator;
  /** How keys are spelled in messages (the input's own spelling). */
  spell: (key: string) => string;
  /** The same for the keys inside a message's text. */
  respell: (message: string) => string;
  /** Throws the issues, placed and spelled. */
  fail: (issues: RawIssue[]) => never;
}

/** Step 1: YAML text, or TypeScript values brought to the file's spelling. */
function readInput(source: unknown, file: string): Input {
  const input = (
    raw: unknown,
    locate: Locator,
    spell: (key: string) => string,
    respell: (message: string) => string,
  ): Input => ({
    raw: raw as Record<string, unknown>,
    locate,
    spell,
    respell,
    fail: (issues) => {
      throw new KPIConfigError(place(issues, locate, spell, respell), {
        file,
      });
    },
  });
  if (typeof source === "string") {
    const { doc, counter } = parseYaml(source, file);
    const read = input(null, yamlLocator(doc, counter), (k) => k, (m) => m);
    try {
      read.raw = doc.toJS();
    } catch (error) {
      read.fail([{
        path: [],
        message: `Invalid YAML: ${(error as Error).message}`,
      }]);
    }
    const problem = topLevelProblem(read.raw, source);
    if (problem !== null) read.fail([{ path: [], message: problem }]);
    return read;
  }
  if (Array.isArray(source) || asRecord(source) !== undefined) {
    const spell = (key: string) => ALL_KEYS.has(key) ? toCamel(key) : key;
    return input(
      fromTypeScript(source),
      () => null,
      spell,
      (message) => message.replace(SNAKE_KEY, (word) => spell(word)),
    );
  }
  throw new TypeError(
    `Expected YAML text, a configuration object or a list of KPI definitions, got ${
      describe(source)
    }`,
  );
}

/**
 * Step 1a: parses YAML text, refusing nesting deeper than
 * {@linkcode MAX_YAML_DEPTH} and throwing the syntax errors, each placed.
 */
function parseYaml(
  source: string,
  file: string,
): { doc: ReturnType<typeof parseDocument>; counter: LineCounter } {
  const counter = new LineCounter();
  const tooDeep = (offset: number | null): never => {
    const before = offset === null ? null : source.slice(0, offset);
    throw new KPIConfigError([{
      path: "",
      line: before === null ? null : before.split("\n").length,
      column: before === null ? null : before.length - before.lastIndexOf("\n"),
      message: `Invalid YAML: nested more than ${MAX_YAML_DEPTH} levels deep`,
    }], { file });
  };
  // The YAML composer recurses once per level: refuse deep nesting first.
  const flowDepthAt = deepFlowOffset(source);
  if (flowDepthAt !== null) tooDeep(flowDepthAt);
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(source, {
      lineCounter: counter,
      prettyErrors: false,
      uniqueKeys: true,
      merge: true,
    });
  } catch (error) {
    if (error instanceof RangeError) tooDeep(null);
    throw error;
  }
  const deepAt = deepNodeOffset(doc.contents);
  if (
    deepAt !== null ||
    doc.errors.some((error) => error.message.includes("call stack"))
  ) {
    tooDeep(deepAt);
  }
  if (doc.errors.length > 0) {
    throw new KPIConfigError(yamlIssues(doc.errors, source, counter), {
      file,
    });
  }
  return { doc, counter };
}

/**
 * Step 1b: YAML's syntax errors in sentences: an unquoted `>` or `|`, a
 * string never closed (at its opening quote), a duplicate key by name.
 */
function yamlIssues(
  errors: ReturnType<typeof parseDocument>["errors"],
  source: string,
  counter: LineCounter,
): KPIConfigIssue[] {
  const hinted = new Set<number>();
  return errors.flatMap((error) => {
    const block = blockIndicatorHint(source, error.pos[0]);
    if (block !== null) {
      if (hinted.has(block.offset)) return [];
      hinted.add(block.offset);
      const { line, col } = counter.linePos(block.offset);
      return [{
        path: "",
        line,
        column: col,
        message: `Invalid YAML: ${block.message}`,
      }];
    }
    let at = error.pos[0];
    let message = error.message;
    const quote = /^Missing closing (["'])quote/.exec(message)?.[1];
    if (error.code === "MISSING_CHAR" && quote) {
      const opened = unclosedQuoteOffset(source, at);
      if (opened !== null) {
        at = opened;
        message =
          `The string opened here with ${quote} is never closed: add the closing ${quote}`;
      }
    }
    const { line, col } = counter.linePos(at);
    if (error.code === "DUPLICATE_KEY") {
      const rest = source.slice(error.pos[0]);
      const key = /^("[^"\n]*"|'[^'\n]*'|[^:\n]*?)\s*:/.exec(rest)?.[1] ??
        rest.slice(0, error.pos[1] - error.pos[0]);
      message = `Duplicate key ${
        JSON.stringify(key.replace(/^["']|["']$/g, ""))
      } in a mapping`;
    }
    return [{
      path: "",
      line,
      column: col,
      message: `Invalid YAML: ${message}`,
    }];
  });
}

/** Step 1c: why the file's top is not a mapping, or null when it is. */
function topLevelProblem(raw: unknown, source: string): string | null {
  if (asRecord(raw) !== undefined) return null;
  const looksLikeFile = !source.includes("\n") && /\.ya?ml\s*$/i.test(source);
  return raw === null || raw === undefined
    ? 'The file is empty: expected a mapping with a "kpis" list'
    : `Expected a mapping with a "kpis" list at the top of the file, got ${
      describe(raw)
    }${
      Array.isArray(raw)
        ? " (put the list under kpis:)"
        : looksLikeFile
        ? " (parseKpis() takes YAML text, not a file name)"
        : ""
    }`;
}

/**
 * Step 2: expands `${VAR}` in every value (top-level `x-...` keys, a home
 * for YAML anchors, are left out). Each unset variable is an issue; with
 * `allowMissingEnv` a warning instead, and the values naming it are left
 * out. Returns the values, the issues so far, and whether an issue lies
 * under a value whose variable is unset (reported once, for the variable).
 */
function expandInput(
  input: Input,
  options: LoadOptions,
): {
  expanded: Record<string, unknown>;
  issues: RawIssue[];
  unset: (issue: RawIssue) => boolean;
} {
  const own = Object.fromEntries(
    Object.entries(input.raw).filter(([key]) => !key.startsWith("x-")),
  );
  const issues: RawIssue[] = [];
  let expanded = expandAll(own, options.env, issues) as Record<
    string,
    unknown
  >;
  const unsetPaths = issues.map((issue) => formatPath(issue.path));
  const unset = (issue: RawIssue): boolean => {
    const path = formatPath(issue.path);
    return unsetPaths.some((p) => path === p || path.startsWith(`${p}.`));
  };
  if (options.allowMissingEnv) {
    const missing = issues.filter((issue) => NOT_SET.test(issue.message));
    for (
      const warning of place(missing, input.locate, input.spell, input.respell)
    ) {
      options.onWarning?.(warning);
    }
    issues.splice(
      0,
      issues.length,
      ...issues.filter((i) => !missing.includes(i)),
    );
    // Checked without them: the values that name an unset variable go.
    expanded = withoutPaths(expanded, missing.map((issue) => issue.path));
  }
  return { expanded, issues, unset };
}

/**
 * When the line of a YAML error reads `key: > 100` (an unquoted `>` or `|`
 * followed by more text, which YAML takes for the start of a block of text),
 * where the `>` is and a message that says to quote the value.
 */
function blockIndicatorHint(
  source: string,
  offset: number,
): { offset: number; message: string } | null {
  const lineStart = source.lastIndexOf("\n", offset - 1) + 1;
  const lineEnd = source.indexOf("\n", offset);
  const line = source.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
  const m = /^(\s*(?:-\s+)?([A-Za-z_][\w-]*):[ \t]+)([>|].*?)\s*(?:#.*)?$/
    .exec(line);
  if (!m || /^[>|][-+1-9]*$/.test(m[3]!)) return null;
  const [, lead = "", key = "", value = ""] = m;
  return {
    offset: lineStart + lead.length,
    message: `${
      JSON.stringify(value)
    } starts a block of text (an unquoted ">" or "|" does in YAML): quote the value, as in ${key}: ${
      JSON.stringify(value)
    }`,
  };
}

/** The message of an unset variable, from `expandEnv`. */
const NOT_SET = /^Environment variable ".*" is not set$/;

/** A copy of `value` without the keys (or list items) at `paths`. */
function withoutPaths(
  value: Record<string, unknown>,
  paths: readonly (readonly (string | number)[])[],
): Record<string, unknown> {
  const gone = new Set(paths.map((path) => formatPath(path)));
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (Array.isArray(node)) {
      return node.flatMap((item, i) =>
        gone.has(formatPath([...path, i])) ? [] : [walk(item, [...path, i])]
      );
    }
    if (node !== null && typeof node === "object") {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        if (!gone.has(formatPath([...path, key]))) {
          out[key] = walk(item, [...path, key]);
        }
      }
      return out;
    }
    return node;
  };
  return walk(value, []) as Record<string, unknown>;
}

/** Most levels of nested mappings and lists a file may have. */
const MAX_YAML_DEPTH = 64;

/** Tokens the YAML lexer emits that are not text of the source. */
const LEXER_MARKS = new Set(["\u0002", "\u0018", "\u001f"]);

/**
 * Where flow collections (`{`, `[`) first nest deeper than
 * {@linkcode MAX_YAML_DEPTH}, or null. Reads the YAML lexer's tokens (which
 * keeps no stack), so brackets inside strings and comments do not count.
 */
function deepFlowOffset(source: string): number | null {
  let depth = 0;
  let offset = 0;
  for (const token of new Lexer().lex(source)) {
    if (LEXER_MARKS.has(token)) continue;
    if (token === "{" || token === "[") {
      if (++depth > MAX_YAML_DEPTH) return offset;
    } else if (token === "}" || token === "]") {
      depth = Math.max(0, depth - 1);
    }
    offset += token.length;
  }
  return null;
}

/**
 * Where parsed mappings and lists first nest deeper than
 * {@linkcode MAX_YAML_DEPTH} (block nesting), or null. Walks without
 * recursion.
 */
function deepNodeOffset(root: unknown): number | null {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (isPair(node)) {
      stack.push([node.key, depth], [node.value, depth]);
    } else if (isCollection(node)) {
      if (depth + 1 > MAX_YAML_DEPTH) {
        return (node as Node).range?.[0] ?? null;
      }
      for (const item of node.items) stack.push([item, depth + 1]);
    }
  }
  return null;
}

/** Snake_case words, to be spelled as TypeScript input spells them. */
const SNAKE_KEY = /\b[a-z]+(?:_[a-z]+)+\b/g;

/** Gives issues their positions and spelling, in file order, once each. */
function place(
  issues: readonly RawIssue[],
  locate: Locator,
  spell: (key: string) => string,
  respell: (message: string) => string,
): KPIConfigIssue[] {
  const seen = new Set<string>();
  const placed: KPIConfigIssue[] = [];
  for (const issue of issues) {
    const position = locate(issue.path, issue.atKey);
    const path = formatPath(
      issue.path.map((seg) => typeof seg === "string" ? spell(seg) : seg),
    );
    const id = `${path}\u0000${issue.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    placed.push({
      path,
      line: position?.line ?? null,
      column: position?.column ?? null,
      message: respell(issue.message),
    });
  }
  const order = (x: KPIConfigIssue) =>
    [x.line ?? Infinity, x.column ?? Infinity] as const;
  return placed
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => {
      const [la, ca] = order(a.issue);
      const [lb, cb] = order(b.issue);
      return la - lb || ca - cb || a.i - b.i;
    })
    .map(({ issue }) => issue);
}

function build(data: ConfigData): KPIConfig {
  const config: KPIConfig = {
    timezone: data.timezone ?? "UTC",
    weekStart: data.week_start ?? 1,
    vars: data.vars ?? {},
    channels: Object.fromEntries(
      Object.entries(data.channels ?? {}).map((
        [name, channel],
      ) => [name, buildChannel(channel)]),
    ),
    schedules: (data.schedules ?? []).map((s) => {
      const schedule: ScheduleConfig = { cron: s.cron.trim() };
      if (s.period !== undefined) schedule.period = s.period;
      if (s.kpis !== undefined) schedule.kpis = s.kpis;
      if (s.timezone !== undefined) schedule.timezone = s.timezone;
      return schedule;
    }),
    maxConcurrency: data.max_concurrency ?? 4,
    kpis: data.kpis.map(buildKpi),
  };
  if (data.connection !== undefined) config.connection = data.connection;
  if (data.audit_log !== undefined) config.auditLog = data.audit_log;
  if (data.connect_timeout_ms !== undefined) {
    config.connectTimeoutMs = data.connect_timeout_ms;
  }
  return config;
}

function buildKpi(k: KpiData): KPIDefinition {
  const kpi: KPIDefinition = {
    name: k.name,
    label: k.label ?? k.name,
    source: k.source,
  };
  if (k.description !== undefined) kpi.description = k.description;
  if (k.tags !== undefined) kpi.tags = k.tags;
  if (k.query !== undefined) kpi.query = k.query;
  if (k.expression !== undefined) kpi.expression = k.expression;
  if (k.aggregation !== undefined) kpi.aggregation = k.aggregation;
  if (k.time_column !== undefined) kpi.timeColumn = k.time_column;
  if (k.table !== undefined) {
    kpi.table = k.table;
    kpi.column = k.column ?? "*";
  }
  if (k.filter !== undefined) kpi.filter = k.filter;
  if (k.dimensions !== undefined) kpi.dimensions = k.dimensions;
  if (k.unit !== undefined) kpi.unit = k.unit;
  kpi.compare = k.compare ?? [];
  kpi.polarity = k.polarity ?? "higher_is_better";
  kpi.alerts = (k.alerts ?? []).map((a) => {
    const rule: AlertRule = {
      condition: a.condition,
      severity: a.severity ?? "warning",
    };
    if (a.message !== undefined) rule.message = a.message;
    if (a.channels !== undefined) rule.channels = a.channels;
    if (a.repeat_interval !== undefined) {
      rule.repeatInterval = a.repeat_interval;
    }
    return rule;
  });
  if (k.timeout_ms !== undefined) kpi.timeoutMs = k.timeout_ms;
  if (k.window !== undefined) kpi.window = k.window as RollingWindow;
  if (k.anomaly !== undefined) {
    kpi.anomaly = camelSettings<AnomalySettings>(k.anomaly);
  }
  if (k.target !== undefined) kpi.target = buildTarget(k.target);
  if (k.pace !== undefined) kpi.pace = camelSettings<PaceSettings>(k.pace);
  return kpi;
}

/**
 * A block of settings whose keys are the file's own in camelCase
 * (`min_change` → `minChange`), the keys left out left out.
 */
function camelSettings<T>(settings: Readonly<Record<string, unknown>>): T {
  return Object.fromEntries(
    Object.entries(settings).filter(([, value]) => value !== undefined)
      .map(([key, value]) => [toCamel(key), value]),
  ) as T;
}

/** A target as written, with a source's keys in camelCase. */
function buildTarget(
  target: NonNullable<KpiData["target"]>,
): NonNullable<KPIDefinition["target"]> {
  if (typeof target === "number") return target;
  if (!TARGET_SOURCE_MARKS.some((key) => key in target)) {
    return target as Record<string, number>;
  }
  return camelSettings<TargetSource>(target as TargetSourceData);
}

function buildChannel(c: ChannelData): ChannelConfig {
  const kind = channelKind(c.type);
  // The schema admits only the types of the kinds listed.
  if (kind === undefined) throw new TypeError(`Unknown channel type ${c.type}`);
  return kind.toConfig(c);
}
