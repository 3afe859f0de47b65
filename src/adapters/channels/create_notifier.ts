/**
 * The alert notifier: after each run, decides from the remembered alert
 * state what to send, sends it to the routed channels in parallel with
 * timeouts and retries, and records every attempt.
 *
 * @module
 */

import type {
  AlertBatch,
  AlertDelivery,
  AlertNotifier,
  AlertState,
  AlertStateStore,
  ChannelConfig,
  DeliveryRecord,
} from "../../types.ts";
import type { AlertChannel } from "../../ports.ts";
import { planAlerts, type PlannedAlert } from "../../alerts/plan_alerts.ts";
import { describeAlerts } from "../../alerts/describe_alerts.ts";
import { createSlackChannel } from "./slack/create_slack_channel.ts";
import { createEmailChannel } from "./email/create_email_channel.ts";
import { createPagerDutyChannel } from "./pagerduty/create_pagerduty_channel.ts";
import { createWebhookChannel } from "./webhook/create_webhook_channel.ts";
import { deliverAlert, type DeliverySettings } from "./_deliver_alert.ts";
import { errorText, redactor } from "./_redact.ts";
import { setting } from "./_settings.ts";

/** Options of {@linkcode createNotifier}. */
export interface CreateNotifierOptions {
  /**
   * The channels by name: settings as written under `channels:` in YAML
   * (`{ type: "slack", webhook_url: "..." }`; camelCase keys work too), or
   * any object implementing {@linkcode AlertChannel}.
   */
  channels: Readonly<Record<string, ChannelConfig | AlertChannel>>;
  /**
   * Where alert state and delivery attempts are kept (every history store
   * is one). Without it each run stands alone: every rule that holds is
   * sent, and nothing is ever resolved. @default undefined
   */
  store?: AlertStateStore | null;
  /** The fetch HTTP channels use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** The clock. @default Temporal.Now.instant */
  now?: () => Temporal.Instant;
  /** Waits between retries. @default a setTimeout promise */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
  /** Give up on one attempt after this many milliseconds. @default 10000 */
  timeoutMs?: number;
  /** Retries after a first failed attempt (429, 5xx, network). @default 3 */
  retries?: number;
  /** First backoff delay in milliseconds; it doubles each retry. @default 500 */
  backoffMs?: number;
  /** Longest backoff delay in milliseconds. @default 30000 */
  maxBackoffMs?: number;
  /** Longest `Retry-After` wait honoured, in milliseconds. @default 30000 */
  maxRetryAfterMs?: number;
  /** Most deliveries in flight at once. @default 16 */
  concurrency?: number;
  /**
   * Send nothing and change no state: describe what would be sent through
   * `log` instead. @default false
   */
  dryRun?: boolean;
  /**
   * Where the dry-run account and problems (failed deliveries, store
   * errors) go, one text at a time, secrets removed.
   * @default console.log for a dry run, else nothing
   */
  log?: (text: string) => void;
}

/** An {@linkcode AlertNotifier} that can also tell what it would send. */
export interface Notifier extends AlertNotifier {
  /** The channels by name. */
  readonly channels: Readonly<Record<string, AlertChannel>>;
  /**
   * Sends a run's alerts (or, in a dry run, logs what would be sent) and
   * sets `deliveries` on each triggered alert: one entry per routed channel
   * when the alert was sent this run, `[]` when it had already been.
   */
  notify(batch: AlertBatch): Promise<void>;
  /** What a run's batch calls for, without sending or changing state. */
  plan(batch: AlertBatch): Promise<PlannedAlert[]>;
  /** A plain-text account of what {@linkcode Notifier.notify} would send. */
  describe(batch: AlertBatch): Promise<string>;
}

/** The channel types built in. */
export const ALERT_CHANNEL_TYPES: readonly string[] = [
  "slack",
  "email",
  "pagerduty",
  "webhook",
];

const SECRET_KEYS = [
  "webhook_url",
  "url",
  "integration_key",
  "routing_key",
  "password",
  "secret",
];

function isChannel(value: unknown): value is AlertChannel {
  return typeof value === "object" && value !== null &&
    typeof (value as { send?: unknown }).send === "function";
}

/**
 * Builds one channel from its settings.
 *
 * @param name The channel's name.
 * @param config The settings, with `type`.
 * @param options The fetch and the timeout.
 * @returns The channel.
 * @throws {TypeError} For an unknown type or missing settings.
 */
function buildChannel(
  name: string,
  config: ChannelConfig,
  options: { fetch?: typeof fetch; timeoutMs: number },
): AlertChannel {
  const base = options.fetch ? { name, fetch: options.fetch } : { name };
  switch (config?.type) {
    case "slack":
      return createSlackChannel(config, base);
    case "pagerduty":
      return createPagerDutyChannel(config, base);
    case "webhook":
      return createWebhookChannel(config, base);
    case "email":
      return createEmailChannel(config, { name, timeoutMs: options.timeoutMs });
    default:
      throw new TypeError(
        `Channel "${name}" has unknown type ${
          JSON.stringify(config?.type)
        } (expected one of ${
          ALERT_CHANNEL_TYPES.join(", ")
        }, or an object with send())`,
      );
  }
}

