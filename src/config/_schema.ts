/**
 * The zod schemas of the configuration file, in its own (snake_case)
 * spelling, and the translation of zod's issues into sentences. Internal:
 * the public API speaks in the interfaces of `types.ts`.
 *
 * @module
 */

import { z } from "zod";
import { DURATION_PATTERN } from "./_duration.ts";
import {
  asRecord,
  describe,
  type PathSegment,
  quote,
  type RawIssue,
} from "./_path.ts";
import { didYouMean } from "./_suggest.ts";
import { AGGREGATIONS, COMPARISON_CODES } from "../types.ts";
import {
  CHANNEL_KINDS,
  CHANNEL_TYPES,
} from "../adapters/channels/channel_kinds.ts";
import type { ChannelSettingsData } from "../adapters/channels/channel_kind.ts";
import { nonEmpty, positiveInt } from "./setting_schemas.ts";

/** Most characters of a KPI name (PostgreSQL's identifier limit). */
export const MAX_NAME_LENGTH = 63;

/** Most characters of a KPI label. */
export const MAX_LABEL_LENGTH = 200;

/** A KPI, variable or channel name. */
export const NAME_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The sources, polarities and severities. */
export const SOURCES = ["sql", "dataframe", "derived"] as const;
export const POLARITIES = ["higher_is_better", "lower_is_better"] as const;
export const SEVERITIES = ["info", "warning", "critical"] as const;

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === "") return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function timeZoneMessage(input: unknown): string {
  const hint = typeof input === "string"
    ? didYouMean(input, Intl.supportedValuesOf("timeZone"))
    : "";
  return `Unknown time zone ${
    quote(input)
  }${hint} (expected an IANA zone such as "UTC", "Europe/Paris" or "America/New_York")`;
}

const timeZone = z.string().refine(isTimeZone, {
  error: (iss) => timeZoneMessage(iss.input),
});

export const alertSchema = z.strictObject({
  condition: nonEmpty("condition"),
  severity: z.enum(SEVERITIES).optional(),
  message: z.string().optional(),
  channels: z.array(z.string()).optional(),
  repeat_interval: z.string().regex(DURATION_PATTERN, {
    error: (iss) =>
      `Invalid repeat_interval ${
        quote(iss.input)
      } (expected a number and a unit: ms, s, m, h, d or w, e.g. "30m", "4h", "1d")`,
  }).optional(),
});

const share = (key: string) =>
  z.number().min(0, {
    error: (iss) => `"${key}" must be from 0 to 1, got ${describe(iss.input)}`,
  }).max(1, {
    error: (iss) => `"${key}" must be from 0 to 1, got ${describe(iss.input)}`,
  });

export const anomalySchema = z.strictObject({
  window: positiveInt("window").optional(),
  seasonal: z.enum(["auto", "weekday", "none"]).optional(),
  sensitivity: z.number().positive({
    error: (iss) =>
      `"sensitivity" must be a positive number, got ${describe(iss.input)}`,
  }).optional(),
  direction: z.enum(["both", "drop", "rise"]).optional(),
  min_change: share("min_change").optional(),
  min_points: positiveInt("min_points").optional(),
  trend: z.boolean().optional(),
});

export const paceSchema = z.strictObject({
  method: z.enum(["calendar", "weekday"]).optional(),
  min_elapsed: share("min_elapsed").optional(),
});

/** A target read from the KPI's database: a template, or a table's column. */
export const targetSourceSchema = z.strictObject({
  query: nonEmpty("query").optional(),
  table: nonEmpty("table").optional(),
  column: nonEmpty("column").optional(),
  time_column: nonEmpty("time_column").optional(),
  aggregation: z.enum(["sum", "avg", "last"]).optional(),
  filter: nonEmpty("filter").optional(),
});

/** A target source as validated. */
export type TargetSourceData = z.infer<typeof targetSourceSchema>;

/** The keys that make a `target:` mapping a source rather than periods. */
export const TARGET_SOURCE_MARKS: readonly string[] = ["query", "table"];

