import assert from "node:assert/strict";
import { KPIConfigError, kpiConfigJsonSchema, parseKpis } from "../mod.ts";
import { CHANNEL_KINDS } from "../src/adapters/channels/channel_kinds.ts";
import { ALERT_CHANNEL_TYPES } from "../src/adapters/mod.ts";

const KPIS = "kpis:\n  - { name: revenue, source: sql, query: SELECT 1 }\n";

function channelIssues(settings: Record<string, unknown>): string[] {
  try {
    parseKpis(`channels:\n  c: ${JSON.stringify(settings)}\n${KPIS}`);
    return [];
  } catch (error) {
    if (!(error instanceof KPIConfigError)) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

Deno.test("every channel kind's description reaches the JSON Schema: its settings, each described", () => {
  // deno-lint-ignore no-explicit-any
  const schema = kpiConfigJsonSchema() as any;
  const variants = schema.properties.channels.additionalProperties.oneOf;
  assert.deepEqual(
    variants.map((v: { properties: { type: { const: string } } }) =>
      v.properties.type.const
    ),
    CHANNEL_KINDS.map((kind) => kind.type),
  );
  CHANNEL_KINDS.forEach((kind, i) => {
    const properties = variants[i].properties;
    assert.deepEqual(
      Object.keys(properties),
      Object.keys(kind.settings.shape),
      kind.type,
    );
    for (const key of Object.keys(properties)) {
      assert.equal(
        properties[key].description,
        kind.descriptions[key],
        `${kind.type}.${key}`,
      );
    }
  });
});

Deno.test("parseKpis() asks each channel kind for the settings its description requires", () => {
  const kinds = CHANNEL_KINDS.filter((kind) => kind.required.length > 0);
  assert.ok(kinds.length >= 3);
  for (const kind of kinds) {
    for (const { key, alternative, both } of kind.required) {
      // The least a kind's schema accepts, with this one requirement unmet.
      const base: Record<string, unknown> = { type: kind.type };
      if (kind.type === "email") base.smtp_host = "smtp.example.com";
      for (const other of kind.required) {
        if (other.key !== key) base[other.key] = "someone@example.com";
      }
      const missing = channelIssues(base);
      assert.ok(
        missing.some((m) =>
          m.startsWith(`channels.c.${key}: Missing required key "${key}"`) &&
          m.includes(`"${alternative}" is accepted too`)
        ),
        `${kind.type} without ${key}: ${missing.join("; ")}`,
      );
      const value = kind.type === "email"
        ? "a@example.com"
        : kind.type === "slack"
        ? "https://hooks.example.com/x"
        : "k";
      const twice = channelIssues({
        ...base,
        [key]: value,
        [alternative]: value,
      });
      assert.equal(
        twice.some((m) => m.includes("not both")),
        !both,
        `${kind.type} with ${key} and ${alternative}: ${twice.join("; ")}`,
      );
    }
  }
});

Deno.test("parseKpis() keeps a channel's settings under their own names, aliases resolved by the kind", () => {
  const engine = parseKpis([
    "channels:",
    "  pd: { type: pagerduty, routing_key: abc }",
    "  mail: { type: email, smtp_host: h, from_email: a@example.com, to_emails: 'b@example.com, c@example.com' }",
    "  chat: { type: slack, url: 'https://proxy.example.com/hook' }",
    KPIS,
  ].join("\n"));
  assert.deepEqual(engine.channels, {
    pd: { type: "pagerduty", integration_key: "abc" },
    mail: {
      type: "email",
      smtp_host: "h",
      from: "a@example.com",
      to: ["b@example.com", "c@example.com"],
    },
    chat: {
      type: "slack",
      webhook_url: "https://proxy.example.com/hook",
      url: "https://proxy.example.com/hook",
    },
  });
});

Deno.test("the notifier has a sender for every channel kind the configuration accepts", () => {
  assert.deepEqual(
    [...ALERT_CHANNEL_TYPES].sort(),
    CHANNEL_KINDS.map((kind) => kind.type).sort(),
  );
});

Deno.test("each channel kind's payload builder is what its channel sends", async () => {
  const { createNotifier } = await import("../src/adapters/mod.ts");
  const message = {
    status: "firing" as const,
    repeat: false,
    kpi: { name: "revenue", label: "Revenue", unit: "USD" },
    value: 86250,
    period: { label: "2024-11", start: "2024-11-01", end: "2024-12-01" },
    severity: "critical" as const,
    condition: "< 100000",
    rule: "critical:< 100000",
    message: "Revenue fell",
    comparisons: {},
    dedupKey: "revenue|critical:< 100000|2024-11-01|2024-12-01",
    runId: "r1",
    runAt: "2024-12-01T09:00:00Z",
  };
  const configs = {
    slack: { type: "slack", webhook_url: "https://hooks.example.com/x" },
    email: {
      type: "email",
      smtp_host: "smtp.example.com",
      from: "kpi@example.com",
      to: ["team@example.com"],
    },
    pagerduty: { type: "pagerduty", integration_key: "0123456789abcdef" },
    webhook: { type: "webhook", url: "https://example.com/kpi" },
  } as const;
  const notifier = createNotifier({ channels: configs });
  for (const kind of CHANNEL_KINDS) {
    const config = configs[kind.type as keyof typeof configs];
    const preview = notifier.channels[kind.type]?.preview?.(message) as
      & Record<string, unknown>
      & { body?: unknown };
    if (kind.type === "email") {
      const content = kind.buildPayload(message, config) as {
        subject: string;
        text: string;
      };
      assert.equal(preview.subject, content.subject);
      assert.equal(preview.text, content.text);
    } else if (kind.type === "pagerduty") {
      // The preview hides the key.
      assert.deepEqual(
        preview.body,
        kind.buildPayload(message, { ...config, integration_key: "…" }),
      );
    } else {
      assert.deepEqual(preview.body, kind.buildPayload(message, config));
    }
  }
});
