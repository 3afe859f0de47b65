import assert from "node:assert/strict";
import { createNotifier } from "../src/adapters/channels/create_notifier.ts";
import { createEmailChannel } from "../src/adapters/channels/email/create_email_channel.ts";
import { createSlackChannel } from "../src/adapters/channels/slack/create_slack_channel.ts";
import { createPagerDutyChannel } from "../src/adapters/channels/pagerduty/create_pagerduty_channel.ts";
import { createWebhookChannel } from "../src/adapters/channels/webhook/create_webhook_channel.ts";
import type { AlertRule } from "../src/types.ts";
import type { PagerDutyEvent } from "../src/adapters/channels/pagerduty/build_pagerduty_payload.ts";
import type { WebhookPayload } from "../src/adapters/channels/webhook/build_webhook_payload.ts";
import {
  comparison,
  makeBatch,
  makeResult,
  parseMail,
  startReceiver,
  startSmtp,
} from "./_alert_receiver.ts";

const rule: AlertRule = {
  condition: "MoM < -10%",
  severity: "critical",
  message: "{{ label }} fell {{ MoM }} to {{ value }} {{ unit }}",
};

function revenueBatch() {
  return makeBatch([{
    result: makeResult("revenue", 86250, {
      label: "Revenue",
      comparisons: { MoM: comparison(100000, 86250) },
    }),
    rules: [{ rule }],
  }]);
}

const fast = { sleep: () => Promise.resolve(), timeoutMs: 2000 };

Deno.test("Slack channel posts a Block Kit message to the webhook URL", async () => {
  const receiver = startReceiver();
  try {
    const batch = revenueBatch();
    const sent = await createNotifier({
      channels: {
        ops: {
          type: "slack",
          webhook_url: `${receiver.url}/services/T0/B0/SECRET`,
        },
      },
      ...fast,
    }).notify(batch);
    const [request] = receiver.on("/services/T0/B0/SECRET");
    assert.ok(request);
    assert.match(
      request.headers.get("content-type") ?? "",
      /application\/json/,
    );
    const body = request.json as {
      text: string;
      blocks: Record<string, unknown>[];
    };
    assert.equal(body.blocks[0]?.type, "header");
    const json = JSON.stringify(body);
    assert.match(json, /🔴 Revenue: critical/);
    assert.match(json, /86,250 USD/);
    assert.match(json, /\*MoM\* ▼ -13\.8%/);
    assert.match(json, /Revenue fell -13\.8% to 86,250 USD/);
    assert.deepEqual(sent[0]?.deliveries, [
      { channel: "ops", ok: true, status: 200, attempts: 1, error: null },
    ]);
  } finally {
    await receiver.close();
  }
});

Deno.test("Slack channel takes `url` alone, camelCase `webhookUrl`, and `url` over `webhook_url`", async () => {
  const receiver = startReceiver();
  try {
    await createNotifier({
      channels: {
        a: { type: "slack", url: `${receiver.url}/a` },
        b: { type: "slack", webhookUrl: `${receiver.url}/b` },
        c: {
          type: "slack",
          webhook_url: "https://hooks.slack.com/services/T0/B0/X",
          url: `${receiver.url}/c`,
        },
      },
      ...fast,
    }).notify(revenueBatch());
    assert.equal(receiver.on("/a").length, 1);
    assert.equal(receiver.on("/b").length, 1);
    assert.equal(receiver.on("/c").length, 1);
  } finally {
    await receiver.close();
  }
});