export const kpiSchema = z.strictObject({
  name: z.string().regex(NAME_PATTERN, {
    error: (iss) =>
      `Invalid KPI name ${
        quote(iss.input)
      } (expected letters, digits and underscores, not starting with a digit)`,
  }).max(MAX_NAME_LENGTH, {
    error: (iss) =>
      `KPI name of ${
        String(iss.input).length
      } characters is too long: expected at most ${MAX_NAME_LENGTH}`,
  }),
  label: z.string().max(MAX_LABEL_LENGTH, {
    error: (iss) =>
      `Label of ${
        String(iss.input).length
      } characters is too long: expected at most ${MAX_LABEL_LENGTH}`,
  }).optional(),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  source: z.enum(SOURCES),
  query: nonEmpty("query").optional(),
  expression: nonEmpty("expression").optional(),
  aggregation: z.enum(AGGREGATIONS as ["sum", "avg", "count", "last", "rate"])
    .optional(),
  time_column: nonEmpty("time_column").optional(),
  table: nonEmpty("table").optional(),
  column: nonEmpty("column").optional(),
  filter: nonEmpty("filter").optional(),
  dimensions: z.array(
    z.string().regex(NAME_PATTERN, {
      error: (iss) =>
        `Invalid dimension ${
          quote(iss.input)
        } (expected a column name: letters, digits and underscores, not starting with a digit)`,
    }),
  ).optional(),
  unit: z.string().optional(),
  compare: z.array(
    z.enum(COMPARISON_CODES as ["DoD", "WoW", "MoM", "QoQ", "YoY"]),
  ).optional(),
  polarity: z.enum(POLARITIES).optional(),
  alerts: z.array(alertSchema).optional(),
  timeout_ms: positiveInt("timeout_ms").optional(),
  window: z.string().regex(/^([1-9]\d{0,3}d|mtd|qtd|ytd)$/, {
    error: (iss) =>
      `Invalid window ${
        quote(iss.input)
      } (expected a number of days such as "7d" or "28d", or mtd, qtd, ytd)`,
  }).optional(),
  anomaly: anomalySchema.optional(),
  target: z.union([
    z.number(),
    z.record(z.string(), z.number()),
    targetSourceSchema,
  ], {
    error: (iss) =>
      `"target" must be a number, a mapping of period to number (e.g. "2024-11": 300000), or a mapping with "query" (a SQL template) or "table", "column" and "time_column", got ${
        describe(iss.input)
      }`,
  }).optional(),
  pace: paceSchema.optional(),
});

/** Each kind's settings, as its folder describes them. */
export const channelSchema = z.discriminatedUnion(
  "type",
  CHANNEL_KINDS.map((kind) => kind.settings) as unknown as [
    z.ZodObject<{ type: z.ZodLiteral<string> }>,
    ...z.ZodObject<{ type: z.ZodLiteral<string> }>[],
  ],
);

export const scheduleSchema = z.strictObject({
  cron: z.string().refine(
    (s) =>
      /^[0-9A-Za-z*,/?LW#-]+(?:\s+[0-9A-Za-z*,/?LW#-]+){4}$/.test(s.trim()),
    {
      error: (iss) =>
        `Invalid cron expression ${
          quote(iss.input)
        } (expected five fields: minute hour day-of-month month day-of-week, e.g. "0 9 1 * *")`,
    },
  ),
  period: nonEmpty("period").optional(),
  kpis: z.array(z.string()).optional(),
  timezone: timeZone.optional(),
});

function weekStartMessage(iss: { input?: unknown }): string {
  return `"week_start" must be 1 (Monday) to 7 (Sunday), got ${
    describe(iss.input)
  }`;
}

const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: (iss) =>
    `A variable must be a string, number or boolean, got ${
      describe(iss.input)
    }`,
});

