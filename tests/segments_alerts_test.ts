import assert from "node:assert/strict";
import { KPIEngine } from "../mod.ts";
import { createNotifier } from "../src/adapters/channels/create_notifier.ts";
import type { PagerDutyEvent } from "../src/adapters/channels/pagerduty/build_pagerduty_payload.ts";
import type { WebhookPayload } from "../src/adapters/channels/webhook/build_webhook_payload.ts";
import type { SlackPayload } from "../src/adapters/channels/slack/build_slack_payload.ts";
import { parseMail, startReceiver, startSmtp } from "./_alert_receiver.ts";

/** Revenue by region and channel: EU falls by 1,200 in November, ads by 100 more in US. */
function orders(): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const day of ["2024-10-10", "2024-11-10"]) {
    for (const region of ["EU", "US", "APAC"]) {
      for (const channel of ["web", "ads"]) {
        let amount = 1000;
        if (day === "2024-11-10" && region === "EU") amount = 400;
        if (day === "2024-11-10" && region === "US" && channel === "ads") {
          amount = 900;
        }
        rows.push({ day, region, channel, amount });
      }
    }
  }
  return rows;
}

Deno.test("a firing alert names its drivers: in the message, {{ drivers }}, and on Slack, email, PagerDuty and webhook", async () => {
  const receiver = startReceiver();
  const smtp = await startSmtp({ noStartTls: true });
  try {
    const notifier = createNotifier({
      channels: {
        slack: { type: "slack", webhook_url: `${receiver.url}/slack` },
        pd: {
          type: "pagerduty",
          integration_key: "KEY",
          url: `${receiver.url}/pd`,
        },
        hook: { type: "webhook", url: `${receiver.url}/hook` },
        mail: {
          type: "email",
          smtp_host: "127.0.0.1",
          smtp_port: smtp.port,
          from: "kpi@example.com",
          to: ["team@example.com"],
        },
      },
    });
    const engine = new KPIEngine({
      kpis: [{
        name: "revenue",
        label: "Revenue",
        source: "dataframe",
        query: "orders.amount",
        aggregation: "sum",
        timeColumn: "day",
        unit: "USD",
        dimensions: ["region", "channel"],
        compare: ["MoM"],
        alerts: [
          { condition: "MoM < -10%", severity: "critical" },
          {
            condition: "< 6000",
            severity: "warning",
            message: "Revenue fell; drivers: {{ drivers }}",
          },
        ],
      }],
      dataframes: { orders: orders() },
      notifier,
    });
    const [result] = await engine.run("2024-11");
    assert.equal(result?.alertStatus, "critical");
    assert.equal(result?.drivers?.compare, "MoM");
    assert.deepEqual(
      result?.drivers?.drivers.map((d) => [d.segment, d.contribution]),
      [[{ region: "EU" }, -1200], [{ region: "US" }, -100]],
    );
    const [first, second] = result?.alertsTriggered ?? [];
    assert.match(
      first?.message ?? "",
      /; MoM -1,300 USD: region=EU -1,200 \(92%\), region=US -100 \(8%\)$/,
    );
    assert.equal(
      second?.message,
      "Revenue fell; drivers: region=EU -1,200 (92%), region=US -100 (8%)",
    );

    const slack = receiver.on("/slack").map((r) => r.json as SlackPayload);
    assert.equal(slack.length, 2);
    assert.ok(
      JSON.stringify(slack[0]?.blocks).includes(
        "*Drivers (MoM)*\\n• region=EU -1,200 (92%)",
      ),
    );
    const pd = receiver.on("/pd").map((r) => r.json as PagerDutyEvent);
    const details = pd[0]?.payload?.custom_details as {
      drivers?: { compare: string; summary: string; segments: unknown[] };
    };
    assert.equal(details.drivers?.compare, "MoM");
    assert.equal(details.drivers?.segments.length, 2);
    assert.match(details.drivers?.summary ?? "", /^region=EU -1,200 \(92%\)/);
    const hook = receiver.on("/hook").map((r) => r.json as WebhookPayload);
    assert.equal(hook[0]?.driversCompare, "MoM");
    assert.deepEqual(hook[0]?.drivers?.[0], {
      segment: { region: "EU" },
      contribution: -1200,
      contributionPct: 92.3076923076923,
      value: 800,
      previousValue: 2000,
    });
    assert.equal(smtp.mails.length, 2);
    const mail = parseMail(smtp.mails[0]!.raw);
    assert.match(mail.text, /Drivers \(MoM\): +region=EU -1,200 \(92%\)/);
    assert.match(mail.html, /Drivers \(MoM\)/);
  } finally {
    await receiver.close();
    await smtp.close();
  }
});

Deno.test("a KPI without dimensions alerts as before, with no drivers", async () => {
  const engine = new KPIEngine({
    kpis: [{
      name: "revenue",
      source: "dataframe",
      query: "orders.amount",
      aggregation: "sum",
      timeColumn: "day",
      compare: ["MoM"],
      alerts: [{ condition: "MoM < -10%", severity: "warning" }],
    }],
    dataframes: { orders: orders() },
  });
  const [result] = await engine.run("2024-11");
  assert.equal(result?.alertStatus, "warning");
  assert.equal(result?.drivers, undefined);
  assert.doesNotMatch(result?.alertsTriggered[0]?.message ?? "", /region/);
});