/**
 * Creates the alert notifier the engine calls after each run.
 *
 * For each KPI rule it decides, from the state kept in `store`, whether to
 * send (see `decideAlertAction`): a rule that starts to hold sends `firing`
 * once per KPI, period and severity however often the run repeats; its
 * `repeatInterval` sends reminders while it holds; when it stops holding,
 * one `resolved` goes to the channels that were told (PagerDuty gets a
 * `resolve` with the same `dedup_key`). Each rule goes to its `channels`,
 * or to every channel. Without a store each run stands alone.
 *
 * Deliveries run in parallel (at most `concurrency`), each attempt limited
 * to `timeoutMs`, retried up to `retries` times with exponential backoff
 * and jitter on 429, 5xx and network errors (a `Retry-After` of seconds or
 * an HTTP date is honoured up to `maxRetryAfterMs`), never on other
 * answers. A failing channel never stops the others or the run: `notify`
 * does not reject for a delivery or store failure. Every attempt is
 * appended to the store, and each triggered alert gets its `deliveries`.
 * Secrets (webhook URLs, keys, passwords) are kept out of errors and logs.
 *
 * @param options Channels, store, clock and delivery settings.
 * @returns The notifier.
 * @throws {TypeError} When a channel's settings are incomplete or its type unknown.
 *
 * @example A dry run describes what would be sent
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const notifier = createNotifier({
 *   channels: { ops: { type: "slack", webhook_url: "https://hooks.slack.com/services/X" } },
 *   dryRun: true,
 *   log: (text) => lines.push(text),
 * });
 * const rule = { condition: "< 100000", severity: "critical" as const };
 * await notifier.notify({
 *   runId: "r1", runAt: "2024-12-01T09:00:00Z",
 *   period: { label: "2024-11", start: "2024-11-01", end: "2024-12-01", timezone: "UTC" },
 *   items: [{
 *     definition: { name: "revenue", source: "sql", alerts: [rule] },
 *     result: {
 *       name: "revenue", label: "Revenue", unit: "USD", value: 86250,
 *       periodStart: "2024-11-01", periodEnd: "2024-12-01", comparisons: {},
 *       momChangePct: null, yoyChangePct: null, alertStatus: "critical",
 *       alertsTriggered: [], queryDurationMs: 1, error: null,
 *     },
 *     rules: [{ rule, ruleId: "critical:< 100000", holds: true, triggered: null }],
 *   }],
 * });
 * assert.match(lines.join(""), /FIRING revenue \[critical\] "< 100000" → ops \(slack\)/);
 * ```
 */