export const configSchema = z.strictObject({
  connection: nonEmpty("connection").optional(),
  timezone: timeZone.optional(),
  week_start: z.number().int().min(1, { error: weekStartMessage }).max(7, {
    error: weekStartMessage,
  }).optional(),
  vars: z.record(z.string(), scalar).optional(),
  audit_log: nonEmpty("audit_log").optional(),
  channels: z.record(z.string(), channelSchema).optional(),
  schedules: z.array(scheduleSchema).optional(),
  max_concurrency: positiveInt("max_concurrency").optional(),
  connect_timeout_ms: positiveInt("connect_timeout_ms").optional(),
  kpis: z.array(kpiSchema),
});

/** A validated configuration, still in the file's spelling. */
export type ConfigData = z.output<typeof configSchema>;
/** A validated KPI, still in the file's spelling. */
export type KpiData = z.output<typeof kpiSchema>;
/** A validated channel, still in the file's spelling. */
export type ChannelData = ChannelSettingsData;

/** The keys each kind of mapping accepts, for "unknown key" messages. */
export const TOP_KEYS: readonly string[] = Object.keys(configSchema.shape);
export const KPI_KEYS: readonly string[] = Object.keys(kpiSchema.shape);
export const ALERT_KEYS: readonly string[] = Object.keys(alertSchema.shape);
export const ANOMALY_KEYS: readonly string[] = Object.keys(anomalySchema.shape);
export const PACE_KEYS: readonly string[] = Object.keys(paceSchema.shape);
export const TARGET_KEYS: readonly string[] = Object.keys(
  targetSourceSchema.shape,
);
export const SCHEDULE_KEYS: readonly string[] = Object.keys(
  scheduleSchema.shape,
);
export const CHANNEL_KEYS: Readonly<Record<string, readonly string[]>> = Object
  .fromEntries(
    CHANNEL_KINDS.map((kind) => [kind.type, Object.keys(kind.settings.shape)]),
  );

/** The keys the mapping at `path` accepts. */
function acceptedKeys(
  path: readonly PathSegment[],
  input: unknown,
): readonly string[] {
  const [first, , third] = path;
  if (path.length === 0) return TOP_KEYS;
  if (first === "kpis" && path.length === 2) return KPI_KEYS;
  if (first === "kpis" && path.length === 3) {
    const nested: Record<string, readonly string[]> = {
      anomaly: ANOMALY_KEYS,
      pace: PACE_KEYS,
      target: TARGET_KEYS,
    };
    return nested[String(third)] ?? [];
  }
  if (first === "kpis" && third === "alerts" && path.length === 4) {
    return ALERT_KEYS;
  }
  if (first === "schedules" && path.length === 2) return SCHEDULE_KEYS;
  if (first === "channels" && path.length === 2) {
    return CHANNEL_KEYS[String(asRecord(input)?.type)] ?? ["type"];
  }
  return [];
}

const NOUNS: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
};

const ENUM_LABELS: Readonly<Record<string, string>> = {
  compare: "comparison",
  type: "channel type",
};

/** How keys are spelled in messages (the input's own spelling). */
export type KeySpelling = (key: string) => string;

/**
 * A `target:` mapping with "query" or "table" is a source: its own
 * mistakes (an unknown key, a wrong aggregation) say so, instead of the
 * union's summary.
 */
function targetSourceIssues(
  issue: z.core.$ZodIssue,
  path: readonly PathSegment[],
  input: unknown,
  spell: KeySpelling,
): RawIssue[] | null {
  const record = asRecord(input);
  if (
    path.at(-1) !== "target" || record === undefined ||
    !TARGET_SOURCE_MARKS.some((key) => key in record) ||
    !("errors" in issue)
  ) {
    return null;
  }
  const parsed = targetSourceSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return null;
  return parsed.error.issues.flatMap((inner) =>
    translateZodIssue(
      { ...inner, path: [...path, ...inner.path] } as z.core.$ZodIssue,
      spell,
    )
  );
}

/** Where an issue is, and the key and value it is about. */
interface IssueSite {
  path: PathSegment[];
  /** The key as the input spells it (the list's key for an item). */
  key: string;
  /** The key in the file's spelling, or the list's for an item. */
  rawKey: string;
  input: unknown;
  /** Whether the value is an item of a list. */
  inList: boolean;
}

