import assert from "node:assert/strict";
import { createNotifier } from "../src/adapters/channels/create_notifier.ts";
import { openHistoryStore } from "../src/adapters/history/open_history_store.ts";
import type { AlertChannel, RuleDeliveries } from "../src/ports.ts";
import type { PagerDutyEvent } from "../src/adapters/channels/pagerduty/build_pagerduty_payload.ts";
import type { WebhookPayload } from "../src/adapters/channels/webhook/build_webhook_payload.ts";
import type { AlertBatch, AlertRule, ChannelConfig } from "../src/types.ts";
import {
  closedPort,
  comparison,
  makeBatch,
  makeResult,
  type Receiver,
  startReceiver,
} from "./_alert_receiver.ts";

const critical: AlertRule = { condition: "< 100000", severity: "critical" };

/** A revenue batch for one month; the rule holds when value < 100000. */
function run(
  value: number,
  options: {
    month?: "2024-11" | "2024-12";
    runId?: string;
    rules?: AlertRule[];
    error?: string;
  } = {},
): AlertBatch {
  const month = options.month ?? "2024-11";
  const [periodStart, periodEnd] = month === "2024-11"
    ? ["2024-11-01", "2024-12-01"]
    : ["2024-12-01", "2025-01-01"];
  return makeBatch([{
    result: makeResult("revenue", options.error ? null : value, {
      label: "Revenue",
      periodStart,
      periodEnd,
      comparisons: { MoM: comparison(120000, value) },
      error: options.error ?? null,
    }),
    rules: (options.rules ?? [critical]).map((rule) => ({ rule })),
  }], { runId: options.runId ?? "run", periodLabel: month });
}

function channelsFor(receiver: Receiver): Record<string, ChannelConfig> {
  return {
    slack: {
      type: "slack",
      webhook_url: `${receiver.url}/slack/T0/SECRETPATH`,
    },
    pd: {
      type: "pagerduty",
      integration_key: "PDKEY123",
      url: `${receiver.url}/pd`,
    },
    hook: { type: "webhook", url: `${receiver.url}/hook`, secret: "hush" },
  };
}

/** A clock the test moves by hand. */
function clock(start = "2024-12-01T09:00:00Z") {
  let now = Temporal.Instant.from(start);
  return {
    now: () => now,
    set(iso: string) {
      now = Temporal.Instant.from(iso);
    },
  };
}

function sleeper() {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    },
  };
}

