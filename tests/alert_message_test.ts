import assert from "node:assert/strict";
import {
  ALERT_TEMPLATE_VARIABLES,
  renderAlertMessage,
} from "../src/alerts/render_alert_message.ts";
import { parseDuration } from "../src/alerts/parse_duration.ts";
import { alertDedupKey } from "../src/alerts/alert_dedup_key.ts";
import { buildSlackPayload } from "../src/adapters/channels/slack/build_slack_payload.ts";
import { buildPagerDutyPayload } from "../src/adapters/channels/pagerduty/build_pagerduty_payload.ts";
import { buildWebhookPayload } from "../src/adapters/channels/webhook/build_webhook_payload.ts";
import { buildEmailContent } from "../src/adapters/channels/email/build_email_content.ts";
import { describeAlerts } from "../src/alerts/describe_alerts.ts";
import { planAlerts } from "../src/alerts/plan_alerts.ts";
import type { AlertMessage } from "../src/ports.ts";
import { comparison, makeBatch, makeResult } from "./_alert_receiver.ts";

const revenue = () =>
  makeResult("revenue", 1234567.891, {
    label: "Revenue",
    comparisons: { MoM: comparison(1000000, 1234567.891) },
  });

Deno.test("renderAlertMessage() fills every documented placeholder", () => {
  const result = makeResult("revenue", 86250, {
    label: "Revenue",
    comparisons: {
      MoM: comparison(100000, 86250),
      YoY: comparison(80000, 86250),
    },
  });
  const rule = {
    condition: "MoM < -10%",
    severity: "critical" as const,
    message: "{{label}}|{{ name }}|{{ value }}|{{ raw_value }}|{{ unit }}|" +
      "{{ period }}|{{ period_start }}|{{ period_end }}|{{ period_range }}|" +
      "{{ severity }}|{{ condition }}|{{ MoM }}|{{ MoM.pct }}|{{ MoM.change }}|" +
      "{{ MoM.previous }}|{{ MoM.arrow }}|{{ YoY }}|{{ YoY.arrow }}|{{ WoW }}",
  };
  assert.equal(
    renderAlertMessage(rule, result, { periodLabel: "last_month" }),
    "Revenue|revenue|86,250|86250|USD|last_month|2024-11-01|2024-12-01|" +
      "2024-11-01 to 2024-11-30|critical|MoM < -10%|-13.8%|-13.8%|-13,750|" +
      "100,000|▼|+7.8%|▲|n/a",
  );
  assert.ok(ALERT_TEMPLATE_VARIABLES.includes("period_range"));
});

Deno.test("renderAlertMessage() leaves unknown placeholders as written", () => {
  const rule = {
    condition: "< 1",
    severity: "warning" as const,
    message: "{{ nope }} {{ MoM.nope }} {{ label.x }} {{ label }}",
  };
  assert.equal(
    renderAlertMessage(rule, revenue()),
    "{{ nope }} {{ MoM.nope }} {{ label.x }} Revenue",
  );
});

Deno.test("renderAlertMessage() default names value, unit, period, condition and changes", () => {
  const rule = { condition: "> 1000000", severity: "info" as const };
  assert.equal(
    renderAlertMessage(rule, revenue(), { periodLabel: "last_month" }),
    'Revenue is 1,234,567.89 USD for last_month (2024-11-01 to 2024-11-30): "> 1000000" holds (MoM +23.5%)',
  );
  assert.equal(
    renderAlertMessage(rule, revenue(), {
      periodLabel: "2024-11",
      resolved: true,
    }),
    'Resolved: Revenue is 1,234,567.89 USD for 2024-11: "> 1000000" no longer holds (MoM +23.5%)',
  );
});

Deno.test("renderAlertMessage() formats small, negative, percent-unit and missing values", () => {
  const rule = { condition: "< 1", severity: "warning" as const };
  const cases: [number | null, string | null, string][] = [
    [0.012345, "%", "0.01235%"],
    [-2500.5, "USD", "-2,500.5 USD"],
    [42, null, "42"],
    [0, "orders", "0 orders"],
    [null, "USD", "n/a"],
  ];
  for (const [value, unit, shown] of cases) {
    const text = renderAlertMessage(
      rule,
      makeResult("x", value, {
        unit,
        periodStart: "2024-11-05",
        periodEnd: "2024-11-06",
      }),
    );
    assert.equal(text, `x is ${shown} for 2024-11-05: "< 1" holds`);
  }
  const failed = makeResult("x", null, { error: "table missing" });
  assert.match(
    renderAlertMessage(rule, failed),
    /x could not be computed for 2024-11-01 to 2024-11-30 \(table missing\)/,
  );
});