/** Turns one zod issue into the sentences users read. */
export function translateZodIssue(
  issue: z.core.$ZodIssue,
  spell: KeySpelling,
): RawIssue[] {
  const path = issue.path as PathSegment[];
  const last = path.at(-1);
  const site: IssueSite = {
    path,
    key: typeof last === "string"
      ? spell(last)
      : typeof path.at(-2) === "string"
      ? spell(String(path.at(-2)))
      : "value",
    rawKey: typeof last === "string" ? last : String(path.at(-2)),
    input: issue.input,
    inList: typeof last === "number",
  };
  if (issue.code === "unrecognized_keys") {
    return unknownKeys(issue.keys, site, spell);
  }
  if (
    site.input === undefined && !site.inList &&
    (issue.code === "invalid_type" || issue.code === "invalid_value" ||
      issue.code === "invalid_union")
  ) {
    return [{
      path,
      message: issue.code === "invalid_union" && "discriminator" in issue
        ? missingChannelType()
        : `Missing required key ${JSON.stringify(site.key)}`,
    }];
  }
  switch (issue.code) {
    case "invalid_type":
      return [{ path, message: wrongType(issue.expected, site) }];
    case "invalid_value":
      return [{ path, message: wrongValue(issue.values.map(String), site) }];
    case "invalid_union":
      if ("discriminator" in issue) {
        return [{ path, message: wrongChannelType(site.input) }];
      }
      return targetSourceIssues(issue, path, site.input, spell) ??
        [{ path, message: issue.message }];
    case "too_small":
    case "too_big": {
      if (!issue.message.startsWith("Too ")) {
        return [{ path, message: issue.message }];
      }
      const bound = issue.code === "too_small"
        ? `at least ${issue.minimum}`
        : `at most ${issue.maximum}`;
      return [{
        path,
        message: `"${site.key}" must be ${bound}, got ${describe(site.input)}`,
      }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

/** Each unknown key, at the key, with the keys the mapping accepts. */
function unknownKeys(
  keys: readonly string[],
  site: IssueSite,
  spell: KeySpelling,
): RawIssue[] {
  const accepted = acceptedKeys(site.path, site.input).map(spell);
  return keys.map((unknown) => ({
    path: [...site.path, unknown],
    atKey: true,
    message: `Unknown key ${JSON.stringify(unknown)}${
      didYouMean(unknown, accepted)
    } (accepted: ${accepted.join(", ")})`,
  }));
}

/**
 * A value of the wrong kind: `Expected a number for "x", got ...`; a string
 * where a list belongs shows the list to write.
 */
function wrongType(expected: string, site: IssueSite): string {
  const noun = NOUNS[expected] ?? expected;
  const where = site.inList ? `in "${site.key}"` : `for "${site.key}"`;
  const list = expected === "array" && typeof site.input === "string"
    ? `: write [${site.input}]`
    : "";
  return `Expected ${noun} ${where}, got ${describe(site.input)}${list}`;
}

/** A value outside an enum, with a suggestion for a near miss. */
function wrongValue(values: readonly string[], site: IssueSite): string {
  const { input, key } = site;
  if (typeof input !== "string") {
    return `Expected one of ${values.join(", ")} for "${key}", got ${
      describe(input)
    }`;
  }
  const label = ENUM_LABELS[site.rawKey] ?? key;
  return `Unknown ${label} ${JSON.stringify(input)}${
    didYouMean(input, values)
  } (expected one of ${values.join(", ")})`;
}

function missingChannelType(): string {
  return `Missing required key "type" (one of ${CHANNEL_TYPES.join(", ")})`;
}

/** A channel whose `type` is missing or names no kind. */
function wrongChannelType(input: unknown): string {
  const type = asRecord(input)?.type;
  if (type === undefined) return missingChannelType();
  return `Unknown channel type ${quote(type)}${
    typeof type === "string" ? didYouMean(type, CHANNEL_TYPES) : ""
  } (expected one of ${CHANNEL_TYPES.join(", ")})`;
}