export function createNotifier(options: CreateNotifierOptions): Notifier {
  const timeoutMs = positive(options.timeoutMs, 10_000, "timeoutMs");
  const concurrency = Math.floor(
    positive(options.concurrency, 16, "concurrency"),
  );
  const retries = Math.floor(options.retries ?? 3);
  if (!(retries >= 0)) {
    throw new RangeError(
      `Invalid retries ${options.retries}: expected 0 or more`,
    );
  }
  const channels: Record<string, AlertChannel> = {};
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(options.channels ?? {})) {
    if (isChannel(value)) {
      channels[name] = value;
      continue;
    }
    const channelOptions: { fetch?: typeof fetch; timeoutMs: number } = {
      timeoutMs,
    };
    if (options.fetch) channelOptions.fetch = options.fetch;
    channels[name] = buildChannel(name, value, channelOptions);
    for (const key of SECRET_KEYS) {
      const secret = setting(value, key);
      if (typeof secret === "string") secrets.push(secret);
    }
    const headers = setting(value, "headers");
    if (headers && typeof headers === "object") {
      for (const v of Object.values(headers)) {
        if (typeof v === "string") secrets.push(v);
      }
    }
  }
  const names = Object.keys(channels);
  const channelTypes = Object.fromEntries(
    Object.entries(channels).map(([name, channel]) => [name, channel.type]),
  );
  const redact = redactor(secrets);
  const now = options.now ?? (() => Temporal.Now.instant());
  const store = options.store ?? null;
  const dryRun = options.dryRun ?? false;
  const log = options.log ??
    // A dry run's account goes to standard output unless told otherwise.
    // deno-lint-ignore no-console
    (dryRun ? (text: string) => console.log(text) : undefined);
  const say = (text: string) => log?.(redact(text));
  const settings: DeliverySettings = {
    timeoutMs,
    retries,
    backoffMs: options.backoffMs ?? 500,
    maxBackoffMs: options.maxBackoffMs ?? 30_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
    sleep: options.sleep ??
      ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
    now,
    redact,
  };

  async function plan(batch: AlertBatch): Promise<PlannedAlert[]> {
    const at = now();
    if (store === null) {
      return planAlerts(batch, { channels: names, now: at });
    }
    const keys: [string, string][] = batch.items.flatMap((item) =>
      item.rules.map((r) => [item.result.name, r.ruleId] as [string, string])
    );
    const states = new Map<string, AlertState | null>();
    await pool(keys, concurrency, async ([kpi, rule]) => {
      try {
        states.set(key(kpi, rule), await store.getAlertState(kpi, rule));
      } catch (error) {
        say(
          `Could not read the alert state of ${kpi} ${JSON.stringify(rule)}: ${
            errorText(error)
          }`,
        );
        states.set(key(kpi, rule), null);
      }
    });
    return planAlerts(batch, {
      channels: names,
      now: at,
      getState: (kpi, rule) => states.get(key(kpi, rule)) ?? null,
    });
  }

  async function notify(batch: AlertBatch): Promise<void> {
    const plans = await plan(batch);
    if (dryRun) {
      say(describeAlerts(plans, { channelTypes }));
      return;
    }
    for (const p of plans) {
      if (p.problem) say(`${p.kpi} ${JSON.stringify(p.ruleId)}: ${p.problem}`);
      if (p.triggered) p.triggered.deliveries = [];
    }
    const active = plans.filter((p) => p.action !== "none");
    type Job = { plan: PlannedAlert; name: string; index: number };
    const jobs: Job[] = [];
    const outcomes = new Map<PlannedAlert, AlertDelivery[]>();
    const records: DeliveryRecord[] = [];
    for (const p of active) {
      const list: AlertDelivery[] = [];
      outcomes.set(p, list);
      p.targets.forEach((name, index) => jobs.push({ plan: p, name, index }));
      for (const name of p.unknownChannels) {
        const delivery: AlertDelivery = {
          channel: name,
          ok: false,
          status: null,
          attempts: 0,
          error: `Unknown channel ${JSON.stringify(name)} (configured: ${
            names.length > 0 ? names.join(", ") : "none"
          })`,
        };
        list[p.targets.length + list.length] = delivery;
        records.push(record(batch, p, now().toString(), delivery));
      }
    }
    await pool(jobs, concurrency, async (job) => {
      const channel = channels[job.name]!;
      const { delivery, attempts } = await deliverAlert(
        job.name,
        channel,
        job.plan.message,
        settings,
      );
      outcomes.get(job.plan)![job.index] = delivery;
      for (const attempt of attempts) {
        records.push(record(batch, job.plan, attempt.at, attempt.delivery));
      }
      if (!delivery.ok) {
        say(
          `Alert ${job.plan.message.status} for ${job.plan.kpi} not delivered to ${job.name} after ${delivery.attempts} attempt${
            delivery.attempts === 1 ? "" : "s"
          }: ${delivery.error}`,
        );
      }
    });
    const writes: Promise<void>[] = [];
    for (const p of active) {
      const deliveries = (outcomes.get(p) ?? []).filter((d) => d !== undefined);
      if (p.triggered) p.triggered.deliveries = deliveries;
      if (store === null || p.state === null) continue;
      const state: AlertState = { ...p.state, channels: [...p.state.channels] };
      if (p.action !== "resolve") {
        for (const d of deliveries) {
          if (d.ok && !state.channels.includes(d.channel)) {
            state.channels.push(d.channel);
          }
        }
      }
      writes.push(
        store.putAlertState(state).catch((error) =>
          say(
            `Could not save the alert state of ${p.kpi} ${
              JSON.stringify(p.ruleId)
            }: ${errorText(error)}`,
          )
        ),
      );
    }
    if (store !== null && records.length > 0) {
      records.sort((a, b) => a.at < b.at ? -1 : a.at > b.at ? 1 : 0);
      writes.push(
        store.appendDeliveries(records).catch((error) =>
          say(`Could not record alert deliveries: ${errorText(error)}`)
        ),
      );
    }
    await Promise.all(writes);
  }

  return {
    channels,
    notify,
    plan,
    async describe(batch: AlertBatch): Promise<string> {
      return describeAlerts(await plan(batch), { channelTypes });
    },
  };
}

function key(kpi: string, rule: string): string {
  return `${kpi}\u0000${rule}`;
}

function record(
  batch: AlertBatch,
  plan: PlannedAlert,
  at: string,
  delivery: AlertDelivery,
): DeliveryRecord {
  return {
    runId: batch.runId,
    at,
    kpi: plan.kpi,
    rule: plan.ruleId,
    status: plan.message.status,
    delivery,
  };
}

function positive(
  value: number | undefined,
  fallback: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Invalid ${name} ${value}: expected a number above zero`,
    );
  }
  return value;
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runners = Array.from(
    { length: Math.min(limit, items.length) },
    async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    },
  );
  await Promise.all(runners);
}