Deno.test("createNotifier() routes each rule to its channels, or to all", async () => {
  const receiver = startReceiver();
  try {
    const batch = run(50000, {
      rules: [
        { condition: "< 100000", severity: "critical", channels: ["pd"] },
        { condition: "< 60000", severity: "warning" },
        { condition: "MoM < -70%", severity: "info" },
      ],
    });
    const sent = await createNotifier({
      channels: channelsFor(receiver),
      sleep: sleeper().sleep,
    })
      .notify(batch);
    const pd = receiver.on("/pd").map((r) =>
      (r.json as PagerDutyEvent).payload?.severity
    )
      .sort();
    assert.deepEqual(pd, ["critical", "warning"]);
    assert.equal(receiver.on("/slack/T0/SECRETPATH").length, 1);
    assert.equal(receiver.on("/hook").length, 1);
    const [, , third] = batch.items[0]!.rules;
    assert.deepEqual(sent.map((s) => s.ruleId), [
      "critical:< 100000",
      "warning:< 60000",
    ]);
    assert.deepEqual(sent[0]?.deliveries.map((d) => d.channel), ["pd"]);
    assert.deepEqual(
      sent[1]?.deliveries.map((d) => d.channel),
      ["slack", "pd", "hook"],
    );
    assert.equal(third?.holds, false);
    assert.equal(third?.triggered, null);
    assert.equal(
      batch.items[0]?.rules[0]?.triggered?.deliveries,
      undefined,
      "the batch is read, never written",
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("createNotifier() records an unknown channel as a failed delivery and still sends the rest", async () => {
  const receiver = startReceiver();
  try {
    const batch = run(50000, {
      rules: [{ ...critical, channels: ["nope", "hook"] }],
    });
    const sent = await createNotifier({ channels: channelsFor(receiver) })
      .notify(batch);
    assert.equal(receiver.on("/hook").length, 1);
    const deliveries = sent[0]?.deliveries;
    assert.deepEqual(deliveries?.map((d) => [d.channel, d.ok, d.attempts]), [
      ["hook", true, 1],
      ["nope", false, 0],
    ]);
    assert.match(
      deliveries?.[1]?.error ?? "",
      /Unknown channel "nope" \(configured: slack, pd, hook\)/,
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("createNotifier() with a store sends firing once however often the run repeats", async () => {
  const receiver = startReceiver();
  const store = await openHistoryStore("kv::memory:");
  try {
    const time = clock();
    const notifier = createNotifier({
      channels: channelsFor(receiver),
      store,
      now: time.now,
    });
    const sent: RuleDeliveries[][] = [];
    for (let i = 0; i < 4; i++) {
      time.set(`2024-12-01T${String(9 + i).padStart(2, "0")}:00:00Z`);
      sent.push(await notifier.notify(run(50000, { runId: `run-${i}` })));
    }
    assert.equal(receiver.on("/slack/T0/SECRETPATH").length, 1);
    assert.equal(receiver.on("/pd").length, 1);
    assert.equal(receiver.on("/hook").length, 1);
    assert.equal(
      sent[0]?.[0]?.deliveries.length,
      3,
    );
    assert.deepEqual(sent[3]?.[0]?.deliveries, []);
    const state = await store.getAlertState("revenue", "critical:< 100000");
    assert.equal(state?.status, "firing");
    assert.deepEqual(state?.channels.sort(), ["hook", "pd", "slack"]);
    assert.equal(state?.firstFiredAt, "2024-12-01T09:00:00Z");
    const deliveries = await store.deliveries("revenue", 10);
    assert.equal(deliveries.length, 3);
    assert.ok(
      deliveries.every((d) => d.runId === "run-0" && d.status === "firing"),
    );
  } finally {
    await store.close();
    await receiver.close();
  }
});

Deno.test("createNotifier() fires again for the next period that still holds", async () => {
  const receiver = startReceiver();
  const store = await openHistoryStore("kv::memory:");
  try {
    const notifier = createNotifier({
      channels: { hook: channelsFor(receiver).hook! },
      store,
    });
    await notifier.notify(run(50000, { month: "2024-11" }));
    await notifier.notify(run(40000, { month: "2024-12" }));
    await notifier.notify(run(40000, { month: "2024-12" }));
    const periods = receiver.on("/hook").map((r) =>
      (r.json as WebhookPayload).period.start
    );
    assert.deepEqual(periods, ["2024-11-01", "2024-12-01"]);
  } finally {
    await store.close();
    await receiver.close();
  }
});

Deno.test("createNotifier() re-sends after repeatInterval while the rule holds", async () => {
  const receiver = startReceiver();
  const store = await openHistoryStore("kv::memory:");
  try {
    const time = clock("2024-12-01T09:00:00Z");
    const notifier = createNotifier({
      channels: { hook: channelsFor(receiver).hook! },
      store,
      now: time.now,
    });
    const rules = [{ ...critical, repeatInterval: "4h" }];
    await notifier.notify(run(50000, { rules }));
    time.set("2024-12-01T12:59:00Z");
    await notifier.notify(run(50000, { rules }));
    time.set("2024-12-01T13:00:00Z");
    await notifier.notify(run(50000, { rules }));
    time.set("2024-12-01T14:00:00Z");
    await notifier.notify(run(50000, { rules }));
    time.set("2024-12-01T17:00:00Z");
    await notifier.notify(run(50000, { rules }));
    const bodies = receiver.on("/hook").map((r) => r.json as WebhookPayload);
    assert.deepEqual(bodies.map((b) => [b.status, b.repeat]), [
      ["firing", false],
      ["firing", true],
      ["firing", true],
    ]);
  } finally {
    await store.close();
    await receiver.close();
  }
});

Deno.test("createNotifier() sends one resolved to the told channels; PagerDuty resolves the same dedup_key", async () => {
  const receiver = startReceiver();
  const store = await openHistoryStore("kv::memory:");
  try {
    const notifier = createNotifier({
      channels: channelsFor(receiver),
      store,
      sleep: sleeper().sleep,
      retries: 0,
    });
    receiver.script("/slack/T0/SECRETPATH", [{
      status: 404,
      body: "no_service",
    }]);
    await notifier.notify(run(50000, { month: "2024-11" }));
    await notifier.notify(run(150000, { month: "2024-12" }));
    await notifier.notify(run(150000, { month: "2024-12" }));
    const pd = receiver.on("/pd").map((r) => r.json as PagerDutyEvent);
    assert.deepEqual(pd.map((e) => e.event_action), ["trigger", "resolve"]);
    assert.equal(pd[1]?.dedup_key, pd[0]?.dedup_key);
    assert.equal(pd[1]?.routing_key, "PDKEY123");
    const hooks = receiver.on("/hook").map((r) => r.json as WebhookPayload);
    assert.deepEqual(hooks.map((h) => h.status), ["firing", "resolved"]);
    assert.equal(hooks[1]?.dedupKey, hooks[0]?.dedupKey);
    assert.match(
      hooks[1]?.message ?? "",
      /^Resolved: Revenue is 150,000 USD for 2024-12/,
    );
    // Slack refused the firing notice, so it is not told of the resolve.
    assert.equal(receiver.on("/slack/T0/SECRETPATH").length, 1);
    const state = await store.getAlertState("revenue", "critical:< 100000");
    assert.equal(state?.status, "resolved");
    const resolved = (await store.deliveries("revenue", 20)).filter((d) =>
      d.status === "resolved"
    );
    assert.deepEqual(resolved.map((d) => d.delivery.channel).sort(), [
      "hook",
      "pd",
    ]);
  } finally {
    await store.close();
    await receiver.close();
  }
});

Deno.test("createNotifier() keeps the state when the KPI could not be computed", async () => {
  const receiver = startReceiver();
  const store = await openHistoryStore("kv::memory:");
  try {
    const notifier = createNotifier({
      channels: { hook: channelsFor(receiver).hook! },
      store,
    });
    await notifier.notify(run(50000));
    await notifier.notify(run(0, { error: "connection refused" }));
    assert.equal(receiver.on("/hook").length, 1);
    const state = await store.getAlertState("revenue", "critical:< 100000");
    assert.equal(state?.status, "firing");
  } finally {
    await store.close();
    await receiver.close();
  }
});

Deno.test("createNotifier() without a store sends every run and never resolves", async () => {
  const receiver = startReceiver();
  try {
    const notifier = createNotifier({
      channels: { hook: channelsFor(receiver).hook! },
    });
    await notifier.notify(run(50000));
    await notifier.notify(run(50000));
    await notifier.notify(run(150000));
    assert.deepEqual(
      receiver.on("/hook").map((r) => (r.json as WebhookPayload).status),
      ["firing", "firing"],
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("createNotifier() retries 5xx with exponential backoff and jitter, then succeeds", async () => {
  const receiver = startReceiver();
  receiver.script("/hook", [{ status: 500 }, { status: 503 }, { status: 502 }]);
  try {
    const { waits, sleep } = sleeper();
    const batch = run(50000);
    const sent = await createNotifier({
      channels: { hook: channelsFor(receiver).hook! },
      sleep,
      random: () => 0.5,
      backoffMs: 100,
    }).notify(batch);
    assert.equal(receiver.on("/hook").length, 4);
    assert.deepEqual(waits, [75, 150, 300]);
    assert.deepEqual(sent[0]?.deliveries, [
      { channel: "hook", ok: true, status: 200, attempts: 4, error: null },
    ]);
  } finally {
    await receiver.close();
  }
});

Deno.test("createNotifier() gives up after the retries and records every attempt", async () => {
  const receiver = startReceiver();
  receiver.script("/hook", Array(3).fill({ status: 500, body: "boom" }));
  const store = await openHistoryStore("kv::memory:");
  try {
    const logs: string[] = [];
    const batch = run(50000, { runId: "r-give-up" });
    const sent = await createNotifier({
      channels: { hook: channelsFor(receiver).hook! },
      store,
      sleep: sleeper().sleep,
      retries: 2,
      log: (text) => logs.push(text),
    }).notify(batch);
    assert.equal(receiver.on("/hook").length, 3);
    const [delivery] = sent[0]?.deliveries ?? [];
    assert.deepEqual(delivery, {
      channel: "hook",
      ok: false,
      status: 500,
      attempts: 3,
      error: "HTTP 500 Internal Server Error: boom",
    });
    const attempts = await store.deliveries("revenue", 10);
    assert.deepEqual(attempts.map((a) => a.delivery.attempts).sort(), [
      1,
      2,
      3,
    ]);
    assert.ok(attempts.every((a) => a.runId === "r-give-up" && !a.delivery.ok));
    assert.match(logs.join("\n"), /not delivered to hook after 3 attempts/);
    // Nobody was told, so the next run tries again.
    await createNotifier({
      channels: { hook: channelsFor(receiver).hook! },
      store,
    })
      .notify(run(50000));
    assert.equal(receiver.on("/hook").length, 4);
  } finally {
    await store.close();
    await receiver.close();
  }
});

Deno.test("createNotifier() does not retry other 4xx answers", async () => {
  const receiver = startReceiver();
  receiver.script("/hook", [{ status: 400, body: "invalid_payload" }]);
  try {
    const batch = run(50000);
    const sent = await createNotifier({
      channels: { hook: channelsFor(receiver).hook! },
    })
      .notify(batch);
    assert.equal(receiver.on("/hook").length, 1);
    assert.equal(
      sent[0]?.deliveries?.[0]?.attempts,
      1,
    );
    assert.equal(
      sent[0]?.deliveries?.[0]?.status,
      400,
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("createNotifier() honours Retry-After in seconds and as an HTTP date, capped", async () => {
  const receiver = startReceiver();
  const time = clock("2024-12-01T09:00:00Z");
  receiver.script("/hook", [
    { status: 429, headers: { "retry-after": "7" } },
    {
      status: 429,
      headers: { "retry-after": "Sun, 01 Dec 2024 09:00:12 GMT" },
    },
    { status: 503, headers: { "retry-after": "3600" } },
  ]);
  try {
    const { waits, sleep } = sleeper();
    const batch = run(50000);
    const sent = await createNotifier({
      channels: { hook: channelsFor(receiver).hook! },
      sleep,
      now: time.now,
      maxRetryAfterMs: 60_000,
    }).notify(batch);
    assert.deepEqual(waits, [7000, 12000, 60000]);
    assert.equal(
      sent[0]?.deliveries?.[0]?.ok,
      true,
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("createNotifier() times out a slow receiver and retries", async () => {
  const receiver = startReceiver();
  receiver.script("/hook", [{ delayMs: 400 }]);
  try {
    const batch = run(50000);
    const sent = await createNotifier({
      channels: { hook: channelsFor(receiver).hook! },
      timeoutMs: 100,
      sleep: sleeper().sleep,
    }).notify(batch);
    const [delivery] = sent[0]?.deliveries ?? [];
    assert.equal(delivery?.ok, true);
    assert.equal(delivery?.attempts, 2);
    const slowOnly = startReceiver();
    slowOnly.script("/hook", [{ delayMs: 300 }]);
    try {
      const failed = run(50000);
      const sentFailed = await createNotifier({
        channels: { hook: { type: "webhook", url: `${slowOnly.url}/hook` } },
        timeoutMs: 50,
        retries: 0,
      }).notify(failed);
      assert.deepEqual(sentFailed[0]?.deliveries, [
        {
          channel: "hook",
          ok: false,
          status: null,
          attempts: 1,
          error: "Timed out after 50 ms",
        },
      ]);
    } finally {
      await slowOnly.close();
    }
  } finally {
    await receiver.close();
  }
});

Deno.test("createNotifier() retries a refused connection and keeps the webhook URL out of the error", async () => {
  const port = closedPort();
  const { waits, sleep } = sleeper();
  const batch = run(50000);
  const logs: string[] = [];
  const sent = await createNotifier({
    channels: {
      slack: {
        type: "slack",
        webhook_url: `http://127.0.0.1:${port}/services/T0/B0/TOPSECRET`,
      },
    },
    sleep,
    retries: 2,
    log: (text) => logs.push(text),
  }).notify(batch);
  const [delivery] = sent[0]?.deliveries ?? [];
  assert.equal(delivery?.ok, false);
  assert.equal(delivery?.status, null);
  assert.equal(delivery?.attempts, 3);
  assert.equal(waits.length, 2);
  assert.match(delivery?.error ?? "", /^Network error: .*Connection refused/);
  assert.match(
    delivery?.error ?? "",
    new RegExp(`http://127\\.0\\.0\\.1:${port}/…`),
  );
  assert.doesNotMatch(delivery?.error ?? "", /TOPSECRET/);
  assert.doesNotMatch(logs.join("\n"), /TOPSECRET/);
});

Deno.test("createNotifier() lets the other channels deliver when one fails", async () => {
  const receiver = startReceiver();
  receiver.script("/pd", Array(4).fill({ status: 500 }));
  try {
    const channels = {
      ...channelsFor(receiver),
      dead: {
        type: "webhook" as const,
        url: `http://127.0.0.1:${closedPort()}/x`,
      },
    };
    const batch = run(50000);
    const sent = await createNotifier({ channels, sleep: sleeper().sleep })
      .notify(batch);
    const deliveries = sent[0]?.deliveries ?? [];
    assert.deepEqual(
      deliveries.map((d) => [d.channel, d.ok]),
      [["slack", true], ["pd", false], ["hook", true], ["dead", false]],
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("createNotifier() delivers in parallel within the concurrency bound", async () => {
  let active = 0;
  let peak = 0;
  const slow: AlertChannel = {
    name: "slow",
    type: "custom",
    async send() {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 20));
      active--;
      return { ok: true, status: 200 };
    },
  };
  const rules: AlertRule[] = Array.from({ length: 12 }, (_, i) => ({
    condition: `< ${100000 + i}`,
    severity: "warning",
  }));
  await createNotifier({ channels: { slow }, concurrency: 4 }).notify(
    run(50000, { rules }),
  );
  assert.equal(peak, 4);
});

Deno.test("createNotifier() in a dry run sends nothing, keeps no state and describes the sends", async () => {
  const receiver = startReceiver();
  const store = await openHistoryStore("kv::memory:");
  try {
    const logs: string[] = [];
    const batch = run(50000);
    const sent = await createNotifier({
      channels: channelsFor(receiver),
      store,
      dryRun: true,
      log: (text) => logs.push(text),
    }).notify(batch);
    assert.equal(receiver.requests.length, 0);
    assert.equal(
      await store.getAlertState("revenue", "critical:< 100000"),
      null,
    );
    assert.deepEqual(sent, []);
    assert.equal(batch.items[0]?.rules[0]?.triggered?.deliveries, undefined);
    assert.match(
      logs.join(""),
      /FIRING revenue \[critical\] "< 100000" → slack \(slack\), pd \(pagerduty\), hook \(webhook\)/,
    );
    const notifier = createNotifier({ channels: channelsFor(receiver), store });
    await notifier.notify(run(50000));
    assert.match(
      await notifier.describe(run(50000)),
      /1 rule still holding, already notified/,
    );
    assert.match(
      await notifier.describe(run(150000, { month: "2024-12" })),
      /RESOLVED revenue/,
    );
    const plans = await notifier.plan(run(150000, { month: "2024-12" }));
    assert.equal(plans[0]?.action, "resolve");
  } finally {
    await store.close();
    await receiver.close();
  }
});
