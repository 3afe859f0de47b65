/**
 * The Slack channel: posts a Block Kit message to an incoming webhook.
 *
 * @module
 */

import type { ChannelConfig } from "../../../types.ts";
import type {
  AlertChannel,
  AlertMessage,
  AlertSendResult,
} from "../../../ports.ts";
import { buildSlackPayload } from "./build_slack_payload.ts";
import type { ChannelOptions } from "../_channel_options.ts";
import { postJson } from "../_post_json.ts";
import { redactor, redactUrl } from "../_redact.ts";
import { httpUrl, optionalString, requiredString } from "../_settings.ts";

export type { ChannelOptions };

/**
 * Creates a Slack channel from its settings: `webhook_url`, the incoming
 * webhook to POST to; `url`, when set, is where the POST actually goes (a
 * proxy, a test receiver) and may stand in for `webhook_url`. The body is
 * {@linkcode buildSlackPayload}'s.
 * The URL is a secret: errors and previews show its origin only.
 *
 * @param config The settings, e.g. `{ type: "slack", webhook_url: "https://hooks.slack.com/services/..." }`.
 * @param options The channel's name and the fetch to use.
 * @returns The channel.
 * @throws {TypeError} When the webhook URL is missing or not http(s).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const slack = createSlackChannel(
 *   { type: "slack", webhook_url: "https://hooks.slack.com/services/T0/B0/XYZ" },
 *   { name: "ops_slack" },
 * );
 * assert.equal(slack.name, "ops_slack");
 * assert.equal(slack.type, "slack");
 * ```
 */
export function createSlackChannel(
  config: ChannelConfig | Record<string, unknown>,
  options: ChannelOptions = {},
): AlertChannel {
  // Each channel factory starts alike (name, settings read by _settings.ts,
  // secrets redacted): one contract, each kind's own settings and I/O.
  const name = options.name ?? "slack";
  const webhookUrl = requiredString(config, name, ["webhook_url", "url"]);
  const override = optionalString(config, "url");
  const url = httpUrl(
    name,
    override ? "url" : "webhook_url",
    override ?? webhookUrl,
  );
  const redact = redactor([url, webhookUrl]);
  const doFetch = options.fetch ?? globalThis.fetch;
  return {
    name,
    type: "slack",
    send(message: AlertMessage, signal: AbortSignal): Promise<AlertSendResult> {
      return postJson(url, JSON.stringify(buildSlackPayload(message)), {
        fetch: doFetch,
        signal,
        redact,
      });
    },
    preview(message: AlertMessage): unknown {
      return { url: redactUrl(url), body: buildSlackPayload(message) };
    },
  };
}