Deno.test("renderAlertMessage() signs changes and marks zero and unknown", () => {
  const rule = {
    condition: "< 1",
    severity: "warning" as const,
    message: "{{ MoM }} {{ MoM.change }} {{ YoY }} {{ YoY.change }} {{ QoQ }}",
  };
  const result = makeResult("x", 5, {
    comparisons: {
      MoM: comparison(5, 5),
      YoY: comparison(0, 5),
      QoQ: {
        ...comparison(1, 5),
        previousValue: null,
        change: null,
        changePct: null,
      },
    },
  });
  assert.equal(renderAlertMessage(rule, result), "0.0% 0 n/a +5 n/a");
});

Deno.test("parseDuration() reads 4h, 30m, 1d and refuses the rest", () => {
  assert.equal(parseDuration("4h"), 14_400_000);
  assert.equal(parseDuration("30m"), 1_800_000);
  assert.equal(parseDuration("1d"), 86_400_000);
  assert.equal(parseDuration(" 1h30m "), 5_400_000);
  assert.equal(parseDuration("1w"), 604_800_000);
  for (const bad of ["", "4", "h", "4 hours", "-1h", "0m", "1.5h"]) {
    assert.throws(() => parseDuration(bad), RangeError, bad);
  }
  assert.throws(() => parseDuration(4 as unknown as string), TypeError);
});

Deno.test("alertDedupKey() is stable, distinct per period and at most 255 characters", () => {
  const a = alertDedupKey("revenue", "critical:< 1", {
    periodStart: "2024-11-01",
    periodEnd: "2024-12-01",
  });
  assert.equal(
    a,
    alertDedupKey("revenue", "critical:< 1", {
      periodStart: "2024-11-01",
      periodEnd: "2024-12-01",
    }),
  );
  assert.notEqual(
    a,
    alertDedupKey("revenue", "critical:< 1", {
      periodStart: "2024-12-01",
      periodEnd: "2025-01-01",
    }),
  );
  const long1 = alertDedupKey("k", `warning:${"value > 1 and ".repeat(30)}a`, {
    periodStart: "2024-11-01",
    periodEnd: "2024-12-01",
  });
  const long2 = alertDedupKey("k", `warning:${"value > 1 and ".repeat(30)}b`, {
    periodStart: "2024-11-01",
    periodEnd: "2024-12-01",
  });
  assert.ok(long1.length <= 255 && long2.length <= 255);
  assert.notEqual(long1, long2);
});

function message(overrides: Partial<AlertMessage> = {}): AlertMessage {
  return {
    status: "firing",
    repeat: false,
    kpi: { name: "revenue", label: "Revenue <EU>", unit: "USD" },
    value: 86250,
    period: { label: "last_month", start: "2024-11-01", end: "2024-12-01" },
    severity: "critical",
    condition: "MoM < -10%",
    rule: "critical:MoM < -10%",
    message: "Revenue fell & it hurts",
    comparisons: {
      MoM: comparison(100000, 86250),
      YoY: comparison(80000, 86250),
    },
    dedupKey: "kpi-engine/revenue/critical:MoM < -10%/2024-11-01..2024-12-01",
    runId: "run-1",
    runAt: "2024-12-01T09:00:00Z",
    ...overrides,
  };
}

Deno.test("buildSlackPayload() has a header, value, period, arrows per comparison, severity and message", () => {
  const body = buildSlackPayload(message());
  const json = JSON.stringify(body);
  assert.deepEqual(body.blocks[0], {
    type: "header",
    text: {
      type: "plain_text",
      text: "🔴 Revenue <EU>: critical",
      emoji: true,
    },
  });
  assert.match(json, /\*Value\*\\n86,250 USD/);
  assert.match(json, /\*Period\*\\nlast_month \(2024-11-01 to 2024-11-30\)/);
  assert.match(json, /\*Severity\*\\ncritical/);
  assert.match(json, /\*MoM\* ▼ -13\.8% \(-13,750 USD vs 100,000 USD\)/);
  assert.match(json, /\*YoY\* ▲ \+7\.8% \(\+6,250 USD vs 80,000 USD\)/);
  assert.match(json, /Revenue fell &amp; it hurts/);
  assert.match(body.text, /^CRITICAL: Revenue &lt;EU&gt; is 86,250 USD/);
  const resolved = buildSlackPayload(message({ status: "resolved" }));
  assert.match(JSON.stringify(resolved.blocks[0]), /✅ Revenue <EU>: resolved/);
  const repeat = buildSlackPayload(message({ repeat: true }));
  assert.match(JSON.stringify(repeat.blocks[0]), /still firing/);
});

