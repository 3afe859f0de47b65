/**
 * Brings TypeScript input to the file's spelling, and expands `${VAR}` in
 * every string value.
 *
 * @module
 */

import { expandEnv } from "./expand_env.ts";
import { asRecord, type PathSegment, type RawIssue } from "./_path.ts";
import {
  ALERT_KEYS,
  ANOMALY_KEYS,
  CHANNEL_KEYS,
  KPI_KEYS,
  PACE_KEYS,
  SCHEDULE_KEYS,
  TARGET_KEYS,
  TOP_KEYS,
} from "./_schema.ts";

/** Every key the file format knows, in snake_case. */
export const ALL_KEYS: ReadonlySet<string> = new Set([
  ...TOP_KEYS,
  ...KPI_KEYS,
  ...ALERT_KEYS,
  ...ANOMALY_KEYS,
  ...PACE_KEYS,
  ...TARGET_KEYS,
  ...SCHEDULE_KEYS,
  ...Object.values(CHANNEL_KEYS).flat(),
]);

/** Keys that cannot be stored as plain data in an object literal. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__"]);

const CHANNEL_KEY_SET = new Set(Object.values(CHANNEL_KEYS).flat());

/** `time_column` → `timeColumn`. */
export function toCamel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function toSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * A copy of one mapping with camelCase keys known at that level renamed to
 * snake_case and undefined values dropped; `inner` maps the values of some
 * keys further.
 */
function rekey(
  value: unknown,
  known: ReadonlySet<string> | readonly string[],
  inner: Readonly<Record<string, (v: unknown) => unknown>> = {},
): unknown {
  const record = asRecord(value);
  if (record === undefined) return value;
  const has = (k: string) =>
    Array.isArray(known)
      ? known.includes(k)
      : (known as ReadonlySet<string>).has(k);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    if (v === undefined) continue;
    const snake = toSnake(key);
    const name = !has(key) && has(snake) ? snake : key;
    // defineProperty keeps a "__proto__" key as data, for expandAll to report.
    Object.defineProperty(out, name, {
      value: inner[name] ? inner[name](v) : v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

const mapList = (f: (v: unknown) => unknown) => (v: unknown): unknown =>
  Array.isArray(v) ? v.map(f) : v;

const mapValues = (f: (v: unknown) => unknown) => (v: unknown): unknown => {
  const record = asRecord(v);
  if (record === undefined) return v;
  return Object.fromEntries(
    Object.entries(record).filter(([, x]) => x !== undefined).map((
      [k, x],
    ) => [k, f(x)]),
  );
};

const alert = (v: unknown) => rekey(v, ALERT_KEYS);
const kpi = (v: unknown) =>
  rekey(v, KPI_KEYS, {
    alerts: mapList(alert),
    anomaly: (a) => rekey(a, ANOMALY_KEYS),
    pace: (p) => rekey(p, PACE_KEYS),
    // Period keys ("2024-11") are not target keys and stay as they are.
    target: (t) => rekey(t, TARGET_KEYS),
  });
const channel = (v: unknown) => rekey(v, CHANNEL_KEY_SET);
const schedule = (v: unknown) => rekey(v, SCHEDULE_KEYS);

/**
 * TypeScript input (camelCase, or snake_case) in the file's spelling: a
 * whole configuration object, or a list of KPI definitions.
 */
export function fromTypeScript(input: unknown): unknown {
  if (Array.isArray(input)) return { kpis: input.map(kpi) };
  return rekey(input, TOP_KEYS, {
    kpis: mapList(kpi),
    channels: mapValues(channel),
    schedules: mapList(schedule),
  });
}

/**
 * A copy of `value` with `${VAR}` expanded in every string (keys stay as
 * written); each failure becomes an issue at its path.
 */
export function expandAll(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  issues: RawIssue[],
  path: PathSegment[] = [],
): unknown {
  if (typeof value === "string") {
    try {
      return expandEnv(value, env);
    } catch (error) {
      issues.push({ path, message: (error as Error).message });
      return value;
    }
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => expandAll(item, env, issues, [...path, i]));
  }
  const record = asRecord(value);
  const proto = record === undefined
    ? undefined
    : Object.getPrototypeOf(record);
  if (record !== undefined && (proto === Object.prototype || proto === null)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(record)) {
      if (RESERVED_KEYS.has(key)) {
        // Assigned, it would set the object's prototype and vanish: a
        // channel of that name would route its alerts nowhere.
        issues.push({
          path: [...path, key],
          atKey: true,
          message: `Invalid name ${
            JSON.stringify(key)
          }: it is reserved in JavaScript objects; choose another name`,
        });
        continue;
      }
      out[key] = expandAll(v, env, issues, [...path, key]);
    }
    return out;
  }
  return value;
}
