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
  RuleDeliveries,
} from "../../types.ts";
import type { AlertChannel } from "../../ports.ts";
import { planAlerts, type PlannedAlert } from "../../alerts/plan_alerts.ts";
import { describeAlerts } from "../../alerts/describe_alerts.ts";
import { CHANNEL_SENDERS } from "./_senders.ts";
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
   * @default console.log for a dry run, else console.error (problems
   * such as an unreadable alert state must not pass unnoticed)
   */
  log?: (text: string) => void;
}

/** An {@linkcode AlertNotifier} that can also tell what it would send. */
export interface Notifier extends AlertNotifier {
  /** The channels by name. */
  readonly channels: Readonly<Record<string, AlertChannel>>;
  /**
   * Sends a run's alerts (or, in a dry run, logs what would be sent) and
   * returns the deliveries of each rule that holds: one entry per routed
   * channel when the alert was sent this run, `[]` when it had already been.
   */
  notify(batch: AlertBatch): Promise<RuleDeliveries[]>;
  /** What a run's batch calls for, without sending or changing state. */
  plan(batch: AlertBatch): Promise<PlannedAlert[]>;
  /** A plain-text account of what {@linkcode Notifier.notify} would send. */
  describe(batch: AlertBatch): Promise<string>;
}

/** The channel types built in. */
export const ALERT_CHANNEL_TYPES: readonly string[] = [
  ...CHANNEL_SENDERS.keys(),
];

function isChannel(value: unknown): value is AlertChannel {
  return typeof value === "object" && value !== null &&
    typeof (value as { send?: unknown }).send === "function";
}

/**
 * Builds one channel from its settings, by the description of its kind.
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
  const sender = CHANNEL_SENDERS.get(String(config?.type));
  if (sender === undefined) {
    throw new TypeError(
      `Channel "${name}" has unknown type ${
        JSON.stringify(config?.type)
      } (expected one of ${
        ALERT_CHANNEL_TYPES.join(", ")
      }, or an object with send())`,
    );
  }
  return sender.create(config, { name, ...options });
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
 * appended to the store, and `notify` returns each holding rule's deliveries.
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
 *       alertsTriggered: [], queryDurationMs: 1, error: null, note: null,
 *     },
 *     rules: [{ rule, ruleId: "critical:< 100000", holds: true, triggered: null }],
 *   }],
 * });
 * assert.match(lines.join(""), /FIRING revenue \[critical\] "< 100000" → ops \(slack\)/);
 * ```
 */
export function createNotifier(options: CreateNotifierOptions): Notifier {
  const context = notifierContext(options);
  const plan = async (batch: AlertBatch): Promise<PlannedAlert[]> =>
    (await planWithStates(batch, context)).plans;
  return {
    channels: context.channels,
    notify: (batch) => notifyBatch(batch, context),
    plan,
    async describe(batch: AlertBatch): Promise<string> {
      return describeAlerts(await plan(batch), {
        channelTypes: context.channelTypes,
      });
    },
  };
}

/** What a notifier works with, read once from its options. */
interface NotifierContext extends SendContext {
  store: AlertStateStore | null;
  dryRun: boolean;
  channelTypes: Readonly<Record<string, string>>;
}

/**
 * Steps 1 to 3: the limits, the channels built from their settings, the
 * secrets to redact, the clock and where problems are reported.
 */
function notifierContext(options: CreateNotifierOptions): NotifierContext {
  const limits = readLimits(options);
  const { channels, secrets } = openChannels(options, limits.timeoutMs);
  const redact = redactor(secrets);
  const now = options.now ?? (() => Temporal.Now.instant());
  const dryRun = options.dryRun ?? false;
  const log = options.log ??
    // A dry run's account goes to standard output unless told otherwise;
    // problems of a real run go to standard error.
    (dryRun
      // deno-lint-ignore no-console
      ? (text: string) => console.log(text)
      // deno-lint-ignore no-console
      : (text: string) => console.error(text));
  return {
    channels,
    names: Object.keys(channels),
    channelTypes: Object.fromEntries(
      Object.entries(channels).map(([name, channel]) => [name, channel.type]),
    ),
    concurrency: limits.concurrency,
    settings: deliverySettings(options, limits, now, redact),
    now,
    say: (text: string) => log?.(redact(text)),
    store: options.store ?? null,
    dryRun,
  };
}

/**
 * Step 4: plans a batch from the remembered states; also returns the
 * states it read. A rule whose state cannot be read sends nothing this run.
 */