Deno.test("PagerDuty channel sends an Events v2 trigger with the routing key and dedup_key", async () => {
  const receiver = startReceiver();
  receiver.script("/v2/enqueue", [{
    status: 202,
    body: '{"status":"success"}',
  }]);
  try {
    const batch = revenueBatch();
    const sent = await createNotifier({
      channels: {
        oncall: {
          type: "pagerduty",
          integration_key: "R0UTINGKEY",
          url: `${receiver.url}/v2/enqueue`,
        },
      },
      ...fast,
    }).notify(batch);
    const event = receiver.on("/v2/enqueue")[0]?.json as PagerDutyEvent;
    assert.equal(event.routing_key, "R0UTINGKEY");
    assert.equal(event.event_action, "trigger");
    assert.equal(
      event.dedup_key,
      "kpi-engine/revenue/critical:MoM < -10%/2024-11-01..2024-12-01",
    );
    assert.equal(event.payload?.severity, "critical");
    assert.equal(event.payload?.component, "revenue");
    assert.match(
      event.payload?.summary ?? "",
      /Revenue is 86,250 USD for 2024-11/,
    );
    assert.equal(event.payload?.custom_details.value, 86250);
    assert.equal(
      sent[0]?.deliveries?.[0]?.status,
      202,
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("PagerDuty channel maps warning and info severities", async () => {
  const receiver = startReceiver();
  try {
    const batch = makeBatch([{
      result: makeResult("orders", 5),
      rules: [
        { rule: { condition: "< 10", severity: "warning" } },
        { rule: { condition: "< 20", severity: "info" } },
      ],
    }]);
    await createNotifier({
      channels: {
        pd: { type: "pagerduty", routing_key: "K", url: `${receiver.url}/pd` },
      },
      ...fast,
    }).notify(batch);
    const severities = receiver.on("/pd").map((r) =>
      (r.json as { payload: { severity: string } }).payload.severity
    ).sort();
    assert.deepEqual(severities, ["info", "warning"]);
  } finally {
    await receiver.close();
  }
});

async function hmacHex(body: string, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify", "sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(body),
  );
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

Deno.test("webhook channel POSTs the contract's JSON, signed with HMAC-SHA256 of the raw body", async () => {
  const receiver = startReceiver();
  try {
    await createNotifier({
      channels: {
        hook: {
          type: "webhook",
          url: `${receiver.url}/kpi`,
          secret: "s3cret-value",
          headers: { Authorization: "Bearer tok-123" },
        },
      },
      ...fast,
    }).notify(revenueBatch());
    const [request] = receiver.on("/kpi");
    assert.ok(request);
    const signature = request.headers.get("x-kpi-signature");
    assert.equal(
      signature,
      `sha256=${await hmacHex(request.body, "s3cret-value")}`,
    );
    assert.notEqual(
      signature,
      `sha256=${await hmacHex(request.body, "other")}`,
    );
    assert.equal(request.headers.get("authorization"), "Bearer tok-123");
    const body = request.json as WebhookPayload;
    assert.equal(body.status, "firing");
    assert.deepEqual(body.kpi, {
      name: "revenue",
      label: "Revenue",
      unit: "USD",
    });
    assert.equal(body.value, 86250);
    assert.deepEqual(body.period, {
      label: "2024-11",
      start: "2024-11-01",
      end: "2024-12-01",
    });
    assert.equal(body.severity, "critical");
    assert.equal(body.condition, "MoM < -10%");
    assert.equal(body.message, "Revenue fell -13.8% to 86,250 USD");
    assert.equal(body.comparisons.MoM?.previousValue, 100000);
  } finally {
    await receiver.close();
  }
});

Deno.test("webhook channel without a secret sends no signature", async () => {
  const receiver = startReceiver();
  try {
    await createNotifier({
      channels: { hook: { type: "webhook", url: `${receiver.url}/kpi` } },
      ...fast,
    }).notify(revenueBatch());
    assert.equal(receiver.on("/kpi")[0]?.headers.get("x-kpi-signature"), null);
  } finally {
    await receiver.close();
  }
});

Deno.test("email channel sends text and HTML parts over plain SMTP", async () => {
  const smtp = await startSmtp({ noStartTls: true });
  try {
    const batch = revenueBatch();
    const sent = await createNotifier({
      channels: {
        team: {
          type: "email",
          smtp_host: "127.0.0.1",
          smtp_port: smtp.port,
          from: "kpi@example.com",
          to: ["team@example.com", "boss@example.com"],
        },
      },
      ...fast,
    }).notify(batch);
    assert.equal(smtp.mails.length, 1);
    const [mail] = smtp.mails;
    assert.equal(mail?.from, "kpi@example.com");
    assert.deepEqual(mail?.to, ["team@example.com", "boss@example.com"]);
    const parsed = parseMail(mail!.raw);
    assert.equal(parsed.subject, "KPI alert [CRITICAL]: Revenue");
    assert.match(parsed.text, /^Revenue fell -13\.8% to 86,250 USD\n/);
    assert.match(parsed.text, /MoM: +▼ -13\.8% \(-13,750 USD vs 100,000 USD\)/);
    assert.match(parsed.html, /<h2[^>]*>Revenue: CRITICAL<\/h2>/);
    assert.match(
      parsed.html,
      /<th align="left">Value<\/th><td>86,250 USD<\/td>/,
    );
    assert.equal(
      parsed.headers["x-kpi-engine-dedup-key"],
      "kpi-engine/revenue/critical:MoM < -10%/2024-11-01..2024-12-01",
    );
    const delivery = sent[0]?.deliveries?.[0];
    assert.deepEqual(delivery, {
      channel: "team",
      ok: true,
      status: 250,
      attempts: 1,
      error: null,
    });
  } finally {
    await smtp.close();
  }
});

Deno.test("email channel upgrades with STARTTLS and logs in", async () => {
  const smtp = await startSmtp({ users: { alerts: "pa55word" } });
  try {
    const channel = createEmailChannel({
      type: "email",
      smtp_host: "127.0.0.1",
      smtp_port: smtp.port,
      from: "kpi@example.com",
      to: "team@example.com",
      username: "alerts",
      password: "pa55word",
      starttls: true,
      tls_reject_unauthorized: false,
    }, { name: "team" });
    const batch = revenueBatch();
    await createNotifier({ channels: { team: channel }, ...fast }).notify(
      batch,
    );
    assert.equal(smtp.mails.length, 1);
    assert.equal(smtp.mails[0]?.secure, true);
    assert.equal(smtp.mails[0]?.user, "alerts");
  } finally {
    await smtp.close();
  }
});

Deno.test("email channel speaks TLS from the first byte with `secure`", async () => {
  const smtp = await startSmtp({ secure: true });
  try {
    const batch = revenueBatch();
    const sent = await createNotifier({
      channels: {
        team: {
          type: "email",
          smtp_host: "127.0.0.1",
          smtp_port: smtp.port,
          secure: true,
          from: "kpi@example.com",
          to: "team@example.com",
          tls_reject_unauthorized: false,
        },
      },
      ...fast,
    }).notify(batch);
    assert.equal(smtp.mails.length, 1);
    assert.equal(smtp.mails[0]?.secure, true);
    assert.equal(
      sent[0]?.deliveries?.[0]?.ok,
      true,
    );
  } finally {
    await smtp.close();
  }
});

Deno.test("email channel reports a refused login without retrying or leaking the password", async () => {
  const smtp = await startSmtp({
    users: { alerts: "right" },
    noStartTls: true,
  });
  try {
    const batch = revenueBatch();
    const sent = await createNotifier({
      channels: {
        team: {
          type: "email",
          smtp_host: "127.0.0.1",
          smtp_port: smtp.port,
          from: "kpi@example.com",
          to: "team@example.com",
          username: "alerts",
          password: "wrong-secret-pw",
        },
      },
      ...fast,
    }).notify(batch);
    const delivery = sent[0]?.deliveries?.[0];
    assert.equal(delivery?.ok, false);
    assert.equal(delivery?.status, 535);
    assert.equal(delivery?.attempts, 1);
    assert.doesNotMatch(delivery?.error ?? "", /wrong-secret-pw/);
    assert.equal(smtp.mails.length, 0);
  } finally {
    await smtp.close();
  }
});

Deno.test("email channel retries a 4xx SMTP reply and gives up on 5xx", async () => {
  for (const [code, attempts] of [[451, 3], [550, 1]] as const) {
    const smtp = await startSmtp({
      noStartTls: true,
      rejectWith: { code, message: "Nope" },
    });
    try {
      const batch = revenueBatch();
      const sent = await createNotifier({
        channels: {
          team: {
            type: "email",
            smtp_host: "127.0.0.1",
            smtp_port: smtp.port,
            from: "kpi@example.com",
            to: "team@example.com",
          },
        },
        retries: 2,
        ...fast,
      }).notify(batch);
      const delivery = sent[0]?.deliveries?.[0];
      assert.equal(delivery?.ok, false);
      assert.equal(delivery?.status, code);
      assert.equal(delivery?.attempts, attempts);
    } finally {
      await smtp.close();
    }
  }
});

Deno.test("channel factories refuse incomplete settings with a TypeError naming the key", () => {
  assert.throws(() => createSlackChannel({ type: "slack" }, { name: "ops" }), {
    name: "TypeError",
    message: /Channel "ops" \(slack\) needs "webhook_url" or "url"/,
  });
  assert.throws(
    () =>
      createSlackChannel({ type: "slack", url: "ftp://x/y" }, { name: "ops" }),
    TypeError,
  );
  assert.throws(
    () => createPagerDutyChannel({ type: "pagerduty" }),
    /integration_key/,
  );
  assert.throws(() => createWebhookChannel({ type: "webhook" }), /"url"/);
  assert.throws(
    () =>
      createWebhookChannel({
        type: "webhook",
        url: "https://x",
        headers: { a: 1 },
      }),
    /headers/,
  );
  assert.throws(
    () => createEmailChannel({ type: "email", smtp_host: "h", from: "a@b" }),
    /"to"/,
  );
  assert.throws(
    () =>
      createEmailChannel({
        type: "email",
        smtp_host: "h",
        smtp_port: 70000,
        from: "a@b",
        to: "c@d",
      }),
    RangeError,
  );
  assert.throws(
    () => createNotifier({ channels: { x: { type: "sms" as "slack" } } }),
    /unknown type "sms" \(expected one of slack, email, pagerduty, webhook/,
  );
});