Deno.test("buildPagerDutyPayload() triggers with mapped severity and resolves with the same dedup_key", () => {
  for (const severity of ["critical", "warning", "info"] as const) {
    const event = buildPagerDutyPayload(message({ severity }), "KEY");
    assert.equal(event.event_action, "trigger");
    assert.equal(event.payload?.severity, severity);
    assert.equal(event.routing_key, "KEY");
  }
  const trigger = buildPagerDutyPayload(message(), "KEY", { source: "shop" });
  assert.equal(trigger.payload?.source, "shop");
  assert.match(
    trigger.payload?.summary ?? "",
    /Revenue <EU> is 86,250 USD for last_month/,
  );
  assert.deepEqual(trigger.payload?.custom_details.changes, {
    MoM: "-13.8%",
    YoY: "+7.8%",
  });
  const resolve = buildPagerDutyPayload(message({ status: "resolved" }), "KEY");
  assert.equal(resolve.event_action, "resolve");
  assert.equal(resolve.dedup_key, trigger.dedup_key);
  assert.equal(resolve.payload, undefined);
});

Deno.test("buildWebhookPayload() carries status, kpi, value, period, severity, condition, message and comparisons", () => {
  const body = buildWebhookPayload(message());
  for (
    const key of [
      "status",
      "kpi",
      "value",
      "period",
      "severity",
      "condition",
      "message",
      "comparisons",
    ]
  ) {
    assert.ok(key in body, key);
  }
  assert.deepEqual(body.kpi, {
    name: "revenue",
    label: "Revenue <EU>",
    unit: "USD",
  });
  assert.deepEqual(body.period, {
    label: "last_month",
    start: "2024-11-01",
    end: "2024-12-01",
  });
  assert.equal(body.comparisons.MoM?.previousValue, 100000);
  assert.equal(body.status, "firing");
});

Deno.test("buildEmailContent() puts severity and label in the subject and escapes the HTML", () => {
  const mail = buildEmailContent(message());
  assert.equal(mail.subject, "KPI alert [CRITICAL]: Revenue <EU>");
  assert.match(mail.text, /^Revenue fell & it hurts\n/);
  assert.match(mail.text, /Value: +86,250 USD/);
  assert.match(mail.text, /MoM: +▼ -13\.8% \(-13,750 USD vs 100,000 USD\)/);
  assert.match(mail.html, /Revenue &lt;EU&gt;: CRITICAL/);
  assert.match(mail.html, /Revenue fell &amp; it hurts/);
  assert.doesNotMatch(mail.html, /<EU>/);
  assert.equal(
    buildEmailContent(message({ status: "resolved" })).subject,
    "KPI alert [RESOLVED]: Revenue <EU>",
  );
});

Deno.test("describeAlerts() lists what would be sent and what is already notified", () => {
  const batch = makeBatch([
    {
      result: makeResult("revenue", 500),
      rules: [{
        rule: {
          condition: "< 1000",
          severity: "critical",
          channels: ["ops", "ghost"],
        },
      }],
    },
    {
      result: makeResult("orders", 5),
      rules: [{ rule: { condition: "> 10", severity: "warning" } }],
    },
  ]);
  const plans = planAlerts(batch, {
    channels: ["ops", "mail"],
    now: Temporal.Instant.from("2024-12-01T09:00:00Z"),
  });
  const text = describeAlerts(plans, { channelTypes: { ops: "slack" } });
  assert.equal(
    text,
    [
      "Alerts (dry run, nothing sent):",
      '  FIRING revenue [critical] "< 1000" → ops (slack), ghost (unknown channel, skipped)',
      '    revenue is 500 USD for 2024-11: "< 1000" holds',
      "",
    ].join("\n"),
  );
  const again = planAlerts(batch, {
    channels: ["ops", "mail"],
    now: Temporal.Instant.from("2024-12-01T10:00:00Z"),
    getState: (kpi, rule) =>
      kpi === "revenue"
        ? {
          kpi,
          rule,
          status: "firing",
          severity: "critical",
          periodStart: "2024-11-01",
          periodEnd: "2024-12-01",
          channels: ["ops"],
          firstFiredAt: "2024-12-01T09:00:00Z",
          lastSentAt: "2024-12-01T09:00:00Z",
        }
        : null,
  });
  assert.equal(
    describeAlerts(again),
    [
      "Alerts (dry run, nothing sent):",
      "  No alerts to send.",
      "  1 rule still holding, already notified.",
      "",
    ].join("\n"),
  );
});