async function planWithStates(
  batch: AlertBatch,
  context: NotifierContext,
): Promise<{
  plans: PlannedAlert[];
  states: Map<string, AlertState | null>;
}> {
  const { store, names } = context;
  const at = context.now();
  if (store === null) {
    return {
      plans: planAlerts(batch, { channels: names, now: at }),
      states: new Map(),
    };
  }
  const { states, unreadable } = await readStates(
    store,
    batch,
    context.concurrency,
    context.say,
  );
  const plans = planAlerts(batch, {
    channels: names,
    now: at,
    getState: (kpi, rule) => states.get(key(kpi, rule)) ?? null,
  });
  // Without its state a rule cannot tell a new alert from one already
  // sent: it sends nothing this run rather than notifying again.
  for (const p of plans) {
    if (unreadable.has(key(p.kpi, p.ruleId)) && p.action !== "none") {
      p.action = "none";
      p.state = null;
      p.problem = "its alert state could not be read";
    }
  }
  return { plans, states };
}

/**
 * Sends a batch's notices (steps 4 to 6: plan, claim, send, save), or in
 * a dry run describes them; returns each holding rule's deliveries.
 */
async function notifyBatch(
  batch: AlertBatch,
  context: NotifierContext,
): Promise<RuleDeliveries[]> {
  const { store, say } = context;
  const { plans, states } = await planWithStates(batch, context);
  if (context.dryRun) {
    say(describeAlerts(plans, { channelTypes: context.channelTypes }));
    return [];
  }
  for (const p of plans) {
    if (p.problem) say(`${p.kpi} ${JSON.stringify(p.ruleId)}: ${p.problem}`);
  }
  const active = await claimPlans(
    store,
    plans.filter((p) => p.action !== "none"),
    states,
    context,
    batch.runId,
  );
  const { sent, records } = await sendPlans(batch, active, context);
  if (store !== null) await saveOutcomes(store, active, sent, records, say);
  return plans.flatMap((p) =>
    p.triggered
      ? [{ kpi: p.kpi, ruleId: p.ruleId, deliveries: sent.get(p) ?? [] }]
      : []
  );
}

/** The validated numeric settings of a notifier. */
interface Limits {
  timeoutMs: number;
  concurrency: number;
  retries: number;
}

/** Step 1: checks the timeout, concurrency and retry count. */
function readLimits(options: CreateNotifierOptions): Limits {
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
  return { timeoutMs, concurrency, retries };
}

/**
 * Step 2: builds each channel from its settings (or takes it as given) and
 * collects the secrets to keep out of logs and errors.
 */
function openChannels(
  options: CreateNotifierOptions,
  timeoutMs: number,
): { channels: Record<string, AlertChannel>; secrets: string[] } {
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
    secrets.push(...channelSecrets(value));
  }
  return { channels, secrets };
}

/** The secret settings of one channel: URLs, keys, passwords, header values. */
function channelSecrets(config: ChannelConfig): string[] {
  const secrets: string[] = [];
  const sender = CHANNEL_SENDERS.get(String(config?.type));
  for (const key of sender?.kind.secretKeys ?? []) {
    const secret = setting(config, key);
    if (typeof secret === "string") secrets.push(secret);
  }
  const headers = setting(config, "headers");
  if (headers && typeof headers === "object") {
    for (const v of Object.values(headers)) {
      if (typeof v === "string") secrets.push(v);
    }
  }
  return secrets;
}

/** Step 3: timeouts, retries, backoff and clock of every delivery. */
function deliverySettings(
  options: CreateNotifierOptions,
  limits: Limits,
  now: () => Temporal.Instant,
  redact: (text: string) => string,
): DeliverySettings {
  return {
    timeoutMs: limits.timeoutMs,
    retries: limits.retries,
    backoffMs: options.backoffMs ?? 500,
    maxBackoffMs: options.maxBackoffMs ?? 30_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
    sleep: options.sleep ??
      ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
    now,
    redact,
  };
}

/**
 * Step 4a: reads the remembered state of every rule in the batch; a rule
 * whose state cannot be read is planned as if it had none.
 */
