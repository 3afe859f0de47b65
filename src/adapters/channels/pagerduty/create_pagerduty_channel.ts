/**
 * The PagerDuty channel: Events API v2 `trigger` and `resolve`.
 *
 * @module
 */

import type { ChannelConfig } from "../../../types.ts";
import type {
  AlertChannel,
  AlertMessage,
  AlertSendResult,
} from "../../../ports.ts";
import { buildPagerDutyPayload } from "./build_pagerduty_payload.ts";
import type { ChannelOptions } from "../_channel_options.ts";
import { postJson } from "../_post_json.ts";
import { PAGERDUTY_EVENTS_URL, PAGERDUTY_KIND } from "./pagerduty_kind.ts";
import { redactor, redactUrl } from "../_redact.ts";
import { httpUrl, optionalString, requiredString } from "../_settings.ts";

export { PAGERDUTY_EVENTS_URL };

/**
 * Creates a PagerDuty channel from its settings: `integration_key` (or
 * `routing_key`), the service's Events API v2 key; `url` to post elsewhere
 * (default {@linkcode PAGERDUTY_EVENTS_URL}); `source` for the event's
 * source field (default `kpi-engine`). A firing notice is a `trigger`, a
 * resolved one a `resolve` with the same `dedup_key` (KPI, rule, period).
 * The key is a secret: it never appears in errors or previews.
 *
 * @param config The settings, e.g. `{ type: "pagerduty", integration_key: "..." }`.
 * @param options The channel's name and the fetch to use.
 * @returns The channel.
 * @throws {TypeError} When the key is missing or `url` is not http(s).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const oncall = createPagerDutyChannel(
 *   { type: "pagerduty", integration_key: "0123456789abcdef0123456789abcdef" },
 *   { name: "oncall" },
 * );
 * assert.equal(oncall.type, "pagerduty");
 * ```
 */
export function createPagerDutyChannel(
  config: ChannelConfig | Record<string, unknown>,
  options: ChannelOptions = {},
): AlertChannel {
  // Each channel factory starts alike (name, settings read by _settings.ts,
  // secrets redacted): one contract, each kind's own settings and I/O.
  const name = options.name ?? "pagerduty";
  const key = requiredString(config, name, ["integration_key", "routing_key"]);
  const url = httpUrl(
    name,
    "url",
    optionalString(config, "url") ?? PAGERDUTY_EVENTS_URL,
  );
  const source = optionalString(config, "source") ??
    String(PAGERDUTY_KIND.defaults.source);
  const redact = redactor([key, url === PAGERDUTY_EVENTS_URL ? null : url]);
  const doFetch = options.fetch ?? globalThis.fetch;
  return {
    name,
    type: "pagerduty",
    send(message: AlertMessage, signal: AbortSignal): Promise<AlertSendResult> {
      const event = buildPagerDutyPayload(message, key, { source });
      return postJson(url, JSON.stringify(event), {
        fetch: doFetch,
        signal,
        redact,
      });
    },
    preview(message: AlertMessage): unknown {
      const event = buildPagerDutyPayload(message, "…", { source });
      return {
        url: url === PAGERDUTY_EVENTS_URL ? url : redactUrl(url),
        body: event,
      };
    },
  };
}