async function readStates(
  store: AlertStateStore,
  batch: AlertBatch,
  concurrency: number,
  say: (text: string) => void,
): Promise<{
  states: Map<string, AlertState | null>;
  unreadable: Set<string>;
}> {
  const keys: [string, string][] = batch.items.flatMap((item) =>
    item.rules.map((r) => [item.result.name, r.ruleId] as [string, string])
  );
  const states = new Map<string, AlertState | null>();
  const unreadable = new Set<string>();
  await pool(keys, concurrency, async ([kpi, rule]) => {
    try {
      states.set(key(kpi, rule), await store.getAlertState(kpi, rule));
    } catch (error) {
      say(
        `Could not read the alert state of ${kpi} ${
          JSON.stringify(rule)
        }, so no notice is sent for it: ${errorText(error)}`,
      );
      states.set(key(kpi, rule), null);
      unreadable.add(key(kpi, rule));
    }
  });
  return { states, unreadable };
}

/**
 * Step 4b: claims each due notice in the store, so that of several
 * instances planning the same notice from the same state exactly one sends
 * it; returns the plans this instance sends, in order. A plan is kept when
 * there is nothing to coordinate through, or the store could not be asked
 * (a notice is rather sent twice than not at all).
 */
async function claimPlans(
  store: AlertStateStore | null,
  plans: readonly PlannedAlert[],
  states: ReadonlyMap<string, AlertState | null>,
  context: SendContext,
  runId: string,
): Promise<PlannedAlert[]> {
  if (store === null || typeof store.claimNotice !== "function") {
    return [...plans];
  }
  const claim = store.claimNotice.bind(store);
  const kept = new Set<PlannedAlert>();
  await pool([...plans], context.concurrency, async (p) => {
    const previous = states.get(key(p.kpi, p.ruleId)) ?? null;
    const noticeKey = [
      p.message.dedupKey,
      p.message.status,
      p.action,
      previous?.lastSentAt ?? "-",
    ].join("|");
    try {
      if (await claim(noticeKey, context.now().toString())) {
        kept.add(p);
        return;
      }
    } catch (error) {
      context.say(
        `Could not claim the ${p.message.status} notice of ${p.kpi} ${
          JSON.stringify(p.ruleId)
        }; sending it anyway: ${errorText(error)}`,
      );
      kept.add(p);
      return;
    }
    context.say(
      `Alert ${p.message.status} for ${p.kpi} ${
        JSON.stringify(p.ruleId)
      } was already sent by another run (run ${runId} does not send it again)`,
    );
  });
  return plans.filter((p) => kept.has(p));
}

/** What sending needs: the channels, the limits and where to report. */
interface SendContext {
  channels: Readonly<Record<string, AlertChannel>>;
  names: readonly string[];
  concurrency: number;
  settings: DeliverySettings;
  now: () => Temporal.Instant;
  say: (text: string) => void;
}

/**
 * Step 5: sends every due notice to its channels, at most `concurrency` at
 * a time; an unknown channel counts as a failed delivery. Returns each
 * plan's deliveries, in routing order, and every attempt to record.
 */
async function sendPlans(
  batch: AlertBatch,
  active: readonly PlannedAlert[],
  context: SendContext,
): Promise<{
  sent: Map<PlannedAlert, AlertDelivery[]>;
  records: DeliveryRecord[];
}> {
  const { channels, names, say } = context;
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
      records.push(record(batch, p, context.now().toString(), delivery));
    }
  }
  await pool(jobs, context.concurrency, async (job) => {
    const channel = channels[job.name]!;
    const { delivery, attempts } = await deliverAlert(
      job.name,
      channel,
      job.plan.message,
      context.settings,
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
  const sent = new Map<PlannedAlert, AlertDelivery[]>();
  for (const [p, list] of outcomes) {
    sent.set(p, list.filter((d) => d !== undefined));
  }
  return { sent, records };
}

/**
 * Step 6: saves each rule's new state (with the channels that were told)
 * and appends every delivery attempt; a store failure is reported, never
 * thrown.
 */
async function saveOutcomes(
  store: AlertStateStore,
  active: readonly PlannedAlert[],
  sent: ReadonlyMap<PlannedAlert, AlertDelivery[]>,
  records: DeliveryRecord[],
  say: (text: string) => void,
): Promise<void> {
  const writes: Promise<void>[] = [];
  for (const p of active) {
    if (p.state === null) continue;
    const state: AlertState = { ...p.state, channels: [...p.state.channels] };
    if (p.action !== "resolve") {
      for (const d of sent.get(p) ?? []) {
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
  if (records.length > 0) {
    records.sort((a, b) => a.at < b.at ? -1 : a.at > b.at ? 1 : 0);
    writes.push(
      store.appendDeliveries(records).catch((error) =>
        say(`Could not record alert deliveries: ${errorText(error)}`)
      ),
    );
  }
  await Promise.all(writes);
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
